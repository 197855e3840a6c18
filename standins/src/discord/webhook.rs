//! Discord webhooks: executing one (`POST /webhooks/{id}/{token}`) and editing its messages
//! (`PATCH …/messages/{m}`). The token in the URL is the only credential.

use serde_json::Value;
use wiremock::Request;

use super::answer::Answer;
use super::state::{Author, State};
use super::validate::Kind;
use crate::serve::query;

impl State {
    pub(super) fn execute_webhook(&self, id: &str, token: &str, request: &Request) -> Answer {
        let channel = match self.webhook_target(id, token, request) {
            Ok(channel) => channel,
            Err(answer) => return answer,
        };
        self.in_bucket(&channel, || {
            let body = match self.body(request, Kind::Webhook) {
                Ok(body) => body,
                Err(answer) => return answer,
            };
            let author = Author::Webhook(id.into());
            let message = self
                .inner
                .lock()
                .unwrap()
                .post(&channel, body, author, None);
            self.tally.accepted();
            // Without `wait` Discord answers before the message is saved: there is no id to hand back.
            let wait = query(&request.url, "wait");
            if wait.is_some_and(|w| matches!(w.as_str(), "true" | "True" | "1")) {
                Answer::new(200, message)
            } else {
                Answer::new(204, Value::Null)
            }
        })
    }

    pub(super) fn edit_webhook_message(
        &self,
        id: &str,
        token: &str,
        message: &str,
        request: &Request,
    ) -> Answer {
        let channel = match self.webhook_target(id, token, request) {
            Ok(channel) => channel,
            Err(answer) => return answer,
        };
        let editor = Author::Webhook(id.into());
        self.in_bucket(&channel, || {
            self.edit(&channel, message, request, Kind::WebhookEdit, &editor)
        })
    }

    /// The channel a webhook call acts in: the webhook's own, or the thread of it named by `thread_id`.
    fn webhook_target(&self, id: &str, token: &str, request: &Request) -> Result<String, Answer> {
        let Some(webhook) = self.webhooks.iter().find(|w| w.id == id) else {
            return Err(Answer::error(404, 10015, "Unknown Webhook"));
        };
        if webhook.token != token {
            return Err(Answer::error(401, 50027, "Invalid Webhook Token"));
        }
        let Some(thread) = query(&request.url, "thread_id") else {
            return Ok(webhook.channel_id.clone());
        };
        let inner = self.inner.lock().unwrap();
        let in_channel = inner
            .threads
            .iter()
            .any(|t| t.thread_id == thread && t.parent_id == webhook.channel_id);
        if in_channel {
            Ok(thread)
        } else {
            Err(Answer::error(404, 10003, "Unknown Channel"))
        }
    }
}
