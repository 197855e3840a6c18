//! How the Discord stand-in answers each call: faults, then webhook routes (their token is in the URL),
//! or auth and User-Agent followed by the bot route's own rules.

use serde_json::{Value, json};
use wiremock::{Request, ResponseTemplate};

use super::answer::{Answer, json_body};
use super::ratelimit::{self, Verdict};
use super::state::{Author, State};
use super::validate::{self, Kind};
use super::{Access, DiscordFault};
use crate::serve::{Rules, header};
use crate::tally::Tally;

const FIRST_DM_ID: u64 = 1_400_000_000_000_000_000;

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
        let mut template = ResponseTemplate::new(answer.status);
        // A 204 (a webhook executed without `wait`) has no body at all.
        if !answer.body.is_null() {
            template = template.set_body_json(answer.body);
        }
        for (name, value) in answer.headers {
            template = template.insert_header(name, value);
        }
        (answer.status, template)
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
        let path = request.url.path();
        let Some(route) = path.strip_prefix("/api/v10/") else {
            return Answer::error(404, 0, "404: Not Found");
        };
        let method = request.method.as_str();
        let segments: Vec<&str> = route.split('/').collect();
        // A webhook's URL carries its credential, and Discord's User-Agent rule is for bots.
        match (method, segments.as_slice()) {
            ("POST", ["webhooks", id, token]) => return self.execute_webhook(id, token, request),
            ("PATCH", ["webhooks", id, token, "messages", message]) => {
                return self.edit_webhook_message(id, token, message, request);
            }
            (_, ["webhooks", ..]) => return Answer::error(405, 0, "405: Method Not Allowed"),
            _ => {}
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
        match (method, segments.as_slice()) {
            ("POST", ["channels", channel, "messages"]) => self.create_message(channel, request),
            ("PATCH", ["channels", channel, "messages", message]) => {
                self.edit_message(channel, message, request)
            }
            ("POST", ["channels", channel, "messages", message, "threads"]) => {
                self.start_thread(channel, message, request)
            }
            ("POST", ["users", "@me", "channels"]) => self.open_dm(request),
            (
                _,
                ["channels", _, "messages"]
                | ["channels", _, "messages", _]
                | ["channels", _, "messages", _, "threads"]
                | ["users", "@me", "channels"],
            ) => Answer::error(405, 0, "405: Method Not Allowed"),
            _ => Answer::error(404, 0, "404: Not Found"),
        }
    }

    /// Whether the bot may act in `channel`, as Discord answers when it may not.
    pub(super) fn check_access(&self, channel: &str) -> Result<(), Answer> {
        let access = self.inner.lock().unwrap().channels.get(channel).copied();
        match access {
            None => Err(Answer::error(404, 10003, "Unknown Channel")),
            Some(Access::Hidden) => Err(Answer::error(403, 50001, "Missing Access")),
            Some(Access::ReadOnly) => Err(Answer::error(403, 50013, "Missing Permissions")),
            Some(Access::DmBlocked) => Err(Answer::error(
                403,
                50007,
                "Cannot send messages to this user",
            )),
            Some(Access::Send) => Ok(()),
        }
    }

    /// Runs `act` if `channel`'s bucket has room and adds the bucket's headers to its answer; the 429
    /// otherwise.
    pub(super) fn in_bucket(&self, channel: &str, act: impl FnOnce() -> Answer) -> Answer {
        let verdict = self.inner.lock().unwrap().buckets.take(channel);
        match verdict {
            Verdict::Limited(answer) => answer,
            Verdict::Allowed(headers) => {
                let mut answer = act();
                answer.headers.extend(headers);
                answer
            }
        }
    }

    fn create_message(&self, channel: &str, request: &Request) -> Answer {
        if let Err(answer) = self.check_access(channel) {
            return answer;
        }
        self.in_bucket(channel, || self.checked_message(channel, request))
    }

    fn checked_message(&self, channel: &str, request: &Request) -> Answer {
        let body = match self.body(request, Kind::Create) {
            Ok(body) => body,
            Err(answer) => return answer,
        };
        let nonce_key = match (&body["nonce"], body["enforce_nonce"].as_bool()) {
            (Value::String(n), Some(true)) => Some((channel.to_string(), n.clone())),
            (Value::Number(n), Some(true)) => Some((channel.to_string(), n.to_string())),
            _ => None,
        };
        let mut inner = self.inner.lock().unwrap();
        if let Some(first) = nonce_key.as_ref().and_then(|key| inner.nonces.get(key)) {
            return Answer::new(200, first.clone());
        }
        let reference = match inner.reference(channel, &body) {
            Ok(reference) => reference,
            Err(answer) => return answer,
        };
        let message = inner.post(channel, body, Author::Bot, reference);
        if let Some(key) = nonce_key {
            inner.nonces.insert(key, message.clone());
        }
        drop(inner);
        self.tally.accepted();
        Answer::new(200, message)
    }

    /// The request's JSON body, checked for `kind`.
    pub(super) fn body(&self, request: &Request, kind: Kind) -> Result<Value, Answer> {
        let body = json_body(request)?;
        validate::validate(&body, kind, self.require_allowed_mentions)
            .map_err(|rejection| Answer::new(400, rejection.body))?;
        Ok(body)
    }

    fn edit_message(&self, channel: &str, message: &str, request: &Request) -> Answer {
        if let Err(answer) = self.check_access(channel) {
            return answer;
        }
        // Edits share the channel's bucket with new messages.
        self.in_bucket(channel, || {
            self.edit(channel, message, request, Kind::Edit, &Author::Bot)
        })
    }

    /// Applies an edit by `editor` to the live message `id` in `channel`.
    pub(super) fn edit(
        &self,
        channel: &str,
        id: &str,
        request: &Request,
        kind: Kind,
        editor: &Author,
    ) -> Answer {
        let body = match self.body(request, kind) {
            Ok(body) => body,
            Err(answer) => return answer,
        };
        let mut inner = self.inner.lock().unwrap();
        let Some(stored) = inner.live(channel, id) else {
            return Answer::unknown_message();
        };
        if stored.author != *editor {
            return match editor {
                // A webhook sees only its own messages.
                Author::Webhook(_) => Answer::unknown_message(),
                Author::Bot => {
                    Answer::error(403, 50005, "Cannot edit a message authored by another user")
                }
            };
        }
        match inner.edit(id, body) {
            Ok(message) => Answer::new(200, message),
            Err(rejection) => Answer::new(400, rejection.body),
        }
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
