//! A secret read from SSM once per container and read again when the provider refuses it, so a rotated
//! token or key takes effect without a redeploy.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::deadline::Deadline;
use crate::params::{ParameterError, Parameters};

/// Where a secret comes from. Its value is never printed (`SecretString`'s `Debug` hides it).
#[derive(Debug, Clone)]
pub enum SecretSource {
    /// An SSM SecureString parameter's name.
    Parameter(String),
    /// The value itself, from the environment (local runs); it cannot change.
    Literal(SecretString),
}

#[derive(Debug)]
pub struct Secret {
    /// What it is, for the logs: "bot token", "webhook URL", "signing keys".
    what: &'static str,
    source: SecretSource,
    /// Reads again no sooner than this after the last one, so a flood of refusals is not a flood of reads.
    min_refresh: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    value: Option<SecretString>,
    /// The last read of the parameter, failed ones too: a refusal during an SSM outage must not retry
    /// the read each time either.
    read_at: Option<Instant>,
    /// Why the last read failed, answered again until the refresh interval has passed.
    failed: Option<ParameterError>,
}

impl Secret {
    pub fn new(what: &'static str, source: SecretSource, min_refresh: Duration) -> Self {
        Self {
            what,
            source,
            min_refresh,
            state: Mutex::default(),
        }
    }

    /// What holds the secret, for errors: the parameter's name, never the value.
    pub fn origin(&self) -> String {
        match &self.source {
            SecretSource::Parameter(name) => format!("SSM parameter `{name}`"),
            SecretSource::Literal(_) => "the value set in the environment".to_owned(),
        }
    }

    /// The value, read on first use. A failed read is tried again by the next call once the refresh
    /// interval has passed; until then its error is the answer, so that a flood of requests while SSM
    /// fails is not a flood of reads.
    pub async fn get(
        &self,
        parameters: &impl Parameters,
        deadline: Deadline,
    ) -> Result<SecretString, ParameterError> {
        let mut state = self.state.lock().await;
        if let Some(value) = &state.value {
            return Ok(value.clone());
        }
        if let Some(error) = &state.failed
            && self.read_recently(&state)
        {
            return Err(error.clone());
        }
        self.read(&mut state, parameters, deadline).await
    }

    fn read_recently(&self, state: &State) -> bool {
        state
            .read_at
            .is_some_and(|at| at.elapsed() < self.min_refresh)
    }

    /// The provider refused `refused`: reads the parameter again and returns the new value if it
    /// changed, `None` if it did not (or cannot: a literal, or a read too recent).
    pub async fn refresh(
        &self,
        parameters: &impl Parameters,
        refused: &SecretString,
        deadline: Deadline,
    ) -> Result<Option<SecretString>, ParameterError> {
        let mut state = self.state.lock().await;
        if let Some(current) = &state.value
            && current.expose_secret() != refused.expose_secret()
        {
            // Another invocation already read a newer value.
            return Ok(Some(current.clone()));
        }
        if matches!(self.source, SecretSource::Literal(_)) || self.read_recently(&state) {
            return Ok(None);
        }
        let fresh = self.read(&mut state, parameters, deadline).await?;
        Ok((fresh.expose_secret() != refused.expose_secret()).then_some(fresh))
    }

    async fn read(
        &self,
        state: &mut State,
        parameters: &impl Parameters,
        deadline: Deadline,
    ) -> Result<SecretString, ParameterError> {
        let value = match &self.source {
            SecretSource::Literal(value) => value.clone(),
            SecretSource::Parameter(name) => {
                state.read_at = Some(Instant::now());
                let read = parameters.read(name, deadline).await;
                state.failed = read.as_ref().err().cloned();
                let value = read?;
                tracing::info!(parameter = %name, "read the {} from SSM", self.what);
                SecretString::from(value.trim().to_owned())
            }
        };
        state.value = Some(value.clone());
        Ok(value)
    }
}

/// Secrets named in the settings or the routing document (webhook URLs), each made on first use.
#[derive(Debug, Default)]
pub struct Secrets {
    by_parameter: std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<Secret>>>,
}

