//! The rack event inside an EventBridge envelope, parsed and checked without I/O.

use std::collections::BTreeMap;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The id of an event whose envelope has none; such events are never deduplicated.
pub const NO_ID: &str = "(no id)";

/// What a rack says happened, with the EventBridge id that names this delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RackEvent {
    pub id: String,
    pub action: String,
    pub status: Status,
    pub data: BTreeMap<String, String>,
    /// When it happened: the rack's `timestamp`, else the envelope's `time`.
    pub timestamp: Option<DateTime<Utc>>,
}

/// The rack's `status`; racks send `success` when they say nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Success,
    Error,
    Start,
    Cancelled,
    Skipped,
    Other(String),
}

impl Status {
    fn parse(raw: Option<&str>) -> Self {
        match raw.map(str::trim) {
            None | Some("") | Some("success") => Self::Success,
            Some("error") | Some("failed") | Some("failure") => Self::Error,
            Some("start") | Some("started") => Self::Start,
            Some("cancelled") | Some("canceled") => Self::Cancelled,
            Some("skipped") => Self::Skipped,
            Some(other) => Self::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Success => "success",
            Self::Error => "error",
            Self::Start => "start",
            Self::Cancelled => "cancelled",
            Self::Skipped => "skipped",
            Self::Other(other) => other,
        }
    }
}

/// Why an invocation's payload is not a rack event; always names the event.
#[derive(Debug, thiserror::Error)]
#[error("event {event_id}: {problem}")]
pub struct EventError {
    pub event_id: String,
    pub problem: String,
}

/// The rack's payload as a well-formed event has it: read straight from the text, without a JSON tree.
#[derive(Deserialize, Serialize)]
struct Detail {
    action: String,
    status: Option<String>,
    data: Option<BTreeMap<String, Option<String>>>,
    timestamp: Option<String>,
}

impl RackEvent {
    /// Reads an invocation's payload, the EventBridge event as JSON text. A well-formed event is read in
    /// one typed pass; anything else is read again as a JSON tree by [`Self::from_eventbridge`], which
    /// accepts the same events and says what is wrong with the others.
    pub fn from_json(raw: &str) -> Result<Self, EventError> {
        let typed = serde_json::from_str::<EventBridgeEvent<Detail>>(raw)
            .ok()
            .filter(|envelope| !envelope.detail.action.trim().is_empty());
        let Some(envelope) = typed else {
            let payload = serde_json::from_str(raw).map_err(|e| EventError {
                event_id: NO_ID.to_owned(),
                problem: format!("not JSON: {e}"),
            })?;
            return Self::from_eventbridge(payload);
        };
        let detail = envelope.detail;
        let data = detail
            .data
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(key, value)| Some((key, value?)))
            .collect();
        Ok(Self {
            id: envelope.id.unwrap_or_else(|| NO_ID.to_owned()),
            action: detail.action.trim().to_owned(),
            status: Status::parse(detail.status.as_deref()),
            data,
            timestamp: parse_timestamp(detail.timestamp.as_deref()).or(envelope.time),
        })
    }

    /// Reads an EventBridge event whose `detail` is the rack's payload `{action, status, data, timestamp}`.
    pub fn from_eventbridge(payload: Value) -> Result<Self, EventError> {
        let event_id = payload
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or(NO_ID)
            .to_owned();
        let fail = |problem: String| EventError {
            event_id: event_id.clone(),
            problem,
        };
        if !payload.is_object() {
            return Err(fail(format!(
                "expected an EventBridge event object, got {}",
                kind_of(&payload)
            )));
        }
        let envelope: EventBridgeEvent<Value> = serde_json::from_value(payload)
            .map_err(|e| fail(format!("not an EventBridge event: {e}")))?;
        let mut detail = match envelope.detail {
            Value::Object(detail) => detail,
            Value::Null => return Err(fail("has no `detail`".into())),
            other => {
                return Err(fail(format!(
                    "`detail` is {}, expected an object",
                    kind_of(&other)
                )));
            }
        };
        let action = match detail.get("action") {
            Some(Value::String(action)) if !action.trim().is_empty() => action.trim().to_owned(),
            Some(Value::String(_)) => return Err(fail("`detail.action` is empty".into())),
            None | Some(Value::Null) => return Err(fail("has no `detail.action`".into())),
            Some(other) => {
                return Err(fail(format!(
                    "`detail.action` is {}, expected a string",
                    kind_of(other)
                )));
            }
        };
        let status = match detail.get("status") {
            None | Some(Value::Null) => Status::Success,
            Some(Value::String(status)) => Status::parse(Some(status)),
            Some(other) => {
                return Err(fail(format!(
                    "`detail.status` is {}, expected a string",
                    kind_of(other)
                )));
            }
        };
        let data = match detail.remove("data") {
            None | Some(Value::Null) => BTreeMap::new(),
            Some(Value::Object(map)) => map
                .into_iter()
                .filter(|(_, value)| !value.is_null())
                .map(|(key, value)| match value {
                    Value::String(text) => Ok((key, text)),
                    other => Err(fail(format!(
                        "`detail.data.{key}` is {}; rack data values are strings",
                        kind_of(&other)
                    ))),
                })
                .collect::<Result<_, _>>()?,
            Some(other) => {
                return Err(fail(format!(
                    "`detail.data` is {}, expected an object",
                    kind_of(&other)
                )));
            }
        };
        let timestamp =
            parse_timestamp(detail.get("timestamp").and_then(Value::as_str)).or(envelope.time);
        Ok(Self {
            id: event_id,
            action,
            status,
            data,
            timestamp,
        })
    }

    /// A non-blank data value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.data
            .get(key)
            .map(|value| value.trim())
            .filter(|value| !value.is_empty())
    }

    /// The rack's name, which is the environment.
    pub fn rack(&self) -> Option<&str> {
        self.get("rack")
    }

    /// `app:create` and `app:delete` name the app in `name`; every other event in `app`.
    pub fn app(&self) -> Option<&str> {
        self.get("app").or_else(|| {
            self.action
                .starts_with("app:")
                .then(|| self.get("name"))
                .flatten()
        })
    }
}

