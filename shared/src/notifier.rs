//! One invocation: parse, route, render, deliver exactly once per destination, with the default channel
//! as the safety net.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use lambda_runtime::LambdaEvent;
use serde_json::Value;

use crate::aws::Aws;
use crate::catalog::OwnerCatalog;
use crate::category::{Category, Disposition, SUCCESSFUL_BUILD, disposition};
use crate::config::Config;
use crate::deadline::Deadline;
use crate::deliver::{Message, Messenger, ProviderMessenger, or_as_plain_text};
use crate::destination::{Destination, Mention, Provider};
use crate::event::RackEvent;
use crate::ledger::{AnyLedger, Claims, DynamoLedger, MemoryLedger, Owner, Threads};
use crate::lifecycle::{Lifecycle, Step};
use crate::live::{self, Live};
use crate::metrics::{self, Metric, count};
use crate::notification::Notification;
use crate::once::{OnceError, Sent, deliver_once};
use crate::params::{Parameters, Ssm};
use crate::render::Form;
use crate::routing::{self, Chosen, Routed, RoutesSource, SeedRoutes};

/// A claim lasts until its holder's deadline plus this allowance for clocks that differ between hosts.
const LEASE_SLACK: Duration = Duration::from_secs(5);

/// Everything a function needs, built once per container and borrowed by every invocation.
#[derive(Debug)]
pub struct Notifier<M = ProviderMessenger<Ssm, AnyLedger>, L = AnyLedger, P = Ssm> {
    category: Category,
    provider: Provider,
    seed: SeedRoutes,
    routes: RoutesSource,
    catalog: Option<OwnerCatalog>,
    live: bool,
    messenger: M,
    ledger: Arc<L>,
    parameters: Arc<P>,
}

impl Notifier {
    /// Reads the settings and builds the HTTP client; AWS and the tokens wait for the first event that
    /// needs them. A failure is logged here, in words, before `main` ends the process with it.
    pub fn from_env(category: Category) -> Result<Self, StartError> {
        let start = || -> Result<Self, StartError> {
            let config = Config::from_env()?;
            let aws = Arc::new(Aws::default());
            let parameters = Arc::new(Ssm::new(aws.clone()));
            let ledger = Arc::new(match &config.dedup_table {
                Some(table) => AnyLedger::Dynamo(DynamoLedger::new(table.clone(), aws)),
                None => AnyLedger::Memory(MemoryLedger::default()),
            });
            let messenger =
                ProviderMessenger::new(config.transports(), parameters.clone(), ledger.clone())?;
            Ok(Self::new(category, config, messenger, ledger, parameters))
        };
        start().inspect_err(|error| tracing::error!(%error, "cannot start"))
    }
}

impl<M: Messenger, L: Claims + Threads, P: Parameters> Notifier<M, L, P> {
    pub fn new(
        category: Category,
        config: Config,
        messenger: M,
        ledger: Arc<L>,
        parameters: Arc<P>,
    ) -> Self {
        Self {
            category,
            provider: config.provider,
            seed: config.seed,
            routes: config.routes,
            catalog: config.catalog_path.map(OwnerCatalog::new),
            live: config.live,
            messenger,
            ledger,
            parameters,
        }
    }

    pub async fn handle(&self, event: LambdaEvent<Value>) -> Result<Report, NotifyError> {
        let deadline = Deadline::from_epoch_millis(event.context.deadline);
        // Boxed: the invocation's future nests the transports' and the AWS SDK's, a type too deep to lay
        // out inside the runtime's own.
        let result =
            Box::pin(self.notify(event.payload, &event.context.request_id, deadline)).await;
        metrics::flush(&format!("notify-{}", self.category));
        result
    }

