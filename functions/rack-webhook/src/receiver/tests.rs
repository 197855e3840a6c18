//! The receiver over an in-memory bus and in-memory parameters: every answer, the keys' reads, and a
//! property over any request.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proptest::prelude::*;
use serde_json::{Value, json};
use shared::params::MemoryParameters;

use super::*;
use crate::bus::BusError;
use crate::bus::memory::MemoryBus;
use standins::rack::{function_url_event as event, signature as sign};

const KEYS: &str = "/rack-notifications/signing-keys";
const KEY: &str = "whsec-current";
/// 2026-11-22T18:43:48Z, the function's clock in these tests.
const NOW: u64 = 1_795_373_028;
const BODY: &str = r#"{"action":"release:promote","status":"success","timestamp":"2026-11-22T18:43:48Z","data":{"rack":"production","app":"web","id":"R1"}}"#;

struct Setup {
    receiver: Receiver<MemoryBus, MemoryParameters>,
}

fn settings(keys_parameter: Option<&str>, allow_unsigned: bool) -> Settings {
    Settings {
        bus: "rack-events".into(),
        source: "convox.rack".into(),
        keys_parameter: keys_parameter.map(str::to_owned),
        allow_unsigned,
    }
}

/// A receiver whose keys parameter holds `keys` (`None`: the parameter does not exist).
fn setup(keys: Option<&str>, allow_unsigned: bool) -> Setup {
    let parameters = MemoryParameters::default();
    if let Some(keys) = keys {
        parameters.put(KEYS, keys);
    }
    let settings = settings(Some(KEYS), allow_unsigned);
    Setup {
        receiver: Receiver::new(settings, MemoryBus::default(), parameters),
    }
}

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW)
}

fn soon() -> Deadline {
    Deadline::after(Duration::from_secs(5))
}

fn post(signature: Option<&str>, body: &[u8]) -> Value {
    let mut headers = vec![("content-type", "application/json")];
    headers.extend(signature.map(|signature| ("convox-signature", signature)));
    event("POST", &headers, body, false)
}

fn signed(body: &str) -> Value {
    post(Some(&sign(&[KEY], NOW, body.as_bytes())), body.as_bytes())
}

impl Setup {
    async fn answer(&self, event: Value) -> Answer {
        self.receiver.receive(event, now(), soon()).await
    }

    fn bus(&self) -> &MemoryBus {
        &self.receiver.bus
    }

    fn parameters(&self) -> &MemoryParameters {
        &self.receiver.parameters
    }
}

#[tokio::test]
async fn a_signed_event_is_put_on_the_bus_as_received() {
    let setup = setup(Some(KEY), false);
    assert_eq!(setup.answer(signed(BODY)).await, Answer::Accepted);
    let events = setup.bus().events();
    assert_eq!(events.len(), 1);
    let put = &events[0];
    assert_eq!(put.bus, "rack-events");
    assert_eq!(put.source, "convox.rack");
    assert_eq!(put.detail_type, "release:promote");
    assert_eq!(put.detail, BODY, "the body exactly as received");
    assert_eq!(put.time.unwrap().timestamp() as u64, NOW);

    // Base64 (a Function URL encodes bodies it does not take for text), spaces and key order kept.
    let spaced = "{ \"data\": {\"rack\": \"staging\"},\n  \"action\": \"app:create\" }";
    let signature = sign(&[KEY], NOW, spaced.as_bytes());
    let encoded = event(
        "POST",
        &[("convox-signature", &signature)],
        spaced.as_bytes(),
        true,
    );
    assert_eq!(setup.answer(encoded).await, Answer::Accepted);
    let put = setup.bus().events().pop().unwrap();
    assert_eq!(put.detail, spaced);
    assert_eq!(put.time, None, "no timestamp: EventBridge stamps it");
}

