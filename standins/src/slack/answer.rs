//! How the Slack stand-in writes an answer: Web API methods in JSON, in Slack's field order; incoming
//! webhooks in plain text.

use serde_json::{Value, json};
use wiremock::ResponseTemplate;

pub(super) enum Body {
    Json(Value),
    Text(String),
    Empty,
}

pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) retry_after: Option<u64>,
    pub(super) body: Body,
}

impl Answer {
    pub(super) fn ok(body: Value) -> Self {
        let mut body = body;
        body["ok"] = json!(true);
        Self::json(200, body)
    }

    fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            retry_after: None,
            body: Body::Json(body),
        }
    }

    /// Slack reports a method's failures as HTTP 200 with `ok:false`.
    pub(super) fn error(code: &str) -> Self {
        Self::json(200, json!({"ok": false, "error": code}))
    }

    pub(super) fn error_because(code: &str, message: &str) -> Self {
        let mut answer = Self::error(code);
        if let Body::Json(body) = &mut answer.body {
            body["response_metadata"] = json!({ "messages": [message] });
        }
        answer
    }

    pub(super) fn rate_limited(secs: u64) -> Self {
        Self::json(429, json!({"ok": false, "error": "ratelimited"})).with_retry_after(secs)
    }

    /// A plain-text answer, as incoming webhooks give.
    pub(super) fn text(status: u16, text: &str) -> Self {
        Self {
            status,
            retry_after: None,
            body: Body::Text(text.into()),
        }
    }

    pub(super) fn empty(status: u16) -> Self {
        Self {
            status,
            retry_after: None,
            body: Body::Empty,
        }
    }

    pub(super) fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// The error code a failed answer carries: `error` of `ok:false`, or a webhook's refusal text.
    pub(super) fn error_code(&self) -> Option<&str> {
        match &self.body {
            Body::Json(body) => body.get("error").and_then(Value::as_str),
            Body::Text(text) if self.status >= 400 => Some(text),
            _ => None,
        }
    }

    pub(super) fn into_template(self) -> ResponseTemplate {
        let template = ResponseTemplate::new(self.status);
        let template = match self.retry_after {
            Some(secs) => template.insert_header("Retry-After", secs.to_string()),
            None => template,
        };
        match self.body {
            Body::Json(body) => {
                template.set_body_raw(in_slacks_order(&body), "application/json; charset=utf-8")
            }
            Body::Text(text) => template.set_body_raw(text, "text/plain; charset=utf-8"),
            Body::Empty => template,
        }
    }
}

/// An answer as Slack writes it: `ok` (or `error`) first, then the method's fields, and the echoed
/// `message` after them, which is what a client reading only the start of an answer relies on.
fn in_slacks_order(body: &Value) -> Vec<u8> {
    const FIRST: [&str; 5] = ["ok", "error", "channel", "ts", "text"];
    let mut out = Vec::new();
    let mut writer = serde_json::Serializer::new(&mut out);
    let written = match body {
        Value::Object(map) => {
            let first = FIRST.iter().filter_map(|key| map.get_key_value(*key));
            let rest = map.iter().filter(|(key, _)| !FIRST.contains(&key.as_str()));
            serde::Serializer::collect_map(&mut writer, first.chain(rest))
        }
        other => serde::Serialize::serialize(other, &mut writer),
    };
    written.expect("JSON values serialize");
    out
}
