//! Discord's checks on message bodies (create, edit, and a webhook's execute and edit) and on starting a
//! thread: the documented limits, the request schemas from Discord's OpenAPI description, and the
//! product's own rule that `allowed_mentions` is always sent with content.

use std::sync::LazyLock;

use jsonschema::Validator;
use serde_json::{Map, Value, json};

const MAX_CONTENT: usize = 2000;
const MAX_EMBEDS: usize = 10;
const MAX_FIELDS: usize = 25;
// Title, description, field names and values, footer text and author name of all embeds together.
const MAX_EMBEDS_TOTAL: usize = 6000;
const MAX_COLOR: u64 = 0xFF_FFFF;

/// Which request a body is for: each has its own schema, and edits carry only what they change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Create,
    Edit,
    Webhook,
    WebhookEdit,
}

impl Kind {
    fn is_edit(self) -> bool {
        matches!(self, Self::Edit | Self::WebhookEdit)
    }
}

struct Schemas {
    create: Validator,
    edit: Validator,
    webhook: Validator,
    webhook_edit: Validator,
    thread: Validator,
}

static SCHEMAS: LazyLock<Schemas> = LazyLock::new(|| {
    let fixture: Value =
        serde_json::from_str(include_str!("../../fixtures/discord-requests.schema.json"))
            .expect("fixture schema is JSON");
    let compile = |name: &str| {
        let schema = json!({
            "$schema": fixture["$schema"],
            "$defs": fixture["$defs"],
            "$ref": format!("#/$defs/{name}"),
        });
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|e| panic!("fixture schema {name} compiles: {e}"))
    };
    Schemas {
        create: compile("MessageCreateRequest"),
        edit: compile("MessageEditRequestPartial"),
        webhook: compile("IncomingWebhookRequestPartial"),
        webhook_edit: compile("IncomingWebhookUpdateRequestPartial"),
        thread: compile("CreateTextThreadWithMessageRequest"),
    }
});

/// Why Discord turns a body down: the answer body, with its JSON error `code`.
#[derive(Debug)]
pub(crate) struct Rejection {
    pub body: Value,
}

impl Rejection {
    /// A 50035 "Invalid Form Body" with one error at `path`.
    pub(crate) fn at(path: &[&str], code: &str, message: &str) -> Self {
        let mut problems = Problems::default();
        problems.push(path, code, message.into());
        problems.into_rejection()
    }
}

/// Checks a message body for its `kind` of request; `require_allowed_mentions` is the product's rule (see
/// [`check_rules`]), which a stand-in can turn off to watch Discord's default at work.
pub(crate) fn validate(
    body: &Value,
    kind: Kind,
    require_allowed_mentions: bool,
) -> Result<(), Rejection> {
    let mut problems = Problems::default();
    check_rules(body, kind, require_allowed_mentions, &mut problems);
    if problems.0.is_empty() {
        let schema = match kind {
            Kind::Create => &SCHEMAS.create,
            Kind::Edit => &SCHEMAS.edit,
            Kind::Webhook => &SCHEMAS.webhook,
            Kind::WebhookEdit => &SCHEMAS.webhook_edit,
        };
        problems.schema(schema, body);
    }
    if !problems.0.is_empty() {
        return Err(problems.into_rejection());
    }
    // An edit may leave content and embeds alone; the edited message is checked by `non_empty`.
    if kind.is_edit() {
        Ok(())
    } else {
        non_empty(body)
    }
}

/// A message needs content or an embed, when posted and after every edit.
pub(crate) fn non_empty(message: &Value) -> Result<(), Rejection> {
    let has_content = message["content"].as_str().is_some_and(|c| !c.is_empty());
    let has_embeds = message["embeds"].as_array().is_some_and(|e| !e.is_empty());
    if !has_content && !has_embeds {
        return Err(Rejection {
            body: json!({"message": "Cannot send an empty message", "code": 50006}),
        });
    }
    Ok(())
}