    pub async fn notify(
        &self,
        payload: Value,
        request_id: &str,
        deadline: Deadline,
    ) -> Result<Report, NotifyError> {
        let event = RackEvent::from_eventbridge(payload)?;
        let mut report = Report {
            event_id: event.id.clone(),
            action: event.action.clone(),
            skipped: None,
            delivered: None,
            also: Vec::new(),
        };
        let disposition = disposition(&event);
        if let Disposition::Skip(reason) = disposition {
            tracing::info!(event_id = %event.id, action = %event.action, reason, "skipped: never posted");
            report.skipped = Some(reason.to_owned());
            return Ok(report);
        }
        if Category::of(&event.action) != Some(self.category) {
            tracing::warn!(
                event_id = %event.id, action = %event.action, function = %self.category,
                "event outside this function's category: posting it anyway; check the EventBridge rules"
            );
        }
        let catalog_owner = self.catalog_owner(&event, deadline).await;
        let document = self.routes.current(&*self.parameters, deadline).await;
        let chosen = match routing::route(
            &event,
            &self.seed,
            document.as_deref(),
            catalog_owner.as_ref(),
        ) {
            Routed::To(chosen) => chosen,
            Routed::Dropped { route } => {
                tracing::info!(event_id = %event.id, action = %event.action, route, "dropped by a route: never posted");
                report.skipped = Some(format!("dropped by route {route}"));
                return Ok(report);
            }
        };
        let lifecycle = Lifecycle::of(&event);
        let chosen: Vec<Chosen> = chosen
            .into_iter()
            .filter(|chosen| {
                disposition != Disposition::LiveOnly
                    || (lifecycle.is_some() && self.is_live(chosen))
            })
            .collect();
        if chosen.is_empty() {
            tracing::info!(event_id = %event.id, action = %event.action, "skipped: only shown in live messages, and they are off here");
            report.skipped = Some(SUCCESSFUL_BUILD.to_owned());
            return Ok(report);
        }
        let note = Notification::from_event(&event);
        let owner = Owner {
            id: request_id.to_owned(),
            lease_until: deadline.wall_clock() + LEASE_SLACK,
        };
        let outcomes = join_all(chosen.iter().map(|chosen| {
            self.deliver(&event, lifecycle.as_ref(), &note, chosen, &owner, deadline)
        }))
        .await;
        let mut delivered = Vec::new();
        let mut failed = None;
        for outcome in outcomes {
            match outcome {
                Ok(delivery) => delivered.push(delivery),
                Err(error) => {
                    count(Metric::Failed);
                    tracing::error!(%error, "delivery failed; the event fails for Lambda to retry it");
                    failed.get_or_insert(error);
                }
            }
        }
        if let Some(error) = failed {
            return Err(error);
        }
        let mut delivered = delivered.into_iter();
        report.delivered = delivered.next();
        report.also = delivered.collect();
        Ok(report)
    }

    /// Delivers to one chosen destination, falling back to the default channel when it refuses.
    async fn deliver(
        &self,
        event: &RackEvent,
        lifecycle: Option<&Lifecycle>,
        note: &Notification,
        chosen: &Chosen,
        owner: &Owner,
        deadline: Deadline,
    ) -> Result<Delivered, NotifyError> {
        let lifecycle = lifecycle.filter(|_| self.is_live(chosen));
        let to = &chosen.destination;
        let fail = |source: OnceError, destination: &Destination| match source {
            OnceError::Records(_) | OnceError::InProgress { .. } => NotifyError::Records {
                event_id: event.id.clone(),
                source,
            },
            source => NotifyError::Delivery {
                event_id: event.id.clone(),
                destination: destination.clone(),
                source,
            },
        };
        let sent = self
            .once(
                event,
                lifecycle,
                to,
                note,
                &chosen.mentions,
                owner,
                deadline,
            )
            .await;
        let error = match sent {
            Ok(sent) => return Ok(self.delivered(event, to, &chosen.rule, sent, None)),
            Err(error) if error.is_destination_problem() && *to != self.seed.default => error,
            Err(error) => return Err(fail(error, to)),
        };
        count(Metric::FellBackToDefault);
        tracing::warn!(event_id = %event.id, destination = %to, rule = %chosen.rule, %error, "destination unusable; delivering to the default channel");
        let rule = if chosen.rule.starts_with("route ") {
            chosen.rule.clone()
        } else {
            format!("{} route", chosen.rule)
        };
        let mut redirected = note.clone();
        redirected.redirected_from = Some(format!(
            "Meant for {to} ({rule}), which {} refused: {error}",
            to.provider
        ));
        let default = &self.seed.default;
        let sent = self
            .once(event, None, default, &redirected, &[], owner, deadline)
            .await
            .map_err(|error| fail(error, default))?;
        Ok(self.delivered(event, default, "default", sent, Some(to)))
    }

