//! How the Discord stand-in keeps its messages: posting one (and what it replies to), laying edits over
//! it, what it pings, and the message objects Discord answers with.

use serde_json::{Value, json};

use super::answer::Answer;
use super::pings::pings;
use super::records::{DiscordEdit, DiscordMessage, DiscordPosted};
use super::state::{Author, Inner, Stored};
use super::validate::{self, Rejection};

const BOT_USER_ID: &str = "999999999999999999";
const FIRST_MESSAGE_ID: u64 = 1_300_000_000_000_000_000;
// Set on a message that a thread was started from.
const HAS_THREAD: u64 = 1 << 5;

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
