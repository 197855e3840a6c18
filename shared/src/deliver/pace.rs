//! A channel's pace, shared by every container through the ledger's lanes: each post takes the channel's
//! next slot, so a burst through many containers drains at the provider's rate instead of in 429s.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::{RequestBuilder, Response};

use super::DeliveryError;
use super::retry::{ATTEMPT_MIN, attempt_timeout};
use crate::deadline::Deadline;
use crate::destination::Provider;
use crate::ledger::Lanes;
use crate::metrics::{Metric, count};

/// Slack allows about one message per second per channel and Discord five per five seconds; a little
/// more than a second apart keeps both with room for the time a post takes on the way.
pub const SPACING: Duration = Duration::from_millis(1_050);
/// Slack's `chat.update` is Tier 3, about 50 a minute for the workspace.
pub const UPDATE_SPACING: Duration = Duration::from_millis(1_250);

/// A schedule to keep: the lane's name and how far apart its posts go.
#[derive(Debug, Clone, Copy)]
pub struct Lane<'a> {
    pub name: &'a str,
    pub spacing: Duration,
}

impl<'a> Lane<'a> {
    /// A channel's lane: one post a `SPACING`.
    pub fn channel(name: &'a str) -> Self {
        Self {
            name,
            spacing: SPACING,
        }
    }
}

#[derive(Debug)]
pub struct Pace<L> {
    lanes: Arc<L>,
}

impl<L> Clone for Pace<L> {
    fn clone(&self) -> Self {
        Self {
            lanes: self.lanes.clone(),
        }
    }
}

impl<L: Lanes> Pace<L> {
    pub fn new(lanes: Arc<L>) -> Self {
        Self { lanes }
    }

    /// Sends one attempt of `request`, in `lane`'s turn when it has one, bounded by the deadline.
    pub(crate) async fn send(
        &self,
        provider: Provider,
        lane: Option<Lane<'_>>,
        request: RequestBuilder,
        deadline: Deadline,
    ) -> Result<Response, DeliveryError> {
        if let Some(lane) = lane {
            self.wait(provider, lane, deadline).await?;
        }
        request
            .timeout(attempt_timeout(provider, deadline)?)
            .send()
            .await
            .map_err(DeliveryError::transport(provider))
    }

    /// Waits for `lane`'s next slot. With no slot before the deadline, fails as rate limited without a
    /// request; with the schedule unreadable, posts now and lets the provider decide.
    pub(crate) async fn wait(
        &self,
        provider: Provider,
        lane: Lane<'_>,
        deadline: Deadline,
    ) -> Result<(), DeliveryError> {
        if deadline.left() < ATTEMPT_MIN {
            return Err(DeliveryError::Deadline { provider });
        }
        let latest = SystemTime::now() + deadline.left().saturating_sub(ATTEMPT_MIN);
        let lane_name = lane.name;
        match self
            .lanes
            .reserve(lane_name, lane.spacing, latest, deadline)
            .await
        {
            Ok(Some(slot)) => {
                if let Ok(wait) = slot.duration_since(SystemTime::now()) {
                    tokio::time::sleep(wait).await;
                }
                Ok(())
            }
            Ok(None) => Err(DeliveryError::RateLimited {
                provider,
                retry_after: deadline.left(),
            }),
            Err(error) => {
                tracing::warn!(lane = lane_name, %error, "channel schedule unavailable; posting unpaced");
                Ok(())
            }
        }
    }

    /// The provider refused a post to `lane` for `retry_after`: no container posts there before then.
    pub(crate) async fn limited(&self, lane: &str, retry_after: Duration, deadline: Deadline) {
        count(Metric::RetriedOn429);
        let until = SystemTime::now() + retry_after;
        if let Err(error) = self.lanes.hold(lane, until, deadline).await {
            tracing::warn!(lane, %error, "could not share the rate limit with other containers");
        }
    }
}
