//! `bench-functions`: cold start, time to first message, CPU per warm event, memory, connections opened and
//! arm64 package size of the six release-built functions, printed as a markdown table.
//!
//! `cargo run --release -p tools --bin bench-functions -- [--events N] [--cold-starts N] [--no-package]
//! [--bin-dir DIR] [--instructions]`

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use serde_json::Value;
use shared::Category;
use shared::category::{Disposition, disposition};
use shared::destination::Provider;
use shared::event::RackEvent;
use standins::{FunctionProcess, Invocation, RuntimeApi};
use tools::callgrind::{self, instructions_per_event};
use tools::connections::ConnectionCounter;
use tools::local::{Chat, Sample, command_line, function_name, load_samples, workspace_root};
use tools::procfs::{Usage, clock_tick, machine};

const USAGE: &str = "\
usage: cargo run --release -p tools --bin bench-functions -- [--events N] [--cold-starts N] [--no-package]
                                                              [--bin-dir DIR] [--instructions]

Builds the six notify-* functions in release mode and runs each under a local Lambda Runtime API against a
local Slack stand-in (token from NOTIFICATIONS_TOKEN, no rate limit). Prints a markdown table: cold start
to the first GET /next and to the first message at the stand-in (medians over --cold-starts, default 5),
CPU per warm event over --events warm invocations (default 5000, at least 100) and how much of it was in
the kernel, the part of it that is the handler's (the process's CPU less that of floor-function, the same
wiring answering at once, invoked in alternating rounds so that both see the same machine; the median of
the rounds; in the floor's row, the same between two floor-functions, the method's error), peak RSS
after 100 events and its growth over the rest, TCP connections opened to the chat API, and the arm64
bootstrap.zip size from `cargo lambda build` (skipped with --no-package). --bin-dir measures the notify-*
binaries found in DIR instead, e.g. those of another build to compare. --instructions adds a second table:
the user-space instructions per warm event of each function and of floor-function, counted by valgrind's
callgrind over --events events after 100: the same on every run, so it compares changes too small for the
CPU times to show.";

const INVOKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Warm invocations before CPU is counted, so one-time work of the second event does not count as warm.
const WARM_UP_EVENTS: usize = 5;
/// The memory target is the peak over this many events.
const RSS_EVENTS: usize = 100;
/// Alternating rounds of the function and the floor: the machine's speed drifts between runs by more
/// than the handler's share, so both are measured in the same moments. One function's single rounds
/// ranged from about half to 1.4 times their median here, so the median needs this many.
const ROUNDS: usize = 10;

/// The targets the table is checked against.
const READY_MAX_MS: f64 = 10.0;
const FIRST_MESSAGE_MAX_MS: f64 = 15.0;
const CPU_MAX_US: f64 = 100.0;
const RSS_MAX_MIB: f64 = 10.0;
const ZIP_MAX_MIB: f64 = 4.0;

