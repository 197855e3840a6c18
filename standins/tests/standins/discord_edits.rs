//! `DiscordStandIn` over HTTP: editing messages, threads on messages, and replies by reference.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use standins::DiscordStandIn;
use standins::discord::{Access, CHANNEL_ID, DiscordRateLimit, DiscordThread};

use super::discord::{BOT, Call, message, post, send, unlimited};

pub(crate) async fn patch(
    discord: &DiscordStandIn,
    channel: &str,
    id: &str,
    body: Value,
) -> (u16, Value) {
    let call = Call {
        method: Method::PATCH,
        ..BOT
    };
    let route = format!("/channels/{channel}/messages/{id}");
    let (status, _, answer) = send(discord, call, &route, &body).await;
    (status.as_u16(), answer)
}

pub(crate) async fn start_thread(
    discord: &DiscordStandIn,
    channel: &str,
    id: &str,
    body: Value,
) -> (u16, Value) {
    let route = format!("/channels/{channel}/messages/{id}/threads");
    let (status, _, answer) = send(discord, BOT, &route, &body).await;
    (status.as_u16(), answer)
}

/// Posts `content` to the default channel and returns the new message's id.
pub(crate) async fn posted_id(discord: &DiscordStandIn, content: &str) -> String {
    let (status, answer) = post(discord, CHANNEL_ID, message(content)).await;
    assert_eq!(status, 200, "{answer}");
    answer["id"].as_str().unwrap().to_string()
}

fn code(answer: &Value) -> u64 {
    answer["code"].as_u64().unwrap_or_default()
}

#[tokio::test]
async fn the_bot_edits_its_message_in_place() {
    let discord = unlimited().await;
    let embeds = json!([{"title": "Deploying web", "color": 0xDAA038}]);
    let body = json!({"content": "deploying", "embeds": embeds, "allowed_mentions": {"parse": []}});
    let (_, posted) = post(&discord, CHANNEL_ID, body).await;
    let id = posted["id"].as_str().unwrap();

    let edit = json!({"content": "deployed", "allowed_mentions": {"parse": []}});
    let (status, answer) = patch(&discord, CHANNEL_ID, id, edit.clone()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        (answer["id"].as_str(), &answer["content"]),
        (Some(id), &json!("deployed"))
    );
    assert_eq!(answer["embeds"], embeds, "fields the edit leaves out stay");

    let new_embeds = json!([{"title": "Deployed web", "color": 0x2EB67D}]);
    assert_eq!(
        patch(&discord, CHANNEL_ID, id, json!({"embeds": new_embeds}))
            .await
            .0,
        200
    );
    let now = discord.message(CHANNEL_ID, id).unwrap();
    assert_eq!((now.edits, now.deleted, now.via_webhook), (2, false, false));
    assert_eq!(
        (&now.body["content"], &now.body["embeds"]),
        (&json!("deployed"), &new_embeds)
    );
    let edits = discord.edits();
    assert_eq!(edits.len(), 2);
    assert_eq!((edits[0].message_id.as_str(), &edits[0].body), (id, &edit));
    assert_eq!(discord.posted().len(), 1, "an edit is not a post");
    assert_eq!(discord.posted()[0].body["content"], "deploying");
}

