//! `preview --html`: the messages of a run as one self-contained page that looks like the channels, a
//! Slack-like or Discord-like column per channel with each thread's replies under its message.
//!
//! Everything shown comes from event text, so every piece of it goes through `esc`; the only markup is
//! this file's own, and the only values in attributes are colours this file formats from numbers.

use chrono::DateTime;
use serde_json::Value;
use shared::destination::Provider;

use super::board::{Channel, Shown};

/// One run of the preview: a stack and what its channels show.
pub struct Run {
    pub title: String,
    pub channels: Vec<Channel>,
}

pub fn page(title: &str, note: &str, runs: &[Run]) -> String {
    let mut html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n\
         <style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n<p class=\"note\">{}</p>\n<div class=\"runs\">\n",
        esc(title),
        esc(title),
        esc(note)
    );
    for run in runs {
        html += &format!(
            "<section class=\"run\">\n<h2>{}</h2>\n<div class=\"channels\">\n",
            esc(&run.title)
        );
        if run.channels.is_empty() {
            html += "<p class=\"note\">Nothing was posted.</p>\n";
        }
        for channel in &run.channels {
            html += &column(channel);
        }
        html += "</div>\n</section>\n";
    }
    html += "</div>\n</body>\n</html>\n";
    html
}

fn column(channel: &Channel) -> String {
    let class = channel.provider.key();
    let mut html = format!(
        "<section class=\"channel {class}\">\n<h3><span class=\"provider\">{}</span>{}</h3>\n",
        channel.provider,
        esc(&channel.label)
    );
    for shown in &channel.messages {
        html += &message(channel.provider, shown);
    }
    html += "</section>\n";
    html
}

fn message(provider: Provider, shown: &Shown) -> String {
    let mut tags = String::new();
    if shown.via_webhook {
        tags += "<span class=\"tag\">webhook</span>";
    }
    if shown.edits > 0 {
        tags += "<span class=\"edited\">(edited)</span>";
    }
    let mut html = format!(
        "<article class=\"msg\"><div class=\"avatar\">R</div><div class=\"content\">\n\
         <div class=\"meta\"><b>rack-notifications</b><span class=\"tag\">{}</span>{tags}</div>\n{}",
        match provider {
            Provider::Slack => "APP",
            Provider::Discord => "BOT",
        },
        body(provider, &shown.body)
    );
    if !shown.replies.is_empty() {
        let count = match shown.replies.len() {
            1 => "1 reply".to_owned(),
            n => format!("{n} replies"),
        };
        let head = match &shown.thread {
            Some(name) => format!("Thread: {} · {count}", esc(name)),
            None => count,
        };
        html += &format!("<div class=\"thread\"><div class=\"thread-head\">{head}</div>\n");
        for reply in &shown.replies {
            let also = match (reply.in_channel, provider) {
                (false, _) => "",
                (true, Provider::Slack) => "<div class=\"also\">Also sent to the channel</div>",
                (true, Provider::Discord) => "<div class=\"also\">↩ replied in the channel</div>",
            };
            html += &format!(
                "<div class=\"reply\">{also}{}</div>\n",
                body(provider, &reply.body)
            );
        }
        html += "</div>\n";
    }
    html += "</div></article>\n";
    html
}

fn body(provider: Provider, body: &Value) -> String {
    match provider {
        Provider::Slack => slack_body(body),
        Provider::Discord => discord_body(body),
    }
}

fn slack_body(body: &Value) -> String {
    let blocks = body["blocks"].as_array().filter(|b| !b.is_empty());
    let mut html = match blocks {
        Some(blocks) => blocks.iter().map(slack_block).collect(),
        // Slack shows `text` only when there are no blocks: it is the notification's fallback.
        None => format!(
            "<div class=\"text\">{}</div>\n",
            slack_text(body["text"].as_str().unwrap_or_default())
        ),
    };
    for attachment in body["attachments"].as_array().into_iter().flatten() {
        let color = hex_color(attachment["color"].as_str().unwrap_or_default());
        html += &format!("<div class=\"attachment\" style=\"border-left-color:{color}\">\n");
        for block in attachment["blocks"].as_array().into_iter().flatten() {
            html += &slack_block(block);
        }
        html += "</div>\n";
    }
    html
}

