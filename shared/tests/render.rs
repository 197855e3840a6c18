//! Rendering hostile and oversized events: escaped for the markup only, within every provider limit,
//! no mention but those a route names.

use proptest::prelude::*;
use serde_json::{Value, json};
use shared::event::RackEvent;
use shared::notification::Notification;
use shared::render::{Form, discord, slack};

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

fn labelled(note: &Notification) -> Vec<(&str, &str)> {
    note.fields
        .iter()
        .map(|f| (f.label.as_str(), f.value.as_str()))
        .collect()
}

fn texts(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| texts(v, out)),
        Value::Object(map) => map.values().for_each(|v| texts(v, out)),
        _ => {}
    }
}

/// Slack's rules, checked on a rendered message: no live mention from untrusted text, every limit kept.
fn check_slack(note: &Notification) {
    let message = slack::render(note, Some("C1"), &[], Form::Full);
    let body = serde_json::to_value(&message).unwrap();
    let mut all = Vec::new();
    texts(&body, &mut all);
    for text in &all {
        // Our own markup is `<!date^…>` only; anything else in angle brackets came from untrusted text.
        for live in [
            "<!channel",
            "<!here",
            "<!everyone",
            "<@",
            "<#",
            "<http",
            "<mailto",
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
        slack::Text::PlainText { text, .. } | slack::Text::Mrkdwn { text, .. } => {
            text.chars().count()
        }
    };
    let verbatim = |t: &slack::Text| {
        matches!(
            t,
            slack::Text::PlainText { .. } | slack::Text::Mrkdwn { verbatim: true, .. }
        )
    };
    for block in blocks {
        match block {
            slack::Block::Header { text } => assert!(len(text) <= slack::HEADER_MAX),
            slack::Block::Section { text, fields } => {
                // Slack would otherwise auto-link bare URLs, `#channel` names and `@here`.
                assert!(text.iter().chain(fields).all(verbatim));
                assert!(
                    text.as_ref()
                        .is_none_or(|t| len(t) <= slack::SECTION_TEXT_MAX)
                );
                assert!(fields.len() <= slack::SECTION_FIELDS_MAX);
                assert!(fields.iter().all(|f| len(f) <= slack::FIELD_TEXT_MAX));
            }
            slack::Block::Context { elements } => {
                assert!(elements.len() <= slack::CONTEXT_ELEMENTS_MAX);
                assert!(elements.iter().all(verbatim));
            }
        }
    }
}

/// Discord's rules, checked on a rendered message: no mention parsed at all, every limit kept.
fn check_discord(note: &Notification) {
    let message = discord::render(note, &[], Form::Full);
    let body = serde_json::to_value(&message).unwrap();
    // `@everyone` and `@here` may stand in the text as sent: with nothing to parse, Discord pings nobody.
    assert_eq!(body["allowed_mentions"], json!({"parse": []}));
    let mut all = Vec::new();
    texts(&body, &mut all);
    for text in &all {
        // Every `<` of untrusted text outside code is escaped, so no `<@id>` or `<#id>` can even show
        // as a mention; inside code Discord shows everything as it is.
        let unescaped = outside_code(text).replace("\\<", "");
        assert!(
            !unescaped.contains("<@") && !unescaped.contains("<#"),
            "{text:.80}"
        );
    }
    assert!(message.content.chars().count() <= discord::CONTENT_MAX);
    assert_eq!(message.embeds.len(), 1);
    let embed = &message.embeds[0];
    assert!((1..=discord::TITLE_MAX).contains(&embed.title.chars().count()));
    let description = embed.description.as_deref().unwrap_or_default();
    assert!(description.chars().count() <= discord::DESCRIPTION_MAX);
    assert!(embed.fields.len() <= discord::FIELDS_MAX);
    for field in &embed.fields {
        assert!((1..=discord::FIELD_NAME_MAX).contains(&field.name.trim().chars().count()));
        assert!((1..=discord::FIELD_VALUE_MAX).contains(&field.value.trim().chars().count()));
    }
    assert!(embed.footer.text.chars().count() <= discord::FOOTER_MAX);
    assert!(
        embed.length() <= discord::EMBEDS_TOTAL_MAX,
        "{}",
        embed.length()
    );
}

#[test]
fn hostile_text_is_escaped_and_cut_to_the_limits() {
    let note = hostile();
    check_slack(&note);
    check_discord(&note);
    assert!(
        slack::render(&note, Some("C1"), &[], Form::Full)
            .text
            .contains("&lt;!channel&gt; production")
    );
    assert!(
        discord::render(&note, &[], Form::Full).embeds[0]
            .description
            .is_some()
    );
}

/// `text` without its code blocks and spans, where Discord formats nothing.
fn outside_code(text: &str) -> String {
    let mut outside = String::new();
    for (i, part) in text.split("```").enumerate() {
        if i % 2 == 0 {
            for (j, piece) in part.split('`').enumerate() {
                if j % 2 == 0 {
                    outside.push_str(piece);
                }
            }
        }
    }
    outside
}

/// What a Discord reader sees and copies: the backslash escapes undone.
fn discord_shows(text: &str) -> String {
    let mut shown = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => shown.extend(chars.next()),
            c => shown.push(c),
        }
    }
    shown
}

