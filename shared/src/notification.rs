//! What a notification says, independent of the provider: headline, tone, facts. Pure, no I/O.

use chrono::{DateTime, Utc};

use crate::category::EVENT_TYPES;
use crate::event::{RackEvent, Status};
use crate::text::humanize;

/// How a notification should look: failures stand out, successes are calm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Tone {
    Failure,
    Warning,
    Success,
    Info,
}

/// How a field's value is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    /// A command or identifier meant to be copied.
    Code,
}

/// One fact of the event. Labels of unknown data keys come from the rack, so both parts are untrusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub label: String,
    pub value: String,
    pub style: Style,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub event_id: String,
    pub action: String,
    /// The event in words, from the event table (or the action, humanized, for unknown types).
    pub headline: String,
    pub tone: Tone,
    pub rack: String,
    pub status: String,
    pub app: Option<String>,
    /// The failure text the rack sent, shown prominently.
    pub message: Option<String>,
    pub fields: Vec<Field>,
    pub timestamp: Option<DateTime<Utc>>,
    /// Set when the message goes to the default channel because its own destination failed.
    pub redirected_from: Option<String>,
    /// A live message's steps so far, one line each (`lifecycle`); empty for a message of its own.
    pub steps: Vec<String>,
}

/// Data keys shown by dedicated parts of the message, or internal bookkeeping of the rack.
const NOT_FIELDS: &[&str] = &["rack", "message", "tick_id", "schema_version"];

/// Data keys shown first, each with a label that depends on the event (`fields`).
const LEADING_FIELDS: &[&str] = &["app", "id", "name", "type"];

/// Known data keys, in the order they are shown, with their labels.
const LABELS: &[(&str, &str)] = &[
    ("release_id", "Release"),
    ("actor", "Actor"),
    ("kind", "Workflow kind"),
    ("workflow", "Workflow"),
    ("alert", "Alert"),
    ("severity", "Severity"),
    ("version", "Rack version"),
    ("count", "Instance count"),
    ("service", "Service"),
    ("services", "Services"),
    ("spend_usd", "Spend"),
    ("cap_usd", "Cap"),
    ("pct", "Of cap"),
    ("over_cap_usd", "Over cap"),
    ("prev_cap_usd", "Previous cap"),
    ("new_cap_usd", "New cap"),
    ("action", "Action"),
    ("dry_run", "Dry run"),
    ("scheduled_at", "Scheduled at"),
    ("expected_shutdown_at", "Shutdown expected at"),
    ("notify_before_minutes", "Notice (minutes)"),
    ("shutdown_at", "Shut down at"),
    ("eligible_service_count", "Affected service count"),
    ("eligible_services", "Affected services"),
    ("shutdown_order", "Shutdown order"),
    ("shut_down_count", "Services shut down"),
    ("shut_down_services", "Shut down services"),
    ("recovery_mode", "Recovery mode"),
    ("recovery_command", "Recovery command"),
    ("cancel_reason", "Cancel reason"),
    ("armed_at", "Armed at"),
    ("recovery_trigger", "Recovery trigger"),
    ("restored_count", "Services restored"),
    ("restored_services", "Restored services"),
    ("requires_manual_action", "Manual action required"),
    ("manual_action_hint", "Manual action"),
    ("services_still_at_zero", "Services still at zero"),
    ("cooldown_expires_at", "Cooldown expires at"),
    ("cooldown_remaining_min", "Cooldown remaining (minutes)"),
];

const CODE_KEYS: &[&str] = &["recovery_command", "manual_action_hint"];

impl Notification {
    pub fn from_event(event: &RackEvent) -> Self {
        let tone = tone(event);
        Self {
            event_id: event.id.to_string(),
            action: event.action.to_string(),
            headline: headline(event),
            tone,
            rack: event.rack().unwrap_or("unknown rack").to_owned(),
            status: event.status.as_str().to_owned(),
            app: event.app().map(str::to_owned),
            message: event.get("message").map(str::to_owned),
            fields: fields(event),
            timestamp: event.timestamp,
            redirected_from: None,
            steps: Vec::new(),
        }
    }

    /// Rack, event and app in one line: what a push notification shows.
    pub fn title_line(&self) -> String {
        match &self.app {
            Some(app) => format!("[{}] {}: {app}", self.rack, self.headline),
            None => format!("[{}] {}", self.rack, self.headline),
        }
    }

    /// The title line with the failure text: the fallback for clients that show no blocks.
    pub fn summary(&self) -> String {
        match &self.message {
            Some(message) => format!("{} — {message}", self.title_line()),
            None => self.title_line(),
        }
    }
}

fn fields(event: &RackEvent) -> Vec<Field> {
    let mut fields = Vec::new();
    let mut push = |label: String, key: &str, value: &str| {
        let style = if CODE_KEYS.contains(&key) {
            Style::Code
        } else {
            Style::Plain
        };
        fields.push(Field {
            label,
            value: format_value(key, value),
            style,
        });
    };
    if let Some(app) = event.app() {
        push("App".into(), "app", app);
    }
    // `id` is the release (R…) or build (B…) the event is about; `name`/`type` a resource's or workflow's.
    if let Some(id) = event.get("id") {
        push(id_label(event).into(), "id", id);
    }
    if let Some(name) = event
        .get("name")
        .filter(|_| !event.action.starts_with("app:"))
    {
        push(name_label(event).into(), "name", name);
    }
    if let Some(kind) = event.get("type") {
        push(type_label(event).into(), "type", kind);
    }
    // Known keys in the table's order, then the rest in the data's.
    for (key, label) in LABELS {
        if let Some(value) = event.get(key) {
            push((*label).into(), key, value);
        }
    }
    let unknown = event.entries().filter(|(key, _)| {
        !LEADING_FIELDS.contains(key)
            && !NOT_FIELDS.contains(key)
            && !LABELS.iter().any(|(known, _)| known == key)
    });
    for (key, value) in unknown {
        let label = humanize(key);
        let label = if label.is_empty() {
            "Detail".to_owned()
        } else {
            label
        };
        push(label, key, value);
    }
    fields
}

