//! The invocation's rules with a recording messenger and the ledger in memory: routing, skipping,
//! fallback, fan-out, the plain-text retry and exactly-once.

use std::time::Duration;

use serde_json::{Value, json};

use lambda_runtime::Diagnostic;

use super::*;
use crate::deliver::recording::RecordingMessenger;
use crate::deliver::{DeliveryError, Refusal};
use crate::destination::Place;
use crate::params::MemoryParameters;

fn config(extra: &[(&str, &str)]) -> Config {
    let base = [
        ("NOTIFICATIONS_PROVIDER", "slack"),
        ("NOTIFICATIONS_TOKEN", "xoxb-test"),
        ("NOTIFICATIONS_DEFAULT_CHANNEL", "general"),
        (
            "NOTIFICATIONS_CHANNEL_MAPPING",
            "production=production-deploys",
        ),
        (
            "NOTIFICATIONS_OWNER_MAPPING",
            "web=#web-team,billing=@U0123ABC",
        ),
    ];
    Config::from_vars(|name| {
        extra
            .iter()
            .chain(base.iter())
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    })
    .unwrap()
}

fn event(action: &str, status: &str, data: Value) -> Value {
    json!({"version": "0", "id": "ev-1", "source": "convox.rack", "detail-type": action,
           "account": "1", "time": "2026-11-22T18:43:48Z", "region": "us-east-1", "resources": [],
           "detail": {"action": action, "status": status, "data": data, "timestamp": "2026-11-22T18:43:48Z"}})
}

type Test = Notifier<RecordingMessenger, MemoryLedger, MemoryParameters>;

fn notifier_with(extra: &[(&str, &str)], refuse: Vec<(Destination, Refusal)>) -> Test {
    let messenger = RecordingMessenger {
        refuse,
        ..Default::default()
    };
    Notifier::new(
        Category::Release,
        config(extra),
        messenger,
        Arc::new(MemoryLedger::default()),
        Arc::new(MemoryParameters::default()),
    )
}

fn notifier(refuse: Vec<(Destination, Refusal)>) -> Test {
    notifier_with(&[], refuse)
}

/// A notifier whose provider refuses every full rendering as invalid.
fn refusing_full_renderings() -> Test {
    Notifier::new(
        Category::Release,
        config(&[]),
        RecordingMessenger {
            refuse_full: true,
            ..Default::default()
        },
        Arc::new(MemoryLedger::default()),
        Arc::new(MemoryParameters::default()),
    )
}

fn slack(channel: &str) -> Destination {
    Destination::new(Provider::Slack, Place::Channel(channel.into()))
}

fn soon() -> Deadline {
    Deadline::after(Duration::from_secs(10))
}

async fn notify(notifier: &Test, payload: Value) -> Result<Report, NotifyError> {
    notifier.notify(payload, "req-1", soon()).await
}

#[tokio::test]
async fn routes_to_the_owner_first() {
    let notifier = notifier(vec![]);
    let data = json!({"rack": "production", "app": "web", "id": "R1"});
    let report = notify(&notifier, event("release:promote", "success", data))
        .await
        .unwrap();
    let delivered = report.delivered.unwrap();
    assert_eq!(
        (delivered.destination.as_str(), delivered.rule.as_str()),
        ("#web-team", "owner")
    );
    let posted = notifier.messenger.posted.lock().unwrap();
    assert_eq!(posted[0].1.headline, "Release promoted");
}