struct Options {
    events: usize,
    cold_starts: usize,
    package: bool,
    bin_dir: Option<PathBuf>,
    instructions: bool,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        events: 5000,
        cold_starts: 5,
        package: true,
        bin_dir: None,
        instructions: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut count = |name: &str| -> Result<usize, String> {
            args.next()
                .and_then(|n| n.parse().ok())
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("{name} needs a positive number"))
        };
        match arg.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--events" => options.events = count("--events")?.max(RSS_EVENTS),
            "--cold-starts" => options.cold_starts = count("--cold-starts")?,
            "--no-package" => options.package = false,
            "--instructions" => options.instructions = true,
            "--bin-dir" => {
                options.bin_dir = Some(args.next().ok_or("--bin-dir needs a directory")?.into());
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let options = match command_line("bench-functions", USAGE, parse_args()) {
        Ok(options) => options,
        Err(exit) => return exit,
    };
    let samples = match load_samples(&[]) {
        Ok(samples) => samples,
        Err(problem) => {
            eprintln!("bench-functions: {problem}");
            return ExitCode::FAILURE;
        }
    };

    // Everything is built before anything is timed: cargo and zig would otherwise compete for the CPUs.
    let mut functions = Vec::new();
    for category in Category::ALL {
        let name = function_name(category);
        let binary = match &options.bin_dir {
            Some(dir) if !dir.join(&name).is_file() => {
                eprintln!("bench-functions: no {name} in {}: skipped", dir.display());
                continue;
            }
            Some(dir) => dir.join(&name),
            None => {
                eprintln!("bench-functions: building {name} (release)");
                match release_binary(&name, &name) {
                    Ok(binary) => binary,
                    Err(problem) => {
                        eprintln!("bench-functions: {problem}");
                        return ExitCode::FAILURE;
                    }
                }
            }
        };
        let Some(sample) = posted_sample(&samples, category) else {
            eprintln!("bench-functions: no sample in events/ that {name} posts");
            return ExitCode::FAILURE;
        };
        functions.push((name, binary, sample));
    }
    eprintln!("bench-functions: building floor-function (release)");
    let floor = match release_binary("tools", "floor-function") {
        Ok(binary) => binary,
        Err(problem) => {
            eprintln!("bench-functions: {problem}");
            return ExitCode::FAILURE;
        }
    };
    let names: Vec<&str> = functions.iter().map(|(name, ..)| name.as_str()).collect();
    let packages = if options.bin_dir.is_some() {
        // cargo lambda packages the workspace's code, which need not be what DIR holds.
        Err("not measured (--bin-dir)".into())
    } else if options.package {
        eprintln!("bench-functions: building the arm64 packages with cargo lambda");
        package_sizes(&names)
    } else {
        Err("not measured (--no-package)".into())
    };

    let runtime = tokio::runtime::Runtime::new().expect("start the async runtime");
    eprintln!("bench-functions: measuring the lambda_runtime floor");
    let floor_row = runtime.block_on(measure_floor(&floor, &functions[0].2.event, &options));
    let mut rows = Vec::new();
    for (name, binary, sample) in &functions {
        eprintln!("bench-functions: measuring {name} with {}", sample.file);
        let row = runtime.block_on(measure(binary, &floor, name, sample, &options));
        rows.push((name.as_str(), row));
    }

    let (table, misses) = report(&rows, &floor_row, &packages, &options);
    println!("{table}");
    if options.instructions {
        eprintln!("bench-functions: counting instructions under callgrind");
        match runtime.block_on(instruction_table(&functions, &floor, &options)) {
            Ok(table) => println!("{table}"),
            Err(problem) => {
                eprintln!("bench-functions: instructions: {problem}");
                return ExitCode::FAILURE;
            }
        }
    }
    if floor_row.is_err() || rows.iter().any(|(_, row)| row.is_err()) {
        return ExitCode::FAILURE;
    }
    if !misses.is_empty() {
        eprintln!("bench-functions: targets missed: {}", misses.join("; "));
    }
    ExitCode::SUCCESS
}

/// Builds `bin` of `package` with the release profile the deployed functions use, whatever profile this
/// tool has.
fn release_binary(package: &str, bin: &str) -> Result<PathBuf, String> {
    escargot::CargoBuild::new()
        .manifest_path(workspace_root().join("Cargo.toml"))
        .package(package)
        .bin(bin)
        .release()
        .run()
        .map(|built| built.path().to_path_buf())
        .map_err(|e| {
            format!("building {bin} failed ({e}); run `cargo build --release -p {package}`")
        })
}

/// The first sample of `category` that is posted rather than skipped.
fn posted_sample(samples: &[Sample], category: Category) -> Option<&Sample> {
    samples.iter().find(|sample| {
        sample.category == category
            && RackEvent::from_eventbridge(sample.event.clone())
                .is_ok_and(|event| disposition(&event) == Disposition::Post)
    })
}

struct Row {
    ready: Vec<Duration>,
    first_message: Vec<Duration>,
    /// The process's CPU time when its first message arrived: unlike the wall-clock times, it hardly
    /// changes when other work competes for the CPUs.
    cold_cpu: Vec<Duration>,
    warm: Warm,
    /// CPU per event beyond floor-function's, the median of `ROUNDS` alternating rounds.
    handler_us: f64,
    connections: usize,
}

/// CPU and memory of a started process over `events` invocations.
struct Warm {
    events: usize,
    /// `utime` and `stime` over the events.
    user_ticks: u64,
    system_ticks: u64,
    cpu_ns: u64,
    /// `VmHWM` once the process has handled `RSS_EVENTS` events, and at the end.
    rss_kib: u64,
    end_rss_kib: u64,
}

impl Warm {
    fn tick_us(&self, ticks: u64, tick: Duration) -> f64 {
        ticks as f64 * tick.as_secs_f64() * 1e6 / self.events as f64
    }

    fn sched_us(&self) -> f64 {
        self.cpu_ns as f64 / 1e3 / self.events as f64
    }

