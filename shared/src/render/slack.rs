//! Slack `chat.postMessage` bodies in Block Kit, with a `text` fallback and a colour bar.

use serde::Serialize;

use super::{color, emoji};
use crate::notification::{Notification, Style};
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
/// Our own cap for a field's label, which may come from an unknown data key.
const LABEL_MAX: usize = 100;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SlackMessage {
    pub channel: String,
    pub text: String,
    pub blocks: Vec<Block>,
    pub attachments: Vec<Attachment>,
    pub unfurl_links: bool,
    pub unfurl_media: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Attachment {
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
    PlainText { text: String, emoji: bool },
    Mrkdwn { text: String },
}

/// Slack's three control characters; escaping them is what keeps `<!channel>` and `<@U…>` inert.
fn escape(c: char) -> Option<&'static str> {
    match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        _ => None,
    }
}

/// Inside a code span a backtick would end it early.
fn escape_code(c: char) -> Option<&'static str> {
    match c {
        '`' => Some("'"),
        _ => escape(c),
    }
}

fn mrkdwn(text: String) -> Text {
    Text::Mrkdwn { text }
}

pub fn render(note: &Notification, channel: &str) -> SlackMessage {
    // plain_text is not parsed for mentions and shows entities literally; dropping the control
    // characters keeps an unknown action's name from ever forming one, whatever the client does.
    let headline: String = note
        .headline
        .chars()
        .filter(|c| !matches!(c, '<' | '>' | '&'))
        .collect();
    let header = format!("{} {}", emoji(note.tone), headline);
    let mut top = vec![Block::Header {
        text: Text::PlainText {
            text: truncate(&header, HEADER_MAX).into_owned(),
            emoji: true,
        },
    }];
    let mut context = format!("*Rack* {}", escape_within(&note.rack, 200, escape));
    if let Some(app) = &note.app {
        context.push_str(&format!("  ·  *App* {}", escape_within(app, 200, escape)));
    }
    context.push_str(&format!(
        "  ·  *Status* {}",
        escape_within(&note.status, 100, escape)
    ));
    top.push(Block::Context {
        elements: vec![mrkdwn(context)],
    });

    let mut details = Vec::new();
    if let Some(meant_for) = &note.redirected_from {
        details.push(Block::Section {
            text: Some(mrkdwn(escape_within(meant_for, SECTION_TEXT_MAX, escape))),
            fields: Vec::new(),
        });
    }
    let shown = note.fields.len().min(FIELDS_SHOWN_MAX);
    for chunk in note.fields[..shown].chunks(SECTION_FIELDS_MAX) {
        let fields = chunk
            .iter()
            .map(|field| {
                let label = escape_within(&field.label, LABEL_MAX, escape);
                // "*label*\n" plus, for code, two backticks.
                let room = FIELD_TEXT_MAX - label.chars().count() - 5;
                let value = match field.style {
                    Style::Plain => escape_within(&field.value, room, escape),
                    Style::Code => format!("`{}`", escape_within(&field.value, room, escape_code)),
                };
                mrkdwn(format!("*{label}*\n{value}"))
            })
            .collect();
        details.push(Block::Section { text: None, fields });
    }
    if let Some(message) = &note.message {
        let body = escape_within(message, SECTION_TEXT_MAX - 6, escape_code);
        details.push(Block::Section {
            text: Some(mrkdwn(format!("```{body}```"))),
            fields: Vec::new(),
        });
    }
    let mut footer = vec![mrkdwn(format!(
        "`{}`  ·  event {}",
        escape_within(&note.action, 200, escape_code),
        escape_within(&note.event_id, 200, escape)
    ))];
    if note.fields.len() > shown {
        footer.push(mrkdwn(format!(
            "{} more details not shown",
            note.fields.len() - shown
        )));
    }
    if let Some(timestamp) = &note.timestamp {
        // Slack shows the time in each reader's own time zone; the text after `|` is the fallback.
        footer.push(mrkdwn(format!(
            "<!date^{}^{{date_short_pretty}} {{time_secs}}|{}>",
            timestamp.timestamp(),
            timestamp.to_rfc3339()
        )));
    }
    details.push(Block::Context { elements: footer });

    SlackMessage {
        channel: channel.to_owned(),
        text: escape_within(&note.summary(), TEXT_MAX, escape),
        blocks: top,
        attachments: vec![Attachment {
            color: format!("#{:06x}", color(note.tone)),
            blocks: details,
        }],
        unfurl_links: false,
        unfurl_media: false,
    }
}
