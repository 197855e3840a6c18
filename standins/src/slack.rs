//! `SlackStandIn`: a local Slack Web API (`chat.postMessage`, `users.lookupByEmail`, `conversations.open`, `auth.test`) that keeps Slack's rules.

mod blocks;
mod handler;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use wiremock::MockServer;

use crate::serve::serve;
use crate::tally::Tally;
use handler::{Inner, State};

/// Bot token the default stand-in expects after `Bearer `.
pub const SLACK_TOKEN: &str = "xoxb-test-token";
/// Public channel `#general` in the default stand-in.
pub const GENERAL_ID: &str = "C0123";
/// Public channel `#deploys` in the default stand-in.
pub const DEPLOYS_ID: &str = "C0456";
/// User with email `owner@example.com` who accepts DMs, in the default stand-in.
pub const OWNER_ID: &str = "U0123";
pub const OWNER_EMAIL: &str = "owner@example.com";
/// User with email `quiet@example.com` who does not accept DMs from the app, in the default stand-in.
pub const QUIET_ID: &str = "U0456";
pub const QUIET_EMAIL: &str = "quiet@example.com";

#[derive(Clone, Debug)]
pub struct SlackChannel {
    pub id: String,
    pub name: String,
    /// Private channels the app is not in look like missing ones: Slack hides them.
    pub visible: bool,
    pub archived: bool,
}

impl SlackChannel {
    /// A public channel; `chat:write.public` lets the app post without joining.
    pub fn public(id: &str, name: &str) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            visible: true,
            archived: false,
        }
    }

    /// A private channel the app was not invited to.
    pub fn private_without_app(id: &str, name: &str) -> Self {
        Self {
            visible: false,
            ..Self::public(id, name)
        }
    }

    pub fn archived(self) -> Self {
        Self {
            archived: true,
            ..self
        }
    }
}

#[derive(Clone, Debug)]
pub struct SlackUser {
    pub id: String,
    pub email: Option<String>,
    pub dms_allowed: bool,
}

impl SlackUser {
    pub fn new(id: &str) -> Self {
        Self {
            id: id.into(),
            email: None,
            dms_allowed: true,
        }
    }

    pub fn email(self, email: &str) -> Self {
        Self {
            email: Some(email.into()),
            ..self
        }
    }

    pub fn dms_blocked(self) -> Self {
        Self {
            dms_allowed: false,
            ..self
        }
    }

    /// The app's DM channel with this user, as `conversations.open` names it.
    pub fn dm_channel(&self) -> String {
        format!("D{}", &self.id[1..])
    }
}

/// What the next calls answer instead of their normal response.
#[derive(Clone, Debug)]
pub enum SlackFault {
    /// This HTTP status (500, 503, …) with an empty body.
    Status(u16),
    /// HTTP 429 with `Retry-After: <secs>` and `{"ok":false,"error":"ratelimited"}`.
    RetryAfter(u64),
    /// HTTP 200 with `{"ok":false,"error":<this>}`, e.g. `ratelimited` or `fatal_error`.
    Error(String),
}

/// A message `chat.postMessage` accepted.
#[derive(Clone, Debug)]
pub struct Posted {
    /// The resolved channel id (`C…`, or `D…` for a DM), whatever the request named.
    pub channel: String,
    /// The `channel` value exactly as sent.
    pub requested_channel: String,
    pub content_type: String,
    pub body: Value,
}

impl Posted {
    pub fn text(&self) -> &str {
        self.body["text"].as_str().unwrap_or_default()
    }
}

pub struct SlackStandInBuilder {
    token: String,
    channels: Vec<SlackChannel>,
    users: Vec<SlackUser>,
    min_interval: Option<Duration>,
}

impl SlackStandInBuilder {
    pub fn token(mut self, token: &str) -> Self {
        self.token = token.into();
        self
    }

    pub fn channel(mut self, channel: SlackChannel) -> Self {
        self.channels.push(channel);
        self
    }

    pub fn user(mut self, user: SlackUser) -> Self {
        self.users.push(user);
        self
    }

    /// Minimum time between accepted posts to one channel; `None` turns the limit off.
    pub fn rate_limit(mut self, min_interval: Option<Duration>) -> Self {
        self.min_interval = min_interval;
        self
    }

    pub async fn start(self) -> SlackStandIn {
        let state = Arc::new(State {
            token: self.token,
            channels: self.channels,
            users: self.users,
            tally: Tally::default(),
            inner: Mutex::new(Inner {
                min_interval: self.min_interval,
                ..Inner::default()
            }),
        });
        let server = serve(state.clone()).await;
        SlackStandIn { server, state }
    }
}

pub struct SlackStandIn {
    server: MockServer,
    state: Arc<State>,
}

impl SlackStandIn {
    /// Token [`SLACK_TOKEN`], channels `#general` and `#deploys`, users [`OWNER_ID`] and [`QUIET_ID`],
    /// one accepted message per second per channel.
    pub async fn start() -> Self {
        Self::builder()
            .channel(SlackChannel::public(GENERAL_ID, "general"))
            .channel(SlackChannel::public(DEPLOYS_ID, "deploys"))
            .user(SlackUser::new(OWNER_ID).email(OWNER_EMAIL))
            .user(SlackUser::new(QUIET_ID).email(QUIET_EMAIL).dms_blocked())
            .start()
            .await
    }

    /// No channels or users yet, token [`SLACK_TOKEN`], one message per second per channel.
    pub fn builder() -> SlackStandInBuilder {
        SlackStandInBuilder {
            token: SLACK_TOKEN.into(),
            channels: Vec::new(),
            users: Vec::new(),
            // Slack allows about one message per second per channel.
            min_interval: Some(Duration::from_secs(1)),
        }
    }

    /// Base URL to use as `SLACK_API_URL`, like `https://slack.com/api`.
    pub fn uri(&self) -> String {
        format!("{}/api", self.server.uri())
    }

    pub fn token(&self) -> &str {
        &self.state.token
    }

    /// The next `n` calls, to any method, answer `fault`.
    pub fn fail_next(&self, n: usize, fault: SlackFault) {
        let mut inner = self.state.inner.lock().unwrap();
        inner.faults.extend(std::iter::repeat_n(fault, n));
    }

    pub fn set_rate_limit(&self, min_interval: Option<Duration>) {
        self.state.inner.lock().unwrap().min_interval = min_interval;
    }

    pub fn posted(&self) -> Vec<Posted> {
        self.state.inner.lock().unwrap().posted.clone()
    }

    /// `error` codes of every `ok:false` answer, in order (HTTP 429s included).
    pub fn errors(&self) -> Vec<String> {
        self.state.inner.lock().unwrap().errors.clone()
    }

    pub fn count_requests(&self) -> usize {
        self.state.tally.requests()
    }

    pub fn count_429(&self) -> usize {
        self.state.tally.with_status(429)
    }

    pub fn count_5xx(&self) -> usize {
        self.state.tally.with_status_in(500..=599)
    }

    /// Answers with `ok:false`, HTTP 429s included.
    pub fn count_rejected(&self) -> usize {
        self.errors().len()
    }

    /// Waits until `n` messages in total were accepted and returns them; panics after `timeout`.
    pub async fn wait_for_posted(&self, n: usize, timeout: Duration) -> Vec<Posted> {
        if let Err(seen) = self.state.tally.wait_accepted(n, timeout).await {
            panic!(
                "Slack stand-in: {seen} of {n} messages after {timeout:?}; errors so far: {:?}",
                self.errors()
            );
        }
        self.posted()
    }
}
