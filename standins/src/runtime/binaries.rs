//! Builds workspace binaries for tests that run them, once per binary per test process.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// Builds the function `name` (package and binary of the same name, e.g. `notify-app`) and returns its path.
///
/// This blocks while cargo runs: call it before starting servers on a single-threaded test runtime.
pub fn function_binary(name: &str) -> PathBuf {
    workspace_binary(name, name)
}

/// Builds binary `bin` of workspace package `package` with the test's own profile and returns its path.
pub fn workspace_binary(package: &str, bin: &str) -> PathBuf {
    // One slot per binary: each builds once, and the map stays unlocked while cargo runs.
    type Slot = Arc<OnceLock<PathBuf>>;
    static BUILT: OnceLock<Mutex<HashMap<(String, String), Slot>>> = OnceLock::new();
    let slot = BUILT
        .get_or_init(Mutex::default)
        .lock()
        .unwrap()
        .entry((package.into(), bin.into()))
        .or_default()
        .clone();
    slot.get_or_init(|| build(package, bin)).clone()
}

fn build(package: &str, bin: &str) -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("standins/ sits in the workspace")
        .join("Cargo.toml");
    // No `--target`: a host build reuses what `cargo build` and `cargo test` already compiled in the
    // workspace's target dir, where a `--target` build would compile every dependency again.
    // CARGO_TARGET_DIR and CARGO_BUILD_TARGET, if set, reach cargo through the environment.
    escargot::CargoBuild::new()
        .manifest_path(&manifest)
        .package(package)
        .bin(bin)
        .current_release()
        .run()
        .unwrap_or_else(|e| {
            panic!("building {package}/{bin} failed ({e}); run `cargo build -p {package}` for the errors")
        })
        .path()
        .to_path_buf()
}
