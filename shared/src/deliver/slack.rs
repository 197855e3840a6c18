//! Slack Web API transport: `chat.postMessage`, with `users.lookupByEmail` for DMs by email.

use reqwest::header::CONTENT_TYPE;
use reqwest::{Client, RequestBuilder, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::time::Instant;

use super::pace::Pacer;
use super::{
    DeliveryError, HttpClientError, Messenger, Receipt, Refusal, attempt_timeout, endpoint,
    json_body, retry_after_header, with_retries,
};
use crate::config::Provider;
use crate::notification::Notification;
use crate::render::slack::render;
use crate::route::Destination;

const PROVIDER: Provider = Provider::Slack;

#[derive(Debug)]
pub struct SlackMessenger {
    http: Client,
    post_message: Url,
    lookup_by_email: Url,
    /// Slack limits posts per channel, so `chat.postMessage` is paced per channel once limited.
    pacer: Pacer,
}

/// What every Web API answer says of itself.
#[derive(Deserialize)]
struct Status {
    ok: bool,
    error: Option<String>,
}

/// A method's answer, read in one pass: the status and the method's own fields, which an error lacks.
trait Answer: Sized {
    type Value;
    /// The fields `Value` needs, for the error when they are missing.
    const FIELDS: &str;
    fn read(body: &[u8]) -> serde_json::Result<Self>;
    fn into_parts(self) -> (Status, Option<Self::Value>);
}

/// Read by `UntilMessage`, not derived: the derived reading would skip the whole echo.
#[derive(Default)]
struct Posted {
    ok: bool,
    error: Option<String>,
    channel: Option<String>,
    ts: Option<String>,
}

impl Answer for Posted {
    type Value = Receipt;
    const FIELDS: &str = "`channel` and `ts`";
    /// Stops at the echoed `message` once everything else is read: Slack sends the whole message back,
    /// as long as the one posted, and skipping it cost more than the rest of the answer.
    fn read(body: &[u8]) -> serde_json::Result<Self> {
        let mut stopped = None;
        let mut json = serde_json::Deserializer::from_slice(body);
        match serde::de::Deserializer::deserialize_map(&mut json, UntilMessage(&mut stopped)) {
            Ok(posted) => json.end().map(|()| posted),
            Err(error) => stopped.ok_or(error),
        }
    }
    fn into_parts(self) -> (Status, Option<Receipt>) {
        let receipt = self
            .channel
            .zip(self.ts)
            .map(|(channel, message_id)| Receipt {
                channel,
                message_id,
            });
        let status = Status {
            ok: self.ok,
            error: self.error,
        };
        (status, receipt)
    }
}

/// Reads `chat.postMessage`'s answer; one that reaches a `message` with the rest known goes to the slot,
/// and the error that stops the reading there is not one.
struct UntilMessage<'a>(&'a mut Option<Posted>);

impl<'de> serde::de::Visitor<'de> for UntilMessage<'_> {
    type Value = Posted;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a Web API answer")
    }

    fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<Posted, M::Error> {
        let (mut ok, mut posted) = (None, Posted::default());
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match &*key {
                "ok" => ok = Some(map.next_value()?),
                "error" => posted.error = map.next_value()?,
                "channel" => posted.channel = map.next_value()?,
                "ts" => posted.ts = map.next_value()?,
                "message"
                    if ok == Some(true) && posted.channel.is_some() && posted.ts.is_some() =>
                {
                    posted.ok = true;
                    *self.0 = Some(posted);
                    return Err(serde::de::Error::custom("stopped at the echoed message"));
                }
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        posted.ok = ok.ok_or_else(|| serde::de::Error::missing_field("ok"))?;
        Ok(posted)
    }
}

#[derive(Deserialize)]
struct Lookup {
    ok: bool,
    error: Option<String>,
    user: Option<User>,
}

#[derive(Deserialize)]
struct User {
    id: String,
}

