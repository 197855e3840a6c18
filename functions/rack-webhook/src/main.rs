//! rack-webhook: receives a rack's signed webhooks on a Lambda Function URL and puts each rack event on
//! the EventBridge bus the notify functions' rules listen on.

mod bus;
mod receiver;
mod request;
mod settings;
mod signature;

use lambda_runtime::{Error, run, service_fn, tracing};
use receiver::Receiver;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let receiver = Receiver::from_env()?;
    run(service_fn(|event| receiver.handle(event))).await
}
