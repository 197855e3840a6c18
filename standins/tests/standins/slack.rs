//! `SlackStandIn` over HTTP: auth, channels, DMs, text and Block Kit limits, rate limits and faults.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use standins::SlackStandIn;
use standins::slack::{DEPLOYS_ID, GENERAL_ID, OWNER_EMAIL, OWNER_ID, QUIET_ID, SlackFault};

const JSON: &str = "application/json; charset=utf-8";

pub(crate) async fn call(
    slack: &SlackStandIn,
    method: &str,
    token: Option<&str>,
    body: &Value,
) -> (StatusCode, HeaderMap, Value) {
    let (status, headers, answer) = call_for_text(slack, method, token, body).await;
    (status, headers, serde_json::from_str(&answer).unwrap())
}

/// The answer as written, for what parsing it would hide (the order of its fields).
pub(crate) async fn call_for_text(
    slack: &SlackStandIn,
    method: &str,
    token: Option<&str>,
    body: &Value,
) -> (StatusCode, HeaderMap, String) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/{method}", slack.uri()))
        .header("content-type", JSON)
        .body(body.to_string());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.text().await.unwrap())
}

pub(crate) async fn post(slack: &SlackStandIn, body: Value) -> Value {
    let (status, _, answer) = call(slack, "chat.postMessage", Some(slack.token()), &body).await;
    assert_eq!(status, 200);
    answer
}

pub(crate) async fn unlimited() -> SlackStandIn {
    let slack = SlackStandIn::start().await;
    slack.set_rate_limit(None);
    slack
}

#[tokio::test]
async fn auth_is_checked_first() {
    let slack = unlimited().await;
    let body = json!({"channel": "general", "text": "hi"});
    let (status, _, answer) = call(&slack, "chat.postMessage", None, &body).await;
    assert_eq!(
        (status.as_u16(), answer),
        (200, json!({"ok": false, "error": "not_authed"}))
    );
    let (_, _, answer) = call(&slack, "chat.postMessage", Some("xoxb-wrong"), &body).await;
    assert_eq!(answer["error"], "invalid_auth");
    let (_, _, answer) = call(&slack, "auth.test", Some(slack.token()), &json!({})).await;
    assert_eq!(answer["ok"], true);
    assert!(slack.posted().is_empty());
    assert_eq!(slack.count_rejected(), 2);
}

#[tokio::test]
async fn channels_by_id_or_name_with_or_without_hash() {
    let slack = unlimited().await;
    for channel in ["general", "#general", GENERAL_ID, "deploys"] {
        let answer = post(&slack, json!({"channel": channel, "text": "deployed"})).await;
        assert_eq!(answer["ok"], true, "{channel}: {answer}");
    }
    let posted = slack.posted();
    let resolved: Vec<&str> = posted.iter().map(|p| p.channel.as_str()).collect();
    assert_eq!(resolved, [GENERAL_ID, GENERAL_ID, GENERAL_ID, DEPLOYS_ID]);
    assert_eq!(posted[1].requested_channel, "#general");
    assert_eq!(posted[0].text(), "deployed");
    let answer = post(&slack, json!({"channel": "random", "text": "x"})).await;
    assert_eq!(answer["error"], "channel_not_found");
    assert_eq!(slack.count_requests(), 5);
}