/// Checks the body that starts a thread on a message (`name` of 1 to 100 characters, and so on).
pub(crate) fn thread(body: &Value) -> Result<(), Rejection> {
    let mut problems = Problems::default();
    problems.schema(&SCHEMAS.thread, body);
    if problems.0.is_empty() {
        Ok(())
    } else {
        Err(problems.into_rejection())
    }
}

fn check_rules(body: &Value, kind: Kind, require_allowed_mentions: bool, problems: &mut Problems) {
    if !body.is_object() {
        problems.push(
            &[],
            "DICT_TYPE_CONVERT",
            "Only dictionaries may be used in a DictType".into(),
        );
        return;
    }
    // Discord's default parses @everyone, roles and users in content, and an edit's content is parsed
    // afresh (with that default when the edit leaves `allowed_mentions` out): the product must always
    // narrow it. An edit without content changes no mentions.
    let sets_content = !kind.is_edit() || body.get("content").is_some_and(|c| !c.is_null());
    if require_allowed_mentions
        && sets_content
        && body.get("allowed_mentions").is_none_or(Value::is_null)
    {
        problems.push(
            &["allowed_mentions"],
            "BASE_TYPE_REQUIRED",
            "This field is required (stand-in rule: rack notifications always sends allowed_mentions, \
             e.g. {\"parse\": []}, so that text from events cannot ping @everyone, roles or users)"
                .into(),
        );
    }
    check_exclusive_lists(&body["allowed_mentions"], problems);
    if let Some(content) = body["content"].as_str() {
        problems.max_length(&["content"], content, MAX_CONTENT);
    }
    let Some(embeds) = body["embeds"].as_array() else {
        return;
    };
    if embeds.len() > MAX_EMBEDS {
        problems.push(
            &["embeds"],
            "BASE_TYPE_MAX_LENGTH",
            format!("Must be {MAX_EMBEDS} or fewer in length."),
        );
    }
    let mut total = 0;
    for (i, embed) in embeds.iter().enumerate() {
        total += check_embed(embed, &i.to_string(), problems);
    }
    if total > MAX_EMBEDS_TOTAL {
        problems.push(
            &["embeds"],
            "MAX_EMBED_SIZE_EXCEEDED",
            format!("Embed size exceeds maximum size of {MAX_EMBEDS_TOTAL}"),
        );
    }
}

/// Discord refuses `parse: ["users"]` together with a `users` list, and the same for roles.
fn check_exclusive_lists(allowed_mentions: &Value, problems: &mut Problems) {
    let parse = allowed_mentions["parse"].as_array();
    for kind in ["users", "roles"] {
        let parsed = parse.is_some_and(|p| p.iter().any(|k| k == kind));
        let listed = allowed_mentions[kind]
            .as_array()
            .is_some_and(|l| !l.is_empty());
        if parsed && listed {
            problems.push(
                &["allowed_mentions"],
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                format!("parse:[\"{kind}\"] and {kind}: [ids...] are mutually exclusive."),
            );
        }
    }
}

/// Checks one embed and returns how many of its characters count towards the 6000 total.
fn check_embed(embed: &Value, i: &str, problems: &mut Problems) -> usize {
    let mut counted = 0;
    let mut text = |path: &[&str], value: &Value, max: usize, problems: &mut Problems| {
        if let Some(value) = value.as_str() {
            counted += value.chars().count();
            problems.max_length(path, value, max);
        }
    };
    text(&["embeds", i, "title"], &embed["title"], 256, problems);
    text(
        &["embeds", i, "description"],
        &embed["description"],
        4096,
        problems,
    );
    text(
        &["embeds", i, "footer", "text"],
        &embed["footer"]["text"],
        2048,
        problems,
    );
    text(
        &["embeds", i, "author", "name"],
        &embed["author"]["name"],
        256,
        problems,
    );
    if let Some(fields) = embed["fields"].as_array() {
        if fields.len() > MAX_FIELDS {
            problems.push(
                &["embeds", i, "fields"],
                "BASE_TYPE_MAX_LENGTH",
                format!("Must be {MAX_FIELDS} or fewer in length."),
            );
        }
        for (j, field) in fields.iter().enumerate() {
            let j = j.to_string();
            for (key, max) in [("name", 256), ("value", 1024)] {
                let path = ["embeds", i, "fields", &j, key];
                if field[key].as_str().is_none_or(str::is_empty) {
                    problems.push(&path, "BASE_TYPE_REQUIRED", "This field is required".into());
                }
                text(&path, &field[key], max, problems);
            }
        }
    }
    if let Some(color) = embed.get("color").filter(|c| !c.is_null())
        && color.as_u64().is_none_or(|c| c > MAX_COLOR)
    {
        problems.push(
            &["embeds", i, "color"],
            "NUMBER_TYPE_MAX",
            format!("int value should be between 0 and {MAX_COLOR}."),
        );
    }
    counted
}

