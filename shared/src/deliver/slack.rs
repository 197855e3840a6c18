//! Slack Web API transport: `chat.postMessage`, with `users.lookupByEmail` for DMs by email.

use reqwest::header::CONTENT_TYPE;
use reqwest::{Client, RequestBuilder, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use super::pace::Pacer;
use super::{
    DeliveryError, HttpClientError, Messenger, Receipt, Refusal, attempt_timeout, endpoint,
    retry_after_header, with_retries,
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

#[derive(Deserialize)]
struct Posted {
    channel: String,
    ts: String,
}

#[derive(Deserialize)]
struct Lookup {
    user: User,
}

#[derive(Deserialize)]
struct User {
    id: String,
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
    async fn call<T: DeserializeOwned>(
        &self,
        token: &SecretString,
        deadline: Instant,
        request: impl Fn(&Client) -> RequestBuilder,
        lane: Option<&str>,
    ) -> Result<T, DeliveryError> {
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
            // The Web API answers HTTP 200 even for errors: `ok` decides. The answer echoes the whole
            // message back; typed reads skip it instead of building it as a JSON tree.
            let status: Status = serde_json::from_slice(&body).map_err(|e| DeliveryError::Api {
                provider: PROVIDER,
                code: format!("unreadable_answer: {e}"),
                refusal: Refusal::Transient,
            })?;
            if !status.ok {
                return Err(api_error(
                    status.error.unwrap_or_else(|| "unknown_error".to_owned()),
                ));
            }
            if let Some(channel) = lane {
                self.pacer.posted(channel);
            }
            serde_json::from_slice(&body).map_err(|e| api_error(format!("unexpected_answer: {e}")))
        })
        .await
    }

    async fn user_id(
        &self,
        token: &SecretString,
        email: &str,
        deadline: Instant,
    ) -> Result<String, DeliveryError> {
        let lookup: Lookup = self
            .call(
                token,
                deadline,
                |http| {
                    http.get(self.lookup_by_email.clone())
                        .query(&[("email", email)])
                },
                None,
            )
            .await?;
        Ok(lookup.user.id)
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
        let message = render(note, &channel);
        let posted: Posted = self
            .call(
                token,
                deadline,
                // Slack asks for the charset on JSON bodies.
                |http| {
                    http.post(self.post_message.clone())
                        .header(CONTENT_TYPE, "application/json; charset=utf-8")
                        .json(&message)
                },
                Some(&channel),
            )
            .await?;
        Ok(Receipt {
            channel: posted.channel,
            message_id: posted.ts,
        })
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
