//! Routes as data: both providers from one stack, webhook destinations, mentions from the routing
//! document only, and fan-out where one destination fails and only it is retried.

use serde_json::json;
use standins::discord::{Access, DiscordStandIn};
use standins::slack::{SlackChannel, SlackStandIn};
use standins::{Invocation, MotoServer};

use tests::*;

const DISCORD_TOKEN_PARAMETER: &str = "/rack-notifications/discord-token";
const SLACK_HOOK: &str = "/rack-notifications/webhooks/slack-ops";
const DISCORD_HOOK: &str = "/rack-notifications/webhooks/discord-ops";
const ONCALL_ROLE: &str = "700000000000000001";

/// A Slack and a Discord stand-in with a webhook each, and a moto holding the Discord token, the
/// webhooks' URLs and the deliveries table.
async fn both() -> (SlackStandIn, DiscordStandIn, MotoServer) {
    let slack = SlackStandIn::builder()
        .token(SLACK_TOKEN)
        .channel(SlackChannel::public(GENERAL, "general"))
        .channel(SlackChannel::public(STAGING, "staging-deploys"))
        .channel(SlackChannel::public(PRODUCTION, "production-deploys"))
        .webhook(GENERAL)
        .rate_limit(None)
        .start()
        .await;
    let discord = DiscordStandIn::builder()
        .token(DISCORD_TOKEN)
        .channel(D_GENERAL, Access::Send)
        .channel(D_PRODUCTION, Access::Send)
        .webhook(D_STAGING)
        .channel(D_STAGING, Access::Send)
        .rate_limit(None)
        .start()
        .await;
    let moto = MotoServer::start().await;
    moto.create_dedup_table(DEDUP_TABLE).await;
    moto.put_secure_parameter(DISCORD_TOKEN_PARAMETER, DISCORD_TOKEN)
        .await;
    moto.put_secure_parameter(SLACK_HOOK, &slack.webhook_url(GENERAL))
        .await;
    (slack, discord, moto)
}

