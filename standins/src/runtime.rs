//! `RuntimeApi`: a local AWS Lambda Runtime API that real function binaries poll for events, so tests can invoke them.

mod binaries;
mod peer;
mod process;

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::{Notify, oneshot, watch};
use tokio::task::JoinHandle;

pub use binaries::{function_binary, workspace_binary};
use peer::Peer;
pub use process::FunctionProcess;

const ACCOUNT: &str = "123456789012";

/// The body the runtime posts to `…/error` and `…/init/error`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ErrorBody {
    #[serde(rename = "errorType", default)]
    pub error_type: String,
    #[serde(rename = "errorMessage", default)]
    pub error_message: String,
}

/// How one invocation ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Invocation {
    /// The function's response body (JSON; a non-JSON body is kept as a string).
    Ok(Value),
    /// The function reported an error for this invocation, or its process exited while handling it.
    Err(ErrorBody),
    /// The function failed before it ever asked for an event.
    InitError(ErrorBody),
    TimedOut,
}

impl Invocation {
    #[track_caller]
    pub fn expect_ok(self) -> Value {
        match self {
            Invocation::Ok(value) => value,
            other => panic!("expected a successful invocation, got {other:?}"),
        }
    }

    #[track_caller]
    pub fn expect_err(self) -> ErrorBody {
        match self {
            Invocation::Err(error) => error,
            other => panic!("expected a failed invocation, got {other:?}"),
        }
    }
}

pub struct RuntimeApi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl RuntimeApi {
    /// Serves on 127.0.0.1 with a random port, as function `test-function`.
    pub async fn start() -> Self {
        Self::start_for("test-function").await
    }

