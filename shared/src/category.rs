//! The event table: which category function owns an event type, what it means, and what is never posted.

use std::fmt;

use crate::event::{RackEvent, Status};

/// One category, one function, one EventBridge rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    App,
    Release,
    Infrastructure,
    Workflow,
    Alert,
    Budget,
}

impl Category {
    pub const ALL: [Self; 6] = [
        Self::App,
        Self::Release,
        Self::Infrastructure,
        Self::Workflow,
        Self::Alert,
        Self::Budget,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::App => "app",
            Self::Release => "release",
            Self::Infrastructure => "infrastructure",
            Self::Workflow => "workflow",
            Self::Alert => "alert",
            Self::Budget => "budget",
        }
    }

    /// The category whose namespace holds `action`, known type or not; `None` for audit-only events.
    pub fn of(action: &str) -> Option<Self> {
        if is_audit_only(action) {
            return None;
        }
        let namespace = |prefixes: &[&str]| prefixes.iter().any(|p| action.starts_with(p));
        if namespace(&["app:budget:"]) {
            Some(Self::Budget)
        } else if namespace(&["build:", "release:", "app:promote:"]) {
            Some(Self::Release)
        } else if namespace(&["app:"]) {
            Some(Self::App)
        } else if namespace(&["resource:", "system:", "rack:"]) {
            Some(Self::Infrastructure)
        } else if namespace(&["workflow:"]) {
            Some(Self::Workflow)
        } else if namespace(&["alert:"]) {
            Some(Self::Alert)
        } else {
            None
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Budget configuration changes are recorded in the rack's audit log and never forwarded.
const AUDIT_ONLY: &[&str] = &["app:budget:set", "app:budget:clear", "app:budget:reset"];
/// Override toggles are audit-only in every variant.
const AUDIT_ONLY_PREFIXES: &[&str] = &["app:triggers-override:", "app:scale-override:"];

fn is_audit_only(action: &str) -> bool {
    AUDIT_ONLY.contains(&action) || AUDIT_ONLY_PREFIXES.iter().any(|p| action.starts_with(p))
}

/// Whether an event is posted at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    Post,
    /// Shown only as a step of a live release message (a successful build that made a release).
    LiveOnly,
    Skip(&'static str),
}

/// Why a `LiveOnly` event is not posted where live messages are off.
pub const SUCCESSFUL_BUILD: &str = "successful build:create";

pub fn disposition(event: &RackEvent) -> Disposition {
    if is_audit_only(&event.action) {
        Disposition::Skip("audit-only event")
    } else if event.action == "build:create" && event.status == Status::Success {
        // The table lists build:create as "Build failed": a successful build is followed by
        // release:create, and is only worth a line in that release's live message.
        if event.get("release_id").is_some() {
            Disposition::LiveOnly
        } else {
            Disposition::Skip(SUCCESSFUL_BUILD)
        }
    } else {
        Disposition::Post
    }
}

/// The seed's event table: every event type the rack forwards, with its meaning.
pub const EVENT_TYPES: &[(&str, &str)] = &[
    ("app:create", "App created"),
    ("app:delete", "App deleted"),
    ("build:create", "Build failed"),
    ("release:create", "Release created"),
    ("release:promote", "Release promoted, started, or failed"),
    ("release:finish", "Rolling deploy of a Release finished"),
    ("release:scale", "Service scaled"),
    (
        "app:promote:completed",
        "Release deployment completed successfully",
    ),
    ("app:promote:errored", "Release deployment failed"),
    (
        "app:promote:cancelled",
        "Release deployment superseded by a newer Release",
    ),
    ("resource:create", "Resource created"),
    ("resource:delete", "Resource deleted"),
    (
        "system:update",
        "Rack updated (version, instance count, or instance type)",
    ),
    (
        "rack:update",
        "Rack updated (version, instance count, or instance type)",
    ),
    (
        "workflow:complete",
        "Deployment or Review workflow completed, cancelled, or failed",
    ),
    ("alert:firing", "Alert is firing"),
    ("alert:resolved", "Alert has resolved"),
    ("app:budget:threshold", "Spend threshold alert triggered"),
    ("app:budget:cap", "Budget cap reached"),
    ("app:budget:auto-shutdown:armed", "Auto-shutdown scheduled"),
    (
        "app:budget:auto-shutdown:fired",
        "Services scaled to zero by auto-shutdown",
    ),
    (
        "app:budget:auto-shutdown:cancelled",
        "Auto-shutdown cancelled",
    ),
    (
        "app:budget:auto-shutdown:restored",
        "App restored from auto-shutdown",
    ),
    (
        "app:budget:auto-shutdown:expired",
        "Auto-shutdown expired, manual recovery required",
    ),
    (
        "app:budget:auto-shutdown:flap-suppressed",
        "Auto-shutdown suppressed (re-trip within cooldown)",
    ),
    (
        "app:budget:auto-shutdown:failed",
        "Auto-shutdown or restore operation failed",
    ),
    (
        "app:budget:auto-shutdown:simulated",
        "Auto-shutdown simulation result",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_type_has_a_category() {
        for (action, _) in EVENT_TYPES {
            assert!(Category::of(action).is_some(), "{action}");
        }
    }

    #[test]
    fn namespaces() {
        let cases = [
            ("app:create", Some(Category::App)),
            ("app:restart", Some(Category::App)),
            ("app:promote:errored", Some(Category::Release)),
            ("build:import-image:done", Some(Category::Release)),
            ("release:autoscale-disabled", Some(Category::Release)),
            ("rack:update", Some(Category::Infrastructure)),
            ("system:update", Some(Category::Infrastructure)),
            ("resource:delete", Some(Category::Infrastructure)),
            ("workflow:complete", Some(Category::Workflow)),
            ("alert:firing", Some(Category::Alert)),
            ("app:budget:auto-shutdown:fired", Some(Category::Budget)),
            ("app:budget:set", None),
            ("app:triggers-override:toggled", None),
            ("app:scale-override:honored", None),
            ("something:else", None),
        ];
        for (action, expected) in cases {
            assert_eq!(Category::of(action), expected, "{action}");
        }
    }
}
