//! Proves each stand-in's rules with real HTTP requests, as the product will send them.

mod discord;
mod discord_edits;
mod discord_pings;
mod discord_webhooks;
mod moto;
mod runtime;
mod slack;
mod slack_edits;
mod slack_pings;
mod slack_webhooks;
