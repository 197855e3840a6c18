//! The end-to-end harness: starting a function binary against the stand-ins, and reading what it posted.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use standins::discord::{Access, DiscordStandIn};
use standins::slack::{SlackChannel, SlackStandIn, SlackUser};
use standins::{FunctionProcess, Invocation, MotoServer, RuntimeApi, function_binary};

pub const TOKEN_PARAMETER: &str = "/rack-notifications/token";
pub const SLACK_TOKEN: &str = "xoxb-e2e-secret-token";
pub const DISCORD_TOKEN: &str = "discord-e2e-secret-token";

/// Slack channel ids of the routing table below.
pub const GENERAL: &str = "C0GENERAL";
pub const STAGING: &str = "C0STAGING";
pub const PRODUCTION: &str = "C0PRODUCTION";
pub const WEB_TEAM: &str = "C0WEBTEAM";
pub const BILLING_OWNER: &str = "U0123ABC";
pub const BILLING_OWNER_EMAIL: &str = "billing-owner@example.com";

/// Discord ids of the same roles.
pub const D_GENERAL: &str = "100000000000000001";
pub const D_STAGING: &str = "100000000000000002";
pub const D_PRODUCTION: &str = "100000000000000003";
pub const D_WEB_TEAM: &str = "100000000000000004";
pub const D_BILLING_OWNER: &str = "300000000000000001";
pub const D_BLOCKED_USER: &str = "300000000000000002";

pub async fn slack() -> SlackStandIn {
    SlackStandIn::builder()
        .token(SLACK_TOKEN)
        .channel(SlackChannel::public(GENERAL, "general"))
        .channel(SlackChannel::public(STAGING, "staging-deploys"))
        .channel(SlackChannel::public(PRODUCTION, "production-deploys"))
        .channel(SlackChannel::public(WEB_TEAM, "web-team"))
        .user(SlackUser::new(BILLING_OWNER).email(BILLING_OWNER_EMAIL))
        .rate_limit(None)
        .start()
        .await
}

pub async fn discord() -> DiscordStandIn {
    DiscordStandIn::builder()
        .token(DISCORD_TOKEN)
        .channel(D_GENERAL, Access::Send)
        .channel(D_STAGING, Access::Send)
        .channel(D_PRODUCTION, Access::Send)
        .channel(D_WEB_TEAM, Access::Send)
        .user(D_BILLING_OWNER, true)
        .user(D_BLOCKED_USER, false)
        .rate_limit(None)
        .start()
        .await
}

/// The routing of the README's example: owners for `web` and `billing`, a channel per rack. Every event
/// a message of its own: the live messages' tests turn them on (`LIVE`).
pub fn slack_env(slack: &SlackStandIn) -> Vec<(String, String)> {
    env(&[
        ("NOTIFICATIONS_PROVIDER", "slack"),
        ("NOTIFICATIONS_LIVE_MESSAGES", "false"),
        ("NOTIFICATIONS_DEFAULT_CHANNEL", "#general"),
        (
            "NOTIFICATIONS_CHANNEL_MAPPING",
            "staging=staging-deploys, production=production-deploys",
        ),
        (
            "NOTIFICATIONS_OWNER_MAPPING",
            "web=#web-team,billing=@U0123ABC",
        ),
        ("SLACK_API_URL", &slack.uri()),
    ])
}

pub fn discord_env(discord: &DiscordStandIn) -> Vec<(String, String)> {
    env(&[
        ("NOTIFICATIONS_PROVIDER", "discord"),
        ("NOTIFICATIONS_LIVE_MESSAGES", "false"),
        ("NOTIFICATIONS_DEFAULT_CHANNEL", D_GENERAL),
        (
            "NOTIFICATIONS_CHANNEL_MAPPING",
            &format!("staging=#{D_STAGING},production=#{D_PRODUCTION}"),
        ),
        (
            "NOTIFICATIONS_OWNER_MAPPING",
            &format!("web=#{D_WEB_TEAM},billing=@{D_BILLING_OWNER}"),
        ),
        ("DISCORD_API_URL", &discord.uri()),
    ])
}

