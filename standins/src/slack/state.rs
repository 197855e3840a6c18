//! What the Slack stand-in holds between calls: its channels and users, and behind one lock the rate
//! limits, queued faults, webhooks and every message; and a checked post on its way in.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::records::{Posted, SlackUpdate};
use super::{SlackChannel, SlackFault, SlackUser};
use crate::tally::Tally;
use crate::window::Windows;

pub(super) struct State {
    pub(super) token: String,
    pub(super) channels: Vec<SlackChannel>,
    pub(super) users: Vec<SlackUser>,
    pub(super) tally: Tally,
    pub(super) inner: Mutex<Inner>,
}

#[derive(Default)]
pub(super) struct Inner {
    pub(super) min_interval: Option<Duration>,
    /// `chat.update` calls, counted for the whole workspace.
    pub(super) update_limit: Windows,
    pub(super) faults: VecDeque<SlackFault>,
    pub(super) last_accepted: HashMap<String, Instant>,
    pub(super) posted: Vec<Posted>,
    /// Every message by `(channel, ts)`.
    pub(super) messages: HashMap<(String, String), Stored>,
    pub(super) updates: Vec<SlackUpdate>,
    pub(super) webhooks: Vec<Webhook>,
    pub(super) errors: Vec<String>,
}

pub(super) struct Stored {
    /// The body as posted, with each update's text, blocks and attachments laid over it.
    pub(super) body: Value,
    pub(super) edits: usize,
    pub(super) deleted: bool,
    pub(super) via_webhook: bool,
    pub(super) thread_ts: Option<String>,
}

/// A post that passed its checks, before it is placed.
pub(super) struct Post {
    pub(super) channel: String,
    pub(super) requested_channel: String,
    pub(super) content_type: String,
    pub(super) body: Value,
    pub(super) via_webhook: bool,
}

pub(super) struct Webhook {
    pub(super) channel: String,
    /// The URL's path after `/services/`.
    pub(super) path: String,
    /// An admin restriction on posting through it.
    pub(super) prohibited: bool,
}

impl Webhook {
    /// The `n`th webhook of a stand-in, posting into `channel`.
    pub(super) fn new(n: usize, channel: &str) -> Self {
        Self {
            channel: channel.into(),
            path: format!("T0001/B{:08}/StandInSecret{n:011}", n + 1),
            prohibited: false,
        }
    }
}
