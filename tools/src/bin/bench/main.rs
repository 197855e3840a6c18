//! `bench`: cold start, first message, time and CPU per warm event, peak RSS and arm64 package size of
//! each function built with the release profile, printed as a markdown table (docs/benchmarks.md).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use serde_json::Value;
use shared::destination::Provider;
use standins::{FunctionProcess, Invocation, RuntimeApi};
use tools::local::{Chat, command_line, workspace_root};
use tools::procfs::{Usage, machine};

#[cfg(test)]
mod tests;

const USAGE: &str = "\
usage: cargo run --release -p tools --bin bench -- [--events N] [--cold-starts N] [--no-package]
                                                   [--bin-dir DIR]

Builds the functions and floor-function with the release profile, runs each under a local Lambda
Runtime API and prints a markdown table. --events: warm events per function (default 5000);
--cold-starts: cold starts per function (default 5); --no-package: no arm64 build with cargo-lambda
(which must be on PATH); --bin-dir DIR: measure the binaries in DIR instead (another build, to compare),
no build, no package. docs/benchmarks.md says what each column means.";

/// A benchmarked function: its package and binary, the file of `events/` it gets, where it delivers.
struct Function {
    name: &'static str,
    sample: &'static str,
    receiver: Receiver,
}

const fn slack(name: &'static str, sample: &'static str) -> Function {
    let receiver = Receiver::Chat(Provider::Slack);
    Function {
        name,
        sample,
        receiver,
    }
}

/// The functions in table order: a new function is one more line.
const FUNCTIONS: &[Function] = &[
    slack("notify-app", "app-create.json"),
    slack("notify-release", "app-promote-cancelled.json"),
    slack("notify-infrastructure", "rack-update.json"),
    slack("notify-workflow", "workflow-complete.json"),
    slack("notify-alert", "alert-firing.json"),
    slack("notify-budget", "app-budget-auto-shutdown-armed.json"),
];

/// Where a function's messages go: the bench starts it and times the first message's arrival there.
/// A function whose first message is not a chat post (a webhook, say) adds a variant here and one in
/// `Sink` for its stand-in, which the compiler then asks for in each of `Sink`'s methods.
#[derive(Clone, Copy)]
enum Receiver {
    /// The chat stand-in with the built-in routes and no rate limit (`tools::local::Chat`).
    Chat(Provider),
}

/// A started [`Receiver`].
enum Sink {
    Chat(Chat),
}

impl Sink {
    async fn start(receiver: Receiver) -> Self {
        let Receiver::Chat(provider) = receiver;
        Self::Chat(Chat::start(provider).await)
    }

    /// The settings (environment) that make a function deliver here.
    fn settings(&self) -> Vec<(&'static str, String)> {
        let Self::Chat(chat) = self;
        chat.settings(&chat.api_url())
    }

    fn received(&self) -> usize {
        let Self::Chat(chat) = self;
        chat.posted_count()
    }

    /// Returns once `total` messages arrived; the wait outlasts an invocation's, whose error says more.
    async fn wait_for(&self, total: usize) {
        let Self::Chat(chat) = self;
        chat.wait_for_posted(total, TIMEOUT * 2).await;
    }
}

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
    /// The binaries measured, and whether the bench builds them there first.
    binaries: PathBuf,
    build: bool,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
    let (mut events, mut cold_starts, mut package) = (5000, 5, true);
    let (mut binaries, mut build) = (target_dir().join("release"), true);
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut count = || {
            let n = args.next().and_then(|n| n.parse::<usize>().ok());
            let problem = format!("{arg} needs a positive number");
            n.filter(|&n| n > 0).ok_or(problem)
        };
        match arg.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--events" => events = count()?.max(ROUNDS) / ROUNDS * ROUNDS,
            "--cold-starts" => cold_starts = count()?,
            "--no-package" => package = false,
            "--bin-dir" => {
                binaries = args.next().ok_or("--bin-dir needs a directory")?.into();
                (build, package) = (false, false);
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(Options {
        events,
        cold_starts,
        package,
        binaries,
        build,
    })
}

