//! `DiscordStandIn` over HTTP: whom each accepted message and edit pings, by `allowed_mentions`.

use serde_json::{Value, json};
use standins::discord::{Access, CHANNEL_ID};
use standins::{DiscordStandIn, Pings};

use super::discord::{post, unlimited};
use super::discord_edits::patch;

const CONTENT: &str = "<@111> and <@!222> of <@&333>: @everyone";

fn with(allowed_mentions: Value) -> Value {
    json!({"content": CONTENT, "allowed_mentions": allowed_mentions})
}

fn pings(users: &[&str], roles: &[&str], everyone: bool) -> Pings {
    let ids = |ids: &[&str]| ids.iter().map(|id| id.to_string()).collect();
    Pings {
        users: ids(users),
        roles: ids(roles),
        everyone,
    }
}

#[tokio::test]
async fn allowed_mentions_decide_whom_content_pings() {
    let discord = unlimited().await;
    let cases = [
        (json!({"parse": []}), pings(&[], &[], false)),
        (
            json!({"users": ["222", "999"]}),
            pings(&["222"], &[], false),
        ),
        (json!({"roles": ["333"]}), pings(&[], &["333"], false)),
        (json!({"parse": ["everyone"]}), pings(&[], &[], true)),
        (
            json!({"parse": ["users", "roles", "everyone"]}),
            pings(&["111", "222"], &["333"], true),
        ),
    ];
    for (allowed, _) in &cases {
        let (status, answer) = post(&discord, CHANNEL_ID, with(allowed.clone())).await;
        assert_eq!(status, 200, "{allowed}: {answer}");
    }
    let posted = discord.posted();
    for ((allowed, expected), posted) in cases.iter().zip(&posted) {
        assert_eq!(&posted.pings, expected, "{allowed}");
    }
    // The answer's mention fields say the same.
    let (_, answer) = post(&discord, CHANNEL_ID, with(json!({"users": ["111"]}))).await;
    assert_eq!(
        (&answer["mentions"], &answer["mention_everyone"]),
        (&json!([{"id": "111"}]), &json!(false))
    );
}

#[tokio::test]
async fn parse_and_a_list_of_the_same_kind_are_refused() {
    let discord = unlimited().await;
    for allowed in [
        json!({"parse": ["users"], "users": ["111"]}),
        json!({"parse": ["roles"], "roles": ["333"]}),
    ] {
        let (status, answer) = post(&discord, CHANNEL_ID, with(allowed)).await;
        assert_eq!((status, &answer["code"]), (400, &json!(50035)));
        let error = &answer["errors"]["allowed_mentions"]["_errors"][0];
        assert_eq!(
            error["code"], "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
            "{answer}"
        );
    }
    assert!(discord.posted().is_empty());
}

#[tokio::test]
async fn without_allowed_mentions_discord_parses_everything() {
    let discord = DiscordStandIn::builder()
        .channel(CHANNEL_ID, Access::Send)
        .require_allowed_mentions(false)
        .rate_limit(None)
        .start()
        .await;
    let (status, answer) = post(&discord, CHANNEL_ID, json!({ "content": CONTENT })).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        discord.posted()[0].pings,
        pings(&["111", "222"], &["333"], true)
    );
    assert_eq!(answer["mention_roles"], json!(["333"]));
    // An edit's content is parsed afresh, with the same default when it leaves `allowed_mentions` out.
    let id = answer["id"].as_str().unwrap();
    assert_eq!(
        patch(&discord, CHANNEL_ID, id, json!({"content": "<@444>"}))
            .await
            .0,
        200
    );
    assert_eq!(discord.edits()[0].pings, pings(&["444"], &[], false));
}

#[tokio::test]
async fn embeds_never_ping_and_edits_ping_by_their_own_allowed_mentions() {
    let discord = unlimited().await;
    let embed = json!({"allowed_mentions": {"parse": ["everyone", "users"]},
                       "embeds": [{"title": "@everyone", "description": "<@111>"}]});
    let (_, answer) = post(&discord, CHANNEL_ID, embed).await;
    assert!(discord.posted()[0].pings.is_empty());
    let id = answer["id"].as_str().unwrap();

    let (status, _) = patch(&discord, CHANNEL_ID, id, with(json!({"users": ["111"]}))).await;
    assert_eq!(status, 200);
    assert_eq!(discord.edits()[0].pings, pings(&["111"], &[], false));
    assert_eq!(
        discord.message(CHANNEL_ID, id).unwrap().pings,
        pings(&["111"], &[], false)
    );
    // An edit that leaves the content alone changes no mentions.
    let (_, answer) = patch(&discord, CHANNEL_ID, id, json!({"embeds": []})).await;
    assert!(discord.edits()[1].pings.is_empty());
    assert_eq!(answer["mentions"], json!([{"id": "111"}]));
}

#[tokio::test]
async fn webhook_messages_are_counted_too() {
    let discord = DiscordStandIn::builder()
        .channel(CHANNEL_ID, Access::Send)
        .webhook(CHANNEL_ID)
        .rate_limit(None)
        .start()
        .await;
    reqwest::Client::new()
        .post(discord.webhook_url(CHANNEL_ID))
        .json(&with(json!({"parse": ["everyone"]})))
        .send()
        .await
        .unwrap();
    let posted = discord.posted();
    assert!(posted[0].via_webhook);
    assert_eq!(posted[0].pings, pings(&[], &[], true));
}