/// What a Slack reader sees and copies: the three entities undone.
fn slack_shows(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[test]
fn untrusted_text_reads_and_copies_as_it_was_sent() {
    let actor = "alice@example.com";
    let odd = "a_b*c~d`e|f>g<h[i](j)#k\\l @everyone <@1>";
    let n = note(
        "release:promote",
        "success",
        json!({"rack": "production", "app": "web", "actor": actor, "reason": odd}),
    );
    let discord = discord::render(&n, &[], Form::Full);
    let shown: Vec<String> = discord.embeds[0]
        .fields
        .iter()
        .map(|f| discord_shows(&f.value))
        .collect();
    assert!(shown.contains(&actor.to_owned()), "{shown:?}");
    assert!(shown.contains(&odd.to_owned()), "{shown:?}");
    let body = serde_json::to_string(&discord).unwrap();
    assert!(!body.contains('\u{200B}'), "no invisible characters");
    let slack = serde_json::to_value(slack::render(&n, Some("C1"), &[], Form::Full)).unwrap();
    let mut all = Vec::new();
    texts(&slack, &mut all);
    assert!(all.iter().any(|t| slack_shows(t).contains(odd)), "{all:?}");
}

#[test]
fn any_timestamp_renders_and_only_plausible_ones_natively() {
    for (raw, native) in [
        ("0001-01-01T00:00:00Z", false),
        ("9999-12-31T23:59:59Z", false),
        ("2026-11-22T18:43:48Z", true),
    ] {
        let payload = json!({"version": "0", "id": "ev-t", "source": "convox.rack", "detail-type": "app:create",
            "account": "1", "time": "2026-11-22T18:43:48Z", "region": "us-east-1", "resources": [],
            "detail": {"action": "app:create", "timestamp": raw, "data": {"rack": "staging"}}});
        let n = Notification::from_event(&RackEvent::from_eventbridge(payload).unwrap());
        let discord = discord::render(&n, &[], Form::Full);
        assert_eq!(discord.embeds[0].timestamp.is_some(), native, "{raw}");
        let slack = serde_json::to_string(&slack::render(&n, Some("C1"), &[], Form::Full)).unwrap();
        assert_eq!(slack.contains("<!date^"), native, "{raw}");
        check_slack(&n);
        check_discord(&n);
    }
}

#[test]
fn mentions_come_from_the_route_and_discord_allows_exactly_them() {
    use shared::destination::Mention;
    let n = note(
        "release:promote",
        "error",
        json!({"rack": "production", "app": "<@1> @everyone"}),
    );
    let mentions = [
        Mention::DiscordUser("42".into()),
        Mention::DiscordRole("7".into()),
        Mention::SlackUser("U0123".into()),
    ];
    let discord = serde_json::to_value(discord::render(&n, &mentions, Form::Full)).unwrap();
    assert_eq!(
        discord["allowed_mentions"],
        json!({"parse": [], "users": ["42"], "roles": ["7"]})
    );
    assert!(
        discord["content"]
            .as_str()
            .unwrap()
            .starts_with("<@42> <@&7> ")
    );
    let slack = slack::render(&n, Some("C1"), &mentions, Form::Full);
    assert!(slack.text.starts_with("<@U0123> "), "{}", slack.text);
    let plain = slack::render(&n, None, &[], Form::Plain);
    assert!(plain.blocks.is_empty() && plain.attachments.is_empty() && plain.channel.is_none());
    let plain = discord::render(&n, &[], Form::Plain);
    assert!(
        plain.embeds.is_empty()
            && plain.content.contains("rollback") == n.summary().contains("rollback")
    );
}

/// Any string, weighted towards what breaks messages: mention syntax, markup, huge and multi-byte text.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        proptest::collection::vec(
            proptest::sample::select(vec![
                "<!channel>",
                "<!here>",
                "<!everyone>",
                "<@U1>",
                "<#C1>",
                "@everyone",
                "@here",
                "&",
                "<",
                ">",
                "*",
                "_",
                "`",
                "~",
                "|",
                "#",
                "@",
                "\\",
                "[",
                "]",
                "é",
                "🔴",
                " ",
                "x",
            ]),
            0..40,
        )
        .prop_map(|parts| parts.concat()),
        (1usize..12_000).prop_map(|n| "é<".repeat(n / 2)),
    ]
}