#[tokio::test]
async fn answers_come_in_slacks_order_with_the_message_echoed_last() {
    let slack = unlimited().await;
    let body = json!({"channel": "general", "text": "deployed", "blocks": []});
    let token = Some(slack.token());
    let (_, _, answer) = call_for_text(&slack, "chat.postMessage", token, &body).await;
    let prefix = format!(r#"{{"ok":true,"channel":"{GENERAL_ID}","ts":""#);
    assert!(answer.starts_with(&prefix), "{answer}");
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(answer["message"], body);
}

#[tokio::test]
async fn hidden_and_archived_channels() {
    use standins::slack::SlackChannel;
    let slack = SlackStandIn::builder()
        .channel(SlackChannel::private_without_app("G0001", "secret"))
        .channel(SlackChannel::public("C0999", "old").archived())
        .start()
        .await;
    let answer = post(&slack, json!({"channel": "secret", "text": "x"})).await;
    assert_eq!(answer["error"], "channel_not_found");
    let answer = post(&slack, json!({"channel": "C0999", "text": "x"})).await;
    assert_eq!(answer["error"], "is_archived");
}

#[tokio::test]
async fn direct_messages_by_user_id_email_and_conversations_open() {
    let slack = unlimited().await;
    let client = reqwest::Client::new();
    let lookup: Value = client
        .get(format!("{}/users.lookupByEmail", slack.uri()))
        .query(&[("email", OWNER_EMAIL)])
        .bearer_auth(slack.token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(lookup["user"]["id"], OWNER_ID);
    let (_, _, missing) = call(
        &slack,
        "users.lookupByEmail",
        Some(slack.token()),
        &json!({"email": "nobody@example.com"}),
    )
    .await;
    assert_eq!(missing["error"], "users_not_found");

    let (_, _, opened) = call(
        &slack,
        "conversations.open",
        Some(slack.token()),
        &json!({"users": OWNER_ID}),
    )
    .await;
    let dm = opened["channel"]["id"].as_str().unwrap().to_string();
    assert!(dm.starts_with('D'), "{opened}");

    assert_eq!(
        post(&slack, json!({"channel": OWNER_ID, "text": "yours"})).await["ok"],
        true
    );
    assert_eq!(
        post(&slack, json!({"channel": dm, "text": "yours"})).await["ok"],
        true
    );
    assert!(slack.posted().iter().all(|p| p.channel == dm));
    let blocked = post(&slack, json!({"channel": QUIET_ID, "text": "x"})).await;
    assert_eq!(blocked["error"], "channel_not_found");
}

#[tokio::test]
async fn text_is_required_and_bounded_in_characters() {
    let slack = unlimited().await;
    let answer = post(&slack, json!({"channel": "general", "blocks": []})).await;
    assert_eq!(answer["error"], "no_text");
    let answer = post(&slack, json!({"channel": "general", "text": ""})).await;
    assert_eq!(answer["error"], "no_text");
    let answer = post(
        &slack,
        json!({"channel": "general", "text": "é".repeat(40_000)}),
    )
    .await;
    assert_eq!(
        answer["ok"], true,
        "40000 characters are fine however many bytes"
    );
    let answer = post(
        &slack,
        json!({"channel": "general", "text": "x".repeat(40_001)}),
    )
    .await;
    assert_eq!(answer["error"], "msg_too_long");
}

#[tokio::test]
async fn link_names_and_parse_are_refused() {
    let slack = unlimited().await;
    for extra in [
        json!({"link_names": true}),
        json!({"parse": "full"}),
        json!({"parse": "none"}),
    ] {
        let mut body = json!({"channel": "general", "text": "hi"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        assert_eq!(post(&slack, body).await["error"], "invalid_arguments");
    }
}

#[tokio::test]
async fn block_kit_limits_answer_invalid_blocks() {
    let slack = unlimited().await;
    let header = json!({"type": "header", "text": {"type": "plain_text", "text": "x".repeat(151)}});
    let answer = post(
        &slack,
        json!({"channel": "general", "text": "t", "blocks": [header]}),
    )
    .await;
    assert_eq!(answer["error"], "invalid_blocks");
    let why = answer["response_metadata"]["messages"][0].as_str().unwrap();
    assert!(why.contains("/blocks/0/text/text"), "{why}");

    let section = json!({"type": "section", "text": {"type": "mrkdwn", "text": "x".repeat(3001)}});
    let body = json!({"channel": "general", "text": "t", "attachments": [{"color": "#ff0000", "blocks": [section]}]});
    assert_eq!(post(&slack, body).await["error"], "invalid_blocks");

    let good = json!([
        {"type": "header", "text": {"type": "plain_text", "text": "Deploy"}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "*App*\nweb"}]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "rack prod"}]},
    ]);
    let answer = post(
        &slack,
        json!({"channel": "general", "text": "t", "blocks": good}),
    )
    .await;
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(slack.posted()[0].body["blocks"], good);
}

