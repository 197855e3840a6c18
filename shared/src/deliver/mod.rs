//! Delivery: a small trait over the providers' HTTP APIs, their errors, and retries within the deadline.

pub mod discord;
mod pace;
mod retry;
pub mod slack;

#[cfg(test)]
pub mod recording;

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use secrecy::SecretString;
use tokio::time::Instant;

use crate::config::{Config, Provider};
use crate::notification::Notification;
use crate::route::Destination;

/// What the provider says it posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The channel the message landed in, as the provider names it (a DM's channel for users).
    pub channel: String,
    /// Slack's `ts` or Discord's message id.
    pub message_id: String,
}

/// Posts one notification to one destination, retrying what may pass, until `deadline`.
pub trait Messenger: Sync {
    fn post(
        &self,
        token: &SecretString,
        to: &Destination,
        note: &Notification,
        deadline: Instant,
    ) -> impl Future<Output = Result<Receipt, DeliveryError>> + Send;
}

/// How a provider's refusal should be handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The destination is unusable (unknown channel, user who cannot be messaged): use the default channel.
    Destination,
    /// Retrying cannot help (bad token, missing scope, malformed message).
    Permanent,
    /// The provider asks to try again.
    Transient,
}

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The provider answered and refused: Slack's `ok: false`, Discord's JSON error codes.
    #[error("{provider} API error `{code}`")]
    Api {
        provider: Provider,
        code: String,
        refusal: Refusal,
    },
    #[error("{provider} rate limit: asked to retry after {retry_after:?}")]
    RateLimited {
        provider: Provider,
        retry_after: Duration,
    },
    #[error("{provider} answered HTTP {status}")]
    Http { provider: Provider, status: u16 },
    /// Connection, TLS, timeout or body errors; reqwest's text names the URL, which holds no secret.
    #[error("{provider} request failed: {source}")]
    Transport {
        provider: Provider,
        #[source]
        source: reqwest::Error,
    },
    #[error("{provider}: not enough time left before the invocation's deadline")]
    Deadline { provider: Provider },
    #[error("{provider}: the message cannot be written as JSON: {source}")]
    Message {
        provider: Provider,
        #[source]
        source: serde_json::Error,
    },
}

impl DeliveryError {
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api { refusal, .. } => *refusal == Refusal::Transient,
            Self::RateLimited { .. } | Self::Transport { .. } => true,
            Self::Http { status, .. } => *status >= 500,
            Self::Deadline { .. } | Self::Message { .. } => false,
        }
    }

    /// The destination itself failed: the message can still go to the default channel.
    pub fn is_destination_problem(&self) -> bool {
        matches!(
            self,
            Self::Api {
                refusal: Refusal::Destination,
                ..
            }
        )
    }

    /// For `map_err`: a request to `provider` that failed on the way.
    fn transport(provider: Provider) -> impl Fn(reqwest::Error) -> Self {
        move |source| Self::Transport { provider, source }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }
}

/// The configured provider's messenger, built once per container.
#[derive(Debug)]
pub enum ProviderMessenger {
    Slack(Box<slack::SlackMessenger>),
    Discord(discord::DiscordMessenger),
}

impl ProviderMessenger {
    pub fn new(config: &Config) -> Result<Self, HttpClientError> {
        let http = http_client()?;
        Ok(match config.provider {
            Provider::Slack => {
                Self::Slack(Box::new(slack::SlackMessenger::new(http, &config.api_url)?))
            }
            Provider::Discord => {
                Self::Discord(discord::DiscordMessenger::new(http, &config.api_url))
            }
        })
    }
}

impl Messenger for ProviderMessenger {
    async fn post(
        &self,
        token: &SecretString,
        to: &Destination,
        note: &Notification,
        deadline: Instant,
    ) -> Result<Receipt, DeliveryError> {
        match self {
            Self::Slack(slack) => slack.post(token, to, note, deadline).await,
            Self::Discord(discord) => discord.post(token, to, note, deadline).await,
        }
    }
}

/// Discord requires a `DiscordBot (url, version)` agent; Slack accepts any.
pub const USER_AGENT: &str = concat!(
    "DiscordBot (",
    env!("CARGO_PKG_REPOSITORY"),
    ", ",
    env!("CARGO_PKG_VERSION"),
    ")"
);

/// One client per container: its pool keeps the provider's connection alive across invocations.
fn http_client() -> Result<reqwest::Client, HttpClientError> {
    Ok(reqwest::Client::builder()
        .tls_backend_preconfigured(tls_config()?)
        .user_agent(USER_AGENT)
        .connect_timeout(Duration::from_secs(3))
        .pool_idle_timeout(Duration::from_secs(60))
        // The APIs never redirect; a redirect would be a misconfigured URL, not a place to send the token.
        .redirect(reqwest::redirect::Policy::none())
        // Retries are ours, within the invocation's deadline (`retry.rs`); reqwest's own would copy every
        // request in case it is needed again.
        .retry(reqwest::retry::never().max_retries_per_request(0))
        .build()?)
}

/// TLS with Mozilla's root certificates compiled in: rustls would otherwise read and parse the system's
/// certificate files when the client is built, two thirds of a cold start.
fn tls_config() -> Result<rustls::ClientConfig, rustls::Error> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tls)
}

#[derive(Debug, thiserror::Error)]
pub enum HttpClientError {
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    #[error(transparent)]
    Client(#[from] reqwest::Error),
    #[error("`{url}` is not a URL: {source}")]
    Url {
        url: String,
        source: url::ParseError,
    },
}

/// A method's URL under the API's `base`, parsed once at start rather than on every request.
fn endpoint(base: &str, method: &str) -> Result<reqwest::Url, HttpClientError> {
    let url = format!("{base}/{method}");
    reqwest::Url::parse(&url).map_err(|source| HttpClientError::Url { url, source })
}

/// Room for a message's JSON body: most are 1–4 KiB, and serde_json would start at 128 bytes and double,
/// copying the body four or five times.
const BODY_CAPACITY: usize = 4096;

/// A request's JSON body, serialized once and shared by all its attempts.
fn json_body(provider: Provider, value: &impl serde::Serialize) -> Result<Bytes, DeliveryError> {
    let mut body = Vec::with_capacity(BODY_CAPACITY);
    serde_json::to_writer(&mut body, value)
        .map_err(|source| DeliveryError::Message { provider, source })?;
    Ok(body.into())
}

/// Reads a `Retry-After` header in seconds; providers send whole or fractional seconds.
fn retry_after_header(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let raw = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    seconds(raw.trim().parse().ok()?)
}

fn seconds(value: f64) -> Option<Duration> {
    (value.is_finite() && value >= 0.0).then(|| Duration::from_secs_f64(value.min(3600.0)))
}

pub(crate) use retry::{attempt_timeout, with_retries};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_builds_with_compiled_in_roots_and_speaks_http1() {
        let tls = tls_config().expect("a TLS configuration");
        assert_eq!(tls.alpn_protocols, vec![b"http/1.1".to_vec()]);
        assert!(http_client().is_ok());
    }

    #[test]
    fn endpoints_are_parsed_once_and_named_when_wrong() {
        let url = endpoint("https://slack.com/api", "chat.postMessage").expect("a URL");
        assert_eq!(url.as_str(), "https://slack.com/api/chat.postMessage");
        let error = endpoint("no scheme", "chat.postMessage").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("`no scheme/chat.postMessage` is not a URL")
        );
    }
}
