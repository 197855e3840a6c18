//! What the functions count, written once per invocation as a CloudWatch embedded-metric-format line:
//! CloudWatch turns it into metrics without an API call or a permission.

use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

/// The namespace's setting; the template passes `RackNotifications/<stack>` so stacks stay apart.
pub const NAMESPACE: &str = "NOTIFICATIONS_METRICS_NAMESPACE";
const DEFAULT_NAMESPACE: &str = "RackNotifications";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// A message posted (a destination's delivery).
    Delivered,
    /// A destination refused and the default channel took the message.
    FellBackToDefault,
    /// A provider answered 429 and the post waited for it.
    RetriedOn429,
    /// A delivery that failed (the event then fails for Lambda to retry).
    Failed,
    /// A repeat of a delivered event, posted nothing.
    DuplicateSkipped,
    /// A routing document that does not parse or check.
    RoutesInvalid,
    /// The receiver: a request put on the bus, refused, or lost to a bus failure.
    Accepted,
    Rejected,
    BusFailed,
    /// The receiver could not check a signed request: its signing keys could not be read, or are none.
    KeysUnavailable,
}

impl Metric {
    const ALL: [Self; 10] = [
        Self::Delivered,
        Self::FellBackToDefault,
        Self::RetriedOn429,
        Self::Failed,
        Self::DuplicateSkipped,
        Self::RoutesInvalid,
        Self::Accepted,
        Self::Rejected,
        Self::BusFailed,
        Self::KeysUnavailable,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Delivered => "Delivered",
            Self::FellBackToDefault => "FellBackToDefault",
            Self::RetriedOn429 => "RetriedOn429",
            Self::Failed => "Failed",
            Self::DuplicateSkipped => "DuplicateSkipped",
            Self::RoutesInvalid => "RoutesInvalid",
            Self::Accepted => "Accepted",
            Self::Rejected => "Rejected",
            Self::BusFailed => "BusFailed",
            Self::KeysUnavailable => "KeysUnavailable",
        }
    }
}

thread_local! {
    /// One counter per metric: a function runs one invocation at a time on its one thread, so what was
    /// counted since the last flush is the invocation's.
    static COUNTS: [Cell<u64>; Metric::ALL.len()] = const { [const { Cell::new(0) }; Metric::ALL.len()] };
}

pub fn count(metric: Metric) {
    COUNTS.with(|counts| counts[metric as usize].set(counts[metric as usize].get() + 1));
}

/// Writes what was counted since the last flush as one EMF line for `function`, and starts again.
pub fn flush(function: &str) {
    if let Some(line) = emf_line(function) {
        println!("{line}");
    }
}

fn emf_line(function: &str) -> Option<String> {
    let counted: Vec<(Metric, u64)> = Metric::ALL
        .into_iter()
        .map(|metric| (metric, COUNTS.with(|counts| counts[metric as usize].take())))
        .filter(|(_, n)| *n > 0)
        .collect();
    if counted.is_empty() {
        return None;
    }
    let namespace = std::env::var(NAMESPACE)
        .ok()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned());
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64;
    let definitions: Vec<Value> = counted
        .iter()
        .map(|(metric, _)| json!({"Name": metric.name(), "Unit": "Count"}))
        .collect();
    let mut line = Map::new();
    line.insert(
        "_aws".into(),
        json!({"Timestamp": millis, "CloudWatchMetrics": [{
            "Namespace": namespace, "Dimensions": [["Function"]], "Metrics": definitions}]}),
    );
    line.insert("Function".into(), json!(function));
    for (metric, n) in counted {
        line.insert(metric.name().into(), json!(n));
    }
    Some(Value::Object(line).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_become_one_emf_line_and_start_again() {
        count(Metric::Delivered);
        count(Metric::Delivered);
        count(Metric::FellBackToDefault);
        let line: Value = serde_json::from_str(&emf_line("notify-release").unwrap()).unwrap();
        assert_eq!(line["Function"], "notify-release");
        assert_eq!(line["Delivered"], 2);
        assert_eq!(line["FellBackToDefault"], 1);
        let metrics = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(metrics["Dimensions"], json!([["Function"]]));
        assert_eq!(metrics["Metrics"].as_array().unwrap().len(), 2);
        assert_eq!(emf_line("notify-release"), None, "counters start again");
    }
}
