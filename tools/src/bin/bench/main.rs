//! `bench`: cold start, first message, time and CPU per warm event, peak RSS and arm64 package size of
//! each function built with the release profile, printed as a markdown table (docs/benchmarks.md).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use chrono::DateTime;
use serde_json::Value;
use standins::rack::function_url_event;
use standins::{FunctionProcess, Invocation, RuntimeApi};
use tools::local::{command_line, workspace_root};
use tools::procfs::Usage;

use report::{Row, report};
use sink::{Sink, Started};

mod report;
mod sink;
#[cfg(test)]
mod tests;

const USAGE: &str = "\
usage: cargo run --release -p tools --bin bench -- [--events N] [--cold-starts N] [--no-package]

Builds the functions and floor-function with the release profile, runs each under a local Lambda
Runtime API and prints a markdown table. --events: warm events per function (default 5000);
--cold-starts: cold starts per function (default 5); --no-package: no arm64 build with cargo-lambda
(which must be on PATH). docs/benchmarks.md says what each column means.";

/// A benchmarked function, the sample of `events/` it gets (a new rack event each time), and whether
/// its messages go to a chat or to the bus: a new function is one more line.
const FUNCTIONS: &[(&str, &str, Sink)] = &[
    ("notify-app", "app-create.json", Sink::Chat),
    ("notify-release", "release-scale.json", Sink::Chat),
    ("notify-infrastructure", "rack-update.json", Sink::Chat),
    ("notify-workflow", "workflow-complete.json", Sink::Chat),
    ("notify-alert", "alert-firing.json", Sink::Chat),
    ("notify-budget", "app-budget-threshold.json", Sink::Chat),
    ("rack-webhook", "release-promote-success.json", Sink::Bus),
];

const TIMEOUT: Duration = Duration::from_secs(10);
/// Peak RSS is read after this many events, which also warm the process up.
const RSS_EVENTS: usize = 100;
/// The warm events run in rounds, the function and the floor taking turns so that both see the same
/// machine, each first in every other round: the process measured second came out dearer.
const ROUNDS: usize = 10;

#[derive(Debug)]
struct Options {
    events: usize,
    cold_starts: usize,
    package: bool,
    /// Where the release build puts the binaries measured.
    binaries: PathBuf,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from);
    let binaries = target
        .unwrap_or_else(|| workspace_root().join("target"))
        .join("release");
    let (mut options, mut args) = (
        Options {
            events: 5000,
            cold_starts: 5,
            package: true,
            binaries,
        },
        args.into_iter(),
    );
    while let Some(arg) = args.next() {
        let mut count = || {
            let n = args
                .next()
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|&n| n > 0);
            n.ok_or(format!("{arg} needs a positive number"))
        };
        match arg.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--events" => options.events = count()?.max(ROUNDS) / ROUNDS * ROUNDS,
            "--cold-starts" => options.cold_starts = count()?,
            "--no-package" => options.package = false,
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let options = match command_line("bench", USAGE, parse_args(std::env::args().skip(1))) {
        Ok(options) => options,
        Err(exit) => return exit,
    };
    match bench(&options) {
        Ok(rows) => {
            println!("{}", report(&rows, &options));
            ExitCode::SUCCESS
        }
        Err(problem) => {
            eprintln!("bench: {problem}");
            ExitCode::FAILURE
        }
    }
}

/// Builds everything before timing anything, so that the compilers do not compete with the processes.
fn bench(options: &Options) -> Result<Vec<Row>, String> {
    // The functions as `cargo lambda build` and `sam build` build them: the default members, one build.
    let bins: String = FUNCTIONS
        .iter()
        .map(|(name, ..)| format!(" --bin {name}"))
        .collect();
    cargo(&format!("build --release{bins}"))?;
    cargo("build --release -p tools --bin floor-function")?;
    let mut zips = Vec::new();
    if options.package {
        cargo(&format!(
            "lambda build --release --arm64 --output-format zip{bins}"
        ))?;
        let dir = options
            .binaries
            .parent()
            .unwrap_or(Path::new("."))
            .join("lambda");
        for (name, ..) in FUNCTIONS {
            let zip = dir.join(name).join("bootstrap.zip");
            let bytes = std::fs::metadata(&zip)
                .map_err(|e| format!("{}: {e}", zip.display()))?
                .len();
            zips.push(bytes as f64 / 1024.0 / 1024.0);
        }
    }
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("async runtime: {e}"))?;
    let mut rows = runtime.block_on(measure_all(options))?;
    for (row, zip) in rows.iter_mut().skip(1).zip(zips) {
        row.zip_mib = Some(zip);
    }
    Ok(rows)
}

/// Runs cargo with `args` (split at spaces) in the workspace.
fn cargo(args: &str) -> Result<(), String> {
    eprintln!("bench: cargo {args}");
    let status = Command::new("cargo")
        .current_dir(workspace_root())
        .args(args.split(' '))
        .status();
    match status {
        Ok(status) if status.success() => Ok(()),
        outcome => Err(format!("`cargo {args}` failed: {outcome:?}")),
    }
}

/// The floor's row, then each function's, all measured against one floor-function process.
async fn measure_all(options: &Options) -> Result<Vec<Row>, String> {
    let mut floor = Running::start(&options.binaries, "floor-function", Vec::new()).await;
    let mut rows = vec![floor.warm_up("*floor-function*", FUNCTIONS[0]).await?];
    for function in FUNCTIONS {
        eprintln!("bench: measuring {}", function.0);
        let row = measure(*function, &mut floor, options).await;
        rows.push(row.map_err(|e| format!("{}: {e}", function.0))?);
        rows[0].cpu_ns += rows.last().map_or(0, |row| row.floor_ns);
    }
    (rows[0].floor_ns, rows[0].wall) = (rows[0].cpu_ns, floor.wall);
    Ok(rows)
}

