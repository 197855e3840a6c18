//! One live message per release, alert or auto-shutdown: which lifecycle an event belongs to, the state
//! its root message shows, and how an event moves it. Pure; the state is stored by the ledger.
//!
//! The root only moves forward: the step shown is the most advanced one (by the lifecycle's order, then
//! by time), so events that arrive late or twice never turn a finished deploy back into "promoting".

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::event::{RackEvent, Status};
use crate::notification::{Field, Notification, Style, Tone};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    Release,
    Alert,
    Shutdown,
}

/// The lifecycle an event belongs to, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lifecycle {
    pub kind: Kind,
    /// `release:<rack>:<app>:<release id>`, `alert:<rack>:<alert>`, `shutdown:<rack>:<app>`.
    pub id: String,
    /// What every message of it shows beside its state: the app, the release, the alert.
    pub identity: Vec<Field>,
}

/// One event's part in a lifecycle, kept in its state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// The rack event's identity: the same event delivered twice is one step.
    pub key: String,
    pub headline: String,
    pub tone: Tone,
    pub status: String,
    /// The step's place in the lifecycle's order; a terminal step ends it.
    pub rank: u8,
    pub terminal: bool,
    /// A step that begins the lifecycle again once it has ended (an alert firing again).
    pub starts: bool,
    pub at: Option<DateTime<Utc>>,
    pub actor: Option<String>,
    pub message: Option<String>,
}

/// Where a root message lives, to edit it and reply under it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Root {
    /// The channel id the provider answered with (Slack's `chat.update` needs the id, not the name).
    pub channel: String,
    pub message_id: String,
    /// Discord: the thread started on the root, once there is one.
    pub thread: Option<String>,
}

/// What the ledger keeps per lifecycle and destination.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub root: Option<Root>,
    pub steps: Vec<Step>,
}

/// What an event did to a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merged {
    /// A new step: edit the root (or post it) and reply.
    Added,
    /// The step was there already (a repeat): nothing to show again.
    Known,
    /// The lifecycle had ended and this event begins it again: a new root.
    Restarted,
}

impl Lifecycle {
    /// The lifecycle of `event`; `None` for an event that stands alone.
    pub fn of(event: &RackEvent) -> Option<Self> {
        let rack = event.rack().unwrap_or("-");
        let field = |label: &str, value: &str| Field {
            label: label.to_owned(),
            value: value.to_owned(),
            style: Style::Plain,
        };
        let action = event.action.as_str();
        if action.starts_with("build:")
            || action.starts_with("release:")
            || action.starts_with("app:promote:")
        {
            let release = if action.starts_with("build:") {
                event.get("release_id")
            } else {
                event.get("id").filter(|_| action != "release:scale")
            }?;
            let app = event.app()?;
            return Some(Self {
                kind: Kind::Release,
                id: format!("release:{rack}:{app}:{release}"),
                identity: vec![field("App", app), field("Release", release)],
            });
        }
        if action.starts_with("alert:") {
            let alert = event.get("alert").or_else(|| event.get("name"))?;
            let mut identity = vec![field("Alert", alert)];
            identity.extend(event.app().map(|app| field("App", app)));
            identity.extend(event.get("severity").map(|s| field("Severity", s)));
            return Some(Self {
                kind: Kind::Alert,
                id: format!("alert:{rack}:{alert}"),
                identity,
            });
        }
        let shutdown = action.strip_prefix("app:budget:auto-shutdown:")?;
        if !SHUTDOWN_STEPS.iter().any(|(name, ..)| *name == shutdown) {
            return None;
        }
        let app = event.app()?;
        Some(Self {
            kind: Kind::Shutdown,
            id: format!("shutdown:{rack}:{app}"),
            identity: vec![field("App", app)],
        })
    }
}

/// Auto-shutdown's steps: name, rank, terminal, starts. Simulations and suppressed re-trips stand alone.
const SHUTDOWN_STEPS: &[(&str, u8, bool, bool)] = &[
    ("armed", 10, false, true),
    ("fired", 30, false, false),
    ("cancelled", 50, true, false),
    ("restored", 60, true, false),
    ("expired", 70, true, false),
    ("failed", 90, true, false),
];

