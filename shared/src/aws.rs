//! The AWS SDK configuration, loaded once per container on first use and shared by every AWS client.

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
