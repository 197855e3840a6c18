//! The settings: what reads, and how every error names the variable and the place.

use secrecy::ExposeSecret;

use super::*;
use crate::destination::Place;

fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_vars(|name| vars.get(name).cloned())
}

const BASE: [(&str, &str); 3] = [
    (PROVIDER, "slack"),
    (TOKEN_PARAMETER, "/rack-notifications/token"),
    (DEFAULT_CHANNEL, "#general"),
];

fn with(extra: &[(&'static str, &'static str)]) -> Result<Config, ConfigError> {
    let mut vars: Vec<(&str, &str)> = BASE
        .iter()
        .copied()
        .filter(|(k, _)| extra.iter().all(|(e, _)| e != k))
        .collect();
    vars.extend_from_slice(extra);
    config(&vars)
}

fn error(extra: &[(&'static str, &'static str)]) -> String {
    with(extra).unwrap_err().to_string()
}

#[test]
fn reads_a_full_configuration() {
    let config = with(&[
        (
            CHANNEL_MAPPING,
            " staging=staging-deploys , production=#production-deploys,",
        ),
        (OWNER_MAPPING, "web=#web-team,billing=@U0123ABC"),
        (CATALOG_PATH, "/catalog/"),
        (DEDUP_TABLE, " rack-notifications-deliveries "),
        (SLACK_API_URL, "http://127.0.0.1:9000/api/"),
    ])
    .unwrap();
    assert_eq!(
        config.seed.environments["production"].place,
        Place::Channel("production-deploys".into())
    );
    assert_eq!(
        config.seed.owners["billing"].place,
        Place::User("U0123ABC".into())
    );
    assert_eq!(config.catalog_path.as_deref(), Some("/catalog"));
    assert_eq!(
        config.dedup_table.as_deref(),
        Some("rack-notifications-deliveries")
    );
    assert_eq!(config.slack_url, "http://127.0.0.1:9000/api");
    assert!(matches!(config.routes, RoutesSource::None));
}

#[test]
fn errors_name_the_variable_and_the_place() {
    assert_eq!(
        error(&[(CHANNEL_MAPPING, "staging=a, production")]),
        "NOTIFICATIONS_CHANNEL_MAPPING: item 2 (`production`) has no `=`"
    );
    assert_eq!(
        error(&[(PROVIDER, "teams")]),
        "NOTIFICATIONS_PROVIDER: `teams` is not `slack` or `discord`"
    );
    assert!(error(&[(OWNER_MAPPING, "web=@bob")]).starts_with(
        "NOTIFICATIONS_OWNER_MAPPING: item 1 (`web=@bob`) `@bob` is not a Slack user id"
    ));
    assert_eq!(
        error(&[(SLACK_API_URL, "ftp://x")]),
        "SLACK_API_URL: `ftp://x` is not an http(s) URL"
    );
    assert!(error(&[(CATALOG_PATH, "catalog")]).starts_with("NOTIFICATIONS_CATALOG_PATH:"));
    assert!(
        error(&[(DEDUP_TABLE, "my table")])
            .starts_with("NOTIFICATIONS_DEDUP_TABLE: `my table` is not a DynamoDB table name")
    );
    assert!(
        error(&[(DEDUP_TABLE, "arn:aws:s3:::bucket")]).starts_with("NOTIFICATIONS_DEDUP_TABLE:")
    );
    let missing = config(&[(PROVIDER, "discord")]).unwrap_err().to_string();
    assert!(
        missing.starts_with("NOTIFICATIONS_TOKEN_PARAMETER is not set"),
        "{missing}"
    );
}

#[test]
fn the_dedup_table_is_optional_and_may_be_an_arn() {
    assert_eq!(config(&BASE).unwrap().dedup_table, None);
    let arn = "arn:aws:dynamodb:us-east-1:123456789012:table/rack-deliveries";
    let mut vars = BASE.to_vec();
    vars.push((DEDUP_TABLE, arn));
    assert_eq!(config(&vars).unwrap().dedup_table.as_deref(), Some(arn));
}

#[test]
fn discord_needs_numeric_channels() {
    let err = config(&[
        (PROVIDER, "discord"),
        (TOKEN, "t"),
        (DEFAULT_CHANNEL, "general"),
    ])
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("NOTIFICATIONS_DEFAULT_CHANNEL: `general` is not a Discord id")
    );
}

#[test]
fn a_literal_token_never_shows() {
    let config = config(&[
        (PROVIDER, "slack"),
        (TOKEN, "xoxb-secret"),
        (DEFAULT_CHANNEL, "general"),
    ])
    .unwrap();
    assert!(!format!("{config:?}").contains("xoxb-secret"));
    match &config.tokens[&Provider::Slack] {
        SecretSource::Literal(token) => assert_eq!(token.expose_secret(), "xoxb-secret"),
        SecretSource::Parameter(_) => panic!("expected the literal token"),
    }
}

#[test]
fn both_providers_each_with_its_own_token() {
    let config = with(&[
        (DISCORD_TOKEN_PARAMETER, "/rack-notifications/discord-token"),
        (CHANNEL_MAPPING, "production=discord:#42"),
    ])
    .unwrap();
    assert_eq!(config.tokens.len(), 2);
    assert_eq!(
        config.seed.environments["production"].provider,
        Provider::Discord
    );
    assert!(
        error(&[(CHANNEL_MAPPING, "production=discord:#42")])
            .starts_with("NOTIFICATIONS_CHANNEL_MAPPING: `#42` is on Discord, and the stack has no Discord bot token")
    );
    assert!(
        error(&[(SLACK_TOKEN_PARAMETER, "/x")])
            .starts_with("NOTIFICATIONS_SLACK_TOKEN_PARAMETER: NOTIFICATIONS_TOKEN_PARAMETER already names the Slack token")
    );
}

#[test]
fn a_routing_document_is_checked_at_start_naming_route_and_field() {
    let config = with(&[(
        ROUTES,
        "routes: [{name: oncall, match: {category: alert}, to: [slack:#oncall]}]",
    )])
    .unwrap();
    assert!(matches!(config.routes, RoutesSource::Fixed(ref doc) if doc.routes.len() == 1));
    assert_eq!(
        error(&[(
            ROUTES,
            "routes: [{name: oncall, match: {category: alerts}, to: ['#oncall']}]"
        )]),
        "NOTIFICATIONS_ROUTES: route 1 (`oncall`): `match.category`: `alerts` is not one of app, release, infrastructure, workflow, alert, budget"
    );
    assert!(
        error(&[(ROUTES, "routes: [{to: [discord:#42]}]")])
            .starts_with("NOTIFICATIONS_ROUTES: route 1 (`#1`): `to` item 1: `discord:#42` needs a Discord bot token")
    );
    assert!(error(&[(ROUTES, "x"), (ROUTES_PARAMETER, "/r")]).contains("not both"));
    assert!(matches!(
        with(&[(ROUTES_PARAMETER, "/r")]).unwrap().routes,
        RoutesSource::Parameter { .. }
    ));
}
