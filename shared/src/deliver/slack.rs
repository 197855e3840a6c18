//! Slack transport: `chat.postMessage` with a bot token (`users.lookupByEmail` for DMs by email), and
//! incoming webhooks.

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::CONTENT_TYPE;
use reqwest::{Client, RequestBuilder, Url};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::http::{endpoint, json_body, retry_after_header};
use super::pace::UPDATE_SPACING;
use super::retry::with_retries;
use super::{DeliveryError, HttpClientError, Lane, Message, Pace, Refusal, with_credential};
use crate::cache::{TtlCache, capacity};
use crate::deadline::Deadline;
use crate::destination::{Destination, Place, Provider, Receipt};
use crate::ledger::Lanes;
use crate::lifecycle::Root;
use crate::params::Parameters;
use crate::render::slack::{SlackMessage, render};
use crate::secret::{Secret, Secrets};

const PROVIDER: Provider = Provider::Slack;
/// Email addresses looked up, kept for an hour: an owner's address rarely changes its user.
const CACHED_EMAILS: NonZeroUsize = capacity(500);
const EMAIL_TTL: Duration = Duration::from_secs(3600);

/// Slack's error codes that mean "this destination cannot be used" rather than "this app cannot post".
const DESTINATION_ERRORS: &[&str] = &[
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "channel_is_archived",
    "users_not_found",
    "user_not_found",
    "cannot_dm_bot",
    "user_disabled",
    "restricted_action",
];
/// The token (or a webhook) was refused: it may have been rotated.
const CREDENTIAL_ERRORS: &[&str] = &[
    "invalid_auth",
    "not_authed",
    "token_revoked",
    "token_expired",
    "account_inactive",
    "no_service",
    "invalid_token",
];
/// The message to edit or reply to is gone.
const GONE_ERRORS: &[&str] = &["message_not_found", "thread_not_found"];
/// The message was refused as malformed.
const INVALID_ERRORS: &[&str] = &[
    "invalid_blocks",
    "invalid_blocks_format",
    "invalid_attachments",
    "invalid_payload",
    "msg_too_long",
];
const TRANSIENT_ERRORS: &[&str] = &[
    "ratelimited",
    "request_timeout",
    "fatal_error",
    "internal_error",
    "service_unavailable",
];

#[derive(Debug)]
pub struct SlackMessenger<P, L> {
    http: Client,
    post_message: Url,
    update: Url,
    lookup_by_email: Url,
    token: Option<Secret>,
    webhooks: Arc<Secrets>,
    parameters: Arc<P>,
    pace: Pace<L>,
    users: TtlCache<String>,
}

impl<P: Parameters, L: Lanes> SlackMessenger<P, L> {
    pub fn new(
        http: Client,
        base: &str,
        token: Option<Secret>,
        webhooks: Arc<Secrets>,
        parameters: Arc<P>,
        pace: Pace<L>,
    ) -> Result<Self, HttpClientError> {
        Ok(Self {
            http,
            post_message: endpoint(base, "chat.postMessage")?,
            update: endpoint(base, "chat.update")?,
            lookup_by_email: endpoint(base, "users.lookupByEmail")?,
            token,
            webhooks,
            parameters,
            pace,
            users: TtlCache::new(CACHED_EMAILS, EMAIL_TTL),
        })
    }

    pub async fn post(
        &self,
        to: &Destination,
        message: &Message<'_>,
        deadline: Deadline,
    ) -> Result<Receipt, DeliveryError> {
        if let Place::Webhook(parameter) = &to.place {
            let body = json_body(
                PROVIDER,
                &render(message.note, None, message.mentions, message.form),
            )?;
            let (secret, lane) = (self.webhooks.get(parameter), to.key());
            return with_credential(PROVIDER, &secret, &*self.parameters, deadline, |url| {
                self.webhook(url, &body, Lane::channel(&lane), deadline)
            })
            .await
            .map(|()| Receipt {
                channel: to.to_string(),
                message_id: String::new(),
            });
        }
        let lane = to.key();
        with_credential(
            PROVIDER,
            self.token()?,
            &*self.parameters,
            deadline,
            |token| {
                let lane = &lane;
                async move {
                    // A user id as `channel` posts to the app's DM with that user.
                    let channel = match &to.place {
                        Place::Email(email) => self.user_id(&token, email, deadline).await?,
                        Place::Channel(channel)
                        | Place::User(channel)
                        | Place::Webhook(channel) => channel.clone(),
                    };
                    let rendered =
                        render(message.note, Some(&channel), message.mentions, message.form);
                    self.send(
                        &token,
                        &self.post_message,
                        &rendered,
                        Lane::channel(lane),
                        deadline,
                    )
                    .await
                }
            },
        )
        .await
    }

