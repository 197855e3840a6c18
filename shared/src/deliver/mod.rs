//! Delivery: a small trait over the providers' HTTP APIs, their errors, and what every transport shares
//! (credentials that rotate, retries within the deadline, a channel's pace).

pub mod discord;
mod http;
mod pace;
mod provider;
mod retry;
pub mod slack;

#[cfg(test)]
pub mod recording;

use std::future::Future;
use std::time::Duration;

use secrecy::SecretString;

pub use http::{HttpClientError, USER_AGENT};
pub use pace::{Lane, Pace};
pub use provider::{ProviderMessenger, Transports};

use crate::deadline::Deadline;
use crate::destination::{Destination, Mention, Provider, Receipt};
use crate::ledger::LedgerError;
use crate::lifecycle::Root;
use crate::notification::Notification;
use crate::params::{ParameterError, Parameters};
use crate::render::Form;
use crate::secret::Secret;

/// One message for one destination: what it says, whom it pings, and the delivery's identity.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    pub note: &'a Notification,
    /// From the route that chose the destination; never from the event.
    pub mentions: &'a [Mention],
    /// The delivery's key, which Discord's `nonce` is made of; `None` without one.
    pub key: Option<&'a str>,
    pub form: Form,
}

/// Sends `message` with `send`, and once more as plain text when the provider refuses it as invalid
/// (Slack `invalid_blocks`, Discord 50035), so that a rendering bug never loses an event.
pub async fn or_as_plain_text<'a, T, Fut>(
    to: &Destination,
    message: Message<'a>,
    send: impl Fn(Message<'a>) -> Fut,
) -> Result<T, DeliveryError>
where
    Fut: Future<Output = Result<T, DeliveryError>>,
{
    match send(message).await {
        Err(error) if error.refusal() == Some(Refusal::Invalid) && message.form != Form::Plain => {
            tracing::error!(destination = %to, %error, "message refused as invalid; sending it as plain text");
            send(Message {
                form: Form::Plain,
                ..message
            })
            .await
        }
        other => other,
    }
}

/// Posts to one destination, retrying what may pass, until `deadline`; edits and replies under a live
/// message's root (destinations that [`can_edit`](Destination::can_edit)).
pub trait Messenger: Sync {
    fn post(
        &self,
        to: &Destination,
        message: &Message<'_>,
        deadline: Deadline,
    ) -> impl Future<Output = Result<Receipt, DeliveryError>> + Send;

    /// Replaces the root's content; `Refusal::Gone` when the root was deleted.
    fn edit(
        &self,
        to: &Destination,
        root: &Root,
        message: &Message<'_>,
        deadline: Deadline,
    ) -> impl Future<Output = Result<(), DeliveryError>> + Send;

    /// Starts the root's thread where replies need one first (Discord), returning its id.
    fn open_thread(
        &self,
        to: &Destination,
        root: &Root,
        name: &str,
        deadline: Deadline,
    ) -> impl Future<Output = Result<Option<String>, DeliveryError>> + Send;

    /// Posts `message` under the root; with `broadcast`, also where the channel shows it (Slack's
    /// `reply_broadcast`, a Discord reply in the channel that links to the root).
    fn reply(
        &self,
        to: &Destination,
        root: &Root,
        message: &Message<'_>,
        broadcast: bool,
        deadline: Deadline,
    ) -> impl Future<Output = Result<Receipt, DeliveryError>> + Send;
}

/// How a provider's refusal should be handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The destination is unusable (unknown channel, user who cannot be messaged): use the default channel.
    Destination,
    /// The token or webhook URL was refused: read it again, it may have been rotated.
    Credential,
    /// The message itself was refused as malformed: send it again as plain text.
    Invalid,
    /// Retrying cannot help (missing scope, forbidden action).
    Permanent,
    /// The provider asks to try again.
    Transient,
    /// The message to edit or reply to was deleted.
    Gone,
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
    /// The credential was refused and reading it again gave nothing new.
    #[error("{provider} refused the credential in {origin} (`{code}`); rotate it there")]
    CredentialRefused {
        provider: Provider,
        origin: String,
        code: String,
    },
    #[error("{provider} rate limit: asked to retry after {retry_after:?}")]
    RateLimited {
        provider: Provider,
        retry_after: Duration,
    },
    #[error("{provider} answered HTTP {status}")]
    Http { provider: Provider, status: u16 },
    /// Connection, TLS, timeout or body errors; the text never holds a URL, which may be a webhook's secret.
    #[error("{provider} request failed: {reason}")]
    Transport {
        provider: Provider,
        reason: String,
        /// The request may have reached the provider (a timeout or reset after connecting).
        sent: bool,
    },
    #[error("{provider}: not enough time left before the invocation's deadline")]
    Deadline { provider: Provider },
    #[error("{provider}: cannot read the credential: {source}")]
    Credential {
        provider: Provider,
        source: ParameterError,
    },
    #[error("{provider}: {what} is not configured for this stack")]
    Unconfigured {
        provider: Provider,
        what: &'static str,
    },
    #[error("{provider}: the message cannot be written as JSON: {source}")]
    Message {
        provider: Provider,
        #[source]
        source: serde_json::Error,
    },
    /// A live message's state could not be read or written (or another invocation held it too long).
    #[error("live message state: {source}")]
    Thread { source: LedgerError },
    /// A clear failure after an attempt whose outcome was not: that one may have posted.
    #[error("{last} (an earlier attempt may have posted)")]
    AfterUnclear { last: Box<DeliveryError> },
}

