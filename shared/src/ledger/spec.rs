//! The rules every ledger keeps, as one scenario run against each implementation: the in-memory one in
//! its unit tests, DynamoDB's against moto in the end-to-end tests.

use std::time::{Duration, SystemTime};

use super::{Claim, Claims, Lanes, LedgerError, Lock, Outcome, Owner, Threads};
use crate::deadline::Deadline;
use crate::destination::Receipt;

fn owner(id: &str, lease: Duration) -> Owner {
    Owner {
        id: id.into(),
        lease_until: SystemTime::now() + lease,
    }
}

fn soon() -> Deadline {
    Deadline::after(Duration::from_secs(10))
}

/// Panics, naming the rule, where `ledger` breaks one. Needs a ledger with no items yet.
#[doc(hidden)]
pub async fn keeps_the_rules(ledger: &(impl Claims + Lanes + Threads)) {
    claims_are_owned_until_their_lease_ends(ledger).await;
    lanes_hand_out_spaced_slots_and_honour_holds(ledger).await;
    a_thread_is_changed_by_one_owner_at_a_time(ledger).await;
}

async fn claims_are_owned_until_their_lease_ends(ledger: &impl Claims) {
    let first = owner("req-1", Duration::ZERO);
    assert_eq!(
        ledger.claim("k", &first, soon()).await.unwrap(),
        Claim::Claimed
    );
    tokio::time::sleep(Duration::from_millis(5)).await;
    let second = owner("req-2", Duration::from_secs(60));
    assert_eq!(
        ledger.claim("k", &second, soon()).await.unwrap(),
        Claim::Claimed,
        "a claim whose lease ended can be taken over"
    );
    let receipt = Receipt {
        channel: "C1".into(),
        message_id: "1.1".into(),
    };
    assert!(
        matches!(
            ledger
                .settle("k", &first, Outcome::Delivered(&receipt), soon())
                .await,
            Err(LedgerError::Lost { .. })
        ),
        "a claim taken over is not the first holder's to settle"
    );
    ledger.release("k", &first, soon()).await.unwrap();
    assert_eq!(
        ledger.claim("k", &first, soon()).await.unwrap(),
        Claim::Held,
        "nor to release"
    );
    ledger
        .settle("k", &second, Outcome::Delivered(&receipt), soon())
        .await
        .unwrap();
    assert_eq!(
        ledger.claim("k", &first, soon()).await.unwrap(),
        Claim::Delivered(receipt)
    );
    let refused = owner("req-3", Duration::from_secs(60));
    ledger.claim("r", &refused, soon()).await.unwrap();
    ledger
        .settle(
            "r",
            &refused,
            Outcome::Refused {
                code: "channel_not_found",
            },
            soon(),
        )
        .await
        .unwrap();
    assert_eq!(
        ledger.claim("r", &first, soon()).await.unwrap(),
        Claim::Refused {
            code: "channel_not_found".into()
        }
    );
}

async fn lanes_hand_out_spaced_slots_and_honour_holds(ledger: &impl Lanes) {
    let spacing = Duration::from_secs(1);
    let far = SystemTime::now() + Duration::from_secs(60);
    let a = ledger
        .reserve("slack:#c", spacing, far, soon())
        .await
        .unwrap()
        .unwrap();
    let b = ledger
        .reserve("slack:#c", spacing, far, soon())
        .await
        .unwrap()
        .unwrap();
    assert!(b.duration_since(a).unwrap() >= spacing, "slots are spaced");
    let until = SystemTime::now() + Duration::from_secs(30);
    ledger.hold("slack:#c", until, soon()).await.unwrap();
    let c = ledger
        .reserve("slack:#c", spacing, far, soon())
        .await
        .unwrap()
        .unwrap();
    assert!(c >= until, "a hold applies to every later slot");
    let near = SystemTime::now() + Duration::from_secs(5);
    assert_eq!(
        ledger
            .reserve("slack:#c", spacing, near, soon())
            .await
            .unwrap(),
        None,
        "no slot in time, none taken"
    );
    let other = ledger
        .reserve("slack:#d", spacing, near, soon())
        .await
        .unwrap()
        .unwrap();
    assert!(other <= SystemTime::now(), "lanes are independent");
}

async fn a_thread_is_changed_by_one_owner_at_a_time(ledger: &impl Threads) {
    let (x, y) = (
        owner("req-x", Duration::from_secs(60)),
        owner("req-y", Duration::from_secs(60)),
    );
    assert_eq!(
        ledger.lock("t", &x, soon()).await.unwrap(),
        Lock::Taken { state: None }
    );
    assert_eq!(ledger.lock("t", &y, soon()).await.unwrap(), Lock::Held);
    ledger
        .save("t", &x, "{\"steps\":[]}", soon())
        .await
        .unwrap();
    assert_eq!(
        ledger.lock("t", &y, soon()).await.unwrap(),
        Lock::Taken {
            state: Some("{\"steps\":[]}".into())
        },
        "the state is saved with the lock's release"
    );
    assert!(matches!(
        ledger.save("t", &x, "{}", soon()).await,
        Err(LedgerError::Lost { .. })
    ));
    ledger.unlock("t", &y, soon()).await.unwrap();
    assert!(matches!(
        ledger.lock("t", &x, soon()).await.unwrap(),
        Lock::Taken { .. }
    ));
}
