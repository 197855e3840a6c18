//! `DiscordStandIn` over HTTP: auth and User-Agent, channels and DMs, body rules, nonces, rate limits and faults.

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use standins::DiscordStandIn;
use standins::discord::{
    CHANNEL_ID, DiscordFault, DiscordRateLimit, HIDDEN_CHANNEL_ID, OWNER_USER_ID, QUIET_USER_ID,
};

const USER_AGENT: &str = "DiscordBot (https://example.com/rack-notifications, 0.1.0)";

pub(crate) struct Call<'a> {
    pub(crate) method: Method,
    pub(crate) token: Option<&'a str>,
    pub(crate) user_agent: &'a str,
}

pub(crate) const BOT: Call = Call {
    method: Method::POST,
    token: Some("discord-test-token"),
    user_agent: USER_AGENT,
};

pub(crate) async fn send(
    discord: &DiscordStandIn,
    call: Call<'_>,
    route: &str,
    body: &Value,
) -> (StatusCode, HeaderMap, Value) {
    let mut request = reqwest::Client::new()
        .request(call.method, format!("{}{route}", discord.uri()))
        .header("user-agent", call.user_agent)
        .json(body);
    if let Some(token) = call.token {
        request = request.header("authorization", format!("Bot {token}"));
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.json().await.unwrap())
}

pub(crate) async fn post(discord: &DiscordStandIn, channel: &str, body: Value) -> (u16, Value) {
    let (status, _, answer) = send(
        discord,
        BOT,
        &format!("/channels/{channel}/messages"),
        &body,
    )
    .await;
    (status.as_u16(), answer)
}

pub(crate) fn message(content: &str) -> Value {
    json!({"content": content, "allowed_mentions": {"parse": []}})
}

pub(crate) async fn unlimited() -> DiscordStandIn {
    let discord = DiscordStandIn::start().await;
    discord.set_rate_limit(None);
    discord
}

#[tokio::test]
async fn bot_token_and_user_agent_are_required() {
    let discord = unlimited().await;
    let route = format!("/channels/{CHANNEL_ID}/messages");
    let anonymous = Call { token: None, ..BOT };
    let (status, _, answer) = send(&discord, anonymous, &route, &message("hi")).await;
    assert_eq!(
        (status.as_u16(), answer),
        (401, json!({"message": "401: Unauthorized", "code": 0}))
    );
    let wrong = Call {
        token: Some("nope"),
        ..BOT
    };
    assert_eq!(send(&discord, wrong, &route, &message("hi")).await.0, 401);
    let browser = Call {
        user_agent: "reqwest/0.13",
        ..BOT
    };
    let (status, _, answer) = send(&discord, browser, &route, &message("hi")).await;
    assert_eq!(status, 400);
    assert!(
        answer["message"].as_str().unwrap().contains("User-Agent"),
        "{answer}"
    );
    assert!(discord.posted().is_empty());
    assert_eq!(discord.count_invalid(), 2);
}

#[tokio::test]
async fn accepted_messages_are_recorded_with_their_ids() {
    let discord = DiscordStandIn::start().await;
    let body = json!({
        "allowed_mentions": {"parse": []},
        "embeds": [{"title": "Deployed", "color": 0x2EB67D, "fields": [{"name": "App", "value": "web", "inline": true}],
                    "footer": {"text": "rack prod"}, "timestamp": "2026-01-01T00:00:00Z"}],
    });
    let (status, headers, answer) = send(
        &discord,
        BOT,
        &format!("/channels/{CHANNEL_ID}/messages"),
        &body,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["channel_id"], CHANNEL_ID);
    assert_eq!(headers["x-ratelimit-remaining"], "4");
    let posted = discord.posted();
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].message_id, answer["id"].as_str().unwrap());
    assert_eq!(posted[0].body, body);
}

