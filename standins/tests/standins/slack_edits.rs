//! `SlackStandIn` over HTTP: replies in threads, `chat.update` and its rate limit, deleted messages.

use std::time::Duration;

use serde_json::{Value, json};
use standins::slack::{DEPLOYS_ID, GENERAL_ID, OWNER_ID, SlackChannel};
use standins::{RateLimit, SlackStandIn};

use super::slack::{call, call_for_text, post, unlimited};

async fn update(slack: &SlackStandIn, body: Value) -> Value {
    let (status, _, answer) = call(slack, "chat.update", Some(slack.token()), &body).await;
    assert_eq!(status, 200, "{answer}");
    answer
}

async fn root(slack: &SlackStandIn, text: &str) -> String {
    let answer = post(slack, json!({"channel": "general", "text": text})).await;
    answer["ts"].as_str().expect("a ts").to_string()
}

#[tokio::test]
async fn replies_join_the_thread_of_their_root_and_broadcasts_show_in_the_channel() {
    let slack = unlimited().await;
    let ts = root(&slack, "deploying web").await;
    let reply = post(
        &slack,
        json!({"channel": GENERAL_ID, "text": "step 1 of 2", "thread_ts": ts}),
    )
    .await;
    assert_eq!(reply["ok"], true, "{reply}");
    assert_ne!(reply["ts"], json!(ts));
    let body =
        json!({"channel": "general", "text": "failed", "thread_ts": ts, "reply_broadcast": true});
    assert_eq!(post(&slack, body).await["ok"], true);

    let replies = slack.replies(GENERAL_ID, &ts);
    let seen: Vec<(&str, bool)> = replies
        .iter()
        .map(|r| (r.text(), r.reply_broadcast))
        .collect();
    assert_eq!(seen, [("step 1 of 2", false), ("failed", true)]);
    assert!(
        replies
            .iter()
            .all(|r| r.thread_ts.as_deref() == Some(ts.as_str()) && !r.orphaned)
    );
    assert_eq!(replies[0].ts, reply["ts"].as_str().unwrap());
    let root = slack.message(GENERAL_ID, &ts).unwrap();
    assert_eq!((root.thread_ts, root.replies.len()), (None, 2));
    assert!(
        slack.replies(DEPLOYS_ID, &ts).is_empty(),
        "a thread belongs to its channel"
    );

    // `reply_broadcast` without a thread is an ordinary message.
    let plain = json!({"channel": "general", "text": "x", "reply_broadcast": true});
    post(&slack, plain).await;
    let last = slack.posted().pop().unwrap();
    assert_eq!((last.thread_ts, last.reply_broadcast), (None, false));
}

#[tokio::test]
async fn a_thread_ts_naming_no_root_is_accepted_and_lost() {
    let slack = unlimited().await;
    let ts = root(&slack, "deploying").await;
    let reply = post(
        &slack,
        json!({"channel": "general", "text": "r", "thread_ts": ts}),
    )
    .await;
    let reply_ts = reply["ts"].as_str().unwrap();
    for thread_ts in ["1699999999.000001", reply_ts] {
        let answer = post(
            &slack,
            json!({"channel": "general", "text": "lost", "thread_ts": thread_ts}),
        )
        .await;
        assert_eq!(answer["ok"], true, "Slack answers ok: {answer}");
        let lost = slack.posted().pop().unwrap();
        assert!(lost.orphaned, "{thread_ts}");
        assert!(slack.replies(GENERAL_ID, thread_ts).is_empty());
    }
    assert_eq!(slack.replies(GENERAL_ID, &ts).len(), 1);

    for malformed in ["0", "yesterday", "1700000000."] {
        let answer = post(
            &slack,
            json!({"channel": "general", "text": "x", "thread_ts": malformed}),
        )
        .await;
        assert_eq!(answer["error"], "invalid_thread_ts", "{malformed}");
        let why = answer["response_metadata"]["messages"][0].as_str().unwrap();
        assert!(why.contains(malformed), "{why}");
    }
    assert_eq!(slack.posted().len(), 4);
}