#[tokio::test]
async fn skips_audit_only_and_successful_builds() {
    let notifier = notifier(vec![]);
    for (action, status) in [
        ("app:budget:set", "success"),
        ("build:create", "success"),
        ("app:scale-override:toggled", "success"),
    ] {
        let report = notify(&notifier, event(action, status, json!({"rack": "staging"})))
            .await
            .unwrap();
        assert!(report.skipped.is_some(), "{action}");
    }
    assert!(notifier.messenger.posted.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_unusable_destination_falls_back_to_the_default_and_says_so() {
    let notifier = notifier(vec![(slack("web-team"), Refusal::Destination)]);
    let data = json!({"rack": "production", "app": "web"});
    let report = notify(&notifier, event("release:finish", "success", data))
        .await
        .unwrap();
    let delivered = report.delivered.unwrap();
    assert_eq!(delivered.destination, "#general");
    assert_eq!(delivered.redirected_from.as_deref(), Some("#web-team"));
    let posted = notifier.messenger.posted.lock().unwrap();
    assert!(
        posted[0]
            .1
            .redirected_from
            .as_deref()
            .unwrap()
            .starts_with("Meant for #web-team (owner route)")
    );
}

#[tokio::test]
async fn a_permanent_refusal_fails_the_invocation() {
    let notifier = notifier(vec![(slack("production-deploys"), Refusal::Permanent)]);
    let data = json!({"rack": "production", "app": "api"});
    let error = notify(&notifier, event("release:create", "success", data))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "event ev-1: delivery to #production-deploys failed: Slack API error `channel_not_found`"
    );
    assert_eq!(Diagnostic::from(error).error_type, "DeliveryRefused");
}

#[tokio::test]
async fn a_live_message_refused_as_invalid_goes_again_as_plain_text() {
    let notifier = refusing_full_renderings();
    let data = json!({"rack": "production", "app": "api", "id": "R1"});
    for action in ["release:create", "release:promote"] {
        let report = notify(&notifier, event(action, "success", data.clone()))
            .await
            .unwrap();
        assert!(report.delivered.is_some(), "{action}");
    }
    let posted = notifier.messenger.posted.lock().unwrap();
    let forms: Vec<_> = posted.iter().map(|p| p.3).collect();
    assert_eq!(
        forms,
        [Form::Plain; 4],
        "the root, a reply, its edit, a reply"
    );
}

#[tokio::test]
async fn a_live_reply_that_failed_is_sent_by_the_retry() {
    let notifier = notifier(vec![]);
    let created = event(
        "release:create",
        "success",
        json!({"rack": "production", "app": "api", "id": "R1"}),
    );
    notifier
        .messenger
        .refuse_replies
        .store(true, std::sync::atomic::Ordering::Relaxed);
    notify(&notifier, created.clone()).await.unwrap_err();
    notifier
        .messenger
        .refuse_replies
        .store(false, std::sync::atomic::Ordering::Relaxed);
    notify(&notifier, created).await.unwrap();
    let posted = notifier.messenger.posted.lock().unwrap();
    assert_eq!(
        posted.len(),
        2,
        "the root once, then its reply: {posted:#?}"
    );
}

#[test]
fn no_time_left_to_post_is_unavailable_not_refused() {
    let deadline = || DeliveryError::Deadline {
        provider: Provider::Slack,
    };
    let after_unclear = DeliveryError::AfterUnclear {
        last: Box::new(deadline()),
    };
    for source in [deadline(), after_unclear] {
        let error = NotifyError::Delivery {
            event_id: "ev-1".into(),
            destination: slack("production-deploys"),
            source: OnceError::Post(source),
        };
        assert_eq!(Diagnostic::from(error).error_type, "DeliveryUnavailable");
    }
}

#[tokio::test]
async fn a_malformed_event_names_itself_and_the_next_one_still_works() {
    let notifier = notifier(vec![]);
    let bad = json!({"id": "ev-bad", "source": "convox.rack", "detail-type": "x", "detail": {"data": {}}});
    let error = notify(&notifier, bad).await.unwrap_err();
    assert_eq!(error.to_string(), "event ev-bad: has no `detail.action`");
    let good = event(
        "app:create",
        "success",
        json!({"rack": "staging", "name": "api"}),
    );
    assert!(notify(&notifier, good).await.unwrap().delivered.is_some());
}

#[tokio::test]
async fn a_repeat_of_the_same_rack_event_posts_nothing_even_under_another_id() {
    let notifier = notifier(vec![]);
    let data = json!({"rack": "production", "app": "api"});
    notify(&notifier, event("release:create", "success", data.clone()))
        .await
        .unwrap();
    let mut again = event("release:create", "success", data);
    again["id"] = "another-eventbridge-id".into();
    let report = notify(&notifier, again).await.unwrap();
    assert!(report.delivered.unwrap().duplicate);
    assert_eq!(notifier.messenger.posted.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_message_refused_as_invalid_goes_again_as_plain_text() {
    let notifier = refusing_full_renderings();
    let report = notify(
        &notifier,
        event("release:scale", "success", json!({"rack": "staging"})),
    )
    .await
    .unwrap();
    assert!(report.delivered.is_some());
    let posted = notifier.messenger.posted.lock().unwrap();
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].3, Form::Plain);
}

#[tokio::test]
async fn routes_fan_out_with_mentions_and_a_failed_destination_fails_only_itself() {
    let routes = "routes:
      - {name: failures, match: {status: error}, to: ['#failures'], mention: ['@U0ONCALL'], continue: true}
      - {name: deploys, to: ['#deploys', '#broken']}";
    let notifier = notifier_with(
        &[("NOTIFICATIONS_ROUTES", routes)],
        vec![(slack("broken"), Refusal::Permanent)],
    );
    let payload = event(
        "release:promote",
        "error",
        json!({"rack": "staging", "app": "api"}),
    );
    let error = notify(&notifier, payload.clone()).await.unwrap_err();
    assert!(
        error.to_string().contains("delivery to #broken failed"),
        "{error}"
    );
    {
        let posted = notifier.messenger.posted.lock().unwrap();
        let to: Vec<String> = posted.iter().map(|p| p.0.to_string()).collect();
        assert_eq!(to, ["#failures", "#deploys"]);
        assert_eq!(posted[0].2, [Mention::SlackUser("U0ONCALL".into())]);
        assert!(posted[1].2.is_empty(), "mentions belong to their route");
    }
    // Lambda's retry posts nothing again where it was delivered.
    notify(&notifier, payload).await.unwrap_err();
    assert_eq!(notifier.messenger.posted.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_route_can_drop_noise() {
    let notifier = notifier_with(
        &[(
            "NOTIFICATIONS_ROUTES",
            "routes: [{name: quiet, match: {type: release:scale}, drop: true}]",
        )],
        vec![],
    );
    let report = notify(
        &notifier,
        event("release:scale", "success", json!({"rack": "production"})),
    )
    .await
    .unwrap();
    assert_eq!(report.skipped.as_deref(), Some("dropped by route quiet"));
    assert!(notifier.messenger.posted.lock().unwrap().is_empty());
}
