//! Retries of transient failures, honouring the provider's `Retry-After`, always within the deadline.

use std::future::Future;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use tokio::time::Instant;

use super::DeliveryError;
use crate::config::Provider;

/// Time kept back from the deadline so the function can still report its result to Lambda.
const DEADLINE_MARGIN: Duration = Duration::from_millis(500);
/// No single request waits longer than this, however much time the invocation has.
const REQUEST_TIMEOUT_MAX: Duration = Duration::from_secs(10);
/// Below this, an attempt cannot usefully start.
const ATTEMPT_MIN: Duration = Duration::from_millis(50);

/// The timeout for an attempt starting now, or `Deadline` when too little time is left.
pub(crate) fn attempt_timeout(
    provider: Provider,
    deadline: Instant,
) -> Result<Duration, DeliveryError> {
    let left = deadline
        .saturating_duration_since(Instant::now())
        .saturating_sub(DEADLINE_MARGIN);
    if left < ATTEMPT_MIN {
        Err(DeliveryError::Deadline { provider })
    } else {
        Ok(left.min(REQUEST_TIMEOUT_MAX))
    }
}

/// Runs `attempt` until it succeeds, fails for good, or the next wait would pass the deadline.
pub(crate) async fn with_retries<T, F, Fut>(
    provider: Provider,
    deadline: Instant,
    attempt: F,
) -> Result<T, DeliveryError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, DeliveryError>>,
{
    let backoff = ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(250))
        .with_max_delay(Duration::from_secs(8))
        .with_max_times(6)
        .with_jitter();
    attempt
        .retry(backoff)
        .sleep(tokio::time::sleep)
        .when(DeliveryError::is_retryable)
        .adjust(move |error, backoff_delay| {
            // A bounded number of attempts; the provider's own wait wins over our backoff; giving up
            // early beats a wait that would pass the deadline.
            let wait = error.retry_after().unwrap_or(backoff_delay?);
            (Instant::now() + wait + DEADLINE_MARGIN + ATTEMPT_MIN <= deadline).then_some(wait)
        })
        .notify(move |error, wait| tracing::warn!(%provider, %error, ?wait, "retrying"))
        .await
}
