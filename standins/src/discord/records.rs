//! What the Discord stand-in hands back to tests: each accepted message and edit, a message as it
//! stands now, and the threads started on messages.

use serde_json::Value;

use super::pings::Pings;

/// A message the stand-in accepted, as it was posted.
#[derive(Clone, Debug)]
pub struct DiscordPosted {
    pub channel_id: String,
    pub message_id: String,
    pub body: Value,
    pub via_webhook: bool,
    /// The message it replies to (`message_reference`), when that message exists.
    pub message_reference: Option<String>,
    /// Whom its content pings, after `allowed_mentions`.
    pub pings: Pings,
}

/// An accepted edit of a message.
#[derive(Clone, Debug)]
pub struct DiscordEdit {
    pub channel_id: String,
    pub message_id: String,
    /// The edit's body: only the fields it changes.
    pub body: Value,
    pub via_webhook: bool,
    /// Whom the edited content mentions; empty when the edit leaves the content alone. Discord
    /// highlights the message for them but sends no notification for an edit.
    pub pings: Pings,
}

/// A message as it stands now.
#[derive(Clone, Debug)]
pub struct DiscordMessage {
    pub channel_id: String,
    pub message_id: String,
    /// The posted body with every edit's fields laid over it.
    pub body: Value,
    pub edits: usize,
    pub deleted: bool,
    /// The thread started on it, if any (its id is the message's).
    pub thread_id: Option<String>,
    pub via_webhook: bool,
    pub pings: Pings,
}

/// A thread started on a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscordThread {
    pub parent_id: String,
    pub message_id: String,
    pub thread_id: String,
    pub name: String,
}
