//! The AWS SDK configuration, loaded once per container on first use and shared by every AWS client.

use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use tokio::sync::OnceCell;

/// Within a Lambda invocation a slow AWS call must fail fast enough to be retried or reported: SSM,
/// DynamoDB and EventBridge answer in milliseconds from inside the region, so a second to connect and
/// two per attempt leave room for one retry before the callers' own deadlines cut in.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
pub(crate) const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
const OPERATION_TIMEOUT: Duration = Duration::from_secs(5);
/// The first attempt and one retry: the standard mode's backoff, throttling included.
const MAX_ATTEMPTS: u32 = 2;

/// Loading reads the environment and resolves credentials; a function that never calls AWS never pays for it.
#[derive(Debug, Default)]
pub struct Aws {
    config: OnceCell<SdkConfig>,
}

impl Aws {
    /// A configuration made elsewhere (tests that point the SDK at a local emulator).
    pub fn from_config(config: SdkConfig) -> Self {
        Self {
            config: OnceCell::new_with(Some(config)),
        }
    }

    pub async fn config(&self) -> &SdkConfig {
        self.config
            .get_or_init(|| async {
                // Honours AWS_ENDPOINT_URL, so a local emulator (moto) can stand in for AWS.
                aws_config::defaults(BehaviorVersion::latest())
                    .timeout_config(
                        TimeoutConfig::builder()
                            .connect_timeout(CONNECT_TIMEOUT)
                            .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                            .operation_timeout(OPERATION_TIMEOUT)
                            .build(),
                    )
                    .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
                    .load()
                    .await
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
