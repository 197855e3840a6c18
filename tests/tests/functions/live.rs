//! One live message per release, alert and auto-shutdown, through the real binaries with the state in
//! moto's DynamoDB: one root that ends in the final state, one reply per event, whatever the order,
//! repeats, containers or deleted roots.

use serde_json::Value;
use standins::SlackStandIn;

use tests::*;

/// The six events of one release of `web` on production, as a rack sends them, renamed to `release`.
pub(crate) fn release(release: &str) -> Vec<Value> {
    [
        "build-create-success.json",
        "release-create.json",
        "release-promote-start.json",
        "release-promote-success.json",
        "release-finish.json",
        "app-promote-completed.json",
    ]
    .iter()
    .map(|file| {
        let mut event = sample(file);
        event["id"] = format!("{release}-{file}").into();
        let data = &mut event["detail"]["data"];
        if data.get("release_id").is_some() {
            data["release_id"] = release.into();
        } else {
            data["id"] = release.into();
        }
        event
    })
    .collect()
}

async fn live_slack(slack: &SlackStandIn, dedup: &[(String, String)]) -> Vec<(String, String)> {
    with(
        slack_env(slack),
        &[("NOTIFICATIONS_TOKEN", SLACK_TOKEN), LIVE],
    )
    .into_iter()
    .chain(dedup.iter().cloned())
    .collect()
}

async fn drive(function: &Function, events: Vec<Value>) {
    for event in events {
        function.invoke(event).await.expect_ok();
    }
}

/// The one top-level message in `channel`, with its replies; fails if there is not exactly one.
fn the_root(slack: &SlackStandIn, channel: &str) -> standins::slack::SlackMessage {
    let roots: Vec<_> = slack
        .roots()
        .into_iter()
        .filter(|p| p.channel == channel)
        .collect();
    assert_eq!(
        roots.len(),
        1,
        "one root: {:#?}",
        roots.iter().map(|r| r.text()).collect::<Vec<_>>()
    );
    slack.message(channel, &roots[0].ts).expect("the root")
}

