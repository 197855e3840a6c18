//! `SlackStandIn`'s incoming webhooks over HTTP: plain-text answers, each refusal, the shared rate limit.

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use standins::SlackStandIn;
use standins::slack::{GENERAL_ID, SlackChannel, SlackFault};

use super::slack::call;

const ARCHIVED_ID: &str = "C0OLD";
const GONE_ID: &str = "C0GONE";

async fn with_webhooks() -> SlackStandIn {
    SlackStandIn::builder()
        .channel(SlackChannel::public(GENERAL_ID, "general"))
        .channel(SlackChannel::public(ARCHIVED_ID, "old").archived())
        .webhook(GENERAL_ID)
        .webhook(ARCHIVED_ID)
        .webhook(GONE_ID)
        .rate_limit(None)
        .start()
        .await
}

async fn send(url: &str, body: &str) -> (StatusCode, HeaderMap, String) {
    let response = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.text().await.unwrap())
}

async fn hook(slack: &SlackStandIn, channel: &str, body: Value) -> (u16, String) {
    let (status, _, text) = send(&slack.webhook_url(channel), &body.to_string()).await;
    (status.as_u16(), text)
}

#[tokio::test]
async fn a_webhook_posts_into_its_own_channel_and_answers_ok_without_a_ts() {
    let slack = with_webhooks().await;
    let url = slack.webhook_url(GENERAL_ID);
    let path = url.strip_prefix(&slack.uri().replace("/api", "")).unwrap();
    assert!(path.starts_with("/services/T"), "{url}");
    assert_eq!(path.split('/').count(), 5, "/services/T…/B…/secret: {url}");

    let body = json!({"channel": "#elsewhere", "text": "deployed", "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": "*web* deployed"}}]});
    let (status, headers, text) = send(&url, &body.to_string()).await;
    assert_eq!((status.as_u16(), text.as_str()), (200, "ok"));
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let posted = slack.posted();
    assert_eq!(posted.len(), 1);
    let post = &posted[0];
    assert_eq!(
        (post.channel.as_str(), post.requested_channel.as_str()),
        (GENERAL_ID, "#elsewhere")
    );
    assert!(post.via_webhook);
    assert_eq!(post.body, body);
    let message = slack.message(GENERAL_ID, &post.ts).unwrap();
    assert!(message.via_webhook);
    assert_eq!(slack.count_requests(), 1);
}

#[tokio::test]
async fn each_refusal_has_its_status_and_plain_text_code() {
    let slack = with_webhooks().await;
    let url = slack.webhook_url(GENERAL_ID);
    let text = json!({"text": "x"}).to_string();
    let header = json!({"type": "header", "text": {"type": "plain_text", "text": "x".repeat(151)}});
    let cases = [
        (url.clone(), "{not json".to_string(), 400, "invalid_payload"),
        (url.clone(), "[1, 2]".into(), 400, "invalid_payload"),
        (
            url.clone(),
            json!({"text": "x", "link_names": 1}).to_string(),
            400,
            "invalid_payload",
        ),
        (
            url.clone(),
            json!({"blocks": []}).to_string(),
            400,
            "no_text",
        ),
        (
            url.clone(),
            json!({"text": "x", "blocks": [header]}).to_string(),
            400,
            "invalid_blocks",
        ),
        (format!("{url}x"), text.clone(), 404, "no_service"),
        (
            url.replace("/services/T0001/", "/services/T0002/"),
            text.clone(),
            404,
            "no_service",
        ),
        (
            slack.webhook_url(GONE_ID),
            text.clone(),
            404,
            "channel_not_found",
        ),
        (
            slack.webhook_url(ARCHIVED_ID),
            text.clone(),
            410,
            "channel_is_archived",
        ),
    ];
    for (url, body, status, code) in &cases {
        let (got_status, _, got) = send(url, body).await;
        assert_eq!(
            (got_status.as_u16(), got.as_str()),
            (*status, *code),
            "{body} to {url}"
        );
    }
    slack.set_webhook_prohibited(GENERAL_ID, true);
    assert_eq!(
        hook(&slack, GENERAL_ID, json!({"text": "x"})).await,
        (403, "action_prohibited".into())
    );
    slack.set_webhook_prohibited(GENERAL_ID, false);
    assert_eq!(
        hook(&slack, GENERAL_ID, json!({"text": "x"})).await,
        (200, "ok".into())
    );

    let mut codes: Vec<&str> = cases.iter().map(|case| case.3).collect();
    codes.push("action_prohibited");
    assert_eq!(slack.errors(), codes);
    assert_eq!((slack.count_rejected(), slack.posted().len()), (10, 1));
}

#[tokio::test]
async fn webhooks_share_the_channels_one_message_a_second() {
    let slack = SlackStandIn::builder()
        .channel(SlackChannel::public(GENERAL_ID, "general"))
        .webhook(GENERAL_ID)
        .start()
        .await;
    assert_eq!(
        hook(&slack, GENERAL_ID, json!({"text": "one"})).await.0,
        200
    );
    let (status, headers, text) = send(&slack.webhook_url(GENERAL_ID), r#"{"text":"two"}"#).await;
    assert_eq!((status.as_u16(), text.as_str()), (429, "rate_limited"));
    assert_eq!(headers["retry-after"], "1");
    // The same channel through the Web API waits too.
    let body = json!({"channel": GENERAL_ID, "text": "three"});
    assert_eq!(
        call(&slack, "chat.postMessage", Some(slack.token()), &body)
            .await
            .0,
        429
    );
    assert_eq!((slack.count_429(), slack.posted().len()), (2, 1));
}

#[tokio::test]
async fn injected_faults_apply_to_webhooks_in_their_form() {
    let slack = with_webhooks().await;
    slack.fail_next(1, SlackFault::Status(503));
    slack.fail_next(1, SlackFault::RetryAfter(7));
    slack.fail_next(1, SlackFault::Error("fatal_error".into()));
    let url = slack.webhook_url(GENERAL_ID);
    let body = r#"{"text":"x"}"#;
    let (status, _, text) = send(&url, body).await;
    assert_eq!((status.as_u16(), text.as_str()), (503, ""));
    let (status, headers, text) = send(&url, body).await;
    assert_eq!((status.as_u16(), text.as_str()), (429, "rate_limited"));
    assert_eq!(headers["retry-after"], "7");
    let (status, _, text) = send(&url, body).await;
    assert_eq!((status.as_u16(), text.as_str()), (500, "fatal_error"));
    assert_eq!(send(&url, body).await.0, 200);
    assert_eq!(slack.errors(), ["rate_limited", "fatal_error"]);
}
