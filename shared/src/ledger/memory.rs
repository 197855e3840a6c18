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
    use super::*;

    fn owner(id: &str, lease: Duration) -> Owner {
        Owner {
            id: id.into(),
            lease_until: SystemTime::now() + lease,
        }
    }

    fn soon() -> Deadline {
        Deadline::after(Duration::from_secs(5))
    }

    #[tokio::test]
    async fn a_claim_is_owned_until_its_lease_ends() {
        let ledger = MemoryLedger::default();
        let first = owner("req-1", Duration::ZERO);
        assert_eq!(
            ledger.claim("k", &first, soon()).await.unwrap(),
            Claim::Claimed
        );
        let second = owner("req-2", Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(
            ledger.claim("k", &second, soon()).await.unwrap(),
            Claim::Claimed
        );
        let receipt = Receipt::default();
        assert!(matches!(
            ledger
                .settle("k", &first, Outcome::Delivered(&receipt), soon())
                .await,
            Err(LedgerError::Lost { .. })
        ));
        ledger.release("k", &first, soon()).await.unwrap();
        assert_eq!(
            ledger.state_of("k"),
            Some("pending"),
            "not the first's to release"
        );
        assert_eq!(
            ledger.claim("k", &first, soon()).await.unwrap(),
            Claim::Held
        );
        ledger
            .settle("k", &second, Outcome::Delivered(&receipt), soon())
            .await
            .unwrap();
        assert_eq!(
            ledger.claim("k", &first, soon()).await.unwrap(),
            Claim::Delivered(receipt)
        );
    }

    #[tokio::test]
    async fn a_thread_is_changed_by_one_owner_at_a_time() {
        let ledger = MemoryLedger::default();
        let (a, b) = (
            owner("a", Duration::from_secs(60)),
            owner("b", Duration::from_secs(60)),
        );
        assert_eq!(
            ledger.lock("t", &a, soon()).await.unwrap(),
            Lock::Taken { state: None }
        );
        assert_eq!(ledger.lock("t", &b, soon()).await.unwrap(), Lock::Held);
        ledger.save("t", &a, "{}", soon()).await.unwrap();
        assert_eq!(
            ledger.lock("t", &b, soon()).await.unwrap(),
            Lock::Taken {
                state: Some("{}".into())
            }
        );
        assert!(matches!(
            ledger.save("t", &a, "x", soon()).await,
            Err(LedgerError::Lost { .. })
        ));
        ledger.unlock("t", &b, soon()).await.unwrap();
        assert!(matches!(
            ledger.lock("t", &a, soon()).await.unwrap(),
            Lock::Taken { .. }
        ));
    }

    #[tokio::test]
    async fn lanes_hand_out_spaced_slots_and_honour_holds() {
        let ledger = MemoryLedger::default();
        let spacing = Duration::from_secs(1);
        let far = SystemTime::now() + Duration::from_secs(60);
        let a = ledger
            .reserve("c", spacing, far, soon())
            .await
            .unwrap()
            .unwrap();
        let b = ledger
            .reserve("c", spacing, far, soon())
            .await
            .unwrap()
            .unwrap();
        assert!(b.duration_since(a).unwrap() >= spacing);
        let until = SystemTime::now() + Duration::from_secs(30);
        ledger.hold("c", until, soon()).await.unwrap();
        let c = ledger
            .reserve("c", spacing, far, soon())
            .await
            .unwrap()
            .unwrap();
        assert!(c >= until);
        let near = SystemTime::now() + Duration::from_secs(5);
        assert_eq!(
            ledger.reserve("c", spacing, near, soon()).await.unwrap(),
            None
        );
        let other = ledger
            .reserve("d", spacing, near, soon())
            .await
            .unwrap()
            .unwrap();
        assert!(other <= SystemTime::now());
    }
}
