//! What the local tools in `src/bin/` share: the sample events, a chat stand-in set up like the built-in
//! routes, and the benchmark's measuring instruments.

pub mod callgrind;
pub mod connections;
pub mod local;
pub mod procfs;
