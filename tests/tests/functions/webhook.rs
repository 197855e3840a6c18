//! The webhook receiver end to end: the real rack-webhook binary under the Runtime API stand-in, its
//! signing keys in moto's SSM, its events on moto's EventBridge and, through the template's own rules, in
//! each notify function's queue.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use standins::Invocation;
use standins::rack::{SIGNATURE_HEADER, function_url_event, signature, unix_now};
use tokio::task::JoinSet;

use tests::*;

/// A sample's rack payload, as a rack sends it in its webhook's body.
fn body_of(name: &str) -> Vec<u8> {
    serde_json::to_vec(&sample(name)["detail"]).unwrap()
}

async fn receiver(bus: &RackBus, extra: &[(&str, &str)]) -> Function {
    Function::start("rack-webhook", with(bus.receiver_env(), extra)).await
}

/// The process's logs once they hold `needle` `times` times: they arrive through a pipe, after the answer.
async fn logs_with(function: &Function, needle: &str, times: usize) -> String {
    let start = Instant::now();
    loop {
        let logs = function.process.logs();
        if logs.matches(needle).count() >= times {
            return logs;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "not {times} × `{needle}` in the logs:\n{logs}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The one event of `events`, checked against the body it was put from.
#[track_caller]
fn the_event_of(events: &[Value], body: &[u8]) -> Value {
    assert_eq!(events.len(), 1, "{events:?}");
    let event = events[0].clone();
    let detail: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(event["source"], RACK_SOURCE);
    assert_eq!(event["detail-type"], detail["action"]);
    assert_eq!(event["detail"], detail, "the body, unchanged");
    event
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_event_reaches_its_notify_function_only() {
    let bus = RackBus::start(SIGNING_KEY).await;
    let receiver = receiver(&bus, &[]).await;
    let cases = [
        ("release-promote-success.json", Some("notify-release")),
        ("app-create.json", Some("notify-app")),
        ("rack-update.json", Some("notify-infrastructure")),
        ("workflow-complete.json", Some("notify-workflow")),
        ("alert-firing.json", Some("notify-alert")),
        ("app-budget-cap.json", Some("notify-budget")),
        // A successful build that made a release feeds that release's live message.
        ("build-create-success.json", Some("notify-release")),
        // Posted by no function: an audit-only budget change.
        ("audit-app-budget-set.json", None),
    ];
    for (name, function) in cases {
        let body = body_of(name);
        let answer = receiver.invoke(signed_post(&body, &[SIGNING_KEY])).await;
        assert_eq!(status(answer), 202, "{name}");
        let event = the_event_of(&bus.every_event().await, &body);
        assert_eq!(
            event["time"],
            sample(name)["detail"]["timestamp"],
            "{name}: the event's time is the rack's"
        );
        let routed = bus.routed().await;
        match function {
            Some(function) => {
                assert_eq!(
                    routed.keys().collect::<Vec<_>>(),
                    [function],
                    "{name}: {routed:?}"
                );
                the_event_of(&routed[function], &body);
            }
            None => assert!(routed.is_empty(), "{name}: {routed:?}"),
        }
    }
    // One metric line per request.
    logs_with(&receiver, "\"Accepted\":1", cases.len()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_requests_signed_with_a_current_key_reach_the_bus() {
    let bus = RackBus::start("whsec-old-key, whsec-new-key").await;
    let receiver = receiver(&bus, &[]).await;
    let body = body_of("release-promote-success.json");
    let now = unix_now();
    let tampered = String::from_utf8(body.clone())
        .unwrap()
        .replace("production", "staging");
    let several = format!(
        "{},v1={}",
        signature(&["whsec-unknown", "whsec-new-key"], now, &body),
        "0".repeat(64)
    );
    let base64 = function_url_event(
        "POST",
        &[(SIGNATURE_HEADER, &signature(&["whsec-new-key"], now, &body))],
        &body,
        true,
    );
    let huge = format!(
        r#"{{"action":"app:create","data":{{"pad":"{}"}}}}"#,
        "x".repeat(300 * 1024)
    );
    let cases: Vec<(&str, Value, u64)> = vec![
        (
            "the second key of a rotation",
            signed_post(&body, &["whsec-new-key"]),
            202,
        ),
        (
            "the first key of a rotation",
            signed_post(&body, &["whsec-old-key"]),
            202,
        ),
        (
            "several v1, one matching",
            post(&body, &[(SIGNATURE_HEADER, &several)]),
            202,
        ),
        ("a base64 body", base64, 202),
        (
            "a tampered body",
            post(
                tampered.as_bytes(),
                &[(SIGNATURE_HEADER, &signature(&["whsec-new-key"], now, &body))],
            ),
            401,
        ),
        ("a wrong key", signed_post(&body, &["whsec-unknown"]), 401),
        (
            "a stale t",
            signed_post_at(&body, &["whsec-new-key"], now - 600),
            401,
        ),
        (
            "a future t",
            signed_post_at(&body, &["whsec-new-key"], now + 600),
            401,
        ),
        ("no signature", post(&body, &[]), 401),
        (
            "a garbage signature",
            post(&body, &[(SIGNATURE_HEADER, "t=now,v1=garbage")]),
            401,
        ),
        (
            "a garbage body",
            signed_post(b"\x00garbage", &["whsec-new-key"]),
            400,
        ),
        (
            "a payload without an action",
            signed_post(br#"{"status":"success"}"#, &["whsec-new-key"]),
            400,
        ),
        (
            "a body over 256 KiB",
            signed_post(huge.as_bytes(), &["whsec-new-key"]),
            413,
        ),
        ("a GET", function_url_event("GET", &[], b"", false), 405),
    ];
    let accepted = cases.iter().filter(|(_, _, want)| *want == 202).count();
    for (case, event, want) in cases {
        assert_eq!(status(receiver.invoke(event).await), want, "{case}");
    }
    // Not a Function URL event at all: a 400, not a crash.
    assert_eq!(
        status(receiver.invoke(Value::String("garbage".into())).await),
        400
    );
    let events = bus.every_event().await;
    assert_eq!(events.len(), accepted, "{events:?}");
    for event in &events {
        assert_eq!(
            event["detail"],
            serde_json::from_slice::<Value>(&body).unwrap()
        );
    }
    assert!(receiver.process.exit_status().is_none());
    let logs = logs_with(&receiver, "\"Rejected\":1", 11).await;
    assert!(logs.contains("matches none of the signing keys"), "{logs}");
    assert!(!logs.contains("whsec-"), "keys never reach the logs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_bad_signatures_reads_the_keys_once() {
    let bus = RackBus::start(SIGNING_KEY).await;
    let receiver = receiver(&bus, &[]).await;
    let body = body_of("app-create.json");
    for _ in 0..50 {
        let answer = receiver
            .invoke(signed_post(&body, &["whsec-attacker"]))
            .await;
        assert_eq!(status(answer), 401);
    }
    assert_eq!(
        status(receiver.invoke(signed_post(&body, &[SIGNING_KEY])).await),
        202
    );
    let logs = logs_with(&receiver, "put on the bus", 1).await;
    assert_eq!(
        logs.matches("read the signing keys from SSM").count(),
        1,
        "{logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_requests_need_the_opt_in() {
    let bus = RackBus::start(SIGNING_KEY).await;
    let body = body_of("app-create.json");
    let strict = receiver(&bus, &[]).await;
    assert_eq!(status(strict.invoke(post(&body, &[])).await), 401);
    let open = receiver(&bus, &[("RACK_ALLOW_UNSIGNED", "true")]).await;
    assert_eq!(status(open.invoke(post(&body, &[])).await), 202);
    // A signature that is there is still checked.
    let wrong = signed_post(&body, &["whsec-unknown"]);
    assert_eq!(status(open.invoke(wrong).await), 401);
    the_event_of(&bus.every_event().await, &body);

    // Without keys and without the opt-in the receiver does not start, and says why.
    let env = with(bus.moto.function_env(), &[("RACK_EVENT_BUS", RACK_BUS)]);
    let keyless = Function::start("rack-webhook", env).await;
    let outcome = keyless.invoke(post(&body, &[])).await;
    assert!(matches!(outcome, Invocation::InitError(_)), "{outcome:?}");
    let logs = logs_with(&keyless, "RACK_SIGNING_KEYS_PARAMETER is not set", 1).await;
    assert!(logs.contains("RACK_ALLOW_UNSIGNED=true"), "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_on_this_side_are_503s_with_a_metric() {
    let bus = RackBus::start(SIGNING_KEY).await;
    let body = body_of("release-promote-success.json");

    let no_bus = receiver(&bus, &[("RACK_EVENT_BUS", "no-such-bus")]).await;
    assert_eq!(
        status(no_bus.invoke(signed_post(&body, &[SIGNING_KEY])).await),
        503
    );
    let logs = logs_with(&no_bus, "\"BusFailed\":1", 1).await;
    assert!(logs.contains("ResourceNotFoundException"), "{logs}");
    assert!(
        logs.contains("release:promote"),
        "the action is logged: {logs}"
    );
    assert!(!logs.contains("RJHGFDSAQW"), "the body is not: {logs}");

    let no_keys = receiver(
        &bus,
        &[("RACK_SIGNING_KEYS_PARAMETER", "/rack-notifications/missing")],
    )
    .await;
    assert_eq!(
        status(no_keys.invoke(signed_post(&body, &[SIGNING_KEY])).await),
        503
    );
    let logs = logs_with(&no_keys, "\"KeysUnavailable\":1", 1).await;
    assert!(
        logs.contains("SSM parameter `/rack-notifications/missing` does not exist"),
        "{logs}"
    );
    assert!(bus.every_event().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicated_webhook_is_one_slack_message() {
    let bus = RackBus::start(SIGNING_KEY).await;
    let receiver = receiver(&bus, &[]).await;
    let body = body_of("release-promote-success.json");
    let request = signed_post(&body, &[SIGNING_KEY]);
    for _ in 0..2 {
        assert_eq!(status(receiver.invoke(request.clone()).await), 202);
    }
    let events = bus.routed().await.remove("notify-release").unwrap();
    assert_eq!(events.len(), 2, "the bus has both deliveries");
    assert_ne!(events[0]["id"], events[1]["id"]);

    let slack = slack().await;
    bus.moto.create_dedup_table(DEDUP_TABLE).await;
    let settings = with(
        slack_env(&slack),
        &[
            ("NOTIFICATIONS_TOKEN", SLACK_TOKEN),
            ("NOTIFICATIONS_DEDUP_TABLE", DEDUP_TABLE),
        ],
    );
    let notify = Function::start(
        "notify-release",
        settings
            .into_iter()
            .chain(bus.moto.function_env())
            .collect(),
    )
    .await;
    let first = notify.invoke(events[0].clone()).await.expect_ok();
    let again = notify.invoke(events[1].clone()).await.expect_ok();
    assert!(first["delivered"].get("duplicate").is_none(), "{first}");
    assert_eq!(again["delivered"]["duplicate"], true, "{again}");
    assert_eq!(slack.posted().len(), 1);
}

const BURST: usize = 500;
const RECEIVERS: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_signed_requests_is_all_on_the_bus_once() {
    let bus = RackBus::start(SIGNING_KEY).await;
    let mut receivers = Vec::new();
    for _ in 0..RECEIVERS {
        receivers.push(receiver(&bus, &[]).await);
    }
    let queue = Arc::new(Mutex::new((0..BURST).collect::<Vec<_>>()));
    let started = Instant::now();
    let mut running = JoinSet::new();
    for receiver in receivers {
        let queue = queue.clone();
        running.spawn(async move {
            let mut answers = Vec::new();
            loop {
                let next = queue.lock().unwrap().pop();
                let Some(n) = next else { break };
                let id = format!("R{n:04}");
                let event = variant("release-create.json", &id, &[("id", &id)]);
                let body = serde_json::to_vec(&event["detail"]).unwrap();
                let request = signed_post(&body, &[SIGNING_KEY]);
                let answer = receiver.api.invoke(request, Duration::from_secs(30)).await;
                answers.push(status(answer));
            }
            // One metric line per request, each an acceptance.
            let logs = logs_with(&receiver, "\"Accepted\":1", answers.len()).await;
            (answers, logs)
        });
    }
    let mut answered = 0;
    while let Some(done) = running.join_next().await {
        let (answers, logs) = done.unwrap();
        assert!(answers.iter().all(|&s| s == 202), "{answers:?}\n{logs}");
        assert!(logs.contains("\"level\":\"INFO\""), "JSON logs: {logs}");
        assert!(
            !logs.contains("\"level\":\"ERROR\"") && !logs.contains("\"level\":\"WARN\""),
            "{logs}"
        );
        answered += answers.len();
    }
    let elapsed = started.elapsed();
    assert_eq!(answered, BURST);

    let events = bus.every_event().await;
    let ids: BTreeSet<&str> = events
        .iter()
        .map(|event| event["detail"]["data"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(events.len(), BURST, "each request once");
    assert_eq!(ids.len(), BURST, "every request");
    let routed = bus.routed().await;
    assert_eq!(routed["notify-release"].len(), BURST);
    eprintln!("{BURST} signed requests through {RECEIVERS} receivers in {elapsed:?}");
}
