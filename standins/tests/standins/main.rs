//! Proves each stand-in's rules with real HTTP requests, as the product will send them.

mod discord;
mod moto;
mod runtime;
mod slack;
