//! notify-app: posts a rack's app lifecycle events (app:create, app:delete) to Slack or Discord.

use lambda_runtime::{Error, run, service_fn, tracing};
use shared::{Category, Notifier};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let notifier = Notifier::from_env(Category::App)?;
    run(service_fn(|event| notifier.handle(event))).await
}
