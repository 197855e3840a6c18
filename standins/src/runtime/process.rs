//! `FunctionProcess`: a function binary running against a `RuntimeApi`, with its output kept for the test.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::RuntimeApi;
use crate::capture::Output;

pub struct FunctionProcess {
    child: Arc<Mutex<Child>>,
    status: Arc<Mutex<Option<ExitStatus>>>,
    stopping: Arc<AtomicBool>,
    monitor: Option<JoinHandle<()>>,
    output: Output,
}

impl FunctionProcess {
    /// Starts `binary` with an empty environment except `PATH`, what Lambda sets for a 128 MB function
    /// named after `api`, and then `env` (which wins over the defaults).
    pub fn spawn<I, K, V>(binary: impl AsRef<Path>, api: &RuntimeApi, env: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        Self::spawn_under(&[], binary, api, env)
    }

    /// Like `spawn`, with `binary` run by the command `wrapper` (a profiler, say) when it is not empty.
    pub fn spawn_under<I, K, V>(
        wrapper: &[&str],
        binary: impl AsRef<Path>,
        api: &RuntimeApi,
        env: I,
    ) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        let binary = binary.as_ref();
        let name = api.function_name();
        let mut command = match wrapper {
            [] => Command::new(binary),
            [program, args @ ..] => {
                let mut command = Command::new(program);
                command.args(args).arg(binary);
                command
            }
        };
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", api.addr().to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2026/01/01/[$LATEST]0123456789abcdef",
            )
            // Lambda always provides a region and short-lived credentials; without them the AWS SDK
            // would wander off to the instance metadata service.
            .env("AWS_REGION", "us-east-1")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_SESSION_TOKEN", "testing")
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let output = Output::default();
        output.capture(child.stdout.take().unwrap());
        output.capture(child.stderr.take().unwrap());

        let child = Arc::new(Mutex::new(child));
        let status = Arc::new(Mutex::new(None));
        let stopping = Arc::new(AtomicBool::new(false));
        let monitor = {
            let (child, status, stopping) = (child.clone(), status.clone(), stopping.clone());
            let shared = api.shared();
            thread::spawn(move || {
                while !stopping.load(Ordering::Relaxed) {
                    if let Ok(Some(exit)) = child.lock().unwrap().try_wait() {
                        *status.lock().unwrap() = Some(exit);
                        shared.process_exited(&exit.to_string());
                        return;
                    }
                    thread::sleep(Duration::from_millis(20));
                }
            })
        };
        Self {
            child,
            status,
            stopping,
            monitor: Some(monitor),
            output,
        }
    }

    /// Everything the process wrote so far, stdout and stderr interleaved by line.
    pub fn logs(&self) -> String {
        self.output.text()
    }

    /// Waits until the logs contain `needle`; returns whether they did within `timeout`.
    pub async fn wait_for_log(&self, needle: &str, timeout: Duration) -> bool {
        let start = Instant::now();
        while !self.logs().contains(needle) {
            if start.elapsed() > timeout {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }

    /// How the process ended, if it ended on its own.
    pub fn exit_status(&self) -> Option<ExitStatus> {
        *self.status.lock().unwrap()
    }

    pub fn id(&self) -> u32 {
        self.child.lock().unwrap().id()
    }
}

impl Drop for FunctionProcess {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::Relaxed);
        if let Some(monitor) = self.monitor.take() {
            let _ = monitor.join();
        }
        let mut child = self.child.lock().unwrap();
        let _ = child.kill();
        let _ = child.wait();
    }
}
