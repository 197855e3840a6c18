//! `SlackStandIn`: a local Slack Web API (`chat.postMessage` with threads, `chat.update`,
//! `users.lookupByEmail`, `conversations.open`, `auth.test`) and incoming webhooks that keep Slack's
//! rules and record what each message pings.

mod answer;
mod blocks;
mod body;
mod handler;
mod messages;
mod pings;
mod records;
mod state;
mod update;
mod webhook;

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wiremock::MockServer;

use crate::serve::serve;
use crate::tally::Tally;
use crate::window::{RateLimit, Windows};
pub use records::{Posted, SlackMessage, SlackUpdate};
use state::{Inner, State, Webhook};

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
    /// HTTP 429 with `Retry-After: <secs>` and `{"ok":false,"error":"ratelimited"}` (a webhook: the
    /// text `rate_limited`).
    RetryAfter(u64),
    /// HTTP 200 with `{"ok":false,"error":<this>}`, e.g. `ratelimited` or `fatal_error` (a webhook: this
    /// text with the status Slack gives it, 500 for `fatal_error`, 400 for a code it does not know).
    Error(String),
}

/// Slack's Tier 3, which `chat.update` belongs to: about 50 calls a minute per workspace.
pub const UPDATE_RATE_LIMIT: RateLimit = RateLimit {
    limit: 50,
    per: Duration::from_secs(60),
};

pub struct SlackStandInBuilder {
    token: String,
    channels: Vec<SlackChannel>,
    users: Vec<SlackUser>,
    webhooks: Vec<String>,
    listener: Option<TcpListener>,
    min_interval: Option<Duration>,
    update_limit: Option<RateLimit>,
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

    /// `chat.update` calls allowed in the workspace; `None` turns the limit off.
    pub fn update_rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.update_limit = limit;
        self
    }

    /// An incoming webhook installed for `channel_id`; [`SlackStandIn::webhook_url`] gives its URL.
    pub fn webhook(mut self, channel_id: &str) -> Self {
        self.webhooks.push(channel_id.into());
        self
    }

    /// Serves on `listener` (a fixed port for a stand-in people point settings at) instead of a free port.
    pub fn listener(mut self, listener: TcpListener) -> Self {
        self.listener = Some(listener);
        self
    }

    pub async fn start(self) -> SlackStandIn {
        let webhooks = self.webhooks.iter().enumerate();
        let state = Arc::new(State {
            token: self.token,
            channels: self.channels,
            users: self.users,
            tally: Tally::default(),
            inner: Mutex::new(Inner {
                min_interval: self.min_interval,
                update_limit: Windows::new(self.update_limit),
                webhooks: webhooks.map(|(n, c)| Webhook::new(n, c)).collect(),
                ..Inner::default()
            }),
        });
        let server = serve(state.clone(), self.listener).await;
        SlackStandIn { server, state }
    }
}

pub struct SlackStandIn {
    server: MockServer,
    state: Arc<State>,
}

impl SlackStandIn {
    /// Token [`SLACK_TOKEN`], channels `#general` and `#deploys`, users [`OWNER_ID`] and [`QUIET_ID`],
    /// one accepted message per second per channel, [`UPDATE_RATE_LIMIT`] for `chat.update`.
    pub async fn start() -> Self {
        Self::builder()
            .channel(SlackChannel::public(GENERAL_ID, "general"))
            .channel(SlackChannel::public(DEPLOYS_ID, "deploys"))
            .user(SlackUser::new(OWNER_ID).email(OWNER_EMAIL))
            .user(SlackUser::new(QUIET_ID).email(QUIET_EMAIL).dms_blocked())
            .start()
            .await
    }

    /// No channels, users or webhooks yet, token [`SLACK_TOKEN`], one message per second per channel,
    /// [`UPDATE_RATE_LIMIT`] for `chat.update`.
    pub fn builder() -> SlackStandInBuilder {
        SlackStandInBuilder {
            token: SLACK_TOKEN.into(),
            channels: Vec::new(),
            users: Vec::new(),
            webhooks: Vec::new(),
            listener: None,
            // Slack allows about one message per second per channel.
            min_interval: Some(Duration::from_secs(1)),
            update_limit: Some(UPDATE_RATE_LIMIT),
        }
    }

