//! The end-to-end harness: starting a function binary against the stand-ins, reading what it posted, and
//! a bus in moto with the template's own rules for the webhook receiver.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use standins::discord::{Access, DiscordStandIn};
use standins::rack::{SIGNATURE_HEADER, function_url_event, signature, unix_now};
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

pub const SIGNING_KEYS_PARAMETER: &str = "/rack-notifications/signing-keys";
pub const SIGNING_KEY: &str = "whsec-e2e-current-key";
pub const RACK_BUS: &str = "rack-events";
pub const RACK_SOURCE: &str = "convox.rack";
/// The queue of the rule that takes every event of [`RACK_SOURCE`] on the bus.
pub const EVERY_EVENT: &str = "every-event";

/// Each notify function's EventBridge rule as `template.yaml` declares it: the function's binary and its
/// event pattern, with `!Ref EventSource` replaced by `source`.
pub fn notify_rules(source: &str) -> Vec<(String, Value)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
    let text = std::fs::read_to_string(&path).expect("read template.yaml");
    let template: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&text).expect("parse template.yaml");
    let resources = template["Resources"]
        .as_mapping()
        .expect("the template's Resources");
    let rules: Vec<(String, Value)> = resources
        .iter()
        .filter(|(id, _)| {
            id.as_str()
                .is_some_and(|id| id.starts_with("Notify") && id.ends_with("Function"))
        })
        .map(|(id, resource)| {
            let binary = resource["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .unwrap_or_else(|| panic!("{id:?} names no binary"));
            let pattern = &resource["Properties"]["Events"]["RackEvents"]["Properties"]["Pattern"];
            (binary.to_owned(), pattern_json(pattern, source))
        })
        .collect();
    assert_eq!(rules.len(), 6, "six notify functions in template.yaml");
    rules
}

/// A pattern as JSON; its only intrinsic may be `!Ref EventSource`.
fn pattern_json(value: &serde_yaml_ng::Value, source: &str) -> Value {
    use serde_yaml_ng::Value as Yaml;
    match value {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(*b),
        Yaml::Number(n) => serde_json::to_value(n).expect("a number"),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Sequence(items) => items
            .iter()
            .map(|item| pattern_json(item, source))
            .collect(),
        Yaml::Mapping(map) => map
            .iter()
            .map(|(key, value)| {
                let key = key.as_str().expect("pattern keys are strings").to_owned();
                (key, pattern_json(value, source))
            })
            .collect::<serde_json::Map<_, _>>()
            .into(),
        Yaml::Tagged(tagged)
            if tagged.tag == "Ref" && tagged.value.as_str() == Some("EventSource") =>
        {
            Value::String(source.to_owned())
        }
        Yaml::Tagged(tagged) => panic!(
            "unexpected {} {:?} in an event pattern",
            tagged.tag, tagged.value
        ),
    }
}

/// A bus in moto as a stack sees it: the signing keys in SSM, one rule per notify function with the
/// template's pattern, and one rule for every event of the source, each into its own SQS queue.
pub struct RackBus {
    pub moto: MotoServer,
    /// Queue URLs by notify function binary.
    pub queues: BTreeMap<String, String>,
    pub every_event: String,
}

impl RackBus {
    /// `keys`: the keys parameter's value, comma-separated.
    pub async fn start(keys: &str) -> Self {
        let moto = MotoServer::start().await;
        moto.put_secure_parameter(SIGNING_KEYS_PARAMETER, keys)
            .await;
        moto.create_event_bus(RACK_BUS).await;
        let mut queues = BTreeMap::new();
        for (binary, pattern) in notify_rules(RACK_SOURCE) {
            let url = moto.rule_to_queue(RACK_BUS, &binary, &pattern).await;
            queues.insert(binary, url);
        }
        let every = serde_json::json!({"source": [RACK_SOURCE]});
        let every_event = moto.rule_to_queue(RACK_BUS, EVERY_EVENT, &every).await;
        Self {
            moto,
            queues,
            every_event,
        }
    }

    /// The receiver's settings for this bus, signed requests only, logging JSON as the stack has it.
    pub fn receiver_env(&self) -> Vec<(String, String)> {
        let mut env = self.moto.function_env();
        env.extend(self::env(&[
            ("RACK_EVENT_BUS", RACK_BUS),
            ("RACK_SIGNING_KEYS_PARAMETER", SIGNING_KEYS_PARAMETER),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ]));
        env
    }

    /// Takes the events off every notify function's queue, by function; functions that got none are left out.
    pub async fn routed(&self) -> BTreeMap<String, Vec<Value>> {
        let mut routed = BTreeMap::new();
        for (binary, url) in &self.queues {
            let events = self.moto.drain_queue(url).await;
            if !events.is_empty() {
                routed.insert(binary.clone(), events);
            }
        }
        routed
    }

    /// Takes every event of the source off the bus's catch-all queue.
    pub async fn every_event(&self) -> Vec<Value> {
        self.moto.drain_queue(&self.every_event).await
    }
}

/// A Function URL POST of `body` signed now with each of `keys`.
pub fn signed_post(body: &[u8], keys: &[&str]) -> Value {
    signed_post_at(body, keys, unix_now())
}

/// A Function URL POST of `body` signed with each of `keys`, `t` = `t`.
pub fn signed_post_at(body: &[u8], keys: &[&str], t: u64) -> Value {
    let header = signature(keys, t, body);
    post(body, &[(SIGNATURE_HEADER, &header)])
}

/// A Function URL POST of `body`, sent as text, with `headers`.
pub fn post(body: &[u8], headers: &[(&str, &str)]) -> Value {
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(headers);
    function_url_event("POST", &all, body, false)
}

/// The HTTP status a Function URL invocation answered with.
#[track_caller]
pub fn status(invocation: Invocation) -> u64 {
    let response = invocation.expect_ok();
    assert_eq!(
        response["body"], "",
        "answers have an empty body: {response}"
    );
    response["statusCode"]
        .as_u64()
        .unwrap_or_else(|| panic!("no statusCode in {response}"))
}