    /// Memory kept per 1000 events beyond the first `RSS_EVENTS`.
    fn growth_kib(&self) -> f64 {
        let later = self.events + WARM_UP_EVENTS + 1 - RSS_EVENTS;
        self.end_rss_kib.saturating_sub(self.rss_kib) as f64 * 1000.0 / later as f64
    }
}

async fn measure(
    binary: &Path,
    floor: &Path,
    name: &str,
    sample: &Sample,
    options: &Options,
) -> Result<Row, String> {
    let chat = Chat::start(Provider::Slack).await;
    let mut ready = Vec::new();
    let mut first_message = Vec::new();
    let mut cold_cpu = Vec::new();
    for _ in 0..options.cold_starts {
        let api = RuntimeApi::start_for(name).await;
        let spawned = Instant::now();
        let process = FunctionProcess::spawn(binary, &api, chat.settings(&chat.api_url()));
        let posted = first_message_at(&api, &chat, sample).await?;
        let usage = usage(process.id())?;
        let polled = api.first_polled_at().ok_or("no GET /next recorded")?;
        ready.push(polled - spawned);
        first_message.push(posted - spawned);
        cold_cpu.push(Duration::from_nanos(usage.cpu_ns));
    }

    // One more process, whose connections to the chat API pass through a counter.
    let counter = ConnectionCounter::start(&chat.api_url()).await;
    let api = RuntimeApi::start_for(name).await;
    let process = FunctionProcess::spawn(binary, &api, chat.settings(counter.url()));
    first_message_at(&api, &chat, sample).await?;
    let function_turn = Turn {
        api: &api,
        pid: process.id(),
        check: delivered,
    };
    let warm = warm(function_turn, &sample.event, options).await?;

    let (floor_api, floor_process) = start_floor(floor, &sample.event).await?;
    let floor_turn = Turn {
        api: &floor_api,
        pid: floor_process.id(),
        check: answered,
    };
    let handler_us = median_share(floor_turn, function_turn, &sample.event, options).await?;
    Ok(Row {
        ready,
        first_message,
        cold_cpu,
        warm,
        handler_us,
        connections: counter.accepted(),
    })
}

/// A started process under its Runtime API stand-in, and what its answers must be.
#[derive(Clone, Copy)]
struct Turn<'a> {
    api: &'a RuntimeApi,
    pid: u32,
    check: fn(Invocation) -> Result<(), String>,
}

impl Turn<'_> {
    /// One invocation, whose answer must pass the check.
    async fn invoke(self, event: &Value) -> Result<(), String> {
        (self.check)(self.api.invoke(event.clone(), INVOKE_TIMEOUT).await)
    }

    /// The scheduler's CPU nanoseconds of the process over `events` invocations.
    async fn cpu_ns_over(self, event: &Value, events: usize) -> Result<u64, String> {
        let before = usage(self.pid)?;
        for _ in 0..events {
            self.invoke(event).await?;
        }
        Ok(usage(self.pid)?.cpu_ns.saturating_sub(before.cpu_ns))
    }
}

/// How much more CPU per event `subject` takes than `base` (µs): the median of `ROUNDS` rounds in which
/// both take turns, `base` first in even rounds and second in odd ones: with the same order in every
/// round, two copies of `floor-function` came out 4 to 33 µs apart, the later one dearer; in both
/// orders, −4 to +3 µs. `base` is a process just started: it first gets a round's worth of events, as
/// `subject` has had its warm ones, since a new process's first events still touch fresh memory.
async fn median_share(
    base: Turn<'_>,
    subject: Turn<'_>,
    event: &Value,
    options: &Options,
) -> Result<f64, String> {
    let per_round = (options.events / ROUNDS).max(1);
    base.cpu_ns_over(event, per_round).await?;
    let mut shares = Vec::new();
    for round in 0..ROUNDS {
        let (base_ns, subject_ns) = if round % 2 == 0 {
            let base_ns = base.cpu_ns_over(event, per_round).await?;
            (base_ns, subject.cpu_ns_over(event, per_round).await?)
        } else {
            let subject_ns = subject.cpu_ns_over(event, per_round).await?;
            (base.cpu_ns_over(event, per_round).await?, subject_ns)
        };
        shares.push((subject_ns as f64 - base_ns as f64) / 1e3 / per_round as f64);
    }
    Ok(median(shares))
}

