//! `SlackStandIn` over HTTP: what each accepted post, update and webhook post would ping and link.

use serde_json::json;
use standins::SlackStandIn;
use standins::slack::{DEPLOYS_ID, GENERAL_ID, SlackChannel};

use super::slack::{call, post, unlimited};

fn mrkdwn(text: &str, verbatim: Option<bool>) -> serde_json::Value {
    let mut object = json!({"type": "mrkdwn", "text": text});
    if let Some(verbatim) = verbatim {
        object["verbatim"] = json!(verbatim);
    }
    json!({"type": "section", "text": object})
}

#[tokio::test]
async fn raw_markup_pings_and_escaped_markup_does_not() {
    let slack = unlimited().await;
    let body = json!({"channel": "general", "text": "&lt;!channel&gt; by <@U0123|ann> for <!subteam^S0001>"});
    post(&slack, body).await;
    let escaped = json!({"channel": "general", "text": "&lt;!here&gt; &lt;@U0123&gt;", "blocks": [
        mrkdwn("&lt;!everyone&gt; &lt;!subteam^S1&gt;", None)]});
    post(&slack, escaped).await;
    let posted = slack.posted();
    assert_eq!(posted[0].pings, ["<@U0123>", "<!subteam^S0001>"]);
    assert!(posted[1].pings.is_empty(), "{:?}", posted[1].pings);
}

#[tokio::test]
async fn mrkdwn_is_parsed_for_bare_broadcasts_and_links_unless_verbatim() {
    let slack = unlimited().await;
    let text =
        "@channel web failed, see https://ci.example.com/run/7. Ask in #deploys, not #random";
    for verbatim in [None, Some(false), Some(true)] {
        let body =
            json!({"channel": "general", "text": "web failed", "blocks": [mrkdwn(text, verbatim)]});
        assert_eq!(post(&slack, body).await["ok"], true);
    }
    let posted = slack.posted();
    for parsed in &posted[..2] {
        assert_eq!(parsed.pings, ["<!channel>"]);
        assert_eq!(
            parsed.links,
            ["https://ci.example.com/run/7", "#deploys"],
            "#random is no channel here"
        );
    }
    assert!(
        posted[2].pings.is_empty() && posted[2].links.is_empty(),
        "verbatim: true"
    );
}

#[tokio::test]
async fn plain_text_never_pings_and_the_top_level_text_is_not_auto_parsed() {
    let slack = unlimited().await;
    let header = json!({"type": "header", "text": {"type": "plain_text", "text": "<!here> @here https://x.example"}});
    let body = json!({"channel": "general", "text": "@everyone https://y.example #deploys", "blocks": [header]});
    post(&slack, body).await;
    let posted = &slack.posted()[0];
    assert!(
        posted.pings.is_empty() && posted.links.is_empty(),
        "{posted:?}"
    );
}

#[tokio::test]
async fn updates_and_webhook_posts_are_counted_too() {
    let slack = SlackStandIn::builder()
        .channel(SlackChannel::public(GENERAL_ID, "general"))
        .channel(SlackChannel::public(DEPLOYS_ID, "deploys"))
        .webhook(DEPLOYS_ID)
        .rate_limit(None)
        .start()
        .await;
    let posted = post(&slack, json!({"channel": "general", "text": "deploying"})).await;
    let update = json!({"channel": GENERAL_ID, "ts": posted["ts"], "text": "failed <!here>",
                        "blocks": [mrkdwn("see #general", None)]});
    let (_, _, answer) = call(&slack, "chat.update", Some(slack.token()), &update).await;
    assert_eq!(answer["ok"], true, "{answer}");
    let updates = slack.updates();
    assert_eq!(
        (updates[0].pings.clone(), updates[0].links.clone()),
        (vec!["<!here>".to_string()], vec!["#general".to_string()])
    );

    reqwest::Client::new()
        .post(slack.webhook_url(DEPLOYS_ID))
        .json(&json!({"text": "t", "blocks": [mrkdwn("@everyone", None)]}))
        .send()
        .await
        .unwrap();
    let hooked = slack.posted().pop().unwrap();
    assert_eq!(hooked.pings, ["<!everyone>"]);
    assert!(slack.posted()[0].pings.is_empty());
}