fn main() -> ExitCode {
    let options = match command_line("bench", USAGE, parse_args(std::env::args().skip(1))) {
        Ok(options) => options,
        Err(exit) => return exit,
    };
    let rows = bench(&options).map(|rows| println!("{}", report(&rows, &options)));
    let problem = rows.err().inspect(|problem| eprintln!("bench: {problem}"));
    problem.map_or(ExitCode::SUCCESS, |_| ExitCode::FAILURE)
}

/// Builds everything before timing anything, so that the compilers do not compete with the processes.
fn bench(options: &Options) -> Result<Vec<Row>, String> {
    if options.build {
        run(&format!("build --release{}", each("-p")))?;
        run("build --release -p tools --bin floor-function")?;
    }
    let zips = options.package.then(package_sizes).transpose()?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("async runtime: {e}"))?;
    let mut rows = runtime.block_on(measure_all(options))?;
    for (row, zip) in rows.iter_mut().skip(1).zip(zips.into_iter().flatten()) {
        row.zip_mib = Some(zip);
    }
    Ok(rows)
}

/// The zipped arm64 `bootstrap` of each function, in MiB, from one `cargo lambda build`.
fn package_sizes() -> Result<Vec<f64>, String> {
    let bins = each("--bin");
    run(&format!(
        "lambda build --release --arm64 --output-format zip{bins}"
    ))?;
    let size = |f: &Function| {
        let zip = target_dir().join(format!("lambda/{}/bootstrap.zip", f.name));
        let meta = std::fs::metadata(&zip).map_err(|e| format!("{}: {e}", zip.display()))?;
        Ok(meta.len() as f64 / 1024.0 / 1024.0)
    };
    FUNCTIONS.iter().map(size).collect()
}

/// `flag` and each function's name, as arguments of a cargo command.
fn each(flag: &str) -> String {
    FUNCTIONS
        .iter()
        .map(|f| format!(" {flag} {}", f.name))
        .collect()
}

/// Runs cargo with `args` (split at spaces) in the workspace.
fn run(args: &str) -> Result<(), String> {
    eprintln!("bench: cargo {args}");
    let mut cargo = Command::new("cargo");
    cargo.current_dir(workspace_root());
    match cargo.args(args.split(' ')).status() {
        Ok(status) if status.success() => Ok(()),
        outcome => Err(format!("`cargo {args}` failed: {outcome:?}")),
    }
}

fn target_dir() -> PathBuf {
    let dir = std::env::var_os("CARGO_TARGET_DIR");
    dir.map_or_else(|| workspace_root().join("target"), PathBuf::from)
}

/// One line of the table: the floor's or a function's.
#[derive(Default)]
struct Row {
    name: &'static str,
    ready: Vec<Duration>,
    first_message: Vec<Duration>,
    /// Each warm invocation's time, from queuing the event to the function's answer.
    wall: Vec<Duration>,
    /// CPU over the warm events, and the floor's over as many in the same rounds.
    cpu_ns: u64,
    floor_ns: u64,
    rss_mib: f64,
    zip_mib: Option<f64>,
}

/// The floor's row, then each function's, all measured against one floor-function process.
async fn measure_all(options: &Options) -> Result<Vec<Row>, String> {
    let dir = &options.binaries;
    let mut floor = Running::start(dir, "floor-function", Vec::new()).await;
    let event = read_sample(FUNCTIONS[0].sample)?;
    let mut rows = vec![floor.warm_up("*floor-function*", &event).await?];
    for function in FUNCTIONS {
        eprintln!("bench: measuring {}", function.name);
        let row = measure(function, &mut floor, options).await;
        rows.push(row.map_err(|e| format!("{}: {e}", function.name))?);
        rows[0].cpu_ns += rows.last().map_or(0, |row| row.floor_ns);
    }
    rows[0].floor_ns = rows[0].cpu_ns;
    rows[0].wall = floor.wall;
    Ok(rows)
}