/// `floor-function` under the same Runtime API stand-in, given the same event; and the handler's share
/// that the rounds find between it and a second `floor-function`, which should be none: the error of
/// the method in this run.
async fn measure_floor(
    binary: &Path,
    event: &Value,
    options: &Options,
) -> Result<(Warm, f64), String> {
    let turn = |api, pid| Turn {
        api,
        pid,
        check: answered,
    };
    let (api, process) = start_floor(binary, event).await?;
    let first = turn(&api, process.id());
    let warm = warm(first, event, options).await?;
    let (second_api, second) = start_floor(binary, event).await?;
    let error_us = median_share(turn(&second_api, second.id()), first, event, options).await?;
    Ok((warm, error_us))
}

/// `floor-function` started under its own Runtime API stand-in, once it has answered its first event.
async fn start_floor(
    binary: &Path,
    event: &Value,
) -> Result<(RuntimeApi, FunctionProcess), String> {
    let api = RuntimeApi::start_for("floor-function").await;
    let process = FunctionProcess::spawn(binary, &api, Vec::<(&str, &str)>::new());
    answered(api.invoke(event.clone(), INVOKE_TIMEOUT).await)?;
    Ok((api, process))
}

/// Warms a process that has handled one event up, then counts its CPU over `options.events` more.
async fn warm(turn: Turn<'_>, event: &Value, options: &Options) -> Result<Warm, String> {
    for _ in 0..WARM_UP_EVENTS {
        turn.invoke(event).await?;
    }
    let before = usage(turn.pid)?;
    let mut rss_kib = 0;
    for handled in WARM_UP_EVENTS + 1..WARM_UP_EVENTS + 1 + options.events {
        if handled == RSS_EVENTS {
            rss_kib = usage(turn.pid)?.peak_rss_kib;
        }
        turn.invoke(event).await?;
    }
    let after = usage(turn.pid)?;
    Ok(Warm {
        events: options.events,
        user_ticks: after.user_ticks - before.user_ticks,
        system_ticks: after.system_ticks - before.system_ticks,
        cpu_ns: after.cpu_ns.saturating_sub(before.cpu_ns),
        rss_kib,
        end_rss_kib: after.peak_rss_kib,
    })
}

fn usage(pid: u32) -> Result<Usage, String> {
    Usage::of(pid).map_err(|e| format!("/proc/{pid}: {e}"))
}

/// Invokes a freshly spawned function right away; returns when the stand-in received its message.
async fn first_message_at(
    api: &RuntimeApi,
    chat: &Chat,
    sample: &Sample,
) -> Result<Instant, String> {
    let before = chat.posted_count();
    let invoke = api.invoke(sample.event.clone(), INVOKE_TIMEOUT);
    tokio::pin!(invoke);
    // The stand-in counts a message before it answers, so the post is seen before the invocation ends;
    // the wait outlasts the invocation's own timeout so a failure shows as the invocation's.
    let posted_at = tokio::select! {
        biased;
        () = chat.wait_for_posted(before + 1, INVOKE_TIMEOUT * 2) => Instant::now(),
        outcome = &mut invoke => return Err(format!("first event: {}", unexpected(outcome))),
    };
    delivered(invoke.await)?;
    Ok(posted_at)
}

fn delivered(outcome: Invocation) -> Result<(), String> {
    match outcome {
        Invocation::Ok(report) if report.get("delivered").is_some() => Ok(()),
        other => Err(unexpected(other)),
    }
}

fn answered(outcome: Invocation) -> Result<(), String> {
    match outcome {
        Invocation::Ok(_) => Ok(()),
        other => Err(unexpected(other)),
    }
}

fn unexpected(outcome: Invocation) -> String {
    match outcome {
        Invocation::Ok(report) => format!("nothing delivered: {report}"),
        Invocation::Err(e) | Invocation::InitError(e) => {
            format!("{}: {}", e.error_type, e.error_message)
        }
        Invocation::TimedOut => format!("no answer within {INVOKE_TIMEOUT:?}"),
    }
}