#[tokio::test]
async fn every_refusal_keeps_the_event_off_the_bus() {
    let setup = setup(Some(KEY), false);
    let body = BODY.as_bytes();
    let good = sign(&[KEY], NOW, body);
    let tampered = BODY.replace("production", "staging");
    let cases: Vec<(&str, Value, Answer)> = vec![
        ("unsigned", post(None, body), Answer::Unauthorized),
        (
            "tampered body",
            post(Some(&good), tampered.as_bytes()),
            Answer::Unauthorized,
        ),
        (
            "wrong key",
            post(Some(&sign(&["other"], NOW, body)), body),
            Answer::Unauthorized,
        ),
        (
            "stale t",
            post(Some(&sign(&[KEY], NOW - 301, body)), body),
            Answer::Unauthorized,
        ),
        (
            "future t",
            post(Some(&sign(&[KEY], NOW + 301, body)), body),
            Answer::Unauthorized,
        ),
        (
            "garbage header",
            post(Some("hello"), body),
            Answer::Unauthorized,
        ),
        (
            "wrong method",
            event("GET", &[("convox-signature", &good)], body, false),
            Answer::MethodNotAllowed,
        ),
        (
            "not JSON",
            post(Some(&sign(&[KEY], NOW, b"garbage")), b"garbage"),
            Answer::BadRequest,
        ),
        (
            "no action",
            post(Some(&sign(&[KEY], NOW, b"{}")), b"{}"),
            Answer::BadRequest,
        ),
        (
            "not an event",
            json!({"hello": "world"}),
            Answer::BadRequest,
        ),
    ];
    for (case, event, expected) in cases {
        assert_eq!(setup.answer(event).await, expected, "{case}");
    }
    assert!(setup.bus().events().is_empty());
    // Within the window either way, any one matching v1 is enough.
    for t in [NOW - 300, NOW + 300] {
        let several = format!("{},v1={}", sign(&["other", KEY], t, body), "00".repeat(32));
        assert_eq!(
            setup.answer(post(Some(&several), body)).await,
            Answer::Accepted
        );
    }
}

#[tokio::test]
async fn the_size_limit_counts_what_eventbridge_counts() {
    let setup = setup(Some(KEY), false);
    // A body of exactly 256 KiB passes the body check; with its source, detail-type and time the entry
    // is over EventBridge's limit.
    let prefix = r#"{"action":"app:create","timestamp":"2026-11-22T18:43:48Z","data":{"pad":""#;
    let pad = 256 * 1024 - prefix.len() - 3;
    let body = format!("{prefix}{}\"}}}}", "x".repeat(pad));
    assert_eq!(body.len(), 256 * 1024);
    assert_eq!(setup.answer(signed(&body)).await, Answer::TooLarge);
    let over = format!("{body} ");
    assert_eq!(setup.answer(signed(&over)).await, Answer::TooLarge);
    assert!(setup.bus().events().is_empty());
}

#[tokio::test]
async fn the_second_key_of_a_rotation_is_accepted() {
    let setup = setup(Some(" old-key , new-key "), false);
    for key in ["old-key", "new-key"] {
        let signature = sign(&[key], NOW, BODY.as_bytes());
        assert_eq!(
            setup.answer(post(Some(&signature), BODY.as_bytes())).await,
            Answer::Accepted,
            "{key}"
        );
    }
    assert_eq!(setup.parameters().reads(), 1, "read once per container");
}

#[tokio::test(start_paused = true)]
async fn a_new_key_is_read_at_most_once_a_minute() {
    let setup = setup(Some("old-key"), false);
    assert_eq!(setup.answer(signed_with("old-key")).await, Answer::Accepted);
    setup.parameters().put(KEYS, "new-key");
    // Read a moment ago: a flood of signatures with an unknown key reads nothing.
    for _ in 0..100 {
        assert_eq!(
            setup.answer(signed_with("new-key")).await,
            Answer::Unauthorized
        );
    }
    assert_eq!(setup.parameters().reads(), 1);
    tokio::time::advance(KEYS_REFRESH + Duration::from_secs(1)).await;
    assert_eq!(setup.answer(signed_with("new-key")).await, Answer::Accepted);
    assert_eq!(setup.parameters().reads(), 2);
    for _ in 0..100 {
        assert_eq!(setup.answer(signed_with("bad")).await, Answer::Unauthorized);
    }
    assert_eq!(setup.parameters().reads(), 2);
    tokio::time::advance(KEYS_REFRESH + Duration::from_secs(1)).await;
    for _ in 0..100 {
        assert_eq!(setup.answer(signed_with("bad")).await, Answer::Unauthorized);
    }
    assert_eq!(
        setup.parameters().reads(),
        3,
        "one more read in the new minute"
    );
}

