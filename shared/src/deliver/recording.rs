//! A messenger that records what it would post, and refuses destinations it is told to, for tests.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{DeliveryError, Message, Messenger, Refusal};
use crate::deadline::Deadline;
use crate::destination::{Destination, Mention, Receipt};
use crate::lifecycle::Root;
use crate::notification::Notification;
use crate::render::Form;

/// One post: where, what, whom it pings, in which form.
pub type Recorded = (Destination, Notification, Vec<Mention>, Form);

#[derive(Debug, Default)]
pub struct RecordingMessenger {
    pub posted: Mutex<Vec<Recorded>>,
    /// Destinations answered with this refusal instead of being recorded.
    pub refuse: Vec<(Destination, Refusal)>,
    /// Refuses every full rendering as invalid, as a provider refuses a message it cannot read.
    pub refuse_full: bool,
    /// Refuses replies under a root, while set.
    pub refuse_replies: AtomicBool,
}

impl Messenger for RecordingMessenger {
    async fn edit(
        &self,
        to: &Destination,
        _: &Root,
        message: &Message<'_>,
        deadline: Deadline,
    ) -> Result<(), DeliveryError> {
        self.post(to, message, deadline).await.map(drop)
    }

    async fn open_thread(
        &self,
        _: &Destination,
        root: &Root,
        _: &str,
        _: Deadline,
    ) -> Result<Option<String>, DeliveryError> {
        Ok(Some(root.message_id.clone()))
    }

    async fn reply(
        &self,
        to: &Destination,
        _: &Root,
        message: &Message<'_>,
        _: bool,
        deadline: Deadline,
    ) -> Result<Receipt, DeliveryError> {
        if self.refuse_replies.load(Ordering::Relaxed) {
            return Err(DeliveryError::Api {
                provider: to.provider,
                code: "not_in_channel".into(),
                refusal: Refusal::Permanent,
            });
        }
        self.post(to, message, deadline).await
    }

    async fn post(
        &self,
        to: &Destination,
        message: &Message<'_>,
        _: Deadline,
    ) -> Result<Receipt, DeliveryError> {
        if self.refuse_full && message.form == Form::Full {
            return Err(DeliveryError::Api {
                provider: to.provider,
                code: "invalid_blocks".into(),
                refusal: Refusal::Invalid,
            });
        }
        if let Some((_, refusal)) = self.refuse.iter().find(|(d, _)| d == to) {
            return Err(DeliveryError::Api {
                provider: to.provider,
                code: "channel_not_found".into(),
                refusal: *refusal,
            });
        }
        let mut posted = self.posted.lock().unwrap();
        posted.push((
            to.clone(),
            message.note.clone(),
            message.mentions.to_vec(),
            message.form,
        ));
        Ok(Receipt {
            channel: to.to_string(),
            message_id: posted.len().to_string(),
        })
    }
}
