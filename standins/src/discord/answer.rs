//! What the Discord stand-in answers a call with: a status, a JSON body (none for a 204) and headers.

use serde_json::{Value, json};
use wiremock::Request;

pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) body: Value,
    pub(super) headers: Vec<(&'static str, String)>,
}

impl Answer {
    pub(super) fn new(status: u16, body: Value) -> Self {
        Self {
            status,
            body,
            headers: Vec::new(),
        }
    }

    pub(super) fn error(status: u16, code: u64, message: &str) -> Self {
        Self::new(status, json!({"message": message, "code": code}))
    }

    pub(super) fn unknown_message() -> Self {
        Self::error(404, 10008, "Unknown Message")
    }
}

pub(super) fn json_body(request: &Request) -> Result<Value, Answer> {
    serde_json::from_slice(&request.body)
        .map_err(|_| Answer::error(400, 50109, "The request body contains invalid JSON."))
}
