//! Never twice, never lost: repeated events, retried invocations and concurrent duplicates against moto's
//! DynamoDB, on both providers.

use std::time::Duration;

use standins::Invocation;
use standins::slack::SlackChannel;

use tests::*;

/// An event for `api` on the production rack: it goes to `#production-deploys`.
fn production_event(id: &str) -> serde_json::Value {
    variant("release-create.json", id, &[("app", "api")])
}

/// The Slack routing of the harness, a literal token, and the deliveries table in `dedup`.
fn slack_settings(
    slack: &standins::SlackStandIn,
    dedup: &[(String, String)],
) -> Vec<(String, String)> {
    let settings = with(slack_env(slack), &[("NOTIFICATIONS_TOKEN", SLACK_TOKEN)]);
    settings.into_iter().chain(dedup.iter().cloned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_event_twice_posts_once() {
    let slack = slack().await;
    let (moto, dedup) = dedup_table().await;
    let function = Function::start("notify-release", slack_settings(&slack, &dedup)).await;
    let event = production_event("ev-twice");

    let first = function.invoke(event.clone()).await.expect_ok();
    assert_eq!(first["delivered"]["channel"], PRODUCTION);
    assert!(first["delivered"].get("duplicate").is_none(), "{first}");
    let again = function.invoke(event).await.expect_ok();
    assert_eq!(again["delivered"]["duplicate"], true, "{again}");
    assert_eq!(
        again["delivered"]["message_id"], first["delivered"]["message_id"],
        "the repeat reports the first post"
    );
    assert_eq!(slack.posted().len(), 1);
    let logs = function.process.logs();
    assert!(
        logs.contains("already delivered by an earlier invocation"),
        "{logs}"
    );

    let items = moto.items(DEDUP_TABLE).await;
    let item = &items[&delivery_key(
        &production_event("ev-twice"),
        "slack",
        "#production-deploys",
    )];
    assert_eq!(item["state"], "delivered");
    assert_eq!(item["channel"], PRODUCTION);
    let expires_at: u64 = item["expires_at"].parse().unwrap();
    let claimed_at: u64 = item["claimed_at"].parse().unwrap();
    assert!(
        (14 * 86_400..=16 * 86_400).contains(&(expires_at - claimed_at / 1000)),
        "records outlive the queues' 14 days: {item:?}"
    );

    // Another event is another delivery.
    let other = production_event("ev-other");
    function.invoke(other).await.expect_ok();
    assert_eq!(slack.posted().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_posts_carry_a_nonce_and_a_repeat_posts_nothing() {
    let discord = discord().await;
    let (_moto, dedup) = dedup_table().await;
    let settings = with(
        discord_env(&discord),
        &[("NOTIFICATIONS_TOKEN", DISCORD_TOKEN)],
    );
    let function =
        Function::start("notify-alert", settings.into_iter().chain(dedup).collect()).await;
    let event = sample("alert-firing.json");
    function.invoke(event.clone()).await.expect_ok();
    let again = function.invoke(event).await.expect_ok();
    assert_eq!(again["delivered"]["duplicate"], true, "{again}");

    let posted = discord.posted();
    assert_eq!(posted.len(), 1);
    let nonce = posted[0].body["nonce"].as_str().unwrap();
    assert!(!nonce.is_empty() && nonce.len() <= 25, "{nonce}");
    assert_eq!(posted[0].body["enforce_nonce"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_a_failed_fallback_delivers_only_what_is_missing() {
    let slack = standins::SlackStandIn::builder()
        .token(SLACK_TOKEN)
        .channel(SlackChannel::public(GENERAL, "general"))
        .channel(SlackChannel::private_without_app(
            "C0PRIVATE",
            "web-private",
        ))
        .rate_limit(None)
        .start()
        .await;
    let (moto, dedup) = dedup_table().await;
    let settings = with(
        slack_settings(&slack, &dedup),
        &[("NOTIFICATIONS_OWNER_MAPPING", "web=#web-private")],
    );
    let function = Function::start("notify-release", settings).await;

    // `#general` just took a message and will refuse the next for a minute: longer than the invocation.
    let unrelated = variant(
        "release-create.json",
        "ev-unrelated",
        &[("app", "api"), ("rack", "dev")],
    );
    function.invoke(unrelated).await.expect_ok();
    slack.set_rate_limit(Some(Duration::from_secs(60)));

    // The owner's channel refuses for good; the default channel is rate-limited past the deadline.
    let event = sample("release-promote-success.json");
    let error = function.invoke(event.clone()).await.expect_err();
    assert_eq!(error.error_type, "DeliveryUnavailable", "{error:?}");
    assert!(error.error_message.contains("#general"), "{error:?}");
    let items = moto.items(DEDUP_TABLE).await;
    let owner = delivery_key(&event, "slack", "#web-private");
    assert_eq!(items[&owner]["state"], "refused");
    assert_eq!(items[&owner]["code"], "channel_not_found");
    assert!(
        !items.contains_key(&delivery_key(&event, "slack", "#general")),
        "the failed post gave its claim up: {items:?}"
    );

    // Lambda's retry, a minute later: the default channel is free again, and the hold Slack's
    // `Retry-After` put on it for every container has ended (as if its minute had passed).
    // The owner is not asked a second time.
    slack.set_rate_limit(None);
    moto.delete_item(DEDUP_TABLE, "lane#slack:#general").await;
    let report = function.invoke(event.clone()).await.expect_ok();
    assert_eq!(report["delivered"]["destination"], "#general");
    assert_eq!(report["delivered"]["redirected_from"], "#web-private");
    assert!(report["delivered"].get("duplicate").is_none(), "{report}");
    let posted = slack.posted();
    assert_eq!(posted.len(), 2, "the unrelated event and this one");
    assert!(plain_text(&posted[1].body).contains("Meant for #web-private (owner route)"));
    let refusals = slack
        .errors()
        .iter()
        .filter(|e| *e == "channel_not_found")
        .count();
    assert_eq!(refusals, 1, "the owner's refusal was remembered");

    // And a late repeat posts nothing.
    let repeat = function.invoke(event).await.expect_ok();
    assert_eq!(repeat["delivered"]["duplicate"], true);
    assert_eq!(repeat["delivered"]["redirected_from"], "#web-private");
    assert_eq!(slack.posted().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_invocations_of_one_event_post_once() {
    let slack = slack().await;
    let (_moto, dedup) = dedup_table().await;
    let settings = slack_settings(&slack, &dedup);
    let (one, two) = tokio::join!(
        Function::start("notify-release", settings.clone()),
        Function::start("notify-release", settings),
    );

    // A post to `#production-deploys` just went through, so the next one waits for Slack's rate limit:
    // whoever claims the event holds it for a second or two while the other invocation finds it pending.
    one.invoke(production_event("ev-unrelated"))
        .await
        .expect_ok();
    slack.set_rate_limit(Some(Duration::from_secs(1)));

    let event = production_event("ev-concurrent");
    let (a, b) = tokio::join!(one.invoke(event.clone()), two.invoke(event));
    let reports = [a.expect_ok(), b.expect_ok()];
    let duplicates = reports
        .iter()
        .filter(|r| r["delivered"]["duplicate"] == true)
        .count();
    assert_eq!(duplicates, 1, "{reports:?}");
    assert_eq!(
        reports[0]["delivered"]["message_id"],
        reports[1]["delivered"]["message_id"]
    );
    assert_eq!(slack.posted().len(), 2, "the unrelated event and this one");
    let logs = one.process.logs() + &two.process.logs();
    assert!(
        logs.contains("another invocation holds this delivery; waiting"),
        "{logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_table_fails_the_invocation_naming_it_and_posts_nothing() {
    let slack = slack().await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let dedup = env(&[
        ("AWS_ENDPOINT_URL", &closed),
        ("NOTIFICATIONS_DEDUP_TABLE", DEDUP_TABLE),
    ]);
    let function = Function::start("notify-release", slack_settings(&slack, &dedup)).await;
    let outcome = function.invoke(production_event("ev-unreachable")).await;
    let Invocation::Err(error) = outcome else {
        panic!("expected a failed invocation, got {outcome:?}")
    };
    assert_eq!(error.error_type, "DeduplicationUnavailable");
    assert!(
        error.error_message.starts_with(&format!(
            "event ev-unreachable: deduplication table `{DEDUP_TABLE}`: "
        )),
        "{error:?}"
    );
    assert!(slack.posted().is_empty());
}
