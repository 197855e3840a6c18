//! The ledger in DynamoDB: one item per delivery and one per lane, every write conditional.
//!
//! A delivery item's `state` is `pending` (claimed by `owner` until `lease_until`), `delivered` (with the
//! post's `channel` and `message_id`) or `refused` (`code` says why). A lane item (`lane#<provider>:<place>`)
//! holds `next`, the lane's next free slot. DynamoDB's TTL removes items after `expires_at`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};

use super::{
    Claim, Claims, KEEP, Lanes, LedgerError, Lock, Outcome, Owner, Threads, epoch_millis,
    from_epoch_millis,
};
use crate::aws::{Aws, LazyClient};
use crate::deadline::Deadline;
use crate::destination::Receipt;

const PENDING: &str = "pending";
const DELIVERED: &str = "delivered";
const REFUSED: &str = "refused";
/// No item yet, or a claim whose lease has ended.
const CLAIMABLE: &str = "attribute_not_exists(pk) OR (#state = :pending AND #lease < :now)";
/// Every write after the claim: still pending, still ours.
const OWNED: &str = "#state = :pending AND #owner = :owner";
/// A lane's schedule is only worth keeping while it is busy.
const LANE_KEEP: Duration = Duration::from_secs(24 * 3600);
/// Two containers racing for a lane's slot retry this often before posting unpaced.
const LANE_ATTEMPTS: usize = 4;

type Item = HashMap<String, AttributeValue>;

#[derive(Debug)]
pub struct DynamoLedger {
    table: String,
    client: LazyClient<aws_sdk_dynamodb::Client>,
}

impl DynamoLedger {
    pub fn new(table: String, aws: Arc<Aws>) -> Self {
        Self {
            table,
            client: LazyClient::new(aws, aws_sdk_dynamodb::Client::new),
        }
    }

    /// Runs one call within the deadline; `Ok(Err(item))` when its condition failed, with the item as it
    /// was when the call asked for it.
    async fn conditional<T, E>(
        &self,
        deadline: Deadline,
        call: impl Future<Output = Result<T, SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>>>,
        failed_item: impl Fn(&E) -> Option<Option<Item>>,
    ) -> Result<Result<T, Option<Item>>, LedgerError>
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        match deadline.bound(call).await {
            Err(elapsed) => Err(self.unavailable(elapsed.to_string())),
            Ok(Ok(output)) => Ok(Ok(output)),
            Ok(Err(SdkError::ServiceError(failure))) => match failed_item(failure.err()) {
                Some(item) => Ok(Err(item)),
                None => Err(self
                    .unavailable(DisplayErrorContext(SdkError::ServiceError(failure)).to_string())),
            },
            Ok(Err(SdkError::TimeoutError(_))) => Err(self.unavailable(format!(
                "no answer within {:?}",
                crate::aws::ATTEMPT_TIMEOUT
            ))),
            Ok(Err(error)) => Err(self.unavailable(DisplayErrorContext(&error).to_string())),
        }
    }

    /// A write conditional on still owning `key`: `Lost` when its condition failed, because the lease
    /// ended and another invocation took the item over.
    async fn owned_write<T, E>(
        &self,
        key: &str,
        deadline: Deadline,
        call: impl Future<Output = Result<T, SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>>>,
    ) -> Result<(), LedgerError>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let answer = self.conditional(deadline, call, condition_failed).await?;
        answer.map(drop).map_err(|_| LedgerError::Lost {
            key: key.to_owned(),
        })
    }

    /// An `UpdateItem` of the item `key`.
    async fn update(&self, key: &str) -> UpdateItemFluentBuilder {
        self.client
            .get()
            .await
            .update_item()
            .table_name(&self.table)
            .key("pk", s(key))
    }

    fn unavailable(&self, reason: String) -> LedgerError {
        LedgerError::Table {
            table: self.table.clone(),
            reason,
        }
    }

    fn read_claim(&self, key: &str, item: Option<&Item>) -> Result<Claim, LedgerError> {
        let text = |name: &str| {
            item.and_then(|item| item.get(name))
                .and_then(|value| value.as_s().ok())
                .cloned()
        };
        match text("state").as_deref() {
            Some(PENDING) => Ok(Claim::Held),
            Some(DELIVERED) => Ok(Claim::Delivered(Receipt {
                channel: text("channel").unwrap_or_default(),
                message_id: text("message_id").unwrap_or_default(),
            })),
            Some(REFUSED) => Ok(Claim::Refused {
                code: text("code").unwrap_or_default(),
            }),
            other => Err(self.unavailable(match other {
                Some(state) => format!("item `{key}` has an unknown state `{state}`"),
                None => format!("item `{key}` exists but its state was not returned"),
            })),
        }
    }
}

