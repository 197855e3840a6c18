//! Idempotent delivery: one DynamoDB item per (event, destination) claims a post before it is made and
//! records what became of it, so EventBridge's and Lambda's repeats post nothing twice and lose nothing.
//!
//! An item's `state` is `pending` (claimed, lease until `lease_until`), `delivered` (with the post's
//! `channel` and `message_id`) or `refused` (the destination was unusable and the message went to the
//! default channel; `code` says why). DynamoDB's TTL removes items after `expires_at`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use tokio::time::Instant;

use crate::aws::{Aws, LazyClient};
use crate::deliver::Receipt;
use crate::event::NO_ID;
use crate::route::Destination;

/// Records outlive EventBridge's 24-hour retries and Lambda's 6-hour event age, with room to spare.
const KEEP: Duration = Duration::from_secs(7 * 24 * 3600);
/// A claim lasts until its holder's deadline plus this allowance for clocks that differ between hosts.
/// Past it, Lambda has ended the holder, so a retry may claim again; tied to the deadline, the lease
/// follows whatever timeout the function is given.
const LEASE_SLACK: Duration = Duration::from_secs(5);
/// How long a repeat waits for a concurrent holder to finish before failing for Lambda to retry later.
const WAIT_MAX: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(250);
/// Kept back from the invocation's deadline, so a failure can still be reported to Lambda.
const MARGIN: Duration = Duration::from_millis(500);
/// Kept back from the post's deadline, so its outcome can still be recorded.
pub const RECORD_TIME: Duration = Duration::from_secs(1);
/// DynamoDB allows 2048-byte partition keys; EventBridge ids are 36-character UUIDs.
const KEY_MAX: usize = 1024;

const PENDING: &str = "pending";
const DELIVERED: &str = "delivered";
const REFUSED: &str = "refused";

/// No item yet, or a claim whose holder is past its deadline.
const CLAIMABLE: &str = "attribute_not_exists(pk) OR (#state = :pending AND #lease < :now)";

/// The identity of one delivery, `<event id>#<destination>`. `None` for an event without a usable id:
/// every id-less event would otherwise count as a repeat of the first.
pub fn delivery_key(event_id: &str, to: &Destination) -> Option<String> {
    let event_id = event_id.trim();
    if event_id.is_empty() || event_id == NO_ID {
        return None;
    }
    let key = format!("{event_id}#{to}");
    (key.len() <= KEY_MAX).then_some(key)
}

/// What the table says about a delivery this invocation wants to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This invocation holds the delivery: post, then record the outcome.
    Claimed,
    /// An earlier invocation posted it; the receipt is that post's.
    Delivered(Receipt),
    /// An earlier invocation found the destination unusable (provider error `code`) and sent the message
    /// to the default channel instead.
    Refused { code: String },
}

#[derive(Debug, thiserror::Error)]
pub enum DedupeError {
    /// The SDK's error context names the cause (unreachable, access denied, no such table).
    #[error("deduplication table `{table}`: {reason}")]
    Table { table: String, reason: String },
    #[error(
        "delivery `{key}` is being made by another invocation (claim in table `{table}`); retry later"
    )]
    InProgress { table: String, key: String },
}

/// The table and a DynamoDB client made on first use, from the configuration SSM shares.
#[derive(Debug)]
pub struct Dedupe {
    table: String,
    client: LazyClient<aws_sdk_dynamodb::Client>,
}

impl Dedupe {
    pub fn new(table: String, aws: Arc<Aws>) -> Self {
        Self {
            table,
            client: LazyClient::new(aws, aws_sdk_dynamodb::Client::new),
        }
    }

