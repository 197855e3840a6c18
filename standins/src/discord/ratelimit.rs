//! Discord's per-channel rate-limit bucket for creating messages, with its headers and its 429 answer.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::json;

use super::handler::Answer;

/// `limit` messages per `per` in each channel; Discord's create-message bucket is 5 per 5 seconds.
#[derive(Clone, Copy, Debug)]
pub struct DiscordRateLimit {
    pub limit: u32,
    pub per: Duration,
}

impl Default for DiscordRateLimit {
    fn default() -> Self {
        Self {
            limit: 5,
            per: Duration::from_secs(5),
        }
    }
}

pub(super) enum Verdict {
    Allowed(Vec<(&'static str, String)>),
    Limited(Answer),
}

#[derive(Default)]
pub(super) struct Buckets {
    limit: Option<DiscordRateLimit>,
    windows: HashMap<String, (Instant, u32)>,
}

impl Buckets {
    pub(super) fn new(limit: Option<DiscordRateLimit>) -> Self {
        Self {
            limit,
            windows: HashMap::new(),
        }
    }

    pub(super) fn take(&mut self, channel: &str) -> Verdict {
        let Some(limit) = self.limit else {
            return Verdict::Allowed(Vec::new());
        };
        let now = Instant::now();
        let (start, used) = self.windows.entry(channel.to_string()).or_insert((now, 0));
        if now.duration_since(*start) >= limit.per {
            (*start, *used) = (now, 0);
        }
        let reset_after = limit.per.saturating_sub(now.duration_since(*start));
        if *used >= limit.limit {
            let mut answer = too_many(reset_after.as_secs_f64(), false);
            answer
                .headers
                .extend(headers(channel, limit.limit, 0, reset_after));
            return Verdict::Limited(answer);
        }
        *used += 1;
        Verdict::Allowed(headers(
            channel,
            limit.limit,
            limit.limit - *used,
            reset_after,
        ))
    }
}

fn headers(
    channel: &str,
    limit: u32,
    remaining: u32,
    reset_after: Duration,
) -> Vec<(&'static str, String)> {
    vec![
        ("X-RateLimit-Limit", limit.to_string()),
        ("X-RateLimit-Remaining", remaining.to_string()),
        (
            "X-RateLimit-Reset-After",
            format!("{:.3}", reset_after.as_secs_f64()),
        ),
        ("X-RateLimit-Bucket", format!("create-message-{channel}")),
    ]
}

/// HTTP 429 as Discord sends it: seconds as a float in the body, whole seconds in `Retry-After`.
pub(super) fn too_many(retry_after: f64, global: bool) -> Answer {
    let retry_after = (retry_after * 1000.0).ceil() / 1000.0;
    let mut answer = Answer::new(
        429,
        json!({"message": "You are being rate limited.", "retry_after": retry_after, "global": global}),
    );
    answer.headers = vec![
        (
            "Retry-After",
            (retry_after.ceil() as u64).max(1).to_string(),
        ),
        (
            "X-RateLimit-Scope",
            if global { "global" } else { "user" }.to_string(),
        ),
    ];
    if global {
        answer
            .headers
            .push(("X-RateLimit-Global", "true".to_string()));
    }
    answer
}
