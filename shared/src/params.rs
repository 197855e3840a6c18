//! Parameters from SSM Parameter Store behind a small trait, with the real client and an in-memory one.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use aws_sdk_ssm::error::{DisplayErrorContext, SdkError};
use aws_sdk_ssm::operation::get_parameter::GetParameterError;

use crate::aws::{Aws, LazyClient};
use crate::deadline::Deadline;

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ParameterError {
    #[error("SSM parameter `{name}` does not exist")]
    NotFound { name: String },
    /// The SDK's error context names the cause (access denied, no credentials, throttling); it holds no value.
    #[error("SSM parameter `{name}` could not be read: {reason}")]
    Unreadable { name: String, reason: String },
}

/// Reads one parameter, decrypted, within `deadline`.
pub trait Parameters: Send + Sync {
    fn read(
        &self,
        name: &str,
        deadline: Deadline,
    ) -> impl Future<Output = Result<String, ParameterError>> + Send;
}

/// SSM through the AWS SDK; the client is made on first use.
#[derive(Debug)]
pub struct Ssm {
    client: LazyClient<aws_sdk_ssm::Client>,
}

impl Ssm {
    pub fn new(aws: Arc<Aws>) -> Self {
        Self {
            client: LazyClient::new(aws, aws_sdk_ssm::Client::new),
        }
    }
}

impl Parameters for Ssm {
    async fn read(&self, name: &str, deadline: Deadline) -> Result<String, ParameterError> {
        let call = async {
            self.client
                .get()
                .await
                .get_parameter()
                .name(name)
                .with_decryption(true)
                .send()
                .await
        };
        let unreadable = |reason: String| ParameterError::Unreadable {
            name: name.to_owned(),
            reason,
        };
        let not_found = || ParameterError::NotFound {
            name: name.to_owned(),
        };
        match deadline.bound(call).await {
            Err(elapsed) => Err(unreadable(elapsed.to_string())),
            Ok(Ok(output)) => output.parameter.and_then(|p| p.value).ok_or_else(not_found),
            Ok(Err(SdkError::ServiceError(e)))
                if matches!(e.err(), GetParameterError::ParameterNotFound(_)) =>
            {
                Err(not_found())
            }
            Ok(Err(SdkError::TimeoutError(_))) => Err(unreadable(format!(
                "no answer within {:?}",
                crate::aws::ATTEMPT_TIMEOUT
            ))),
            Ok(Err(e)) => Err(unreadable(DisplayErrorContext(&e).to_string())),
        }
    }
}

/// Parameters held in memory, for unit tests and local runs; counts reads so tests can see caching.
#[derive(Debug, Default)]
pub struct MemoryParameters {
    values: Mutex<HashMap<String, String>>,
    reads: Mutex<usize>,
}

impl MemoryParameters {
    pub fn put(&self, name: &str, value: &str) {
        self.values
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_owned(), value.to_owned());
    }

    pub fn reads(&self) -> usize {
        *self.reads.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Parameters for MemoryParameters {
    async fn read(&self, name: &str, _deadline: Deadline) -> Result<String, ParameterError> {
        *self.reads.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        let values = self.values.lock().unwrap_or_else(|p| p.into_inner());
        values
            .get(name)
            .cloned()
            .ok_or_else(|| ParameterError::NotFound {
                name: name.to_owned(),
            })
    }
}

impl<P: Parameters> Parameters for Arc<P> {
    fn read(
        &self,
        name: &str,
        deadline: Deadline,
    ) -> impl Future<Output = Result<String, ParameterError>> + Send {
        (**self).read(name, deadline)
    }
}