impl DeliveryError {
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api { refusal, .. } => *refusal == Refusal::Transient,
            Self::RateLimited { .. }
            | Self::Transport { .. }
            | Self::Credential { .. }
            | Self::Thread { .. } => true,
            Self::Http { status, .. } => *status >= 500,
            Self::AfterUnclear { last } => last.is_retryable(),
            Self::Deadline { .. }
            | Self::Message { .. }
            | Self::CredentialRefused { .. }
            | Self::Unconfigured { .. } => false,
        }
    }

    /// No time was left to send: a later invocation can still deliver.
    pub fn ran_out_of_time(&self) -> bool {
        match self {
            Self::Deadline { .. } => true,
            Self::AfterUnclear { last } => last.ran_out_of_time(),
            _ => false,
        }
    }

    /// The request may have reached the provider and posted: a retry could post twice.
    pub fn is_unclear(&self) -> bool {
        match self {
            Self::Transport { sent, .. } => *sent,
            Self::Http { status, .. } => *status >= 500,
            // Slack: "it's possible some aspect of the operation succeeded" (fatal_error, request_timeout).
            Self::Api { refusal, code, .. } => {
                *refusal == Refusal::Transient && code != "ratelimited"
            }
            Self::AfterUnclear { .. } => true,
            _ => false,
        }
    }

    pub fn refusal(&self) -> Option<Refusal> {
        match self {
            Self::Api { refusal, .. } => Some(*refusal),
            Self::AfterUnclear { last } => last.refusal(),
            _ => None,
        }
    }

    /// The provider's code, for the records of a refused destination.
    pub fn code(&self) -> String {
        match self {
            Self::Api { code, .. } | Self::CredentialRefused { code, .. } => code.clone(),
            other => other.to_string(),
        }
    }

    /// The destination itself failed: the message can still go to the default channel.
    pub fn is_destination_problem(&self) -> bool {
        self.refusal() == Some(Refusal::Destination)
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// For `map_err`: a request to `provider` that failed on the way. The URL is left out of the text:
    /// a webhook's URL is its secret.
    fn transport(provider: Provider) -> impl Fn(reqwest::Error) -> Self {
        move |error| Self::Transport {
            provider,
            sent: !error.is_connect() && !error.is_builder(),
            reason: error.without_url().to_string(),
        }
    }
}

/// Runs `send` with the credential in `secret`; when the provider refuses it, reads the parameter again
/// once and, if it changed (rotated), sends again with the new value. Otherwise the error names where
/// the credential lives, never the credential.
pub(crate) async fn with_credential<T, F, Fut>(
    provider: Provider,
    secret: &Secret,
    parameters: &impl Parameters,
    deadline: Deadline,
    send: F,
) -> Result<T, DeliveryError>
where
    F: Fn(SecretString) -> Fut,
    Fut: Future<Output = Result<T, DeliveryError>>,
{
    let credential = |source| DeliveryError::Credential { provider, source };
    let current = secret.get(parameters, deadline).await.map_err(credential)?;
    let refused = match send(current.clone()).await {
        Err(error) if error.refusal() == Some(Refusal::Credential) => error,
        other => return other,
    };
    match secret.refresh(parameters, &current, deadline).await {
        Ok(Some(rotated)) => {
            tracing::info!(%provider, origin = %secret.origin(), "credential refused; sending again with the rotated one");
            send(rotated).await
        }
        Ok(None) => Err(DeliveryError::CredentialRefused {
            provider,
            origin: secret.origin(),
            code: refused.code(),
        }),
        Err(source) => Err(credential(source)),
    }
}
