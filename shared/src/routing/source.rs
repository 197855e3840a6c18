//! Where the routing document comes from: the environment (fixed), or an SSM parameter read again every
//! few minutes, so that a change takes effect without a redeploy and a broken one never does.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use super::{Context, RoutingDocument};
use crate::deadline::Deadline;
use crate::metrics::{Metric, count};
use crate::params::Parameters;

/// How long a document read from SSM is used before it is read again.
pub const RELOAD: Duration = Duration::from_secs(300);
/// A read that failed is tried again sooner.
const RETRY: Duration = Duration::from_secs(30);
/// A slow parameter store must not hold the message: the last good document stays in force meanwhile.
const READ_BUDGET: Duration = Duration::from_secs(2);

#[derive(Debug)]
pub enum RoutesSource {
    /// No document: the seed's settings route everything.
    None,
    /// From `NOTIFICATIONS_ROUTES`, checked at start.
    Fixed(Arc<RoutingDocument>),
    /// From `NOTIFICATIONS_ROUTES_PARAMETER`.
    Parameter {
        name: String,
        context: Context,
        loaded: Mutex<Loaded>,
    },
}

#[derive(Debug, Default)]
pub struct Loaded {
    document: Option<Arc<RoutingDocument>>,
    text: Option<String>,
    next_read: Option<Instant>,
}

impl RoutesSource {
    pub fn parameter(name: String, context: Context) -> Self {
        Self::Parameter {
            name,
            context,
            loaded: Mutex::default(),
        }
    }

    /// The document in force, reading the parameter when it is due.
    pub async fn current(
        &self,
        parameters: &impl Parameters,
        deadline: Deadline,
    ) -> Option<Arc<RoutingDocument>> {
        let (name, context, loaded) = match self {
            Self::None => return None,
            Self::Fixed(document) => return Some(document.clone()),
            Self::Parameter {
                name,
                context,
                loaded,
            } => (name, context, loaded),
        };
        let mut loaded = loaded.lock().await;
        if loaded.next_read.is_some_and(|at| Instant::now() < at) {
            return loaded.document.clone();
        }
        match parameters.read(name, deadline.within(READ_BUDGET)).await {
            Ok(text) if loaded.text.as_ref() == Some(&text) => {
                loaded.next_read = Some(Instant::now() + RELOAD);
            }
            Ok(text) => {
                let origin = format!("SSM parameter `{name}`");
                match RoutingDocument::parse(&text, &origin, context) {
                    Ok(document) => {
                        tracing::info!(parameter = %name, routes = document.routes.len(), "routing document in force");
                        loaded.document = Some(Arc::new(document));
                        loaded.text = Some(text);
                        loaded.next_read = Some(Instant::now() + RELOAD);
                    }
                    Err(error) => {
                        count(Metric::RoutesInvalid);
                        tracing::error!(%error, kept = loaded.document.is_some(), "routing document refused; the last good one stays in force (the seed's settings if none)");
                        // The same broken text is not parsed again until it changes.
                        loaded.text = Some(text);
                        loaded.next_read = Some(Instant::now() + RELOAD);
                    }
                }
            }
            Err(error) => {
                tracing::warn!(%error, "routing document unreadable; the last good one stays in force");
                loaded.next_read = Some(Instant::now() + RETRY);
            }
        }
        loaded.document.clone()
    }
}
