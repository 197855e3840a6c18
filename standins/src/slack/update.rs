//! `chat.update`: edits a message the app posted, in place. It names the channel by id only, keeps
//! `chat.postMessage`'s body rules, and has its own per-workspace rate limit (Slack's Tier 3) instead of
//! counting against the channel's one message a second.

use serde_json::{Map, Value, json};
use wiremock::Request;

use super::answer::Answer;
use super::body;
use super::pings::Scan;
use super::records::SlackUpdate;
use super::state::State;
use crate::window::{Taken, retry_after_secs};

impl State {
    pub(super) fn update(&self, request: &Request) -> Answer {
        let (body, _) = match Self::json_body(request) {
            Ok(read) => read,
            Err(answer) => return answer,
        };
        let taken = self.inner.lock().unwrap().update_limit.take("workspace");
        if let Some(Taken::Limited { reset_after, .. }) = taken {
            return Answer::rate_limited(retry_after_secs(reset_after));
        }
        // A name is not enough here: Slack wants the id `chat.postMessage` answered with.
        let channel = match self.resolve_id(body["channel"].as_str().unwrap_or_default()) {
            Ok(channel) => channel,
            Err(answer) => return answer,
        };
        let ts = body["ts"].as_str().unwrap_or_default().to_string();
        if let Err(refusal) = body::check_content(&body) {
            return refusal.answer();
        }
        let Scan { pings, links } = self.scan(&body);
        let mut inner = self.inner.lock().unwrap();
        let message = match inner.update(&channel, &ts, &body) {
            Ok(message) => message,
            Err(code) => return Answer::error(code),
        };
        // The message as it reads now, without the posting arguments (`channel`, `thread_ts`, …).
        let message: Map<String, Value> = ["text", "blocks", "attachments"]
            .into_iter()
            .filter_map(|key| Some((key.to_string(), message.get(key)?.clone())))
            .collect();
        let text = message["text"].clone();
        inner.updates.push(SlackUpdate {
            channel: channel.clone(),
            ts: ts.clone(),
            body,
            pings,
            links,
        });
        Answer::ok(json!({"channel": channel, "ts": ts, "text": text, "message": message}))
    }
}
