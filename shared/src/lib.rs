//! Rack notifications: rack events from EventBridge to Slack and Discord messages.
//!
//! Parsing ([`event`]), routing ([`routing`]) and rendering ([`notification`], [`render`]) are pure.
//! Each kind of I/O sits behind a small trait with a real and an in-memory implementation: chat delivery
//! ([`deliver::Messenger`]), the delivery records and channel schedules ([`ledger`]), parameters
//! ([`params::Parameters`]). [`once`] holds the exactly-once protocol, and [`Notifier`] ties an
//! invocation together.

pub mod aws;
pub mod cache;
pub mod catalog;
pub mod category;
pub mod config;
pub mod deadline;
pub mod deliver;
pub mod destination;
pub mod event;
pub mod ledger;
pub mod lifecycle;
mod live;
pub mod metrics;
pub mod notification;
mod notifier;
pub mod once;
pub mod params;
pub mod render;
pub mod routing;
pub mod secret;
pub mod text;

pub use category::Category;
pub use notifier::{Delivered, Notifier, NotifyError, Report, StartError};