fn settings(
    slack: &SlackStandIn,
    discord: &DiscordStandIn,
    moto: &MotoServer,
    routes: &str,
) -> Vec<(String, String)> {
    with(
        slack_env(slack),
        &[
            ("NOTIFICATIONS_TOKEN", SLACK_TOKEN),
            (
                "NOTIFICATIONS_DISCORD_TOKEN_PARAMETER",
                DISCORD_TOKEN_PARAMETER,
            ),
            ("DISCORD_API_URL", &discord.uri()),
            ("NOTIFICATIONS_DEDUP_TABLE", DEDUP_TABLE),
            ("NOTIFICATIONS_WEBHOOK_PATH", "/rack-notifications/webhooks"),
            ("NOTIFICATIONS_ROUTES", routes),
        ],
    )
    .into_iter()
    .chain(moto.function_env())
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_stack_posts_to_both_providers_by_route_with_mentions_from_the_document_only() {
    let (slack, discord, moto) = both().await;
    let routes = format!(
        "routes:
          - name: oncall
            match: {{category: alert}}
            to: ['discord:#{D_PRODUCTION}']
            mention: ['discord:@&{ONCALL_ROLE}']
          - name: deploys
            match: {{type: ['release:*', 'app:promote:*']}}
            to: ['#production-deploys']"
    );
    let function =
        Function::start("notify-alert", settings(&slack, &discord, &moto, &routes)).await;
    let mut hostile = sample("alert-firing.json");
    hostile["detail"]["data"]["message"] = json!("<@&999> @everyone <@42>");
    let report = function.invoke(hostile).await.expect_ok();
    assert_eq!(report["delivered"]["provider"], "discord");
    assert_eq!(report["delivered"]["rule"], "route oncall");
    let posted = &discord.posted()[0];
    assert_eq!(posted.channel_id, D_PRODUCTION);
    assert_eq!(
        posted.body["allowed_mentions"],
        json!({"parse": [], "roles": [ONCALL_ROLE]})
    );
    assert_eq!(
        posted.pings.roles,
        [ONCALL_ROLE],
        "the route's role, and nobody from the event's text"
    );
    assert!(posted.pings.users.is_empty() && !posted.pings.everyone);

    let function =
        Function::start("notify-release", settings(&slack, &discord, &moto, &routes)).await;
    function
        .invoke(sample("release-scale.json"))
        .await
        .expect_ok();
    assert_eq!(slack.posted()[0].channel, PRODUCTION);
    assert!(slack.posted()[0].pings.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_of_both_providers_are_destinations_and_their_urls_never_show() {
    let (slack, discord, moto) = both().await;
    let routes = format!(
        "routes: [{{name: hooks, to: ['slack-webhook:{SLACK_HOOK}', 'discord-webhook:{DISCORD_HOOK}']}}]"
    );
    let hook_url = discord.webhook_url(D_STAGING);
    moto.put_secure_parameter(DISCORD_HOOK, &hook_url).await;
    let mut settings = settings(&slack, &discord, &moto, &routes);
    settings.push(("RUST_LOG".into(), "trace".into()));
    let function = Function::start("notify-workflow", settings).await;
    let report = function
        .invoke(sample("workflow-complete.json"))
        .await
        .expect_ok();
    assert_eq!(
        report["delivered"]["destination"],
        format!("webhook {SLACK_HOOK}")
    );
    assert_eq!(
        report["also"][0]["destination"],
        format!("webhook {DISCORD_HOOK}")
    );
    let slack_posted = slack.posted();
    assert!(slack_posted[0].via_webhook && slack_posted[0].channel == GENERAL);
    let discord_posted = discord.posted();
    assert!(discord_posted[0].via_webhook && discord_posted[0].channel_id == D_STAGING);
    assert!(
        !report["also"][0]["message_id"].as_str().unwrap().is_empty(),
        "?wait=true gives the id"
    );
    let logs = function.process.logs();
    let secret = hook_url.rsplit('/').next().unwrap();
    assert!(
        !logs.contains(secret),
        "a webhook's token leaked into the logs"
    );
    assert!(!logs.contains(&slack.webhook_url(GENERAL)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_out_retries_only_the_destination_that_failed() {
    let (slack, discord, moto) = both().await;
    let routes = format!(
        "routes:
          - {{name: slack, to: ['#staging-deploys'], continue: true}}
          - {{name: discord, to: ['discord:#{D_PRODUCTION}'], continue: true}}
          - {{name: hook, to: ['discord-webhook:{DISCORD_HOOK}']}}"
    );
    let function = Function::start("notify-app", settings(&slack, &discord, &moto, &routes)).await;
    let event = sample("app-create.json");
    // The webhook's parameter is not there yet: that destination fails, the others are delivered.
    let outcome = function.invoke(event.clone()).await;
    let Invocation::Err(error) = outcome else {
        panic!("expected the event to fail for its missing webhook, got {outcome:?}")
    };
    assert_eq!(error.error_type, "TokenUnavailable", "{error:?}");
    assert!(error.error_message.contains(DISCORD_HOOK), "{error:?}");
    assert_eq!((slack.posted().len(), discord.posted().len()), (1, 1));

    // Lambda's retry, once the parameter exists: only the webhook posts.
    moto.put_secure_parameter(DISCORD_HOOK, &discord.webhook_url(D_STAGING))
        .await;
    let report = function.invoke(event).await.expect_ok();
    assert_eq!(report["delivered"]["duplicate"], true);
    assert_eq!(report["also"][0]["duplicate"], true);
    assert!(report["also"][1].get("duplicate").is_none());
    assert_eq!(slack.posted().len(), 1);
    let posted = discord.posted();
    assert_eq!(posted.len(), 2);
    assert!(posted[1].via_webhook);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_no_route_matches_goes_by_the_seed_rules_down_to_the_default() {
    let (slack, discord, moto) = both().await;
    let routes =
        "routes: [{name: alerts-only, match: {category: alert}, to: ['#production-deploys']}]";
    let function = Function::start(
        "notify-infrastructure",
        settings(&slack, &discord, &moto, routes),
    )
    .await;
    let report = function
        .invoke(sample("resource-create.json"))
        .await
        .expect_ok();
    assert_eq!(report["delivered"]["rule"], "environment");
    let unmapped = variant("resource-create.json", "ev-dev", &[("rack", "dev")]);
    let report = function.invoke(unmapped).await.expect_ok();
    assert_eq!(report["delivered"]["rule"], "default");
    let channels: Vec<String> = slack.posted().iter().map(|p| p.channel.clone()).collect();
    assert_eq!(channels, [STAGING, GENERAL]);
}