fn slack_block(block: &Value) -> String {
    let text = |value: &Value| {
        let raw = value["text"].as_str().unwrap_or_default();
        match value["type"].as_str() {
            Some("plain_text") => esc(raw),
            _ => slack_text(raw),
        }
    };
    match block["type"].as_str().unwrap_or_default() {
        "header" => format!("<div class=\"header\">{}</div>\n", text(&block["text"])),
        "context" => {
            let elements: Vec<String> = block["elements"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| format!("<span>{}</span>", text(e)))
                .collect();
            format!("<div class=\"context\">{}</div>\n", elements.join(" "))
        }
        "section" => {
            let mut html = String::new();
            if block.get("text").is_some() {
                html += &format!("<div class=\"text\">{}</div>\n", text(&block["text"]));
            }
            let fields: String = block["fields"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| format!("<div class=\"text\">{}</div>", text(f)))
                .collect();
            if !fields.is_empty() {
                html += &format!("<div class=\"fields\">{fields}</div>\n");
            }
            html
        }
        other => format!("<div class=\"context\">[{} block]</div>\n", esc(other)),
    }
}

fn discord_body(body: &Value) -> String {
    let mut html = String::new();
    let content = body["content"].as_str().unwrap_or_default();
    if !content.trim().is_empty() {
        html += &format!("<div class=\"text\">{}</div>\n", discord_text(content));
    }
    for embed in body["embeds"].as_array().into_iter().flatten() {
        let color = format!("#{:06x}", embed["color"].as_u64().unwrap_or(0) & 0xFF_FF_FF);
        let str_of = |value: &Value| value.as_str().unwrap_or_default().to_owned();
        html += &format!(
            "<div class=\"embed\" style=\"border-left-color:{color}\">\n<div class=\"embed-title\">{}</div>\n",
            discord_text(&str_of(&embed["title"]))
        );
        if let Some(description) = embed["description"].as_str() {
            html += &format!("<div class=\"text\">{}</div>\n", discord_text(description));
        }
        let fields: String = embed["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|field| {
                // Discord puts up to three inline fields in a row and gives any other a row of its own.
                let wide = if field["inline"] == true { "" } else { " wide" };
                format!(
                    "<div class=\"embed-field{wide}\"><div class=\"name\">{}</div><div class=\"text\">{}</div></div>",
                    discord_text(&str_of(&field["name"])),
                    discord_text(&str_of(&field["value"]))
                )
            })
            .collect();
        if !fields.is_empty() {
            html += &format!("<div class=\"embed-fields\">{fields}</div>\n");
        }
        let mut footer = discord_text(&str_of(&embed["footer"]["text"]));
        if let Some(time) = embed["timestamp"]
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        {
            footer += &format!(" • {}", esc(&time.format(TIME).to_string()));
        }
        html += &format!("<div class=\"footer\">{footer}</div>\n</div>\n");
    }
    html
}

/// How both pages show a time; Slack and Discord show it in the reader's zone, this page in UTC.
const TIME: &str = "%b %-d, %Y %H:%M:%S UTC";

/// Slack's mrkdwn as Slack shows it: code blocks and spans, `*bold*`, the `<…>` controls (dates,
/// mentions, links), and the three characters Slack escapes.
fn slack_text(text: &str) -> String {
    let mut html = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let piece = match c {
            '`' if rest.starts_with("```") => enclosed(rest, "```")
                .map(|(inner, len)| (format!("<pre>{}</pre>", esc(&unslack(inner))), len)),
            '`' => enclosed(rest, "`")
                .map(|(inner, len)| (format!("<code>{}</code>", esc(&unslack(inner))), len)),
            '*' => enclosed(rest, "*")
                .filter(|(inner, _)| is_emphasis(inner))
                .map(|(inner, len)| (format!("<b>{}</b>", esc(&unslack(inner))), len)),
            '<' => rest
                .find('>')
                .map(|end| (slack_control(&rest[1..end]), end + 1)),
            '&' => ["&amp;", "&lt;", "&gt;"]
                .into_iter()
                .find(|entity| rest.starts_with(entity))
                .map(|entity| (entity.to_owned(), entity.len())),
            _ => None,
        };
        let (piece, len) = piece.unwrap_or_else(|| (esc(&c.to_string()), c.len_utf8()));
        html += &piece;
        rest = &rest[len..];
    }
    html
}

