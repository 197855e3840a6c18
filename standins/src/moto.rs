//! `MotoServer`: a local AWS (moto) for the SSM Parameter Store the functions read their secrets from, the
//! DynamoDB table they record deliveries in, and the EventBridge bus the receiver puts rack events on, with
//! SQS queues to see where the bus's rules send them.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_eventbridge::types::Target;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, QueueAttributeName};
use aws_sdk_ssm::config::Credentials;
use aws_sdk_ssm::types::ParameterType;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::capture::Output;

const REGION: &str = "us-east-1";
// moto accepts any credentials; these only keep the SDK from looking for real ones.
const ACCESS_KEY: &str = "testing";
const SECRET_KEY: &str = "testing";
const STARTUP: Duration = Duration::from_secs(30);

pub struct MotoServer {
    child: Child,
    port: u16,
    output: Output,
}

impl MotoServer {
    /// Starts `moto_server` from PATH on 127.0.0.1 with a free port and waits until it answers HTTP.
    pub async fn start() -> Self {
        let program = find_on_path("moto_server").unwrap_or_else(|| {
            panic!(
                "moto_server is not on PATH: run the tests with the test command from the README, \
                 which installs moto into a virtualenv and puts it on PATH"
            )
        });
        let port = free_port();
        let mut child = Command::new(program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start moto_server");
        let output = Output::default();
        output.capture(child.stdout.take().unwrap());
        output.capture(child.stderr.take().unwrap());
        let mut server = Self {
            child,
            port,
            output,
        };
        server.wait_until_ready().await;
        server
    }

    /// Base URL for the AWS SDK's `endpoint_url`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Environment for a function process so that its AWS SDK talks to this server.
    pub fn function_env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_REGION", REGION.into()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.into()),
        ]
        .map(|(k, v)| (k.to_string(), v))
        .into()
    }

    /// An AWS SDK configuration that talks to this server.
    pub async fn sdk_config(&self) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(self.endpoint())
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "moto"))
            .load()
            .await
    }

    pub async fn ssm_client(&self) -> aws_sdk_ssm::Client {
        aws_sdk_ssm::Client::new(&self.sdk_config().await)
    }

    pub async fn dynamodb_client(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk_config().await)
    }

    pub async fn eventbridge_client(&self) -> aws_sdk_eventbridge::Client {
        aws_sdk_eventbridge::Client::new(&self.sdk_config().await)
    }

    pub async fn sqs_client(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.sdk_config().await)
    }

    /// Creates a custom event bus and returns its ARN.
    pub async fn create_event_bus(&self, name: &str) -> String {
        self.eventbridge_client()
            .await
            .create_event_bus()
            .name(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("create event bus {name} in moto: {e:?}"))
            .event_bus_arn
            .unwrap_or_else(|| panic!("moto gave event bus {name} no ARN"))
    }

    /// Creates a rule `name` on `bus` with the event `pattern`, whose target is a new SQS queue of the
    /// same name; returns the queue's URL.
    pub async fn rule_to_queue(&self, bus: &str, name: &str, pattern: &Value) -> String {
        let sqs = self.sqs_client().await;
        let url = sqs
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("create queue {name} in moto: {e:?}"))
            .queue_url
            .unwrap_or_else(|| panic!("moto gave queue {name} no URL"));
        let arn = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap_or_else(|e| panic!("read queue {name}'s ARN in moto: {e:?}"))
            .attributes
            .and_then(|mut attributes| attributes.remove(&QueueAttributeName::QueueArn))
            .unwrap_or_else(|| panic!("moto gave queue {name} no ARN"));
        let events = self.eventbridge_client().await;
        events
            .put_rule()
            .event_bus_name(bus)
            .name(name)
            .event_pattern(pattern.to_string())
            .send()
            .await
            .unwrap_or_else(|e| panic!("create rule {name} in moto: {e:?}"));
        events
            .put_targets()
            .event_bus_name(bus)
            .rule(name)
            .targets(
                Target::builder()
                    .id(name)
                    .arn(arn)
                    .build()
                    .expect("an SQS target"),
            )
            .send()
            .await
            .unwrap_or_else(|e| panic!("target queue {name} from rule {name} in moto: {e:?}"));
        url
    }

    /// Takes every message off the queue at `url`, each body read as JSON (an EventBridge event).
    pub async fn drain_queue(&self, url: &str) -> Vec<Value> {
        let sqs = self.sqs_client().await;
        let mut bodies = Vec::new();
        loop {
            let messages = sqs
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .send()
                .await
                .unwrap_or_else(|e| panic!("receive from {url} in moto: {e:?}"))
                .messages
                .unwrap_or_default();
            if messages.is_empty() {
                return bodies;
            }
            let mut done = Vec::new();
            for (n, message) in messages.into_iter().enumerate() {
                let body = message.body.unwrap_or_default();
                bodies.push(serde_json::from_str(&body).unwrap_or(Value::String(body)));
                done.push(
                    DeleteMessageBatchRequestEntry::builder()
                        .id(n.to_string())
                        .receipt_handle(message.receipt_handle.unwrap_or_default())
                        .build()
                        .expect("a delete entry"),
                );
            }
            sqs.delete_message_batch()
                .queue_url(url)
                .set_entries(Some(done))
                .send()
                .await
                .unwrap_or_else(|e| panic!("delete from {url} in moto: {e:?}"));
        }
    }

    /// Creates the deliveries table as the stack declares it: string key `pk`, on demand, TTL on `expires_at`.
    pub async fn create_dedup_table(&self, name: &str) {
        let client = self.dynamodb_client().await;
        client
            .create_table()
            .table_name(name)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("pk")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .expect("attribute definition"),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("pk")
                    .key_type(KeyType::Hash)
                    .build()
                    .expect("key schema"),
            )
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .unwrap_or_else(|e| panic!("create table {name} in moto: {e:?}"));
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name("expires_at")
                    .enabled(true)
                    .build()
                    .expect("TTL specification"),
            )
            .send()
            .await
            .unwrap_or_else(|e| panic!("enable TTL on {name} in moto: {e:?}"));
    }

    /// Every item of `table` by `pk`, each attribute as text (strings as they are, numbers as digits).
    pub async fn items(&self, table: &str) -> BTreeMap<String, BTreeMap<String, String>> {
        let pages = self
            .dynamodb_client()
            .await
            .scan()
            .table_name(table)
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .unwrap_or_else(|e| panic!("scan {table} in moto: {e:?}"));
        pages
            .into_iter()
            .map(|item| {
                let text: BTreeMap<String, String> = item
                    .into_iter()
                    .map(|(name, value)| {
                        let value = match value {
                            AttributeValue::S(s) | AttributeValue::N(s) => s,
                            other => format!("{other:?}"),
                        };
                        (name, value)
                    })
                    .collect();
                (text.get("pk").cloned().unwrap_or_default(), text)
            })
            .collect()
    }

    /// Removes the item `pk` of `table`, as its time to live would.
    pub async fn delete_item(&self, table: &str, pk: &str) {
        self.dynamodb_client()
            .await
            .delete_item()
            .table_name(table)
            .key("pk", AttributeValue::S(pk.to_owned()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("delete {pk} from {table} in moto: {e:?}"));
    }

    /// Stores `value` as a SecureString parameter, replacing any earlier value.
    pub async fn put_secure_parameter(&self, name: &str, value: &str) {
        self.ssm_client()
            .await
            .put_parameter()
            .name(name)
            .value(value)
            .r#type(ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await
            .unwrap_or_else(|e| panic!("put parameter {name} into moto: {e:?}"));
    }

    async fn wait_until_ready(&mut self) {
        let start = Instant::now();
        loop {
            if self.answers_http().await {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("moto_server exited ({status}):\n{}", self.output.text());
            }
            if start.elapsed() > STARTUP {
                panic!(
                    "moto_server did not answer within {STARTUP:?}:\n{}",
                    self.output.text()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn answers_http(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)).await else {
            return false;
        };
        let request = "GET /moto-api/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        let mut head = [0u8; 5];
        stream.write_all(request.as_bytes()).await.is_ok()
            && stream.read_exact(&mut head).await.is_ok()
            && &head == b"HTTP/"
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

/// A port the OS just handed out; it is free again once the probe socket closes.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("find a free port")
        .port()
}
