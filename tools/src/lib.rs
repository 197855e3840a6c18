//! What the local tools in `src/bin/` share: the sample events, a chat stand-in set up like the built-in
//! routes, and what `/proc` says a process used.

pub mod local;
pub mod procfs;
