//! How the Slack stand-in answers each call: auth, faults, then the method's own rules.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::{Request, ResponseTemplate};

use super::{Posted, SlackChannel, SlackFault, SlackUser, blocks};
use crate::serve::{Rules, header, query};
use crate::tally::Tally;
use crate::window::retry_after_secs;

// Slack's documented ceiling for `text`, the notification fallback.
const MAX_TEXT: usize = 40_000;

pub(super) struct State {
    pub(super) token: String,
    pub(super) channels: Vec<SlackChannel>,
    pub(super) users: Vec<SlackUser>,
    pub(super) tally: Tally,
    pub(super) inner: Mutex<Inner>,
}

#[derive(Default)]
pub(super) struct Inner {
    pub(super) min_interval: Option<Duration>,
    pub(super) faults: VecDeque<SlackFault>,
    pub(super) last_accepted: HashMap<String, Instant>,
    pub(super) posted: Vec<Posted>,
    pub(super) errors: Vec<String>,
}

impl Rules for State {
    fn tally(&self) -> &Tally {
        &self.tally
    }

    fn answer_counted(&self, request: &Request) -> (u16, ResponseTemplate) {
        let answer = self.answer(request);
        if let Some(error) = answer.body.get("error").and_then(Value::as_str) {
            self.inner.lock().unwrap().errors.push(error.into());
        }
        (answer.status, answer.into_template())
    }
}

pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) retry_after: Option<u64>,
    pub(super) body: Value,
}

impl Answer {
    fn ok(body: Value) -> Self {
        let mut body = body;
        body["ok"] = json!(true);
        Self {
            status: 200,
            retry_after: None,
            body,
        }
    }

    /// Slack reports failures as HTTP 200 with `ok:false`.
    fn error(code: &str) -> Self {
        Self {
            status: 200,
            retry_after: None,
            body: json!({"ok": false, "error": code}),
        }
    }

    fn error_because(code: &str, message: &str) -> Self {
        let mut answer = Self::error(code);
        answer.body["response_metadata"] = json!({ "messages": [message] });
        answer
    }

    fn rate_limited(secs: u64) -> Self {
        Self {
            status: 429,
            retry_after: Some(secs),
            body: json!({"ok": false, "error": "ratelimited"}),
        }
    }

    fn into_template(self) -> ResponseTemplate {
        let template = ResponseTemplate::new(self.status);
        let template = match self.retry_after {
            Some(secs) => template.insert_header("Retry-After", secs.to_string()),
            None => template,
        };
        if self.body.is_null() {
            template
        } else {
            template.set_body_raw(
                in_slacks_order(&self.body),
                "application/json; charset=utf-8",
            )
        }
    }
}

/// An answer as Slack writes it: `ok` (or `error`) first, then the method's fields, and the echoed
/// `message` after them, which is what a client reading only the start of an answer relies on.
fn in_slacks_order(body: &Value) -> Vec<u8> {
    const FIRST: [&str; 4] = ["ok", "error", "channel", "ts"];
    let mut out = Vec::new();
    let mut writer = serde_json::Serializer::new(&mut out);
    let written = match body {
        Value::Object(map) => {
            let first = FIRST.iter().filter_map(|key| map.get_key_value(*key));
            let rest = map.iter().filter(|(key, _)| !FIRST.contains(&key.as_str()));
            serde::Serializer::collect_map(&mut writer, first.chain(rest))
        }
        other => serde::Serialize::serialize(other, &mut writer),
    };
    written.expect("JSON values serialize");
    out
}

impl State {
    fn answer(&self, request: &Request) -> Answer {
        let fault = self.inner.lock().unwrap().faults.pop_front();
        match fault {
            Some(SlackFault::Status(status)) => {
                return Answer {
                    status,
                    retry_after: None,
                    body: Value::Null,
                };
            }
            Some(SlackFault::RetryAfter(secs)) => return Answer::rate_limited(secs),
            Some(SlackFault::Error(code)) => return Answer::error(&code),
            None => {}
        }
        match request.headers.get("authorization").map(|v| v.to_str()) {
            None => return Answer::error("not_authed"),
            Some(Ok(value)) if value.strip_prefix("Bearer ") == Some(self.token.as_str()) => {}
            Some(_) => return Answer::error("invalid_auth"),
        }
        match request.url.path() {
            "/api/chat.postMessage" => self.post_message(request),
            "/api/users.lookupByEmail" => self.lookup_by_email(request),
            "/api/conversations.open" => self.open_conversation(request),
            "/api/auth.test" => Answer::ok(json!({
                "team": "rack", "team_id": "T0001", "user": "rack-notifications",
                "user_id": "U0BOT", "bot_id": "B0001",
            })),
            _ => Answer::error("unknown_method"),
        }
    }

