//! Local stand-ins for everything a rack-notifications function talks to, shared by the tests and tools.

pub mod bus;
mod capture;
pub mod discord;
pub mod moto;
pub mod rack;
pub mod runtime;
mod serve;
pub mod slack;
mod tally;
mod window;

pub use discord::{
    DiscordEdit, DiscordFault, DiscordMessage, DiscordPosted, DiscordStandIn, DiscordThread, Pings,
};
pub use moto::MotoServer;
pub use runtime::{ErrorBody, FunctionProcess, Invocation, RuntimeApi, function_binary};
pub use slack::{Posted, SlackFault, SlackMessage, SlackStandIn, SlackUpdate};
pub use window::RateLimit;
