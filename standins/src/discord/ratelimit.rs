//! Discord's per-channel rate-limit bucket for creating messages, with its headers and its 429 answer.

use std::time::Duration;

use serde_json::json;

use super::answer::Answer;
use crate::window::{RateLimit, Taken, Windows, retry_after_secs};

/// `limit` messages per `per` in each channel.
pub type DiscordRateLimit = RateLimit;

/// Discord's create-message bucket: 5 per 5 seconds in each channel.
pub(super) const CREATE_MESSAGE_LIMIT: RateLimit = RateLimit {
    limit: 5,
    per: Duration::from_secs(5),
};

pub(super) enum Verdict {
    Allowed(Vec<(&'static str, String)>),
    Limited(Answer),
}

#[derive(Default)]
pub(super) struct Buckets(Windows);

impl Buckets {
    pub(super) fn new(limit: Option<RateLimit>) -> Self {
        Self(Windows::new(limit))
    }

    pub(super) fn take(&mut self, channel: &str) -> Verdict {
        match self.0.take(channel) {
            None => Verdict::Allowed(Vec::new()),
            Some(Taken::Allowed {
                limit,
                remaining,
                reset_after,
            }) => Verdict::Allowed(headers(channel, limit, remaining, reset_after)),
            Some(Taken::Limited { limit, reset_after }) => {
                let mut answer = too_many(reset_after.as_secs_f64(), false);
                answer
                    .headers
                    .extend(headers(channel, limit, 0, reset_after));
                Verdict::Limited(answer)
            }
        }
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
            retry_after_secs(Duration::from_secs_f64(retry_after)).to_string(),
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