    /// Base URL to use as `SLACK_API_URL`, like `https://slack.com/api`.
    pub fn uri(&self) -> String {
        format!("{}/api", self.server.uri())
    }

    pub fn token(&self) -> &str {
        &self.state.token
    }

    /// The URL of the webhook installed for `channel_id` with [`SlackStandInBuilder::webhook`]:
    /// `<server>/services/T…/B…/<secret>`, the shape of Slack's.
    pub fn webhook_url(&self, channel_id: &str) -> String {
        let inner = self.state.inner.lock().unwrap();
        let webhook = inner
            .webhooks
            .iter()
            .find(|w| w.channel == channel_id)
            .unwrap_or_else(|| panic!("Slack stand-in: no webhook for channel {channel_id}"));
        format!("{}/services/{}", self.server.uri(), webhook.path)
    }

    /// Puts an admin restriction on the channel's webhook (it answers `action_prohibited`), or lifts it.
    pub fn set_webhook_prohibited(&self, channel_id: &str, prohibited: bool) {
        let mut inner = self.state.inner.lock().unwrap();
        match inner.webhooks.iter_mut().find(|w| w.channel == channel_id) {
            Some(webhook) => webhook.prohibited = prohibited,
            None => panic!("Slack stand-in: no webhook for channel {channel_id}"),
        }
    }

    /// The next `n` calls, to any method or webhook, answer `fault` (a webhook answers it in its own
    /// plain-text form).
    pub fn fail_next(&self, n: usize, fault: SlackFault) {
        let mut inner = self.state.inner.lock().unwrap();
        inner.faults.extend(std::iter::repeat_n(fault, n));
    }

    pub fn set_rate_limit(&self, min_interval: Option<Duration>) {
        self.state.inner.lock().unwrap().min_interval = min_interval;
    }

    /// `chat.update` calls allowed in the workspace, counted afresh; `None` turns the limit off.
    pub fn set_update_rate_limit(&self, limit: Option<RateLimit>) {
        self.state.inner.lock().unwrap().update_limit = Windows::new(limit);
    }

    /// Every accepted post, replies and webhook posts included, as posted.
    pub fn posted(&self) -> Vec<Posted> {
        self.state.inner.lock().unwrap().posted.clone()
    }

    /// The accepted posts that started a message of their own, not a reply in a thread.
    pub fn roots(&self) -> Vec<Posted> {
        let posted = self.posted().into_iter();
        posted.filter(|p| p.thread_ts.is_none()).collect()
    }

    pub fn updates(&self) -> Vec<SlackUpdate> {
        self.state.inner.lock().unwrap().updates.clone()
    }

    /// The message as it stands now, deleted ones included; `None` if `channel_id` never had it.
    pub fn message(&self, channel_id: &str, ts: &str) -> Option<SlackMessage> {
        self.state.inner.lock().unwrap().snapshot(channel_id, ts)
    }

    /// Replies in the thread of `thread_ts`, as posted.
    pub fn replies(&self, channel_id: &str, thread_ts: &str) -> Vec<Posted> {
        self.state
            .inner
            .lock()
            .unwrap()
            .replies(channel_id, thread_ts)
    }

    /// Deletes a message as a user would: `chat.update` then answers `message_not_found`. A thread
    /// root with replies stays as a tombstone that keeps its thread; one without is gone, and a reply
    /// naming it lands in the channel. Panics if there is no such message.
    pub fn delete_message(&self, channel_id: &str, ts: &str) {
        let mut inner = self.state.inner.lock().unwrap();
        match inner
            .messages
            .get_mut(&(channel_id.to_string(), ts.to_string()))
        {
            Some(message) => message.deleted = true,
            None => panic!("Slack stand-in: no message {ts} in channel {channel_id}"),
        }
    }

    /// Error codes of every `ok:false` answer and every webhook refusal, in order (HTTP 429s included).
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

    /// Answers with `ok:false` and webhook refusals, HTTP 429s included.
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