async fn measure(
    function: &Function,
    floor: &mut Running,
    options: &Options,
) -> Result<Row, String> {
    let event = read_sample(function.sample)?;
    let sink = Sink::start(function.receiver).await;
    let mut cold_starts = Vec::new();
    for _ in 0..options.cold_starts {
        let binary = options.binaries.join(function.name);
        cold_starts.push(cold_start(&binary, function.name, &event, &sink).await?);
    }
    let mut process = Running::start(&options.binaries, function.name, sink.settings()).await;
    let mut row = process.warm_up(function.name, &event).await?;
    (row.ready, row.first_message) = cold_starts.into_iter().unzip();
    for round in 0..ROUNDS {
        let n = options.events / ROUNDS;
        if round % 2 == 0 {
            row.floor_ns += floor.invoke(&event, n).await?;
            row.cpu_ns += process.invoke(&event, n).await?;
        } else {
            row.cpu_ns += process.invoke(&event, n).await?;
            row.floor_ns += floor.invoke(&event, n).await?;
        }
    }
    let (sent, received) = (
        options.cold_starts + RSS_EVENTS + options.events,
        sink.received(),
    );
    if received != sent {
        return Err(format!("{received} messages for {sent} events"));
    }
    row.wall = process.wall;
    Ok(row)
}

/// Ready and first message of a new process, invoked right away.
async fn cold_start(
    binary: &Path,
    name: &str,
    event: &Value,
    sink: &Sink,
) -> Result<(Duration, Duration), String> {
    let api = RuntimeApi::start_for(name).await;
    let (settings, before) = (sink.settings(), sink.received());
    let spawned = Instant::now();
    let _process = FunctionProcess::spawn(binary, &api, settings);
    let invoke = api.invoke(event.clone(), TIMEOUT);
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

/// A process under its own Runtime API stand-in, and the time each counted invocation took.
struct Running {
    api: RuntimeApi,
    process: FunctionProcess,
    wall: Vec<Duration>,
}

impl Running {
    async fn start(dir: &Path, name: &str, env: Vec<(&str, String)>) -> Self {
        let api = RuntimeApi::start_for(name).await;
        let (process, wall) = (
            FunctionProcess::spawn(dir.join(name), &api, env),
            Vec::new(),
        );
        Self { api, process, wall }
    }

    /// A row named `name` with the peak RSS after `RSS_EVENTS` events, which are not counted.
    async fn warm_up(&mut self, name: &'static str, event: &Value) -> Result<Row, String> {
        self.invoke(event, RSS_EVENTS).await?;
        self.wall.clear();
        let rss_mib = self.usage()?.peak_rss_kib as f64 / 1024.0;
        Ok(Row {
            name,
            rss_mib,
            ..Row::default()
        })
    }

    /// Invokes the process `n` times with `event`; returns the CPU nanoseconds it spent.
    async fn invoke(&mut self, event: &Value, n: usize) -> Result<u64, String> {
        let before = self.usage()?.cpu_ns;
        for _ in 0..n {
            let started = Instant::now();
            answered(self.api.invoke(event.clone(), TIMEOUT).await)?;
            self.wall.push(started.elapsed());
        }
        Ok(self.usage()?.cpu_ns.saturating_sub(before))
    }

    fn usage(&self) -> Result<Usage, String> {
        let (pid, name) = (self.process.id(), self.api.function_name());
        Usage::of(pid).map_err(|e| format!("{name}: /proc/{pid}: {e}"))
    }
}

fn read_sample(file: &str) -> Result<Value, String> {
    let path = workspace_root().join("events").join(file);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()));
    serde_json::from_str(&text?).map_err(|e| format!("{}: {e}", path.display()))
}

fn answered(outcome: Invocation) -> Result<(), String> {
    match outcome {
        Invocation::Ok(_) => Ok(()),
        other => Err(format!("{other:?}")),
    }
}

