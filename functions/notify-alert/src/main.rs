//! notify-alert: posts a rack's alert events to Slack or Discord.

use lambda_runtime::{Error, run, service_fn, tracing};
use shared::{Category, Notifier};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let notifier = Notifier::from_env(Category::Alert)?;
    run(service_fn(|event| notifier.handle(event))).await
}
