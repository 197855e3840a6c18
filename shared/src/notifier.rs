//! One invocation: parse, skip or route, render, deliver, with the default channel as the safety net.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use lambda_runtime::{Diagnostic, LambdaEvent};
use secrecy::SecretString;
use serde::Serialize;
use serde_json::value::RawValue;
use tokio::time::Instant;

use crate::aws::Aws;
use crate::category::{Category, Disposition, disposition};
use crate::config::{Config, ConfigError, Provider};
use crate::dedupe::{Claim, Dedupe, DedupeError, RECORD_TIME, delivery_key};
use crate::deliver::{
    DeliveryError, HttpClientError, Messenger, ProviderMessenger, Receipt, Refusal,
};
use crate::event::{EventError, RackEvent};
use crate::notification::Notification;
use crate::route::{Destination, Route, Routes, Rule};
use crate::ssm::{OwnerCatalog, Ssm, SsmError, Token};

/// Everything a function needs, built once per container and borrowed by every invocation.
#[derive(Debug)]
pub struct Notifier<M = ProviderMessenger> {
    category: Category,
    provider: Provider,
    routes: Routes,
    messenger: M,
    token: Token,
    catalog: Option<OwnerCatalog>,
    ssm: Ssm,
    dedupe: Option<Dedupe>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("configuration error: {0}")]
    Config(#[from] ConfigError),
    #[error("cannot build the HTTP client: {0}")]
    Http(#[from] HttpClientError),
}

/// Why an invocation failed; Lambda then retries it and, in the end, sends it to the dead-letter queue.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Event(#[from] EventError),
    #[error("event {event_id}: cannot get the bot token: {source}")]
    Token { event_id: String, source: SsmError },
    #[error("event {event_id}: delivery to {destination} failed: {source}")]
    Delivery {
        event_id: String,
        destination: Destination,
        source: DeliveryError,
    },
    /// Nothing was posted: without the table, a post could be a repeat.
    #[error("event {event_id}: {source}")]
    Dedupe {
        event_id: String,
        source: DedupeError,
    },
}