/// The markdown report: when and where, the table, the targets missed.
fn report(rows: &[Row], options: &Options) -> String {
    let table: String = rows.iter().map(table_row).collect();
    let missed: Vec<String> = rows.iter().flat_map(missed).collect();
    let verdict = match missed.as_slice() {
        [] => "All targets met.".to_owned(),
        missed => format!("Targets missed: {}.", missed.join("; ")),
    };
    let [ready, first, cpu, rss, zip] = TARGETS.map(|(_, max, unit)| format!("≤ {max} {unit}"));
    let targets = format!("| *target* | {ready} | {first} | | | {cpu} | {rss} | {zip} |");
    format!(
        "{}\n\n{TABLE_HEAD}{table}{targets}\n\n{verdict}",
        heading(options)
    )
}

fn heading(options: &Options) -> String {
    let (cpu, cores) = machine();
    let rustc = Command::new("rustc")
        .arg("-V")
        .output()
        .map(|out| out.stdout);
    let rustc = String::from_utf8(rustc.unwrap_or_default()).unwrap_or_default();
    let now = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    let (starts, events, rustc) = (options.cold_starts, options.events, rustc.trim());
    format!("{now} · {cpu}, {cores} cores · {rustc} · {starts} cold starts, {events} warm events")
}

const TABLE_HEAD: &str = "\
| Function | Ready (ms) | First message (ms) | Warm event (µs) | CPU / warm event (µs) | CPU × floor \
| Peak RSS (MiB) | arm64 zip (MiB) |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";

fn table_row(row: &Row) -> String {
    let wall_us = median(&row.wall).map_or(f64::NAN, |d| d.as_secs_f64() * 1e6);
    let cpu_us = row.cpu_ns as f64 / 1e3 / row.wall.len() as f64;
    let (ready, first) = (spread_ms(&row.ready), spread_ms(&row.first_message));
    let [_, _, ratio, rss, _] = figures(row);
    let zip = row.zip_mib.map_or(String::new(), |mib| format!("{mib:.2}"));
    let name = row.name;
    format!(
        "| {name} | {ready} | {first} | {wall_us:.0} | {cpu_us:.0} | {ratio:.2} | {rss:.1} | {zip} |\n"
    )
}

/// What is checked: the name, the largest value met, the unit.
const TARGETS: [(&str, f64, &str); 5] = [
    ("ready", 10.0, "ms"),
    ("first message", 15.0, "ms"),
    ("CPU", 1.5, "× floor"),
    ("peak RSS", 10.0, "MiB"),
    ("arm64 zip", 4.0, "MiB"),
];

/// The row's figures that `TARGETS` checks, in its order (0 where not measured).
fn figures(row: &Row) -> [f64; 5] {
    let ms = |values: &[Duration]| median(values).map_or(0.0, |d| d.as_secs_f64() * 1e3);
    let ratio = row.cpu_ns as f64 / row.floor_ns as f64;
    let (ready, first) = (ms(&row.ready), ms(&row.first_message));
    [ready, first, ratio, row.rss_mib, row.zip_mib.unwrap_or(0.0)]
}

/// What `row` misses of the targets.
fn missed(row: &Row) -> Vec<String> {
    let checked = TARGETS.iter().zip(figures(row));
    let over = checked.filter(|((_, max, _), value)| value > max);
    let name = row.name;
    over.map(|((what, _, unit), value)| format!("{name} {what} {value:.2} {unit}"))
        .collect()
}

/// Median (min–max) in ms; empty when not measured.
fn spread_ms(values: &[Duration]) -> String {
    let ms = |d: Option<&Duration>| d.map_or(0.0, |d| d.as_secs_f64() * 1e3);
    let (min, max) = (ms(values.iter().min()), ms(values.iter().max()));
    let median = median(values).map(|median| ms(Some(&median)));
    median.map_or(String::new(), |median| {
        format!("{median:.1} ({min:.1}–{max:.1})")
    })
}

/// The middle value (the upper of the two middle ones of an even count).
fn median(values: &[Duration]) -> Option<Duration> {
    let mut sorted = values.to_vec();
    sorted.sort();
    sorted.get(sorted.len() / 2).copied()
}
