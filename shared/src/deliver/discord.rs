//! Discord transport: create-message with a bot token (opening a DM channel first for users), and
//! webhooks.

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{Client, RequestBuilder, Response, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::json;

use super::http::{json_body, retry_after_header, seconds};
use super::retry::with_retries;
use super::{DeliveryError, Lane, Message, Pace, Refusal, with_credential};
use crate::cache::{TtlCache, capacity};
use crate::deadline::Deadline;
use crate::destination::{Destination, Place, Provider, Receipt};
use crate::ledger::Lanes;
use crate::lifecycle::Root;
use crate::params::Parameters;
use crate::render::discord::{DiscordMessage, MessageReference, NONCE_MAX, render};
use crate::secret::{Secret, Secrets};

const PROVIDER: Provider = Provider::Discord;
/// A user's DM channel never changes; kept a day, for at most this many users.
const CACHED_DM_CHANNELS: NonZeroUsize = capacity(500);
const DM_CHANNEL_TTL: Duration = Duration::from_secs(24 * 3600);

/// Unknown Channel, Unknown User, Missing Access, Cannot send messages to this user, Missing Permissions:
/// the destination is unusable, the bot is not.
const DESTINATION_CODES: &[u32] = &[10003, 10013, 50001, 50007, 50013];
/// Unknown Webhook, Invalid Webhook Token: the webhook was deleted or its URL changed.
const WEBHOOK_CODES: &[u32] = &[10015, 50027];
/// Invalid Form Body: the message broke a rule.
const INVALID_FORM_BODY: u32 = 50035;
/// Unknown Message: the message to edit or reply to was deleted.
const UNKNOWN_MESSAGE: u32 = 10008;
/// A thread has already been created for this message.
const THREAD_EXISTS: u32 = 160004;
/// Discord's limit for a thread's name.
const THREAD_NAME_MAX: usize = 100;

#[derive(Debug)]
pub struct DiscordMessenger<P, L> {
    http: Client,
    base: String,
    token: Option<Secret>,
    webhooks: Arc<Secrets>,
    parameters: Arc<P>,
    pace: Pace<L>,
    dm_channels: TtlCache<String>,
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

impl<P: Parameters, L: Lanes> DiscordMessenger<P, L> {
    pub fn new(
        http: Client,
        base: &str,
        token: Option<Secret>,
        webhooks: Arc<Secrets>,
        parameters: Arc<P>,
        pace: Pace<L>,
    ) -> Self {
        Self {
            http,
            base: base.to_owned(),
            token,
            webhooks,
            parameters,
            pace,
            dm_channels: TtlCache::new(CACHED_DM_CHANNELS, DM_CHANNEL_TTL),
        }
    }

    pub async fn post(
        &self,
        to: &Destination,
        message: &Message<'_>,
        deadline: Deadline,
    ) -> Result<Receipt, DeliveryError> {
        let body = json_body(PROVIDER, &self.rendered(message))?;
        let lane = to.key();
        if let Place::Webhook(parameter) = &to.place {
            let secret = self.webhooks.get(parameter);
            return with_credential(PROVIDER, &secret, &*self.parameters, deadline, |url| {
                self.webhook(url, &body, Lane::channel(&lane), deadline)
            })
            .await;
        }
        self.with_token(deadline, |auth| {
            let (body, lane) = (&body, &lane);
            async move {
                let channel = match &to.place {
                    Place::User(user) | Place::Email(user) => {
                        self.dm_channel(&auth, user, deadline).await?
                    }
                    Place::Channel(channel) | Place::Webhook(channel) => channel.clone(),
                };
                let url = format!("{}/channels/{channel}/messages", self.base);
                self.create(&auth, &url, body, Lane::channel(lane), deadline)
                    .await
            }
        })
        .await
    }

    /// Edits the root in place; it shares the channel's bucket with new messages.
    pub async fn edit(
        &self,
        to: &Destination,
        root: &Root,
        message: &Message<'_>,
        deadline: Deadline,
    ) -> Result<(), DeliveryError> {
        let mut rendered = self.rendered(message);
        (rendered.nonce, rendered.enforce_nonce) = (None, None);
        let body = json_body(PROVIDER, &rendered)?;
        let url = format!(
            "{}/channels/{}/messages/{}",
            self.base, root.channel, root.message_id
        );
        let lane = to.key();
        self.with_token(deadline, |auth| {
            let (body, url, lane) = (&body, &url, &lane);
            async move {
                self.call::<IgnoredAny>(deadline, Some(Lane::channel(lane)), |http| {
                    http.patch(url)
                        .header(CONTENT_TYPE, "application/json")
                        .header(AUTHORIZATION, auth.clone())
                        .body(body.clone())
                })
                .await
                .map(drop)
            }
        })
        .await
    }

    /// Starts a thread on the root; a root that has one already is its own thread's id.
    pub async fn open_thread(
        &self,
        root: &Root,
        name: &str,
        deadline: Deadline,
    ) -> Result<String, DeliveryError> {
        let url = format!(
            "{}/channels/{}/messages/{}/threads",
            self.base, root.channel, root.message_id
        );
        let name: String = name.chars().take(THREAD_NAME_MAX).collect();
        let body = json_body(
            PROVIDER,
            &json!({"name": name, "auto_archive_duration": 10080}),
        )?;
        let opened = self
            .with_token(deadline, |auth| {
                let (body, url) = (&body, &url);
                async move {
                    self.call::<Channel>(deadline, None, |http| {
                        post_json(http, url, body).header(AUTHORIZATION, auth.clone())
                    })
                    .await
                }
            })
            .await;
        match opened {
            Ok(thread) => Ok(thread.id),
            Err(error) if error.code().contains(&format!("code {THREAD_EXISTS}:")) => {
                Ok(root.message_id.clone())
            }
            Err(error) => Err(error),
        }
    }

    /// A reply in the root's thread (or, without one, in the channel, linked to the root); with
    /// `broadcast`, also a reply in the channel that links to the root.
    pub async fn reply(
        &self,
        to: &Destination,
        root: &Root,
        message: &Message<'_>,
        broadcast: bool,
        deadline: Deadline,
    ) -> Result<Receipt, DeliveryError> {
        let in_channel = |suffix: &str| {
            let mut rendered = self.rendered(message);
            rendered.nonce = message.key.map(|key| nonce(&format!("{key}#{suffix}")));
            rendered.message_reference = Some(MessageReference {
                message_id: root.message_id.clone(),
                fail_if_not_exists: false,
            });
            rendered
        };
        let (lane, thread_lane) = (
            to.key(),
            format!(
                "{}:thread {}",
                PROVIDER.key(),
                root.thread.as_deref().unwrap_or_default()
            ),
        );
        let (channel, body, reply_lane) = match &root.thread {
            Some(thread) => (
                thread.clone(),
                json_body(PROVIDER, &self.rendered(message))?,
                Lane::channel(&thread_lane),
            ),
            None => (
                root.channel.clone(),
                json_body(PROVIDER, &in_channel("reply"))?,
                Lane::channel(&lane),
            ),
        };
        let broadcast = (broadcast && root.thread.is_some())
            .then(|| json_body(PROVIDER, &in_channel("broadcast")))
            .transpose()?;
        self.with_token(deadline, |auth| {
            let (body, broadcast, channel) = (&body, &broadcast, &channel);
            let lane = &lane;
            async move {
                let url = format!("{}/channels/{channel}/messages", self.base);
                let replied = self.create(&auth, &url, body, reply_lane, deadline).await?;
                if let Some(broadcast) = broadcast {
                    let url = format!("{}/channels/{}/messages", self.base, root.channel);
                    self.create(&auth, &url, broadcast, Lane::channel(lane), deadline)
                        .await?;
                }
                Ok(replied)
            }
        })
        .await
    }

    /// The message as Discord takes it, with a nonce made of the delivery's key: Discord answers a nonce
    /// it saw from this bot within the last few minutes with the message it already made, so a retried
    /// request whose first answer was lost, or a retried invocation, never posts twice.
    fn rendered(&self, message: &Message<'_>) -> DiscordMessage {
        let mut rendered = render(message.note, message.mentions, message.form);
        rendered.nonce = message.key.map(nonce);
        rendered.enforce_nonce = rendered.nonce.as_ref().map(|_| true);
        rendered
    }

    /// Runs `send` with the bot token's `Authorization` header, reading the token again if Discord
    /// refuses it (rotated).
    async fn with_token<T, F, Fut>(&self, deadline: Deadline, send: F) -> Result<T, DeliveryError>
    where
        F: Fn(HeaderValue) -> Fut,
        Fut: Future<Output = Result<T, DeliveryError>>,
    {
        let token = self.token.as_ref().ok_or(DeliveryError::Unconfigured {
            provider: PROVIDER,
            what: "a Discord bot token",
        })?;
        with_credential(PROVIDER, token, &*self.parameters, deadline, |token| {
            let send = &send;
            async move { send(authorization(&token)?).await }
        })
        .await
    }

    /// Creates a message at `url`; its id is the receipt's.
    async fn create(
        &self,
        auth: &HeaderValue,
        url: &str,
        body: &Bytes,
        lane: Lane<'_>,
        deadline: Deadline,
    ) -> Result<Receipt, DeliveryError> {
        let created: Created = self
            .call(deadline, Some(lane), |http| {
                post_json(http, url, body).header(AUTHORIZATION, auth.clone())
            })
            .await?;
        Ok(Receipt {
            channel: created.channel_id.unwrap_or_default(),
            message_id: created.id,
        })
    }

    async fn dm_channel(
        &self,
        auth: &HeaderValue,
        user: &str,
        deadline: Deadline,
    ) -> Result<String, DeliveryError> {
        if let Some(channel) = self.dm_channels.get(user) {
            return Ok(channel);
        }
        let url = format!("{}/users/@me/channels", self.base);
        let body = json_body(PROVIDER, &json!({ "recipient_id": user }))?;
        let channel: Channel = self
            .call(deadline, None, |http| {
                post_json(http, &url, &body).header(AUTHORIZATION, auth.clone())
            })
            .await?;
        self.dm_channels.put(user, channel.id.clone());
        Ok(channel.id)
    }

    /// Executes a webhook with `?wait=true`, so that Discord answers with the message it made.
    async fn webhook(
        &self,
        url: SecretString,
        body: &Bytes,
        lane: Lane<'_>,
        deadline: Deadline,
    ) -> Result<Receipt, DeliveryError> {
        let mut url = Url::parse(url.expose_secret()).map_err(|_| DeliveryError::Api {
            provider: PROVIDER,
            code: "the webhook parameter does not hold a URL".into(),
            refusal: Refusal::Credential,
        })?;
        url.query_pairs_mut().append_pair("wait", "true");
        let created: Created = self
            .call(deadline, Some(lane), |http| {
                post_json(http, url.as_str(), body)
            })
            .await?;
        Ok(Receipt {
            channel: created.channel_id.unwrap_or_default(),
            message_id: created.id,
        })
    }

    async fn call<T: DeserializeOwned>(
        &self,
        deadline: Deadline,
        lane: Option<Lane<'_>>,
        request: impl Fn(&Client) -> RequestBuilder,
    ) -> Result<T, DeliveryError> {
        with_retries(PROVIDER, deadline, || async {
            let response = (self.pace)
                .send(PROVIDER, lane, request(&self.http), deadline)
                .await?;
            if response.status().is_success() {
                return response
                    .json()
                    .await
                    .map_err(DeliveryError::transport(PROVIDER));
            }
            let error = refusal(response).await;
            if let (Some(lane), DeliveryError::RateLimited { retry_after, .. }) = (lane, &error) {
                self.pace.limited(lane.name, *retry_after, deadline).await;
            }
            Err(error)
        })
        .await
    }
}

/// `Bot <token>`, marked sensitive so that no debug output of the HTTP stack shows it.
fn authorization(token: &SecretString) -> Result<HeaderValue, DeliveryError> {
    let mut auth =
        HeaderValue::try_from(format!("Bot {}", token.expose_secret())).map_err(|_| {
            DeliveryError::Api {
                provider: PROVIDER,
                code: "token is not a valid header value".into(),
                refusal: Refusal::Credential,
            }
        })?;
    auth.set_sensitive(true);
    Ok(auth)
}

/// A POST of a body serialized once, for each attempt.
fn post_json(http: &Client, url: &str, body: &Bytes) -> RequestBuilder {
    http.post(url)
        .header(CONTENT_TYPE, "application/json")
        .body(body.clone())
}

async fn refusal(response: Response) -> DeliveryError {
    let status = response.status().as_u16();
    let header_wait = retry_after_header(response.headers());
    let body: ApiError = response.json().await.unwrap_or_default();
    let api = |code: String, refusal| DeliveryError::Api {
        provider: PROVIDER,
        code,
        refusal,
    };
    match status {
        429 => DeliveryError::RateLimited {
            provider: PROVIDER,
            retry_after: body
                .retry_after
                .and_then(seconds)
                .or(header_wait)
                .unwrap_or(Duration::from_secs(1)),
        },
        401 => api(
            "401 Unauthorized (check the bot token)".into(),
            Refusal::Credential,
        ),
        400..=499 => api(
            format!("{status} code {}: {}", body.code, body.message),
            if DESTINATION_CODES.contains(&body.code) {
                Refusal::Destination
            } else if WEBHOOK_CODES.contains(&body.code) {
                Refusal::Credential
            } else if body.code == UNKNOWN_MESSAGE {
                Refusal::Gone
            } else if body.code == INVALID_FORM_BODY {
                Refusal::Invalid
            } else {
                Refusal::Permanent
            },
        ),
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
    let mut value = key.bytes().fold(OFFSET, |hash, byte| {
        (hash ^ u128::from(byte)).wrapping_mul(PRIME)
    });
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
        let general = nonce("rack-0f2a#discord:#100000000000000001");
        assert_ne!(general, nonce("rack-0f2a#discord:#100000000000000002"));
        // A fixed value: a changed hash would let a retry across a deploy post twice.
        assert_eq!(general, "a13tjmh0geabss9s09in8sufk");
        assert!(general.len() <= NONCE_MAX);
        assert_eq!(nonce(""), nonce(""));
    }
}