async fn measure(
    function: (&'static str, &'static str, Sink),
    floor: &mut Running,
    options: &Options,
) -> Result<Row, String> {
    let sink = Started::start(function.2).await;
    let mut cold_starts = Vec::new();
    for n in 0..options.cold_starts {
        cold_starts.push(cold_start(&options.binaries, function, n, &sink).await?);
    }
    let mut process = Running::start(&options.binaries, function.0, sink.settings()).await;
    process.sent = options.cold_starts;
    let mut row = process.warm_up(function.0, function).await?;
    (row.ready, row.first_message) = cold_starts.into_iter().unzip();
    for round in 0..ROUNDS {
        let n = options.events / ROUNDS;
        let (first, second) = if round % 2 == 0 {
            (&mut *floor, &mut process)
        } else {
            (&mut process, &mut *floor)
        };
        let (a, b) = (
            first.invoke(function, n).await?,
            second.invoke(function, n).await?,
        );
        let (floor_ns, cpu_ns) = if round % 2 == 0 { (a, b) } else { (b, a) };
        (row.floor_ns, row.cpu_ns) = (row.floor_ns + floor_ns, row.cpu_ns + cpu_ns);
    }
    if sink.received() != process.sent {
        return Err(format!(
            "{} messages for {} events",
            sink.received(),
            process.sent
        ));
    }
    row.wall = process.wall;
    Ok(row)
}

/// Ready and first message of a new process, invoked right away.
async fn cold_start(
    dir: &Path,
    function: (&'static str, &'static str, Sink),
    n: usize,
    sink: &Started,
) -> Result<(Duration, Duration), String> {
    let api = RuntimeApi::start_for(function.0).await;
    let (settings, before) = (sink.settings(), sink.received());
    let spawned = Instant::now();
    let _process = FunctionProcess::spawn(dir.join(function.0), &api, settings);
    let invoke = api.invoke(event(function, n)?, TIMEOUT);
    tokio::pin!(invoke);
    let first_message = tokio::select! {
        biased;
        () = sink.wait_for(before + 1) => spawned.elapsed(),
        outcome = &mut invoke => return Err(format!("first event: {outcome:?}")),
    };
    answered(invoke.await)?;
    let polled = api.first_polled_at().ok_or("no GET /next recorded")?;
    Ok((polled - spawned, first_message))
}

/// A process under its own Runtime API stand-in, the events it was sent, and each one's time.
struct Running {
    api: RuntimeApi,
    process: FunctionProcess,
    sent: usize,
    wall: Vec<Duration>,
}

impl Running {
    async fn start(dir: &Path, name: &str, env: Vec<(&str, String)>) -> Self {
        let api = RuntimeApi::start_for(name).await;
        let process = FunctionProcess::spawn(dir.join(name), &api, env);
        Self {
            api,
            process,
            sent: 0,
            wall: Vec::new(),
        }
    }

    /// A row named `name` with the peak RSS after `RSS_EVENTS` events, which are not counted.
    async fn warm_up(
        &mut self,
        name: &'static str,
        function: (&'static str, &'static str, Sink),
    ) -> Result<Row, String> {
        self.invoke(function, RSS_EVENTS).await?;
        self.wall.clear();
        let rss_mib = self.usage()?.peak_rss_kib as f64 / 1024.0;
        Ok(Row {
            name,
            rss_mib,
            ..Row::default()
        })
    }

    /// Invokes the process `n` times, each with a new rack event; returns the CPU nanoseconds it spent.
    async fn invoke(
        &mut self,
        function: (&'static str, &'static str, Sink),
        n: usize,
    ) -> Result<u64, String> {
        let before = self.usage()?.cpu_ns;
        for _ in 0..n {
            let event = event(function, self.sent)?;
            let started = Instant::now();
            answered(self.api.invoke(event, TIMEOUT).await)?;
            self.wall.push(started.elapsed());
            self.sent += 1;
        }
        Ok(self.usage()?.cpu_ns.saturating_sub(before))
    }

    fn usage(&self) -> Result<Usage, String> {
        let (pid, name) = (self.process.id(), self.api.function_name());
        Usage::of(pid).map_err(|e| format!("{name}: /proc/{pid}: {e}"))
    }
}

/// The `n`th event for `function`: its sample moved `n` seconds on, so that each is a rack event of its
/// own (a repeat would be skipped as a duplicate), from the `n`th rack (a channel each); the receiver gets
/// the payload as a webhook request.
fn event((_, sample, sink): (&str, &str, Sink), n: usize) -> Result<Value, String> {
    let path = workspace_root().join("events").join(sample);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut event: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let at =
        DateTime::parse_from_rfc3339(event["detail"]["timestamp"].as_str().unwrap_or_default());
    let at =
        at.map_err(|e| format!("{sample}: timestamp: {e}"))? + chrono::Duration::seconds(n as i64);
    event["detail"]["timestamp"] = at.to_rfc3339().into();
    Ok(match sink {
        Sink::Chat => {
            event["detail"]["data"]["rack"] = format!("rack-{}", n % sink::CHANNELS).into();
            event
        }
        Sink::Bus => function_url_event("POST", &[], event["detail"].to_string().as_bytes(), false),
    })
}

fn answered(outcome: Invocation) -> Result<(), String> {
    match outcome {
        Invocation::Ok(_) => Ok(()),
        other => Err(format!("{other:?}")),
    }
}
