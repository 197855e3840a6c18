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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::destination::Provider;
    use crate::params::MemoryParameters;

    fn source() -> RoutesSource {
        let context = Context {
            default_provider: Provider::Slack,
            tokens: vec![Provider::Slack],
            webhook_path: None,
        };
        RoutesSource::parameter("/routes".into(), context)
    }

    async fn names(source: &RoutesSource, parameters: &MemoryParameters) -> Option<Vec<String>> {
        let deadline = Deadline::after(Duration::from_secs(10));
        let document = source.current(parameters, deadline).await?;
        Some(document.routes.iter().map(|r| r.name.clone()).collect())
    }

    #[tokio::test(start_paused = true)]
    async fn a_change_shows_within_the_reload_time_and_a_broken_one_never_does() {
        let parameters = MemoryParameters::default();
        let source = source();
        assert_eq!(
            names(&source, &parameters).await,
            None,
            "no parameter yet: the seed's settings"
        );
        tokio::time::advance(RETRY).await;
        parameters.put("/routes", "routes: [{name: a, to: ['#a']}]");
        assert_eq!(
            names(&source, &parameters).await,
            Some(vec!["a".to_owned()])
        );

        parameters.put("/routes", "routes: [{name: b, to: ['#b']}]");
        assert_eq!(
            names(&source, &parameters).await,
            Some(vec!["a".to_owned()]),
            "read again only when due"
        );
        tokio::time::advance(RELOAD).await;
        assert_eq!(
            names(&source, &parameters).await,
            Some(vec!["b".to_owned()])
        );

        parameters.put("/routes", "routes: [{name: c, to: ['@nobody']}]");
        tokio::time::advance(RELOAD).await;
        assert_eq!(
            names(&source, &parameters).await,
            Some(vec!["b".to_owned()]),
            "the last good one stays"
        );
        let reads = parameters.reads();
        assert_eq!(
            names(&source, &parameters).await,
            Some(vec!["b".to_owned()])
        );
        assert_eq!(
            parameters.reads(),
            reads,
            "a broken document is not read again before it is due"
        );
    }
}
