//! The HTTP client every transport shares, and the small readings of requests and answers they share.

use std::time::Duration;

use bytes::Bytes;

use super::DeliveryError;
use crate::destination::Provider;

/// Discord requires a `DiscordBot (url, version)` agent; Slack accepts any.
pub const USER_AGENT: &str = concat!(
    "DiscordBot (",
    env!("CARGO_PKG_REPOSITORY"),
    ", ",
    env!("CARGO_PKG_VERSION"),
    ")"
);

#[derive(Debug, thiserror::Error)]
pub enum HttpClientError {
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    #[error(transparent)]
    Client(#[from] reqwest::Error),
    #[error("`{url}` is not a URL: {problem}")]
    Url { url: String, problem: String },
}

/// One client per container: its pool keeps the provider's connection alive across invocations.
pub(crate) fn client() -> Result<reqwest::Client, HttpClientError> {
    Ok(reqwest::Client::builder()
        .tls_backend_preconfigured(tls_config()?)
        .user_agent(USER_AGENT)
        .connect_timeout(Duration::from_secs(3))
        .pool_idle_timeout(Duration::from_secs(60))
        // The APIs never redirect; a redirect would be a misconfigured URL, not a place to send the token.
        .redirect(reqwest::redirect::Policy::none())
        // Retries are ours, within the invocation's deadline (`retry.rs`).
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

/// A method's URL under the API's `base`, parsed once at start.
pub(crate) fn endpoint(base: &str, method: &str) -> Result<reqwest::Url, HttpClientError> {
    let url = format!("{base}/{method}");
    reqwest::Url::parse(&url).map_err(|problem| HttpClientError::Url {
        url,
        problem: problem.to_string(),
    })
}

/// A request's JSON body, serialized once and shared by all its attempts.
pub(crate) fn json_body(
    provider: Provider,
    value: &impl serde::Serialize,
) -> Result<Bytes, DeliveryError> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|source| DeliveryError::Message { provider, source })
}

/// Reads a `Retry-After` header in seconds; providers send whole or fractional seconds.
pub(crate) fn retry_after_header(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let raw = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    seconds(raw.trim().parse().ok()?)
}

pub(crate) fn seconds(value: f64) -> Option<Duration> {
    (value.is_finite() && value >= 0.0).then(|| Duration::from_secs_f64(value.min(3600.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_builds_with_compiled_in_roots_and_speaks_http1() {
        let tls = tls_config().expect("a TLS configuration");
        assert_eq!(tls.alpn_protocols, vec![b"http/1.1".to_vec()]);
        assert!(client().is_ok());
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
