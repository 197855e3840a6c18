//! Slack message bodies in Block Kit, with a `text` fallback and a colour bar.

use serde::Serialize;

use super::{Form, color, emoji, native_time};
use crate::destination::Mention;
use crate::notification::{Field, Notification, Style};
use crate::text::{escape_within, truncate};

/// Slack's limits (Block Kit reference, `chat.postMessage`).
pub const TEXT_MAX: usize = 40_000;
pub const HEADER_MAX: usize = 150;
pub const SECTION_TEXT_MAX: usize = 3_000;
pub const SECTION_FIELDS_MAX: usize = 10;
pub const FIELD_TEXT_MAX: usize = 2_000;
pub const CONTEXT_ELEMENTS_MAX: usize = 10;
pub const BLOCKS_MAX: usize = 50;

/// Our own cap: more than four sections of facts is noise, and it keeps far below `BLOCKS_MAX`.
const FIELDS_SHOWN_MAX: usize = 4 * SECTION_FIELDS_MAX;
/// Our own caps for a label (which may come from an unknown data key) and the context line's parts.
const LABEL_MAX: usize = 100;
const CONTEXT_PART_MAX: usize = 200;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SlackMessage {
    /// Absent for incoming webhooks, which post to their own channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The message to replace (`chat.update`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ts: Option<String>,
    /// The root a reply goes under, and whether the channel shows the reply too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread_ts: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub reply_broadcast: bool,
    pub text: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blocks: Vec<Block>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    pub unfurl_links: bool,
    pub unfurl_media: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Attachment {
    /// `#rrggbb`.
    pub color: String,
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    Header {
        text: Text,
    },
    Section {
        #[serde(skip_serializing_if = "Option::is_none")]
        text: Option<Text>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        fields: Vec<Text>,
    },
    Context {
        elements: Vec<Text>,
    },
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Text {
    PlainText {
        text: String,
        emoji: bool,
    },
    /// Always `verbatim`: Slack would otherwise turn bare URLs, `#channel` names and `@here` in
    /// untrusted text into live links and mentions.
    Mrkdwn {
        text: String,
        verbatim: bool,
    },
}

impl Text {
    pub fn text(&self) -> &str {
        match self {
            Self::PlainText { text, .. } | Self::Mrkdwn { text, .. } => text,
        }
    }
}

/// Slack's three control characters; escaping them is what keeps `<!channel>` and `<@U…>` inert, and
/// Slack shows them as the characters they stand for, so copied text is what was sent.
fn escape(c: char) -> Option<&'static str> {
    match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        _ => None,
    }
}

fn mrkdwn(text: String) -> Text {
    Text::Mrkdwn {
        text,
        verbatim: true,
    }
}

/// `note` for `channel` (`None` for a webhook); `Form::Plain` is the text alone, for a message Slack
/// refused as invalid.
pub fn render(
    note: &Notification,
    channel: Option<&str>,
    mentions: &[Mention],
    form: Form,
) -> SlackMessage {
    let pings: String = mentions
        .iter()
        .filter_map(Mention::slack)
        .map(|m| m + " ")
        .collect();
    let text = pings.clone() + &escape_within(&note.summary(), TEXT_MAX - pings.len(), escape);
    let (blocks, attachments) = match form {
        Form::Plain => (Vec::new(), Vec::new()),
        Form::Full => (
            top(note, &pings),
            vec![Attachment {
                color: format!("#{:06x}", color(note.tone)),
                blocks: details(note),
            }],
        ),
    };
    SlackMessage {
        channel: channel.map(str::to_owned),
        ts: None,
        thread_ts: None,
        reply_broadcast: false,
        text,
        blocks,
        attachments,
        unfurl_links: false,
        unfurl_media: false,
    }
}

