//! Slack incoming webhooks (`POST /services/T…/B…/<secret>`): each posts into the one channel it was
//! installed for (a `channel` in the body is ignored), the URL is the only credential, answers are an
//! HTTP status with a plain-text code, and no `ts` comes back.

use serde_json::Value;
use wiremock::Request;

use super::SlackFault;
use super::answer::Answer;
use super::body::{self, Refusal};
use super::state::{Post, State};
use crate::serve::header;

impl State {
    pub(super) fn webhook(&self, path: &str, request: &Request) -> Answer {
        let hook = self
            .inner
            .lock()
            .unwrap()
            .webhooks
            .iter()
            .find(|w| w.path == path)
            .map(|w| (w.channel.clone(), w.prohibited));
        let Some((channel, prohibited)) = hook else {
            return refused("no_service");
        };
        if prohibited {
            return refused("action_prohibited");
        }
        // A channel the stand-in does not have stands for one deleted since the webhook was installed.
        match self.channels.iter().find(|c| c.id == channel) {
            None => return refused("channel_not_found"),
            Some(c) if c.archived => return refused("channel_is_archived"),
            Some(_) => {}
        }
        let body = match serde_json::from_slice::<Value>(&request.body) {
            Ok(body) if body.is_object() => body,
            _ => return refused("invalid_payload"),
        };
        if let Err(refusal) = body::check_arguments(&body) {
            return refusal.webhook_answer();
        }
        if let Some(secs) = self.rate_limited(&channel) {
            return refused("rate_limited").with_retry_after(secs);
        }
        if let Err(refusal) = body::check_content(&body) {
            return refusal.webhook_answer();
        }
        let post = Post {
            channel,
            requested_channel: body["channel"].as_str().unwrap_or_default().into(),
            content_type: header(request, "content-type"),
            body,
            via_webhook: true,
        };
        match self.accept(post) {
            Ok(_) => Answer::text(200, "ok"),
            Err(refusal) => refusal.webhook_answer(),
        }
    }
}

impl Refusal {
    fn webhook_answer(&self) -> Answer {
        match self {
            // Webhooks have no `invalid_arguments`: a body Slack will not take is `invalid_payload`.
            Self::Forbidden(_) => refused("invalid_payload"),
            refusal => refused(refusal.code()),
        }
    }
}

/// An injected fault as a webhook shows it.
pub(super) fn fault(fault: SlackFault) -> Answer {
    match fault {
        SlackFault::Status(status) => Answer::empty(status),
        SlackFault::RetryAfter(secs) => refused("rate_limited").with_retry_after(secs),
        SlackFault::Error(code) => refused(&code),
    }
}

/// A webhook's refusal: the code as plain text, with the HTTP status Slack gives it.
fn refused(code: &str) -> Answer {
    let status = match code {
        "action_prohibited" => 403,
        "no_service" | "channel_not_found" => 404,
        "channel_is_archived" => 410,
        "rate_limited" => 429,
        "fatal_error" => 500,
        // `invalid_payload`, `no_text`, `invalid_blocks`, and any other complaint about the body.
        _ => 400,
    };
    Answer::text(status, code)
}
