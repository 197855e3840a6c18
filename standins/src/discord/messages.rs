//! The messages the Discord stand-in holds: who wrote them, their body after edits, what they ping, and
//! the message objects Discord answers with.

use serde_json::{Value, json};

use super::handler::{Answer, Inner};
use super::pings::{Pings, pings};
use super::validate::{self, Rejection};

const BOT_USER_ID: &str = "999999999999999999";
const FIRST_MESSAGE_ID: u64 = 1_300_000_000_000_000_000;
// Set on a message that a thread was started from.
const HAS_THREAD: u64 = 1 << 5;

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

impl Inner {
    /// The message `id` in `channel`, unless it is missing or deleted.
    pub(super) fn live(&self, channel: &str, id: &str) -> Option<&Stored> {
        self.messages
            .get(id)
            .filter(|m| m.channel_id == channel && !m.deleted)
    }

    /// The message a new one in `channel` replies to. An unknown one fails the post unless
    /// `fail_if_not_exists` is false, which sends it as a plain message instead.
    pub(super) fn reference(&self, channel: &str, body: &Value) -> Result<Option<String>, Answer> {
        let reference = &body["message_reference"];
        let Some(id) = reference["message_id"].as_str() else {
            return Ok(None);
        };
        if self.live(channel, id).is_some() {
            return Ok(Some(id.to_string()));
        }
        if reference["fail_if_not_exists"] == json!(false) {
            return Ok(None);
        }
        let rejection = Rejection::at(
            &["message_reference"],
            "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
            "Unknown message",
        );
        Err(Answer::new(400, rejection.body))
    }

    /// Records a new message and returns the message object Discord answers with.
    pub(super) fn post(
        &mut self,
        channel: &str,
        body: Value,
        author: Author,
        reference: Option<String>,
    ) -> Value {
        let message_id = (FIRST_MESSAGE_ID + self.posted.len() as u64).to_string();
        let stored = Stored {
            channel_id: channel.into(),
            pings: pings(&body).unwrap_or_default(),
            author,
            body,
            edits: 0,
            deleted: false,
            thread_id: None,
            reference,
        };
        self.posted.push(DiscordPosted {
            channel_id: channel.into(),
            message_id: message_id.clone(),
            body: stored.body.clone(),
            via_webhook: stored.author != Author::Bot,
            message_reference: stored.reference.clone(),
            pings: stored.pings.clone(),
        });
        let object = message_object(&message_id, &stored);
        self.messages.insert(message_id, stored);
        object
    }

    /// Lays the edit's fields over live message `id` (a null clears one), re-reads its mentions when
    /// the edit carries content, and returns the edited message object.
    pub(super) fn edit(&mut self, id: &str, edit: Value) -> Result<Value, Rejection> {
        let stored = self.messages.get_mut(id).expect("the caller found it");
        let mut body = stored.body.clone();
        if let (Some(body), Some(fields)) = (body.as_object_mut(), edit.as_object()) {
            for (key, value) in fields {
                match value {
                    Value::Null => body.remove(key),
                    value => body.insert(key.clone(), value.clone()),
                };
            }
        }
        validate::non_empty(&body)?;
        let edit_pings = pings(&edit);
        if let Some(pings) = &edit_pings {
            stored.pings = pings.clone();
        }
        stored.body = body;
        stored.edits += 1;
        let object = message_object(id, stored);
        self.edits.push(DiscordEdit {
            channel_id: stored.channel_id.clone(),
            message_id: id.into(),
            body: edit,
            via_webhook: stored.author != Author::Bot,
            pings: edit_pings.unwrap_or_default(),
        });
        Ok(object)
    }

    pub(super) fn snapshot(&self, channel: &str, id: &str) -> Option<DiscordMessage> {
        let stored = self.messages.get(id).filter(|m| m.channel_id == channel)?;
        Some(DiscordMessage {
            channel_id: stored.channel_id.clone(),
            message_id: id.into(),
            body: stored.body.clone(),
            edits: stored.edits,
            deleted: stored.deleted,
            thread_id: stored.thread_id.clone(),
            via_webhook: stored.author != Author::Bot,
            pings: stored.pings.clone(),
        })
    }
}

/// A message as Discord describes it in its answers.
fn message_object(id: &str, stored: &Stored) -> Value {
    let body = &stored.body;
    let author_id = match &stored.author {
        Author::Bot => BOT_USER_ID,
        Author::Webhook(webhook) => webhook,
    };
    let mut message = json!({
        "id": id,
        "channel_id": stored.channel_id,
        // 19 is a reply.
        "type": if stored.reference.is_some() { 19 } else { 0 },
        "content": body["content"].as_str().unwrap_or_default(),
        "embeds": body.get("embeds").filter(|e| !e.is_null()).cloned().unwrap_or(json!([])),
        "nonce": body.get("nonce").cloned().unwrap_or(Value::Null),
        "author": {"id": author_id, "username": "rack-notifications", "bot": true},
        "mentions": stored.pings.users.iter().map(|id| json!({"id": id})).collect::<Vec<_>>(),
        "mention_roles": stored.pings.roles,
        "mention_everyone": stored.pings.everyone,
        "tts": false,
        "pinned": false,
        "flags": if stored.thread_id.is_some() { HAS_THREAD } else { 0 },
    });
    if let Author::Webhook(webhook) = &stored.author {
        message["webhook_id"] = json!(webhook);
    }
    if let Some(reference) = &stored.reference {
        message["message_reference"] =
            json!({"type": 0, "channel_id": stored.channel_id, "message_id": reference});
    }
    message
}
