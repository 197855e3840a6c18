//! What the Discord stand-in holds between calls: its settings and webhooks, and behind one lock the
//! channels, rate-limit buckets, queued faults and every message with its author.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use serde_json::Value;

use super::pings::Pings;
use super::ratelimit::Buckets;
use super::records::{DiscordEdit, DiscordPosted, DiscordThread};
use super::{Access, DiscordFault};
use crate::tally::Tally;

const FIRST_WEBHOOK_ID: u64 = 1_200_000_000_000_000_000;

pub(super) struct State {
    pub(super) token: String,
    pub(super) users: HashMap<String, bool>,
    pub(super) webhooks: Vec<Webhook>,
    pub(super) require_allowed_mentions: bool,
    pub(super) tally: Tally,
    pub(super) inner: Mutex<Inner>,
}

#[derive(Default)]
pub(super) struct Inner {
    pub(super) channels: HashMap<String, Access>,
    pub(super) dm_channels: HashMap<String, String>,
    pub(super) buckets: Buckets,
    pub(super) faults: VecDeque<DiscordFault>,
    pub(super) posted: Vec<DiscordPosted>,
    pub(super) messages: HashMap<String, Stored>,
    pub(super) edits: Vec<DiscordEdit>,
    pub(super) threads: Vec<DiscordThread>,
    /// First answer per `(channel, nonce)`, for `enforce_nonce`.
    pub(super) nonces: HashMap<(String, String), Value>,
    pub(super) errors: Vec<(u16, u64)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Author {
    Bot,
    /// The webhook's id.
    Webhook(String),
}

pub(super) struct Stored {
    pub(super) channel_id: String,
    pub(super) author: Author,
    /// The body as posted, with each edit's fields laid over it.
    pub(super) body: Value,
    pub(super) edits: usize,
    pub(super) deleted: bool,
    pub(super) thread_id: Option<String>,
    pub(super) reference: Option<String>,
    pub(super) pings: Pings,
}

pub(super) struct Webhook {
    pub(super) id: String,
    pub(super) token: String,
    pub(super) channel_id: String,
}

impl Webhook {
    /// The `n`th webhook of a stand-in, posting into `channel_id`.
    pub(super) fn new(n: usize, channel_id: &str) -> Self {
        Self {
            id: (FIRST_WEBHOOK_ID + n as u64).to_string(),
            token: format!("stand-in-webhook-token-{n}-kept-secret"),
            channel_id: channel_id.into(),
        }
    }
}