/// `bootstrap.zip` size per function from one `cargo lambda build --release --arm64 --output-format zip`.
fn package_sizes(names: &[&str]) -> Result<Vec<u64>, String> {
    let Some(cargo_lambda) = find_cargo_lambda() else {
        return Err("cargo-lambda not found on PATH (or in .venv/bin): not measured".into());
    };
    let mut command = Command::new(&cargo_lambda);
    command.current_dir(workspace_root()).args([
        "lambda",
        "build",
        "--release",
        "--arm64",
        "--output-format",
        "zip",
    ]);
    for name in names {
        command.args(["--bin", name]);
    }
    // cargo-lambda runs the zig that its Python package installed next to it.
    if let Some(dir) = cargo_lambda.parent() {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let paths = std::iter::once(dir.to_path_buf()).chain(std::env::split_paths(&path));
        command.env("PATH", std::env::join_paths(paths).unwrap_or(path));
    }
    let status = command
        .status()
        .map_err(|e| format!("cannot run {}: {e}", cargo_lambda.display()))?;
    if !status.success() {
        return Err(format!("`cargo lambda build` failed ({status})"));
    }
    names
        .iter()
        .map(|name| {
            let zip = target_dir().join("lambda").join(name).join("bootstrap.zip");
            std::fs::metadata(&zip)
                .map(|meta| meta.len())
                .map_err(|e| format!("{}: {e}", zip.display()))
        })
        .collect()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from)
}

fn find_cargo_lambda() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([workspace_root().join(".venv/bin")])
        .map(|dir| dir.join("cargo-lambda"))
        .find(|candidate| candidate.is_file())
}