impl Step {
    /// `event`'s step in `kind`'s lifecycle, described by its notification.
    pub fn of(kind: Kind, event: &RackEvent, key: &str, note: &Notification) -> Self {
        let failed = note.tone == Tone::Failure && kind == Kind::Release;
        let (rank, terminal, starts) = match kind {
            Kind::Release => match (event.action.as_str(), &event.status) {
                _ if failed => (90, true, false),
                ("app:promote:cancelled", _) | (_, Status::Cancelled) => (80, true, false),
                ("build:create", _) => (10, false, false),
                ("release:create", _) => (20, false, false),
                ("release:promote", Status::Start) => (30, false, false),
                ("release:promote", _) => (40, false, false),
                ("release:finish", _) => (50, false, false),
                ("app:promote:completed", _) => (60, true, false),
                _ => (25, false, false),
            },
            Kind::Alert => match event.action.as_str() {
                "alert:resolved" => (20, true, false),
                _ => (10, false, true),
            },
            Kind::Shutdown => {
                let name = event.action.rsplit(':').next().unwrap_or_default();
                SHUTDOWN_STEPS
                    .iter()
                    .find(|(step, ..)| *step == name)
                    .map_or((20, false, false), |(_, rank, terminal, starts)| {
                        (*rank, *terminal, *starts)
                    })
            }
        };
        Self {
            key: key.to_owned(),
            headline: note.headline.clone(),
            tone: note.tone,
            status: note.status.clone(),
            rank,
            terminal,
            starts,
            at: event.timestamp,
            actor: event.get("actor").map(str::to_owned),
            message: note.message.clone(),
        }
    }

    /// Its line in the root's list of steps.
    fn line(&self) -> String {
        let mut line = match self.at {
            Some(at) => format!("{} · {}", at.format("%Y-%m-%d %H:%M:%S UTC"), self.headline),
            None => self.headline.clone(),
        };
        if let Some(actor) = &self.actor {
            line += &format!(" · {actor}");
        }
        line
    }

    fn order(&self) -> (u8, Option<DateTime<Utc>>) {
        (self.rank, self.at)
    }
}

impl State {
    /// Adds `step`; a repeat changes nothing, and a step that begins an ended lifecycle again (later than
    /// its end) starts a fresh state whose root is yet to be posted.
    pub fn merge(&mut self, step: Step) -> Merged {
        if self.steps.iter().any(|known| known.key == step.key) {
            return Merged::Known;
        }
        let ended_before = self
            .steps
            .iter()
            .filter(|s| s.terminal)
            .filter_map(|s| s.at)
            .max()
            .is_some_and(|end| step.starts && step.at.is_some_and(|at| at > end));
        let merged = if ended_before {
            *self = Self::default();
            Merged::Restarted
        } else {
            Merged::Added
        };
        let at = self
            .steps
            .partition_point(|s| (s.at, s.rank) <= (step.at, step.rank));
        self.steps.insert(at, step);
        merged
    }

    /// The most advanced step: what the root shows.
    pub fn current(&self) -> Option<&Step> {
        self.steps.iter().max_by_key(|step| step.order())
    }

    /// The root's notification: the current step's headline, tone and error text over the lifecycle's
    /// identity and every step so far.
    pub fn root_note(&self, lifecycle: &Lifecycle, latest: &Notification) -> Notification {
        let current = self.current();
        let mut note = latest.clone();
        if let Some(current) = current {
            note.headline = current.headline.clone();
            note.tone = current.tone;
            note.status = current.status.clone();
            note.message = self
                .steps
                .iter()
                .rev()
                .find(|s| s.tone == Tone::Failure && s.message.is_some())
                .and_then(|s| s.message.clone())
                .or_else(|| current.message.clone());
            note.timestamp = current.at;
        }
        if lifecycle.kind == Kind::Alert
            && let Some(fired) = self.fired_for()
        {
            note.headline = format!("{} (fired for {fired})", note.headline);
        }
        note.fields = lifecycle.identity.clone();
        note.steps = self.steps.iter().map(Step::line).collect();
        note
    }

    /// How long an alert fired, once it resolved.
    fn fired_for(&self) -> Option<String> {
        let firing = self.steps.iter().find(|s| s.starts)?.at?;
        let resolved = self.steps.iter().find(|s| s.terminal)?.at?;
        let minutes = (resolved - firing).num_minutes();
        (minutes >= 0).then(|| match minutes {
            0 => "less than a minute".to_owned(),
            1 => "1 minute".to_owned(),
            n if n < 120 => format!("{n} minutes"),
            n => format!("{} hours {} minutes", n / 60, n % 60),
        })
    }
}

#[cfg(test)]
mod tests;
