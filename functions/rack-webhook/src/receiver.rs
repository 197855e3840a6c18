//! One request: read it, check its signature, put the rack's event on the bus, answer with a status.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_lambda_events::lambda_function_urls::LambdaFunctionUrlResponse;
use lambda_runtime::LambdaEvent;
use secrecy::ExposeSecret;
use serde_json::Value;
use shared::aws::Aws;
use shared::config::ConfigError;
use shared::deadline::Deadline;
use shared::metrics::{self, Metric, count};
use shared::params::{Parameters, Ssm};
use shared::secret::{Secret, SecretSource};

use crate::bus::{Bus, Entry, EventBridge, MAX_ENTRY};
use crate::request::{Answer, Refusal, Request};
use crate::settings::Settings;
use crate::signature::{Signature, keys_in};

/// The function's name in its metrics.
const FUNCTION: &str = "rack-webhook";
/// A signature that matches none of the keys may be the first of a new key: the keys are read again,
/// at most this often, so that a flood of bad signatures is not a flood of SSM reads.
const KEYS_REFRESH: Duration = Duration::from_secs(60);

/// Everything the function needs, built once per container.
#[derive(Debug)]
pub struct Receiver<B = EventBridge, P = Ssm> {
    settings: Settings,
    /// `None` when no keys parameter is set, which the settings allow only with unsigned requests.
    keys: Option<Secret>,
    bus: B,
    parameters: P,
}

impl Receiver {
    /// Reads the settings; AWS waits for the first request that needs it. A failure is logged here, in
    /// words, before `main` ends the process with it.
    pub fn from_env() -> Result<Self, ConfigError> {
        let start = || {
            let settings = Settings::from_env()?;
            let aws = Arc::new(Aws::default());
            Ok(Self::new(
                settings,
                EventBridge::new(aws.clone()),
                Ssm::new(aws),
            ))
        };
        start().inspect_err(|error| tracing::error!(%error, "cannot start"))
    }
}

impl<B: Bus, P: Parameters> Receiver<B, P> {
    pub fn new(settings: Settings, bus: B, parameters: P) -> Self {
        let keys = settings.keys_parameter.as_ref().map(|name| {
            Secret::new(
                "signing keys",
                SecretSource::Parameter(name.clone()),
                KEYS_REFRESH,
            )
        });
        Self {
            settings,
            keys,
            bus,
            parameters,
        }
    }

    pub async fn handle(
        &self,
        event: LambdaEvent<Value>,
    ) -> Result<LambdaFunctionUrlResponse, Infallible> {
        let deadline = Deadline::from_epoch_millis(event.context.deadline);
        let answer = self
            .receive(event.payload, SystemTime::now(), deadline)
            .await;
        metrics::flush(FUNCTION);
        Ok(answer.response())
    }

    /// The answer to one Function URL event, at `now` on this function's clock.
    pub async fn receive(&self, event: Value, now: SystemTime, deadline: Deadline) -> Answer {
        match self.accept(event, now, deadline).await {
            Ok(()) => {
                count(Metric::Accepted);
                Answer::Accepted
            }
            Err(refusal) => {
                if refusal.answer != Answer::Unavailable {
                    count(Metric::Rejected);
                    tracing::warn!(status = refusal.answer.status(), reason = %refusal.reason, "request refused");
                }
                refusal.answer
            }
        }
    }

    async fn accept(
        &self,
        event: Value,
        now: SystemTime,
        deadline: Deadline,
    ) -> Result<(), Refusal> {
        let request = Request::read(event)?;
        self.authenticate(&request, now, deadline).await?;
        let event = request.rack_event()?;
        let entry = Entry {
            bus: &self.settings.bus,
            source: &self.settings.source,
            detail_type: &event.action,
            detail: event.detail,
            time: event.time,
        };
        if entry.size() > MAX_ENTRY {
            return Err(Refusal::new(
                Answer::TooLarge,
                format!(
                    "the event is {} bytes as EventBridge counts them, more than the {MAX_ENTRY} of an entry",
                    entry.size()
                ),
            ));
        }
        match self.bus.put(&entry, deadline).await {
            Ok(event_id) => {
                tracing::info!(action = %event.action, event_id, "put on the bus");
                Ok(())
            }
            Err(error) => {
                // The rack will not send it again: this event is lost, hence the metric and its alarm.
                count(Metric::BusFailed);
                tracing::error!(action = %event.action, error_code = error.code(), %error, "the event could not be put on the bus; the rack will not retry");
                Err(Refusal::new(Answer::Unavailable, error.to_string()))
            }
        }
    }

    /// Checks `Convox-Signature` when there is one or one is required. What can be checked without the
    /// keys (the header's form, its time) is checked first: such refusals cost no SSM read.
    async fn authenticate(
        &self,
        request: &Request,
        now: SystemTime,
        deadline: Deadline,
    ) -> Result<(), Refusal> {
        let unauthorized = |reason: String| Refusal::new(Answer::Unauthorized, reason);
        let Some(header) = &request.signature else {
            if self.settings.allow_unsigned {
                return Ok(());
            }
            return Err(unauthorized(
                "no Convox-Signature header, and this receiver takes signed requests only".into(),
            ));
        };
        let Some(keys) = &self.keys else {
            // Unsigned requests are allowed and there is nothing to check a signature with.
            return Ok(());
        };
        let signature = Signature::parse(header).map_err(|e| unauthorized(e.to_string()))?;
        signature
            .check_time(now)
            .map_err(|e| unauthorized(e.to_string()))?;
        let current = keys
            .get(&self.parameters, deadline)
            .await
            .map_err(|error| keys_unavailable(error.to_string()))?;
        if signature.matches(current.expose_secret(), &request.body) {
            return Ok(());
        }
        let latest = match keys.refresh(&self.parameters, &current, deadline).await {
            Ok(Some(fresh)) if signature.matches(fresh.expose_secret(), &request.body) => {
                return Ok(());
            }
            Ok(fresh) => fresh.unwrap_or(current),
            Err(error) => {
                tracing::warn!(%error, "could not read the signing keys again");
                current
            }
        };
        if keys_in(latest.expose_secret()).next().is_none() {
            return Err(keys_unavailable(format!(
                "{} holds no signing keys",
                keys.origin()
            )));
        }
        Err(unauthorized(
            "Convox-Signature matches none of the signing keys".into(),
        ))
    }
}

/// A signed request that cannot be checked for want of keys: this side's failure, not the rack's.
fn keys_unavailable(reason: String) -> Refusal {
    count(Metric::KeysUnavailable);
    tracing::error!(%reason, "cannot check the request's signature: the signing keys are unavailable");
    Refusal::new(Answer::Unavailable, reason)
}

#[cfg(test)]
mod tests;