/// Turns live messages on.
pub const LIVE: (&str, &str) = ("NOTIFICATIONS_LIVE_MESSAGES", "true");

pub fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Replaces or adds settings.
pub fn with(mut base: Vec<(String, String)>, pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    for (key, value) in pairs {
        base.retain(|(k, _)| k != key);
        base.push((key.to_string(), value.to_string()));
    }
    base
}

/// A moto SSM server holding the token as a SecureString, and the settings that point a function at it.
pub async fn ssm_with_token(token: &str) -> (MotoServer, Vec<(String, String)>) {
    let moto = MotoServer::start().await;
    moto.put_secure_parameter(TOKEN_PARAMETER, token).await;
    let mut env = moto.function_env();
    env.push((
        "NOTIFICATIONS_TOKEN_PARAMETER".into(),
        TOKEN_PARAMETER.into(),
    ));
    (moto, env)
}

pub const DEDUP_TABLE: &str = "rack-notifications-deliveries";

/// A moto server holding the deliveries table, and the settings that point a function at it.
pub async fn dedup_table() -> (MotoServer, Vec<(String, String)>) {
    let moto = MotoServer::start().await;
    moto.create_dedup_table(DEDUP_TABLE).await;
    let mut env = moto.function_env();
    env.push(("NOTIFICATIONS_DEDUP_TABLE".into(), DEDUP_TABLE.into()));
    (moto, env)
}

/// One running function binary under its own Runtime API stand-in.
pub struct Function {
    pub api: RuntimeApi,
    pub process: FunctionProcess,
}

impl Function {
    pub async fn start(name: &str, env: Vec<(String, String)>) -> Self {
        let binary = tokio::task::spawn_blocking({
            let name = name.to_owned();
            move || function_binary(&name)
        })
        .await
        .unwrap();
        let api = RuntimeApi::start_for(name).await;
        let process = FunctionProcess::spawn(binary, &api, env);
        Self { api, process }
    }

    pub async fn invoke(&self, event: Value) -> Invocation {
        self.api.invoke(event, Duration::from_secs(20)).await
    }
}

/// Every sample of `events/`, by file name.
pub fn samples() -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../events");
    let mut samples: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, serde_json::from_str(&text).unwrap())
        })
        .collect();
    samples.sort_by(|a, b| a.0.cmp(&b.0));
    samples
}

pub fn sample(name: &str) -> Value {
    samples()
        .into_iter()
        .find(|(file, _)| file == name)
        .unwrap_or_else(|| panic!("no sample {name}"))
        .1
}

/// A sample with other data values and a fresh id: another rack event, so its timestamp moves by a
/// number of seconds derived from `id` (the delivery records know a rack event by its payload).
pub fn variant(name: &str, id: &str, data: &[(&str, &str)]) -> Value {
    let mut event = sample(name);
    event["id"] = id.into();
    let base = event["detail"]["timestamp"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
    if let Some(base) = base {
        let offset = id.bytes().fold(0u64, |hash, b| {
            hash.wrapping_mul(31).wrapping_add(u64::from(b))
        }) % 1_000_000;
        let moved = base + chrono::Duration::seconds(offset as i64);
        event["detail"]["timestamp"] = moved
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            .into();
    }
    for (key, value) in data {
        event["detail"]["data"][*key] = (*value).into();
    }
    event
}

/// The delivery record's key of `event` for the Slack or Discord `destination` (`#general`, `@U0123`).
pub fn delivery_key(event: &Value, provider: &str, destination: &str) -> String {
    let event = shared::event::RackEvent::from_eventbridge(event.clone()).expect("a rack event");
    format!(
        "{}#{provider}:{destination}",
        event.key().expect("an event with a key")
    )
}

/// Every string of a message body, with the providers' escapes undone, so data values can be looked up.
pub fn plain_text(body: &Value) -> String {
    fn walk(value: &Value, out: &mut String) {
        match value {
            Value::String(s) => {
                out.push_str(s);
                out.push('\n');
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            Value::Object(map) => map.values().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = String::new();
    walk(body, &mut out);
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
        .replace(['\u{200B}', '\\'], "")
}