    /// Serves as the function `name`, which shows in the invoked function ARN.
    pub async fn start_for(name: &str) -> Self {
        let shared = Arc::new(Shared {
            function_name: name.into(),
            queue: Mutex::default(),
            arrived: Notify::new(),
            waiting: Mutex::default(),
            in_flight: Mutex::default(),
            init_error: watch::channel(None).0,
            polled: AtomicBool::new(false),
            first_poll: OnceLock::new(),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(respond),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(fail))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the runtime API stand-in");
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let app = app.into_make_service_with_connect_info::<Peer>();
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            addr,
            shared,
            server,
        }
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API` is `addr().to_string()`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn function_name(&self) -> &str {
        &self.shared.function_name
    }

    /// Queues `event` for the next `/next` poll and waits for the function's answer, at most `timeout`,
    /// which is also the deadline the function is told.
    pub async fn invoke(&self, event: Value, timeout: Duration) -> Invocation {
        // Unique across every stand-in of the process, as Lambda's request ids are unique: functions use
        // them as the owner of their claims and locks.
        static INVOCATIONS: AtomicU64 = AtomicU64::new(1);
        let n = INVOCATIONS.fetch_add(1, Ordering::Relaxed);
        let id = format!("{:08x}-0000-4000-8000-{n:012x}", std::process::id());
        let (done, result) = oneshot::channel();
        self.shared.waiting.lock().unwrap().insert(id.clone(), done);
        let deadline_ms = epoch_ms() + timeout.as_millis() as u64;
        self.shared.queue.lock().unwrap().push_back(Queued {
            id: id.clone(),
            event,
            deadline_ms,
        });
        self.shared.arrived.notify_waiters();
        let mut init = self.shared.init_error.subscribe();
        let outcome = tokio::select! {
            Ok(outcome) = result => outcome,
            Ok(error) = init.wait_for(Option::is_some) => Invocation::InitError(error.clone().unwrap()),
            () = tokio::time::sleep(timeout) => Invocation::TimedOut,
        };
        self.shared.waiting.lock().unwrap().remove(&id);
        self.shared.in_flight.lock().unwrap().remove(&id);
        outcome
    }

    /// What the function posted to `/runtime/init/error`, or how its process exited before polling.
    /// Once set, every invocation ends as [`Invocation::InitError`]: use a new `RuntimeApi` to start over.
    pub fn init_error(&self) -> Option<ErrorBody> {
        self.shared.init_error.borrow().clone()
    }

    /// Whether any process asked for an event yet.
    pub fn polled(&self) -> bool {
        self.shared.polled.load(Ordering::Relaxed)
    }

    /// When a process first asked for an event: the end of its cold start.
    pub fn first_polled_at(&self) -> Option<Instant> {
        self.shared.first_poll.get().copied()
    }

    pub(crate) fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

struct Queued {
    id: String,
    event: Value,
    deadline_ms: u64,
}

pub(crate) struct Shared {
    function_name: String,
    queue: Mutex<VecDeque<Queued>>,
    arrived: Notify,
    waiting: Mutex<HashMap<String, oneshot::Sender<Invocation>>>,
    in_flight: Mutex<HashSet<String>>,
    init_error: watch::Sender<Option<ErrorBody>>,
    polled: AtomicBool,
    first_poll: OnceLock<Instant>,
}

impl Shared {
    fn finish(&self, id: &str, outcome: Invocation) {
        self.in_flight.lock().unwrap().remove(id);
        if let Some(done) = self.waiting.lock().unwrap().remove(id) {
            let _ = done.send(outcome);
        }
    }

    /// A function process ended on its own. Lambda reports `Runtime.ExitError`: as an init error if no
    /// process polled this API yet, else as the error of the invocations in flight.
    pub(crate) fn process_exited(&self, status: &str) {
        let error = ErrorBody {
            error_type: "Runtime.ExitError".into(),
            error_message: format!("Runtime exited with error: {status}"),
        };
        if !self.polled.load(Ordering::Relaxed) {
            self.init_error.send_if_modified(|current| {
                current.get_or_insert(error.clone());
                true
            });
            return;
        }
        let handling: Vec<String> = self.in_flight.lock().unwrap().drain().collect();
        for id in handling {
            self.finish(&id, Invocation::Err(error.clone()));
        }
    }
}

/// Long-polls until an invocation is queued, skipping ones whose caller already gave up, and giving up
/// when the polling process goes away.
async fn next(State(shared): State<Arc<Shared>>, ConnectInfo(peer): ConnectInfo<Peer>) -> Response {
    shared.first_poll.get_or_init(Instant::now);
    shared.polled.store(true, Ordering::Relaxed);
    loop {
        let arrived = shared.arrived.notified();
        tokio::pin!(arrived);
        arrived.as_mut().enable();
        if peer.is_closed() {
            return StatusCode::GONE.into_response();
        }
        let popped = shared.queue.lock().unwrap().pop_front();
        let Some(queued) = popped else {
            // Also wake now and then to notice a client that went away.
            tokio::select! {
                () = arrived => {}
                () = tokio::time::sleep(Duration::from_millis(50)) => {}
            }
            continue;
        };
        if !shared.waiting.lock().unwrap().contains_key(&queued.id) {
            continue;
        }
        shared.in_flight.lock().unwrap().insert(queued.id.clone());
        let arn = format!(
            "arn:aws:lambda:us-east-1:{ACCOUNT}:function:{}",
            shared.function_name
        );
        // Unique per invocation, as Lambda's are: the runtime crate puts each one in the environment.
        let serial = queued.id.rsplit('-').next().unwrap_or_default();
        let trace = format!(
            "Root=1-{:08x}-{serial:0>24};Parent={serial:0>16};Sampled=0",
            queued.deadline_ms / 1000,
        );
        let headers = [
            ("Lambda-Runtime-Aws-Request-Id", queued.id),
            ("Lambda-Runtime-Deadline-Ms", queued.deadline_ms.to_string()),
            ("Lambda-Runtime-Invoked-Function-Arn", arn),
            ("Lambda-Runtime-Trace-Id", trace),
        ];
        return (headers, axum::Json(queued.event)).into_response();
    }
}

async fn respond(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> impl IntoResponse {
    let value = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    shared.finish(&id, Invocation::Ok(value));
    accepted()
}

async fn fail(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> impl IntoResponse {
    shared.finish(&id, Invocation::Err(error_body(&body)));
    accepted()
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> impl IntoResponse {
    let error = error_body(&body);
    shared.init_error.send_replace(Some(error));
    accepted()
}

fn error_body(body: &[u8]) -> ErrorBody {
    serde_json::from_slice(body).unwrap_or_else(|_| ErrorBody {
        error_type: "Unknown".into(),
        error_message: String::from_utf8_lossy(body).into_owned(),
    })
}

fn accepted() -> impl IntoResponse {
    (StatusCode::ACCEPTED, axum::Json(json!({"status": "OK"})))
}

fn epoch_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}
