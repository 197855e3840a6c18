//! The records that make delivery exactly-once and share a channel's rate across containers: small traits
//! over one table, with DynamoDB behind them in production and memory in unit tests and local runs.

mod dynamo;
mod memory;
pub mod spec;

use std::future::Future;
use std::time::{Duration, SystemTime};

pub use dynamo::DynamoLedger;
pub use memory::MemoryLedger;

use crate::deadline::Deadline;
use crate::destination::Receipt;

/// Records outlive the longest redelivery: the dead-letter and failure queues keep a message 14 days, so
/// a replay from them within that time still finds what was already posted.
pub const KEEP: Duration = Duration::from_secs(15 * 24 * 3600);

/// Who holds a claim, and until when: the invocation's request id, and its deadline plus an allowance for
/// clocks that differ between hosts. Past the lease, Lambda has ended the holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub id: String,
    pub lease_until: SystemTime,
}

/// What the records say about a delivery an invocation wants to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This invocation holds the delivery: post, then settle.
    Claimed,
    /// Another invocation holds it and its lease has not ended.
    Held,
    /// An earlier invocation posted it; the receipt is that post's.
    Delivered(Receipt),
    /// An earlier invocation found the destination unusable (provider error `code`).
    Refused { code: String },
}

/// What became of a claimed delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome<'a> {
    Delivered(&'a Receipt),
    Refused { code: &'a str },
}

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The SDK's error context names the cause (unreachable, access denied, no such table).
    #[error("deduplication table `{table}`: {reason}")]
    Table { table: String, reason: String },
    /// Another invocation held the item for longer than this one could wait.
    #[error("`{key}` is being changed by another invocation; retry later")]
    Busy { key: String },
    /// The claim's lease ended and another invocation took the delivery over.
    #[error("delivery `{key}` is no longer this invocation's: another took its claim over")]
    Lost { key: String },
}

/// One item per delivery (event, destination), claimed before the post and settled after it. Every write
/// after the claim is conditional on still owning it.
pub trait Claims: Send + Sync {
    fn claim(
        &self,
        key: &str,
        owner: &Owner,
        deadline: Deadline,
    ) -> impl Future<Output = Result<Claim, LedgerError>> + Send;

    fn settle(
        &self,
        key: &str,
        owner: &Owner,
        outcome: Outcome<'_>,
        deadline: Deadline,
    ) -> impl Future<Output = Result<(), LedgerError>> + Send;

    /// Gives a claim up after a post that certainly did not happen, so a retry can try at once.
    fn release(
        &self,
        key: &str,
        owner: &Owner,
        deadline: Deadline,
    ) -> impl Future<Output = Result<(), LedgerError>> + Send;
}

/// A send schedule per channel ("lane") shared by every container: each post takes the lane's next slot,
/// `spacing` after the one before, so concurrent containers keep to the provider's per-channel rate
/// together instead of each learning it from its own 429s.
pub trait Lanes: Send + Sync {
    /// The time this post may go: now, or the lane's next free slot; `None` if that is after `latest`
    /// (nothing is taken then).
    fn reserve(
        &self,
        lane: &str,
        spacing: Duration,
        latest: SystemTime,
        deadline: Deadline,
    ) -> impl Future<Output = Result<Option<SystemTime>, LedgerError>> + Send;

    /// The provider asked to wait: no slot on `lane` before `until`, for any container.
    fn hold(
        &self,
        lane: &str,
        until: SystemTime,
        deadline: Deadline,
    ) -> impl Future<Output = Result<(), LedgerError>> + Send;
}

/// What taking a lifecycle's lock found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lock {
    /// This invocation holds the lock; the stored state (JSON), if any.
    Taken { state: Option<String> },
    /// Another invocation holds it and its lease has not ended.
    Held,
}

/// A live message's state per lifecycle and destination (`thread#<lifecycle>#<destination>`), changed by
/// one invocation at a time under a lock with a lease, so two containers never post two roots.
pub trait Threads: Send + Sync {
    fn lock(
        &self,
        key: &str,
        owner: &Owner,
        deadline: Deadline,
    ) -> impl Future<Output = Result<Lock, LedgerError>> + Send;

    /// Stores `state` and gives the lock up; `Lost` if the lease had ended and another took it.
    fn save(
        &self,
        key: &str,
        owner: &Owner,
        state: &str,
        deadline: Deadline,
    ) -> impl Future<Output = Result<(), LedgerError>> + Send;

    /// Gives the lock up and leaves the state as it was.
    fn unlock(
        &self,
        key: &str,
        owner: &Owner,
        deadline: Deadline,
    ) -> impl Future<Output = Result<(), LedgerError>> + Send;
}

/// Milliseconds since the epoch; a clock before 1970 reads as the epoch rather than failing.
pub(crate) fn epoch_millis(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64
}

pub(crate) fn from_epoch_millis(millis: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(millis)
}

/// The table when the stack has one (production), memory otherwise (local runs): exactly-once within a
/// container still holds without a table, across containers only with one.
#[derive(Debug)]
pub enum AnyLedger {
    Dynamo(DynamoLedger),
    Memory(MemoryLedger),
}

/// The same call on whichever ledger this is.
macro_rules! on_either {
    ($self:ident, $ledger:ident => $call:expr) => {
        match $self {
            Self::Dynamo($ledger) => $call.await,
            Self::Memory($ledger) => $call.await,
        }
    };
}

impl Claims for AnyLedger {
    async fn claim(
        &self,
        key: &str,
        owner: &Owner,
        deadline: Deadline,
    ) -> Result<Claim, LedgerError> {
        on_either!(self, ledger => ledger.claim(key, owner, deadline))
    }

    async fn settle(
        &self,
        key: &str,
        owner: &Owner,
        outcome: Outcome<'_>,
        deadline: Deadline,
    ) -> Result<(), LedgerError> {
        on_either!(self, ledger => ledger.settle(key, owner, outcome, deadline))
    }

    async fn release(
        &self,
        key: &str,
        owner: &Owner,
        deadline: Deadline,
    ) -> Result<(), LedgerError> {
        on_either!(self, ledger => ledger.release(key, owner, deadline))
    }
}

impl Threads for AnyLedger {
    async fn lock(
        &self,
        key: &str,
        owner: &Owner,
        deadline: Deadline,
    ) -> Result<Lock, LedgerError> {
        on_either!(self, ledger => ledger.lock(key, owner, deadline))
    }

    async fn save(
        &self,
        key: &str,
        owner: &Owner,
        state: &str,
        deadline: Deadline,
    ) -> Result<(), LedgerError> {
        on_either!(self, ledger => ledger.save(key, owner, state, deadline))
    }

    async fn unlock(
        &self,
        key: &str,
        owner: &Owner,
        deadline: Deadline,
    ) -> Result<(), LedgerError> {
        on_either!(self, ledger => ledger.unlock(key, owner, deadline))
    }
}

impl Lanes for AnyLedger {
    async fn reserve(
        &self,
        lane: &str,
        spacing: Duration,
        latest: SystemTime,
        deadline: Deadline,
    ) -> Result<Option<SystemTime>, LedgerError> {
        on_either!(self, ledger => ledger.reserve(lane, spacing, latest, deadline))
    }

    async fn hold(
        &self,
        lane: &str,
        until: SystemTime,
        deadline: Deadline,
    ) -> Result<(), LedgerError> {
        on_either!(self, ledger => ledger.hold(lane, until, deadline))
    }
}