/// Slack's `<…>`: a date (shown from its seconds), a user or group mention, a channel, a link.
fn slack_control(inner: &str) -> String {
    let (target, label) = match inner.split_once('|') {
        Some((target, label)) => (target, Some(label)),
        None => (inner, None),
    };
    let mention = |who: &str| format!("<span class=\"mention\">@{}</span>", esc(who));
    if let Some(date) = target.strip_prefix("!date^") {
        let seconds = date.split('^').next().and_then(|s| s.parse::<i64>().ok());
        return match seconds.and_then(|s| DateTime::from_timestamp(s, 0)) {
            Some(time) => esc(&time.format(TIME).to_string()),
            None => esc(&unslack(label.unwrap_or_default())),
        };
    }
    if let Some(group) = target.strip_prefix("!subteam^") {
        return mention(label.unwrap_or(group));
    }
    if let Some(special) = target.strip_prefix('!') {
        return mention(special);
    }
    if let Some(user) = target.strip_prefix('@') {
        return mention(user);
    }
    if let Some(channel) = target.strip_prefix('#') {
        return format!(
            "<span class=\"mention\">#{}</span>",
            esc(label.unwrap_or(channel))
        );
    }
    format!(
        "<span class=\"link\">{}</span>",
        esc(&unslack(label.unwrap_or(target)))
    )
}

/// `*x*` is bold in Slack when nothing but the marks is white space next to them.
fn is_emphasis(inner: &str) -> bool {
    !inner.is_empty()
        && !inner.contains('\n')
        && !inner.starts_with(char::is_whitespace)
        && !inner.ends_with(char::is_whitespace)
}

/// The text between `fence` at the start of `text` and the next `fence`, and the length of all of it.
fn enclosed<'a>(text: &'a str, fence: &str) -> Option<(&'a str, usize)> {
    let inner = &text[fence.len()..];
    let end = inner.find(fence)?;
    Some((&inner[..end], fence.len() * 2 + end))
}

fn unslack(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Discord's markdown as Discord shows it: backslash escapes, code blocks and spans (verbatim), and
/// mentions.
fn discord_text(text: &str) -> String {
    let mut html = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let piece = match c {
            '\\' => rest[1..]
                .chars()
                .next()
                .map(|next| (esc(&next.to_string()), 1 + next.len_utf8())),
            '`' if rest.starts_with("```") => enclosed(rest, "```").map(|(inner, len)| {
                let inner = inner.strip_prefix('\n').unwrap_or(inner);
                let inner = inner.strip_suffix('\n').unwrap_or(inner);
                (format!("<pre>{}</pre>", esc(inner)), len)
            }),
            '`' => enclosed(rest, "`")
                .map(|(inner, len)| (format!("<code>{}</code>", esc(inner)), len)),
            '<' => rest.find('>').and_then(|end| {
                let inner = &rest[1..end];
                let who = inner
                    .strip_prefix("@&")
                    .map(|role| format!("@role {role}"))
                    .or_else(|| inner.strip_prefix('@').map(|user| format!("@{user}")))
                    .or_else(|| inner.strip_prefix('#').map(|channel| format!("#{channel}")))?;
                Some((
                    format!("<span class=\"mention\">{}</span>", esc(&who)),
                    end + 1,
                ))
            }),
            '\u{200B}' => Some((String::new(), c.len_utf8())),
            _ => None,
        };
        let (piece, len) = piece.unwrap_or_else(|| (esc(&c.to_string()), c.len_utf8()));
        html += &piece;
        rest = &rest[len..];
    }
    html
}

