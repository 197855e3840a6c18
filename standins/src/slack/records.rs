//! What the Slack stand-in hands back to tests: each accepted post and update, and a message as it
//! stands now.

use serde_json::Value;

/// A message `chat.postMessage` or an incoming webhook accepted, as it was posted.
#[derive(Clone, Debug)]
pub struct Posted {
    /// The resolved channel id (`C…`, or `D…` for a DM), whatever the request named.
    pub channel: String,
    /// The `channel` value exactly as sent (a webhook ignores it).
    pub requested_channel: String,
    pub content_type: String,
    pub body: Value,
    /// Slack's id for it, which a webhook never hands back.
    pub ts: String,
    /// The thread it is a reply in; `None` for a message in the channel itself.
    pub thread_ts: Option<String>,
    /// A reply also shown in the channel.
    pub reply_broadcast: bool,
    pub via_webhook: bool,
    /// Its `thread_ts` named no thread: Slack answered `ok`, and nobody will ever see it.
    pub orphaned: bool,
    /// Whom Slack notifies, in Slack's markup: `<!here>`, `<!channel>`, `<!everyone>`, `<@U…>`,
    /// `<!subteam^S…>`.
    pub pings: Vec<String>,
    /// What Slack's automatic parsing turns into links: bare URLs and `#channel` names.
    pub links: Vec<String>,
}

impl Posted {
    pub fn text(&self) -> &str {
        self.body["text"].as_str().unwrap_or_default()
    }
}

/// An accepted `chat.update`.
#[derive(Clone, Debug)]
pub struct SlackUpdate {
    pub channel: String,
    pub ts: String,
    pub body: Value,
    /// As for [`Posted::pings`], in the updated text.
    pub pings: Vec<String>,
    pub links: Vec<String>,
}

/// A message as it stands now.
#[derive(Clone, Debug)]
pub struct SlackMessage {
    pub channel: String,
    pub ts: String,
    pub thread_ts: Option<String>,
    /// The posted body with the latest update's text, blocks and attachments.
    pub body: Value,
    pub edits: usize,
    pub deleted: bool,
    pub via_webhook: bool,
    /// Replies in its thread, as posted.
    pub replies: Vec<Posted>,
}

impl SlackMessage {
    pub fn text(&self) -> &str {
        self.body["text"].as_str().unwrap_or_default()
    }
}
