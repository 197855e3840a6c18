//! Builds workspace binaries for tests that run them, once per binary per test process.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// Builds the function `name` (package and binary of the same name, e.g. `notify-app`) and returns its path.
///
/// Built as `cargo build --bin <name>` in the workspace, which is what `cargo lambda watch` runs: all
/// functions share one build of their dependencies, with the features the default members unify to.
/// This blocks while cargo runs: call it before starting servers on a single-threaded test runtime.
pub fn function_binary(name: &str) -> PathBuf {
    binary(None, name)
}

/// Builds binary `bin` of workspace package `package` with the test's own profile and returns its path.
pub fn workspace_binary(package: &str, bin: &str) -> PathBuf {
    binary(Some(package), bin)
}

fn binary(package: Option<&str>, bin: &str) -> PathBuf {
    // One slot per binary: each builds once, and the map stays unlocked while cargo runs.
    type Slot = Arc<OnceLock<PathBuf>>;
    type Key = (Option<String>, String);
    static BUILT: OnceLock<Mutex<HashMap<Key, Slot>>> = OnceLock::new();
    let slot = BUILT
        .get_or_init(Mutex::default)
        .lock()
        .unwrap()
        .entry((package.map(String::from), bin.into()))
        .or_default()
        .clone();
    slot.get_or_init(|| build(package, bin)).clone()
}

fn build(package: Option<&str>, bin: &str) -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("standins/ sits in the workspace")
        .join("Cargo.toml");
    // No `--target`: a host build reuses what `cargo build` and `cargo test` already compiled in the
    // workspace's target dir, where a `--target` build would compile every dependency again.
    // CARGO_TARGET_DIR and CARGO_BUILD_TARGET, if set, reach cargo through the environment.
    let cargo = escargot::CargoBuild::new().manifest_path(&manifest);
    let cargo = match package {
        Some(package) => cargo.package(package),
        None => cargo,
    };
    cargo
        .bin(bin)
        .current_release()
        .run()
        .unwrap_or_else(|e| {
            panic!("building {bin} failed ({e}); run `cargo build --bin {bin}` for the errors")
        })
        .path()
        .to_path_buf()
}