impl Claims for DynamoLedger {
    async fn claim(
        &self,
        key: &str,
        owner: &Owner,
        deadline: Deadline,
    ) -> Result<Claim, LedgerError> {
        let now = SystemTime::now();
        let request = self
            .client
            .get()
            .await
            .put_item()
            .table_name(&self.table)
            .item("pk", s(key))
            .item("state", s(PENDING))
            .item("owner", s(&owner.id))
            .item("claimed_at", n(epoch_millis(now)))
            .item("lease_until", n(epoch_millis(owner.lease_until)))
            .item("expires_at", n(epoch_millis(now + KEEP) / 1000))
            .condition_expression(CLAIMABLE)
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#lease", "lease_until")
            .expression_attribute_values(":pending", s(PENDING))
            .expression_attribute_values(":now", n(epoch_millis(now)))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send();
        let answer = self
            .conditional(deadline, request, |e| match e {
                PutItemError::ConditionalCheckFailedException(failed) => {
                    Some(failed.item().cloned())
                }
                _ => None,
            })
            .await?;
        match answer {
            Ok(_) => Ok(Claim::Claimed),
            Err(item) => self.read_claim(key, item.as_ref()),
        }
    }

    async fn settle(
        &self,
        key: &str,
        owner: &Owner,
        outcome: Outcome<'_>,
        deadline: Deadline,
    ) -> Result<(), LedgerError> {
        let request = self
            .update(key)
            .await
            .condition_expression(OWNED)
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":pending", s(PENDING))
            .expression_attribute_values(":owner", s(&owner.id))
            .expression_attribute_names("#at", "settled_at")
            .expression_attribute_values(":at", n(epoch_millis(SystemTime::now())));
        let request = match outcome {
            Outcome::Delivered(receipt) => request
                .update_expression(
                    "SET #state = :state, #channel = :channel, #message = :message, #at = :at",
                )
                .expression_attribute_names("#channel", "channel")
                .expression_attribute_names("#message", "message_id")
                .expression_attribute_values(":state", s(DELIVERED))
                .expression_attribute_values(":channel", s(&receipt.channel))
                .expression_attribute_values(":message", s(&receipt.message_id)),
            Outcome::Refused { code } => request
                .update_expression("SET #state = :state, #code = :code, #at = :at")
                .expression_attribute_names("#code", "code")
                .expression_attribute_values(":state", s(REFUSED))
                .expression_attribute_values(":code", s(code)),
        };
        self.owned_write(key, deadline, request.send()).await
    }

    async fn release(
        &self,
        key: &str,
        owner: &Owner,
        deadline: Deadline,
    ) -> Result<(), LedgerError> {
        let request = self
            .client
            .get()
            .await
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(key))
            .condition_expression(OWNED)
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":pending", s(PENDING))
            .expression_attribute_values(":owner", s(&owner.id))
            .send();
        // Not ours any more (or already settled): there is nothing to give up.
        self.conditional(deadline, request, condition_failed)
            .await
            .map(drop)
    }
}

impl Lanes for DynamoLedger {
    async fn reserve(
        &self,
        lane: &str,
        spacing: Duration,
        latest: SystemTime,
        deadline: Deadline,
    ) -> Result<Option<SystemTime>, LedgerError> {
        let key = format!("lane#{lane}");
        let spacing = spacing.as_millis() as u64;
        for _ in 0..LANE_ATTEMPTS {
            let now = epoch_millis(SystemTime::now());
            // A free lane: this post goes now and the next one `spacing` later.
            let start = self
                .update(&key)
                .await
                .update_expression("SET #next = :after, expires_at = :expires")
                .condition_expression("attribute_not_exists(#next) OR #next <= :now")
                .expression_attribute_names("#next", "next")
                .expression_attribute_values(":after", n(now + spacing))
                .expression_attribute_values(":now", n(now))
                .expression_attribute_values(":expires", n(expires(LANE_KEEP)))
                .send();
            let started = self.conditional(deadline, start, condition_failed).await?;
            if started.is_ok() {
                return Ok(Some(from_epoch_millis(now)));
            }
            // A busy lane: take the slot after the last one handed out, if it comes in time.
            let queue = self
                .update(&key)
                .await
                .update_expression("SET #next = #next + :spacing")
                .condition_expression("#next > :now AND #next <= :latest")
                .expression_attribute_names("#next", "next")
                .expression_attribute_values(":spacing", n(spacing))
                .expression_attribute_values(":now", n(now))
                .expression_attribute_values(":latest", n(epoch_millis(latest)))
                .return_values(ReturnValue::UpdatedOld)
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send();
            let queued = self
                .conditional(deadline, queue, |e| match e {
                    UpdateItemError::ConditionalCheckFailedException(failed) => {
                        Some(failed.item().cloned())
                    }
                    _ => None,
                })
                .await?;
            match queued {
                Ok(output) => {
                    return Ok(output
                        .attributes()
                        .and_then(|old| number(old.get("next")?))
                        .map(from_epoch_millis));
                }
                // Past `latest`: no slot in time. Otherwise the lane came free meanwhile: start over.
                Err(item) => {
                    let next = item.as_ref().and_then(|item| number(item.get("next")?));
                    if next.is_some_and(|next| next > epoch_millis(latest)) {
                        return Ok(None);
                    }
                }
            }
        }
        Ok(Some(SystemTime::now()))
    }

