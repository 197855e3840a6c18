//! Retries of transient failures, honouring the provider's `Retry-After`, always within the deadline.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use tokio::time::Instant;

use super::DeliveryError;
use crate::deadline::Deadline;
use crate::destination::Provider;

/// No single request waits longer than this, however much time the invocation has.
const REQUEST_TIMEOUT_MAX: Duration = Duration::from_secs(10);
/// Below this, an attempt cannot usefully start.
pub(crate) const ATTEMPT_MIN: Duration = Duration::from_millis(50);

/// The timeout for an attempt starting now, or `Deadline` when too little time is left.
pub(crate) fn attempt_timeout(
    provider: Provider,
    deadline: Deadline,
) -> Result<Duration, DeliveryError> {
    let left = deadline.left();
    if left < ATTEMPT_MIN {
        Err(DeliveryError::Deadline { provider })
    } else {
        Ok(left.min(REQUEST_TIMEOUT_MAX))
    }
}

/// Runs `attempt` until it succeeds, fails for good, or the next wait would pass the deadline. A clear
/// failure after an unclear one is reported as possibly posted.
pub(crate) async fn with_retries<T, F, Fut>(
    provider: Provider,
    deadline: Deadline,
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
    let unclear = AtomicBool::new(false);
    let result = attempt
        .retry(backoff)
        .sleep(tokio::time::sleep)
        .when(DeliveryError::is_retryable)
        .adjust(|error, backoff_delay| {
            if error.is_unclear() {
                unclear.store(true, Ordering::Relaxed);
            }
            // The provider's own wait wins over our backoff; giving up early beats a wait that would
            // pass the deadline.
            let wait = error.retry_after().unwrap_or(backoff_delay?);
            deadline
                .fits(Instant::now(), wait + ATTEMPT_MIN)
                .then_some(wait)
        })
        .notify(|error, wait| tracing::warn!(%provider, %error, ?wait, "retrying"))
        .await;
    result.map_err(|last| {
        if unclear.load(Ordering::Relaxed) && !last.is_unclear() {
            DeliveryError::AfterUnclear {
                last: Box::new(last),
            }
        } else {
            last
        }
    })
}
