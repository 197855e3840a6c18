//! The messages the Slack stand-in holds: where each post lands by its `thread_ts`, its body after
//! `chat.update`, and whether a user deleted it.

use std::time::Instant;

use serde_json::Value;

use super::body::{self, Refusal};
use super::pings::{self, Scan};
use super::records::{Posted, SlackMessage};
use super::state::{Inner, Post, State, Stored};

impl State {
    /// Records an accepted post where Slack would show it, and returns its `ts`.
    pub(super) fn accept(&self, post: Post) -> Result<String, Refusal> {
        let thread_ts = body::thread_ts(&post.body)?;
        let Scan { pings, links } = self.scan(&post.body);
        let mut inner = self.inner.lock().unwrap();
        let (thread_ts, orphaned) = inner.place(&post.channel, thread_ts);
        let ts = format!("1700000000.{:06}", inner.posted.len() + 1);
        inner
            .last_accepted
            .insert(post.channel.clone(), Instant::now());
        let stored = Stored {
            body: post.body.clone(),
            edits: 0,
            deleted: false,
            via_webhook: post.via_webhook,
            thread_ts: thread_ts.clone(),
        };
        inner
            .messages
            .insert((post.channel.clone(), ts.clone()), stored);
        inner.posted.push(Posted {
            reply_broadcast: thread_ts.is_some() && post.body["reply_broadcast"] == true,
            channel: post.channel,
            requested_channel: post.requested_channel,
            content_type: post.content_type,
            body: post.body,
            ts: ts.clone(),
            thread_ts,
            orphaned,
            via_webhook: post.via_webhook,
            pings,
            links,
        });
        drop(inner);
        self.tally.accepted();
        Ok(ts)
    }

    /// What a body pings and links, given the channels Slack would link a `#name` to.
    pub(super) fn scan(&self, body: &Value) -> Scan {
        let names: Vec<&str> = self
            .channels
            .iter()
            .filter(|c| c.visible)
            .map(|c| c.name.as_str())
            .collect();
        pings::scan(body, &names)
    }
}

impl Inner {
    /// The thread a post naming `thread_ts` joins, and whether it is lost: Slack answers `ok` to a
    /// `thread_ts` that names no message but shows the reply nowhere, and Slack's docs warn never to
    /// use a reply's `ts` (the stand-in loses those replies too). A deleted root whose thread has
    /// replies stays as a tombstone that keeps the thread; without replies it is gone, and Slack
    /// posts the message in the channel instead.
    fn place(&self, channel: &str, thread_ts: Option<String>) -> (Option<String>, bool) {
        let Some(root) = thread_ts else {
            return (None, false);
        };
        match self.messages.get(&(channel.to_string(), root.clone())) {
            Some(parent) if parent.thread_ts.is_some() => (Some(root), true),
            Some(parent) if parent.deleted && self.replies(channel, &root).is_empty() => {
                (None, false)
            }
            Some(_) => (Some(root), false),
            None => (Some(root), true),
        }
    }

    /// Applies `chat.update` to the message at `ts` and returns its new body: `text` is replaced,
    /// `blocks` and `attachments` only when the update carries them. `Err` is Slack's error code.
    pub(super) fn update(
        &mut self,
        channel: &str,
        ts: &str,
        update: &Value,
    ) -> Result<Value, &'static str> {
        let message = self
            .messages
            .get_mut(&(channel.to_string(), ts.to_string()))
            .filter(|m| !m.deleted)
            .ok_or("message_not_found")?;
        // The bot token cannot edit what a webhook posted.
        if message.via_webhook {
            return Err("cant_update_message");
        }
        for key in ["text", "blocks", "attachments"] {
            if let Some(value) = update.get(key) {
                message.body[key] = value.clone();
            }
        }
        message.edits += 1;
        Ok(message.body.clone())
    }

    /// Replies in the thread of `thread_ts`, as posted; lost ones are in no thread.
    pub(super) fn replies(&self, channel: &str, thread_ts: &str) -> Vec<Posted> {
        self.posted
            .iter()
            .filter(|p| p.channel == channel && !p.orphaned)
            .filter(|p| p.thread_ts.as_deref() == Some(thread_ts))
            .cloned()
            .collect()
    }

    pub(super) fn snapshot(&self, channel: &str, ts: &str) -> Option<SlackMessage> {
        let stored = self.messages.get(&(channel.to_string(), ts.to_string()))?;
        Some(SlackMessage {
            channel: channel.into(),
            ts: ts.into(),
            thread_ts: stored.thread_ts.clone(),
            body: stored.body.clone(),
            edits: stored.edits,
            deleted: stored.deleted,
            via_webhook: stored.via_webhook,
            replies: self.replies(channel, ts),
        })
    }
}
