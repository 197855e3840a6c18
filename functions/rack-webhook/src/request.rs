//! A Function URL request read into what the receiver checks, and the answers it gives; no I/O.
//!
//! The rack sees only the status: every answer has an empty body, and nothing from the request is
//! echoed back.

use aws_lambda_events::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use base64::Engine;
use serde_json::Value;
use shared::event::{Payload, parse_timestamp};

use crate::signature;

/// EventBridge's limit on an entry, and so on a body: 256 KiB.
pub const MAX_BODY: usize = 256 * 1024;
/// EventBridge's limit on a `DetailType`, which is the rack's action.
const MAX_ACTION_CHARS: usize = 128;
/// A refusal's reason can quote a data key from the body; the log keeps this much of it.
const MAX_REASON_CHARS: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// 202: the event is on the bus.
    Accepted,
    /// 400: not a rack event.
    BadRequest,
    /// 401: no signature where one is required, or one that does not check.
    Unauthorized,
    /// 405: anything but POST.
    MethodNotAllowed,
    /// 413: more than EventBridge takes in an entry.
    TooLarge,
    /// 503: this side failed (the bus, or the signing keys); the rack does not retry.
    Unavailable,
}

impl Answer {
    pub fn status(self) -> u16 {
        match self {
            Self::Accepted => 202,
            Self::BadRequest => 400,
            Self::Unauthorized => 401,
            Self::MethodNotAllowed => 405,
            Self::TooLarge => 413,
            Self::Unavailable => 503,
        }
    }

    /// The Function URL's response: the status and an empty body.
    pub fn response(self) -> LambdaFunctionUrlResponse {
        let mut response = LambdaFunctionUrlResponse::default();
        response.status_code = i64::from(self.status());
        response.body = Some(String::new());
        response
    }
}

/// Why a request was not accepted, for the log; never quotes the body or the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub answer: Answer,
    pub reason: String,
}

impl Refusal {
    pub fn new(answer: Answer, reason: impl Into<String>) -> Self {
        let reason = reason.into();
        let reason = shared::text::truncate(&reason, MAX_REASON_CHARS).into_owned();
        Self { answer, reason }
    }
}

/// A POST within the size limit: its raw body and its `Convox-Signature`, if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub body: Vec<u8>,
    /// Every `Convox-Signature` value, joined with commas as HTTP joins repeated headers.
    pub signature: Option<String>,
}

/// What the bus gets from a rack event: its action, its time, and the body exactly as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event<'a> {
    pub action: String,
    pub time: Option<chrono::DateTime<chrono::Utc>>,
    pub detail: &'a str,
}

impl Request {
    /// Reads the Function URL event: 405 for a method other than POST, 413 for a body over
    /// [`MAX_BODY`], 400 for an event that is not a Function URL request or a body that is not base64
    /// where it says it is.
    pub fn read(event: Value) -> Result<Self, Refusal> {
        let event: LambdaFunctionUrlRequest = serde_json::from_value(event).map_err(|error| {
            Refusal::new(
                Answer::BadRequest,
                format!("not a Function URL request: {error}"),
            )
        })?;
        let method = event.request_context.http.method.as_deref().unwrap_or("");
        if !method.eq_ignore_ascii_case("POST") {
            return Err(Refusal::new(
                Answer::MethodNotAllowed,
                format!(
                    "method {} instead of POST",
                    shared::text::truncate(method, 20)
                ),
            ));
        }
        let text = event.body.unwrap_or_default();
        let body = if event.is_base64_encoded {
            base64::engine::general_purpose::STANDARD
                .decode(text.as_bytes())
                .map_err(|_| Refusal::new(Answer::BadRequest, "the body is not valid base64"))?
        } else {
            text.into_bytes()
        };
        if body.len() > MAX_BODY {
            return Err(Refusal::new(
                Answer::TooLarge,
                format!(
                    "the body is {} bytes, more than the {MAX_BODY} an EventBridge entry takes",
                    body.len()
                ),
            ));
        }
        let values: Vec<String> = event
            .headers
            .get_all(signature::HEADER)
            .iter()
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
            .collect();
        let signature = (!values.is_empty()).then(|| values.join(","));
        Ok(Self { body, signature })
    }