fn payload() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        text(),
        Just("rack".to_owned()),
        Just("app".to_owned()),
        Just("message".to_owned())
    ];
    let data = proptest::collection::btree_map(key, text(), 0..40);
    let known: Vec<String> = shared::category::EVENT_TYPES
        .iter()
        .map(|(a, _)| a.to_string())
        .collect();
    let unknown = text().prop_filter("racks always name the action", |a| !a.trim().is_empty());
    let action = prop_oneof![proptest::sample::select(known), unknown];
    let status = prop_oneof![
        Just("success".to_owned()),
        Just("error".to_owned()),
        Just("start".to_owned()),
        text()
    ];
    (action, status, data, text()).prop_map(|(action, status, data, id)| {
        json!({"version": "0", "id": id, "source": "convox.rack", "detail-type": action,
               "account": "1", "time": "2026-11-22T18:43:48Z", "region": "us-east-1", "resources": [],
               "detail": {"action": action, "status": status, "data": data, "timestamp": "2026-11-22T18:43:48Z"}})
    })
}

/// Events with each field well-formed, of another type, or missing: where reading from the text and from
/// the tree could part.
fn near_events() -> impl Strategy<Value = Value> {
    let odd = || {
        prop_oneof![
            Just(None),
            Just(Some(Value::Null)),
            Just(Some(json!(3))),
            Just(Some(json!(" "))),
            Just(Some(json!("2026-11-22T18:43:48Z"))),
            text().prop_map(|t| Some(Value::from(t))),
        ]
    };
    let value = prop_oneof![
        Just(Value::Null),
        Just(json!(1)),
        text().prop_map(Value::from)
    ];
    let data = prop_oneof![
        Just(None),
        Just(Some(json!([]))),
        proptest::collection::btree_map(text(), value, 0..4)
            .prop_map(|m| Some(Value::Object(m.into_iter().collect()))),
    ];
    // The envelope's other fields are only checked, as `EventBridgeEvent` checks them; mostly well-formed,
    // so that the detail's variations are reached.
    let string = || {
        prop_oneof![
            8 => Just(Some(json!("x"))),
            1 => Just(None),
            1 => Just(Some(Value::Null)),
            1 => Just(Some(json!(3))),
            1 => Just(Some(json!(["x"]))),
        ]
    };
    let list = prop_oneof![
        4 => Just(Some(json!(["x"]))),
        2 => Just(None),
        1 => Just(Some(json!([]))),
        1 => Just(Some(json!(["x", 3]))),
        1 => Just(Some(json!("x"))),
        1 => Just(Some(Value::Null)),
    ];
    let envelope = (string(), string(), string(), list);
    (odd(), odd(), odd(), odd(), odd(), data, envelope).prop_map(
        |(id, time, action, status, timestamp, data, (source, detail_type, region, resources))| {
            let mut detail = serde_json::Map::new();
            let fields = [
                ("action", action),
                ("status", status),
                ("timestamp", timestamp),
                ("data", data),
            ];
            for (key, value) in fields {
                if let Some(value) = value {
                    detail.insert(key.to_owned(), value);
                }
            }
            let mut event = json!({"detail": detail});
            let envelope = [
                ("id", id),
                ("time", time),
                ("source", source),
                ("detail-type", detail_type),
                ("region", region),
                ("resources", resources),
            ];
            for (key, value) in envelope {
                if let Some(value) = value {
                    event[key] = value;
                }
            }
            event
        },
    )
}

/// JSON of any shape: parsing must answer, with an event or an error, and never panic.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        let key = prop_oneof![
            Just("detail".to_owned()),
            Just("data".to_owned()),
            Just("action".to_owned()),
            Just("id".to_owned()),
            Just("detail-type".to_owned()),
            Just("source".to_owned()),
            text(),
        ];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::from),
            proptest::collection::btree_map(key, inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parsing_any_json_answers_and_never_panics(payload in any_json()) {
        let _ = RackEvent::from_json(&payload.to_string());
    }

    #[test]
    fn an_event_refused_names_its_id(payload in near_events()) {
        if let Err(error) = RackEvent::from_eventbridge(payload.clone()) {
            let id = payload.get("id").and_then(Value::as_str).unwrap_or("(no id)");
            prop_assert!(error.to_string().starts_with(&format!("event {id}: ")), "{}", error);
        }
    }

    #[test]
    fn every_rendering_keeps_every_limit(payload in payload()) {
        let text = payload.to_string();
        let event = RackEvent::from_json(&text);
        prop_assert!(event.is_ok(), "a well-formed event parses: {:?}", event.err());
        let note = Notification::from_event(&event.unwrap());
        check_slack(&note);
        check_discord(&note);
    }
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
    let red = discord::render(&failed, &[], Form::Full).embeds[0].color;
    let green = discord::render(&done, &[], Form::Full).embeds[0].color;
    assert_eq!((red, green), (0xD1242F, 0x2DA44E));
    let bar = &slack::render(&failed, Some("C1"), &[], Form::Full).attachments[0].color;
    assert_eq!(bar, "#d1242f");
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
    assert_eq!(
        labelled(&n),
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
    assert_eq!(
        labelled(&n),
        [
            ("App", "web"),
            ("Actor", "system"),
            ("Spend", "$80.50"),
            ("Cap", "$100"),
            ("Of cap", "80.5%")
        ]
    );
}
