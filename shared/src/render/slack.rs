//! Slack `chat.postMessage` bodies in Block Kit, with a `text` fallback and a colour bar.

use std::borrow::Cow;

use serde::Serialize;

use super::{color, emoji};
use crate::notification::{Field, Notification, Style};
use crate::text::{escape_within, push_escaped, truncate};

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
    pub color: HexColor,
    pub blocks: Vec<Block>,
}

/// A colour as Slack reads it, `#rrggbb`, written straight into the JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HexColor(pub u32);

impl std::fmt::Display for HexColor {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "#{:06x}", self.0)
    }
}

impl Serialize for HexColor {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
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

/// Each text is built in one string: the rendering runs on every event, and most of its cost was
/// allocating and formatting the pieces.
pub fn render(note: &Notification, channel: &str) -> SlackMessage {
    let mut header = String::with_capacity(note.headline.len() + 8);
    header.push_str(emoji(note.tone));
    header.push(' ');
    // plain_text is not parsed for mentions and shows entities literally; dropping the control
    // characters keeps an unknown action's name from ever forming one, whatever the client does.
    header.extend(
        note.headline
            .chars()
            .filter(|c| !matches!(c, '<' | '>' | '&')),
    );
    let header = match truncate(&header, HEADER_MAX) {
        Cow::Borrowed(_) => header,
        Cow::Owned(cut) => cut,
    };
    let mut context = String::with_capacity(96);
    context.push_str("*Rack* ");
    push_escaped(&mut context, &note.rack, 200, escape);
    if let Some(app) = &note.app {
        context.push_str("  ·  *App* ");
        push_escaped(&mut context, app, 200, escape);
    }
    context.push_str("  ·  *Status* ");
    push_escaped(&mut context, &note.status, 100, escape);
    let top = vec![
        Block::Header {
            text: Text::PlainText {
                text: header,
                emoji: true,
            },
        },
        Block::Context {
            elements: vec![mrkdwn(context)],
        },
    ];

    let mut details = Vec::new();
    if let Some(meant_for) = &note.redirected_from {
        details.push(Block::Section {
            text: Some(mrkdwn(escape_within(meant_for, SECTION_TEXT_MAX, escape))),
            fields: Vec::new(),
        });
    }
    let shown = note.fields.len().min(FIELDS_SHOWN_MAX);
    for chunk in note.fields[..shown].chunks(SECTION_FIELDS_MAX) {
        let fields = chunk.iter().map(field).collect();
        details.push(Block::Section { text: None, fields });
    }
    if let Some(message) = &note.message {
        let mut body = String::with_capacity(message.len().min(SECTION_TEXT_MAX) + 8);
        body.push_str("```");
        push_escaped(&mut body, message, SECTION_TEXT_MAX - 6, escape_code);
        body.push_str("```");
        details.push(Block::Section {
            text: Some(mrkdwn(body)),
            fields: Vec::new(),
        });
    }
    let mut event = String::with_capacity(note.action.len() + note.event_id.len() + 16);
    event.push('`');
    push_escaped(&mut event, &note.action, 200, escape_code);
    event.push_str("`  ·  event ");
    push_escaped(&mut event, &note.event_id, 200, escape);
    let mut footer = vec![mrkdwn(event)];
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
            color: HexColor(color(note.tone)),
            blocks: details,
        }],
        unfurl_links: false,
        unfurl_media: false,
    }
}

/// `*label*` over its value, the value in a code span when it is meant to be copied.
fn field(field: &Field) -> Text {
    let mut text = String::with_capacity(field.label.len() + field.value.len() + 8);
    text.push('*');
    let label = push_escaped(&mut text, &field.label, LABEL_MAX, escape);
    text.push_str("*\n");
    // "*label*\n" plus, for code, two backticks.
    let room = FIELD_TEXT_MAX - label - 5;
    match field.style {
        Style::Plain => {
            push_escaped(&mut text, &field.value, room, escape);
        }
        Style::Code => {
            text.push('`');
            push_escaped(&mut text, &field.value, room, escape_code);
            text.push('`');
        }
    }
    mrkdwn(text)
}
