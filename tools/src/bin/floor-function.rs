//! `floor-function`: the notify-* functions' wiring with a handler that answers at once, so
//! `bench` can tell the `lambda_runtime` loop's own CPU per event from the handler's.

use lambda_runtime::{Error, LambdaEvent, run, service_fn, tracing};
use serde::de::IgnoredAny;
use serde_json::json;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    run(service_fn(|_: LambdaEvent<IgnoredAny>| async {
        Ok::<_, Error>(json!({ "floor": true }))
    }))
    .await
}