    fn post_message(&self, request: &Request) -> Answer {
        let content_type = header(request, "content-type");
        if !content_type.starts_with("application/json") {
            return Answer::error_because(
                "invalid_post_type",
                "stand-in rule: rack notifications must post JSON bodies",
            );
        }
        let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
            return Answer::error("invalid_json");
        };
        if !body.is_object() {
            return Answer::error("json_not_object");
        }
        // `link_names` and `parse` turn user text into pings; the product must never ask for them.
        for forbidden in ["link_names", "parse"] {
            if body.get(forbidden).is_some() {
                return Answer::error_because(
                    "invalid_arguments",
                    &format!("stand-in rule: `{forbidden}` must never be sent"),
                );
            }
        }
        let requested = body["channel"].as_str().unwrap_or_default().to_string();
        let channel = match self.resolve(&requested) {
            Ok(channel) => channel,
            Err(answer) => return answer,
        };
        if let Some(secs) = self.rate_limited(&channel) {
            return Answer::rate_limited(secs);
        }
        let text = body["text"].as_str().unwrap_or_default();
        if text.is_empty() {
            return Answer::error("no_text");
        }
        if text.chars().count() > MAX_TEXT {
            return Answer::error("msg_too_long");
        }
        if let Err(message) = blocks::validate_message(&body) {
            return Answer::error_because("invalid_blocks", &message);
        }
        let ts = self.accept(Posted {
            channel: channel.clone(),
            requested_channel: requested,
            content_type: content_type.clone(),
            body: body.clone(),
        });
        let mut answer = Answer::ok(json!({"channel": channel, "ts": ts, "message": body}));
        // Slack accepts a JSON body without a charset but warns about it.
        if !content_type.to_ascii_lowercase().contains("charset=utf-8") {
            answer.body["warning"] = json!("missing_charset");
        }
        answer
    }

    /// The channel id a post lands in: ids and names (with or without `#`) of visible channels,
    /// user ids and DM ids of users who accept DMs.
    fn resolve(&self, requested: &str) -> Result<String, Answer> {
        let wanted = requested.strip_prefix('#').unwrap_or(requested);
        if let Some(channel) = self
            .channels
            .iter()
            .find(|c| c.id == requested || c.name == wanted)
        {
            return match channel {
                c if !c.visible => Err(Answer::error("channel_not_found")),
                c if c.archived => Err(Answer::error("is_archived")),
                c => Ok(c.id.clone()),
            };
        }
        match self
            .users
            .iter()
            .find(|u| u.id == requested || u.dm_channel() == requested)
        {
            Some(user) if user.dms_allowed => Ok(user.dm_channel()),
            _ => Err(Answer::error("channel_not_found")),
        }
    }

    /// Seconds to wait if `channel` got an accepted post less than the minimum interval ago.
    fn rate_limited(&self, channel: &str) -> Option<u64> {
        let inner = self.inner.lock().unwrap();
        let interval = inner.min_interval?;
        let elapsed = inner.last_accepted.get(channel)?.elapsed();
        let wait = interval.checked_sub(elapsed).filter(|d| !d.is_zero())?;
        Some(retry_after_secs(wait))
    }

    fn accept(&self, posted: Posted) -> String {
        let mut inner = self.inner.lock().unwrap();
        inner
            .last_accepted
            .insert(posted.channel.clone(), Instant::now());
        inner.posted.push(posted);
        let ts = format!("1700000000.{:06}", inner.posted.len());
        drop(inner);
        self.tally.accepted();
        ts
    }

    fn lookup_by_email(&self, request: &Request) -> Answer {
        let email = argument(request, "email").unwrap_or_default();
        match self
            .users
            .iter()
            .find(|u| u.email.as_deref() == Some(email.as_str()))
        {
            Some(user) => Answer::ok(json!({"user": {"id": user.id, "profile": {"email": email}}})),
            None => Answer::error("users_not_found"),
        }
    }

    fn open_conversation(&self, request: &Request) -> Answer {
        let Some(users) = argument(request, "users") else {
            return Answer::error("users_list_not_supplied");
        };
        if users.contains(',') {
            return Answer::error_because(
                "invalid_arguments",
                "stand-in: group DMs are not modelled",
            );
        }
        match self.users.iter().find(|u| u.id == users) {
            Some(user) => Answer::ok(json!({"channel": {"id": user.dm_channel()}})),
            None => Answer::error("user_not_found"),
        }
    }
}

/// A method argument from the query string, a JSON body or a form body, as Slack accepts all three.
fn argument(request: &Request, name: &str) -> Option<String> {
    if let Some(value) = query(&request.url, name) {
        return Some(value);
    }
    if let Ok(body) = serde_json::from_slice::<Value>(&request.body) {
        return body.get(name).and_then(Value::as_str).map(str::to_string);
    }
    let mut form = request.url.clone();
    form.set_query(std::str::from_utf8(&request.body).ok());
    query(&form, name)
}