#[tokio::test]
async fn body_must_be_json_and_charset_is_warned_about() {
    let slack = unlimited().await;
    let client = reqwest::Client::new();
    let url = format!("{}/chat.postMessage", slack.uri());
    let form: Value = client
        .post(&url)
        .bearer_auth(slack.token())
        .header("content-type", "application/x-www-form-urlencoded")
        .body("channel=general&text=hi")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(form["error"], "invalid_post_type");
    let bare: Value = client
        .post(&url)
        .bearer_auth(slack.token())
        .json(&json!({"channel": "general", "text": "hi"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (bare["ok"].clone(), bare["warning"].clone()),
        (json!(true), json!("missing_charset"))
    );
    assert_eq!(slack.posted()[0].content_type, "application/json");
}

#[tokio::test]
async fn posts_faster_than_the_channel_allows_get_429_with_retry_after() {
    let slack = SlackStandIn::start().await;
    let body = json!({"channel": "general", "text": "one"});
    assert_eq!(post(&slack, body.clone()).await["ok"], true);
    let (status, headers, answer) =
        call(&slack, "chat.postMessage", Some(slack.token()), &body).await;
    assert_eq!(status, 429);
    assert_eq!(headers["retry-after"], "1");
    assert_eq!(answer, json!({"ok": false, "error": "ratelimited"}));
    // The limit is per channel.
    assert_eq!(
        post(&slack, json!({"channel": "deploys", "text": "x"})).await["ok"],
        true
    );

    slack.set_rate_limit(Some(Duration::from_millis(200)));
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(post(&slack, body.clone()).await["ok"], true);
    let (status, headers, _) = call(&slack, "chat.postMessage", Some(slack.token()), &body).await;
    assert_eq!(
        (status.as_u16(), headers["retry-after"].to_str().unwrap()),
        (429, "1"),
        "never less than a second"
    );
    assert_eq!((slack.count_429(), slack.posted().len()), (2, 3));
}

#[tokio::test]
async fn injected_faults_come_first_then_normal_service() {
    let slack = unlimited().await;
    let body = json!({"channel": "general", "text": "x"});
    slack.fail_next(2, SlackFault::Status(503));
    slack.fail_next(1, SlackFault::RetryAfter(7));
    slack.fail_next(1, SlackFault::Error("fatal_error".into()));
    let token = Some(slack.token());
    for _ in 0..2 {
        let response = reqwest::Client::new()
            .post(format!("{}/chat.postMessage", slack.uri()))
            .bearer_auth(slack.token())
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 503);
    }
    let (status, headers, answer) = call(&slack, "chat.postMessage", token, &body).await;
    assert_eq!(
        (status.as_u16(), headers["retry-after"].to_str().unwrap()),
        (429, "7")
    );
    assert_eq!(answer["error"], "ratelimited");
    assert_eq!(post(&slack, body.clone()).await["error"], "fatal_error");
    assert_eq!(post(&slack, body).await["ok"], true);
    assert_eq!(
        (slack.count_5xx(), slack.count_429(), slack.posted().len()),
        (2, 1, 1)
    );
    assert_eq!(slack.errors(), ["ratelimited", "fatal_error"]);
}

#[tokio::test]
async fn wait_for_posted_returns_once_enough_arrived() {
    let slack = unlimited().await;
    let (uri, token) = (slack.uri(), slack.token().to_string());
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        for text in ["a", "b"] {
            reqwest::Client::new()
                .post(format!("{uri}/chat.postMessage"))
                .bearer_auth(&token)
                .json(&json!({"channel": "general", "text": text}))
                .send()
                .await
                .unwrap();
        }
    });
    let posted = slack.wait_for_posted(2, Duration::from_secs(5)).await;
    assert_eq!(
        posted.iter().map(|p| p.text()).collect::<Vec<_>>(),
        ["a", "b"]
    );
}

#[tokio::test]
#[should_panic(expected = "0 of 1 messages")]
async fn wait_for_posted_panics_after_the_timeout() {
    let slack = unlimited().await;
    slack.wait_for_posted(1, Duration::from_millis(50)).await;
}
