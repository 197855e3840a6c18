//! Discord's checks on a create-message body: the documented limits, the `MessageCreateRequest` schema from
//! Discord's OpenAPI description, and the product's own rule that `allowed_mentions` is always sent.

use std::sync::LazyLock;

use jsonschema::Validator;
use serde_json::{Map, Value, json};

const MAX_CONTENT: usize = 2000;
const MAX_EMBEDS: usize = 10;
const MAX_FIELDS: usize = 25;
// Title, description, field names and values, footer text and author name of all embeds together.
const MAX_EMBEDS_TOTAL: usize = 6000;
const MAX_COLOR: u64 = 0xFF_FFFF;

static SCHEMA: LazyLock<Validator> = LazyLock::new(|| {
    let schema: Value = serde_json::from_str(include_str!(
        "../../fixtures/discord-message-create.schema.json"
    ))
    .expect("fixture schema is JSON");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("fixture schema compiles")
});

/// Why Discord turns a body down: the answer body, with its JSON error `code`.
#[derive(Debug)]
pub(crate) struct Rejection {
    pub body: Value,
}

pub(crate) fn validate(body: &Value) -> Result<(), Rejection> {
    let mut problems = Problems::default();
    check_rules(body, &mut problems);
    if problems.0.is_empty() {
        for error in SCHEMA.iter_errors(body) {
            let path = error
                .instance_path()
                .as_str()
                .split('/')
                .skip(1)
                .map(str::to_string)
                .collect();
            problems.push_at(path, "SCHEMA_VIOLATION", error.to_string());
        }
    }
    if !problems.0.is_empty() {
        return Err(problems.into_rejection());
    }
    let has_content = body["content"].as_str().is_some_and(|c| !c.is_empty());
    let has_embeds = body["embeds"].as_array().is_some_and(|e| !e.is_empty());
    if !has_content && !has_embeds {
        return Err(Rejection {
            body: json!({"message": "Cannot send an empty message", "code": 50006}),
        });
    }
    Ok(())
}

fn check_rules(body: &Value, problems: &mut Problems) {
    if !body.is_object() {
        problems.push(
            &[],
            "DICT_TYPE_CONVERT",
            "Only dictionaries may be used in a DictType".into(),
        );
        return;
    }
    // Discord's default parses @everyone, roles and users in content: the product must always narrow it.
    if body.get("allowed_mentions").is_none_or(Value::is_null) {
        problems.push(
            &["allowed_mentions"],
            "BASE_TYPE_REQUIRED",
            "This field is required (stand-in rule: rack notifications always sends allowed_mentions, \
             e.g. {\"parse\": []}, so that text from events cannot ping @everyone, roles or users)"
                .into(),
        );
    }
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

    fn message(embed: Value) -> Value {
        json!({"allowed_mentions": {"parse": []}, "embeds": [embed]})
    }

    #[test]
    fn a_plain_message_passes() {
        let body = json!({"content": "deployed", "allowed_mentions": {"parse": []}});
        validate(&body).unwrap();
    }

    #[test]
    fn missing_allowed_mentions_says_why() {
        let rejection = validate(&json!({"content": "hi"})).unwrap_err();
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
        let rejection = validate(&body).unwrap_err();
        assert_eq!(
            rejection.body["errors"]["embeds"]["_errors"][0]["code"],
            "MAX_EMBED_SIZE_EXCEEDED"
        );
    }

    #[test]
    fn field_limits_and_required_parts() {
        let rejection = validate(&message(
            json!({"fields": [{"name": "", "value": "x".repeat(1025)}]}),
        ))
        .unwrap_err();
        let field = &rejection.body["errors"]["embeds"]["0"]["fields"]["0"];
        assert_eq!(field["name"]["_errors"][0]["code"], "BASE_TYPE_REQUIRED");
        assert_eq!(field["value"]["_errors"][0]["code"], "BASE_TYPE_MAX_LENGTH");
    }

    #[test]
    fn color_must_fit_in_24_bits() {
        assert!(validate(&message(json!({"title": "t", "color": 0xFF_FFFF}))).is_ok());
        assert!(validate(&message(json!({"title": "t", "color": 0x100_0000}))).is_err());
        assert!(validate(&message(json!({"title": "t", "color": -1}))).is_err());
    }

    #[test]
    fn schema_catches_what_the_rules_do_not() {
        let bad_parse = json!({"content": "hi", "allowed_mentions": {"parse": ["all"]}});
        let rejection = validate(&bad_parse).unwrap_err();
        assert_eq!(rejection.body["code"], 50035);
        assert!(
            rejection.body["errors"]["allowed_mentions"].is_object(),
            "{}",
            rejection.body
        );
        let long_nonce =
            json!({"content": "hi", "allowed_mentions": {"parse": []}, "nonce": "n".repeat(26)});
        assert!(validate(&long_nonce).is_err());
        let bad_timestamp = message(json!({"title": "t", "timestamp": "yesterday"}));
        assert!(validate(&bad_timestamp).is_err());
    }

    #[test]
    fn empty_message_is_50006() {
        let rejection =
            validate(&json!({"content": "", "allowed_mentions": {"parse": []}})).unwrap_err();
        assert_eq!(rejection.body["code"], 50006);
    }
}