    async fn hold(
        &self,
        lane: &str,
        until: SystemTime,
        deadline: Deadline,
    ) -> Result<(), LedgerError> {
        // Rounded up: a hold never ends before the provider's `Retry-After`.
        let until = epoch_millis(until + Duration::from_nanos(999_999));
        let request = self
            .update(&format!("lane#{lane}"))
            .await
            .update_expression("SET #next = :until, expires_at = :expires")
            .condition_expression("attribute_not_exists(#next) OR #next < :until")
            .expression_attribute_names("#next", "next")
            .expression_attribute_values(":until", n(until))
            .expression_attribute_values(":expires", n(expires(LANE_KEEP)))
            .send();
        // A later hold already stands: it wins.
        self.conditional(deadline, request, condition_failed)
            .await
            .map(drop)
    }
}

/// A thread's lock is free, lapsed, or already ours (a retry of the same invocation).
const LOCKABLE: &str = "attribute_not_exists(#holder) OR #until < :now OR #holder = :me";

impl Threads for DynamoLedger {
    async fn lock(
        &self,
        key: &str,
        owner: &Owner,
        deadline: Deadline,
    ) -> Result<Lock, LedgerError> {
        let now = SystemTime::now();
        let request = self
            .update(key)
            .await
            .update_expression("SET #holder = :me, #until = :until, expires_at = :expires")
            .condition_expression(LOCKABLE)
            .expression_attribute_names("#holder", "holder")
            .expression_attribute_names("#until", "held_until")
            .expression_attribute_values(":me", s(&owner.id))
            .expression_attribute_values(":until", n(epoch_millis(owner.lease_until)))
            .expression_attribute_values(":now", n(epoch_millis(now)))
            .expression_attribute_values(":expires", n(expires(KEEP)))
            .return_values(ReturnValue::AllNew)
            .send();
        let answer = self
            .conditional(deadline, request, condition_failed)
            .await?;
        Ok(match answer {
            Ok(output) => Lock::Taken {
                state: output
                    .attributes()
                    .and_then(|item| item.get("lifecycle"))
                    .and_then(|value| value.as_s().ok())
                    .cloned(),
            },
            Err(_) => Lock::Held,
        })
    }

    async fn save(
        &self,
        key: &str,
        owner: &Owner,
        state: &str,
        deadline: Deadline,
    ) -> Result<(), LedgerError> {
        let request = self
            .update(key)
            .await
            .update_expression("SET lifecycle = :state REMOVE #holder, #until")
            .condition_expression("#holder = :me")
            .expression_attribute_names("#holder", "holder")
            .expression_attribute_names("#until", "held_until")
            .expression_attribute_values(":me", s(&owner.id))
            .expression_attribute_values(":state", s(state))
            .send();
        self.owned_write(key, deadline, request).await
    }

    async fn unlock(
        &self,
        key: &str,
        owner: &Owner,
        deadline: Deadline,
    ) -> Result<(), LedgerError> {
        let request = self
            .update(key)
            .await
            .update_expression("REMOVE #holder, #until")
            .condition_expression("#holder = :me")
            .expression_attribute_names("#holder", "holder")
            .expression_attribute_names("#until", "held_until")
            .expression_attribute_values(":me", s(&owner.id))
            .send();
        // Not ours any more: nothing to give up.
        self.conditional(deadline, request, condition_failed)
            .await
            .map(drop)
    }
}

/// For calls whose failed condition needs no item back.
fn condition_failed<E: ProvideErrorMetadata>(error: &E) -> Option<Option<Item>> {
    (error.code() == Some("ConditionalCheckFailedException")).then_some(None)
}

fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_owned())
}

fn n(number: u64) -> AttributeValue {
    AttributeValue::N(number.to_string())
}

fn number(value: &AttributeValue) -> Option<u64> {
    value.as_n().ok()?.parse().ok()
}

/// The epoch second `keep` from now, for DynamoDB's TTL.
fn expires(keep: Duration) -> u64 {
    epoch_millis(SystemTime::now() + keep) / 1000
}
