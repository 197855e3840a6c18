//! The invocation's deadline, with the margins every awaited call keeps from it, in one place.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

/// Kept back from Lambda's deadline so that a failure can still be reported before Lambda ends the
/// invocation as a timeout, which would name nothing.
pub const REPORT_MARGIN: Duration = Duration::from_millis(500);
/// Lambda's longest timeout; a deadline further away than this cannot be Lambda's.
const LAMBDA_TIMEOUT_MAX: Duration = Duration::from_secs(900);
/// The budget an invocation gets when the deadline it was given cannot be real: the stack's timeout.
pub const FALLBACK_BUDGET: Duration = Duration::from_secs(30);

/// When the invocation must have answered, on the monotonic clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Deadline(Instant);

/// An awaited call that did not finish before its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no answer before the invocation's deadline")]
pub struct Elapsed;

impl Deadline {
    /// `budget` from now.
    pub fn after(budget: Duration) -> Self {
        Self(Instant::now() + budget)
    }

    /// The deadline Lambda gives in epoch milliseconds. One that cannot be real (already past when the
    /// event arrives, or further away than Lambda's longest timeout, as local emulators send) is replaced
    /// by [`FALLBACK_BUDGET`] and logged once per process: failing the event for it would help nobody.
    pub fn from_epoch_millis(deadline_ms: u64) -> Self {
        let now = SystemTime::now();
        let deadline = UNIX_EPOCH + Duration::from_millis(deadline_ms);
        match deadline.duration_since(now) {
            Ok(left) if left <= LAMBDA_TIMEOUT_MAX => Self::after(left),
            _ => {
                static WARNED: AtomicBool = AtomicBool::new(false);
                if !WARNED.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        deadline_ms,
                        fallback_seconds = FALLBACK_BUDGET.as_secs(),
                        "the invocation's deadline cannot be real (a local emulator's?); using a fallback budget"
                    );
                }
                Self::after(FALLBACK_BUDGET)
            }
        }
    }

    /// The time left for work, the report margin already kept back.
    pub fn left(self) -> Duration {
        self.work_until().saturating_duration_since(Instant::now())
    }

    /// This deadline, or `budget` from now if that comes sooner.
    pub fn within(self, budget: Duration) -> Self {
        self.min(Self(Instant::now() + budget + REPORT_MARGIN))
    }

    /// A deadline `reserve` earlier, so that what comes after a call still has that much time.
    pub fn less(self, reserve: Duration) -> Self {
        Self(self.0.checked_sub(reserve).unwrap_or(self.0))
    }

    /// The deadline as a wall-clock time, for leases other processes read.
    pub fn wall_clock(self) -> SystemTime {
        SystemTime::now() + self.0.saturating_duration_since(Instant::now())
    }

    /// Whether something that takes `duration` and starts at `at` ends in time.
    pub fn fits(self, at: Instant, duration: Duration) -> bool {
        at + duration <= self.work_until()
    }

    /// Runs `call`, giving up when the work time ends.
    pub async fn bound<F: Future>(self, call: F) -> Result<F::Output, Elapsed> {
        tokio::time::timeout_at(self.work_until(), call)
            .await
            .map_err(|_| Elapsed)
    }

    fn work_until(self) -> Instant {
        self.0.checked_sub(REPORT_MARGIN).unwrap_or(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epoch_millis(time: SystemTime) -> u64 {
        time.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
    }

    #[tokio::test]
    async fn a_real_deadline_is_kept() {
        let deadline =
            Deadline::from_epoch_millis(epoch_millis(SystemTime::now() + Duration::from_secs(10)));
        let left = deadline.left();
        assert!(left > Duration::from_secs(9) && left <= Duration::from_secs(10) - REPORT_MARGIN);
    }

    #[tokio::test]
    async fn a_deadline_that_cannot_be_real_gets_the_fallback() {
        // What cargo-lambda's emulator sends: its timeout in milliseconds, read as an epoch time.
        for deadline_ms in [600_000, 0, epoch_millis(SystemTime::now()) + 3_600_000] {
            let left = Deadline::from_epoch_millis(deadline_ms).left();
            assert!(
                left > FALLBACK_BUDGET - Duration::from_secs(1) && left <= FALLBACK_BUDGET,
                "{deadline_ms}: {left:?}"
            );
        }
    }

    #[tokio::test]
    async fn budgets_and_reserves_only_ever_shorten_it() {
        let deadline = Deadline::after(Duration::from_secs(10));
        assert!(deadline.within(Duration::from_secs(2)).left() <= Duration::from_secs(2));
        assert_eq!(deadline.within(Duration::from_secs(60)), deadline);
        assert!(deadline.less(Duration::from_secs(1)).left() <= Duration::from_secs(9));
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_past_the_deadline_is_cut_off() {
        let deadline = Deadline::after(Duration::from_secs(1));
        let slow = tokio::time::sleep(Duration::from_secs(5));
        assert_eq!(deadline.bound(slow).await, Err(Elapsed));
        assert_eq!(
            Deadline::after(Duration::from_secs(5))
                .bound(async { 7 })
                .await,
            Ok(7)
        );
    }
}
