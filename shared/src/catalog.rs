//! The service catalog's Owner IM per app, `<path>/<app>/owner-im` in SSM, cached and bounded.

use std::num::NonZeroUsize;
use std::time::Duration;

use crate::cache::{TtlCache, capacity};
use crate::deadline::Deadline;
use crate::params::{ParameterError, Parameters};

/// How long an answer from the catalog is trusted; a catalog change shows within this time.
pub const CATALOG_TTL: Duration = Duration::from_secs(300);
/// At most this many apps' answers (negative ones too) are kept, so random app names cannot grow memory
/// or the SSM bill without limit.
const CACHED_APPS: NonZeroUsize = capacity(500);
/// A slow catalog must not hold the message: past this, the static routes apply.
pub const CATALOG_BUDGET: Duration = Duration::from_secs(2);

#[derive(Debug)]
pub struct OwnerCatalog {
    path: String,
    owners: TtlCache<Option<String>>,
}

impl OwnerCatalog {
    pub fn new(path: String) -> Self {
        Self {
            path,
            owners: TtlCache::new(CACHED_APPS, CATALOG_TTL),
        }
    }

    /// The app's owner as written in the catalog, `None` when it names none. A catalog that cannot be
    /// read in time is logged and skipped (not cached), so the static routes still deliver.
    pub async fn owner(
        &self,
        parameters: &impl Parameters,
        app: &str,
        deadline: Deadline,
    ) -> Option<String> {
        if !is_parameter_segment(app) {
            tracing::warn!(
                app,
                "app name cannot be an SSM path segment; skipping the catalog"
            );
            return None;
        }
        if let Some(owner) = self.owners.get(app) {
            return owner;
        }
        let name = format!("{}/{app}/owner-im", self.path);
        let owner = match parameters
            .read(&name, deadline.within(CATALOG_BUDGET))
            .await
        {
            Ok(owner) => Some(owner.trim().to_owned()).filter(|o| !o.is_empty()),
            Err(ParameterError::NotFound { .. }) => None,
            Err(error) => {
                tracing::warn!(%error, "service catalog unavailable; using the static routes");
                return None;
            }
        };
        self.owners.put(app, owner.clone());
        owner
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::MemoryParameters;

    #[tokio::test]
    async fn owners_and_their_absence_are_cached_and_bounded() {
        let parameters = MemoryParameters::default();
        parameters.put("/catalog/web/owner-im", " #web-team ");
        let catalog = OwnerCatalog::new("/catalog".into());
        let deadline = Deadline::after(Duration::from_secs(5));
        assert_eq!(
            catalog.owner(&parameters, "web", deadline).await.as_deref(),
            Some("#web-team")
        );
        assert_eq!(
            catalog.owner(&parameters, "web", deadline).await.as_deref(),
            Some("#web-team")
        );
        assert_eq!(catalog.owner(&parameters, "nobody", deadline).await, None);
        assert_eq!(catalog.owner(&parameters, "nobody", deadline).await, None);
        assert_eq!(
            parameters.reads(),
            2,
            "one read per app, the negative answer too"
        );
        for n in 0..2 * CACHED_APPS.get() {
            catalog
                .owner(&parameters, &format!("random-{n}"), deadline)
                .await;
        }
        assert_eq!(catalog.owners.len(), CACHED_APPS.get());
        assert_eq!(catalog.owner(&parameters, "../etc", deadline).await, None);
    }
}
