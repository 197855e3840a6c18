//! The rack event inside an EventBridge envelope, parsed and checked without I/O.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;

/// The id of an event whose envelope has none; such events are never deduplicated.
pub const NO_ID: &str = "(no id)";

/// What a rack says happened, with the EventBridge id that names this delivery. Its text is borrowed
/// from the invocation's payload where it can be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RackEvent<'a> {
    pub id: Cow<'a, str>,
    pub action: Cow<'a, str>,
    pub status: Status,
    pub data: BTreeMap<Cow<'a, str>, Cow<'a, str>>,
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

/// The envelope as a well-formed event has it, read straight from the text without a JSON tree: the
/// fields `EventBridgeEvent` requires, with the types it requires, so that both readings accept the same.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    id: Option<Text<'a>>,
    time: Option<DateTime<Utc>>,
    #[serde(borrow)]
    detail: Detail<'a>,
    // Checked, not kept: an envelope that `EventBridgeEvent` refuses must fail here too.
    #[serde(rename = "version")]
    _version: Option<AString>,
    #[serde(rename = "detail-type")]
    _detail_type: AString,
    #[serde(rename = "source")]
    _source: AString,
    #[serde(rename = "account")]
    _account: Option<AString>,
    #[serde(rename = "region")]
    _region: Option<AString>,
    #[serde(rename = "resources")]
    _resources: Option<Vec<AString>>,
}

/// The rack's payload as a well-formed event has it.
#[derive(Deserialize)]
struct Detail<'a> {
    #[serde(borrow)]
    action: Text<'a>,
    #[serde(borrow)]
    status: Option<Text<'a>>,
    #[serde(borrow)]
    data: Option<Data<'a>>,
    #[serde(borrow)]
    timestamp: Option<Text<'a>>,
}

/// A JSON string, borrowed from the payload's text unless it has escapes to undo. serde's own `Cow`
/// copies every string that sits in an `Option` or a map.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Read;
        impl<'de> Visitor<'de> for Read {
            type Value = Cow<'de, str>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(text))
            }
            fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(text.to_owned()))
            }
            fn visit_string<E>(self, text: String) -> Result<Self::Value, E> {
                Ok(Cow::Owned(text))
            }
        }
        deserializer.deserialize_str(Read).map(Text)
    }
}

/// `detail.data` read straight into the event's map, as the JSON tree reads it: a null value is dropped
/// and a repeated key keeps its last value.
struct Data<'a>(BTreeMap<Cow<'a, str>, Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for Data<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Read<'a>(PhantomData<Data<'a>>);
        impl<'de: 'a, 'a> Visitor<'de> for Read<'a> {
            type Value = Data<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of strings")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut entries: M) -> Result<Data<'a>, M::Error> {
                let mut data = BTreeMap::new();
                while let Some(Text(key)) = entries.next_key()? {
                    match entries.next_value::<Option<Text<'a>>>()? {
                        Some(Text(value)) => data.insert(key, value),
                        None => data.remove(&key),
                    };
                }
                Ok(Data(data))
            }
        }
        deserializer.deserialize_map(Read(PhantomData))
    }
}

/// A JSON string, checked to be one and not kept.
struct AString;

impl<'de> Deserialize<'de> for AString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Text::deserialize(deserializer).map(|_| AString)
    }
}

/// `text` without its surrounding white space, still borrowed if it was.
fn trimmed(text: Cow<'_, str>) -> Cow<'_, str> {
    match text {
        Cow::Borrowed(text) => Cow::Borrowed(text.trim()),
        Cow::Owned(text) if text.trim().len() == text.len() => Cow::Owned(text),
        Cow::Owned(text) => Cow::Owned(text.trim().to_owned()),
    }
}

/// `value` trimmed, unless nothing is left of it: a blank data value counts as absent.
fn non_blank(value: &str) -> Option<&str> {
    Some(value.trim()).filter(|value| !value.is_empty())
}

impl<'a> RackEvent<'a> {
    /// Reads an invocation's payload, the EventBridge event as JSON text. A well-formed event is read in
    /// one typed pass that borrows its text; anything else is read again as a JSON tree by
    /// [`Self::from_eventbridge`], which accepts the same events and says what is wrong with the others.
    pub fn from_json(raw: &'a str) -> Result<Self, EventError> {
        let typed = serde_json::from_str::<Envelope>(raw)
            .ok()
            .filter(|envelope| !envelope.detail.action.0.trim().is_empty());
        let Some(envelope) = typed else {
            let payload = serde_json::from_str(raw).map_err(|e| EventError {
                event_id: NO_ID.to_owned(),
                problem: format!("not JSON: {e}"),
            })?;
            return Self::from_eventbridge(payload);
        };
        let detail = envelope.detail;
        Ok(Self {
            id: envelope.id.map_or(Cow::Borrowed(NO_ID), |id| id.0),
            action: trimmed(detail.action.0),
            status: Status::parse(detail.status.as_ref().map(|status| &*status.0)),
            data: detail.data.map(|data| data.0).unwrap_or_default(),
            timestamp: parse_timestamp(detail.timestamp.as_ref().map(|ts| &*ts.0))
                .or(envelope.time),
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
                    Value::String(text) => Ok((key.into(), text.into())),
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
            id: event_id.into(),
            action: action.into(),
            status,
            data,
            timestamp,
        })
    }

    /// A non-blank data value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.data.get(key).and_then(|value| non_blank(value))
    }

    /// The data's non-blank values with their keys, in key order, each read as [`get`](Self::get) reads it.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.data
            .iter()
            .filter_map(|(key, value)| Some((&**key, non_blank(value)?)))
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

    /// Reads `payload` from its text, as the functions do, and from the tree, and checks that they agree.
    fn parse(payload: Value) -> Result<RackEvent<'static>, EventError> {
        let text = payload.to_string();
        let from_text = RackEvent::from_json(&text);
        let from_tree = RackEvent::from_eventbridge(payload);
        assert_eq!(
            format!("{from_text:?}"),
            format!("{from_tree:?}"),
            "text and tree disagree"
        );
        from_tree
    }

    #[test]
    fn a_repeated_data_key_keeps_its_last_value_as_in_the_tree() {
        let text = r#"{"version": "0", "id": "ev-2", "source": "convox.rack", "detail-type": "x",
            "account": "1", "time": "2026-11-22T18:43:48Z", "region": "us-east-1", "resources": [],
            "detail": {"action": "app:create",
                       "data": {"app": "web", "app": null, "rack": "a", "rack": "b", "x": null}}}"#;
        let from_text = RackEvent::from_json(text).expect("an event");
        let from_tree = RackEvent::from_eventbridge(serde_json::from_str(text).unwrap()).unwrap();
        assert_eq!(from_text, from_tree);
        assert_eq!(from_text.data.len(), 1);
        assert_eq!(from_text.rack(), Some("b"));
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
    fn text_is_borrowed_from_the_payload_unless_it_has_escapes() {
        let payload = envelope(json!({
            "action": "release:promote",
            "data": {"rack": "production", "message": "line one\nline \"two\""}
        }))
        .to_string();
        let event = RackEvent::from_json(&payload).unwrap();
        assert!(matches!(event.id, Cow::Borrowed("ev-1")));
        assert!(matches!(event.action, Cow::Borrowed("release:promote")));
        assert!(matches!(event.data["rack"], Cow::Borrowed("production")));
        assert!(matches!(&event.data["message"], Cow::Owned(m) if m == "line one\nline \"two\""));
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