    /// `chat.update` of the root, paced by Slack's limit for the method, which is the workspace's.
    pub async fn edit(
        &self,
        root: &Root,
        message: &Message<'_>,
        deadline: Deadline,
    ) -> Result<(), DeliveryError> {
        let mut rendered = render(
            message.note,
            Some(&root.channel),
            message.mentions,
            message.form,
        );
        rendered.ts = Some(root.message_id.clone());
        let lane = Lane {
            name: "slack:chat.update",
            spacing: UPDATE_SPACING,
        };
        self.send_as_bot(&self.update, &rendered, lane, deadline)
            .await
            .map(drop)
    }

    /// A reply in the root's thread, in the channel's lane.
    pub async fn reply(
        &self,
        to: &Destination,
        root: &Root,
        message: &Message<'_>,
        broadcast: bool,
        deadline: Deadline,
    ) -> Result<Receipt, DeliveryError> {
        let mut rendered = render(
            message.note,
            Some(&root.channel),
            message.mentions,
            message.form,
        );
        rendered.thread_ts = Some(root.message_id.clone());
        rendered.reply_broadcast = broadcast;
        let lane = to.key();
        self.send_as_bot(
            &self.post_message,
            &rendered,
            Lane::channel(&lane),
            deadline,
        )
        .await
    }

    /// `send` with the bot token, read again if Slack refuses it (rotated).
    async fn send_as_bot(
        &self,
        method: &Url,
        rendered: &SlackMessage,
        lane: Lane<'_>,
        deadline: Deadline,
    ) -> Result<Receipt, DeliveryError> {
        with_credential(
            PROVIDER,
            self.token()?,
            &*self.parameters,
            deadline,
            |token| async move { self.send(&token, method, rendered, lane, deadline).await },
        )
        .await
    }

    fn token(&self) -> Result<&Secret, DeliveryError> {
        self.token.as_ref().ok_or(DeliveryError::Unconfigured {
            provider: PROVIDER,
            what: "a Slack bot token",
        })
    }

    /// Sends a rendered message to `method`; the answer's channel and `ts` are the receipt.
    async fn send(
        &self,
        token: &SecretString,
        method: &Url,
        rendered: &SlackMessage,
        lane: Lane<'_>,
        deadline: Deadline,
    ) -> Result<Receipt, DeliveryError> {
        let body = json_body(PROVIDER, rendered)?;
        let answer = self
            .call(token, deadline, Some(lane), |http| {
                http.post(method.clone())
                    // Slack asks for the charset on JSON bodies.
                    .header(CONTENT_TYPE, "application/json; charset=utf-8")
                    .body(body.clone())
            })
            .await?;
        // `ok: true` is a post even when the answer says nothing more.
        Ok(Receipt {
            channel: text(&answer, "/channel")
                .or_else(|| rendered.channel.clone())
                .unwrap_or_default(),
            message_id: text(&answer, "/ts").unwrap_or_default(),
        })
    }

    async fn user_id(
        &self,
        token: &SecretString,
        email: &str,
        deadline: Deadline,
    ) -> Result<String, DeliveryError> {
        if let Some(id) = self.users.get(email) {
            return Ok(id);
        }
        let answer = self
            .call(token, deadline, None, |http| {
                http.get(self.lookup_by_email.clone())
                    .query(&[("email", email)])
            })
            .await?;
        let id = text(&answer, "/user/id")
            .ok_or_else(|| api_error("unexpected_answer: no `user.id`".into()))?;
        self.users.put(email, id.clone());
        Ok(id)
    }