fn median_ms(values: &[Duration]) -> f64 {
    median(values.iter().map(|d| d.as_secs_f64() * 1e3).collect())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn range_ms(values: &[Duration]) -> String {
    let ms = |d: &Duration| d.as_secs_f64() * 1e3;
    let min = values.iter().map(ms).fold(f64::INFINITY, f64::min);
    let max = values.iter().map(ms).fold(0.0, f64::max);
    format!("{min:.1}–{max:.1}")
}

/// The markdown report, and the targets each function missed.
fn report(
    rows: &[(&str, Result<Row, String>)],
    floor: &Result<(Warm, f64), String>,
    packages: &Result<Vec<u64>, String>,
    options: &Options,
) -> (String, Vec<String>) {
    let (cpu, cores) = machine();
    let tick = clock_tick();
    let rustc = Command::new("rustc")
        .arg("-V")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .unwrap_or_default();
    let mut out = String::new();
    let _ = writeln!(out, "## Function benchmarks\n");
    let binaries = match &options.bin_dir {
        Some(dir) => format!("binaries from {}", dir.display()),
        None => "functions built with the release profile".to_owned(),
    };
    let _ = writeln!(
        out,
        "{} · {cpu}, {cores} cores · {} · {binaries}",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        rustc.trim()
    );
    let _ = writeln!(
        out,
        "\nCold start: medians (min–max) over {} starts, spawn → first GET /next (ready) and → message \
         received by the Slack stand-in (invoked right away); cold CPU: the process's CPU time by then \
         (scheduler's ns counters, median). CPU / warm event: utime+stime over {} warm events (clock tick \
         {} ms) and, in brackets, the scheduler's ns counters; user / kernel: utime and stime; handler: \
         the scheduler's ns less those of floor-function (the same wiring answering at once) over \
         {ROUNDS} alternating rounds of {} events each, median; in the floor's row, the same between \
         floor-function and a second one, which should be 0: the method's error in this run. RSS: VmHWM \
         after {RSS_EVENTS} events, and its growth per 1000 events after that.\n",
        options.cold_starts,
        options.events,
        tick.as_millis(),
        (options.events / ROUNDS).max(1),
    );
    let _ = writeln!(
        out,
        "| Function | Ready (ms) | First message (ms) | Cold CPU (ms) | CPU / warm event (µs) | User / kernel (µs) | Handler (µs) | Peak RSS (MiB) | RSS growth (KiB / 1000 events) | Connections to Slack | arm64 bootstrap.zip (MiB) |"
    );
    let _ = writeln!(
        out,
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    let mut misses = Vec::new();
    match floor {
        Ok((floor, error_us)) => {
            let _ = writeln!(
                out,
                "| *lambda_runtime floor* | | | | {} | {error_us:+.0} | {:.1} | {:.0} | | |",
                cpu_cells(floor, tick),
                floor.rss_kib as f64 / 1024.0,
                floor.growth_kib()
            );
        }
        Err(problem) => {
            let _ = writeln!(
                out,
                "| *lambda_runtime floor* | error: {problem} | | | | | | | | | |"
            );
            misses.push("floor-function failed".to_owned());
        }
    }
    for (index, (name, row)) in rows.iter().enumerate() {
        let zip = match packages {
            Ok(sizes) => {
                let mib = sizes[index] as f64 / (1024.0 * 1024.0);
                if mib > ZIP_MAX_MIB {
                    misses.push(format!("{name} package {mib:.2} MiB"));
                }
                format!("{mib:.2}")
            }
            Err(problem) => problem.clone(),
        };
        let row = match row {
            Ok(row) => row,
            Err(problem) => {
                let _ = writeln!(out, "| {name} | error: {problem} | | | | | | | | | {zip} |");
                misses.push(format!("{name} failed"));
                continue;
            }
        };
        let ready = median_ms(&row.ready);
        let first = median_ms(&row.first_message);
        let handler = row.handler_us;
        let rss = row.warm.rss_kib as f64 / 1024.0;
        for (missed, what) in [
            (ready > READY_MAX_MS, format!("ready {ready:.1} ms")),
            (
                first > FIRST_MESSAGE_MAX_MS,
                format!("first message {first:.1} ms"),
            ),
            (
                handler > CPU_MAX_US,
                format!("handler CPU {handler:.0} µs/event"),
            ),
            (rss > RSS_MAX_MIB, format!("peak RSS {rss:.1} MiB")),
            (
                row.connections != 1,
                format!("{} connections", row.connections),
            ),
        ] {
            if missed {
                misses.push(format!("{name} {what}"));
            }
        }
        let _ = writeln!(
            out,
            "| {name} | {ready:.1} ({}) | {first:.1} ({}) | {:.1} | {} | {handler:.0} | {rss:.1} | {:.0} | {} | {zip} |",
            range_ms(&row.ready),
            range_ms(&row.first_message),
            median_ms(&row.cold_cpu),
            cpu_cells(&row.warm, tick),
            row.warm.growth_kib(),
            row.connections,
        );
    }
    let _ = writeln!(
        out,
        "| *target* | ≤ {READY_MAX_MS} | ≤ {FIRST_MESSAGE_MAX_MS} | | | | ≤ {CPU_MAX_US} | ≤ {RSS_MAX_MIB} | | 1 | ≤ {ZIP_MAX_MIB} |"
    );
    let _ = writeln!(
        out,
        "\n{}",
        if misses.is_empty() {
            "All targets met.".to_owned()
        } else {
            format!("Targets missed: {}.", misses.join("; "))
        }
    );
    (out, misses)
}

/// CPU per warm event, then the part of it in user space and in the kernel.
fn cpu_cells(warm: &Warm, tick: Duration) -> String {
    format!(
        "{:.0} [{:.0}] | {:.0} / {:.0}",
        warm.tick_us(warm.user_ticks + warm.system_ticks, tick),
        warm.sched_us(),
        warm.tick_us(warm.user_ticks, tick),
        warm.tick_us(warm.system_ticks, tick),
    )
}

/// Instructions per warm event of each function and of floor-function given the same event, as a
/// markdown table.
async fn instruction_table(
    functions: &[(String, PathBuf, &Sample)],
    floor: &Path,
    options: &Options,
) -> Result<String, String> {
    if !callgrind::available() {
        return Err("valgrind not found on PATH".into());
    }
    let counted = (RSS_EVENTS, options.events);
    let dumps = target_dir().join("callgrind");
    let mut out = format!(
        "User-space instructions per warm event (callgrind, {} events after {RSS_EVENTS}); floor: \
         floor-function given the same event; handler: the function's less the floor's. Where they went: \
         `callgrind_annotate {}/<function>/out.1` (a build with symbols tells more).\n\n\
         | Function | Instructions / warm event | Floor | Handler |\n| --- | ---: | ---: | ---: |\n",
        options.events,
        dumps.display()
    );
    let chat = Chat::start(Provider::Slack).await;
    for (name, binary, sample) in functions {
        let api = RuntimeApi::start_for("floor-function").await;
        let dir = dumps.join(format!("floor-function-{name}"));
        let no_env = Vec::<(&str, &str)>::new();
        let floor_count =
            instructions_per_event(&dir, floor, &api, no_env, &sample.event, counted, answered)
                .await
                .map_err(|e| format!("floor-function: {e}"))?;
        let api = RuntimeApi::start_for(name).await;
        let env = chat.settings(&chat.api_url());
        let dir = dumps.join(name);
        let count =
            instructions_per_event(&dir, binary, &api, env, &sample.event, counted, delivered)
                .await
                .map_err(|e| format!("{name}: {e}"))?;
        let _ = writeln!(
            out,
            "| {name} | {count:.0} | {floor_count:.0} | {:.0} |",
            count - floor_count
        );
    }
    Ok(out)
}
