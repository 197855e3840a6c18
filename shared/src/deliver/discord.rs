//! Discord REST transport: create-message with a bot token, opening a DM channel first for users.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{Client, RequestBuilder, Response};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use tokio::time::Instant;

use super::{
    DeliveryError, Messenger, Receipt, Refusal, attempt_timeout, json_body, retry_after_header,
    seconds, with_retries,
};
use crate::config::Provider;
use crate::dedupe::delivery_key;
use crate::notification::Notification;
use crate::render::discord::{NONCE_MAX, render};
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
                .map_err(DeliveryError::transport(PROVIDER))?;
            if response.status().is_success() {
                response
                    .json()
                    .await
                    .map_err(DeliveryError::transport(PROVIDER))
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
        let body = json_body(PROVIDER, &json!({ "recipient_id": user }))?;
        let channel: Channel = self
            .call(token, deadline, |http| post_json(http, &url, &body))
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
        let mut message = render(note);
        // Discord answers a nonce it saw from this bot within the last few minutes with the message it
        // already made: a retried request whose first answer was lost, or a retried invocation, never
        // posts twice.
        message.nonce = delivery_key(&note.event_id, to).map(|key| nonce(&key));
        message.enforce_nonce = message.nonce.as_ref().map(|_| true);
        let body = json_body(PROVIDER, &message)?;
        let created: Created = self
            .call(token, deadline, |http| post_json(http, &url, &body))
            .await?;
        Ok(Receipt {
            channel: created.channel_id.unwrap_or(channel),
            message_id: created.id,
        })
    }
}

/// A POST of a body serialized once by `json_body`, for each attempt.
fn post_json(http: &Client, url: &str, body: &Bytes) -> RequestBuilder {
    http.post(url)
        .header(CONTENT_TYPE, "application/json")
        .body(body.clone())
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

/// A delivery's nonce: its key's 128-bit FNV-1a hash in base 36, which always fits Discord's 25 characters.
/// Stable across builds and hosts, unlike std's hasher, as a retry may run in another container or release.
fn nonce(key: &str) -> String {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    base36(key.bytes().fold(OFFSET, |hash, byte| {
        (hash ^ u128::from(byte)).wrapping_mul(PRIME)
    }))
}

fn base36(mut value: u128) -> String {
    let mut digits = Vec::with_capacity(NONCE_MAX);
    loop {
        // `value % 36` is always a base-36 digit.
        digits.push(char::from_digit((value % 36) as u32, 36).unwrap_or('0'));
        value /= 36;
        if value == 0 {
            break;
        }
    }
    digits.iter().rev().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_stable_and_differ_per_delivery() {
        let key = |to: &str| {
            let to = Destination::Channel(to.into());
            delivery_key("6a7e5b1c-0d2f-4e3a-9b8c-7d6e5f4a3b2c", &to).unwrap()
        };
        let general = nonce(&key("100000000000000001"));
        assert_ne!(general, nonce(&key("100000000000000002")));
        // A fixed value: a changed hash would let a retry across a deploy post twice.
        assert_eq!(general, "7jqac4mwh2b9bij23qkgbjn6i");
    }

    #[test]
    fn every_nonce_fits_discord() {
        assert_eq!(base36(u128::MAX).len(), NONCE_MAX);
        assert_eq!(base36(0), "0");
        assert_eq!(base36(36 * 36 + 35), "10z");
    }
}