#[tokio::test]
async fn edits_keep_the_body_rules() {
    let discord = unlimited().await;
    let id = posted_id(&discord, "deploying").await;
    let (status, answer) = patch(&discord, CHANNEL_ID, &id, json!({"content": "<@1>"})).await;
    assert_eq!((status, code(&answer)), (400, 50035));
    assert!(answer["errors"]["allowed_mentions"].is_object(), "{answer}");
    let (_, answer) = patch(&discord, CHANNEL_ID, &id, message(&"x".repeat(2001))).await;
    assert_eq!(
        answer["errors"]["content"]["_errors"][0]["code"],
        "BASE_TYPE_MAX_LENGTH"
    );
    let (_, answer) = patch(
        &discord,
        CHANNEL_ID,
        &id,
        json!({"embeds": [{"color": -1}]}),
    )
    .await;
    assert_eq!(code(&answer), 50035);
    let (_, answer) = patch(&discord, CHANNEL_ID, &id, json!({"flags": "loud"})).await;
    assert!(
        answer["errors"]["flags"].is_object(),
        "the edit schema: {answer}"
    );
    // Emptying the message is refused whichever fields do it.
    let (status, answer) = patch(&discord, CHANNEL_ID, &id, message("")).await;
    assert_eq!((status, code(&answer)), (400, 50006));
    assert_eq!(
        patch(&discord, CHANNEL_ID, &id, json!({"content": null}))
            .await
            .0,
        400
    );
    assert!(discord.edits().is_empty());
    assert_eq!(
        discord.message(CHANNEL_ID, &id).unwrap().body["content"],
        "deploying"
    );
}

