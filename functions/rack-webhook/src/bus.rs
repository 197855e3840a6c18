//! The EventBridge bus behind a small trait: the real PutEvents, and an in-memory bus for tests.

use std::future::Future;
use std::sync::Arc;

use aws_sdk_eventbridge::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_eventbridge::primitives::DateTime;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use chrono::Utc;
use shared::aws::{Aws, LazyClient};
use shared::deadline::Deadline;

/// One event for PutEvents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    pub bus: &'a str,
    pub source: &'a str,
    pub detail_type: &'a str,
    pub detail: &'a str,
    pub time: Option<chrono::DateTime<Utc>>,
}

/// EventBridge's limit on an entry.
pub const MAX_ENTRY: usize = 256 * 1024;

impl Entry<'_> {
    /// The entry's size as EventBridge reckons it against [`MAX_ENTRY`]: 14 bytes for a time, then the
    /// UTF-8 bytes of the source, detail-type and detail.
    pub fn size(&self) -> usize {
        let time = if self.time.is_some() { 14 } else { 0 };
        time + self.source.len() + self.detail_type.len() + self.detail.len()
    }
}

/// Why an event is not on the bus. Neither variant carries the event's detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BusError {
    /// The call succeeded and the entry was refused (`FailedEntryCount` 1).
    #[error("EventBridge refused the entry: {code}: {message}")]
    Refused { code: String, message: String },
    /// The call itself failed: no answer in time, throttling, access denied, no such bus.
    #[error("PutEvents failed: {reason}")]
    Failed { code: String, reason: String },
}

impl BusError {
    /// EventBridge's error code, or what stood in for one (`Timeout`, `DispatchFailure`).
    pub fn code(&self) -> &str {
        match self {
            Self::Refused { code, .. } | Self::Failed { code, .. } => code,
        }
    }
}

/// Puts one event on the bus within `deadline`, returning EventBridge's id for it.
pub trait Bus: Send + Sync {
    fn put(
        &self,
        entry: &Entry<'_>,
        deadline: Deadline,
    ) -> impl Future<Output = Result<String, BusError>> + Send;
}

/// EventBridge through the AWS SDK; the client is made on first use.
#[derive(Debug)]
pub struct EventBridge {
    client: LazyClient<aws_sdk_eventbridge::Client>,
}

impl EventBridge {
    pub fn new(aws: Arc<Aws>) -> Self {
        Self {
            client: LazyClient::new(aws, aws_sdk_eventbridge::Client::new),
        }
    }
}

impl Bus for EventBridge {
    async fn put(&self, entry: &Entry<'_>, deadline: Deadline) -> Result<String, BusError> {
        let request = PutEventsRequestEntry::builder()
            .event_bus_name(entry.bus)
            .source(entry.source)
            .detail_type(entry.detail_type)
            .detail(entry.detail)
            .set_time(
                entry
                    .time
                    .map(|t| DateTime::from_millis(t.timestamp_millis())),
            )
            .build();
        let call = async {
            self.client
                .get()
                .await
                .put_events()
                .entries(request)
                .send()
                .await
        };
        let output = match deadline.bound(call).await {
            Ok(Ok(output)) => output,
            Ok(Err(e)) => {
                let code = match &e {
                    SdkError::TimeoutError(_) => "Timeout",
                    SdkError::DispatchFailure(_) => "DispatchFailure",
                    _ => e.code().unwrap_or("Unknown"),
                };
                return Err(BusError::Failed {
                    code: code.to_owned(),
                    reason: DisplayErrorContext(&e).to_string(),
                });
            }
            Err(elapsed) => {
                return Err(BusError::Failed {
                    code: "Timeout".to_owned(),
                    reason: elapsed.to_string(),
                });
            }
        };
        let result = output.entries().first();
        match result.and_then(|r| r.event_id()) {
            Some(id) if output.failed_entry_count() == 0 => Ok(id.to_owned()),
            _ => Err(BusError::Refused {
                code: result
                    .and_then(|r| r.error_code())
                    .unwrap_or("Unknown")
                    .to_owned(),
                message: result
                    .and_then(|r| r.error_message())
                    .unwrap_or("FailedEntryCount is not 0 and no entry says why")
                    .to_owned(),
            }),
        }
    }
}

#[cfg(test)]
pub(crate) mod memory {
    use std::sync::Mutex;

    use super::*;

    /// A bus in memory: what was put on it, or the failure it was told to answer with.
    #[derive(Debug, Default)]
    pub(crate) struct MemoryBus {
        pub(crate) events: Mutex<Vec<Put>>,
        pub(crate) failure: Mutex<Option<BusError>>,
    }

    #[derive(Debug, Clone, PartialEq, Eq)]
    pub(crate) struct Put {
        pub(crate) bus: String,
        pub(crate) source: String,
        pub(crate) detail_type: String,
        pub(crate) detail: String,
        pub(crate) time: Option<chrono::DateTime<Utc>>,
    }

    impl MemoryBus {
        pub(crate) fn events(&self) -> Vec<Put> {
            self.events.lock().unwrap().clone()
        }
    }

    impl Bus for MemoryBus {
        async fn put(&self, entry: &Entry<'_>, _deadline: Deadline) -> Result<String, BusError> {
            if let Some(failure) = self.failure.lock().unwrap().clone() {
                return Err(failure);
            }
            let mut events = self.events.lock().unwrap();
            events.push(Put {
                bus: entry.bus.to_owned(),
                source: entry.source.to_owned(),
                detail_type: entry.detail_type.to_owned(),
                detail: entry.detail.to_owned(),
                time: entry.time,
            });
            Ok(format!("memory-{}", events.len()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_sized_as_eventbridge_sizes_it() {
        let entry = Entry {
            bus: "b",
            source: "convox.rack",
            detail_type: "app:create",
            detail: r#"{"action":"app:create","data":{"name":"café"}}"#,
            time: None,
        };
        assert_eq!(entry.size(), 11 + 10 + 47);
        let timed = Entry {
            time: Some(Utc::now()),
            ..entry
        };
        assert_eq!(timed.size(), 14 + 11 + 10 + 47);
    }
}
