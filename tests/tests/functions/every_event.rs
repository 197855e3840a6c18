//! Every sample event, on both providers, through its category's binary: right place, every detail.

use serde_json::Value;
use shared::Category;

use tests::*;

/// Where the README's routing sends an event: the owner of `web` or `billing`, else the rack's channel.
fn expected_route(event: &Value) -> &'static str {
    let data = &event["detail"]["data"];
    let action = event["detail"]["action"].as_str().unwrap();
    let app = data["app"].as_str().or_else(|| {
        action
            .starts_with("app:")
            .then(|| data["name"].as_str())
            .flatten()
    });
    match (app, data["rack"].as_str()) {
        (Some("web"), _) => "web-team",
        (Some("billing"), _) => "billing-owner",
        (_, Some("staging")) => "staging",
        (_, Some("production")) => "production",
        _ => "general",
    }
}

/// Samples that no function posts: audit-only events and successful builds.
fn never_posted(name: &str) -> bool {
    name.starts_with("audit-") || name == "build-create-success.json"
}

/// The function a sample goes to; the never-posted ones are sent to the function of their prefix anyway,
/// as a misconfigured rule would.
fn function_for(event: &Value) -> &'static str {
    let action = event["detail"]["action"].as_str().unwrap();
    match Category::of(action) {
        Some(category) => function_name(category),
        None if action.starts_with("app:budget:") => "notify-budget",
        None => "notify-app",
    }
}

fn function_name(category: Category) -> &'static str {
    match category {
        Category::App => "notify-app",
        Category::Release => "notify-release",
        Category::Infrastructure => "notify-infrastructure",
        Category::Workflow => "notify-workflow",
        Category::Alert => "notify-alert",
        Category::Budget => "notify-budget",
    }
}

/// The details a message must show: the rack and every data value but the rack's bookkeeping.
fn assert_shows_details(name: &str, event: &Value, text: &str) {
    for (key, value) in event["detail"]["data"].as_object().unwrap() {
        if ["tick_id", "schema_version"].contains(&key.as_str()) {
            continue;
        }
        let value = value.as_str().unwrap();
        assert!(
            text.contains(value),
            "{name}: `{key}` = `{value}` missing from:\n{text}"
        );
    }
}

enum Provider {
    Slack,
    Discord,
}

async fn every_event_reaches_its_place(provider: Provider) {
    let (slack, discord) = (slack().await, discord().await);
    let (token, settings) = match provider {
        Provider::Slack => (SLACK_TOKEN, slack_env(&slack)),
        Provider::Discord => (DISCORD_TOKEN, discord_env(&discord)),
    };
    let (_moto, ssm_env) = ssm_with_token(token).await;
    let settings: Vec<_> = settings.into_iter().chain(ssm_env).collect();
    let samples = samples();
    assert!(samples.len() >= 30, "events/ holds a sample per event type");
    let mut posted = 0;
    let mut covered = Vec::new();
    for category in Category::ALL {
        let name = function_name(category);
        let function = Function::start(name, settings.clone()).await;
        for (file, event) in samples.iter().filter(|(_, e)| function_for(e) == name) {
            let report = function.invoke(event.clone()).await.expect_ok();
            covered.push(file.clone());
            assert_eq!(report["event_id"], event["id"], "{file}");
            if never_posted(file) {
                assert!(report["skipped"].is_string(), "{file}: {report}");
                assert!(
                    function
                        .process
                        .wait_for_log("skipped", std::time::Duration::from_secs(5))
                        .await
                );
                continue;
            }
            posted += 1;
            let route = expected_route(event);
            let (channel, body) = match provider {
                Provider::Slack => {
                    let message = slack
                        .wait_for_posted(posted, std::time::Duration::from_secs(5))
                        .await
                        .pop()
                        .unwrap();
                    let expected = match route {
                        "web-team" => WEB_TEAM.to_owned(),
                        "billing-owner" => SlackUser::new(BILLING_OWNER).dm_channel(),
                        "staging" => STAGING.to_owned(),
                        "production" => PRODUCTION.to_owned(),
                        _ => GENERAL.to_owned(),
                    };
                    (message.channel == expected, message.body)
                }
                Provider::Discord => {
                    let message = discord
                        .wait_for_posted(posted, std::time::Duration::from_secs(5))
                        .await
                        .pop()
                        .unwrap();
                    let expected = match route {
                        "web-team" => D_WEB_TEAM.to_owned(),
                        "billing-owner" => discord.dm_channel(D_BILLING_OWNER).unwrap(),
                        "staging" => D_STAGING.to_owned(),
                        "production" => D_PRODUCTION.to_owned(),
                        _ => D_GENERAL.to_owned(),
                    };
                    assert_eq!(
                        message.body["embeds"].as_array().unwrap().len(),
                        1,
                        "{file}"
                    );
                    assert_eq!(
                        message.body["allowed_mentions"]["parse"],
                        serde_json::json!([]),
                        "{file}"
                    );
                    (message.channel_id == expected, message.body)
                }
            };
            assert!(channel, "{file} should go to {route}: {report}");
            let text = plain_text(&body);
            assert_shows_details(file, event, &text);
            let action = event["detail"]["action"].as_str().unwrap();
            assert!(text.contains(action), "{file}: the event type is shown");
            let status = event["detail"]["status"].as_str().unwrap_or("success");
            assert!(text.contains(status), "{file}: the status is shown");
        }
    }
    assert_eq!(
        covered.len(),
        samples.len(),
        "every sample went to a function"
    );
    match provider {
        Provider::Slack => assert_eq!(slack.posted().len(), posted),
        Provider::Discord => assert_eq!(discord.posted().len(), posted),
    }
}

use standins::slack::SlackUser;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_on_slack() {
    every_event_reaches_its_place(Provider::Slack).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_on_discord() {
    every_event_reaches_its_place(Provider::Discord).await;
}