/// The rack's RFC 3339 `timestamp`; one that does not parse is as good as none.
fn parse_timestamp(raw: Option<&str>) -> Option<DateTime<Utc>> {
    raw.and_then(|ts| DateTime::parse_from_rfc3339(ts).ok())
        .map(|ts| ts.with_timezone(&Utc))
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn envelope(detail: Value) -> Value {
        json!({"version": "0", "id": "ev-1", "source": "convox.rack", "detail-type": "x",
               "account": "1", "time": "2026-11-22T18:43:48Z", "region": "us-east-1",
               "resources": [], "detail": detail})
    }

    /// Reads `payload` from its text, as the functions do, after checking that the tree gives the same.
    fn parse(payload: Value) -> Result<RackEvent, EventError> {
        let from_text = RackEvent::from_json(&payload.to_string());
        let from_tree = RackEvent::from_eventbridge(payload);
        assert_eq!(
            format!("{from_text:?}"),
            format!("{from_tree:?}"),
            "text and tree disagree"
        );
        from_text
    }

    #[test]
    fn text_that_is_not_json_says_so() {
        let error = RackEvent::from_json("{\"id\": \"ev-3\",").unwrap_err();
        assert!(
            error.to_string().starts_with("event (no id): not JSON: "),
            "{error}"
        );
    }

    #[test]
    fn reads_a_promote() {
        let event = parse(envelope(json!({
            "action": "release:promote", "status": "error", "timestamp": "2026-11-22T18:43:48Z",
            "data": {"rack": "production", "app": "web", "id": "R1", "message": "rollback"}
        })))
        .unwrap();
        assert_eq!(event.id, "ev-1");
        assert_eq!(event.status, Status::Error);
        assert_eq!(event.rack(), Some("production"));
        assert_eq!(event.app(), Some("web"));
    }

    #[test]
    fn app_events_name_the_app_in_name() {
        let event = parse(envelope(json!({
            "action": "app:create", "data": {"rack": "staging", "name": "billing"}
        })))
        .unwrap();
        assert_eq!(event.app(), Some("billing"));
        assert_eq!(event.status, Status::Success);
        assert_eq!(
            event.timestamp.unwrap().to_rfc3339(),
            "2026-11-22T18:43:48+00:00"
        );
    }

    #[test]
    fn resource_name_is_not_an_app() {
        let event = parse(envelope(json!({
            "action": "resource:create", "data": {"rack": "staging", "name": "db"}
        })))
        .unwrap();
        assert_eq!(event.app(), None);
    }

    #[test]
    fn errors_name_the_event_and_the_field() {
        let cases = [
            (envelope(Value::Null), "event ev-1: has no `detail`"),
            (
                envelope(json!({"status": "success"})),
                "event ev-1: has no `detail.action`",
            ),
            (
                envelope(json!({"action": "app:create", "data": {"count": 3}})),
                "event ev-1: `detail.data.count` is a number; rack data values are strings",
            ),
            (
                envelope(json!({"action": "app:create", "data": ["x"]})),
                "event ev-1: `detail.data` is an array, expected an object",
            ),
            (
                json!("hello"),
                "event (no id): expected an EventBridge event object, got a string",
            ),
        ];
        for (payload, expected) in cases {
            let error = parse(payload).unwrap_err();
            assert_eq!(error.to_string(), expected);
        }
    }

    #[test]
    fn a_missing_envelope_field_is_named() {
        let error = parse(json!({"id": "ev-2", "detail": {"action": "a"}})).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("event ev-2: not an EventBridge event: missing field"),
            "{error}"
        );
    }
}
