//! Instructions a function process executes per warm event, counted by valgrind's callgrind: unlike CPU
//! time the count hardly moves between runs, so it shows changes smaller than a machine's noise.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use standins::{FunctionProcess, Invocation, RuntimeApi};

/// Under callgrind a process runs about a hundred times slower, and valgrind itself takes seconds to start.
const INVOKE_TIMEOUT: Duration = Duration::from_secs(60);

/// Whether `valgrind` (with `callgrind_control`, which comes with it) can be run.
pub fn available() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success())
}

/// Runs `binary` under callgrind against `api`, gives it `warm_up` events, then counts the user-space
/// instructions of the next `events` and returns their mean. Each answer must pass `check`. The count's
/// dump is left in `dir` (emptied first), for `callgrind_annotate` to say where the instructions went.
pub async fn instructions_per_event<I, K, V>(
    dir: &Path,
    binary: &Path,
    api: &RuntimeApi,
    env: I,
    event: &Value,
    (warm_up, events): (usize, usize),
    check: fn(Invocation) -> Result<(), String>,
) -> Result<f64, String>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let out_file = format!("--callgrind-out-file={}", dir.join("out").display());
    let wrapper = ["valgrind", "--tool=callgrind", "--quiet", out_file.as_str()];
    let process = FunctionProcess::spawn_under(&wrapper, binary, api, env);
    let pid = process.id().to_string();
    let invoke_all = |n: usize| async move {
        for _ in 0..n {
            check(api.invoke(event.clone(), INVOKE_TIMEOUT).await)?;
        }
        Ok::<(), String>(())
    };
    invoke_all(warm_up.max(1)).await?;
    control(&["--zero", &pid])?;
    invoke_all(events).await?;
    control(&["--dump", &pid])?;
    let total = dumped_total(dir)?;
    Ok(total as f64 / events.max(1) as f64)
}

fn control(args: &[&str]) -> Result<(), String> {
    let out = Command::new("callgrind_control")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run callgrind_control: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "callgrind_control {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The `totals:` line of the one dump `--dump` wrote in `dir` (named `out.<n>`, the exit dump being `out`).
fn dumped_total(dir: &Path) -> Result<u64, String> {
    let dumps: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.file_name().is_some_and(|name| name != "out"))
        .collect();
    let [dump] = dumps.as_slice() else {
        return Err(format!(
            "expected one callgrind dump in {}, found {}",
            dir.display(),
            dumps.len()
        ));
    };
    let text = std::fs::read_to_string(dump).map_err(|e| format!("{}: {e}", dump.display()))?;
    text.lines()
        .find_map(|line| line.strip_prefix("totals:"))
        .and_then(|total| total.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| format!("no `totals:` line in {}", dump.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_one_dump_and_ignores_the_exit_dump() {
        let dir = std::env::temp_dir().join(format!("callgrind-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("out"), "totals: 1\n").unwrap();
        std::fs::write(dir.join("out.1"), "events: Ir\nfl=x\n3 4\ntotals: 315609\n").unwrap();
        assert_eq!(dumped_total(&dir), Ok(315_609));
        std::fs::write(dir.join("out.2"), "totals: 2\n").unwrap();
        assert!(dumped_total(&dir).unwrap_err().contains("found 2"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