impl Answer for Lookup {
    type Value = String;
    const FIELDS: &str = "`user.id`";
    fn read(body: &[u8]) -> serde_json::Result<Self> {
        serde_json::from_slice(body)
    }
    fn into_parts(self) -> (Status, Option<String>) {
        let status = Status {
            ok: self.ok,
            error: self.error,
        };
        (status, self.user.map(|user| user.id))
    }
}

/// Slack's error codes that mean "this destination cannot be used" rather than "this app cannot post".
const DESTINATION_ERRORS: &[&str] = &[
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "users_not_found",
    "user_not_found",
    "cannot_dm_bot",
    "user_disabled",
    "restricted_action",
];
const TRANSIENT_ERRORS: &[&str] = &[
    "ratelimited",
    "request_timeout",
    "fatal_error",
    "internal_error",
    "service_unavailable",
];

impl SlackMessenger {
    pub fn new(http: Client, base: &str) -> Result<Self, HttpClientError> {
        Ok(Self {
            http,
            post_message: endpoint(base, "chat.postMessage")?,
            lookup_by_email: endpoint(base, "users.lookupByEmail")?,
            pacer: Pacer::default(),
        })
    }

    /// Calls `method`, retrying within `deadline`; a call that posts to a channel names it as `lane`.
    async fn call<A: Answer>(
        &self,
        token: &SecretString,
        deadline: Instant,
        request: impl Fn(&Client) -> RequestBuilder,
        lane: Option<&str>,
    ) -> Result<A::Value, DeliveryError> {
        with_retries(PROVIDER, deadline, || async {
            if let Some(channel) = lane {
                self.pacer.wait(channel, deadline).await;
            }
            let response = request(&self.http)
                .bearer_auth(token.expose_secret())
                .timeout(attempt_timeout(PROVIDER, deadline)?)
                .send()
                .await
                .map_err(DeliveryError::transport(PROVIDER))?;
            let status = response.status();
            if status.as_u16() == 429 {
                let retry_after = retry_after_header(response.headers())
                    .unwrap_or(std::time::Duration::from_secs(1));
                if let Some(channel) = lane {
                    self.pacer.limited(channel, retry_after);
                }
                return Err(DeliveryError::RateLimited {
                    provider: PROVIDER,
                    retry_after,
                });
            }
            if !status.is_success() {
                return Err(DeliveryError::Http {
                    provider: PROVIDER,
                    status: status.as_u16(),
                });
            }
            let body = response
                .bytes()
                .await
                .map_err(DeliveryError::transport(PROVIDER))?;
            let (status, value) = read_answer::<A>(&body)?;
            // The Web API answers HTTP 200 even for errors: `ok` decides.
            if !status.ok {
                return Err(api_error(
                    status.error.unwrap_or_else(|| "unknown_error".to_owned()),
                ));
            }
            if let Some(channel) = lane {
                self.pacer.posted(channel);
            }
            value.map_err(|problem| api_error(format!("unexpected_answer: {problem}")))
        })
        .await
    }

    async fn user_id(
        &self,
        token: &SecretString,
        email: &str,
        deadline: Instant,
    ) -> Result<String, DeliveryError> {
        self.call::<Lookup>(
            token,
            deadline,
            |http| {
                http.get(self.lookup_by_email.clone())
                    .query(&[("email", email)])
            },
            None,
        )
        .await
    }
}

impl Messenger for SlackMessenger {
    async fn post(
        &self,
        token: &SecretString,
        to: &Destination,
        note: &Notification,
        deadline: Instant,
    ) -> Result<Receipt, DeliveryError> {
        // A user id as `channel` posts to the app's DM with that user.
        let channel = match to {
            Destination::Channel(channel) | Destination::User(channel) => channel.clone(),
            Destination::Email(email) => self.user_id(token, email, deadline).await?,
        };
        let body = json_body(PROVIDER, &render(note, &channel))?;
        self.call::<Posted>(
            token,
            deadline,
            // Slack asks for the charset on JSON bodies.
            |http| {
                http.post(self.post_message.clone())
                    .header(CONTENT_TYPE, "application/json; charset=utf-8")
                    .body(body.clone())
            },
            Some(&channel),
        )
        .await
    }
}

