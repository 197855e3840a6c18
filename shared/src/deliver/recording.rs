//! A messenger that records what it would post, and refuses destinations it is told to, for tests.

use std::sync::Mutex;

use secrecy::SecretString;
use tokio::time::Instant;

use super::{DeliveryError, Messenger, Receipt, Refusal};
use crate::config::Provider;
use crate::notification::Notification;
use crate::route::Destination;

#[derive(Debug, Default)]
pub struct RecordingMessenger {
    pub posted: Mutex<Vec<(Destination, Notification)>>,
    /// Destinations answered with this refusal instead of being recorded.
    pub refuse: Vec<(Destination, Refusal)>,
}

impl Messenger for RecordingMessenger {
    async fn post(
        &self,
        _token: &SecretString,
        to: &Destination,
        note: &Notification,
        _deadline: Instant,
    ) -> Result<Receipt, DeliveryError> {
        if let Some((_, refusal)) = self.refuse.iter().find(|(d, _)| d == to) {
            return Err(DeliveryError::Api {
                provider: Provider::Slack,
                code: "channel_not_found".into(),
                refusal: *refusal,
            });
        }
        let mut posted = self.posted.lock().unwrap();
        posted.push((to.clone(), note.clone()));
        Ok(Receipt {
            channel: to.to_string(),
            message_id: posted.len().to_string(),
        })
    }
}
