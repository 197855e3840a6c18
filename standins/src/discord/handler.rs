//! How the Discord stand-in answers each call: faults, auth, User-Agent, then the route's own rules.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use serde_json::{Value, json};
use wiremock::{Request, ResponseTemplate};

use super::ratelimit::{self, Buckets, Verdict};
use super::{Access, DiscordFault, DiscordPosted, validate};
use crate::serve::{Rules, header};
use crate::tally::Tally;

const BOT_USER_ID: &str = "999999999999999999";
const FIRST_MESSAGE_ID: u64 = 1_300_000_000_000_000_000;
const FIRST_DM_ID: u64 = 1_400_000_000_000_000_000;

pub(super) struct State {
    pub(super) token: String,
    pub(super) users: HashMap<String, bool>,
    pub(super) tally: Tally,
    pub(super) inner: Mutex<Inner>,
}

#[derive(Default)]
pub(super) struct Inner {
    pub(super) channels: HashMap<String, Access>,
    pub(super) dm_channels: HashMap<String, String>,
    pub(super) buckets: Buckets,
    pub(super) faults: VecDeque<DiscordFault>,
    pub(super) posted: Vec<DiscordPosted>,
    /// First answer per `(channel, nonce)`, for `enforce_nonce`.
    pub(super) nonces: HashMap<(String, String), Value>,
    pub(super) errors: Vec<(u16, u64)>,
}

impl Rules for State {
    fn tally(&self) -> &Tally {
        &self.tally
    }

    fn answer_counted(&self, request: &Request) -> (u16, ResponseTemplate) {
        let answer = self.answer(request);
        if answer.status >= 400 {
            let code = answer.body["code"].as_u64().unwrap_or(0);
            self.inner
                .lock()
                .unwrap()
                .errors
                .push((answer.status, code));
        }
        let mut template = ResponseTemplate::new(answer.status).set_body_json(answer.body);
        for (name, value) in answer.headers {
            template = template.insert_header(name, value);
        }
        (answer.status, template)
    }
}

pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) body: Value,
    pub(super) headers: Vec<(&'static str, String)>,
}

impl Answer {
    pub(super) fn new(status: u16, body: Value) -> Self {
        Self {
            status,
            body,
            headers: Vec::new(),
        }
    }

    fn error(status: u16, code: u64, message: &str) -> Self {
        Self::new(status, json!({"message": message, "code": code}))
    }
}

impl State {
    fn answer(&self, request: &Request) -> Answer {
        let fault = self.inner.lock().unwrap().faults.pop_front();
        match fault {
            Some(DiscordFault::Status(status)) => {
                return Answer::error(status, 0, &format!("{status}: injected fault"));
            }
            Some(DiscordFault::RateLimited {
                retry_after,
                global,
            }) => return ratelimit::too_many(retry_after, global),
            None => {}
        }
        let auth = header(request, "authorization");
        if auth.strip_prefix("Bot ") != Some(self.token.as_str()) {
            return Answer::error(401, 0, "401: Unauthorized");
        }
        // Discord requires this form of User-Agent from bots; other clients get blocked.
        if !header(request, "user-agent").starts_with("DiscordBot (") {
            return Answer::error(
                400,
                0,
                "400: Bad Request (stand-in: User-Agent must be `DiscordBot (<url>, <version>)`)",
            );
        }
        let path = request.url.path();
        let Some(route) = path.strip_prefix("/api/v10/") else {
            return Answer::error(404, 0, "404: Not Found");
        };
        let post = request.method.as_str() == "POST";
        let segments: Vec<&str> = route.split('/').collect();
        match segments.as_slice() {
            ["channels", channel, "messages"] if post => self.create_message(channel, request),
            ["users", "@me", "channels"] if post => self.open_dm(request),
            ["channels", _, "messages"] | ["users", "@me", "channels"] => {
                Answer::error(405, 0, "405: Method Not Allowed")
            }
            _ => Answer::error(404, 0, "404: Not Found"),
        }
    }

    fn create_message(&self, channel: &str, request: &Request) -> Answer {
        let access = self.inner.lock().unwrap().channels.get(channel).copied();
        match access {
            None => return Answer::error(404, 10003, "Unknown Channel"),
            Some(Access::Hidden) => return Answer::error(403, 50001, "Missing Access"),
            Some(Access::ReadOnly) => return Answer::error(403, 50013, "Missing Permissions"),
            Some(Access::DmBlocked) => {
                return Answer::error(403, 50007, "Cannot send messages to this user");
            }
            Some(Access::Send) => {}
        }
        let verdict = self.inner.lock().unwrap().buckets.take(channel);
        let rate_headers = match verdict {
            Verdict::Limited(answer) => return answer,
            Verdict::Allowed(headers) => headers,
        };
        let mut answer = self.checked_message(channel, request);
        answer.headers.extend(rate_headers);
        answer
    }

    fn checked_message(&self, channel: &str, request: &Request) -> Answer {
        let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
            return Answer::error(400, 50109, "The request body contains invalid JSON.");
        };
        if let Err(rejection) = validate::validate(&body) {
            return Answer::new(400, rejection.body);
        }
        let nonce_key = match (&body["nonce"], body["enforce_nonce"].as_bool()) {
            (Value::String(n), Some(true)) => Some((channel.to_string(), n.clone())),
            (Value::Number(n), Some(true)) => Some((channel.to_string(), n.to_string())),
            _ => None,
        };
        let mut inner = self.inner.lock().unwrap();
        if let Some(first) = nonce_key.as_ref().and_then(|key| inner.nonces.get(key)) {
            return Answer::new(200, first.clone());
        }
        let message_id = (FIRST_MESSAGE_ID + inner.posted.len() as u64).to_string();
        let message = json!({
            "id": message_id,
            "channel_id": channel,
            "type": 0,
            "content": body["content"].as_str().unwrap_or_default(),
            "embeds": body.get("embeds").cloned().unwrap_or(json!([])),
            "nonce": body.get("nonce").cloned().unwrap_or(Value::Null),
            "author": {"id": BOT_USER_ID, "username": "rack-notifications", "bot": true},
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": false,
            "tts": false,
            "pinned": false,
        });
        if let Some(key) = nonce_key {
            inner.nonces.insert(key, message.clone());
        }
        inner.posted.push(DiscordPosted {
            channel_id: channel.into(),
            message_id,
            body,
        });
        drop(inner);
        self.tally.accepted();
        Answer::new(200, message)
    }

    fn open_dm(&self, request: &Request) -> Answer {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let recipient = body["recipient_id"].as_str().unwrap_or_default();
        let Some(&dms_allowed) = self.users.get(recipient) else {
            return Answer::new(
                400,
                json!({"message": "Invalid Form Body", "code": 50035, "errors": {"recipient_id": {
                    "_errors": [{"code": "NUMBER_TYPE_COERCE", "message": "Unknown user or not a snowflake."}]
                }}}),
            );
        };
        let mut inner = self.inner.lock().unwrap();
        let next_id = (FIRST_DM_ID + inner.dm_channels.len() as u64).to_string();
        let id = inner
            .dm_channels
            .entry(recipient.into())
            .or_insert(next_id)
            .clone();
        // Opening always works; a user's DM settings only show when the bot posts.
        let access = if dms_allowed {
            Access::Send
        } else {
            Access::DmBlocked
        };
        inner.channels.insert(id.clone(), access);
        Answer::new(
            200,
            json!({"id": id, "type": 1, "last_message_id": null,
                   "recipients": [{"id": recipient, "username": format!("user-{recipient}")}]}),
        )
    }
}