#[derive(Default)]
struct Problems(Vec<(Vec<String>, String, String)>);

impl Problems {
    fn push(&mut self, path: &[&str], code: &str, message: String) {
        self.push_at(path.iter().map(|s| s.to_string()).collect(), code, message);
    }

    fn push_at(&mut self, path: Vec<String>, code: &str, message: String) {
        self.0.push((path, code.into(), message));
    }

    fn schema(&mut self, schema: &Validator, body: &Value) {
        for error in schema.iter_errors(body) {
            let path = error
                .instance_path()
                .as_str()
                .split('/')
                .skip(1)
                .map(str::to_string)
                .collect();
            self.push_at(path, "SCHEMA_VIOLATION", error.to_string());
        }
    }

    fn max_length(&mut self, path: &[&str], value: &str, max: usize) {
        if value.chars().count() > max {
            self.push(
                path,
                "BASE_TYPE_MAX_LENGTH",
                format!("Must be {max} or fewer in length."),
            );
        }
    }

    /// Discord's 50035 body: errors nested along the offending path, each level ending in `_errors`.
    fn into_rejection(self) -> Rejection {
        let mut errors = Map::new();
        for (path, code, message) in self.0 {
            let mut node = &mut errors;
            for segment in path {
                node = node
                    .entry(segment)
                    .or_insert_with(|| json!({}))
                    .as_object_mut()
                    .unwrap();
            }
            node.entry("_errors")
                .or_insert_with(|| json!([]))
                .as_array_mut()
                .unwrap()
                .push(json!({"code": code, "message": message}));
        }
        Rejection {
            body: json!({"message": "Invalid Form Body", "code": 50035, "errors": errors}),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(body: &Value) -> Result<(), Rejection> {
        validate(body, Kind::Create, true)
    }

    fn message(embed: Value) -> Value {
        json!({"allowed_mentions": {"parse": []}, "embeds": [embed]})
    }

    #[test]
    fn a_plain_message_passes() {
        let body = json!({"content": "deployed", "allowed_mentions": {"parse": []}});
        create(&body).unwrap();
    }

    #[test]
    fn missing_allowed_mentions_says_why() {
        let rejection = create(&json!({"content": "hi"})).unwrap_err();
        assert_eq!(rejection.body["code"], 50035);
        let message = rejection.body["errors"]["allowed_mentions"]["_errors"][0]["message"]
            .as_str()
            .unwrap();
        assert!(message.contains("@everyone"), "{message}");
    }

    #[test]
    fn embed_total_counts_characters_across_embeds() {
        let embed = json!({"title": "t", "description": "é".repeat(3000)});
        let body = json!({"allowed_mentions": {"parse": []}, "embeds": [embed, embed]});
        let rejection = create(&body).unwrap_err();
        assert_eq!(
            rejection.body["errors"]["embeds"]["_errors"][0]["code"],
            "MAX_EMBED_SIZE_EXCEEDED"
        );
    }

    #[test]
    fn field_limits_and_required_parts() {
        let rejection = create(&message(
            json!({"fields": [{"name": "", "value": "x".repeat(1025)}]}),
        ))
        .unwrap_err();
        let field = &rejection.body["errors"]["embeds"]["0"]["fields"]["0"];
        assert_eq!(field["name"]["_errors"][0]["code"], "BASE_TYPE_REQUIRED");
        assert_eq!(field["value"]["_errors"][0]["code"], "BASE_TYPE_MAX_LENGTH");
    }

    #[test]
    fn color_must_fit_in_24_bits() {
        assert!(create(&message(json!({"title": "t", "color": 0xFF_FFFF}))).is_ok());
        assert!(create(&message(json!({"title": "t", "color": 0x100_0000}))).is_err());
        assert!(create(&message(json!({"title": "t", "color": -1}))).is_err());
    }

    #[test]
    fn schema_catches_what_the_rules_do_not() {
        let bad_parse = json!({"content": "hi", "allowed_mentions": {"parse": ["all"]}});
        let rejection = create(&bad_parse).unwrap_err();
        assert_eq!(rejection.body["code"], 50035);
        assert!(
            rejection.body["errors"]["allowed_mentions"].is_object(),
            "{}",
            rejection.body
        );
        let long_nonce =
            json!({"content": "hi", "allowed_mentions": {"parse": []}, "nonce": "n".repeat(26)});
        assert!(create(&long_nonce).is_err());
        let bad_timestamp = message(json!({"title": "t", "timestamp": "yesterday"}));
        assert!(create(&bad_timestamp).is_err());
    }

    #[test]
    fn empty_message_is_50006() {
        let rejection =
            create(&json!({"content": "", "allowed_mentions": {"parse": []}})).unwrap_err();
        assert_eq!(rejection.body["code"], 50006);
    }

    #[test]
    fn edits_need_allowed_mentions_only_with_content() {
        let embeds_only = json!({"embeds": [{"title": "t"}]});
        assert!(validate(&embeds_only, Kind::Edit, true).is_ok());
        let content = json!({"content": "<@1>"});
        let rejection = validate(&content, Kind::WebhookEdit, true).unwrap_err();
        assert!(rejection.body["errors"]["allowed_mentions"].is_object());
        assert!(validate(&content, Kind::Edit, false).is_ok());
        assert!(
            validate(&json!({}), Kind::Edit, true).is_ok(),
            "emptiness is the edited message's"
        );
    }

    #[test]
    fn parse_and_an_explicit_list_of_one_kind_exclude_each_other() {
        for allowed in [
            json!({"parse": ["users"], "users": ["1"]}),
            json!({"parse": ["roles"], "roles": ["1"]}),
        ] {
            let rejection =
                create(&json!({"content": "x", "allowed_mentions": allowed})).unwrap_err();
            assert_eq!(
                rejection.body["errors"]["allowed_mentions"]["_errors"][0]["code"],
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE"
            );
        }
        assert!(
            create(
                &json!({"content": "x", "allowed_mentions": {"parse": ["users"], "roles": ["1"]}})
            )
            .is_ok()
        );
    }

    #[test]
    fn each_request_has_its_own_schema() {
        let named = json!({"content": "x", "allowed_mentions": {"parse": []}, "username": ""});
        assert!(
            validate(&named, Kind::Webhook, true).is_err(),
            "username is 1 to 80"
        );
        assert!(
            validate(&named, Kind::Create, true).is_ok(),
            "no username on create"
        );
        let reference =
            json!({"content": "x", "allowed_mentions": {"parse": []}, "message_reference": {}});
        assert!(
            validate(&reference, Kind::Create, true).is_err(),
            "message_id is required"
        );
    }

    #[test]
    fn thread_names_are_1_to_100_characters() {
        assert!(thread(&json!({"name": "deploy web"})).is_ok());
        assert!(thread(&json!({"name": "é".repeat(100), "auto_archive_duration": 1440})).is_ok());
        for bad in [
            json!({"name": ""}),
            json!({"name": "x".repeat(101)}),
            json!({}),
            json!({"name": "x", "auto_archive_duration": 30}),
        ] {
            assert_eq!(thread(&bad).unwrap_err().body["code"], 50035, "{bad}");
        }
    }
}
