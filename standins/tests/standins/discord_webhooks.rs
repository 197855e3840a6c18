//! `DiscordStandIn`'s webhooks over HTTP: `wait`, `thread_id`, credentials in the URL, edits, shared limits.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use standins::DiscordStandIn;
use standins::discord::{Access, CHANNEL_ID, DiscordRateLimit};

use super::discord::{message, post};
use super::discord_edits::{patch, posted_id, start_thread};

const OTHER_ID: &str = "555555555555555555";

async fn with_webhooks() -> DiscordStandIn {
    DiscordStandIn::builder()
        .channel(CHANNEL_ID, Access::Send)
        .channel(OTHER_ID, Access::Send)
        .webhook(CHANNEL_ID)
        .webhook(OTHER_ID)
        .rate_limit(None)
        .start()
        .await
}

/// A call to a webhook URL as any HTTP client makes it: no `Authorization`, no bot User-Agent.
async fn call(method: Method, url: &str, body: &Value) -> (StatusCode, String) {
    let response = reqwest::Client::new()
        .request(method, url)
        .json(body)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn execute(url: &str, body: Value) -> (u16, Value) {
    let (status, text) = call(Method::POST, url, &body).await;
    (
        status.as_u16(),
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn a_webhook_answers_the_message_only_when_asked_to_wait() {
    let discord = with_webhooks().await;
    let url = discord.webhook_url(CHANNEL_ID);
    assert!(
        url.starts_with(&format!("{}/webhooks/", discord.uri())),
        "{url}"
    );

    let (status, text) = call(Method::POST, &url, &message("deploying")).await;
    assert_eq!((status.as_u16(), text.as_str()), (204, ""));
    let (status, answer) = execute(&format!("{url}?wait=true"), message("deployed")).await;
    assert_eq!(status, 200, "{answer}");
    let id = answer["id"].as_str().unwrap();
    assert_eq!(answer["channel_id"], CHANNEL_ID);
    assert_eq!(answer["webhook_id"], answer["author"]["id"]);

    let posted = discord.posted();
    assert_eq!(posted.len(), 2);
    assert!(
        posted
            .iter()
            .all(|p| p.via_webhook && p.channel_id == CHANNEL_ID)
    );
    assert_eq!(posted[1].message_id, id);
    assert!(discord.message(CHANNEL_ID, id).unwrap().via_webhook);
    let other = discord.webhook_url(OTHER_ID);
    assert_ne!(other, url);
    assert_eq!(execute(&other, message("x")).await.0, 204);
    assert_eq!(discord.posted()[2].channel_id, OTHER_ID);
}

#[tokio::test]
async fn the_url_is_the_credential() {
    let discord = with_webhooks().await;
    let url = discord.webhook_url(CHANNEL_ID);
    let (id, token) = url.rsplit_once('/').unwrap();
    let (status, answer) = execute(&format!("{id}/wrong-token"), message("x")).await;
    assert_eq!(
        (status, answer),
        (
            401,
            json!({"message": "Invalid Webhook Token", "code": 50027})
        )
    );
    let unknown = format!("{}/webhooks/1/{token}", discord.uri());
    let (status, answer) = execute(&unknown, message("x")).await;
    assert_eq!(
        (status, answer),
        (404, json!({"message": "Unknown Webhook", "code": 10015}))
    );
    assert_eq!(execute(&url, message("x")).await.0, 204);
    assert_eq!(discord.posted().len(), 1);
    assert_eq!(discord.errors(), [(401, 50027), (404, 10015)]);
}

#[tokio::test]
async fn webhook_bodies_keep_the_message_rules() {
    let discord = with_webhooks().await;
    let url = discord.webhook_url(CHANNEL_ID);
    let (status, answer) = execute(&url, json!({"content": "@everyone"})).await;
    assert_eq!((status, &answer["code"]), (400, &json!(50035)));
    assert!(answer["errors"]["allowed_mentions"].is_object(), "{answer}");
    let (_, answer) = execute(&url, message(&"x".repeat(2001))).await;
    assert!(answer["errors"]["content"].is_object(), "{answer}");
    let mut named = message("x");
    named["username"] = json!("");
    let (_, answer) = execute(&url, named).await;
    assert!(
        answer["errors"]["username"].is_object(),
        "the webhook schema: {answer}"
    );
    let (status, answer) = execute(&url, json!({"allowed_mentions": {"parse": []}})).await;
    assert_eq!((status, &answer["code"]), (400, &json!(50006)));
    assert!(discord.posted().is_empty());
}

#[tokio::test]
async fn thread_id_posts_into_a_thread_of_the_webhooks_channel() {
    let discord = with_webhooks().await;
    let root = posted_id(&discord, "deploying").await;
    assert_eq!(
        start_thread(&discord, CHANNEL_ID, &root, json!({"name": "deploy"}))
            .await
            .0,
        201
    );
    let url = discord.webhook_url(CHANNEL_ID);
    let (status, answer) = execute(
        &format!("{url}?wait=true&thread_id={root}"),
        message("step 1"),
    )
    .await;
    assert_eq!((status, &answer["channel_id"]), (200, &json!(root)));
    assert_eq!(discord.posted()[1].channel_id, root);

    // A thread of another channel, or none at all, is unknown to this webhook.
    let other = discord.webhook_url(OTHER_ID);
    for url in [
        format!("{other}?thread_id={root}"),
        format!("{url}?thread_id=1"),
    ] {
        let (status, answer) = execute(&url, message("x")).await;
        assert_eq!((status, &answer["code"]), (404, &json!(10003)), "{url}");
    }
    assert_eq!(discord.posted().len(), 2);
}

#[tokio::test]
async fn a_webhook_edits_only_its_own_messages() {
    let discord = with_webhooks().await;
    let url = discord.webhook_url(CHANNEL_ID);
    let (_, posted) = execute(&format!("{url}?wait=true"), message("deploying")).await;
    let id = posted["id"].as_str().unwrap();
    let edit_url = |id: &str| format!("{url}/messages/{id}");
    let (status, text) = call(Method::PATCH, &edit_url(id), &message("deployed")).await;
    assert_eq!(status, 200, "{text}");
    let edited = discord.message(CHANNEL_ID, id).unwrap();
    assert_eq!(
        (&edited.body["content"], edited.edits),
        (&json!("deployed"), 1)
    );
    assert!(discord.edits()[0].via_webhook);

    let unknown = json!({"message": "Unknown Message", "code": 10008});
    let bots = posted_id(&discord, "the bot's").await;
    let other = discord.webhook_url(OTHER_ID);
    for url in [edit_url(&bots), format!("{other}/messages/{id}")] {
        let (status, text) = call(Method::PATCH, &url, &message("x")).await;
        assert_eq!(
            (
                status.as_u16(),
                serde_json::from_str::<Value>(&text).unwrap()
            ),
            (404, unknown.clone()),
            "{url}"
        );
    }
    // A message in a thread is found through `thread_id` only.
    assert_eq!(
        start_thread(&discord, CHANNEL_ID, &bots, json!({"name": "t"}))
            .await
            .0,
        201
    );
    let (_, in_thread) = execute(&format!("{url}?wait=true&thread_id={bots}"), message("r")).await;
    let in_thread = in_thread["id"].as_str().unwrap();
    assert_eq!(
        call(Method::PATCH, &edit_url(in_thread), &message("r2"))
            .await
            .0,
        404
    );
    let with_thread = format!("{}?thread_id={bots}", edit_url(in_thread));
    assert_eq!(
        call(Method::PATCH, &with_thread, &message("r2")).await.0,
        200
    );
    // The bot's own PATCH route is for the bot's own messages.
    assert_eq!(patch(&discord, CHANNEL_ID, id, message("x")).await.0, 403);
    assert_eq!(discord.edits().len(), 2);
}

#[tokio::test]
async fn a_webhook_shares_the_bucket_of_the_channel_it_posts_in() {
    let discord = with_webhooks().await;
    discord.set_rate_limit(Some(DiscordRateLimit {
        limit: 1,
        per: Duration::from_secs(60),
    }));
    assert_eq!(post(&discord, CHANNEL_ID, message("bot")).await.0, 200);
    let (status, answer) = execute(&discord.webhook_url(CHANNEL_ID), message("hook")).await;
    assert_eq!((status, &answer["global"]), (429, &json!(false)));
    assert_eq!(
        execute(&discord.webhook_url(OTHER_ID), message("hook"))
            .await
            .0,
        204
    );
    assert_eq!(discord.count_429(), 1);
}
