//! The rack event inside an EventBridge envelope, parsed and checked without I/O.

use std::collections::BTreeMap;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The id of an event whose envelope has none.
pub const NO_ID: &str = "(no id)";

/// What a rack says happened, with the EventBridge id that names this delivery of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RackEvent {
    pub id: String,
    pub action: String,
    pub status: Status,
    pub data: BTreeMap<String, String>,
    /// When it happened: the rack's `timestamp`, else the envelope's `time`.
    pub timestamp: Option<DateTime<Utc>>,
    /// What identifies the rack's event however often it was delivered (see [`RackEvent::key`]).
    key: Option<String>,
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
    pub fn parse(raw: Option<&str>) -> Self {
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

impl RackEvent {
    /// Reads an invocation's payload, the EventBridge event as JSON text.
    pub fn from_json(raw: &str) -> Result<Self, EventError> {
        let payload = serde_json::from_str(raw).map_err(|e| EventError {
            event_id: NO_ID.to_owned(),
            problem: format!("not JSON: {e}"),
        })?;
        Self::from_eventbridge(payload)
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
        let detail = match envelope.detail {
            Value::Object(detail) => detail,
            Value::Null => return Err(fail("has no `detail`".into())),
            other => {
                return Err(fail(format!(
                    "`detail` is {}, expected an object",
                    kind_of(&other)
                )));
            }
        };
        let payload = Payload::read(&detail).map_err(|problem| fail(problem.in_field("detail")))?;
        let key = payload.key();
        let timestamp = payload
            .timestamp
            .as_deref()
            .and_then(parse_timestamp)
            .or(envelope.time);
        Ok(Self {
            id: event_id,
            action: payload.action.trim().to_owned(),
            status: Status::parse(payload.status.as_deref()),
            data: payload.data,
            timestamp,
            key,
        })
    }

    /// What names this rack event in the delivery records: derived from the rack's payload (action,
    /// status, timestamp and data), so that two deliveries of the same payload are one event however they
    /// reached the bus; the EventBridge id for a payload without a timestamp, which could not tell two
    /// events with the same data apart. `None` when neither exists: such an event is never deduplicated.
    pub fn key(&self) -> Option<&str> {
        self.key
            .as_deref()
            .or(Some(self.id.as_str()).filter(|id| !id.trim().is_empty() && *id != NO_ID))
    }

    /// A non-blank data value, trimmed.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.data.get(key).and_then(|value| non_blank(value))
    }

    /// The data's non-blank values with their keys, in key order, each read as [`get`](Self::get) reads it.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.data
            .iter()
            .filter_map(|(key, value)| Some((key.as_str(), non_blank(value)?)))
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

/// The payload a rack sends, `{action, status, timestamp, data}`: the body of its webhook and the
/// `detail` of its EventBridge event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    pub action: String,
    pub status: Option<String>,
    /// As sent: a rack event's identity uses the text, not its reading.
    pub timestamp: Option<String>,
    pub data: BTreeMap<String, String>,
}

/// What is wrong with a payload, and in which of its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadError {
    Missing(&'static str),
    Invalid { field: String, problem: String },
}

impl PayloadError {
    fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            problem: problem.into(),
        }
    }

    /// The problem with its field named under `root` (`detail.data.count`).
    pub fn in_field(&self, root: &str) -> String {
        match self {
            Self::Missing(field) => format!("has no `{root}.{field}`"),
            Self::Invalid { field, problem } => format!("`{root}.{field}` {problem}"),
        }
    }
}

impl Payload {
    /// Reads a payload's fields; `data` values must be strings (null ones are dropped).
    pub fn read(payload: &Map<String, Value>) -> Result<Self, PayloadError> {
        let action = match payload.get("action") {
            Some(Value::String(action)) if !action.trim().is_empty() => action.clone(),
            Some(Value::String(_)) => return Err(PayloadError::invalid("action", "is empty")),
            None | Some(Value::Null) => return Err(PayloadError::Missing("action")),
            Some(other) => {
                return Err(PayloadError::invalid(
                    "action",
                    format!("is {}, expected a string", kind_of(other)),
                ));
            }
        };
        let text = |field: &str| match payload.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(other) => Err(PayloadError::invalid(
                field,
                format!("is {}, expected a string", kind_of(other)),
            )),
        };
        let status = text("status")?;
        let timestamp = match payload.get("timestamp") {
            // Any other type is as good as no timestamp: the envelope's time stands in.
            Some(Value::String(timestamp)) => Some(timestamp.clone()),
            _ => None,
        };
        let data = match payload.get("data") {
            None | Some(Value::Null) => BTreeMap::new(),
            Some(Value::Object(map)) => map
                .iter()
                .filter(|(_, value)| !value.is_null())
                .map(|(key, value)| match value {
                    Value::String(text) => Ok((key.clone(), text.clone())),
                    other => Err(PayloadError::invalid(
                        format!("data.{key}"),
                        format!("is {}; rack data values are strings", kind_of(other)),
                    )),
                })
                .collect::<Result<_, _>>()?,
            Some(other) => {
                return Err(PayloadError::invalid(
                    "data",
                    format!("is {}, expected an object", kind_of(other)),
                ));
            }
        };
        Ok(Self {
            action,
            status,
            timestamp,
            data,
        })
    }

    /// A SHA-256 of the payload in a canonical form (its fields and data keys in order, as JSON), or
    /// `None` without a timestamp. Whitespace and key order in the sent JSON do not change it.
    pub fn key(&self) -> Option<String> {
        let timestamp = self.timestamp.as_deref()?;
        let canonical = serde_json::json!([self.action, self.status, timestamp, self.data]);
        let digest = Sha256::digest(canonical.to_string().as_bytes());
        Some(format!("rack-{}", hex::encode(&digest[..16])))
    }
}