#[tokio::test]
async fn unknown_hidden_and_read_only_channels() {
    let discord = DiscordStandIn::builder()
        .channel(CHANNEL_ID, standins::discord::Access::ReadOnly)
        .channel(HIDDEN_CHANNEL_ID, standins::discord::Access::Hidden)
        .start()
        .await;
    let code = |answer: &Value| answer["code"].as_u64().unwrap();
    let (status, answer) = post(&discord, "555555555555555555", message("x")).await;
    assert_eq!((status, code(&answer)), (404, 10003));
    assert_eq!(answer["message"], "Unknown Channel");
    let (status, answer) = post(&discord, "general", message("x")).await;
    assert_eq!(
        (status, code(&answer)),
        (404, 10003),
        "names are never channels"
    );
    let (status, answer) = post(&discord, HIDDEN_CHANNEL_ID, message("x")).await;
    assert_eq!((status, code(&answer)), (403, 50001));
    let (status, answer) = post(&discord, CHANNEL_ID, message("x")).await;
    assert_eq!((status, code(&answer)), (403, 50013));
}

#[tokio::test]
async fn body_rules() {
    let discord = unlimited().await;
    let (status, answer) = post(&discord, CHANNEL_ID, json!({"content": "@everyone"})).await;
    assert_eq!((status, answer["code"].as_u64()), (400, Some(50035)));
    assert!(answer["errors"]["allowed_mentions"].is_object(), "{answer}");

    let (status, answer) = post(&discord, CHANNEL_ID, message(&"é".repeat(2000))).await;
    assert_eq!(status, 200, "2000 characters fit: {answer}");
    let (_, answer) = post(&discord, CHANNEL_ID, message(&"x".repeat(2001))).await;
    assert_eq!(
        answer["errors"]["content"]["_errors"][0]["code"],
        "BASE_TYPE_MAX_LENGTH"
    );

    let embeds: Vec<Value> = (0..11).map(|i| json!({"title": format!("{i}")})).collect();
    let (_, answer) = post(
        &discord,
        CHANNEL_ID,
        json!({"allowed_mentions": {"parse": []}, "embeds": embeds}),
    )
    .await;
    assert!(answer["errors"]["embeds"]["_errors"].is_array(), "{answer}");

    let fields: Vec<Value> = (0..26)
        .map(|_| json!({"name": "n", "value": "v"}))
        .collect();
    let too_many = json!({"allowed_mentions": {"parse": []}, "embeds": [{"title": "t".repeat(257), "fields": fields}]});
    let (_, answer) = post(&discord, CHANNEL_ID, too_many).await;
    assert!(
        answer["errors"]["embeds"]["0"]["title"].is_object(),
        "{answer}"
    );
    assert!(
        answer["errors"]["embeds"]["0"]["fields"].is_object(),
        "{answer}"
    );

    let (status, answer) = post(
        &discord,
        CHANNEL_ID,
        json!({"allowed_mentions": {"parse": []}}),
    )
    .await;
    assert_eq!((status, answer["code"].as_u64()), (400, Some(50006)));

    let raw = reqwest::Client::new()
        .post(format!("{}/channels/{CHANNEL_ID}/messages", discord.uri()))
        .header("authorization", format!("Bot {}", discord.token()))
        .header("user-agent", USER_AGENT)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    assert_eq!(raw.json::<Value>().await.unwrap()["code"], 50109);
    assert_eq!(discord.posted().len(), 1);
    assert_eq!(discord.count_rejected(), 6);
}

#[tokio::test]
async fn an_enforced_nonce_repeat_returns_the_first_message() {
    let discord = unlimited().await;
    let mut body = message("once");
    body["nonce"] = json!("deploy-42");
    body["enforce_nonce"] = json!(true);
    let (_, first) = post(&discord, CHANNEL_ID, body.clone()).await;
    let (status, again) = post(&discord, CHANNEL_ID, body.clone()).await;
    assert_eq!((status, &again), (200, &first));
    assert_eq!(discord.posted().len(), 1);
    body["enforce_nonce"] = json!(false);
    let (_, unenforced) = post(&discord, CHANNEL_ID, body).await;
    assert_ne!(unenforced["id"], first["id"]);
    assert_eq!(discord.posted().len(), 2);
}

