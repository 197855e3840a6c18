//! Native renderings of a notification: Slack Block Kit and Discord embeds. Pure, no I/O.

pub mod discord;
pub mod slack;

use chrono::{DateTime, Datelike, Utc};

use crate::notification::Tone;

/// How much of the rendering to send: everything, or the text alone when the provider refused the full
/// message as invalid, so that an event is never lost to a rendering bug.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Full,
    Plain,
}

/// One palette for both providers, so a failure looks the same wherever it lands.
pub fn color(tone: Tone) -> u32 {
    match tone {
        Tone::Failure => 0xD1_24_2F,
        Tone::Warning => 0xD4_A7_2C,
        Tone::Success => 0x2D_A4_4E,
        Tone::Info => 0x8C_95_9F,
    }
}

pub fn emoji(tone: Tone) -> &'static str {
    match tone {
        Tone::Failure => "🔴",
        Tone::Warning => "🟠",
        Tone::Success => "✅",
        Tone::Info => "🔹",
    }
}

/// Values at most this long sit side by side; longer ones get a line of their own.
const SHORT_VALUE: usize = 40;

pub fn is_short(value: &str) -> bool {
    value.chars().count() <= SHORT_VALUE
}

/// The years both providers' native time displays are trusted with; any other time (a rack can send
/// year 1 or 9999) is shown as text instead of risking a refused message.
const NATIVE_YEARS: std::ops::RangeInclusive<i32> = 1970..=2200;

/// Seconds since the epoch, when `time` is one the providers can show natively.
pub fn native_time(time: &DateTime<Utc>) -> Option<i64> {
    NATIVE_YEARS
        .contains(&time.year())
        .then(|| time.timestamp())
}