impl From<NotifyError> for Diagnostic {
    fn from(error: NotifyError) -> Self {
        let error_type = match &error {
            NotifyError::Event(_) => "InvalidEvent",
            NotifyError::Token { .. } => "TokenUnavailable",
            NotifyError::Delivery { source, .. } if source.is_retryable() => "DeliveryUnavailable",
            NotifyError::Delivery { .. } => "DeliveryRefused",
            NotifyError::Dedupe {
                source: DedupeError::InProgress { .. },
                ..
            } => "DeliveryInProgress",
            NotifyError::Dedupe { .. } => "DeduplicationUnavailable",
        };
        Diagnostic {
            error_type: error_type.to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// The function's response: what was delivered where, or why nothing was posted.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Report {
    pub event_id: String,
    pub action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered: Option<Delivered>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Delivered {
    /// Where the message went, as configured (`#channel`, `@user`).
    pub destination: String,
    pub rule: &'static str,
    pub channel: String,
    pub message_id: String,
    /// The destination the routes chose, when it failed and the default channel took the message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirected_from: Option<String>,
    /// Skipped as a duplicate: an earlier invocation of this event already posted it, and `channel` and
    /// `message_id` are that post's.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub duplicate: bool,
}

/// A message that is in its destination, posted now or by an earlier invocation.
struct Sent {
    receipt: Receipt,
    duplicate: bool,
}

impl Notifier {
    /// Reads the settings and builds the HTTP client; AWS and the token wait for the first event that needs them.
    /// A failure is logged here, in words, before `main` ends the process with it.
    pub fn from_env(category: Category) -> Result<Self, StartError> {
        let start = || -> Result<Self, StartError> {
            let config = Config::from_env()?;
            let messenger = ProviderMessenger::new(&config)?;
            Ok(Self::new(category, config, messenger))
        };
        start().inspect_err(|error| tracing::error!(%error, "cannot start"))
    }
}

impl<M: Messenger> Notifier<M> {
    pub fn new(category: Category, config: Config, messenger: M) -> Self {
        // One AWS configuration for SSM and DynamoDB, loaded when the first of them is needed.
        let aws = Arc::new(Aws::default());
        Self {
            category,
            provider: config.provider,
            routes: config.routes,
            messenger,
            token: Token::new(config.token),
            catalog: config.catalog_path.map(OwnerCatalog::new),
            ssm: Ssm::new(aws.clone()),
            dedupe: config.dedup_table.map(|table| Dedupe::new(table, aws)),
        }
    }

    /// The payload stays JSON text until the event is read: a tree of it would cost more than the rest of
    /// the reading.
    pub async fn handle(&self, event: LambdaEvent<Box<RawValue>>) -> Result<Report, NotifyError> {
        // Lambda gives a wall-clock deadline; the retries measure time on the monotonic clock.
        let left = event
            .context
            .deadline()
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO);
        self.notify(event.payload.get(), Instant::now() + left)
            .await
    }

    pub async fn notify(&self, payload: &str, deadline: Instant) -> Result<Report, NotifyError> {
        let event = RackEvent::from_json(payload)?;
        let mut report = Report {
            event_id: event.id.to_string(),
            action: event.action.to_string(),
            skipped: None,
            delivered: None,
        };
        if let Disposition::Skip(reason) = disposition(&event) {
            tracing::info!(event_id = %event.id, action = %event.action, reason, "skipped: never posted");
            report.skipped = Some(reason);
            return Ok(report);
        }
        if Category::of(&event.action) != Some(self.category) {
            tracing::warn!(
                event_id = %event.id, action = %event.action, function = %self.category,
                "event outside this function's category: posting it anyway; check the EventBridge rules"
            );
        }
        let route = self.route(&event).await;
        let mut note = Notification::from_event(&event);
        let token = self
            .token
            .get(&self.ssm)
            .await
            .map_err(|source| NotifyError::Token {
                event_id: event.id.to_string(),
                source,
            })?;
        let redirects = route.destination != self.routes.default;
        let first = self
            .deliver(
                &event,
                token,
                &route.destination,
                &note,
                redirects,
                deadline,
            )
            .await;
        let (sent, destination, redirected_from) = match first {
            Ok(sent) => (sent, route.destination, None),
            Err(NotifyError::Delivery { source: error, .. })
                if redirects && error.is_destination_problem() =>
            {
                tracing::warn!(
                    event_id = %event.id, destination = %route.destination, rule = route.rule.name(), %error,
                    "destination unusable; delivering to the default channel"
                );
                note.redirected_from = Some(format!(
                    "Meant for {} ({} route), which {} refused: {error}",
                    route.destination,
                    route.rule.name(),
                    self.provider
                ));
                let fallback = self.routes.default.clone();
                let sent = self
                    .deliver(&event, token, &fallback, &note, false, deadline)
                    .await?;
                (sent, fallback, Some(route.destination.to_string()))
            }
            Err(error) => return Err(error),
        };
        let Sent {
            receipt: Receipt {
                channel,
                message_id,
            },
            duplicate,
        } = sent;
        if duplicate {
            tracing::info!(event_id = %event.id, action = %event.action, %destination, %channel, %message_id, "already delivered by an earlier invocation; posted nothing");
        } else {
            tracing::info!(event_id = %event.id, action = %event.action, %destination, rule = route.rule.name(), %channel, "delivered");
        }
        report.delivered = Some(Delivered {
            destination: destination.to_string(),
            rule: if redirected_from.is_some() {
                Rule::Default.name()
            } else {
                route.rule.name()
            },
            channel,
            message_id,
            redirected_from,
            duplicate,
        });
        Ok(report)
    }

    /// Posts `note` to `to` once. With a dedup table the delivery is claimed first, and what became of it
    /// recorded after; when `redirects`, a refusing destination is recorded as such, so that a retry goes
    /// straight to the default channel without asking the destination again.
    async fn deliver(
        &self,
        event: &RackEvent<'_>,
        token: &SecretString,
        to: &Destination,
        note: &Notification,
        redirects: bool,
        deadline: Instant,
    ) -> Result<Sent, NotifyError> {
        let sent = |receipt| Sent {
            receipt,
            duplicate: false,
        };
        let claimed = self
            .dedupe
            .as_ref()
            .and_then(|dedupe| Some((dedupe, delivery_key(&event.id, to)?)));
        let Some((dedupe, key)) = claimed else {
            return self
                .messenger
                .post(token, to, note, deadline)
                .await
                .map(sent)
                .map_err(|source| delivery_error(event, to, source));
        };
        let claim = dedupe
            .claim(&key, deadline)
            .await
            .map_err(|source| NotifyError::Dedupe {
                event_id: event.id.to_string(),
                source,
            })?;
        match claim {
            Claim::Claimed => {}
            Claim::Delivered(receipt) => {
                return Ok(Sent {
                    receipt,
                    duplicate: true,
                });
            }
            Claim::Refused { code } => {
                let source = DeliveryError::Api {
                    provider: self.provider,
                    code,
                    refusal: Refusal::Destination,
                };
                return Err(delivery_error(event, to, source));
            }
        }
        let post_deadline = deadline.checked_sub(RECORD_TIME).unwrap_or(deadline);
        let posted = self.messenger.post(token, to, note, post_deadline).await;
        let recorded = match &posted {
            Ok(receipt) => dedupe.delivered(&key, receipt, deadline).await,
            Err(DeliveryError::Api {
                code,
                refusal: Refusal::Destination,
                ..
            }) if redirects => dedupe.refused(&key, code, deadline).await,
            Err(_) => dedupe.release(&key, deadline).await,
        };
        if let Err(error) = recorded {
            // The post's outcome stands: failing the invocation now would have Lambda post again at once.
            // The claim stays `pending` until its lease ends; a repeat before then fails and is retried.
            tracing::error!(
                event_id = %event.id, destination = %to, %error,
                "could not record the delivery's outcome; a repeat of this event after the claim's lease may post again"
            );
        }
        posted
            .map(sent)
            .map_err(|source| delivery_error(event, to, source))
    }

    async fn route(&self, event: &RackEvent<'_>) -> Route {
        let catalog_owner = match (&self.catalog, event.app()) {
            (Some(catalog), Some(app)) => catalog.owner(&self.ssm, app).await,
            _ => None,
        };
        let catalog_owner = catalog_owner.and_then(|raw| match Destination::parse(&raw, self.provider) {
            Ok(owner) => Some(owner),
            Err(problem) => {
                tracing::warn!(event_id = %event.id, problem, "catalog owner unusable; using the static routes");
                None
            }
        });
        self.routes.route(event.app(), event.rack(), catalog_owner)
    }
}

fn delivery_error(
    event: &RackEvent<'_>,
    destination: &Destination,
    source: DeliveryError,
) -> NotifyError {
    NotifyError::Delivery {
        event_id: event.id.to_string(),
        destination: destination.clone(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::{Value, json};

    use super::*;
    use crate::deliver::recording::RecordingMessenger;

    fn config() -> Config {
        Config::from_vars(|name| {
            let value = match name {
                "NOTIFICATIONS_PROVIDER" => "slack",
                "NOTIFICATIONS_TOKEN" => "xoxb-test",
                "NOTIFICATIONS_DEFAULT_CHANNEL" => "general",
                "NOTIFICATIONS_CHANNEL_MAPPING" => "production=production-deploys",
                "NOTIFICATIONS_OWNER_MAPPING" => "web=#web-team,billing=@U0123ABC",
                _ => return None,
            };
            Some(value.to_owned())
        })
        .unwrap()
    }

    fn event(action: &str, status: &str, data: Value) -> String {
        json!({"version": "0", "id": "ev-1", "source": "convox.rack", "detail-type": action,
               "account": "1", "time": "2026-11-22T18:43:48Z", "region": "us-east-1", "resources": [],
               "detail": {"action": action, "status": status, "data": data, "timestamp": "2026-11-22T18:43:48Z"}}).to_string()
    }

    fn notifier(refuse: Vec<(Destination, Refusal)>) -> Notifier<RecordingMessenger> {
        let messenger = RecordingMessenger {
            refuse,
            ..Default::default()
        };
        Notifier::new(Category::Release, config(), messenger)
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(10)
    }

    #[tokio::test]
    async fn routes_to_the_owner_first() {
        let notifier = notifier(vec![]);
        let data = json!({"rack": "production", "app": "web", "id": "R1"});
        let report = notifier
            .notify(&event("release:promote", "success", data), soon())
            .await
            .unwrap();
        let delivered = report.delivered.unwrap();
        assert_eq!(
            (delivered.destination.as_str(), delivered.rule),
            ("#web-team", "owner")
        );
        let posted = notifier.messenger.posted.lock().unwrap();
        assert_eq!(posted[0].1.headline, "Release promoted");
    }

    #[tokio::test]
    async fn skips_audit_only_and_successful_builds() {
        let notifier = notifier(vec![]);
        for (action, status) in [
            ("app:budget:set", "success"),
            ("build:create", "success"),
            ("app:scale-override:toggled", "success"),
        ] {
            let report = notifier
                .notify(&event(action, status, json!({"rack": "staging"})), soon())
                .await
                .unwrap();
            assert!(report.skipped.is_some(), "{action}");
        }
        assert!(notifier.messenger.posted.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_unusable_destination_falls_back_to_the_default_and_says_so() {
        let notifier = notifier(vec![(
            Destination::Channel("web-team".into()),
            Refusal::Destination,
        )]);
        let data = json!({"rack": "production", "app": "web"});
        let report = notifier
            .notify(&event("release:finish", "success", data), soon())
            .await
            .unwrap();
        let delivered = report.delivered.unwrap();
        assert_eq!(delivered.destination, "#general");
        assert_eq!(delivered.redirected_from.as_deref(), Some("#web-team"));
        let posted = notifier.messenger.posted.lock().unwrap();
        assert!(
            posted[0]
                .1
                .redirected_from
                .as_deref()
                .unwrap()
                .starts_with("Meant for #web-team (owner route)")
        );
    }

    #[tokio::test]
    async fn a_permanent_refusal_fails_the_invocation() {
        let notifier = notifier(vec![(
            Destination::Channel("production-deploys".into()),
            Refusal::Permanent,
        )]);
        let data = json!({"rack": "production", "app": "api"});
        let error = notifier
            .notify(&event("release:create", "success", data), soon())
            .await
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "event ev-1: delivery to #production-deploys failed: Slack API error `channel_not_found`"
        );
        assert_eq!(Diagnostic::from(error).error_type, "DeliveryRefused");
    }

    #[tokio::test]
    async fn a_malformed_event_names_itself_and_the_next_one_still_works() {
        let notifier = notifier(vec![]);
        let bad = r#"{"id": "ev-bad", "source": "convox.rack", "detail-type": "x", "detail": {"data": {}}}"#;
        let error = notifier.notify(bad, soon()).await.unwrap_err();
        assert_eq!(error.to_string(), "event ev-bad: has no `detail.action`");
        let good = event(
            "app:create",
            "success",
            json!({"rack": "staging", "name": "api"}),
        );
        assert!(
            notifier
                .notify(&good, soon())
                .await
                .unwrap()
                .delivered
                .is_some()
        );
    }
}