/// The answer's status, and its value or why it has none. A body that is not a Web API answer at all is a
/// transient error; an answer whose own fields are malformed is still read for its status, which says
/// whether the message was posted (a retry would then post it twice).
fn read_answer<A: Answer>(
    body: &[u8],
) -> Result<(Status, Result<A::Value, String>), DeliveryError> {
    match A::read(body) {
        Ok(answer) => {
            let (status, value) = answer.into_parts();
            Ok((status, value.ok_or_else(|| format!("no {}", A::FIELDS))))
        }
        Err(malformed) => match serde_json::from_slice::<Status>(body) {
            Ok(status) => Ok((status, Err(malformed.to_string()))),
            Err(e) => Err(DeliveryError::Api {
                provider: PROVIDER,
                code: format!("unreadable_answer: {e}"),
                refusal: Refusal::Transient,
            }),
        },
    }
}

fn api_error(code: String) -> DeliveryError {
    let refusal = if DESTINATION_ERRORS.contains(&code.as_str()) {
        Refusal::Destination
    } else if TRANSIENT_ERRORS.contains(&code.as_str()) {
        Refusal::Transient
    } else {
        Refusal::Permanent
    };
    DeliveryError::Api {
        provider: PROVIDER,
        code,
        refusal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posted(body: &str) -> Result<(bool, Result<Receipt, String>), DeliveryError> {
        read_answer::<Posted>(body.as_bytes()).map(|(status, value)| (status.ok, value))
    }

    #[test]
    fn a_posted_answer_is_read_up_to_the_echoed_message_or_past_it() {
        let message = r#"{"text":"hi","blocks":[{"type":"header"}]}"#;
        for body in [
            // Slack's order: the echo is not read, so even a broken one does not matter.
            format!(r#"{{"ok":true,"channel":"C1","ts":"1.2","message":{message}}}"#),
            r#"{"ok":true,"channel":"C1","ts":"1.2","message":{"text":"#.to_owned(),
            // Any other order: the echo is skipped.
            format!(r#"{{"message":{message},"ts":"1.2","ok":true,"channel":"C1"}}"#),
            format!(r#"{{"ok":true,"message":{message},"channel":"C1","ts":"1.2","warning":"x"}}"#),
        ] {
            let (ok, receipt) = posted(&body).unwrap();
            assert!(ok, "{body}");
            let receipt = receipt.unwrap();
            assert_eq!(
                (receipt.channel.as_str(), receipt.message_id.as_str()),
                ("C1", "1.2"),
                "{body}"
            );
        }
    }

    #[test]
    fn an_answer_with_malformed_fields_still_says_it_was_posted() {
        // Posted, so permanent: a retry would post the message twice.
        let (ok, receipt) = posted(r#"{"ok":true,"channel":7,"ts":"1.2"}"#).unwrap();
        assert!(ok);
        assert!(receipt.unwrap_err().contains("invalid type"));
        let (ok, receipt) = posted(r#"{"ok":true}"#).unwrap();
        assert!(ok);
        assert_eq!(receipt.unwrap_err(), "no `channel` and `ts`");
        let (ok, _) = posted(r#"{"ok":false,"error":"not_in_channel","channel":[]}"#).unwrap();
        assert!(!ok);
    }

    #[test]
    fn a_body_that_is_no_answer_is_transient() {
        for body in [
            "<html>busy</html>",
            r#"{"channel":"C1"}"#,
            r#"{"ok":true,"channel":"C1","ts":"1.2"} and more"#,
        ] {
            let error = posted(body).unwrap_err();
            assert!(error.is_retryable(), "{body}: {error}");
            assert!(error.to_string().contains("unreadable_answer"), "{error}");
        }
    }
}
