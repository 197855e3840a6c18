//! The bench's markdown report: a row per process, the targets, the verdict.

use std::process::Command;
use std::time::Duration;

use tools::procfs::machine;

use super::Options;

/// One line of the table: the floor's or a function's.
#[derive(Default)]
pub(crate) struct Row {
    pub(crate) name: &'static str,
    pub(crate) ready: Vec<Duration>,
    pub(crate) first_message: Vec<Duration>,
    /// Each warm invocation's time, from queuing the event to the function's answer.
    pub(crate) wall: Vec<Duration>,
    /// CPU over the warm events, and the floor's over as many in the same rounds.
    pub(crate) cpu_ns: u64,
    pub(crate) floor_ns: u64,
    pub(crate) rss_mib: f64,
    pub(crate) zip_mib: Option<f64>,
}

/// The markdown report: when and where, the table, the targets missed.
pub(crate) fn report(rows: &[Row], options: &Options) -> String {
    let (cpu, cores) = machine();
    let rustc = Command::new("rustc")
        .arg("-V")
        .output()
        .map(|out| out.stdout)
        .unwrap_or_default();
    let now = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    let heading = format!(
        "{now} · {cpu}, {cores} cores · {} · {} cold starts, {} warm events",
        String::from_utf8_lossy(&rustc).trim(),
        options.cold_starts,
        options.events
    );
    let table: String = rows.iter().map(table_row).collect();
    let missed: Vec<String> = rows.iter().flat_map(missed).collect();
    let verdict = match missed.as_slice() {
        [] => "All targets met.".to_owned(),
        missed => format!("Targets missed: {}.", missed.join("; ")),
    };
    let [ready, first, cpu, rss, zip] = TARGETS.map(|(_, max, unit)| format!("≤ {max} {unit}"));
    format!(
        "{heading}\n\n{TABLE_HEAD}{table}| *target* | {ready} | {first} | | | {cpu} | {rss} | {zip} |\n\n{verdict}"
    )
}

const TABLE_HEAD: &str = "\
| Function | Ready (ms) | First message (ms) | Warm event (µs) | CPU / warm event (µs) | CPU × floor \
| Peak RSS (MiB) | arm64 zip (MiB) |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";

pub(crate) fn table_row(row: &Row) -> String {
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
    [
        ms(&row.ready),
        ms(&row.first_message),
        ratio,
        row.rss_mib,
        row.zip_mib.unwrap_or(0.0),
    ]
}

/// What `row` misses of the targets.
pub(crate) fn missed(row: &Row) -> Vec<String> {
    let over = TARGETS
        .iter()
        .zip(figures(row))
        .filter(|((_, max, _), value)| value > max);
    over.map(|((what, _, unit), value)| format!("{} {what} {value:.2} {unit}", row.name))
        .collect()
}

/// Median (min–max) in ms; empty when not measured.
pub(crate) fn spread_ms(values: &[Duration]) -> String {
    let ms = |d: Option<&Duration>| d.map_or(0.0, |d| d.as_secs_f64() * 1e3);
    let (min, max) = (ms(values.iter().min()), ms(values.iter().max()));
    median(values).map_or(String::new(), |median| {
        format!("{:.1} ({min:.1}–{max:.1})", ms(Some(&median)))
    })
}

/// The middle value (the upper of the two middle ones of an even count).
fn median(values: &[Duration]) -> Option<Duration> {
    let mut sorted = values.to_vec();
    sorted.sort();
    sorted.get(sorted.len() / 2).copied()
}
