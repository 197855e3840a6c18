//! What goes wrong: bad settings, bad events, bad tokens, rate limits, outages, hostile text.

use std::time::Duration;

use serde_json::json;
use standins::Invocation;
use standins::discord::DiscordFault;
use standins::slack::SlackFault;

use tests::*;

fn local_slack(slack: &standins::SlackStandIn) -> Vec<(String, String)> {
    with(slack_env(slack), &[("NOTIFICATIONS_TOKEN", SLACK_TOKEN)])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_setting_stops_the_function_at_start_naming_it() {
    let slack = slack().await;
    let settings = with(
        local_slack(&slack),
        &[("NOTIFICATIONS_CHANNEL_MAPPING", "staging=a, production")],
    );
    let function = Function::start("notify-app", settings).await;
    let outcome = function.invoke(sample("app-create.json")).await;
    assert!(matches!(outcome, Invocation::InitError(_)), "{outcome:?}");
    let logs = function.process.logs();
    assert!(
        logs.contains("NOTIFICATIONS_CHANNEL_MAPPING: item 2 (`production`) has no `=`"),
        "{logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_event_is_named_and_the_next_one_is_served() {
    let slack = slack().await;
    let function = Function::start("notify-app", local_slack(&slack)).await;
    let mut bad = sample("app-create.json");
    bad["id"] = "ev-malformed".into();
    bad["detail"]["data"]["count"] = json!(3);
    let error = function.invoke(bad).await.expect_err();
    assert_eq!(error.error_type, "InvalidEvent");
    assert_eq!(
        error.error_message,
        "event ev-malformed: `detail.data.count` is a number; rack data values are strings"
    );
    let mut no_detail = sample("app-create.json");
    no_detail["id"] = "ev-nodetail".into();
    no_detail.as_object_mut().unwrap().remove("detail");
    let error = function.invoke(no_detail).await.expect_err();
    assert!(
        error
            .error_message
            .starts_with("event ev-nodetail: not an EventBridge event"),
        "{error:?}"
    );
    function.invoke(sample("app-create.json")).await.expect_ok();
    assert_eq!(slack.posted().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_slack_token_says_invalid_auth_and_never_shows_the_token() {
    let slack = slack().await;
    let secret = "xoxb-wrong-but-secret-value";
    let settings = with(
        slack_env(&slack),
        &[("NOTIFICATIONS_TOKEN", secret), ("RUST_LOG", "trace")],
    );
    let function = Function::start("notify-app", settings).await;
    let error = function
        .invoke(sample("app-create.json"))
        .await
        .expect_err();
    assert!(error.error_message.contains("invalid_auth"), "{error:?}");
    assert_eq!(error.error_type, "DeliveryRefused");
    assert!(!error.error_message.contains(secret));
    let logs = function.process.logs();
    assert!(logs.contains("invalid_auth"), "trace logs are on");
    assert!(!logs.contains(secret), "the token leaked into the logs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_discord_token_says_401_and_never_shows_the_token() {
    let discord = discord().await;
    let secret = "discord-wrong-but-secret-value";
    let settings = with(
        discord_env(&discord),
        &[("NOTIFICATIONS_TOKEN", secret), ("RUST_LOG", "trace")],
    );
    let function = Function::start("notify-alert", settings).await;
    let error = function
        .invoke(sample("alert-firing.json"))
        .await
        .expect_err();
    assert!(error.error_message.contains("401"), "{error:?}");
    assert!(!error.error_message.contains(secret));
    assert!(
        !function.process.logs().contains(secret),
        "the token leaked into the logs"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_token_parameter_is_named() {
    let slack = slack().await;
    let moto = standins::MotoServer::start().await;
    let settings = with(local_slack(&slack), &[]);
    let settings: Vec<_> = settings
        .into_iter()
        .filter(|(k, _)| k != "NOTIFICATIONS_TOKEN")
        .chain(moto.function_env())
        .chain([(
            "NOTIFICATIONS_TOKEN_PARAMETER".to_owned(),
            "/missing/token".to_owned(),
        )])
        .collect();
    let function = Function::start("notify-workflow", settings).await;
    let error = function
        .invoke(sample("workflow-complete.json"))
        .await
        .expect_err();
    assert_eq!(error.error_type, "TokenUnavailable");
    assert!(
        error
            .error_message
            .contains("SSM parameter `/missing/token` does not exist"),
        "{error:?}"
    );
    // Once the parameter exists, the same container recovers: a failed read is not cached.
    moto.put_secure_parameter("/missing/token", SLACK_TOKEN)
        .await;
    function
        .invoke(sample("workflow-complete.json"))
        .await
        .expect_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_is_read_from_ssm_once_per_container() {
    let slack = slack().await;
    let (moto, ssm_env) = ssm_with_token(SLACK_TOKEN).await;
    let settings: Vec<_> = slack_env(&slack).into_iter().chain(ssm_env).collect();
    let function = Function::start("notify-budget", settings).await;
    function
        .invoke(sample("app-budget-cap.json"))
        .await
        .expect_ok();
    // A changed parameter is not read again by a warm container.
    moto.put_secure_parameter(TOKEN_PARAMETER, "xoxb-rotated")
        .await;
    function
        .invoke(sample("app-budget-threshold.json"))
        .await
        .expect_ok();
    assert_eq!(
        function
            .process
            .logs()
            .matches("read the bot token from SSM")
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_and_outages_are_retried_within_the_deadline() {
    let slack = slack().await;
    let function = Function::start("notify-release", local_slack(&slack)).await;
    slack.fail_next(1, SlackFault::RetryAfter(1));
    function
        .invoke(sample("release-finish.json"))
        .await
        .expect_ok();
    slack.fail_next(2, SlackFault::Status(503));
    function
        .invoke(sample("release-scale.json"))
        .await
        .expect_ok();
    slack.fail_next(1, SlackFault::Error("ratelimited".into()));
    function
        .invoke(sample("release-create.json"))
        .await
        .expect_ok();
    assert_eq!(slack.posted().len(), 3);
    assert_eq!((slack.count_429(), slack.count_5xx()), (1, 2));

    let discord = discord().await;
    let settings = with(
        discord_env(&discord),
        &[("NOTIFICATIONS_TOKEN", DISCORD_TOKEN)],
    );
    let function = Function::start("notify-release", settings).await;
    discord.fail_next(
        1,
        DiscordFault::RateLimited {
            retry_after: 0.4,
            global: false,
        },
    );
    discord.fail_next(1, DiscordFault::Status(502));
    function
        .invoke(sample("release-finish.json"))
        .await
        .expect_ok();
    assert_eq!(discord.posted().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_stays_limited_fails_the_invocation_before_its_deadline() {
    let slack = slack().await;
    let function = Function::start("notify-release", local_slack(&slack)).await;
    slack.fail_next(1_000, SlackFault::RetryAfter(30));
    let outcome = function
        .api
        .invoke(sample("release-finish.json"), Duration::from_secs(4))
        .await;
    let Invocation::Err(error) = outcome else {
        panic!("expected a clean failure, got {outcome:?}")
    };
    assert_eq!(error.error_type, "DeliveryUnavailable");
    assert!(error.error_message.contains("rate limit"), "{error:?}");
    assert_eq!(
        slack.count_429(),
        1,
        "no retry storm: the wait asked for does not fit the deadline"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_text_never_pings_and_never_breaks_a_message() {
    let hostile = [
        ("app", "<!channel> @everyone"),
        ("actor", "<@U0123ABC> @here <!here>"),
        (
            "message",
            &format!("<!everyone> {} @everyone", "x".repeat(10_000)),
        ),
        ("id", "R`*_~|>#[x](y)"),
    ];
    let event = variant("release-promote-error.json", "ev-hostile", &hostile);

    let slack = slack().await;
    let function = Function::start("notify-release", local_slack(&slack)).await;
    function.invoke(event.clone()).await.expect_ok();
    let posted = &slack.wait_for_posted(1, Duration::from_secs(5)).await[0];
    let body = posted.body.to_string();
    for live in ["<!channel>", "<!here>", "<!everyone>", "<@U0123ABC>"] {
        assert!(!body.contains(live), "live {live} in {body:.300}");
    }
    assert!(
        posted.pings.is_empty(),
        "Slack would ping {:?}",
        posted.pings
    );
    assert!(
        posted.links.is_empty(),
        "Slack would link {:?}",
        posted.links
    );

    let discord = discord().await;
    let settings = with(
        discord_env(&discord),
        &[("NOTIFICATIONS_TOKEN", DISCORD_TOKEN)],
    );
    let function = Function::start("notify-release", settings).await;
    function.invoke(event).await.expect_ok();
    let posted = &discord.wait_for_posted(1, Duration::from_secs(5)).await[0];
    assert_eq!(posted.body["allowed_mentions"], json!({"parse": []}));
    assert!(
        posted.pings.is_empty(),
        "Discord would ping {:?}",
        posted.pings
    );
    // The text stays as it was sent, for the reader to copy: escaped for the markup only.
    assert!(
        plain_text(&posted.body).contains("<@U0123ABC> @here <!here>"),
        "{:.300}",
        posted.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_token_takes_effect_on_the_next_event_without_a_redeploy() {
    let slack = slack().await;
    let (moto, ssm_env) = ssm_with_token("xoxb-revoked-old-token").await;
    let settings: Vec<_> = slack_env(&slack).into_iter().chain(ssm_env).collect();
    let function = Function::start("notify-workflow", settings).await;

    // The old token is refused, and the parameter still holds it: the error names the parameter.
    let error = function
        .invoke(sample("workflow-complete.json"))
        .await
        .expect_err();
    assert_eq!(error.error_type, "DeliveryRefused", "{error:?}");
    assert!(
        error
            .error_message
            .contains(&format!("SSM parameter `{TOKEN_PARAMETER}`"))
            && error.error_message.contains("invalid_auth"),
        "{error:?}"
    );
    assert!(!error.error_message.contains("xoxb-revoked-old-token"));

    // An operator rotates it: the warm container reads it again when Slack refuses the old one.
    moto.put_secure_parameter(TOKEN_PARAMETER, SLACK_TOKEN)
        .await;
    function
        .invoke(sample("workflow-complete.json"))
        .await
        .expect_ok();
    assert_eq!(slack.posted().len(), 1);
    let logs = function.process.logs();
    assert!(
        !logs.contains("xoxb-revoked-old-token"),
        "the token leaked into the logs"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_discord_token_takes_effect_too() {
    let discord = discord().await;
    let (moto, ssm_env) = ssm_with_token("discord-old-token").await;
    let settings: Vec<_> = discord_env(&discord).into_iter().chain(ssm_env).collect();
    let function = Function::start("notify-alert", settings).await;
    function
        .invoke(sample("alert-firing.json"))
        .await
        .expect_err();
    moto.put_secure_parameter(TOKEN_PARAMETER, DISCORD_TOKEN)
        .await;
    function
        .invoke(sample("alert-resolved.json"))
        .await
        .expect_ok();
    assert_eq!(discord.posted().len(), 1);
}