fn signed_with(key: &str) -> Value {
    post(Some(&sign(&[key], NOW, BODY.as_bytes())), BODY.as_bytes())
}

#[tokio::test]
async fn what_fails_without_the_keys_reads_no_keys() {
    let setup = setup(Some(KEY), false);
    let body = BODY.as_bytes();
    let cheap = [
        post(None, body),
        post(Some("t=1,v1=zz"), body),
        post(Some(&sign(&[KEY], NOW - 3600, body)), body),
        event("PUT", &[], body, false),
        post(Some(&sign(&[KEY], NOW, body)), &vec![b'x'; 300 * 1024]),
    ];
    for event in cheap {
        assert_ne!(setup.answer(event).await, Answer::Accepted);
    }
    assert_eq!(setup.parameters().reads(), 0);
}

#[tokio::test(start_paused = true)]
async fn keys_that_cannot_be_read_are_this_sides_failure() {
    let missing = setup(None, false);
    assert_eq!(missing.answer(signed(BODY)).await, Answer::Unavailable);
    let empty = setup(Some(" , "), false);
    assert_eq!(empty.answer(signed(BODY)).await, Answer::Unavailable);
    // Once the parameter exists, a request reads it, at most once a minute: a flood of requests while
    // the keys cannot be read is not a flood of reads.
    missing.parameters().put(KEYS, KEY);
    assert_eq!(missing.answer(signed(BODY)).await, Answer::Unavailable);
    assert_eq!(missing.parameters().reads(), 1);
    tokio::time::advance(KEYS_REFRESH + Duration::from_secs(1)).await;
    assert_eq!(missing.answer(signed(BODY)).await, Answer::Accepted);
}

#[tokio::test]
async fn unsigned_requests_only_with_the_opt_in() {
    let open = setup(Some(KEY), true);
    assert_eq!(
        open.answer(post(None, BODY.as_bytes())).await,
        Answer::Accepted
    );
    // A signature that is there is still checked.
    let wrong = sign(&["other"], NOW, BODY.as_bytes());
    assert_eq!(
        open.answer(post(Some(&wrong), BODY.as_bytes())).await,
        Answer::Unauthorized
    );
    assert_eq!(open.bus().events().len(), 1);

    // Without keys, a signature cannot be checked and the request is taken as unsigned.
    let keyless = Setup {
        receiver: Receiver::new(
            settings(None, true),
            MemoryBus::default(),
            MemoryParameters::default(),
        ),
    };
    for event in [
        post(None, BODY.as_bytes()),
        post(Some(&wrong), BODY.as_bytes()),
    ] {
        assert_eq!(keyless.answer(event).await, Answer::Accepted);
    }
    assert_eq!(keyless.bus().events().len(), 2);
    assert_eq!(keyless.parameters().reads(), 0);
}

#[tokio::test]
async fn a_bus_failure_is_a_503() {
    let setup = setup(Some(KEY), false);
    *setup.bus().failure.lock().unwrap() = Some(BusError::Refused {
        code: "InternalFailure".into(),
        message: "try again".into(),
    });
    assert_eq!(setup.answer(signed(BODY)).await, Answer::Unavailable);
    assert!(setup.bus().events().is_empty());
}

