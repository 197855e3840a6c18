//! The bench's options, its samples, the target checks and the table's cells.

use super::report::{missed, spread_ms, table_row};
use super::*;

fn args(line: &str) -> Result<Options, String> {
    parse_args(line.split_whitespace().map(String::from))
}

#[test]
fn each_function_gets_a_sample_it_handles() {
    for (name, sample, sink) in FUNCTIONS {
        let path = workspace_root().join("events").join(sample);
        let samples = tools::local::load_samples(&[path]).unwrap();
        if matches!(sink, Sink::Chat) {
            assert_eq!(samples[0].function(), *name, "{sample}");
        }
    }
}

#[test]
fn options_are_read_and_checked() {
    let options = args("--events 3 --cold-starts 2 --no-package").unwrap();
    assert_eq!(
        (options.events, options.cold_starts, options.package),
        (ROUNDS, 2, false)
    );
    assert_eq!(args("--events 1234").unwrap().events, 1230);
    assert_eq!(args("").unwrap().events, 5000);
    assert_eq!(args("--help").err().unwrap(), "");
    assert!(args("--events 0").err().unwrap().contains("--events"));
    assert!(args("--cold-starts").is_err());
    assert!(
        args("--instructions")
            .err()
            .unwrap()
            .contains("--instructions")
    );
    assert!(args("").unwrap().package);
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn each_target_missed_is_named() {
    let within = Row {
        name: "f",
        ready: vec![ms(2), ms(30), ms(3)],
        first_message: vec![ms(3), ms(40), ms(4)],
        cpu_ns: 150,
        floor_ns: 100,
        rss_mib: 9.9,
        zip_mib: Some(3.9),
        ..Row::default()
    };
    assert!(missed(&within).is_empty(), "{:?}", missed(&within));
    let over = Row {
        ready: vec![ms(11)],
        first_message: vec![ms(16)],
        cpu_ns: 151,
        rss_mib: 10.1,
        zip_mib: Some(4.1),
        ..within
    };
    let missed = missed(&over);
    let names = ["ready", "first message", "CPU", "RSS", "zip"];
    assert_eq!(missed.len(), names.len(), "{missed:?}");
    for (what, name) in missed.iter().zip(names) {
        assert!(what.starts_with("f ") && what.contains(name), "{what}");
    }
}

#[test]
fn cells_show_medians_ranges_and_the_ratio_to_the_floor() {
    assert_eq!(spread_ms(&[ms(3), ms(1), ms(2)]), "2.0 (1.0–3.0)");
    assert_eq!(spread_ms(&[]), "");
    let row = Row {
        name: "f",
        wall: vec![Duration::from_micros(250), Duration::from_micros(900)],
        cpu_ns: 240_800,
        floor_ns: 195_000,
        rss_mib: 7.84,
        zip_mib: Some(3.081),
        ..Row::default()
    };
    let expected = "| f |  |  | 900 | 120 | 1.23 | 7.8 | 3.08 |\n";
    assert_eq!(table_row(&row), expected);
    let report = report(&[row], &args("--events 10").unwrap());
    assert!(
        report.contains(expected) && report.ends_with("All targets met."),
        "{report}"
    );
}
