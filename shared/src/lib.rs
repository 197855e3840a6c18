//! Rack notifications: rack events from EventBridge to Slack and Discord messages.
//!
//! Parsing ([`event`]), routing ([`route`]) and rendering ([`notification`], [`render`]) are pure;
//! delivery ([`deliver`]) sits behind the [`deliver::Messenger`] trait, made idempotent by [`dedupe`] when a
//! DynamoDB table is configured; [`Notifier`] ties them together.

pub mod aws;
pub mod category;
pub mod config;
pub mod dedupe;
pub mod deliver;
pub mod event;
pub mod notification;
mod notifier;
pub mod render;
pub mod route;
pub mod ssm;
pub mod text;

pub use category::Category;
pub use notifier::{Delivered, Notifier, NotifyError, Report, StartError};
