//! Discord REST transport: create-message with a bot token, opening a DM channel first for users.

use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderValue};
use reqwest::{Client, RequestBuilder, Response};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use tokio::time::Instant;

use super::{
    DeliveryError, Messenger, Receipt, Refusal, attempt_timeout, retry_after_header, seconds,
    with_retries,
};
use crate::config::Provider;
use crate::notification::Notification;
use crate::render::discord::render;
use crate::route::Destination;

const PROVIDER: Provider = Provider::Discord;

#[derive(Debug)]
pub struct DiscordMessenger {
    http: Client,
    base: String,
}

#[derive(Deserialize)]
struct Created {
    id: String,
    channel_id: Option<String>,
}

#[derive(Deserialize)]
struct Channel {
    id: String,
}

/// Discord's JSON error body.
#[derive(Deserialize, Default)]
struct ApiError {
    #[serde(default)]
    code: u32,
    #[serde(default)]
    message: String,
    retry_after: Option<f64>,
}

/// Unknown Channel, Unknown User, Missing Access, Cannot send messages to this user, Missing Permissions:
/// the destination is unusable, the bot is not.
const DESTINATION_CODES: &[u32] = &[10003, 10013, 50001, 50007, 50013];

impl DiscordMessenger {
    pub fn new(http: Client, base: &str) -> Self {
        Self {
            http,
            base: base.to_owned(),
        }
    }

    async fn call<T: DeserializeOwned>(
        &self,
        token: &SecretString,
        deadline: Instant,
        request: impl Fn(&Client) -> RequestBuilder,
    ) -> Result<T, DeliveryError> {
        let mut auth =
            HeaderValue::try_from(format!("Bot {}", token.expose_secret())).map_err(|_| {
                DeliveryError::Api {
                    provider: PROVIDER,
                    code: "token is not a valid header value".into(),
                    refusal: Refusal::Permanent,
                }
            })?;
        // Keeps the token out of any debug output of the HTTP stack.
        auth.set_sensitive(true);
        with_retries(PROVIDER, deadline, || async {
            let response = request(&self.http)
                .header(AUTHORIZATION, auth.clone())
                .timeout(attempt_timeout(PROVIDER, deadline)?)
                .send()
                .await
                .map_err(transport)?;
            if response.status().is_success() {
                response.json().await.map_err(transport)
            } else {
                Err(refusal(response).await)
            }
        })
        .await
    }

    async fn dm_channel(
        &self,
        token: &SecretString,
        user: &str,
        deadline: Instant,
    ) -> Result<String, DeliveryError> {
        let url = format!("{}/users/@me/channels", self.base);
        let body = json!({ "recipient_id": user });
        let channel: Channel = self
            .call(token, deadline, |http| http.post(&url).json(&body))
            .await?;
        Ok(channel.id)
    }
}

impl Messenger for DiscordMessenger {
    async fn post(
        &self,
        token: &SecretString,
        to: &Destination,
        note: &Notification,
        deadline: Instant,
    ) -> Result<Receipt, DeliveryError> {
        let channel = match to {
            Destination::Channel(channel) => channel.clone(),
            Destination::User(user) | Destination::Email(user) => {
                self.dm_channel(token, user, deadline).await?
            }
        };
        let url = format!("{}/channels/{channel}/messages", self.base);
        let message = render(note);
        let created: Created = self
            .call(token, deadline, |http| http.post(&url).json(&message))
            .await?;
        Ok(Receipt {
            channel: created.channel_id.unwrap_or(channel),
            message_id: created.id,
        })
    }
}

async fn refusal(response: Response) -> DeliveryError {
    let status = response.status().as_u16();
    let header_wait = retry_after_header(response.headers());
    let body: ApiError = response.json().await.unwrap_or_default();
    match status {
        429 => DeliveryError::RateLimited {
            provider: PROVIDER,
            retry_after: body
                .retry_after
                .and_then(seconds)
                .or(header_wait)
                .unwrap_or(Duration::from_secs(1)),
        },
        401 => DeliveryError::Api {
            provider: PROVIDER,
            code: "401 Unauthorized (check the bot token)".into(),
            refusal: Refusal::Permanent,
        },
        400..=499 => DeliveryError::Api {
            provider: PROVIDER,
            code: format!("{status} code {}: {}", body.code, body.message),
            refusal: if DESTINATION_CODES.contains(&body.code) {
                Refusal::Destination
            } else {
                Refusal::Permanent
            },
        },
        _ => DeliveryError::Http {
            provider: PROVIDER,
            status,
        },
    }
}

fn transport(source: reqwest::Error) -> DeliveryError {
    DeliveryError::Transport {
        provider: PROVIDER,
        source,
    }
}
