//! Retries of transient failures, honouring the provider's `Retry-After`, always within the deadline.

use std::future::Future;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use tokio::time::Instant;

use super::DeliveryError;
use crate::config::Provider;

/// Time kept back from the deadline so the function can still report its result to Lambda.
pub(crate) const DEADLINE_MARGIN: Duration = Duration::from_millis(500);
/// No single request waits longer than this, however much time the invocation has.
const REQUEST_TIMEOUT_MAX: Duration = Duration::from_secs(10);
/// Below this, an attempt cannot usefully start.
pub(crate) const ATTEMPT_MIN: Duration = Duration::from_millis(50);

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
    let mut rate_limits = 0;
    attempt
        .retry(backoff)
        .sleep(tokio::time::sleep)
        .when(DeliveryError::is_retryable)
        .adjust(move |error, backoff_delay| {
            // A bounded number of attempts; the provider's own wait wins over our backoff; giving up
            // early beats a wait that would pass the deadline.
            let backoff_delay = backoff_delay?;
            let wait = match error.retry_after() {
                Some(asked) => {
                    rate_limits += 1;
                    spread(asked, rate_limits)
                }
                None => backoff_delay,
            };
            (Instant::now() + wait + DEADLINE_MARGIN + ATTEMPT_MIN <= deadline).then_some(wait)
        })
        .notify(move |error, wait| tracing::warn!(%provider, %error, ?wait, "retrying"))
        .await
}

/// The wait after the `nth` rate limit in a row: never less than the provider asked, doubled for each
/// repeat up to 4x, and spread at random over up to as much again. Containers limited by the same
/// channel then come back one after another instead of all at once, each taking the next free slot.
fn spread(asked: Duration, nth: u32) -> Duration {
    let doubled = asked.saturating_mul(1 << nth.saturating_sub(1).min(2));
    doubled.saturating_add(doubled.mul_f64(fastrand::f64()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_waits_grow_and_spread_but_never_undercut_the_provider() {
        let asked = Duration::from_secs(1);
        for (nth, low) in [(1, 1), (2, 2), (3, 4), (9, 4)] {
            for _ in 0..100 {
                let wait = spread(asked, nth);
                let low = Duration::from_secs(low);
                assert!(wait >= low && wait < low * 2, "{nth}: {wait:?}");
            }
        }
        assert_eq!(spread(Duration::ZERO, 1), Duration::ZERO);
    }
}
