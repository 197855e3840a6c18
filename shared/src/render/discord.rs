//! Discord create-message bodies: one embed per notification, mentions always disabled.

use serde::Serialize;

use super::{color, emoji, is_short};
use crate::notification::{Notification, Style};
use crate::text::escape_within;

/// Discord's limits (channel resource, embed limits).
pub const CONTENT_MAX: usize = 2_000;
pub const TITLE_MAX: usize = 256;
pub const DESCRIPTION_MAX: usize = 4_096;
pub const FIELDS_MAX: usize = 25;
pub const FIELD_NAME_MAX: usize = 256;
pub const FIELD_VALUE_MAX: usize = 1_024;
pub const FOOTER_MAX: usize = 2_048;
/// All embeds of a message together: title, description, field names and values, footer, author.
pub const EMBEDS_TOTAL_MAX: usize = 6_000;
pub const NONCE_MAX: usize = 25;

/// Our own caps, chosen so that the fields always keep room inside `EMBEDS_TOTAL_MAX`.
const DESCRIPTION_BUDGET: usize = 2_048;
const FOOTER_BUDGET: usize = 256;
const LABEL_MAX: usize = 64;
const SUMMARY_MAX: usize = 300;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DiscordMessage {
    pub content: String,
    pub embeds: Vec<Embed>,
    pub allowed_mentions: AllowedMentions,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enforce_nonce: Option<bool>,
}

/// `parse: []` turns off every mention Discord would otherwise parse, `@everyone` included.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct AllowedMentions {
    pub parse: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Embed {
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub color: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<EmbedField>,
    pub footer: EmbedFooter,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EmbedField {
    pub name: String,
    pub value: String,
    pub inline: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EmbedFooter {
    pub text: String,
}

impl Embed {
    /// What Discord counts against `EMBEDS_TOTAL_MAX`.
    pub fn length(&self) -> usize {
        let len = |s: &str| s.chars().count();
        len(&self.title)
            + self.description.as_deref().map_or(0, len)
            + self
                .fields
                .iter()
                .map(|f| len(&f.name) + len(&f.value))
                .sum::<usize>()
            + len(&self.footer.text)
    }
}

/// Markdown and mention syntax, neutralised: a backslash escapes markdown, and a zero-width space
/// after `@` keeps `@everyone` and `@here` from ever being parsed.
fn escape(c: char) -> Option<&'static str> {
    match c {
        '\\' => Some("\\\\"),
        '*' => Some("\\*"),
        '_' => Some("\\_"),
        '~' => Some("\\~"),
        '`' => Some("\\`"),
        '|' => Some("\\|"),
        '>' => Some("\\>"),
        '<' => Some("\\<"),
        '[' => Some("\\["),
        ']' => Some("\\]"),
        '#' => Some("\\#"),
        '@' => Some("@\u{200B}"),
        _ => None,
    }
}

/// Code spans show backslashes literally, so a zero-width space defuses mention syntax there instead,
/// and the span's own delimiter is replaced.
fn escape_code(c: char) -> Option<&'static str> {
    match c {
        '`' => Some("'"),
        '@' => Some("@\u{200B}"),
        '<' => Some("<\u{200B}"),
        _ => None,
    }
}

pub fn render(note: &Notification) -> DiscordMessage {
    let title = escape_within(
        &format!("{} {}", emoji(note.tone), note.headline),
        TITLE_MAX,
        escape,
    );
    let mut description = String::new();
    if let Some(meant_for) = &note.redirected_from {
        description.push_str(&escape_within(meant_for, DESCRIPTION_BUDGET / 4, escape));
    }
    if let Some(message) = &note.message {
        if !description.is_empty() {
            description.push('\n');
        }
        // A code block: "```\n" and "\n```".
        let room = DESCRIPTION_BUDGET - description.chars().count() - 8;
        description.push_str(&format!(
            "```\n{}\n```",
            escape_within(message, room, escape_code)
        ));
    }
    let footer = EmbedFooter {
        text: escape_within(
            &format!("{} · event {}", note.action, note.event_id),
            FOOTER_BUDGET,
            escape,
        ),
    };

    let mut facts = vec![("Rack".to_owned(), note.rack.clone(), Style::Plain)];
    facts.push(("Status".to_owned(), note.status.clone(), Style::Plain));
    facts.extend(
        note.fields
            .iter()
            .map(|f| (f.label.clone(), f.value.clone(), f.style)),
    );
    let hidden = facts.len().saturating_sub(FIELDS_MAX);
    let shown = if hidden > 0 {
        FIELDS_MAX - 1
    } else {
        facts.len()
    };

    let mut embed = Embed {
        title,
        description: (!description.is_empty()).then_some(description),
        color: color(note.tone),
        fields: Vec::with_capacity(FIELDS_MAX),
        footer,
        timestamp: note.timestamp.map(|ts| ts.to_rfc3339()),
    };
    let mut budget = EMBEDS_TOTAL_MAX - embed.length();
    for (index, (label, value, style)) in facts.iter().take(shown).enumerate() {
        let name = escape_within(label, LABEL_MAX.min(FIELD_NAME_MAX), escape);
        // Share what is left fairly among the fields still to come, so every field gets its turn.
        let fair = budget / (shown - index + usize::from(hidden > 0));
        let room = FIELD_VALUE_MAX
            .min(fair.saturating_sub(name.chars().count()))
            .max(3);
        let value = match style {
            Style::Plain => escape_within(value, room, escape),
            Style::Code => format!("`{}`", escape_within(value, room - 2, escape_code)),
        };
        let value = if value.is_empty() {
            "-".to_owned()
        } else {
            value
        };
        budget = budget.saturating_sub(name.chars().count() + value.chars().count());
        embed.fields.push(EmbedField {
            inline: is_short(&value),
            name,
            value,
        });
    }
    if hidden > 0 {
        embed.fields.push(EmbedField {
            name: "More".to_owned(),
            value: format!("{} more details not shown", hidden + 1),
            inline: false,
        });
    }

    DiscordMessage {
        content: escape_within(&note.title_line(), SUMMARY_MAX.min(CONTENT_MAX), escape),
        embeds: vec![embed],
        allowed_mentions: AllowedMentions::default(),
        nonce: None,
        enforce_nonce: None,
    }
}
