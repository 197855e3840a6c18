//! The DynamoDB ledger itself against moto: claims owned by their request, lanes shared, a thread's lock.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use shared::aws::Aws;
use shared::deadline::Deadline;
use shared::destination::Receipt;
use shared::ledger::{
    Claim, Claims, DynamoLedger, Lanes, LedgerError, Lock, Outcome, Owner, Threads,
};

use tests::*;

async fn ledger() -> (standins::MotoServer, DynamoLedger) {
    let (moto, _) = dedup_table().await;
    let aws = Aws::from_config(moto.sdk_config().await);
    let ledger = DynamoLedger::new(DEDUP_TABLE.into(), Arc::new(aws));
    (moto, ledger)
}

fn owner(id: &str, lease: Duration) -> Owner {
    Owner {
        id: id.into(),
        lease_until: SystemTime::now() + lease,
    }
}

fn soon() -> Deadline {
    Deadline::after(Duration::from_secs(10))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_table_keeps_the_ledgers_rules() {
    let (moto, ledger) = ledger().await;
    let _ = &moto;
    // An expired claim taken over by a second invocation is not the first's to settle or release.
    let first = owner("req-1", Duration::ZERO);
    assert_eq!(
        ledger.claim("k", &first, soon()).await.unwrap(),
        Claim::Claimed
    );
    tokio::time::sleep(Duration::from_millis(5)).await;
    let second = owner("req-2", Duration::from_secs(60));
    assert_eq!(
        ledger.claim("k", &second, soon()).await.unwrap(),
        Claim::Claimed
    );
    let receipt = Receipt {
        channel: "C1".into(),
        message_id: "1.1".into(),
    };
    assert!(matches!(
        ledger
            .settle("k", &first, Outcome::Delivered(&receipt), soon())
            .await,
        Err(LedgerError::Lost { .. })
    ));
    ledger.release("k", &first, soon()).await.unwrap();
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

    // A lane hands out spaced slots to every container, and a hold applies to all of them.
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
    assert!(b.duration_since(a).unwrap() >= spacing);
    let until = SystemTime::now() + Duration::from_secs(30);
    ledger.hold("slack:#c", until, soon()).await.unwrap();
    let near = SystemTime::now() + Duration::from_secs(5);
    assert_eq!(
        ledger
            .reserve("slack:#c", spacing, near, soon())
            .await
            .unwrap(),
        None
    );

    // A thread's lock: one holder at a time, the state saved with the lock's release.
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
        }
    );
    assert!(matches!(
        ledger.save("t", &x, "{}", soon()).await,
        Err(LedgerError::Lost { .. })
    ));
}
