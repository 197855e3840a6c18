//! The ledger in memory: the same rules as the table, for unit tests and for runs without a table.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use super::{Claim, Claims, Lanes, LedgerError, Lock, Outcome, Owner, Threads};
use crate::deadline::Deadline;
use crate::destination::Receipt;

#[derive(Debug, Default)]
pub struct MemoryLedger {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    claims: HashMap<String, Item>,
    lanes: HashMap<String, SystemTime>,
    threads: HashMap<String, Thread>,
}

#[derive(Debug, Default)]
struct Thread {
    holder: Option<Owner>,
    state: Option<String>,
}

#[derive(Debug, Clone)]
enum Item {
    Pending { owner: Owner },
    Delivered(Receipt),
    Refused(String),
}

impl MemoryLedger {
    fn guard(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The claim's state, for tests: `pending`, `delivered` or `refused`.
    pub fn state_of(&self, key: &str) -> Option<&'static str> {
        self.guard().claims.get(key).map(|item| match item {
            Item::Pending { .. } => "pending",
            Item::Delivered(_) => "delivered",
            Item::Refused(_) => "refused",
        })
    }

    fn owned<'a>(state: &'a mut State, key: &str, owner: &Owner) -> Option<&'a mut Item> {
        state
            .claims
            .get_mut(key)
            .filter(|item| matches!(item, Item::Pending { owner: held } if held.id == owner.id))
    }
}

impl Claims for MemoryLedger {
    async fn claim(&self, key: &str, owner: &Owner, _: Deadline) -> Result<Claim, LedgerError> {
        let mut state = self.guard();
        let claim = match state.claims.get(key) {
            None => Claim::Claimed,
            Some(Item::Pending { owner: held }) if held.lease_until < SystemTime::now() => {
                Claim::Claimed
            }
            Some(Item::Pending { .. }) => Claim::Held,
            Some(Item::Delivered(receipt)) => Claim::Delivered(receipt.clone()),
            Some(Item::Refused(code)) => Claim::Refused { code: code.clone() },
        };
        if claim == Claim::Claimed {
            state.claims.insert(
                key.to_owned(),
                Item::Pending {
                    owner: owner.clone(),
                },
            );
        }
        Ok(claim)
    }

    async fn settle(
        &self,
        key: &str,
        owner: &Owner,
        outcome: Outcome<'_>,
        _: Deadline,
    ) -> Result<(), LedgerError> {
        let mut state = self.guard();
        let item = Self::owned(&mut state, key, owner).ok_or_else(|| LedgerError::Lost {
            key: key.to_owned(),
        })?;
        *item = match outcome {
            Outcome::Delivered(receipt) => Item::Delivered(receipt.clone()),
            Outcome::Refused { code } => Item::Refused(code.to_owned()),
        };
        Ok(())
    }

    async fn release(&self, key: &str, owner: &Owner, _: Deadline) -> Result<(), LedgerError> {
        let mut state = self.guard();
        if Self::owned(&mut state, key, owner).is_some() {
            state.claims.remove(key);
        }
        Ok(())
    }
}

impl Lanes for MemoryLedger {
    async fn reserve(
        &self,
        lane: &str,
        spacing: Duration,
        latest: SystemTime,
        _: Deadline,
    ) -> Result<Option<SystemTime>, LedgerError> {
        let now = SystemTime::now();
        let mut state = self.guard();
        let next = state.lanes.entry(lane.to_owned()).or_insert(now);
        let slot = (*next).max(now);
        if slot > latest {
            return Ok(None);
        }
        *next = slot + spacing;
        Ok(Some(slot))
    }

    async fn hold(&self, lane: &str, until: SystemTime, _: Deadline) -> Result<(), LedgerError> {
        let mut state = self.guard();
        let next = state.lanes.entry(lane.to_owned()).or_insert(until);
        *next = (*next).max(until);
        Ok(())
    }
}

impl Threads for MemoryLedger {
    async fn lock(&self, key: &str, owner: &Owner, _: Deadline) -> Result<Lock, LedgerError> {
        let mut state = self.guard();
        let thread = state.threads.entry(key.to_owned()).or_default();
        let free = thread
            .holder
            .as_ref()
            .is_none_or(|holder| holder.id == owner.id || holder.lease_until < SystemTime::now());
        if !free {
            return Ok(Lock::Held);
        }
        thread.holder = Some(owner.clone());
        Ok(Lock::Taken {
            state: thread.state.clone(),
        })
    }

    async fn save(
        &self,
        key: &str,
        owner: &Owner,
        saved: &str,
        _: Deadline,
    ) -> Result<(), LedgerError> {
        let mut state = self.guard();
        match state.threads.get_mut(key) {
            Some(thread) if thread.holder.as_ref().is_some_and(|h| h.id == owner.id) => {
                thread.holder = None;
                thread.state = Some(saved.to_owned());
                Ok(())
            }
            _ => Err(LedgerError::Lost {
                key: key.to_owned(),
            }),
        }
    }

    async fn unlock(&self, key: &str, owner: &Owner, _: Deadline) -> Result<(), LedgerError> {
        if let Some(thread) = self.guard().threads.get_mut(key)
            && thread.holder.as_ref().is_some_and(|h| h.id == owner.id)
        {
            thread.holder = None;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn keeps_the_rules() {
        super::super::spec::keeps_the_rules(&super::MemoryLedger::default()).await;
    }
}
