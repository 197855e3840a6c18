//! Benchmark of the pure part of an invocation: bytes → rack event → route → rendered message → request
//! body, for every sample in `events/` and both providers. `cargo bench -p shared --bench pipeline`

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::value::RawValue;
use shared::config::{Config, Provider};
use shared::event::RackEvent;
use shared::notification::Notification;
use shared::render::{discord, slack};
use shared::route::Destination;

/// The settings the functions get in the local preview: every routing rule has something to do.
fn config(provider: Provider) -> Config {
    Config::from_vars(|name| {
        let value = match (name, provider) {
            ("NOTIFICATIONS_PROVIDER", Provider::Slack) => "slack",
            ("NOTIFICATIONS_PROVIDER", Provider::Discord) => "discord",
            ("NOTIFICATIONS_TOKEN", _) => "token",
            ("NOTIFICATIONS_DEFAULT_CHANNEL", Provider::Slack) => "general",
            ("NOTIFICATIONS_DEFAULT_CHANNEL", Provider::Discord) => "111111111111111111",
            ("NOTIFICATIONS_CHANNEL_MAPPING", Provider::Slack) => {
                "staging=staging-deploys,production=production-deploys"
            }
            ("NOTIFICATIONS_CHANNEL_MAPPING", Provider::Discord) => {
                "staging=555555555555555555,production=666666666666666666"
            }
            ("NOTIFICATIONS_OWNER_MAPPING", Provider::Slack) => "web=#web-team,billing=@U0123ABC",
            ("NOTIFICATIONS_OWNER_MAPPING", Provider::Discord) => {
                "web=#777777777777777777,billing=@333333333333333333"
            }
            _ => return None,
        };
        Some(value.to_owned())
    })
    .expect("valid benchmark settings")
}

/// Every `events/*.json` as `(file stem, raw bytes)`, in name order.
fn samples() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../events");
    let mut samples: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            (stem, std::fs::read(&path).unwrap())
        })
        .collect();
    samples.sort();
    samples
}

/// What one invocation computes before it posts: the request body, ready to send.
fn pipeline(config: &Config, raw: &[u8]) -> Vec<u8> {
    // lambda_runtime hands the function the invocation's JSON text, checked but not parsed.
    let payload: Box<RawValue> = serde_json::from_slice(raw).expect("a JSON event");
    let event = RackEvent::from_json(payload.get()).expect("a rack event");
    let route = config.routes.route(event.app(), event.rack(), None);
    let note = Notification::from_event(&event);
    match config.provider {
        Provider::Slack => {
            // A user id is posted to as a channel; an email would first need Slack to look it up.
            let (Destination::Channel(channel)
            | Destination::User(channel)
            | Destination::Email(channel)) = &route.destination;
            serde_json::to_vec(&slack::render(&note, channel))
        }
        Provider::Discord => serde_json::to_vec(&discord::render(&note)),
    }
    .expect("a serializable message")
}

fn bench(c: &mut Criterion) {
    let samples = samples();
    for provider in [Provider::Slack, Provider::Discord] {
        let config = config(provider);
        let mut group =
            c.benchmark_group(format!("pipeline/{}", provider.to_string().to_lowercase()));
        for (name, raw) in &samples {
            group.bench_function(name.as_str(), |b| {
                b.iter(|| pipeline(&config, black_box(raw)))
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    // 33 samples × 2 providers: short windows keep the whole run to about a minute and a half.
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(800));
    targets = bench
}
criterion_main!(benches);