/// A Slack attachment's colour when it is `#rrggbb`, else Slack's grey.
fn hex_color(color: &str) -> String {
    match color.strip_prefix('#') {
        Some(hex) if hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
            format!("#{hex}")
        }
        _ => "#dddddd".to_owned(),
    }
}

fn esc(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

const STYLE: &str = r#"
body { margin: 0; padding: 20px 24px; background: #e9e9ee; color: #1d1c1d;
  font: 15px/1.45 "Noto Sans", "DejaVu Sans", sans-serif; }
h1 { font-size: 19px; margin: 0 0 2px; }
.note { color: #5e5e66; margin: 0 0 14px; font-size: 13px; }
.runs { display: flex; flex-wrap: wrap; gap: 20px; align-items: flex-start; }
.run > h2 { font-size: 12px; text-transform: uppercase; letter-spacing: .05em; color: #5e5e66; margin: 0 0 6px; }
.channels { display: flex; flex-wrap: wrap; gap: 14px; align-items: flex-start; }
.channel { width: 430px; border-radius: 8px; overflow: hidden; box-shadow: 0 1px 3px rgba(0,0,0,.18);
  padding-bottom: 6px; }
.channel > h3 { margin: 0 0 4px; padding: 9px 14px; font-size: 16px; }
.provider { font-size: 10px; font-weight: 700; padding: 2px 6px; border-radius: 4px; margin-right: 8px;
  vertical-align: 2px; color: #fff; letter-spacing: .03em; }
.slack { background: #fff; }
.slack > h3 { border-bottom: 1px solid #e2e2e2; }
.slack .provider { background: #4a154b; }
.discord { background: #313338; color: #dbdee1; }
.discord > h3 { color: #f2f3f5; border-bottom: 1px solid #232428; }
.discord .provider { background: #5865f2; }
.msg { display: flex; gap: 10px; padding: 6px 14px; }
.avatar { flex: none; width: 34px; height: 34px; border-radius: 6px; background: #1d6fa5; color: #fff;
  font-weight: 700; display: flex; align-items: center; justify-content: center; }
.discord .avatar { border-radius: 50%; background: #5865f2; }
.content { min-width: 0; flex: 1; }
.meta b { font-weight: 700; }
.discord .meta b { color: #f2f3f5; font-weight: 600; }
.tag { font-size: 10px; font-weight: 700; background: #e8e8e8; color: #5e5e66; border-radius: 3px;
  padding: 0 4px; margin-left: 6px; vertical-align: 1px; }
.discord .tag { background: #5865f2; color: #fff; }
.edited { font-size: 11px; color: #8b8b93; margin-left: 6px; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; }
.header { font-weight: 800; font-size: 17px; margin: 2px 0 2px; }
.context { font-size: 12px; color: #5e5e66; white-space: pre-wrap; margin: 2px 0; }
.context span + span::before { content: "  ·  "; }
.attachment { border-left: 4px solid #ddd; padding: 1px 0 1px 12px; margin: 6px 0 2px; }
.fields { display: grid; grid-template-columns: 1fr 1fr; gap: 6px 14px; margin: 5px 0; font-size: 14px; }
pre { background: #f6f6f6; border: 1px solid #e0e0e0; border-radius: 4px; padding: 6px 8px; margin: 5px 0;
  white-space: pre-wrap; overflow-wrap: anywhere; font: 12px/1.4 "DejaVu Sans Mono", monospace; }
code { font: 12px "DejaVu Sans Mono", monospace; color: #c01343; background: #f6f6f6;
  border: 1px solid #e0e0e0; border-radius: 3px; padding: 0 3px; }
.mention { background: #e8f5fa; color: #1264a3; border-radius: 3px; padding: 0 2px; }
.link { color: #1264a3; }
.thread { margin: 6px 0 2px; border-left: 2px solid #e2e2e2; padding-left: 10px; }
.thread-head { font-size: 12px; font-weight: 700; color: #1264a3; margin-bottom: 2px; }
.reply { font-size: 13px; padding: 2px 0; }
.reply + .reply { border-top: 1px dashed #ececec; }
.also { font-size: 11px; color: #5e5e66; }
.discord pre { background: #1e1f22; border-color: #1e1f22; color: #dbdee1; }
.discord code { background: #1e1f22; border-color: #1e1f22; color: #dbdee1; }
.discord .mention { background: #3c4270; color: #c9cdfb; }
.discord .thread { border-left-color: #4e5058; }
.discord .thread-head { color: #f2f3f5; }
.discord .reply + .reply { border-top-color: #3f4147; }
.discord .also { color: #b5bac1; }
.embed { background: #2b2d31; border-left: 4px solid #1e1f22; border-radius: 4px; padding: 7px 12px 9px;
  margin: 4px 0 2px; }
.embed-title { font-weight: 700; color: #f2f3f5; margin-bottom: 2px; }
.embed-fields { display: grid; grid-template-columns: repeat(3, 1fr); gap: 6px 12px; margin-top: 6px; }
.embed-field.wide { grid-column: 1 / -1; }
.embed-field .name { font-weight: 700; font-size: 13px; color: #f2f3f5; }
.embed-field .text { font-size: 13px; }
.footer { font-size: 11px; color: #b5bac1; margin-top: 7px; }
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_text_is_escaped_everywhere() {
        let hostile = "<script>alert(1)</script> \" ' &";
        assert_eq!(
            esc(hostile),
            "&lt;script&gt;alert(1)&lt;/script&gt; &quot; &#39; &amp;"
        );
        // Slack's own escapes stay escaped, and a raw quote or an unknown control is still text.
        assert_eq!(
            slack_text("&lt;b&gt; \"x\" <javascript:alert(1)|\"click\"> *<i>*"),
            "&lt;b&gt; &quot;x&quot; <span class=\"link\">&quot;click&quot;</span> <b>&lt;i&gt;</b>"
        );
        let discord =
            discord_text("\\<img src=x onerror=alert(1)\\> `<b>` ```\n</pre><script>\n```");
        assert!(
            !discord.contains("<img") && !discord.contains("<script"),
            "{discord}"
        );
        assert!(discord.contains("<code>&lt;b&gt;</code>"), "{discord}");
        assert!(
            discord.contains("<pre>&lt;/pre&gt;&lt;script&gt;</pre>"),
            "{discord}"
        );
        assert_eq!(hex_color("red\" onload=\"x"), "#dddddd");
    }

    #[test]
    fn slack_markup_is_shown_as_slack_shows_it() {
        assert_eq!(
            slack_text("*Rack* production  ·  *App* web"),
            "<b>Rack</b> production  ·  <b>App</b> web"
        );
        assert_eq!(slack_text("a * b * c"), "a * b * c");
        assert_eq!(
            slack_text("```deploy failed: x &amp;&amp; y```"),
            "<pre>deploy failed: x &amp;&amp; y</pre>"
        );
        assert_eq!(
            slack_text(
                "<!date^1763837028^{date_short_pretty} {time_secs}|2025-11-22T18:43:48+00:00>"
            ),
            "Nov 22, 2025 18:43:48 UTC"
        );
        assert_eq!(
            slack_text("<!subteam^S0ONCALL> <@U0123>"),
            "<span class=\"mention\">@S0ONCALL</span> <span class=\"mention\">@U0123</span>"
        );
    }

    #[test]
    fn discord_markup_is_shown_as_discord_shows_it() {
        assert_eq!(discord_text("a\\_b\\*c"), "a_b*c");
        assert_eq!(discord_text("`x\\y`"), "<code>x\\y</code>");
        assert_eq!(
            discord_text("<@&700000000000000001> hi"),
            "<span class=\"mention\">@role 700000000000000001</span> hi"
        );
    }
}