#[tokio::test]
async fn an_update_edits_the_message_in_place() {
    // The default stand-in: one post a second per channel, which updates do not count against.
    let slack = SlackStandIn::start().await;
    let blocks = json!([{"type": "section", "text": {"type": "mrkdwn", "text": "Deploying"}}]);
    let attachments = json!([{"color": "#daa038", "blocks": blocks}]);
    let posted = post(
        &slack,
        json!({"channel": "general", "text": "Deploying", "blocks": blocks, "attachments": attachments}),
    )
    .await;
    let ts = posted["ts"].as_str().unwrap();

    let new_blocks = json!([{"type": "section", "text": {"type": "mrkdwn", "text": "Deployed"}}]);
    let body = json!({"channel": GENERAL_ID, "ts": ts, "text": "Deployed", "blocks": new_blocks});
    let token = Some(slack.token());
    let (status, _, raw) = call_for_text(&slack, "chat.update", token, &body).await;
    assert_eq!(status, 200);
    let prefix = format!(r#"{{"ok":true,"channel":"{GENERAL_ID}","ts":"{ts}","text":"Deployed","#);
    assert!(raw.starts_with(&prefix), "{raw}");
    let answer: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(answer["message"]["blocks"], new_blocks);

    let message = slack.message(GENERAL_ID, ts).unwrap();
    assert_eq!(
        (message.text(), message.edits, message.deleted),
        ("Deployed", 1, false)
    );
    assert_eq!(message.body["blocks"], new_blocks);
    assert_eq!(
        message.body["attachments"], attachments,
        "kept when the update leaves them out"
    );
    let updates = slack.updates();
    assert_eq!((updates.len(), updates[0].ts.as_str()), (1, ts));
    assert_eq!(updates[0].body, body);
    assert_eq!(slack.posted().len(), 1, "an update is not a post");
    assert_eq!(
        slack.posted()[0].text(),
        "Deploying",
        "posted() keeps the message as posted"
    );

    // The channel's post limit still holds for posts.
    let again = call(
        &slack,
        "chat.postMessage",
        token,
        &json!({"channel": "general", "text": "x"}),
    )
    .await;
    assert_eq!(again.0, 429);
}

#[tokio::test]
async fn updates_name_the_channel_by_id_and_a_message_the_app_posted() {
    let slack = SlackStandIn::builder()
        .channel(SlackChannel::public(GENERAL_ID, "general"))
        .channel(SlackChannel::public(DEPLOYS_ID, "deploys"))
        .user(standins::slack::SlackUser::new(OWNER_ID))
        .webhook(GENERAL_ID)
        .rate_limit(None)
        .start()
        .await;
    let ts = root(&slack, "deploying").await;
    let text = |channel: &str, ts: &str| json!({"channel": channel, "ts": ts, "text": "deployed"});
    for name in ["general", "#general", OWNER_ID] {
        assert_eq!(
            update(&slack, text(name, &ts)).await["error"],
            "channel_not_found",
            "{name}"
        );
    }
    assert_eq!(
        update(&slack, text(DEPLOYS_ID, &ts)).await["error"],
        "message_not_found"
    );
    let unknown = update(&slack, text(GENERAL_ID, "1700000000.999999")).await;
    assert_eq!(unknown["error"], "message_not_found");

    let dm = post(&slack, json!({"channel": OWNER_ID, "text": "yours"})).await;
    let (dm_channel, dm_ts) = (dm["channel"].as_str().unwrap(), dm["ts"].as_str().unwrap());
    assert!(dm_channel.starts_with('D'));
    assert_eq!(
        update(&slack, text(dm_channel, dm_ts)).await["ok"],
        true,
        "a DM's id works"
    );

    reqwest::Client::new()
        .post(slack.webhook_url(GENERAL_ID))
        .json(&json!({"text": "from a webhook"}))
        .send()
        .await
        .unwrap();
    let hooked = slack.posted().pop().unwrap();
    assert!(hooked.via_webhook);
    let answer = update(&slack, text(GENERAL_ID, &hooked.ts)).await;
    assert_eq!(answer["error"], "cant_update_message");
    assert_eq!(slack.message(GENERAL_ID, &hooked.ts).unwrap().edits, 0);
    assert_eq!(slack.updates().len(), 1);
}

#[tokio::test]
async fn updates_keep_the_body_rules_of_posts() {
    let slack = unlimited().await;
    let ts = root(&slack, "deploying").await;
    let with = |extra: Value| {
        let mut body = json!({"channel": GENERAL_ID, "ts": ts, "text": "deployed"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    assert_eq!(
        update(&slack, with(json!({"link_names": true}))).await["error"],
        "invalid_arguments"
    );
    assert_eq!(
        update(&slack, with(json!({"parse": "full"}))).await["error"],
        "invalid_arguments"
    );
    assert_eq!(
        update(&slack, with(json!({"text": ""}))).await["error"],
        "no_text"
    );
    let header = json!({"type": "header", "text": {"type": "plain_text", "text": "x".repeat(151)}});
    assert_eq!(
        update(&slack, with(json!({"blocks": [header]}))).await["error"],
        "invalid_blocks"
    );
    let (_, _, unauthenticated) = call(&slack, "chat.update", None, &with(json!({}))).await;
    assert_eq!(unauthenticated["error"], "not_authed");
    assert!(slack.updates().is_empty());
    assert_eq!(slack.message(GENERAL_ID, &ts).unwrap().text(), "deploying");
}

#[tokio::test]
async fn updates_have_their_own_rate_limit_per_workspace() {
    let slack = unlimited().await;
    let ts = root(&slack, "deploying").await;
    let body = json!({"channel": GENERAL_ID, "ts": ts, "text": "deployed"});
    let token = Some(slack.token());
    // The default: Tier 3, 50 a minute.
    for n in 0..50 {
        assert_eq!(update(&slack, body.clone()).await["ok"], true, "update {n}");
    }
    let (status, headers, answer) = call(&slack, "chat.update", token, &body).await;
    assert_eq!(
        (status.as_u16(), &answer["error"]),
        (429, &json!("ratelimited"))
    );
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    // Per workspace: another channel's message waits too.
    let other = post(&slack, json!({"channel": "deploys", "text": "x"})).await;
    let other = json!({"channel": DEPLOYS_ID, "ts": other["ts"], "text": "y"});
    assert_eq!(call(&slack, "chat.update", token, &other).await.0, 429);

    slack.set_update_rate_limit(Some(RateLimit {
        limit: 1,
        per: Duration::from_secs(60),
    }));
    assert_eq!(update(&slack, body.clone()).await["ok"], true);
    assert_eq!(call(&slack, "chat.update", token, &body).await.0, 429);
    slack.set_update_rate_limit(None);
    assert_eq!(update(&slack, body).await["ok"], true);
    assert_eq!(slack.count_429(), 3);
    assert_eq!(slack.message(GENERAL_ID, &ts).unwrap().edits, 52);
}

#[tokio::test]
async fn a_deleted_message_cannot_be_updated_and_its_thread_lives_on_only_with_replies() {
    let slack = unlimited().await;
    let with_replies = root(&slack, "deploy 1").await;
    post(
        &slack,
        json!({"channel": "general", "text": "r1", "thread_ts": with_replies}),
    )
    .await;
    let without = root(&slack, "deploy 2").await;
    slack.delete_message(GENERAL_ID, &with_replies);
    slack.delete_message(GENERAL_ID, &without);

    for ts in [&with_replies, &without] {
        let answer = update(
            &slack,
            json!({"channel": GENERAL_ID, "ts": ts, "text": "x"}),
        )
        .await;
        assert_eq!(answer["error"], "message_not_found");
        assert!(slack.message(GENERAL_ID, ts).unwrap().deleted);
    }
    // The tombstone keeps its thread.
    post(
        &slack,
        json!({"channel": "general", "text": "r2", "thread_ts": with_replies}),
    )
    .await;
    let texts: Vec<String> = slack
        .replies(GENERAL_ID, &with_replies)
        .iter()
        .map(|r| r.text().to_string())
        .collect();
    assert_eq!(texts, ["r1", "r2"]);
    // Without replies the root is gone, and Slack posts the reply in the channel.
    post(
        &slack,
        json!({"channel": "general", "text": "r3", "thread_ts": without}),
    )
    .await;
    let landed = slack.posted().pop().unwrap();
    assert_eq!((landed.thread_ts, landed.orphaned), (None, false));
    assert_eq!(landed.body["thread_ts"], json!(without));
    assert!(slack.replies(GENERAL_ID, &without).is_empty());
}

#[tokio::test]
#[should_panic(expected = "no message 1700000000.999999 in channel C0123")]
async fn deleting_an_unknown_message_is_a_test_bug() {
    let slack = unlimited().await;
    slack.delete_message(GENERAL_ID, "1700000000.999999");
}
