//! The DynamoDB ledger against moto keeps the rules the in-memory one keeps in its unit tests.

use std::sync::Arc;

use shared::aws::Aws;
use shared::ledger::{DynamoLedger, spec};

use tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_table_keeps_the_ledgers_rules() {
    let (moto, _) = dedup_table().await;
    let aws = Aws::from_config(moto.sdk_config().await);
    spec::keeps_the_rules(&DynamoLedger::new(DEDUP_TABLE.into(), Arc::new(aws))).await;
}
