//! Peers that accept a connection and never answer: the invocation still ends in an error of its own,
//! before Lambda's deadline, instead of being killed as a timeout; a silent catalog only costs its budget.

use std::time::{Duration, Instant};

use standins::{Invocation, SlackStandIn};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use tests::*;

/// Short, so the test is quick; production's 30 s only make the requests' own timeouts longer.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Accepts connections and holds them open without ever reading or writing, until dropped.
struct Silent {
    url: String,
    task: JoinHandle<()>,
}

impl Silent {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        Self { url, task }
    }
}

impl Drop for Silent {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// notify-release posting to a Slack stand-in, with these settings and every AWS service silent.
async fn with_silent_aws(extra: &[(&str, &str)]) -> (Silent, SlackStandIn, Function) {
    let (silent, slack) = (Silent::start().await, slack().await);
    let mut settings = with(slack_env(&slack), extra);
    settings.push(("AWS_ENDPOINT_URL".into(), silent.url.clone()));
    let function = Function::start("notify-release", settings).await;
    (silent, slack, function)
}

/// Invokes with `TIMEOUT` and returns the error the function reported, and how long it took.
async fn fails_in_time(function: &Function) -> (standins::ErrorBody, Duration) {
    let start = Instant::now();
    let event = variant("release-create.json", "ev-silent", &[("app", "api")]);
    let outcome = function.api.invoke(event, TIMEOUT).await;
    let took = start.elapsed();
    let Invocation::Err(error) = outcome else {
        panic!("expected the function to report an error before its deadline, got {outcome:?}")
    };
    assert!(took < TIMEOUT, "{took:?}");
    (error, took)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_never_answers_fails_the_invocation_before_its_deadline() {
    let silent = Silent::start().await;
    let settings = env(&[
        ("NOTIFICATIONS_PROVIDER", "slack"),
        ("NOTIFICATIONS_TOKEN", SLACK_TOKEN),
        ("NOTIFICATIONS_DEFAULT_CHANNEL", "#general"),
        ("SLACK_API_URL", &format!("{}/api", silent.url)),
    ]);
    let function = Function::start("notify-release", settings).await;
    let (error, took) = fails_in_time(&function).await;
    assert_eq!(error.error_type, "DeliveryUnavailable", "{error:?}");
    assert!(
        error.error_message.contains("Slack request failed"),
        "{error:?}"
    );
    // The request's timeout ends with the deadline's margin, not far before it.
    assert!(took > TIMEOUT / 2, "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dedup_table_that_never_answers_fails_the_invocation_naming_it() {
    let (_silent, slack, function) = with_silent_aws(&[
        ("NOTIFICATIONS_TOKEN", SLACK_TOKEN),
        ("NOTIFICATIONS_DEDUP_TABLE", DEDUP_TABLE),
    ])
    .await;
    let (error, _) = fails_in_time(&function).await;
    assert_eq!(error.error_type, "DeduplicationUnavailable", "{error:?}");
    // The AWS SDK's own timeout, or the invocation's deadline, whichever comes first.
    assert!(
        error.error_message.starts_with(&format!(
            "event ev-silent: deduplication table `{DEDUP_TABLE}`: no answer "
        )),
        "{error:?}"
    );
    assert!(slack.posted().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalog_that_never_answers_leaves_the_static_routes_in_time() {
    let (_silent, slack, function) = with_silent_aws(&[
        ("NOTIFICATIONS_TOKEN", SLACK_TOKEN),
        ("NOTIFICATIONS_CATALOG_PATH", "/catalog"),
    ])
    .await;
    let event = variant("release-create.json", "ev-silent", &[("app", "api")]);
    function.api.invoke(event, TIMEOUT).await.expect_ok();
    let posted = slack.posted();
    assert_eq!(posted.len(), 1, "{posted:#?}");
    assert_eq!(posted[0].channel, PRODUCTION, "the environment's channel");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_parameter_that_never_answers_fails_the_invocation_naming_it() {
    let (_silent, slack, function) =
        with_silent_aws(&[("NOTIFICATIONS_TOKEN_PARAMETER", TOKEN_PARAMETER)]).await;
    let (error, _) = fails_in_time(&function).await;
    assert_eq!(error.error_type, "TokenUnavailable", "{error:?}");
    assert!(
        error.error_message.contains(TOKEN_PARAMETER) && !error.error_message.contains(SLACK_TOKEN),
        "{error:?}"
    );
    assert!(slack.posted().is_empty());
}