    /// Claims the delivery `key`. While a concurrent invocation holds it, waits up to `WAIT_MAX` for its
    /// outcome: repeats from EventBridge usually arrive together and the holder finishes within a second,
    /// so waiting spares a failed invocation and a retry a minute later. A holder still busy after that
    /// (slowed by rate limits, or gone) makes this invocation fail with `InProgress` for Lambda to retry.
    pub async fn claim(&self, key: &str, deadline: Instant) -> Result<Claim, DedupeError> {
        let give_up =
            (Instant::now() + WAIT_MAX).min(deadline.checked_sub(MARGIN).unwrap_or(deadline));
        let mut waiting = false;
        loop {
            if let Some(claim) = self.try_claim(key, deadline).await? {
                return Ok(claim);
            }
            if Instant::now() + POLL >= give_up {
                return Err(DedupeError::InProgress {
                    table: self.table.clone(),
                    key: key.to_owned(),
                });
            }
            if !waiting {
                tracing::info!(key, table = %self.table, "another invocation holds this delivery; waiting for its outcome");
                waiting = true;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// One conditional put; `None` while another invocation holds the claim.
    async fn try_claim(&self, key: &str, deadline: Instant) -> Result<Option<Claim>, DedupeError> {
        let now = SystemTime::now();
        let lease_until = now + deadline.saturating_duration_since(Instant::now()) + LEASE_SLACK;
        let request = self
            .client
            .get()
            .await
            .put_item()
            .table_name(&self.table)
            .item("pk", s(key))
            .item("state", s(PENDING))
            .item("claimed_at", n(epoch(now).as_millis()))
            .item("lease_until", n(epoch(lease_until).as_millis()))
            .item("expires_at", n(epoch(now + KEEP).as_secs()))
            .condition_expression(CLAIMABLE)
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#lease", "lease_until")
            .expression_attribute_values(":pending", s(PENDING))
            .expression_attribute_values(":now", n(epoch(now).as_millis()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send();
        match self.bounded(request, deadline).await? {
            Ok(_) => Ok(Some(Claim::Claimed)),
            Err(SdkError::ServiceError(failure)) => match failure.into_err() {
                PutItemError::ConditionalCheckFailedException(failed) => {
                    self.existing(key, failed.item())
                }
                other => Err(self.unavailable(other)),
            },
            Err(error) => Err(self.unavailable(error)),
        }
    }

    /// Reads the item a failed claim returned.
    fn existing(
        &self,
        key: &str,
        item: Option<&HashMap<String, AttributeValue>>,
    ) -> Result<Option<Claim>, DedupeError> {
        let text = |name: &str| {
            item.and_then(|item| item.get(name))
                .and_then(|value| value.as_s().ok())
                .cloned()
        };
        match text("state").as_deref() {
            Some(PENDING) => Ok(None),
            Some(DELIVERED) => Ok(Some(Claim::Delivered(Receipt {
                channel: text("channel").unwrap_or_default(),
                message_id: text("message_id").unwrap_or_default(),
            }))),
            Some(REFUSED) => Ok(Some(Claim::Refused {
                code: text("code").unwrap_or_default(),
            })),
            other => Err(DedupeError::Table {
                table: self.table.clone(),
                reason: match other {
                    Some(state) => format!("item `{key}` has an unknown state `{state}`"),
                    None => format!("item `{key}` exists but its state was not returned"),
                },
            }),
        }
    }

    /// Records the post, so repeats skip it.
    pub async fn delivered(
        &self,
        key: &str,
        receipt: &Receipt,
        deadline: Instant,
    ) -> Result<(), DedupeError> {
        self.update(
            key,
            "SET #state = :state, #channel = :channel, #message = :message, #at = :at",
            &[
                ("#channel", "channel"),
                ("#message", "message_id"),
                ("#at", "delivered_at"),
            ],
            vec![
                (":state", s(DELIVERED)),
                (":channel", s(&receipt.channel)),
                (":message", s(&receipt.message_id)),
                (":at", n(epoch(SystemTime::now()).as_millis())),
            ],
            deadline,
        )
        .await
    }

    /// Records that the destination refused (provider error `code`) and the default channel takes over,
    /// so a retry goes straight there.
    pub async fn refused(
        &self,
        key: &str,
        code: &str,
        deadline: Instant,
    ) -> Result<(), DedupeError> {
        self.update(
            key,
            "SET #state = :state, #code = :code",
            &[("#code", "code")],
            vec![(":state", s(REFUSED)), (":code", s(code))],
            deadline,
        )
        .await
    }

    async fn update(
        &self,
        key: &str,
        expression: &str,
        names: &[(&str, &str)],
        values: Vec<(&str, AttributeValue)>,
        deadline: Instant,
    ) -> Result<(), DedupeError> {
        let mut request = self
            .client
            .get()
            .await
            .update_item()
            .table_name(&self.table)
            .key("pk", s(key))
            .update_expression(expression)
            .expression_attribute_names("#state", "state");
        for (placeholder, name) in names {
            request = request.expression_attribute_names(*placeholder, *name);
        }
        for (placeholder, value) in values {
            request = request.expression_attribute_values(placeholder, value);
        }
        self.bounded(request.send(), deadline)
            .await?
            .map(drop)
            .map_err(|error| self.unavailable(error))
    }

    /// Gives up a claim after a failed post, so a retry can try again. Only a `pending` item is removed:
    /// a recorded delivery is never forgotten.
    pub async fn release(&self, key: &str, deadline: Instant) -> Result<(), DedupeError> {
        let request = self
            .client
            .get()
            .await
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(key))
            .condition_expression("#state = :pending")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":pending", s(PENDING))
            .send();
        match self.bounded(request, deadline).await? {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(failure))
                if matches!(
                    failure.err(),
                    DeleteItemError::ConditionalCheckFailedException(_)
                ) =>
            {
                Ok(())
            }
            Err(error) => Err(self.unavailable(error)),
        }
    }

    /// The SDK has no overall timeout by default: an endpoint that never answers must not outlive the
    /// invocation, which would then end as a Lambda timeout instead of an error naming the table.
    async fn bounded<T>(
        &self,
        call: impl Future<Output = T>,
        deadline: Instant,
    ) -> Result<T, DedupeError> {
        let until = deadline.checked_sub(MARGIN).unwrap_or(deadline);
        tokio::time::timeout_at(until, call)
            .await
            .map_err(|_| DedupeError::Table {
                table: self.table.clone(),
                reason: "no answer before the invocation's deadline".into(),
            })
    }

    fn unavailable(&self, error: impl std::error::Error) -> DedupeError {
        DedupeError::Table {
            table: self.table.clone(),
            reason: DisplayErrorContext(&error).to_string(),
        }
    }
}

fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_owned())
}

fn n(number: impl std::fmt::Display) -> AttributeValue {
    AttributeValue::N(number.to_string())
}

/// Time since the epoch; a clock before 1970 reads as the epoch rather than failing.
fn epoch(time: SystemTime) -> Duration {
    time.duration_since(UNIX_EPOCH).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_the_event_and_the_destination() {
        let general = Destination::Channel("general".into());
        assert_eq!(
            delivery_key("0f2a-uuid", &general).as_deref(),
            Some("0f2a-uuid##general")
        );
        assert_eq!(
            delivery_key(" ev-1 ", &Destination::User("U0123".into())).as_deref(),
            Some("ev-1#@U0123")
        );
    }

    #[test]
    fn events_without_a_usable_id_are_not_deduplicated() {
        let general = Destination::Channel("general".into());
        assert_eq!(delivery_key(NO_ID, &general), None);
        assert_eq!(delivery_key("  ", &general), None);
        assert_eq!(delivery_key(&"x".repeat(2_000), &general), None);
    }
}
