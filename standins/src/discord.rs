//! `DiscordStandIn`: a local Discord REST API (create message, open DM) that keeps Discord's rules.

mod handler;
mod ratelimit;
mod validate;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use wiremock::MockServer;

use handler::{Inner, State};
pub use ratelimit::DiscordRateLimit;
use ratelimit::{Buckets, CREATE_MESSAGE_LIMIT};

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

/// A message the stand-in accepted.
#[derive(Clone, Debug)]
pub struct DiscordPosted {
    pub channel_id: String,
    pub message_id: String,
    pub body: Value,
}

pub struct DiscordStandInBuilder {
    token: String,
    channels: HashMap<String, Access>,
    users: HashMap<String, bool>,
    rate_limit: Option<DiscordRateLimit>,
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

    pub async fn start(self) -> DiscordStandIn {
        let state = Arc::new(State {
            token: self.token,
            users: self.users,
            tally: Tally::default(),
            inner: Mutex::new(Inner {
                channels: self.channels,
                buckets: Buckets::new(self.rate_limit),
                ..Inner::default()
            }),
        });
        let server = serve(state.clone()).await;
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
            rate_limit: Some(CREATE_MESSAGE_LIMIT),
        }
    }

    /// Base URL to use as `DISCORD_API_URL`, like `https://discord.com/api/v10`.
    pub fn uri(&self) -> String {
        format!("{}/api/v10", self.server.uri())
    }

    pub fn token(&self) -> &str {
        &self.state.token
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
