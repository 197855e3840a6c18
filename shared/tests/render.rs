//! Rendering hostile and oversized events: escaped, within every provider limit, mentions off.

use serde_json::{Value, json};
use shared::event::RackEvent;
use shared::notification::Notification;
use shared::render::{discord, slack};

fn note(action: &str, status: &str, data: Value) -> Notification {
    let payload = json!({"version": "0", "id": "ev-h", "source": "convox.rack", "detail-type": action,
        "account": "1", "time": "2026-11-22T18:43:48Z", "region": "us-east-1", "resources": [],
        "detail": {"action": action, "status": status, "data": data}});
    Notification::from_event(&RackEvent::from_eventbridge(payload).unwrap())
}

fn hostile() -> Notification {
    let long = "x".repeat(10_000);
    let mut data = json!({
        "rack": "<!channel> production",
        "app": "@everyone <@U999> web",
        "id": "R1",
        "actor": "<!here|here> & <https://evil.example|click>",
        "message": format!("rollback `{long}` <!everyone>"),
    });
    for i in 0..60 {
        data[format!("key_{i}_{}", "k".repeat(300))] =
            json!(format!("@here {}", "v".repeat(3_000)));
    }
    note("release:promote", "error", data)
}

fn texts(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| texts(v, out)),
        Value::Object(map) => map.values().for_each(|v| texts(v, out)),
        _ => {}
    }
}

#[test]
fn slack_never_carries_a_live_mention_and_keeps_its_limits() {
    let message = slack::render(&hostile(), "C1");
    let body = serde_json::to_value(&message).unwrap();
    let mut all = Vec::new();
    texts(&body, &mut all);
    for text in &all {
        for live in [
            "<!channel>",
            "<!here",
            "<!everyone>",
            "<@U999>",
            "<https://",
        ] {
            assert!(!text.contains(live), "live `{live}` in {text:.80}");
        }
    }
    assert!(body.get("link_names").is_none() && body.get("parse").is_none());
    assert!(message.text.chars().count() <= slack::TEXT_MAX);
    let blocks: Vec<&slack::Block> = message
        .blocks
        .iter()
        .chain(message.attachments.iter().flat_map(|a| &a.blocks))
        .collect();
    assert!(blocks.len() <= slack::BLOCKS_MAX);
    let len = |t: &slack::Text| match t {
        slack::Text::PlainText { text, .. } | slack::Text::Mrkdwn { text } => text.chars().count(),
    };
    for block in blocks {
        match block {
            slack::Block::Header { text } => assert!(len(text) <= slack::HEADER_MAX),
            slack::Block::Section { text, fields } => {
                assert!(
                    text.as_ref()
                        .is_none_or(|t| len(t) <= slack::SECTION_TEXT_MAX)
                );
                assert!(fields.len() <= slack::SECTION_FIELDS_MAX);
                assert!(fields.iter().all(|f| len(f) <= slack::FIELD_TEXT_MAX));
            }
            slack::Block::Context { elements } => {
                assert!(elements.len() <= slack::CONTEXT_ELEMENTS_MAX)
            }
        }
    }
    assert!(message.text.contains("&lt;!channel&gt; production"));
}

#[test]
fn discord_disables_mentions_and_keeps_its_limits() {
    let message = discord::render(&hostile());
    let body = serde_json::to_value(&message).unwrap();
    assert_eq!(body["allowed_mentions"], json!({"parse": []}));
    let mut all = Vec::new();
    texts(&body, &mut all);
    for text in &all {
        assert!(
            !text.contains("@everyone") && !text.contains("@here"),
            "{text:.80}"
        );
        assert!(!text.contains("<@U999>"), "{text:.80}");
    }
    assert!(message.content.chars().count() <= discord::CONTENT_MAX);
    let embed = &message.embeds[0];
    assert!(embed.title.chars().count() <= discord::TITLE_MAX);
    assert!(
        embed
            .description
            .as_ref()
            .is_some_and(|d| d.chars().count() <= discord::DESCRIPTION_MAX)
    );
    assert!(embed.fields.len() <= discord::FIELDS_MAX);
    for field in &embed.fields {
        assert!((1..=discord::FIELD_NAME_MAX).contains(&field.name.chars().count()));
        assert!((1..=discord::FIELD_VALUE_MAX).contains(&field.value.chars().count()));
    }
    assert!(
        embed.length() <= discord::EMBEDS_TOTAL_MAX,
        "{}",
        embed.length()
    );
    assert_eq!(message.embeds.len(), 1);
}

#[test]
fn failures_stand_out_and_successes_are_calm() {
    let failed = note(
        "release:promote",
        "error",
        json!({"rack": "production", "app": "web", "message": "rollback"}),
    );
    let done = note(
        "release:promote",
        "success",
        json!({"rack": "production", "app": "web"}),
    );
    assert_eq!(failed.headline, "Release promotion failed");
    assert_eq!(done.headline, "Release promoted");
    let red = discord::render(&failed).embeds[0].color;
    let green = discord::render(&done).embeds[0].color;
    assert_eq!((red, green), (0xD1242F, 0x2DA44E));
    assert_eq!(slack::render(&failed, "C1").attachments[0].color, "#d1242f");
    assert_eq!(
        failed.summary(),
        "[production] Release promotion failed: web — rollback"
    );
}

#[test]
fn unknown_types_get_a_readable_generic_rendering() {
    let n = note(
        "release:autoscale-disabled",
        "success",
        json!({"rack": "staging", "app": "api", "service_name": "worker", "reason": "manual"}),
    );
    assert_eq!(n.headline, "Release autoscale disabled");
    let fields: Vec<(&str, &str)> = n
        .fields
        .iter()
        .map(|f| (f.label.as_str(), f.value.as_str()))
        .collect();
    assert_eq!(
        fields,
        [
            ("App", "api"),
            ("Reason", "manual"),
            ("Service name", "worker")
        ]
    );
}

#[test]
fn budget_figures_read_as_money_and_percentages() {
    let n = note(
        "app:budget:threshold",
        "success",
        json!({"rack": "production", "app": "web", "spend_usd": "80.50", "cap_usd": "100", "pct": "80.5", "actor": "system"}),
    );
    let fields: Vec<(&str, &str)> = n
        .fields
        .iter()
        .map(|f| (f.label.as_str(), f.value.as_str()))
        .collect();
    assert_eq!(
        fields,
        [
            ("App", "web"),
            ("Actor", "system"),
            ("Spend", "$80.50"),
            ("Cap", "$100"),
            ("Of cap", "80.5%")
        ]
    );
}
