//! `BusStandIn`: a local EventBridge that takes `PutEvents` and keeps every entry, for what measures
//! the webhook receiver without moto's start-up in its figures.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::{MockServer, Request, ResponseTemplate};

use crate::serve::{Rules, serve};
use crate::tally::Tally;

#[derive(Default)]
struct State {
    tally: Tally,
    entries: Mutex<Vec<Value>>,
}

impl Rules for State {
    fn tally(&self) -> &Tally {
        &self.tally
    }

    fn answer_counted(&self, request: &Request) -> (u16, ResponseTemplate) {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let entries = body["Entries"].as_array().cloned().unwrap_or_default();
        let mut kept = self.entries.lock().unwrap();
        let ids: Vec<Value> = (0..entries.len())
            .map(|n| json!({"EventId": format!("stand-in-{}", kept.len() + n)}))
            .collect();
        for entry in entries {
            kept.push(entry);
            self.tally.accepted();
        }
        // awsJson1_1, as EventBridge answers.
        let answer = json!({"FailedEntryCount": 0, "Entries": ids}).to_string();
        let template =
            ResponseTemplate::new(200).set_body_raw(answer, "application/x-amz-json-1.1");
        (200, template)
    }
}

pub struct BusStandIn {
    server: MockServer,
    state: Arc<State>,
}

impl BusStandIn {
    pub async fn start() -> Self {
        let state = Arc::new(State::default());
        let server = serve(state.clone(), None).await;
        Self { server, state }
    }

    /// The endpoint for `AWS_ENDPOINT_URL`.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// Every entry put so far, as sent.
    pub fn entries(&self) -> Vec<Value> {
        self.state.entries.lock().unwrap().clone()
    }

    /// Waits until `n` entries in total were put; panics after `timeout`.
    pub async fn wait_for_entries(&self, n: usize, timeout: Duration) {
        if let Err(seen) = self.state.tally.wait_accepted(n, timeout).await {
            panic!("bus stand-in: {seen} of {n} entries after {timeout:?}");
        }
    }
}
