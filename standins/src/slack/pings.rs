//! What Slack turns into notifications and links when it shows a message. Explicit mentions
//! (`<!here>`, `<@U…>`, `<!subteam^S…>`, …) ping in any text Slack formats; a `mrkdwn` text object
//! without `verbatim: true` is also parsed for bare `@here`, `@channel` and `@everyone`, and its bare
//! URLs and `#channel` names become links. `plain_text` is never formatted, so it never pings.

use serde_json::Value;

/// Pings in Slack's own markup (`<!here>`, `<@U0123>`, `<!subteam^S0123>`), however they were written;
/// links as written (`https://…`, `#general`). Each listed once, in order.
#[derive(Default)]
pub(super) struct Scan {
    pub(super) pings: Vec<String>,
    pub(super) links: Vec<String>,
}

/// Scans a message body; `channels` are the names Slack would link `#name` to.
pub(super) fn scan(body: &Value, channels: &[&str]) -> Scan {
    let mut scan = Scan::default();
    if let Some(text) = body["text"].as_str() {
        scan.explicit(text);
    }
    for attachment in body["attachments"].as_array().into_iter().flatten() {
        for key in ["pretext", "text"] {
            if let Some(text) = attachment[key].as_str() {
                scan.explicit(text);
            }
        }
        scan.blocks(&attachment["blocks"], channels);
    }
    scan.blocks(&body["blocks"], channels);
    scan
}

impl Scan {
    /// Every text object and rich-text element anywhere in `value`.
    fn blocks(&mut self, value: &Value, channels: &[&str]) {
        match value {
            Value::Array(items) => items.iter().for_each(|item| self.blocks(item, channels)),
            Value::Object(object) => {
                let text = |key| object.get(key).and_then(Value::as_str);
                match text("type") {
                    Some("plain_text") => {}
                    Some("mrkdwn") => {
                        let text = text("text").unwrap_or_default();
                        self.explicit(text);
                        if object.get("verbatim") != Some(&Value::Bool(true)) {
                            self.parsed(text, channels);
                        }
                    }
                    // Rich-text elements name whom they ping directly.
                    Some("user") if text("user_id").is_some() => {
                        self.ping(format!("<@{}>", text("user_id").unwrap_or_default()));
                    }
                    Some("usergroup") if text("usergroup_id").is_some() => {
                        let group = text("usergroup_id").unwrap_or_default();
                        self.ping(format!("<!subteam^{group}>"));
                    }
                    Some("broadcast") if text("range").is_some() => {
                        self.ping(format!("<!{}>", text("range").unwrap_or_default()));
                    }
                    _ => object.values().for_each(|v| self.blocks(v, channels)),
                }
            }
            _ => {}
        }
    }

    fn ping(&mut self, ping: String) {
        if !self.pings.contains(&ping) {
            self.pings.push(ping);
        }
    }

    fn link(&mut self, link: &str) {
        if !self.links.iter().any(|known| known == link) {
            self.links.push(link.into());
        }
    }

    /// `<…>` mentions; a label after `|` changes nothing.
    fn explicit(&mut self, text: &str) {
        for (inside, bracketed) in spans(text) {
            if !bracketed {
                continue;
            }
            let target = inside.split('|').next().unwrap_or_default();
            let is_id = |prefix: &str| target.len() > prefix.len() && target.starts_with(prefix);
            if matches!(target, "!here" | "!channel" | "!everyone")
                || is_id("@U")
                || is_id("@W")
                || is_id("!subteam^")
            {
                self.ping(format!("<{target}>"));
            }
        }
    }

    /// What Slack's automatic parsing finds outside `<…>`: bare broadcasts, URLs and channel names.
    fn parsed(&mut self, text: &str, channels: &[&str]) {
        for (segment, bracketed) in spans(text) {
            if !bracketed {
                self.parsed_segment(segment, channels);
            }
        }
    }

