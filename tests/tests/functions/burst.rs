//! A burst for one Slack channel through concurrent containers: Slack takes about one message per second
//! per channel, the rest is 429s. Every event must land exactly once, with Lambda's retries of failed
//! invocations modelled; the containers share the channel's pace, so 429s stay rare and the burst drains
//! at Slack's rate. The only slow test: 200 messages at 1/s.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use standins::Invocation;
use tokio::task::JoinSet;

use tests::*;

const EVENTS: usize = 200;
const CONTAINERS: usize = 4;
/// Production's function timeout.
const TIMEOUT: Duration = Duration::from_secs(30);
/// Lambda retries a failed asynchronous invocation twice (after about one and then two minutes; here at
/// once, at the back of the queue, to keep the test's wall time down).
const RETRIES: u32 = 2;

fn event_id(n: usize) -> String {
    format!("burst-{n:03}")
}

#[derive(Default)]
struct Tally {
    /// Invocation outcomes per event, in order.
    outcomes: BTreeMap<usize, Vec<&'static str>>,
    failures: usize,
    /// Failed invocations by the error type the function reported.
    failure_types: BTreeMap<String, usize>,
    retries: usize,
    timeouts: usize,
    duplicates_reported: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_for_one_channel_lands_exactly_once_with_bounded_429s() {
    let slack = slack().await;
    slack.set_rate_limit(Some(Duration::from_secs(1)));
    let (_moto, dedup) = dedup_table().await;
    let settings: Vec<_> = with(slack_env(&slack), &[("NOTIFICATIONS_TOKEN", SLACK_TOKEN)])
        .into_iter()
        .chain(dedup)
        .collect();
    let mut containers = Vec::new();
    for _ in 0..CONTAINERS {
        containers.push(Function::start("notify-release", settings.clone()).await);
    }

    // Every event goes to `#production-deploys`; Slack's footer shows the id.
    let queue: VecDeque<(usize, u32)> = (0..EVENTS).map(|n| (n, 0)).collect();
    let queue = Arc::new(Mutex::new(queue));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let start = Instant::now();
    let mut running = JoinSet::new();
    for function in containers {
        let (queue, tally) = (queue.clone(), tally.clone());
        running.spawn(async move {
            loop {
                let next = queue.lock().unwrap().pop_front();
                let Some((n, attempt)) = next else { break };
                let event = variant("release-create.json", &event_id(n), &[("app", "api")]);
                let outcome = function.api.invoke(event, TIMEOUT).await;
                let mut tally = tally.lock().unwrap();
                let label = match &outcome {
                    Invocation::Ok(report) => {
                        assert_eq!(report["delivered"]["channel"], PRODUCTION, "{report}");
                        if report["delivered"]["duplicate"] == true {
                            tally.duplicates_reported += 1;
                        }
                        "delivered"
                    }
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
    let took = start.elapsed();

    let tally = tally.lock().unwrap();
    let posted = slack.posted();
    let mut posts_per_event = vec![0; EVENTS];
    for message in &posted {
        assert_eq!(message.channel, PRODUCTION);
        let text = plain_text(&message.body);
        let ids: Vec<usize> = (0..EVENTS)
            .filter(|n| text.contains(&event_id(*n)))
            .collect();
        assert_eq!(ids.len(), 1, "one event id per message: {ids:?}");
        posts_per_event[ids[0]] += 1;
    }
    let delivered = tally
        .outcomes
        .values()
        .filter(|o| o.last() == Some(&"delivered"))
        .count();
    let given_up = EVENTS - delivered;
    eprintln!(
        "burst: {EVENTS} events, {CONTAINERS} containers, one channel at 1 msg/s: {:.1} s; {} posted; \
         {} HTTP 429s ({:.2} per event); {} Slack requests; {} failed invocations ({} timed out; {:?}), \
         {} retried, {} given up; {} duplicate reports",
        took.as_secs_f64(),
        posted.len(),
        slack.count_429(),
        slack.count_429() as f64 / EVENTS as f64,
        slack.count_requests(),
        tally.failures,
        tally.timeouts,
        tally.failure_types,
        tally.retries,
        given_up,
        tally.duplicates_reported,
    );
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
    assert_eq!(delivered, EVENTS, "{:?}", tally.outcomes);
    assert_eq!(tally.timeouts, 0, "failures end before the deadline");
    // Discord bans a bot after 10,000 invalid requests in 10 minutes, Slack may disable an app that
    // ignores its limits: the containers share the channel's pace instead of learning it from 429s.
    assert!(
        slack.count_429() * 10 <= slack.count_requests(),
        "{} 429s in {} requests",
        slack.count_429(),
        slack.count_requests()
    );
    // Drained at the provider's published rate (one message a second), with a fifth to spare.
    assert!(
        took.as_secs_f64() <= 1.2 * EVENTS as f64,
        "drained in {took:?}"
    );
    drop(containers);
}
