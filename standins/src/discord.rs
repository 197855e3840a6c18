//! `DiscordStandIn`: a local Discord REST API (create and edit messages, threads, webhooks, open DM) that
//! keeps Discord's rules and records whom each message pings.

mod answer;
mod handler;
mod messages;
mod pings;
mod ratelimit;
mod records;
mod state;
mod threads;
mod validate;
mod webhook;

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wiremock::MockServer;

pub use pings::Pings;
pub use ratelimit::DiscordRateLimit;
use ratelimit::{Buckets, CREATE_MESSAGE_LIMIT};
pub use records::{DiscordEdit, DiscordMessage, DiscordPosted, DiscordThread};
use state::{Inner, State, Webhook};

use crate::serve::serve;
use crate::tally::Tally;

/// Bot token the default stand-in expects after `Bot `.
pub const DISCORD_TOKEN: &str = "discord-test-token";
/// A text channel the bot can post in, in the default stand-in.
pub const CHANNEL_ID: &str = "111111111111111111";
/// A channel the bot cannot see (403, code 50001), in the default stand-in.
pub const HIDDEN_CHANNEL_ID: &str = "222222222222222222";
/// A user who accepts DMs, in the default stand-in.
pub const OWNER_USER_ID: &str = "333333333333333333";
/// A user who blocks DMs from the bot (posting answers 403, code 50007), in the default stand-in.
pub const QUIET_USER_ID: &str = "444444444444444444";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Send,
    /// The bot cannot see the channel: 403, code 50001 Missing Access.
    Hidden,
    /// The bot sees the channel but may not post: 403, code 50013 Missing Permissions.
    ReadOnly,
    /// A DM channel with a user who blocks DMs: 403, code 50007.
    DmBlocked,
}

/// What the next calls answer instead of their normal response.
#[derive(Clone, Debug)]
pub enum DiscordFault {
    /// This HTTP status (500, 502, 503, …) with a JSON body.
    Status(u16),
    /// HTTP 429 with `retry_after` (seconds) in the body and a `Retry-After` header.
    RateLimited { retry_after: f64, global: bool },
}

pub struct DiscordStandInBuilder {
    token: String,
    channels: HashMap<String, Access>,
    users: HashMap<String, bool>,
    webhooks: Vec<String>,
    listener: Option<TcpListener>,
    rate_limit: Option<DiscordRateLimit>,
    require_allowed_mentions: bool,
}

impl DiscordStandInBuilder {
    pub fn token(mut self, token: &str) -> Self {
        self.token = token.into();
        self
    }

    pub fn channel(mut self, id: &str, access: Access) -> Self {
        self.channels.insert(id.into(), access);
        self
    }

    pub fn user(mut self, id: &str, dms_allowed: bool) -> Self {
        self.users.insert(id.into(), dms_allowed);
        self
    }

    /// Per-channel bucket; `None` turns rate limiting off.
    pub fn rate_limit(mut self, limit: Option<DiscordRateLimit>) -> Self {
        self.rate_limit = limit;
        self
    }

    /// A webhook that posts into `channel_id`; [`DiscordStandIn::webhook_url`] gives its URL.
    pub fn webhook(mut self, channel_id: &str) -> Self {
        self.webhooks.push(channel_id.into());
        self
    }

    /// Whether a body with content must carry `allowed_mentions` (the product's rule, on by default).
    /// Off, a body without it gets Discord's default: every mention in the content pings.
    pub fn require_allowed_mentions(mut self, required: bool) -> Self {
        self.require_allowed_mentions = required;
        self
    }

    /// Serves on `listener` (a fixed port for a stand-in people point settings at) instead of a free port.
    pub fn listener(mut self, listener: TcpListener) -> Self {
        self.listener = Some(listener);
        self
    }

    pub async fn start(self) -> DiscordStandIn {
        let webhooks = self.webhooks.iter().enumerate();
        let state = Arc::new(State {
            token: self.token,
            users: self.users,
            webhooks: webhooks.map(|(n, c)| Webhook::new(n, c)).collect(),
            require_allowed_mentions: self.require_allowed_mentions,
            tally: Tally::default(),
            inner: Mutex::new(Inner {
                channels: self.channels,
                buckets: Buckets::new(self.rate_limit),
                ..Inner::default()
            }),
        });
        let server = serve(state.clone(), self.listener).await;
        DiscordStandIn { server, state }
    }
}

pub struct DiscordStandIn {
    server: MockServer,
    state: Arc<State>,
}

impl DiscordStandIn {
    /// Token [`DISCORD_TOKEN`], channels [`CHANNEL_ID`] and [`HIDDEN_CHANNEL_ID`], users [`OWNER_USER_ID`]
    /// and [`QUIET_USER_ID`], 5 messages per 5 seconds per channel.
    pub async fn start() -> Self {
        Self::builder()
            .channel(CHANNEL_ID, Access::Send)
            .channel(HIDDEN_CHANNEL_ID, Access::Hidden)
            .user(OWNER_USER_ID, true)
            .user(QUIET_USER_ID, false)
            .start()
            .await
    }

