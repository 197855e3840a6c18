//! How the Slack stand-in answers each call: faults, then incoming webhooks (their secret is in the
//! URL), or auth followed by the Web API method's own rules.

use serde_json::{Value, json};
use wiremock::{Request, ResponseTemplate};

use super::answer::{Answer, Body};
use super::body;
use super::state::{Post, State};
use super::{SlackChannel, SlackFault};
use crate::serve::{Rules, header, query};
use crate::tally::Tally;
use crate::window::retry_after_secs;

impl Rules for State {
    fn tally(&self) -> &Tally {
        &self.tally
    }

    fn answer_counted(&self, request: &Request) -> (u16, ResponseTemplate) {
        let answer = self.answer(request);
        if let Some(error) = answer.error_code() {
            self.inner.lock().unwrap().errors.push(error.into());
        }
        (answer.status, answer.into_template())
    }
}

impl State {
    fn answer(&self, request: &Request) -> Answer {
        let fault = self.inner.lock().unwrap().faults.pop_front();
        let path = request.url.path();
        if let Some(hook) = path.strip_prefix("/services/") {
            return match fault {
                Some(fault) => super::webhook::fault(fault),
                None => self.webhook(hook, request),
            };
        }
        match fault {
            Some(SlackFault::Status(status)) => return Answer::empty(status),
            Some(SlackFault::RetryAfter(secs)) => return Answer::rate_limited(secs),
            Some(SlackFault::Error(code)) => return Answer::error(&code),
            None => {}
        }
        match request.headers.get("authorization").map(|v| v.to_str()) {
            None => return Answer::error("not_authed"),
            Some(Ok(value)) if value.strip_prefix("Bearer ") == Some(self.token.as_str()) => {}
            Some(_) => return Answer::error("invalid_auth"),
        }
        match path {
            "/api/chat.postMessage" => self.post_message(request),
            "/api/chat.update" => self.update(request),
            "/api/users.lookupByEmail" => self.lookup_by_email(request),
            "/api/conversations.open" => self.open_conversation(request),
            "/api/auth.test" => Answer::ok(json!({
                "team": "rack", "team_id": "T0001", "user": "rack-notifications",
                "user_id": "U0BOT", "bot_id": "B0001",
            })),
            _ => Answer::error("unknown_method"),
        }
    }

    /// A method's JSON object body and its content type, or the answer refusing it.
    pub(super) fn json_body(request: &Request) -> Result<(Value, String), Answer> {
        let content_type = header(request, "content-type");
        if !content_type.starts_with("application/json") {
            return Err(Answer::error_because(
                "invalid_post_type",
                "stand-in rule: rack notifications must post JSON bodies",
            ));
        }
        let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
            return Err(Answer::error("invalid_json"));
        };
        if !body.is_object() {
            return Err(Answer::error("json_not_object"));
        }
        body::check_arguments(&body).map_err(|refusal| refusal.answer())?;
        Ok((body, content_type))
    }

    fn post_message(&self, request: &Request) -> Answer {
        let (body, content_type) = match Self::json_body(request) {
            Ok(read) => read,
            Err(answer) => return answer,
        };
        let requested = body["channel"].as_str().unwrap_or_default().to_string();
        let channel = match self.resolve(&requested) {
            Ok(channel) => channel,
            Err(answer) => return answer,
        };
        if let Some(secs) = self.rate_limited(&channel) {
            return Answer::rate_limited(secs);
        }
        if let Err(refusal) = body::check_content(&body) {
            return refusal.answer();
        }
        let post = Post {
            channel: channel.clone(),
            requested_channel: requested,
            content_type: content_type.clone(),
            body: body.clone(),
            via_webhook: false,
        };
        let ts = match self.accept(post) {
            Ok(ts) => ts,
            Err(refusal) => return refusal.answer(),
        };
        let mut answer = Answer::ok(json!({"channel": channel, "ts": ts, "message": body}));
        // Slack accepts a JSON body without a charset but warns about it.
        if !content_type.to_ascii_lowercase().contains("charset=utf-8")
            && let Body::Json(body) = &mut answer.body
        {
            body["warning"] = json!("missing_charset");
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
            return Self::usable(channel);
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

    /// A channel named by its id only (`C…`, or `D…` for a DM), as methods acting on a message need.
    pub(super) fn resolve_id(&self, id: &str) -> Result<String, Answer> {
        if let Some(channel) = self.channels.iter().find(|c| c.id == id) {
            return Self::usable(channel);
        }
        match self.users.iter().find(|u| u.dm_channel() == id) {
            Some(user) if user.dms_allowed => Ok(user.dm_channel()),
            _ => Err(Answer::error("channel_not_found")),
        }
    }

    fn usable(channel: &SlackChannel) -> Result<String, Answer> {
        match channel {
            c if !c.visible => Err(Answer::error("channel_not_found")),
            c if c.archived => Err(Answer::error("is_archived")),
            c => Ok(c.id.clone()),
        }
    }

    /// Seconds to wait if `channel` got an accepted post less than the minimum interval ago.
    pub(super) fn rate_limited(&self, channel: &str) -> Option<u64> {
        let inner = self.inner.lock().unwrap();
        let interval = inner.min_interval?;
        let elapsed = inner.last_accepted.get(channel)?.elapsed();
        let wait = interval.checked_sub(elapsed).filter(|d| !d.is_zero())?;
        Some(retry_after_secs(wait))
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