    fn parsed_segment(&mut self, segment: &str, channels: &[&str]) {
        let mut i = 0;
        while let Some(c) = segment[i..].chars().next() {
            let before = segment[..i].chars().next_back();
            let rest = &segment[i..];
            if before.is_none_or(|b| !b.is_alphanumeric()) {
                if let Some(url) = url(rest) {
                    self.link(url);
                    i += url.len();
                    continue;
                }
                let after = &rest[c.len_utf8()..];
                let word = &after[..word_len(after)];
                match c {
                    '@' if matches!(word, "here" | "channel" | "everyone") => {
                        self.ping(format!("<!{word}>"));
                    }
                    // `&#…;` is an HTML entity, not a channel.
                    '#' if before != Some('&') && channels.contains(&word) => {
                        self.link(&rest[..1 + word.len()]);
                    }
                    _ => {}
                }
            }
            i += c.len_utf8();
        }
    }
}

/// `text` cut into the parts inside `<…>` (true) and outside (false).
fn spans(text: &str) -> Vec<(&str, bool)> {
    let mut spans = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        spans.push((&rest[..open], false));
        spans.push((&rest[open + 1..open + close], true));
        rest = &rest[open + close + 1..];
    }
    spans.push((rest, false));
    spans
}

/// Length of the name that starts `text`: letters, digits, `-` and `_`, as in channel names.
fn word_len(text: &str) -> usize {
    text.char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '-' || *c == '_'))
        .map_or(text.len(), |(i, _)| i)
}

/// A bare URL starting `text`, without the punctuation that usually ends a sentence after it.
fn url(text: &str) -> Option<&str> {
    let scheme = ["https://", "http://", "www."]
        .into_iter()
        .find(|scheme| text.starts_with(scheme))?;
    let end = text
        .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
        .unwrap_or(text.len());
    let url = text[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '\'']);
    (url.len() > scheme.len()).then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mrkdwn(text: &str, verbatim: bool) -> Scan {
        let block = json!({"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": verbatim}});
        scan(&json!({"text": "t", "blocks": [block]}), &["general"])
    }

    #[test]
    fn explicit_mentions_ping_in_canonical_form() {
        let body = json!({"text": "<!here|here> <@U1|ann> <@W2> <!subteam^S3|@ops> <!channel> <@U1> <!date^1|x> <#C1>"});
        let found = scan(&body, &[]);
        assert_eq!(
            found.pings,
            ["<!here>", "<@U1>", "<@W2>", "<!subteam^S3>", "<!channel>"]
        );
        assert!(found.links.is_empty());
    }

    #[test]
    fn escaped_markup_is_text() {
        let found = mrkdwn("&lt;!here&gt; &lt;@U1&gt; &lt;!subteam^S1&gt;", false);
        assert!(found.pings.is_empty(), "{:?}", found.pings);
    }

    #[test]
    fn bare_broadcasts_and_autolinks_need_verbatim_false() {
        let text = "@here deploy of web, see https://example.com/d/1. in #general (#1234) foo@channel @heretic";
        let parsed = mrkdwn(text, false);
        assert_eq!(parsed.pings, ["<!here>"]);
        assert_eq!(parsed.links, ["https://example.com/d/1", "#general"]);
        let verbatim = mrkdwn(text, true);
        assert!(verbatim.pings.is_empty() && verbatim.links.is_empty());
    }

    #[test]
    fn labels_inside_brackets_are_not_parsed_again() {
        let found = mrkdwn(
            "<https://example.com|@everyone at https://x.example>",
            false,
        );
        assert!(found.pings.is_empty() && found.links.is_empty());
    }

    #[test]
    fn plain_text_never_pings_and_rich_text_names_its_pings() {
        let header =
            json!({"type": "header", "text": {"type": "plain_text", "text": "<!here> @here"}});
        let rich = json!({"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": [
            {"type": "broadcast", "range": "channel"}, {"type": "user", "user_id": "U9"},
            {"type": "usergroup", "usergroup_id": "S9"}, {"type": "text", "text": "@here"}]}]});
        let found = scan(&json!({"text": "t", "blocks": [header, rich]}), &[]);
        assert_eq!(found.pings, ["<!channel>", "<@U9>", "<!subteam^S9>"]);
    }

    #[test]
    fn attachments_are_scanned_too() {
        let body = json!({"text": "t", "attachments": [{"text": "<!everyone>", "blocks": [
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "@channel"}]}]}]});
        assert_eq!(scan(&body, &[]).pings, ["<!everyone>", "<!channel>"]);
    }
}