    /// No channels or users yet, token [`DISCORD_TOKEN`], 5 messages per 5 seconds per channel.
    pub fn builder() -> DiscordStandInBuilder {
        DiscordStandInBuilder {
            token: DISCORD_TOKEN.into(),
            channels: HashMap::new(),
            users: HashMap::new(),
            webhooks: Vec::new(),
            listener: None,
            rate_limit: Some(CREATE_MESSAGE_LIMIT),
            require_allowed_mentions: true,
        }
    }

    /// Base URL to use as `DISCORD_API_URL`, like `https://discord.com/api/v10`.
    pub fn uri(&self) -> String {
        format!("{}/api/v10", self.server.uri())
    }

    pub fn token(&self) -> &str {
        &self.state.token
    }

    /// The URL of the webhook registered for `channel_id` with [`DiscordStandInBuilder::webhook`]:
    /// `{uri}/webhooks/{id}/{token}`, with [`DiscordStandIn::uri`].
    pub fn webhook_url(&self, channel_id: &str) -> String {
        let webhook = self
            .state
            .webhooks
            .iter()
            .find(|w| w.channel_id == channel_id)
            .unwrap_or_else(|| panic!("Discord stand-in: no webhook for channel {channel_id}"));
        format!("{}/webhooks/{}/{}", self.uri(), webhook.id, webhook.token)
    }

    /// The next `n` calls, to any route, answer `fault`.
    pub fn fail_next(&self, n: usize, fault: DiscordFault) {
        let mut inner = self.state.inner.lock().unwrap();
        inner.faults.extend(std::iter::repeat_n(fault, n));
    }

    pub fn set_rate_limit(&self, limit: Option<DiscordRateLimit>) {
        self.state.inner.lock().unwrap().buckets = Buckets::new(limit);
    }

    pub fn posted(&self) -> Vec<DiscordPosted> {
        self.state.inner.lock().unwrap().posted.clone()
    }

    pub fn edits(&self) -> Vec<DiscordEdit> {
        self.state.inner.lock().unwrap().edits.clone()
    }

    /// The message as it stands now, deleted ones included; `None` if `channel_id` never had it.
    pub fn message(&self, channel_id: &str, message_id: &str) -> Option<DiscordMessage> {
        self.state
            .inner
            .lock()
            .unwrap()
            .snapshot(channel_id, message_id)
    }

    pub fn threads(&self) -> Vec<DiscordThread> {
        self.state.inner.lock().unwrap().threads.clone()
    }

    /// Deletes a message as a user would: editing it, replying to it or starting a thread on it then
    /// answer as Discord does for a missing message. Panics if there is no such message.
    pub fn delete_message(&self, channel_id: &str, message_id: &str) {
        let mut inner = self.state.inner.lock().unwrap();
        match inner.messages.get_mut(message_id) {
            Some(message) if message.channel_id == channel_id => message.deleted = true,
            _ => panic!("Discord stand-in: no message {message_id} in channel {channel_id}"),
        }
    }

    /// The DM channel id `POST /users/@me/channels` handed out for `user_id`, if any.
    pub fn dm_channel(&self, user_id: &str) -> Option<String> {
        self.state
            .inner
            .lock()
            .unwrap()
            .dm_channels
            .get(user_id)
            .cloned()
    }

    /// `(HTTP status, JSON code)` of every rejected call, in order (429s and injected faults included).
    pub fn errors(&self) -> Vec<(u16, u64)> {
        self.state.inner.lock().unwrap().errors.clone()
    }

    pub fn count_requests(&self) -> usize {
        self.state.tally.requests()
    }

    pub fn count_status(&self, status: u16) -> usize {
        self.state.tally.with_status(status)
    }

    pub fn count_429(&self) -> usize {
        self.count_status(429)
    }

    pub fn count_5xx(&self) -> usize {
        self.state.tally.with_status_in(500..=599)
    }

    /// 4xx answers other than 429.
    pub fn count_rejected(&self) -> usize {
        self.state.tally.with_status_in(400..=499) - self.count_429()
    }

    /// 401, 403 and 429 answers: Discord bans a bot for a while after 10,000 of them in 10 minutes.
    pub fn count_invalid(&self) -> usize {
        [401, 403, 429].map(|s| self.count_status(s)).iter().sum()
    }

    /// Waits until `n` messages in total were accepted and returns them; panics after `timeout`.
    pub async fn wait_for_posted(&self, n: usize, timeout: Duration) -> Vec<DiscordPosted> {
        if let Err(seen) = self.state.tally.wait_accepted(n, timeout).await {
            panic!(
                "Discord stand-in: {seen} of {n} messages after {timeout:?}; errors so far: {:?}",
                self.errors()
            );
        }
        self.posted()
    }
}
