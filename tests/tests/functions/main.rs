//! The real function binaries, end to end: Runtime API, Slack and Discord stand-ins, and moto's SSM.

mod harness;

mod every_event;
mod failures;
mod routing;