fn id_label(event: &RackEvent) -> &'static str {
    if event.action.starts_with("build:") {
        "Build"
    } else if event.action.starts_with("release:") || event.action.starts_with("app:promote:") {
        "Release"
    } else {
        "Id"
    }
}

fn name_label(event: &RackEvent) -> &'static str {
    match event.action.split(':').next() {
        Some("resource") => "Resource",
        Some("workflow") => "Workflow",
        Some("alert") => "Alert",
        _ => "Name",
    }
}

fn type_label(event: &RackEvent) -> &'static str {
    match event.action.split(':').next() {
        Some("resource") => "Resource type",
        Some("system") | Some("rack") => "Instance type",
        _ => "Type",
    }
}

fn format_value(key: &str, value: &str) -> String {
    let (before, after) = if key.ends_with("_usd") {
        ("$", "")
    } else if key == "pct" {
        ("", "%")
    } else {
        return value.to_owned();
    };
    if value.parse::<f64>().is_ok() {
        format!("{before}{value}{after}")
    } else {
        value.to_owned()
    }
}

fn tone(event: &RackEvent) -> Tone {
    let action = &*event.action;
    if event.status == Status::Error
        || matches!(
            action,
            "app:promote:errored"
                | "alert:firing"
                | "app:budget:cap"
                | "app:budget:auto-shutdown:fired"
                | "app:budget:auto-shutdown:expired"
                | "app:budget:auto-shutdown:failed"
        )
        || action.ends_with(":failed")
        || action.ends_with(":errored")
    {
        Tone::Failure
    } else if event.status == Status::Cancelled
        || matches!(
            action,
            "app:promote:cancelled"
                | "app:budget:threshold"
                | "app:budget:auto-shutdown:armed"
                | "app:budget:auto-shutdown:flap-suppressed"
        )
    {
        Tone::Warning
    } else if event.status == Status::Start || event.status == Status::Skipped {
        Tone::Info
    } else if matches!(
        action,
        "release:promote"
            | "release:finish"
            | "app:promote:completed"
            | "workflow:complete"
            | "alert:resolved"
            | "app:budget:auto-shutdown:restored"
            | "system:update"
            | "rack:update"
    ) {
        Tone::Success
    } else {
        Tone::Info
    }
}

/// The event in words; failures say so, whatever the event type.
fn headline(event: &RackEvent) -> String {
    let specific = match (&*event.action, &event.status) {
        // Only part of a live release message: a build that failed stands alone as "Build failed".
        ("build:create", Status::Success) => Some("Build succeeded"),
        ("build:create", _) => Some("Build failed"),
        ("release:promote", Status::Start) => Some("Release promotion started"),
        ("release:promote", Status::Success) => Some("Release promoted"),
        ("release:promote", Status::Error) => Some("Release promotion failed"),
        ("release:promote", Status::Cancelled) => Some("Release promotion superseded"),
        ("release:finish", Status::Success) => Some("Rolling deploy finished"),
        ("release:finish", Status::Error) => Some("Rolling deploy failed"),
        ("workflow:complete", _) => return workflow_headline(event),
        ("system:update" | "rack:update", Status::Success) => Some("Rack updated"),
        ("system:update" | "rack:update", Status::Error) => Some("Rack update failed"),
        _ => None,
    };
    if let Some(text) = specific {
        return text.to_owned();
    }
    let base = EVENT_TYPES
        .iter()
        .find(|(action, _)| *action == event.action)
        .map(|(_, description)| (*description).to_owned())
        .unwrap_or_else(|| humanize(&event.action));
    with_status(base, event)
}

fn workflow_headline(event: &RackEvent) -> String {
    let kind = match event.get("kind") {
        Some(kind) if kind.eq_ignore_ascii_case("deployment") => "Deployment workflow",
        Some(kind) if kind.eq_ignore_ascii_case("review") => "Review workflow",
        _ => "Workflow",
    };
    match event.status {
        Status::Success => format!("{kind} completed"),
        Status::Error => format!("{kind} failed"),
        Status::Cancelled => format!("{kind} cancelled"),
        _ => with_status(format!("{kind} completed"), event),
    }
}

/// Adds the status to a description when the description alone would not tell it.
fn with_status(base: String, event: &RackEvent) -> String {
    match &event.status {
        Status::Success => base,
        Status::Error if base.contains("fail") => base,
        Status::Error => format!("{} failed", humanize(&event.action)),
        Status::Start => format!("{base} (started)"),
        Status::Cancelled => format!("{base} (cancelled)"),
        Status::Skipped => format!("{base} (skipped)"),
        Status::Other(other) => format!("{base} ({other})"),
    }
}
