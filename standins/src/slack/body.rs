//! What Slack checks in a message body however it arrives (`chat.postMessage`, `chat.update`, an
//! incoming webhook): its text and Block Kit, its `thread_ts`, and the product's rule against
//! `link_names` and `parse`.

use serde_json::Value;

use super::answer::Answer;
use super::blocks;

// Slack's documented ceiling for `text`, the notification fallback.
const MAX_TEXT: usize = 40_000;

/// Why a body is turned down.
pub(super) enum Refusal {
    /// `link_names` or `parse`: both turn user text into pings, so the product must never send them.
    Forbidden(&'static str),
    NoText,
    TooLong,
    Blocks(String),
    /// A `thread_ts` that is not a timestamp at all (one that names no message is accepted).
    ThreadTs(String),
}

impl Refusal {
    pub(super) fn code(&self) -> &'static str {
        match self {
            Self::Forbidden(_) => "invalid_arguments",
            Self::NoText => "no_text",
            Self::TooLong => "msg_too_long",
            Self::Blocks(_) => "invalid_blocks",
            Self::ThreadTs(_) => "invalid_thread_ts",
        }
    }

    /// The refusal as a Web API method answers it.
    pub(super) fn answer(&self) -> Answer {
        match self {
            Self::Forbidden(field) => Answer::error_because(
                self.code(),
                &format!("stand-in rule: `{field}` must never be sent"),
            ),
            Self::Blocks(why) => Answer::error_because(self.code(), why),
            Self::ThreadTs(ts) => Answer::error_because(
                self.code(),
                &format!("[ERROR] {ts} is not a valid thread_ts"),
            ),
            Self::NoText | Self::TooLong => Answer::error(self.code()),
        }
    }
}

pub(super) fn check_arguments(body: &Value) -> Result<(), Refusal> {
    for forbidden in ["link_names", "parse"] {
        if body.get(forbidden).is_some() {
            return Err(Refusal::Forbidden(forbidden));
        }
    }
    Ok(())
}

/// `text` is required (it is the notification fallback) and bounded; blocks keep Block Kit's limits.
pub(super) fn check_content(body: &Value) -> Result<(), Refusal> {
    let text = body["text"].as_str().unwrap_or_default();
    if text.is_empty() {
        return Err(Refusal::NoText);
    }
    if text.chars().count() > MAX_TEXT {
        return Err(Refusal::TooLong);
    }
    blocks::validate_message(body).map_err(Refusal::Blocks)
}

/// The thread a post names, as Slack reads it: a number is taken by its text, which is how a float
/// `thread_ts` loses its trailing zeros and names no message.
pub(super) fn thread_ts(body: &Value) -> Result<Option<String>, Refusal> {
    let ts = match body.get("thread_ts") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(ts)) => ts.clone(),
        Some(other) => other.to_string(),
    };
    let well_formed = ts.split_once('.').is_some_and(|(secs, fraction)| {
        [secs, fraction]
            .iter()
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
    });
    if well_formed {
        Ok(Some(ts))
    } else {
        Err(Refusal::ThreadTs(ts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn thread_ts_is_read_as_text() {
        let read = |value: Value| thread_ts(&json!({ "thread_ts": value })).ok().flatten();
        assert_eq!(
            read(json!("1602251441.001700")).as_deref(),
            Some("1602251441.001700")
        );
        // A float has no trailing zeros, so the ts it was meant to carry becomes one naming no message.
        assert_eq!(
            read(json!(1_602_251_441.001_7)).as_deref(),
            Some("1602251441.0017")
        );
        assert_eq!(read(Value::Null), None);
        assert!(
            matches!(thread_ts(&json!({"thread_ts": 0})), Err(Refusal::ThreadTs(ts)) if ts == "0")
        );
        assert!(thread_ts(&json!({"thread_ts": ".5"})).is_err());
    }
}