    /// Calls a Web API method, retrying within `deadline`; a call that posts to a channel paces it.
    async fn call(
        &self,
        token: &SecretString,
        deadline: Deadline,
        lane: Option<Lane<'_>>,
        request: impl Fn(&Client) -> RequestBuilder,
    ) -> Result<Value, DeliveryError> {
        with_retries(PROVIDER, deadline, || async {
            let request = request(&self.http).bearer_auth(token.expose_secret());
            let response = self.pace.send(PROVIDER, lane, request, deadline).await?;
            let status = response.status().as_u16();
            if status == 429 {
                return Err(self.rate_limited(lane, response.headers(), deadline).await);
            }
            if !response.status().is_success() {
                return Err(DeliveryError::Http {
                    provider: PROVIDER,
                    status,
                });
            }
            let body = response
                .bytes()
                .await
                .map_err(DeliveryError::transport(PROVIDER))?;
            let answer: Value = serde_json::from_slice(&body)
                .map_err(|e| api_error(format!("unreadable_answer: {e}")))?;
            // The Web API answers HTTP 200 even for errors: `ok` decides.
            match answer.get("ok").and_then(Value::as_bool) {
                Some(true) => Ok(answer),
                Some(false) => Err(api_error(
                    text(&answer, "/error").unwrap_or_else(|| "unknown_error".to_owned()),
                )),
                None => Err(api_error("unreadable_answer: no `ok`".to_owned())),
            }
        })
        .await
    }

    /// Posts through an incoming webhook, whose answer is `ok` or a plain-text error code.
    async fn webhook(
        &self,
        url: SecretString,
        body: &Bytes,
        lane: Lane<'_>,
        deadline: Deadline,
    ) -> Result<(), DeliveryError> {
        let url = Url::parse(url.expose_secret())
            .map_err(|_| api_error("the webhook parameter does not hold a URL".to_owned()))?;
        with_retries(PROVIDER, deadline, || async {
            let request = (self.http.post(url.clone()))
                .header(CONTENT_TYPE, "application/json; charset=utf-8")
                .body(body.clone());
            let response = self
                .pace
                .send(PROVIDER, Some(lane), request, deadline)
                .await?;
            let status = response.status().as_u16();
            if status == 429 {
                return Err(self
                    .rate_limited(Some(lane), response.headers(), deadline)
                    .await);
            }
            if response.status().is_success() {
                return Ok(());
            }
            if status >= 500 {
                return Err(DeliveryError::Http {
                    provider: PROVIDER,
                    status,
                });
            }
            let reason = response.text().await.unwrap_or_default();
            let mut error = api_error(reason.trim().chars().take(100).collect());
            if let DeliveryError::Api { refusal, .. } = &mut error
                && *refusal == Refusal::Transient
            {
                *refusal = Refusal::Permanent;
            }
            Err(error)
        })
        .await
    }

    async fn rate_limited(
        &self,
        lane: Option<Lane<'_>>,
        headers: &reqwest::header::HeaderMap,
        deadline: Deadline,
    ) -> DeliveryError {
        let retry_after = retry_after_header(headers).unwrap_or(Duration::from_secs(1));
        if let Some(lane) = lane {
            self.pace.limited(lane.name, retry_after, deadline).await;
        }
        DeliveryError::RateLimited {
            provider: PROVIDER,
            retry_after,
        }
    }
}

/// A string at `pointer` in an answer.
fn text(answer: &Value, pointer: &str) -> Option<String> {
    answer.pointer(pointer)?.as_str().map(str::to_owned)
}

fn api_error(code: String) -> DeliveryError {
    let is = |list: &[&str]| list.contains(&code.as_str());
    let refusal = if is(DESTINATION_ERRORS) {
        Refusal::Destination
    } else if is(CREDENTIAL_ERRORS) {
        Refusal::Credential
    } else if is(GONE_ERRORS) {
        Refusal::Gone
    } else if is(INVALID_ERRORS) {
        Refusal::Invalid
    } else if is(TRANSIENT_ERRORS) || code.starts_with("unreadable_answer") {
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

    #[test]
    fn codes_are_sorted_by_what_can_be_done_about_them() {
        let refusal = |code: &str| api_error(code.into()).refusal();
        assert_eq!(refusal("channel_not_found"), Some(Refusal::Destination));
        assert_eq!(refusal("token_revoked"), Some(Refusal::Credential));
        assert_eq!(refusal("invalid_blocks"), Some(Refusal::Invalid));
        assert_eq!(refusal("fatal_error"), Some(Refusal::Transient));
        assert_eq!(refusal("missing_scope"), Some(Refusal::Permanent));
        assert!(api_error("fatal_error".into()).is_unclear());
        assert!(!api_error("ratelimited".into()).is_unclear());
    }
}
