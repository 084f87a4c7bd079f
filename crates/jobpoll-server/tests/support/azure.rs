//! Requests and plans of the Azure tests: the model at a fixed origin, Azure
//! plans, and reading answers.

use std::time::Duration;

use bytes::Bytes;
use http::Method;
use jobpoll_core::Instant;
use jobpoll_server::model::{ServerConfig, ServerModel};
use jobpoll_server::plan::{AzureHeader, AzurePlan, JobPlan};
use serde_json::{Value, json};

use super::{ORIGIN, url};

pub const AAO: &str = "azure-asyncoperation";
pub const OL: &str = "operation-location";

pub fn server() -> ServerModel {
    ServerModel::new(ServerConfig::default(), 1)
}

/// A plan of `secs` seconds with `azure`.
pub fn plan(secs: u64, azure: AzurePlan) -> JobPlan {
    JobPlan {
        duration: Duration::from_secs(secs),
        azure,
        ..JobPlan::default()
    }
}

/// An Azure plan with exactly `headers` on the initial answer.
pub fn with_headers(headers: &[AzureHeader]) -> AzurePlan {
    AzurePlan {
        headers: Some(headers.to_vec()),
        ..AzurePlan::default()
    }
}

pub fn send(
    server: &mut ServerModel,
    method: &str,
    path: &str,
    body: &str,
    now: Instant,
) -> http::Response<Bytes> {
    let method = Method::from_bytes(method.as_bytes()).expect("method");
    server.handle(&super::request(&method, &url(path), body), now)
}

/// A create request carrying `plan` (and `fields`) in its body.
pub fn create(
    server: &mut ServerModel,
    method: &str,
    path: &str,
    plan: &JobPlan,
    fields: Value,
    now: Instant,
) -> http::Response<Bytes> {
    let mut body = json!({ "plan": plan });
    if let (Value::Object(body), Value::Object(fields)) = (&mut body, fields) {
        body.extend(fields);
    }
    send(server, method, path, &body.to_string(), now)
}

pub fn get(server: &mut ServerModel, path: &str, now: Instant) -> http::Response<Bytes> {
    send(server, "GET", path, "", now)
}

pub fn json_of(response: &http::Response<Bytes>) -> Value {
    serde_json::from_slice(response.body())
        .unwrap_or_else(|e| panic!("{e}: {:?}", String::from_utf8_lossy(response.body())))
}

pub fn header<'a>(response: &'a http::Response<Bytes>, name: &str) -> Option<&'a str> {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
}

pub fn absolute(path: &str) -> String {
    format!("{ORIGIN}{path}")
}