/// What a generated request's `Convox-Signature` is.
#[derive(Debug, Clone)]
enum Header {
    Absent,
    /// Any text at all.
    Arbitrary(String),
    /// A signature of the body with the key, `t` within the window.
    Valid {
        skew: i64,
    },
    /// A signature of other bytes with the key.
    OtherBody(Vec<u8>),
    /// A signature of the body with another key.
    OtherKey(String),
    /// A signature of the body with the key, `t` outside the window.
    Stale {
        skew: i64,
    },
}

fn header() -> impl Strategy<Value = Header> {
    prop_oneof![
        Just(Header::Absent),
        any::<String>().prop_map(Header::Arbitrary),
        "[tv0-9a-f=, ]{0,80}".prop_map(Header::Arbitrary),
        (-300i64..=300).prop_map(|skew| Header::Valid { skew }),
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(Header::OtherBody),
        "[ -~]{1,20}"
            .prop_filter("another key", |k| k.trim() != KEY && !k.contains(','))
            .prop_map(Header::OtherKey),
        prop_oneof![-100_000i64..-300, 301i64..100_000].prop_map(|skew| Header::Stale { skew }),
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300),
        any::<String>().prop_map(String::into_bytes),
        ("[a-z:]{1,30}", proptest::option::of("[ -~]{0,20}")).prop_map(|(action, rack)| {
            json!({"action": action, "data": {"rack": rack}})
                .to_string()
                .into_bytes()
        }),
    ]
}

impl Header {
    fn value(&self, body: &[u8]) -> Option<String> {
        let at = |skew: i64| NOW.checked_add_signed(skew).unwrap();
        match self {
            Self::Absent => None,
            Self::Arbitrary(text) => Some(text.clone()),
            Self::Valid { skew } => Some(sign(&[KEY], at(*skew), body)),
            Self::OtherBody(other) => Some(sign(&[KEY], NOW, other)).filter(|_| other != body),
            Self::OtherKey(key) => Some(sign(&[key], NOW, body)),
            Self::Stale { skew } => Some(sign(&[KEY], at(*skew), body)),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any body, any header, any method: the receiver answers without panicking, and an event reaches
    /// the bus only with a signature of that body under the key, within the window.
    #[test]
    fn only_a_matching_signature_puts_an_event(
        body in body(),
        header in header(),
        method in prop_oneof![Just("POST".to_owned()), "[A-Za-z]{0,8}"],
        base64 in any::<bool>(),
    ) {
        // A body sent as text is text: what arrives is its UTF-8 reading.
        let body = if base64 { body } else { String::from_utf8_lossy(&body).into_owned().into_bytes() };
        let value = header.value(&body);
        let headers: Vec<(&str, &str)> = value.iter().map(|v| ("convox-signature", v.as_str())).collect();
        let setup = setup(Some(KEY), false);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        let answer = runtime.block_on(setup.answer(event(&method, &headers, &body, base64)));
        let events = setup.bus().events();
        let valid = matches!(header, Header::Valid { .. });
        if !events.is_empty() {
            prop_assert!(valid, "{header:?} put an event");
            prop_assert_eq!(events.len(), 1);
            prop_assert_eq!(events[0].detail.as_bytes(), &body[..]);
            prop_assert_eq!(answer, Answer::Accepted);
        } else {
            prop_assert_ne!(answer, Answer::Accepted);
        }
        // HTTP has no header with control characters: an event with one is not a Function URL's.
        let http_header = value.as_deref().is_none_or(|v| !v.bytes().any(|b| (b < 32 && b != b'\t') || b == 127));
        if !valid && method.eq_ignore_ascii_case("POST") && http_header {
            prop_assert_eq!(answer, Answer::Unauthorized, "{:?}", header);
        }
        let is_event = std::str::from_utf8(&body).ok()
            .and_then(|text| serde_json::from_str::<Value>(text).ok())
            .is_some_and(|v| v["action"].is_string() && v["data"]["rack"].is_string());
        if valid && is_event && method == "POST" {
            prop_assert_eq!(answer, Answer::Accepted);
        }
    }
}
