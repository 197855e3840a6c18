//! Block Kit limits as Slack enforces them on `chat.postMessage`, counted in Unicode scalar values.

use serde_json::Value;

const MAX_BLOCKS: usize = 50;
const MAX_SECTION_TEXT: usize = 3000;
const MAX_SECTION_FIELDS: usize = 10;
const MAX_FIELD_TEXT: usize = 2000;
const MAX_HEADER_TEXT: usize = 150;
const MAX_CONTEXT_ELEMENTS: usize = 10;

/// Checks `blocks` and every `attachments[].blocks`; the error reads like Slack's
/// `response_metadata.messages` entry, with a JSON pointer to the offending value.
pub(crate) fn validate_message(body: &Value) -> Result<(), String> {
    if let Some(blocks) = body.get("blocks") {
        validate_blocks(blocks, "/blocks")?;
    }
    match body.get("attachments") {
        None => Ok(()),
        Some(Value::Array(attachments)) => {
            for (i, attachment) in attachments.iter().enumerate() {
                if let Some(blocks) = attachment.get("blocks") {
                    validate_blocks(blocks, &format!("/attachments/{i}/blocks"))?;
                }
            }
            Ok(())
        }
        Some(_) => Err(error("must be an array", "/attachments")),
    }
}

fn validate_blocks(blocks: &Value, at: &str) -> Result<(), String> {
    let Value::Array(blocks) = blocks else {
        return Err(error("must be an array", at));
    };
    if blocks.len() > MAX_BLOCKS {
        return Err(error(
            &format!("no more than {MAX_BLOCKS} items allowed"),
            at,
        ));
    }
    for (i, block) in blocks.iter().enumerate() {
        validate_block(block, &format!("{at}/{i}"))?;
    }
    Ok(())
}

fn validate_block(block: &Value, at: &str) -> Result<(), String> {
    let kind = block
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| error("missing required field: type", at))?;
    match kind {
        "section" => validate_section(block, at),
        "header" => {
            let text = block
                .get("text")
                .ok_or_else(|| error("missing required field: text", at))?;
            let at = format!("{at}/text");
            if text.get("type").and_then(Value::as_str) != Some("plain_text") {
                return Err(error("must be a plain_text object", &at));
            }
            validate_text(text, MAX_HEADER_TEXT, &at)
        }
        "context" => match block.get("elements") {
            Some(Value::Array(elements))
                if !elements.is_empty() && elements.len() <= MAX_CONTEXT_ELEMENTS =>
            {
                Ok(())
            }
            _ => Err(error(
                &format!("must have 1 to {MAX_CONTEXT_ELEMENTS} items"),
                &format!("{at}/elements"),
            )),
        },
        _ => Ok(()),
    }
}

fn validate_section(block: &Value, at: &str) -> Result<(), String> {
    let text = block.get("text");
    let fields = block.get("fields");
    if text.is_none() && fields.is_none() {
        return Err(error("must provide either text or fields", at));
    }
    if let Some(text) = text {
        validate_text(text, MAX_SECTION_TEXT, &format!("{at}/text"))?;
    }
    if let Some(fields) = fields {
        let at = format!("{at}/fields");
        let Value::Array(fields) = fields else {
            return Err(error("must be an array", &at));
        };
        if fields.is_empty() || fields.len() > MAX_SECTION_FIELDS {
            return Err(error(
                &format!("must have 1 to {MAX_SECTION_FIELDS} items"),
                &at,
            ));
        }
        for (i, field) in fields.iter().enumerate() {
            validate_text(field, MAX_FIELD_TEXT, &format!("{at}/{i}"))?;
        }
    }
    Ok(())
}

/// A text object: `{"type": "plain_text" | "mrkdwn", "text": "…"}` with 1 to `max` characters.
fn validate_text(text: &Value, max: usize, at: &str) -> Result<(), String> {
    match text.get("type").and_then(Value::as_str) {
        Some("plain_text" | "mrkdwn") => {}
        _ => return Err(error("must be a plain_text or mrkdwn object", at)),
    }
    let Some(content) = text.get("text").and_then(Value::as_str) else {
        return Err(error("missing required field: text", at));
    };
    let length = content.chars().count();
    if length == 0 || length > max {
        return Err(error(
            &format!("must be between 1 and {max} characters, got {length}"),
            &format!("{at}/text"),
        ));
    }
    Ok(())
}

fn error(what: &str, at: &str) -> String {
    format!("[ERROR] {what} [json-pointer:{at}]")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn section(text: &str) -> Value {
        json!({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    }

    #[test]
    fn counts_characters_not_bytes() {
        let at_limit = "é".repeat(MAX_SECTION_TEXT);
        assert!(validate_message(&json!({"blocks": [section(&at_limit)]})).is_ok());
        let over = "é".repeat(MAX_SECTION_TEXT + 1);
        let err = validate_message(&json!({"blocks": [section(&over)]})).unwrap_err();
        assert!(err.contains("/blocks/0/text/text"), "{err}");
    }

    #[test]
    fn header_must_be_plain_text_and_short() {
        let mrkdwn = json!({"type": "header", "text": {"type": "mrkdwn", "text": "hi"}});
        assert!(validate_message(&json!({"blocks": [mrkdwn]})).is_err());
        let long =
            json!({"type": "header", "text": {"type": "plain_text", "text": "x".repeat(151)}});
        assert!(validate_message(&json!({"blocks": [long]})).is_err());
    }

    #[test]
    fn attachment_blocks_are_checked_too() {
        let fields: Vec<Value> = (0..11)
            .map(|_| json!({"type": "mrkdwn", "text": "f"}))
            .collect();
        let body = json!({"attachments": [{"color": "#36a64f", "blocks": [{"type": "section", "fields": fields}]}]});
        let err = validate_message(&body).unwrap_err();
        assert!(err.contains("/attachments/0/blocks/0/fields"), "{err}");
    }

    #[test]
    fn block_count_and_context_elements_are_bounded() {
        let blocks: Vec<Value> = (0..51).map(|_| json!({"type": "divider"})).collect();
        assert!(validate_message(&json!({ "blocks": blocks })).is_err());
        let elements: Vec<Value> = (0..11)
            .map(|_| json!({"type": "mrkdwn", "text": "c"}))
            .collect();
        let context = json!({"type": "context", "elements": elements});
        assert!(validate_message(&json!({"blocks": [context]})).is_err());
    }
}
