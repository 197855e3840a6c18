//! Discord message bodies: one embed per notification, mentions only those a route names.

use serde::Serialize;

use super::{Form, color, emoji, is_short, native_time};
use crate::destination::Mention;
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
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub embeds: Vec<Embed>,
    pub allowed_mentions: AllowedMentions,
    /// A reply in the channel that links to the message it answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_reference: Option<MessageReference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enforce_nonce: Option<bool>,
}

/// `parse: []` turns off every mention Discord would otherwise parse, `@everyone` included; `users` and
/// `roles` list exactly the ones a route asked for.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct AllowedMentions {
    pub parse: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MessageReference {
    pub message_id: String,
    /// A deleted root must not cost the reply.
    pub fail_if_not_exists: bool,
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

/// Markdown and mention syntax, defused with Discord's backslash escape, which the reader never sees:
/// masked links, code, headings, quotes and `<@id>` stay text, and copied text is what was sent.
/// `@everyone` needs no escape: `allowed_mentions` already keeps it from pinging.
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
        _ => None,
    }
}

/// Inside code, Discord shows every character as it is, backslashes too: nothing to escape.
fn verbatim(_: char) -> Option<&'static str> {
    None
}

pub fn render(note: &Notification, mentions: &[Mention], form: Form) -> DiscordMessage {
    let mut allowed = AllowedMentions::default();
    let mut pings = String::new();
    for mention in mentions {
        match mention {
            Mention::DiscordUser(id) => allowed.users.push(id.clone()),
            Mention::DiscordRole(id) => allowed.roles.push(id.clone()),
            Mention::SlackUser(_) | Mention::SlackGroup(_) => continue,
        }
        pings += &mention.discord().unwrap_or_default();
        pings.push(' ');
    }
    let summary = match form {
        Form::Full => note.title_line(),
        Form::Plain => note.summary(),
    };
    let content = pings.clone()
        + &escape_within(&summary, SUMMARY_MAX.min(CONTENT_MAX - pings.len()), escape);
    DiscordMessage {
        content,
        embeds: match form {
            Form::Full => vec![embed(note)],
            Form::Plain => Vec::new(),
        },
        allowed_mentions: allowed,
        message_reference: None,
        nonce: None,
        enforce_nonce: None,
    }
}

fn embed(note: &Notification) -> Embed {
    let mut description = Vec::new();
    if let Some(meant_for) = &note.redirected_from {
        description.push(escape_within(meant_for, DESCRIPTION_BUDGET / 4, escape));
    }
    if !note.steps.is_empty() {
        description.push(escape_within(
            &note.steps.join("\n"),
            DESCRIPTION_BUDGET / 2,
            escape,
        ));
    }
    if let Some(message) = &note.message {
        let room = DESCRIPTION_BUDGET
            - description
                .iter()
                .map(|d| d.chars().count() + 1)
                .sum::<usize>();
        description.push(code_block(message, room));
    }
    let mut facts = vec![
        ("Rack", note.rack.as_str(), Style::Plain),
        ("Status", note.status.as_str(), Style::Plain),
    ];
    facts.extend(
        note.fields
            .iter()
            .map(|f| (f.label.as_str(), f.value.as_str(), f.style)),
    );
    let timestamp = note
        .timestamp
        .as_ref()
        .and_then(|ts| native_time(ts).map(|_| ts.to_rfc3339()));
    let unshown_time = note
        .timestamp
        .filter(|_| timestamp.is_none())
        .map(|ts| ts.to_rfc3339());
    if let Some(time) = &unshown_time {
        facts.push(("Time", time.as_str(), Style::Plain));
    }
    let mut embed = Embed {
        title: escape_within(
            &format!("{} {}", emoji(note.tone), note.headline),
            TITLE_MAX,
            escape,
        ),
        description: (!description.is_empty()).then(|| description.join("\n")),
        color: color(note.tone),
        fields: Vec::with_capacity(FIELDS_MAX),
        footer: EmbedFooter {
            text: escape_within(
                &format!("{} · event {}", note.action, note.event_id),
                FOOTER_BUDGET,
                escape,
            ),
        },
        timestamp,
    };
    embed.fields = fields(&facts, EMBEDS_TOTAL_MAX - embed.length());
    embed
}

/// The facts as fields within `budget` characters, each given a fair share of what is left, and a
/// closing field that says how many did not fit in Discord's 25.
fn fields(facts: &[(&str, &str, Style)], mut budget: usize) -> Vec<EmbedField> {
    let hidden = facts.len().saturating_sub(FIELDS_MAX);
    let shown = if hidden > 0 {
        FIELDS_MAX - 1
    } else {
        facts.len()
    };
    let mut fields = Vec::with_capacity(FIELDS_MAX);
    for (index, (label, value, style)) in facts.iter().take(shown).enumerate() {
        let name = escape_within(label, LABEL_MAX.min(FIELD_NAME_MAX), escape);
        let fair = budget / (shown - index + usize::from(hidden > 0));
        let room = FIELD_VALUE_MAX
            .min(fair.saturating_sub(name.chars().count()))
            .max(3);
        let value = match style {
            Style::Plain => escape_within(value, room, escape),
            Style::Code => code_span(value, room),
        };
        let value = if value.is_empty() {
            "-".to_owned()
        } else {
            value
        };
        budget = budget.saturating_sub(name.chars().count() + value.chars().count());
        fields.push(EmbedField {
            inline: is_short(&value),
            name,
            value,
        });
    }
    if hidden > 0 {
        fields.push(EmbedField {
            name: "More".to_owned(),
            value: format!("{} more details not shown", hidden + 1),
            inline: false,
        });
    }
    fields
}

/// A code span, unless the text has a backtick that would end it early: then escaped text.
fn code_span(text: &str, max: usize) -> String {
    if text.contains('`') {
        escape_within(text, max, escape)
    } else {
        format!("`{}`", escape_within(text, max.saturating_sub(2), verbatim))
    }
}

/// A code block ("```\n" and "\n```"), unless the text holds a fence of its own.
fn code_block(text: &str, max: usize) -> String {
    if text.contains("```") {
        escape_within(text, max, escape)
    } else {
        format!(
            "```\n{}\n```",
            escape_within(text, max.saturating_sub(8), verbatim)
        )
    }
}
