//! The real function binaries, end to end: Runtime API, Slack and Discord stand-ins, and moto's SSM,
//! DynamoDB, EventBridge and SQS.

mod burst;
mod dedupe;
mod every_event;
mod failures;
mod ledger;
mod live;
mod routes;
mod routing;
mod timeouts;
mod webhook;