    /// The body as a rack event, read by the notify functions' own rules ([`Payload::read`]): 400 for a
    /// body that is not a JSON object, has no string `action`, or has data values that are not strings.
    pub fn rack_event(&self) -> Result<Event<'_>, Refusal> {
        let bad = |reason: String| Refusal::new(Answer::BadRequest, reason);
        let detail = std::str::from_utf8(&self.body)
            .map_err(|_| bad("the body is not UTF-8 text".into()))?;
        let value: Value = serde_json::from_str(detail)
            .map_err(|error| bad(format!("the body is not JSON: {error}")))?;
        let Value::Object(object) = value else {
            return Err(bad("the body is not a JSON object".into()));
        };
        let payload = Payload::read(&object)
            .map_err(|problem| bad(format!("not a rack event: {}", problem.in_field("body"))))?;
        if payload.action.chars().count() > MAX_ACTION_CHARS {
            return Err(bad(format!(
                "`body.action` is longer than the {MAX_ACTION_CHARS} characters of an EventBridge detail-type"
            )));
        }
        Ok(Event {
            time: payload.timestamp.as_deref().and_then(parse_timestamp),
            action: payload.action,
            detail,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use standins::rack::function_url_event as event;

    use super::*;

    fn refused(event: Value) -> Answer {
        Request::read(event).unwrap_err().answer
    }

    #[test]
    fn reads_body_and_signature_plain_or_base64() {
        let headers = [
            ("Content-Type", "application/json"),
            ("Convox-Signature", "t=1,v1=ab"),
        ];
        for base64 in [false, true] {
            let request = Request::read(event("POST", &headers, b"{}", base64)).unwrap();
            assert_eq!(request.body, b"{}");
            assert_eq!(request.signature.as_deref(), Some("t=1,v1=ab"));
        }
        let unsigned = Request::read(event("post", &[], b"", false)).unwrap();
        assert_eq!(unsigned.signature, None);
        assert!(unsigned.body.is_empty());
    }

    #[test]
    fn method_size_and_shape_are_refused_before_anything_else() {
        for method in ["GET", "PUT", "OPTIONS", ""] {
            assert_eq!(
                refused(event(method, &[], b"{}", false)),
                Answer::MethodNotAllowed
            );
        }
        let big = vec![b' '; MAX_BODY + 1];
        assert_eq!(refused(event("POST", &[], &big, false)), Answer::TooLarge);
        assert_eq!(refused(event("POST", &[], &big, true)), Answer::TooLarge);
        let exact = vec![b' '; MAX_BODY];
        assert!(Request::read(event("POST", &[], &exact, true)).is_ok());
        let mut garbled = event("POST", &[], b"{}", true);
        garbled["body"] = "not base64!".into();
        assert_eq!(refused(garbled), Answer::BadRequest);
        assert_eq!(refused(json!("hello")), Answer::BadRequest);
        assert_eq!(refused(json!({"body": "{}"})), Answer::BadRequest);
    }

    #[test]
    fn the_body_must_be_a_rack_event_as_the_notify_functions_read_it() {
        let read = |body: &[u8]| {
            Request {
                body: body.to_vec(),
                signature: None,
            }
            .rack_event()
            .map(|event| (event.action, event.time.map(|t| t.to_rfc3339())))
            .map_err(|refusal| {
                assert_eq!(refusal.answer, Answer::BadRequest);
                refusal.reason
            })
        };
        let body = br#"{"action":"release:promote","timestamp":"2026-11-22T18:43:48Z","data":{"rack":"production"}}"#;
        assert_eq!(
            read(body),
            Ok((
                "release:promote".into(),
                Some("2026-11-22T18:43:48+00:00".into())
            ))
        );
        assert_eq!(
            read(br#"{"action":"app:create","timestamp":"yesterday"}"#),
            Ok(("app:create".into(), None))
        );
        let cases: [(&[u8], &str); 7] = [
            (b"", "the body is not JSON"),
            (b"\xff\xfe", "the body is not UTF-8 text"),
            (b"[1]", "the body is not a JSON object"),
            (b"{}", "not a rack event: has no `body.action`"),
            (
                br#"{"action":7}"#,
                "not a rack event: `body.action` is a number",
            ),
            (
                br#"{"action":"a","data":{"n":1}}"#,
                "not a rack event: `body.data.n` is a number; rack data values are strings",
            ),
            (
                br#"{"action":"a","status":true}"#,
                "not a rack event: `body.status` is a boolean",
            ),
        ];
        for (body, reason) in cases {
            let got = read(body).unwrap_err();
            assert!(got.starts_with(reason), "{got} for {body:?}");
        }
        let long = format!(r#"{{"action":"{}"}}"#, "a".repeat(129));
        assert!(
            read(long.as_bytes())
                .unwrap_err()
                .contains("128 characters")
        );
    }

    #[test]
    fn answers_are_a_status_and_an_empty_body() {
        let response = serde_json::to_value(Answer::Unauthorized.response()).unwrap();
        assert_eq!(response["statusCode"], 401);
        assert_eq!(response["body"], "");
        assert_eq!(response["headers"], json!({}));
        let reason = Refusal::new(Answer::BadRequest, "x".repeat(1000)).reason;
        assert!(reason.chars().count() <= MAX_REASON_CHARS);
    }
}