#[tokio::test]
async fn unknown_deleted_and_foreign_messages() {
    let discord = DiscordStandIn::builder()
        .channel(CHANNEL_ID, Access::Send)
        .channel("555555555555555555", Access::Send)
        .webhook(CHANNEL_ID)
        .rate_limit(None)
        .start()
        .await;
    let id = posted_id(&discord, "deploying").await;
    let unknown = json!({"message": "Unknown Message", "code": 10008});
    assert_eq!(
        patch(&discord, CHANNEL_ID, "1", message("x")).await,
        (404, unknown.clone())
    );
    assert_eq!(
        patch(&discord, "555555555555555555", &id, message("x")).await,
        (404, unknown.clone()),
        "a message belongs to its channel"
    );
    let hooked: Value = reqwest::Client::new()
        .post(format!("{}?wait=true", discord.webhook_url(CHANNEL_ID)))
        .json(&message("from a webhook"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (status, answer) = patch(
        &discord,
        CHANNEL_ID,
        hooked["id"].as_str().unwrap(),
        message("x"),
    )
    .await;
    assert_eq!(
        (status, code(&answer)),
        (403, 50005),
        "only the author edits: {answer}"
    );

    discord.delete_message(CHANNEL_ID, &id);
    assert_eq!(
        patch(&discord, CHANNEL_ID, &id, message("x")).await,
        (404, unknown)
    );
    let deleted = discord.message(CHANNEL_ID, &id).unwrap();
    assert!(deleted.deleted && deleted.edits == 0);
}

#[tokio::test]
async fn edits_share_the_channels_create_message_bucket() {
    let discord = DiscordStandIn::start().await;
    discord.set_rate_limit(Some(DiscordRateLimit {
        limit: 2,
        per: Duration::from_secs(60),
    }));
    let id = posted_id(&discord, "deploying").await;
    assert_eq!(
        patch(&discord, CHANNEL_ID, &id, message("half way"))
            .await
            .0,
        200
    );
    let (status, answer) = patch(&discord, CHANNEL_ID, &id, message("deployed")).await;
    assert_eq!(
        (status, &answer["message"]),
        (429, &json!("You are being rate limited."))
    );
    assert_eq!(post(&discord, CHANNEL_ID, message("x")).await.0, 429);
    assert_eq!(discord.count_429(), 2);
}

#[tokio::test]
async fn a_thread_starts_on_a_message_and_is_a_channel_with_its_own_bucket() {
    let discord = DiscordStandIn::start().await;
    discord.set_rate_limit(Some(DiscordRateLimit {
        limit: 1,
        per: Duration::from_secs(60),
    }));
    let id = posted_id(&discord, "deploying web").await;
    let (status, thread) = start_thread(
        &discord,
        CHANNEL_ID,
        &id,
        json!({"name": "deploy web 42", "auto_archive_duration": 1440}),
    )
    .await;
    assert_eq!(status, 201, "{thread}");
    assert_eq!(
        (&thread["id"], &thread["type"], &thread["parent_id"]),
        (&json!(id), &json!(11), &json!(CHANNEL_ID))
    );
    assert_eq!(thread["thread_metadata"]["auto_archive_duration"], 1440);
    assert_eq!(
        discord.threads(),
        [DiscordThread {
            parent_id: CHANNEL_ID.into(),
            message_id: id.clone(),
            thread_id: id.clone(),
            name: "deploy web 42".into(),
        }]
    );
    assert_eq!(
        discord
            .message(CHANNEL_ID, &id)
            .unwrap()
            .thread_id
            .as_deref(),
        Some(id.as_str())
    );

    // The channel's bucket is spent; the thread has its own.
    assert_eq!(post(&discord, CHANNEL_ID, message("x")).await.0, 429);
    let (status, reply) = post(&discord, &id, message("step 1")).await;
    assert_eq!((status, &reply["channel_id"]), (200, &json!(id)));
    assert_eq!(discord.posted()[1].channel_id, id);
}

#[tokio::test]
async fn thread_refusals() {
    let discord = unlimited().await;
    let id = posted_id(&discord, "deploying").await;
    let name = |name: &str| json!({"name": name});
    for bad in [
        name(""),
        name(&"x".repeat(101)),
        json!({}),
        json!({"name": "x", "auto_archive_duration": 5}),
    ] {
        let (status, answer) = start_thread(&discord, CHANNEL_ID, &id, bad.clone()).await;
        assert_eq!((status, code(&answer)), (400, 50035), "{bad}: {answer}");
    }
    let (status, answer) = start_thread(&discord, CHANNEL_ID, "1", name("x")).await;
    assert_eq!((status, code(&answer)), (404, 10008));
    assert_eq!(
        start_thread(&discord, CHANNEL_ID, &id, name(&"é".repeat(100)))
            .await
            .0,
        201
    );
    let (status, answer) = start_thread(&discord, CHANNEL_ID, &id, name("again")).await;
    assert_eq!((status, code(&answer)), (400, 160004));
    assert_eq!(
        answer["message"],
        "A thread has already been created for this message"
    );
    let in_thread = post(&discord, &id, message("reply")).await.1;
    let in_thread = in_thread["id"].as_str().unwrap();
    let (status, answer) = start_thread(&discord, &id, in_thread, name("nested")).await;
    assert_eq!((status, code(&answer)), (400, 50024));
    let deleted = posted_id(&discord, "gone").await;
    discord.delete_message(CHANNEL_ID, &deleted);
    assert_eq!(
        start_thread(&discord, CHANNEL_ID, &deleted, name("x"))
            .await
            .0,
        404
    );
    assert_eq!(discord.threads().len(), 1);
}

#[tokio::test]
async fn a_reply_references_a_live_message_of_its_channel() {
    let discord = unlimited().await;
    let id = posted_id(&discord, "deploying").await;
    let reply = |reference: Value| {
        let mut body = message("failed");
        body["message_reference"] = reference;
        body
    };
    let (status, answer) = post(&discord, CHANNEL_ID, reply(json!({"message_id": id}))).await;
    assert_eq!((status, &answer["type"]), (200, &json!(19)), "{answer}");
    assert_eq!(answer["message_reference"]["message_id"], json!(id));
    assert_eq!(
        discord.posted()[1].message_reference.as_deref(),
        Some(id.as_str())
    );

    discord.delete_message(CHANNEL_ID, &id);
    for missing in [id.as_str(), "1"] {
        let (status, answer) =
            post(&discord, CHANNEL_ID, reply(json!({"message_id": missing}))).await;
        assert_eq!((status, code(&answer)), (400, 50035));
        let error = &answer["errors"]["message_reference"]["_errors"][0];
        assert_eq!(
            error["code"], "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
            "{answer}"
        );
    }
    // `fail_if_not_exists: false` sends it as a plain message instead.
    let lenient = reply(json!({"message_id": "1", "fail_if_not_exists": false}));
    let (status, answer) = post(&discord, CHANNEL_ID, lenient).await;
    assert_eq!((status, &answer["type"]), (200, &json!(0)));
    let posted = discord.posted();
    assert_eq!((posted.len(), &posted[2].message_reference), (3, &None));
}
