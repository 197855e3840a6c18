//! A local SSM Parameter Store for the preview: `GetParameter` answered from a fixed map, so that the
//! functions read a second provider's bot token and the webhooks' URLs as they do in AWS.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use wiremock::matchers::{header, method};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

// The AWS JSON 1.1 protocol that SSM speaks: the operation in a header, errors named by `__type`.
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

pub struct SsmStandIn {
    server: MockServer,
}

impl SsmStandIn {
    /// Serves `parameters` (name → value) as SecureStrings.
    pub async fn start(parameters: BTreeMap<String, String>) -> Self {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(header("x-amz-target", "AmazonSSM.GetParameter"))
            .respond_with(move |request: &Request| answer(&parameters, request))
            .mount(&server)
            .await;
        Self { server }
    }

    /// What the functions get as `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> String {
        self.server.uri()
    }
}

fn answer(parameters: &BTreeMap<String, String>, request: &Request) -> ResponseTemplate {
    let asked: Value = serde_json::from_slice(&request.body).unwrap_or_default();
    let name = asked["Name"].as_str().unwrap_or_default();
    let (status, body) = match parameters.get(name) {
        Some(value) => (
            200,
            json!({"Parameter": {"Name": name, "Type": "SecureString", "Value": value,
                "Version": 1, "DataType": "text"}}),
        ),
        None => (
            400,
            json!({"__type": "ParameterNotFound",
                "message": format!("parameter {name} is not one the preview holds")}),
        ),
    };
    ResponseTemplate::new(status).set_body_raw(body.to_string(), CONTENT_TYPE)
}