    /// Whether lifecycles are live messages at this destination: on for the stack and the route, and a
    /// bot destination (a webhook cannot start a thread, and Slack's cannot edit).
    fn is_live(&self, chosen: &Chosen) -> bool {
        self.live
            && chosen.live
            && !matches!(
                chosen.destination.place,
                crate::destination::Place::Webhook(_)
            )
    }

    /// One destination's message, at most once for this event: in its lifecycle's live message when it
    /// has one, else on its own, sent again as plain text if the provider refuses it as invalid, so that
    /// a rendering bug never loses an event.
    #[allow(clippy::too_many_arguments)]
    async fn once(
        &self,
        event: &RackEvent,
        lifecycle: Option<&Lifecycle>,
        to: &Destination,
        note: &Notification,
        mentions: &[Mention],
        owner: &Owner,
        deadline: Deadline,
    ) -> Result<Sent, OnceError> {
        let key = event.key().map(|key| format!("{key}#{}", to.key()));
        let message = Message {
            note,
            mentions,
            key: key.as_deref(),
            form: Form::Full,
        };
        deliver_once(
            &*self.ledger,
            key.as_deref(),
            owner,
            deadline,
            |deadline| async move {
                if let (Some(lifecycle), Some(key)) = (lifecycle, message.key) {
                    let step = Step::of(lifecycle.kind, event, key, note);
                    let live = Live {
                        lifecycle,
                        note,
                        to,
                        mentions,
                        key,
                    };
                    return live::deliver(
                        &self.messenger,
                        &*self.ledger,
                        live,
                        step,
                        owner,
                        deadline,
                    )
                    .await;
                }
                or_as_plain_text(to, message, |message| async move {
                    self.messenger.post(to, &message, deadline).await
                })
                .await
            },
        )
        .await
    }

    fn delivered(
        &self,
        event: &RackEvent,
        to: &Destination,
        rule: &str,
        sent: Sent,
        redirected_from: Option<&Destination>,
    ) -> Delivered {
        let duplicate = matches!(sent, Sent::Duplicate(_));
        let receipt = sent.receipt();
        if duplicate {
            count(Metric::DuplicateSkipped);
            tracing::info!(event_id = %event.id, action = %event.action, destination = %to, channel = %receipt.channel, message_id = %receipt.message_id, "already delivered by an earlier invocation; posted nothing");
        } else {
            count(Metric::Delivered);
            tracing::info!(event_id = %event.id, action = %event.action, destination = %to, rule, channel = %receipt.channel, "delivered");
        }
        Delivered {
            destination: to.to_string(),
            provider: to.provider.key(),
            rule: rule.to_owned(),
            channel: receipt.channel.clone(),
            message_id: receipt.message_id.clone(),
            redirected_from: redirected_from.map(ToString::to_string),
            duplicate,
        }
    }

    async fn catalog_owner(&self, event: &RackEvent, deadline: Deadline) -> Option<Destination> {
        let (catalog, app) = (self.catalog.as_ref()?, event.app()?);
        let raw = catalog.owner(&*self.parameters, app, deadline).await?;
        Destination::parse(&raw, Some(self.provider))
            .inspect_err(|problem| {
                tracing::warn!(event_id = %event.id, problem, "catalog owner unusable; using the static routes");
            })
            .ok()
    }
}

mod report;

pub use report::{Delivered, NotifyError, Report, StartError};

#[cfg(test)]
mod tests;
