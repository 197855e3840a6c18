//! notify-budget: posts a rack's budget and auto-shutdown events to Slack or Discord.

use lambda_runtime::{Error, run, service_fn, tracing};
use shared::{Category, Notifier};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let notifier = Notifier::from_env(Category::Budget)?;
    run(service_fn(|event| notifier.handle(event))).await
}
