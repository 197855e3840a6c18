//! The AWS SDK configuration, loaded once per container on first use and shared by every AWS client.

use std::sync::Arc;

use aws_config::{BehaviorVersion, SdkConfig};
use tokio::sync::OnceCell;

/// Loading reads the environment and resolves credentials; a function that never calls AWS never pays for it.
#[derive(Debug, Default)]
pub struct Aws {
    config: OnceCell<SdkConfig>,
}

impl Aws {
    pub async fn config(&self) -> &SdkConfig {
        self.config
            .get_or_init(|| async {
                // Honours AWS_ENDPOINT_URL, so a local emulator (moto) can stand in for SSM and DynamoDB.
                aws_config::defaults(BehaviorVersion::latest()).load().await
            })
            .await
    }
}

/// An SDK client made on first use from the shared configuration: a function that never calls this
/// service never builds its client.
#[derive(Debug)]
pub struct LazyClient<C> {
    aws: Arc<Aws>,
    build: fn(&SdkConfig) -> C,
    client: OnceCell<C>,
}

impl<C> LazyClient<C> {
    /// `build` is the SDK's `Client::new`.
    pub fn new(aws: Arc<Aws>, build: fn(&SdkConfig) -> C) -> Self {
        Self {
            aws,
            build,
            client: OnceCell::new(),
        }
    }

    pub async fn get(&self) -> &C {
        self.client
            .get_or_init(|| async { (self.build)(self.aws.config().await) })
            .await
    }
}
