//! What an invocation answers: the report of what was delivered where, or the error Lambda retries.

use lambda_runtime::Diagnostic;
use serde::Serialize;

use crate::config::ConfigError;
use crate::deliver::{DeliveryError, HttpClientError};
use crate::destination::Destination;
use crate::event::EventError;
use crate::once::OnceError;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("configuration error: {0}")]
    Config(#[from] ConfigError),
    #[error("cannot build the HTTP client: {0}")]
    Http(#[from] HttpClientError),
}

/// Why an invocation failed; Lambda then retries it and, in the end, records it on the failure queue.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Event(#[from] EventError),
    #[error("event {event_id}: delivery to {destination} failed: {source}")]
    Delivery {
        event_id: String,
        destination: Destination,
        source: OnceError,
    },
    /// Nothing was posted: the delivery records could not say whether it had been.
    #[error("event {event_id}: {source}")]
    Records { event_id: String, source: OnceError },
}

impl From<NotifyError> for Diagnostic {
    fn from(error: NotifyError) -> Self {
        let error_type = match &error {
            NotifyError::Event(_) => "InvalidEvent",
            NotifyError::Records {
                source: OnceError::InProgress { .. },
                ..
            } => "DeliveryInProgress",
            NotifyError::Records { .. } => "DeduplicationUnavailable",
            NotifyError::Delivery { source, .. } => match source {
                OnceError::Post(DeliveryError::Credential { .. }) => "TokenUnavailable",
                OnceError::Post(error) if error.is_retryable() || error.ran_out_of_time() => {
                    "DeliveryUnavailable"
                }
                _ => "DeliveryRefused",
            },
        };
        Diagnostic {
            error_type: error_type.to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// The function's response: what was delivered where, or why nothing was posted.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Report {
    pub event_id: String,
    pub action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// The first destination's delivery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered: Option<Delivered>,
    /// The other destinations' deliveries, when routes fan an event out.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<Delivered>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Delivered {
    /// Where the message went, as configured (`#channel`, `@user`, `webhook /param`).
    pub destination: String,
    pub provider: &'static str,
    pub rule: String,
    pub channel: String,
    pub message_id: String,
    /// The destination the routes chose, when it refused and the default channel took the message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirected_from: Option<String>,
    /// An earlier invocation of this event already posted it; `channel` and `message_id` are that post's.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub duplicate: bool,
}