/// `value` trimmed, unless nothing is left of it: a blank data value counts as absent.
fn non_blank(value: &str) -> Option<&str> {
    Some(value.trim()).filter(|value| !value.is_empty())
}

/// The rack's RFC 3339 `timestamp`; one that does not parse is as good as none.
pub fn parse_timestamp(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw.trim())
        .ok()
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

    fn parse(payload: Value) -> Result<RackEvent, EventError> {
        RackEvent::from_json(&payload.to_string())
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
            "data": {"rack": "production", "app": "web", "id": "R1", "message": "rollback", "x": null}
        })))
        .unwrap();
        assert_eq!(event.id, "ev-1");
        assert_eq!(event.status, Status::Error);
        assert_eq!(event.rack(), Some("production"));
        assert_eq!(event.app(), Some("web"));
        assert_eq!(event.data.len(), 4, "null values are dropped");
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
        let resource = parse(envelope(json!({
            "action": "resource:create", "data": {"rack": "staging", "name": "db"}
        })))
        .unwrap();
        assert_eq!(resource.app(), None);
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
                envelope(json!({"action": 7})),
                "event ev-1: `detail.action` is a number, expected a string",
            ),
            (
                json!("hello"),
                "event (no id): expected an EventBridge event object, got a string",
            ),
        ];
        for (payload, expected) in cases {
            assert_eq!(parse(payload).unwrap_err().to_string(), expected);
        }
        let error = parse(json!({"id": "ev-2", "detail": {"action": "a"}})).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("event ev-2: not an EventBridge event: missing field"),
            "{error}"
        );
    }

    #[test]
    fn the_same_payload_is_one_event_whatever_its_envelope_or_layout() {
        let detail = json!({"action": "release:promote", "status": "success",
            "timestamp": "2026-11-22T18:43:48Z", "data": {"rack": "production", "app": "web"}});
        let first = parse(envelope(detail.clone())).unwrap();
        let mut again = envelope(json!({"data": {"app": "web", "rack": "production"},
            "timestamp": "2026-11-22T18:43:48Z", "status": "success", "action": "release:promote"}));
        again["id"] = "another-eventbridge-id".into();
        let again = parse(again).unwrap();
        assert_eq!(first.key(), again.key());
        assert!(first.key().unwrap().starts_with("rack-"));

        let mut other = detail.clone();
        other["data"]["app"] = "api".into();
        assert_ne!(parse(envelope(other)).unwrap().key(), first.key());
        let mut later = detail;
        later["timestamp"] = "2026-11-22T18:43:49Z".into();
        assert_ne!(parse(envelope(later)).unwrap().key(), first.key());
    }

    #[test]
    fn without_a_timestamp_the_eventbridge_id_names_the_event() {
        let event = parse(envelope(json!({"action": "app:create"}))).unwrap();
        assert_eq!(event.key(), Some("ev-1"));
        let mut anonymous = envelope(json!({"action": "app:create"}));
        anonymous.as_object_mut().unwrap().remove("id");
        assert_eq!(parse(anonymous).unwrap().key(), None);
    }

    #[test]
    fn any_timestamp_text_is_read_or_ignored_never_refused() {
        for (raw, year) in [
            ("0001-01-01T00:00:00Z", Some(1)),
            ("9999-12-31T23:59:59Z", Some(9999)),
            ("yesterday", None),
        ] {
            let event = parse(envelope(json!({"action": "app:create", "timestamp": raw}))).unwrap();
            use chrono::Datelike;
            let got = event.timestamp.map(|t| t.year());
            assert_eq!(
                got,
                year.or(Some(2026)),
                "{raw}: the envelope's time stands in"
            );
        }
    }
}