/// The headline, and a context line with the rack, the app and the status.
fn top(note: &Notification, pings: &str) -> Vec<Block> {
    // plain_text is not parsed for mentions; dropping the control characters keeps an unknown action's
    // name (the headline's words for it) from ever forming one, whatever the client does.
    let headline: String = note
        .headline
        .chars()
        .filter(|c| !matches!(c, '<' | '>' | '&'))
        .collect();
    let header = format!("{} {headline}", emoji(note.tone));
    let mut context = format!(
        "*Rack* {}",
        escape_within(&note.rack, CONTEXT_PART_MAX, escape)
    );
    if let Some(app) = &note.app {
        context += &format!(
            "  ·  *App* {}",
            escape_within(app, CONTEXT_PART_MAX, escape)
        );
    }
    context += &format!(
        "  ·  *Status* {}",
        escape_within(&note.status, CONTEXT_PART_MAX, escape)
    );
    let mut blocks = vec![Block::Header {
        text: Text::PlainText {
            text: truncate(&header, HEADER_MAX).into_owned(),
            emoji: true,
        },
    }];
    if !pings.is_empty() {
        blocks.push(Block::Section {
            text: Some(mrkdwn(pings.trim_end().to_owned())),
            fields: Vec::new(),
        });
    }
    blocks.push(Block::Context {
        elements: vec![mrkdwn(context)],
    });
    blocks
}

/// Inside the colour bar: where the message was meant to go, the facts, the error text, and a footer.
fn details(note: &Notification) -> Vec<Block> {
    let mut blocks = Vec::new();
    if let Some(meant_for) = &note.redirected_from {
        blocks.push(section(escape_within(meant_for, SECTION_TEXT_MAX, escape)));
    }
    let shown = note.fields.len().min(FIELDS_SHOWN_MAX);
    for chunk in note.fields[..shown].chunks(SECTION_FIELDS_MAX) {
        blocks.push(Block::Section {
            text: None,
            fields: chunk.iter().map(field).collect(),
        });
    }
    if !note.steps.is_empty() {
        let steps = escape_within(&note.steps.join("\n"), SECTION_TEXT_MAX - 8, escape);
        blocks.push(section(format!("*Steps*\n{steps}")));
    }
    if let Some(message) = &note.message {
        blocks.push(section(code_block(message, SECTION_TEXT_MAX)));
    }
    let mut footer = vec![mrkdwn(format!(
        "{}  ·  event {}",
        code_span(&note.action, CONTEXT_PART_MAX),
        escape_within(&note.event_id, CONTEXT_PART_MAX, escape)
    ))];
    if note.fields.len() > shown {
        footer.push(mrkdwn(format!(
            "{} more details not shown",
            note.fields.len() - shown
        )));
    }
    if let Some(timestamp) = &note.timestamp {
        footer.push(mrkdwn(match native_time(timestamp) {
            // Slack shows the time in each reader's own time zone; the text after `|` is the fallback.
            Some(seconds) => format!(
                "<!date^{seconds}^{{date_short_pretty}} {{time_secs}}|{}>",
                timestamp.to_rfc3339()
            ),
            None => timestamp.to_rfc3339(),
        }));
    }
    blocks.push(Block::Context { elements: footer });
    blocks
}

fn section(text: String) -> Block {
    Block::Section {
        text: Some(mrkdwn(text)),
        fields: Vec::new(),
    }
}

/// `*label*` over its value, the value in a code span when it is meant to be copied.
fn field(field: &Field) -> Text {
    let label = escape_within(&field.label, LABEL_MAX, escape);
    // "*label*\n" and, for code, two backticks.
    let room = FIELD_TEXT_MAX - label.chars().count() - 5;
    let value = match field.style {
        Style::Plain => escape_within(&field.value, room, escape),
        Style::Code => code_span(&field.value, room),
    };
    mrkdwn(format!("*{label}*\n{value}"))
}

/// A code span, unless the text has a backtick that would end it early: then the text as it is, since
/// Slack has no escape for a backtick and a changed character would be copied wrong.
fn code_span(text: &str, max: usize) -> String {
    if text.contains('`') {
        escape_within(text, max, escape)
    } else {
        format!("`{}`", escape_within(text, max - 2, escape))
    }
}

/// A code block, unless the text holds a fence of its own.
fn code_block(text: &str, max: usize) -> String {
    if text.contains("```") {
        escape_within(text, max, escape)
    } else {
        format!("```{}```", escape_within(text, max - 6, escape))
    }
}