#[tokio::test]
async fn direct_messages() {
    let discord = unlimited().await;
    let open = |user: &str| json!({"recipient_id": user});
    let (status, _, dm) = send(&discord, BOT, "/users/@me/channels", &open(OWNER_USER_ID)).await;
    assert_eq!((status.as_u16(), dm["type"].as_u64()), (200, Some(1)));
    let dm_id = dm["id"].as_str().unwrap();
    assert_eq!(discord.dm_channel(OWNER_USER_ID).as_deref(), Some(dm_id));
    assert_eq!(post(&discord, dm_id, message("yours")).await.0, 200);

    let (status, _, quiet) = send(&discord, BOT, "/users/@me/channels", &open(QUIET_USER_ID)).await;
    assert_eq!(status, 200, "opening works even when the user blocks DMs");
    let (status, answer) = post(&discord, quiet["id"].as_str().unwrap(), message("x")).await;
    assert_eq!((status, answer["code"].as_u64()), (403, Some(50007)));
    assert_eq!(answer["message"], "Cannot send messages to this user");

    let (status, _, unknown) = send(&discord, BOT, "/users/@me/channels", &open("1")).await;
    assert_eq!(
        (status.as_u16(), unknown["code"].as_u64()),
        (400, Some(50035))
    );
}

#[tokio::test]
async fn per_channel_rate_limit_answers_429_with_retry_after() {
    let discord = DiscordStandIn::start().await;
    discord.set_rate_limit(Some(DiscordRateLimit {
        limit: 2,
        per: Duration::from_millis(400),
    }));
    let route = format!("/channels/{CHANNEL_ID}/messages");
    for _ in 0..2 {
        assert_eq!(send(&discord, BOT, &route, &message("x")).await.0, 200);
    }
    let (status, headers, answer) = send(&discord, BOT, &route, &message("x")).await;
    assert_eq!(status, 429);
    assert_eq!(answer["message"], "You are being rate limited.");
    assert_eq!(answer["global"], false);
    let retry_after = answer["retry_after"].as_f64().unwrap();
    assert!(retry_after > 0.0 && retry_after <= 0.4, "{retry_after}");
    assert_eq!(headers["retry-after"], "1");
    tokio::time::sleep(Duration::from_secs_f64(retry_after)).await;
    assert_eq!(send(&discord, BOT, &route, &message("x")).await.0, 200);
    assert_eq!((discord.count_429(), discord.posted().len()), (1, 3));
}

#[tokio::test]
async fn injected_faults() {
    let discord = unlimited().await;
    discord.fail_next(1, DiscordFault::Status(502));
    discord.fail_next(
        1,
        DiscordFault::RateLimited {
            retry_after: 2.5,
            global: true,
        },
    );
    let route = format!("/channels/{CHANNEL_ID}/messages");
    assert_eq!(send(&discord, BOT, &route, &message("x")).await.0, 502);
    let (status, headers, answer) = send(&discord, BOT, &route, &message("x")).await;
    assert_eq!(
        (status.as_u16(), headers["retry-after"].to_str().unwrap()),
        (429, "3")
    );
    assert_eq!(
        (answer["retry_after"].as_f64(), &answer["global"]),
        (Some(2.5), &json!(true))
    );
    assert_eq!(send(&discord, BOT, &route, &message("x")).await.0, 200);
    assert_eq!(discord.errors(), [(502, 0), (429, 0)]);
    assert_eq!((discord.count_5xx(), discord.count_429()), (1, 1));
}

#[tokio::test]
async fn wait_for_posted_returns_once_enough_arrived() {
    let discord = unlimited().await;
    let uri = discord.uri();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        reqwest::Client::new()
            .post(format!("{uri}/channels/{CHANNEL_ID}/messages"))
            .header("authorization", "Bot discord-test-token")
            .header("user-agent", USER_AGENT)
            .json(&message("late"))
            .send()
            .await
            .unwrap();
    });
    let posted = discord.wait_for_posted(1, Duration::from_secs(5)).await;
    assert_eq!(posted[0].body["content"], "late");
}
