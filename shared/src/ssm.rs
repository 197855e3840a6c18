//! SSM Parameter Store: the bot token (read once per container) and the service catalog's owners.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_ssm::error::{DisplayErrorContext, SdkError};
use aws_sdk_ssm::operation::get_parameter::GetParameterError;
use secrecy::SecretString;
use tokio::sync::OnceCell;
use tokio::time::Instant;

use crate::aws::{Aws, LazyClient};
use crate::config::TokenSource;

/// An SSM client made on first use: functions that never read SSM never load the AWS configuration.
#[derive(Debug)]
pub struct Ssm {
    client: LazyClient<aws_sdk_ssm::Client>,
}

#[derive(Debug, thiserror::Error)]
pub enum SsmError {
    #[error("SSM parameter `{name}` does not exist")]
    NotFound { name: String },
    /// The SDK's error context names the cause (access denied, no credentials, throttling); it holds no value.
    #[error("SSM parameter `{name}` could not be read: {reason}")]
    Unreadable { name: String, reason: String },
}

impl Ssm {
    pub fn new(aws: Arc<Aws>) -> Self {
        Self {
            client: LazyClient::new(aws, aws_sdk_ssm::Client::new),
        }
    }

    /// Reads and decrypts one parameter.
    pub async fn parameter(&self, name: &str) -> Result<String, SsmError> {
        let answer = self
            .client
            .get()
            .await
            .get_parameter()
            .name(name)
            .with_decryption(true)
            .send()
            .await;
        match answer {
            Ok(output) => {
                output
                    .parameter
                    .and_then(|p| p.value)
                    .ok_or_else(|| SsmError::NotFound {
                        name: name.to_owned(),
                    })
            }
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), GetParameterError::ParameterNotFound(_)) =>
            {
                Err(SsmError::NotFound {
                    name: name.to_owned(),
                })
            }
            Err(e) => Err(SsmError::Unreadable {
                name: name.to_owned(),
                reason: DisplayErrorContext(&e).to_string(),
            }),
        }
    }
}

/// The bot token, fetched once per container and kept for every later invocation.
#[derive(Debug)]
pub struct Token {
    source: TokenSource,
    cached: OnceCell<SecretString>,
}

impl Token {
    pub fn new(source: TokenSource) -> Self {
        Self {
            source,
            cached: OnceCell::new(),
        }
    }

    /// A failed read is not cached, so the next invocation tries again.
    pub async fn get(&self, ssm: &Ssm) -> Result<&SecretString, SsmError> {
        self.cached
            .get_or_try_init(|| async {
                match &self.source {
                    TokenSource::Literal(token) => Ok(token.clone()),
                    TokenSource::Parameter(name) => {
                        let token = ssm.parameter(name).await?;
                        tracing::info!(parameter = %name, "read the bot token from SSM");
                        Ok(SecretString::from(token.trim().to_owned()))
                    }
                }
            })
            .await
    }
}

/// How long an owner read from the catalog is trusted; a catalog change shows within this time.
pub const CATALOG_TTL: Duration = Duration::from_secs(300);

/// The service catalog's Owner IM per app, read from `<path>/<app>/owner-im` and cached for `CATALOG_TTL`.
#[derive(Debug)]
pub struct OwnerCatalog {
    path: String,
    cache: Mutex<HashMap<String, (Instant, Option<String>)>>,
}

impl OwnerCatalog {
    pub fn new(path: String) -> Self {
        Self {
            path,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The app's owner, `None` when the catalog names none. A catalog that cannot be read is logged and
    /// skipped, so the static routes still deliver.
    pub async fn owner(&self, ssm: &Ssm, app: &str) -> Option<String> {
        if !is_parameter_segment(app) {
            tracing::warn!(
                app,
                "app name cannot be an SSM path segment; skipping the catalog"
            );
            return None;
        }
        if let Some((read_at, owner)) = self.lock().get(app)
            && read_at.elapsed() < CATALOG_TTL
        {
            return owner.clone();
        }
        let name = format!("{}/{app}/owner-im", self.path);
        let owner = match ssm.parameter(&name).await {
            Ok(owner) => Some(owner.trim().to_owned()).filter(|o| !o.is_empty()),
            Err(SsmError::NotFound { .. }) => None,
            Err(error) => {
                tracing::warn!(%error, "service catalog unavailable; using the static routes");
                return None;
            }
        };
        self.lock()
            .insert(app.to_owned(), (Instant::now(), owner.clone()));
        owner
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Option<String>)>> {
        // A poisoned lock only means another thread panicked mid-insert; the map is still usable.
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// SSM parameter names allow letters, digits and `_.-` between the slashes.
fn is_parameter_segment(app: &str) -> bool {
    !app.is_empty()
        && app.len() <= 200
        && app
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}
