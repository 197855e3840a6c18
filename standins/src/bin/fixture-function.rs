//! A tiny Lambda function for proving `RuntimeApi` against the real `lambda_runtime` crate.
//!
//! Events: `{"echo": x}` answers `x`, `{"fail": "why"}` fails with `why`, `{"exit": code}` ends the process.
//! With `FIXTURE_EXIT_AT_START` set, the process exits before it asks for an event.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::{Value, json};

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let (payload, context) = event.into_parts();
    println!(
        "fixture: request {} for {}",
        context.request_id, context.invoked_function_arn
    );
    if let Some(why) = payload["fail"].as_str() {
        return Err(why.into());
    }
    if let Some(code) = payload["exit"].as_i64() {
        std::process::exit(code as i32);
    }
    Ok(json!({"echo": payload["echo"], "deadline_ms": context.deadline}))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    if std::env::var_os("FIXTURE_EXIT_AT_START").is_some() {
        eprintln!("fixture: exiting at start");
        std::process::exit(3);
    }
    run(service_fn(handle)).await
}
