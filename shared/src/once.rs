//! Exactly once per delivery: claim it, post, record what became of it. The protocol's rules live here
//! alone, over the `Claims` trait, so they are unit-tested in memory and proven against DynamoDB end to end.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::deadline::Deadline;
use crate::deliver::DeliveryError;
use crate::destination::Receipt;
use crate::ledger::{Claim, Claims, LedgerError, Outcome, Owner};

/// How long a repeat waits for a concurrent holder to finish before failing for Lambda to retry later:
/// repeats from EventBridge usually arrive together, and the holder finishes within a second.
const WAIT_MAX: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(250);
/// Kept back from the post's deadline, so its outcome can still be recorded.
pub const RECORD_TIME: Duration = Duration::from_secs(1);

/// A message that is in its destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    Posted(Receipt),
    /// An earlier invocation posted it; the receipt is that post's.
    Duplicate(Receipt),
}

impl Sent {
    pub fn receipt(&self) -> &Receipt {
        match self {
            Self::Posted(receipt) | Self::Duplicate(receipt) => receipt,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OnceError {
    #[error(transparent)]
    Post(#[from] DeliveryError),
    /// An earlier invocation found the destination unusable; it is not asked again.
    #[error("refused earlier with `{code}`")]
    RefusedEarlier { code: String },
    /// Nothing was posted: without the records, a post could be a repeat.
    #[error(transparent)]
    Records(#[from] LedgerError),
    #[error("delivery `{key}` is being made by another invocation; retry later")]
    InProgress { key: String },
}

impl OnceError {
    /// The destination itself is unusable, now or earlier: the default channel can take the message.
    pub fn is_destination_problem(&self) -> bool {
        match self {
            Self::Post(error) => error.is_destination_problem(),
            Self::RefusedEarlier { .. } => true,
            Self::Records(_) | Self::InProgress { .. } => false,
        }
    }
}

/// Posts at most once per `key` (every retry and repeat of the event included), by `owner` within
/// `deadline`. Without a key (an event that names itself in no way) it just posts.
///
/// - a delivery recorded earlier is not posted again ([`Sent::Duplicate`]);
/// - a refusing destination is recorded, so a retry goes straight to the fallback;
/// - a post that certainly failed gives its claim up, so a retry posts at once;
/// - a post whose outcome is unclear (sent, then no clear answer) keeps its claim until the lease ends:
///   a retry before then cannot post it twice, one after it may (Slack has no idempotency key).
pub async fn deliver_once<C, F, Fut>(
    claims: &C,
    key: Option<&str>,
    owner: &Owner,
    deadline: Deadline,
    post: F,
) -> Result<Sent, OnceError>
where
    C: Claims,
    F: FnOnce(Deadline) -> Fut,
    Fut: Future<Output = Result<Receipt, DeliveryError>>,
{
    let Some(key) = key else {
        return Ok(Sent::Posted(post(deadline).await?));
    };
    match claim(claims, key, owner, deadline).await? {
        Claim::Claimed => {}
        Claim::Delivered(receipt) => return Ok(Sent::Duplicate(receipt)),
        Claim::Refused { code } => return Err(OnceError::RefusedEarlier { code }),
        Claim::Held => {
            return Err(OnceError::InProgress {
                key: key.to_owned(),
            });
        }
    }
    let posted = post(deadline.less(RECORD_TIME)).await;
    let recorded = match &posted {
        Ok(receipt) => {
            claims
                .settle(key, owner, Outcome::Delivered(receipt), deadline)
                .await
        }
        Err(error) if error.is_destination_problem() => {
            let code = error.code();
            claims
                .settle(key, owner, Outcome::Refused { code: &code }, deadline)
                .await
        }
        Err(error) if error.is_unclear() => {
            tracing::warn!(key, %error, "the post's outcome is unclear; keeping the claim until its lease ends");
            Ok(())
        }
        Err(_) => claims.release(key, owner, deadline).await,
    };
    if let Err(error) = recorded {
        // The post's outcome stands: failing the invocation now would have Lambda post again at once.
        tracing::error!(key, %error, "could not record the delivery's outcome; a repeat after the claim's lease may post again");
    }
    Ok(Sent::Posted(posted?))
}

/// Claims `key`, waiting a little while another invocation holds it.
async fn claim<C: Claims>(
    claims: &C,
    key: &str,
    owner: &Owner,
    deadline: Deadline,
) -> Result<Claim, LedgerError> {
    let give_up = Instant::now() + WAIT_MAX;
    loop {
        let claim = claims.claim(key, owner, deadline).await?;
        if claim != Claim::Held
            || Instant::now() + POLL >= give_up
            || !deadline.fits(Instant::now(), POLL)
        {
            return Ok(claim);
        }
        tracing::info!(
            key,
            "another invocation holds this delivery; waiting for its outcome"
        );
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::SystemTime;

    use super::*;
    use crate::deliver::Refusal;
    use crate::destination::Provider;
    use crate::ledger::MemoryLedger;

    fn owner(id: &str) -> Owner {
        Owner {
            id: id.into(),
            lease_until: SystemTime::now() + Duration::from_secs(60),
        }
    }

    fn soon() -> Deadline {
        Deadline::after(Duration::from_secs(10))
    }

    fn receipt(id: &str) -> Receipt {
        Receipt {
            channel: "C1".into(),
            message_id: id.into(),
        }
    }

    fn refused(refusal: Refusal) -> DeliveryError {
        DeliveryError::Api {
            provider: Provider::Slack,
            code: "channel_not_found".into(),
            refusal,
        }
    }

    #[tokio::test]
    async fn a_repeat_posts_nothing_and_reports_the_first_post() {
        let ledger = MemoryLedger::default();
        let posts = AtomicUsize::new(0);
        let post = |_| async {
            posts.fetch_add(1, Ordering::Relaxed);
            Ok(receipt("1.1"))
        };
        let first = deliver_once(&ledger, Some("k"), &owner("a"), soon(), post).await;
        assert_eq!(first.unwrap(), Sent::Posted(receipt("1.1")));
        let again = deliver_once(&ledger, Some("k"), &owner("b"), soon(), post).await;
        assert_eq!(again.unwrap(), Sent::Duplicate(receipt("1.1")));
        assert_eq!(posts.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn a_refusing_destination_is_recorded_and_not_asked_again() {
        let ledger = MemoryLedger::default();
        let error = deliver_once(&ledger, Some("k"), &owner("a"), soon(), |_| async {
            Err(refused(Refusal::Destination))
        })
        .await
        .unwrap_err();
        assert!(error.is_destination_problem());
        assert_eq!(ledger.state_of("k"), Some("refused"));
        let again = deliver_once(&ledger, Some("k"), &owner("b"), soon(), |_| async {
            panic!("asked again")
        })
        .await
        .unwrap_err();
        assert!(
            matches!(again, OnceError::RefusedEarlier { ref code } if code == "channel_not_found")
        );
    }

    #[tokio::test]
    async fn a_certain_failure_frees_the_delivery_and_an_unclear_one_keeps_it() {
        let ledger = MemoryLedger::default();
        deliver_once(&ledger, Some("clear"), &owner("a"), soon(), |_| async {
            Err(refused(Refusal::Permanent))
        })
        .await
        .unwrap_err();
        assert_eq!(
            ledger.state_of("clear"),
            None,
            "released: a retry posts at once"
        );

        let unclear = |_| async {
            Err(DeliveryError::Transport {
                provider: Provider::Slack,
                reason: "timed out".into(),
                sent: true,
            })
        };
        deliver_once(&ledger, Some("unclear"), &owner("a"), soon(), unclear)
            .await
            .unwrap_err();
        assert_eq!(ledger.state_of("unclear"), Some("pending"));
        let retry = deliver_once(
            &ledger,
            Some("unclear"),
            &owner("b"),
            Deadline::after(Duration::from_millis(800)),
            |_| async { panic!("posted again within the lease") },
        )
        .await
        .unwrap_err();
        assert!(matches!(retry, OnceError::InProgress { .. }), "{retry:?}");
    }

    #[tokio::test]
    async fn without_a_key_it_just_posts() {
        let ledger = MemoryLedger::default();
        let sent = deliver_once(&ledger, None, &owner("a"), soon(), |_| async {
            Ok(receipt("2"))
        })
        .await
        .unwrap();
        assert_eq!(sent.receipt().message_id, "2");
    }
}
