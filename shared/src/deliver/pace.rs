//! Pacing of one container's posts to a channel that rate-limited it: Slack allows about one message per
//! second per channel, and a container that keeps to that stops adding to the 429s other containers get.
//!
//! Pacing starts with a 429 and ends after a quiet `PACED_FOR`, so bursts that Slack lets through (it
//! allows short ones) are never slowed down before Slack says so.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::retry::{ATTEMPT_MIN, DEADLINE_MARGIN};

/// Slack's documented pace for posting to one channel.
const SPACING: Duration = Duration::from_secs(1);
/// How long after its last 429 a channel stays paced.
const PACED_FOR: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
pub(crate) struct Pacer {
    lanes: Mutex<HashMap<String, Lane>>,
}

#[derive(Debug, Clone, Copy)]
struct Lane {
    limited_at: Instant,
    not_before: Instant,
}

impl Pacer {
    /// When this container may post to `channel` next, if it is being paced.
    fn not_before(&self, channel: &str) -> Option<Instant> {
        let lanes = self.lock();
        let lane = lanes.get(channel)?;
        (lane.limited_at.elapsed() < PACED_FOR).then_some(lane.not_before)
    }

    /// Waits for `channel`'s next slot, unless that is too late to post before `deadline`: then the post
    /// goes now and the provider decides.
    pub(crate) async fn wait(&self, channel: &str, deadline: Instant) {
        if let Some(slot) = self.not_before(channel)
            && slot + DEADLINE_MARGIN + ATTEMPT_MIN <= deadline
        {
            tokio::time::sleep_until(slot).await;
        }
    }

    /// The provider refused a post to `channel` for `retry_after`.
    pub(crate) fn limited(&self, channel: &str, retry_after: Duration) {
        let now = Instant::now();
        let mut lanes = self.lock();
        // Lanes of channels quiet for a while go, so the map never grows past the busy channels.
        lanes.retain(|_, lane| lane.limited_at.elapsed() < PACED_FOR);
        lanes.insert(
            channel.to_owned(),
            Lane {
                limited_at: now,
                not_before: now + retry_after,
            },
        );
    }

    /// A post to `channel` went through; a paced channel's next slot is `SPACING` away.
    pub(crate) fn posted(&self, channel: &str) {
        if let Some(lane) = self.lock().get_mut(channel) {
            lane.not_before = Instant::now() + SPACING;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Lane>> {
        // A poisoned lock only means another thread panicked mid-update; the map is still usable.
        self.lanes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_rate_limited_channel_is_paced() {
        let pacer = Pacer::default();
        pacer.posted("general");
        assert_eq!(pacer.not_before("general"), None, "no 429 yet: no pacing");

        let before = Instant::now();
        pacer.limited("general", Duration::from_secs(3));
        let slot = pacer.not_before("general").unwrap();
        assert!(slot >= before + Duration::from_secs(3));
        assert_eq!(pacer.not_before("deploys"), None);

        pacer.posted("general");
        let slot = pacer.not_before("general").unwrap();
        assert!(slot > Instant::now() && slot <= Instant::now() + SPACING);
    }
}
