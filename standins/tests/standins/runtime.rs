//! `RuntimeApi` and `FunctionProcess` driving a real `lambda_runtime` binary, plus the raw protocol over HTTP.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use standins::{FunctionProcess, Invocation, RuntimeApi, function_binary};

const FIXTURE: &str = env!("CARGO_BIN_EXE_fixture-function");
const NO_ENV: [(&str, &str); 0] = [];

#[tokio::test]
async fn a_real_function_answers_and_fails_through_the_api() {
    let api = RuntimeApi::start_for("notify-fixture").await;
    let function = FunctionProcess::spawn(FIXTURE, &api, NO_ENV);
    let answer = api
        .invoke(json!({"echo": "hello"}), Duration::from_secs(10))
        .await
        .expect_ok();
    assert_eq!(answer["echo"], "hello", "logs:\n{}", function.logs());
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let deadline = answer["deadline_ms"].as_u64().unwrap();
    assert!(
        deadline > now_ms && deadline <= now_ms + 10_000,
        "deadline {deadline}, now {now_ms}"
    );

    let error = api
        .invoke(json!({"fail": "no token"}), Duration::from_secs(10))
        .await
        .expect_err();
    assert_eq!(error.error_message, "no token");
    assert!(
        function.logs().contains("function:notify-fixture"),
        "{}",
        function.logs()
    );
    assert!(function.exit_status().is_none());
}

#[tokio::test]
async fn invocations_can_be_made_concurrently() {
    let api = Arc::new(RuntimeApi::start().await);
    let _function = FunctionProcess::spawn(FIXTURE, &api, NO_ENV);
    let calls: Vec<_> = (0..3)
        .map(|i| {
            let api = api.clone();
            tokio::spawn(async move {
                api.invoke(json!({"echo": i}), Duration::from_secs(10))
                    .await
            })
        })
        .collect();
    for (i, call) in calls.into_iter().enumerate() {
        assert_eq!(call.await.unwrap().expect_ok()["echo"], i);
    }
}

#[tokio::test]
async fn nobody_polling_means_a_timeout() {
    let api = RuntimeApi::start().await;
    assert_eq!(
        api.invoke(json!({}), Duration::from_millis(100)).await,
        Invocation::TimedOut
    );
    assert!(!api.polled());
}

#[tokio::test]
async fn a_process_that_dies_before_polling_is_an_init_error() {
    let api = RuntimeApi::start().await;
    let function = FunctionProcess::spawn(FIXTURE, &api, [("FIXTURE_EXIT_AT_START", "1")]);
    let Invocation::InitError(error) = api.invoke(json!({}), Duration::from_secs(10)).await else {
        panic!("expected an init error; logs:\n{}", function.logs());
    };
    assert_eq!(error.error_type, "Runtime.ExitError");
    assert_eq!(api.init_error(), Some(error));
    assert!(function.logs().contains("exiting at start"));
    assert_eq!(function.exit_status().and_then(|s| s.code()), Some(3));
}

#[tokio::test]
async fn a_process_that_dies_mid_invocation_fails_that_invocation() {
    let api = RuntimeApi::start().await;
    let _function = FunctionProcess::spawn(FIXTURE, &api, NO_ENV);
    let error = api
        .invoke(json!({"exit": 7}), Duration::from_secs(10))
        .await
        .expect_err();
    assert_eq!(error.error_type, "Runtime.ExitError");
    assert!(error.error_message.contains('7'), "{error:?}");
}

#[tokio::test]
async fn the_protocol_over_plain_http() {
    let api = Arc::new(RuntimeApi::start().await);
    let base = format!("http://{}/2018-06-01/runtime", api.addr());
    let client = reqwest::Client::new();
    let invocation = {
        let api = api.clone();
        tokio::spawn(async move { api.invoke(json!({"n": 1}), Duration::from_secs(5)).await })
    };
    let next = client
        .get(format!("{base}/invocation/next"))
        .send()
        .await
        .unwrap();
    let header = |name: &str| next.headers()[name].to_str().unwrap().to_string();
    let id = header("lambda-runtime-aws-request-id");
    assert!(header("lambda-runtime-deadline-ms").parse::<u64>().is_ok());
    assert!(header("lambda-runtime-invoked-function-arn").starts_with("arn:aws:lambda:"));
    assert!(header("lambda-runtime-trace-id").starts_with("Root=1-"));
    assert_eq!(next.json::<Value>().await.unwrap(), json!({"n": 1}));
    let done = client
        .post(format!("{base}/invocation/{id}/response"))
        .body("{\"ok\":1}")
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 202);
    assert_eq!(invocation.await.unwrap(), Invocation::Ok(json!({"ok": 1})));

    let init = json!({"errorType": "Config", "errorMessage": "SLACK_API_URL is not set"});
    client
        .post(format!("{base}/init/error"))
        .json(&init)
        .send()
        .await
        .unwrap();
    assert_eq!(
        api.init_error().unwrap().error_message,
        "SLACK_API_URL is not set"
    );
    let Invocation::InitError(error) = api.invoke(json!({}), Duration::from_secs(5)).await else {
        panic!("an init error ends every invocation");
    };
    assert_eq!(error.error_type, "Config");
}

#[test]
fn function_binaries_are_built_once_and_found() {
    let built = function_binary("notify-app");
    assert!(built.is_file(), "{}", built.display());
    assert!(built.ends_with("debug/notify-app"), "{}", built.display());
    assert_eq!(function_binary("notify-app"), built);
}

#[tokio::test]
async fn a_replacement_process_gets_the_events_a_killed_one_was_waiting_for() {
    let api = RuntimeApi::start().await;
    let first = FunctionProcess::spawn(FIXTURE, &api, NO_ENV);
    while !api.polled() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(first);
    let _second = FunctionProcess::spawn(FIXTURE, &api, NO_ENV);
    let answer = api
        .invoke(json!({"echo": 2}), Duration::from_secs(10))
        .await;
    assert_eq!(answer.expect_ok()["echo"], 2);
}
