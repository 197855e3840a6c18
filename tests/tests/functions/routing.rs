//! Routing beyond the table: the live service catalog, DMs by email, and the default channel as safety net.

use std::time::Duration;

use serde_json::json;
use standins::slack::SlackUser;

use tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_catalog_wins_over_the_static_owners() {
    let slack = slack().await;
    let (moto, ssm_env) = ssm_with_token(SLACK_TOKEN).await;
    moto.put_secure_parameter("/catalog/web/owner-im", "#staging-deploys")
        .await;
    let settings = with(
        slack_env(&slack),
        &[("NOTIFICATIONS_CATALOG_PATH", "/catalog")],
    );
    let function = Function::start(
        "notify-release",
        settings.into_iter().chain(ssm_env).collect(),
    )
    .await;

    let report = function
        .invoke(sample("release-promote-success.json"))
        .await
        .expect_ok();
    assert_eq!(report["delivered"]["rule"], "owner");
    assert_eq!(
        slack.wait_for_posted(1, Duration::from_secs(5)).await[0].channel,
        STAGING
    );
    // No catalog entry for `api`: the static routes apply.
    let report = function
        .invoke(variant(
            "release-create.json",
            "ev-api",
            &[("app", "api"), ("rack", "production")],
        ))
        .await
        .expect_ok();
    assert_eq!(report["delivered"]["rule"], "environment");
    assert_eq!(
        slack.wait_for_posted(2, Duration::from_secs(5)).await[1].channel,
        PRODUCTION
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slack_owner_given_by_email_gets_a_direct_message() {
    let slack = slack().await;
    let settings = with(
        slack_env(&slack),
        &[
            ("NOTIFICATIONS_TOKEN", SLACK_TOKEN),
            (
                "NOTIFICATIONS_OWNER_MAPPING",
                &format!("web=@{BILLING_OWNER_EMAIL}"),
            ),
        ],
    );
    let function = Function::start("notify-release", settings).await;
    function
        .invoke(sample("release-promote-success.json"))
        .await
        .expect_ok();
    let posted = slack.wait_for_posted(1, Duration::from_secs(5)).await;
    assert_eq!(
        posted[0].channel,
        SlackUser::new(BILLING_OWNER).dm_channel()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_slack_channel_falls_back_to_the_default_and_says_so() {
    let slack = slack().await;
    let settings = with(
        slack_env(&slack),
        &[
            ("NOTIFICATIONS_TOKEN", SLACK_TOKEN),
            ("NOTIFICATIONS_OWNER_MAPPING", "web=#archived-team"),
        ],
    );
    let function = Function::start("notify-release", settings).await;
    let report = function
        .invoke(sample("release-promote-success.json"))
        .await
        .expect_ok();
    assert_eq!(report["delivered"]["redirected_from"], "#archived-team");
    assert_eq!(report["delivered"]["destination"], "#general");
    let posted = slack.wait_for_posted(1, Duration::from_secs(5)).await;
    assert_eq!(posted[0].channel, GENERAL);
    assert!(plain_text(&posted[0].body).contains("Meant for #archived-team (owner route)"));
    assert!(
        function.process.logs().contains("channel_not_found"),
        "the reason is logged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_discord_user_who_blocks_dms_gets_it_in_the_default_channel() {
    let discord = discord().await;
    let settings = with(
        discord_env(&discord),
        &[
            ("NOTIFICATIONS_TOKEN", DISCORD_TOKEN),
            (
                "NOTIFICATIONS_OWNER_MAPPING",
                &format!("web=@{D_BLOCKED_USER}"),
            ),
        ],
    );
    let function = Function::start("notify-release", settings).await;
    let report = function
        .invoke(sample("release-promote-success.json"))
        .await
        .expect_ok();
    assert_eq!(
        report["delivered"]["redirected_from"],
        format!("@{D_BLOCKED_USER}")
    );
    let posted = discord.wait_for_posted(1, Duration::from_secs(5)).await;
    assert_eq!(posted[0].channel_id, D_GENERAL);
    assert!(plain_text(&posted[0].body).contains("50007"));
    assert_eq!(posted[0].body["allowed_mentions"], json!({"parse": []}));
}