impl Secrets {
    /// The secret in `parameter`. The map only holds parameters an operator named, so it stays small.
    pub fn get(&self, parameter: &str) -> std::sync::Arc<Secret> {
        self.by_parameter
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(parameter.to_owned())
            .or_insert_with(|| {
                std::sync::Arc::new(Secret::new(
                    "webhook URL",
                    SecretSource::Parameter(parameter.to_owned()),
                    Duration::ZERO,
                ))
            })
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::MemoryParameters;

    fn soon() -> Deadline {
        Deadline::after(Duration::from_secs(5))
    }

    /// A secret in the parameter `/k`, read again at most once a minute, as the receiver's keys are.
    fn keys_secret() -> Secret {
        Secret::new(
            "test secret",
            SecretSource::Parameter("/k".into()),
            Duration::from_secs(60),
        )
    }

    #[tokio::test]
    async fn read_once_then_again_only_when_refused_and_changed() {
        let parameters = MemoryParameters::default();
        let secret = Secret::new(
            "test secret",
            SecretSource::Parameter("/t".into()),
            Duration::ZERO,
        );
        assert!(matches!(
            secret.get(&parameters, soon()).await,
            Err(ParameterError::NotFound { .. })
        ));
        parameters.put("/t", " old \n");
        let old = secret.get(&parameters, soon()).await.unwrap();
        assert_eq!(old.expose_secret(), "old");
        secret.get(&parameters, soon()).await.unwrap();
        assert_eq!(parameters.reads(), 2, "one failed read, one that is kept");

        assert!(
            secret
                .refresh(&parameters, &old, soon())
                .await
                .unwrap()
                .is_none()
        );
        parameters.put("/t", "new");
        let new = secret
            .refresh(&parameters, &old, soon())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(new.expose_secret(), "new");
        assert_eq!(
            secret
                .get(&parameters, soon())
                .await
                .unwrap()
                .expose_secret(),
            "new"
        );
        // A second refusal of the old value finds the new one without reading.
        let reads = parameters.reads();
        assert!(
            secret
                .refresh(&parameters, &old, soon())
                .await
                .unwrap()
                .is_some()
        );
        assert_eq!(parameters.reads(), reads);
    }

    #[tokio::test]
    async fn refreshes_are_rate_limited_and_literals_never_change() {
        let parameters = MemoryParameters::default();
        parameters.put("/k", "a");
        let secret = keys_secret();
        let a = secret.get(&parameters, soon()).await.unwrap();
        parameters.put("/k", "b");
        assert!(
            secret
                .refresh(&parameters, &a, soon())
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(parameters.reads(), 1);

        let literal = Secret::new(
            "test secret",
            SecretSource::Literal("x".into()),
            Duration::ZERO,
        );
        let x = literal.get(&parameters, soon()).await.unwrap();
        assert!(
            literal
                .refresh(&parameters, &x, soon())
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(literal.origin(), "the value set in the environment");
        let hidden = Secret::new(
            "test secret",
            SecretSource::Literal("xoxb-secret".into()),
            Duration::ZERO,
        );
        assert!(!format!("{hidden:?}").contains("xoxb-secret"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_refresh_counts_as_a_read() {
        let secret = keys_secret();
        let parameters = MemoryParameters::default();
        parameters.put("/k", "a");
        let a = secret.get(&parameters, soon()).await.unwrap();
        tokio::time::advance(Duration::from_secs(61)).await;
        // SSM fails (here: the parameter is gone); the next refusal within the minute reads nothing.
        let failing = MemoryParameters::default();
        assert!(secret.refresh(&failing, &a, soon()).await.is_err());
        assert!(
            secret
                .refresh(&failing, &a, soon())
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(failing.reads(), 1);
        tokio::time::advance(Duration::from_secs(61)).await;
        assert!(secret.refresh(&failing, &a, soon()).await.is_err());
        assert_eq!(failing.reads(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_secret_never_read_is_read_at_most_once_per_interval() {
        let secret = keys_secret();
        let parameters = MemoryParameters::default();
        for _ in 0..3 {
            assert!(matches!(
                secret.get(&parameters, soon()).await,
                Err(ParameterError::NotFound { .. })
            ));
        }
        assert_eq!(parameters.reads(), 1);
        parameters.put("/k", "a");
        tokio::time::advance(Duration::from_secs(61)).await;
        assert_eq!(
            secret
                .get(&parameters, soon())
                .await
                .unwrap()
                .expose_secret(),
            "a"
        );
        assert_eq!(parameters.reads(), 2);
    }
}
