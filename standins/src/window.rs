//! A fixed-window rate limit, `limit` calls per `per` for each key: Discord's per-channel buckets and
//! Slack's per-workspace method tiers both count this way.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// At most `limit` calls per `per`.
#[derive(Clone, Copy, Debug)]
pub struct RateLimit {
    pub limit: u32,
    pub per: Duration,
}

/// What one call got from its window.
pub(crate) enum Taken {
    Allowed {
        limit: u32,
        remaining: u32,
        reset_after: Duration,
    },
    Limited {
        limit: u32,
        reset_after: Duration,
    },
}

#[derive(Default)]
pub(crate) struct Windows {
    limit: Option<RateLimit>,
    windows: HashMap<String, (Instant, u32)>,
}

impl Windows {
    pub(crate) fn new(limit: Option<RateLimit>) -> Self {
        Self {
            limit,
            windows: HashMap::new(),
        }
    }

    /// Counts one call against `key`'s window; `None` when the limit is off.
    pub(crate) fn take(&mut self, key: &str) -> Option<Taken> {
        let limit = self.limit?;
        let now = Instant::now();
        let (start, used) = self.windows.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(*start) >= limit.per {
            (*start, *used) = (now, 0);
        }
        let reset_after = limit.per.saturating_sub(now.duration_since(*start));
        if *used >= limit.limit {
            return Some(Taken::Limited {
                limit: limit.limit,
                reset_after,
            });
        }
        *used += 1;
        Some(Taken::Allowed {
            limit: limit.limit,
            remaining: limit.limit - *used,
            reset_after,
        })
    }
}

/// Whole seconds for a `Retry-After` header: rounded up, and never 0, which would invite a retry at once.
pub(crate) fn retry_after_secs(wait: Duration) -> u64 {
    (wait.as_secs_f64().ceil() as u64).max(1)
}
