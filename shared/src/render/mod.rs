//! Native renderings of a notification: Slack Block Kit and Discord embeds. Pure, no I/O.

pub mod discord;
pub mod slack;

use crate::notification::Tone;

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
