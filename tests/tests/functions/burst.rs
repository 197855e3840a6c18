//! Bursts for one Slack channel through concurrent containers: Slack takes about one message per second
//! per channel, the rest is 429s. Every event must land exactly once, with Lambda's retries of failed
//! invocations modelled; the containers share the channel's pace, so 429s stay rare and the burst drains
//! at Slack's rate. The slow tests: 200 messages at 1/s, and releases' live messages.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use standins::{Invocation, SlackStandIn};
use tokio::task::JoinSet;

use tests::*;

use crate::live::{finished_releases, release};

const CONTAINERS: usize = 4;
/// Production's function timeout.
const TIMEOUT: Duration = Duration::from_secs(30);
/// Lambda retries a failed asynchronous invocation twice (after about one and then two minutes; here at
/// once, at the back of the queue, to keep the test's wall time down).
const RETRIES: u32 = 2;

#[derive(Debug, Default)]
struct Tally {
    /// Invocation outcomes per event, in order.
    outcomes: BTreeMap<usize, Vec<&'static str>>,
    failures: usize,
    /// Failed invocations by the error type the function reported.
    failure_types: BTreeMap<String, usize>,
    retries: usize,
    timeouts: usize,
    took: Duration,
}

impl Tally {
    fn delivered(&self) -> usize {
        let last = |o: &Vec<&str>| o.last() == Some(&"delivered");
        self.outcomes.values().filter(|o| last(o)).count()
    }
}

/// Invokes every event through `CONTAINERS` processes of `function` at once, each event retried as
/// Lambda would when it fails.
async fn burst(function: &str, settings: Vec<(String, String)>, events: Vec<Value>) -> Tally {
    let mut containers = Vec::new();
    for _ in 0..CONTAINERS {
        containers.push(Function::start(function, settings.clone()).await);
    }
    let events = Arc::new(events);
    let queue: VecDeque<(usize, u32)> = (0..events.len()).map(|n| (n, 0)).collect();
    let queue = Arc::new(Mutex::new(queue));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let start = Instant::now();
    let mut running = JoinSet::new();
    for function in containers {
        let (queue, tally, events) = (queue.clone(), tally.clone(), events.clone());
        running.spawn(async move {
            loop {
                let next = queue.lock().unwrap().pop_front();
                let Some((n, attempt)) = next else { break };
                let outcome = function.api.invoke(events[n].clone(), TIMEOUT).await;
                let mut tally = tally.lock().unwrap();
                let label = match &outcome {
                    Invocation::Ok(_) => "delivered",
                    Invocation::TimedOut => {
                        tally.timeouts += 1;
                        "timed out"
                    }
                    Invocation::Err(error) | Invocation::InitError(error) => {
                        *tally
                            .failure_types
                            .entry(error.error_type.clone())
                            .or_default() += 1;
                        "failed"
                    }
                };
                tally.outcomes.entry(n).or_default().push(label);
                if label != "delivered" {
                    tally.failures += 1;
                    if attempt < RETRIES {
                        tally.retries += 1;
                        queue.lock().unwrap().push_back((n, attempt + 1));
                    }
                }
            }
            function
        });
    }
    let mut containers = Vec::new();
    while let Some(done) = running.join_next().await {
        containers.push(done.expect("a container's driver panicked"));
    }
    let mut tally = std::mem::take(&mut *tally.lock().unwrap());
    tally.took = start.elapsed();
    tally
}

/// Nothing lost, nothing timed out, and the 429s a small part of what was asked of Slack: Discord bans a
/// bot after 10,000 invalid requests in 10 minutes, Slack may disable an app that ignores its limits.
fn check(slack: &SlackStandIn, tally: &Tally, events: usize) {
    eprintln!(
        "burst: {events} events, {CONTAINERS} containers: {:.1} s; {} posted, {} updates; {} HTTP 429s in {} \
         Slack requests; {} failed invocations ({} timed out; {:?}), {} retried",
        tally.took.as_secs_f64(),
        slack.posted().len(),
        slack.updates().len(),
        slack.count_429(),
        slack.count_requests(),
        tally.failures,
        tally.timeouts,
        tally.failure_types,
        tally.retries,
    );
    assert_eq!(tally.delivered(), events, "{:?}", tally.outcomes);
    assert_eq!(tally.timeouts, 0, "failures end before the deadline");
    assert!(
        slack.count_429() * 10 <= slack.count_requests(),
        "{} 429s in {} requests",
        slack.count_429(),
        slack.count_requests()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_for_one_channel_lands_exactly_once_with_bounded_429s() {
    const EVENTS: usize = 200;
    let event_id = |n: usize| format!("burst-{n:03}");
    let slack = slack().await;
    slack.set_rate_limit(Some(Duration::from_secs(1)));
    let (_moto, dedup) = dedup_table().await;
    let settings: Vec<_> = with(slack_env(&slack), &[("NOTIFICATIONS_TOKEN", SLACK_TOKEN)])
        .into_iter()
        .chain(dedup)
        .collect();
    // Every event goes to `#production-deploys`; Slack's footer shows the id.
    let events = (0..EVENTS)
        .map(|n| variant("release-create.json", &event_id(n), &[("app", "api")]))
        .collect();
    let tally = burst("notify-release", settings, events).await;
    check(&slack, &tally, EVENTS);

    let mut posts_per_event = vec![0; EVENTS];
    for message in slack.posted() {
        assert_eq!(message.channel, PRODUCTION);
        let text = plain_text(&message.body);
        let ids: Vec<usize> = (0..EVENTS)
            .filter(|n| text.contains(&event_id(*n)))
            .collect();
        assert_eq!(ids.len(), 1, "one event id per message: {ids:?}");
        posts_per_event[ids[0]] += 1;
    }
    let twice: Vec<String> = (0..EVENTS)
        .filter(|n| posts_per_event[*n] > 1)
        .map(event_id)
        .collect();
    assert!(twice.is_empty(), "posted more than once: {twice:?}");
    let lost: Vec<String> = (0..EVENTS)
        .filter(|n| posts_per_event[*n] == 0)
        .map(event_id)
        .collect();
    assert!(lost.is_empty(), "never posted: {lost:?}");
    // Drained at the provider's published rate (one message a second), with a fifth to spare.
    assert!(
        tally.took.as_secs_f64() <= 1.2 * EVENTS as f64,
        "drained in {:?}",
        tally.took
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_releases_ends_in_one_live_message_each() {
    const RELEASES: usize = 8;
    let slack = slack().await;
    slack.set_rate_limit(Some(Duration::from_secs(1)));
    let (_moto, dedup) = dedup_table().await;
    let settings: Vec<_> = with(
        slack_env(&slack),
        &[
            ("NOTIFICATIONS_TOKEN", SLACK_TOKEN),
            LIVE,
            ("NOTIFICATIONS_OWNER_MAPPING", ""),
        ],
    )
    .into_iter()
    .chain(dedup)
    .collect();
    // Each release's six events, the releases interleaved and each one's events in reverse.
    let releases: Vec<_> = (0..RELEASES)
        .map(|n| release(&format!("RBURST{n:04}")))
        .collect();
    let events: Vec<_> = (0..releases[0].len())
        .rev()
        .flat_map(|step| releases.iter().map(move |events| events[step].clone()))
        .collect();
    let count = events.len();
    let tally = burst("notify-release", settings, events).await;
    check(&slack, &tally, count);
    finished_releases(&slack, PRODUCTION, RELEASES);
}