/// The `count` roots of `channel`, each a release that ended in a completed deployment with one reply
/// per event; fails otherwise.
pub(crate) fn finished_releases(
    slack: &SlackStandIn,
    channel: &str,
    count: usize,
) -> Vec<standins::slack::SlackMessage> {
    let roots = slack.roots();
    assert_eq!(roots.len(), count, "one root per release");
    let roots = roots.iter().map(|root| {
        assert_eq!(root.channel, channel);
        let root = slack.message(channel, &root.ts).expect("the root");
        let text = plain_text(&root.body);
        assert!(
            text.contains("Release deployment completed successfully"),
            "{text}"
        );
        assert_eq!(
            root.replies.len(),
            6,
            "one reply per event, none twice: {:#?}",
            root.replies.iter().map(|r| r.text()).collect::<Vec<_>>()
        );
        root
    });
    roots.collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_in_any_order_ends_in_one_root_with_one_reply_per_event() {
    let slack = slack().await;
    let (_moto, dedup) = dedup_table().await;
    let function = Function::start("notify-release", live_slack(&slack, &dedup).await).await;
    let orders: [(&str, Vec<usize>); 4] = [
        ("RORDERED01", vec![0, 1, 2, 3, 4, 5]),
        ("RREVERSED1", vec![5, 4, 3, 2, 1, 0]),
        ("RSHUFFLED1", vec![3, 0, 5, 1, 4, 2]),
        ("RTWICE0001", vec![0, 1, 1, 2, 3, 3, 4, 5, 5, 0]),
    ];
    for (id, order) in orders {
        let events = release(id);
        for i in order {
            function.invoke(events[i].clone()).await.expect_ok();
        }
    }
    for root in finished_releases(&slack, WEB_TEAM, 4) {
        let text = plain_text(&root.body);
        assert!(
            text.contains("Build succeeded") && text.contains("Release promotion started"),
            "{text}"
        );
        assert!(root.replies.iter().all(|r| !r.reply_broadcast));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_containers_at_once_make_one_root() {
    let slack = slack().await;
    let (_moto, dedup) = dedup_table().await;
    let settings = live_slack(&slack, &dedup).await;
    let (one, two) = tokio::join!(
        Function::start("notify-release", settings.clone()),
        Function::start("notify-release", settings),
    );
    let events = release("RSPLIT0001");
    let first = events.iter().step_by(2).cloned().collect::<Vec<_>>();
    let second = events
        .iter()
        .skip(1)
        .step_by(2)
        .cloned()
        .collect::<Vec<_>>();
    tokio::join!(drive(&one, first), drive(&two, second));
    finished_releases(&slack, WEB_TEAM, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_shows_in_the_channel_too_and_a_deleted_root_is_replaced() {
    let slack = slack().await;
    let (_moto, dedup) = dedup_table().await;
    let function = Function::start("notify-release", live_slack(&slack, &dedup).await).await;
    let events = release("RFAILED001");
    function.invoke(events[1].clone()).await.expect_ok();
    let first = the_root(&slack, WEB_TEAM);
    // Someone deletes the root: the next event posts a new one that carries on.
    slack.delete_message(WEB_TEAM, &first.ts);
    function.invoke(events[2].clone()).await.expect_ok();
    let mut failed = events[3].clone();
    failed["id"] = "RFAILED001-error".into();
    failed["detail"]["status"] = "error".into();
    failed["detail"]["data"]["message"] = "rollback".into();
    function.invoke(failed).await.expect_ok();

    let roots = slack.roots();
    assert_eq!(roots.len(), 2, "the deleted root and its successor");
    let root = slack.message(WEB_TEAM, &roots[1].ts).unwrap();
    let text = plain_text(&root.body);
    assert!(
        text.contains("Release promotion failed") && text.contains("rollback"),
        "{text}"
    );
    assert!(
        text.contains("Release created"),
        "the new root carries the steps so far: {text}"
    );
    let broadcast: Vec<_> = root.replies.iter().filter(|r| r.reply_broadcast).collect();
    assert_eq!(
        broadcast.len(),
        1,
        "the failure is shown in the channel too"
    );
    assert!(broadcast[0].text().contains("rollback"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_fires_then_resolves_in_one_message() {
    let slack = slack().await;
    let (_moto, dedup) = dedup_table().await;
    let function = Function::start("notify-alert", live_slack(&slack, &dedup).await).await;
    function
        .invoke(sample("alert-firing.json"))
        .await
        .expect_ok();
    function
        .invoke(sample("alert-resolved.json"))
        .await
        .expect_ok();
    let root = the_root(&slack, PRODUCTION);
    let text = plain_text(&root.body);
    assert!(
        text.contains("Alert has resolved (fired for 15 minutes)"),
        "{text}"
    );
    assert_eq!(root.edits, 1);
    assert_eq!(root.replies.len(), 2);
    // The firing alert's root is in the channel already: its reply is not sent there a second time.
    assert!(root.replies.iter().all(|r| !r.reply_broadcast));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auto_shutdown_is_armed_fired_and_restored_in_one_message() {
    let slack = slack().await;
    let (_moto, dedup) = dedup_table().await;
    let settings = with(
        live_slack(&slack, &dedup).await,
        &[("NOTIFICATIONS_OWNER_MAPPING", "")],
    );
    let function = Function::start("notify-budget", settings).await;
    for file in [
        "app-budget-auto-shutdown-armed.json",
        "app-budget-auto-shutdown-fired.json",
        "app-budget-auto-shutdown-restored.json",
    ] {
        function.invoke(sample(file)).await.expect_ok();
    }
    let root = the_root(&slack, STAGING);
    let text = plain_text(&root.body);
    assert!(text.contains("App restored from auto-shutdown"), "{text}");
    assert!(text.contains("Auto-shutdown scheduled"), "{text}");
    assert_eq!(root.replies.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_discord_the_root_is_edited_and_replies_go_to_its_thread() {
    let discord = discord().await;
    let (_moto, dedup) = dedup_table().await;
    let settings: Vec<_> = with(
        discord_env(&discord),
        &[("NOTIFICATIONS_TOKEN", DISCORD_TOKEN), LIVE],
    )
    .into_iter()
    .chain(dedup)
    .collect();
    let function = Function::start("notify-release", settings).await;
    for event in release("RDISCORD01").into_iter().rev() {
        function.invoke(event).await.expect_ok();
    }
    let threads = discord.threads();
    assert_eq!(threads.len(), 1, "{threads:?}");
    let thread = &threads[0];
    assert_eq!(thread.parent_id, D_WEB_TEAM);
    let root = discord.message(D_WEB_TEAM, &thread.message_id).unwrap();
    assert!(plain_text(&root.body).contains("Release deployment completed successfully"));
    let in_thread = discord
        .posted()
        .iter()
        .filter(|p| p.channel_id == thread.thread_id)
        .count();
    assert_eq!(in_thread, 6);
    let in_channel = discord
        .posted()
        .iter()
        .filter(|p| p.channel_id == D_WEB_TEAM)
        .count();
    assert_eq!(in_channel, 1, "only the root in the channel");
}
