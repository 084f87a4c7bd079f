//! Azure long-running operations: how each answer looks. Which answer a request
//! gets (counts, moved Locations, failing final GETs) is the model's decision,
//! in `model::azure`; the crate docs list every behaviour.
//!
//! - `PUT|PATCH|POST|DELETE /azure/resources/{name}` (or `POST /azure/resources`)
//!   starts an operation; its answer has the plan's status and headers.
//! - `GET /azure/operations/{id}` and `GET /azure/operation-status/{id}` are the
//!   status monitor: `{id, name, status, percentComplete, startTime, endTime,
//!   error?, resourceLocation?}`.
//! - `GET /azure/operation-results/{id}[/{step}]` is the Location poller: 202
//!   while running, the result when done.
//! - `GET /azure/resources/{name}` is the resource:
//!   `{id, name, type, properties{provisioningState, ...}}`.
//! - `GET /azure/results/{id}` is the result a monitor's `resourceLocation` names.

use http::header::{LOCATION, RETRY_AFTER};
use http::{HeaderName, StatusCode};
use serde_json::{Map, Value, json};

use jobpoll_core::Instant;

use super::{Context, timestamp};
use crate::clock;
use crate::job::{AzureMethod, Details, Job, Phase};
use crate::plan::{AzureHeader, MonitorFaultKind};
use crate::reply::{Body, Reply};

const AZURE_ASYNC_OPERATION: HeaderName = HeaderName::from_static("azure-asyncoperation");
const OPERATION_LOCATION: HeaderName = HeaderName::from_static("operation-location");

/// A status value the API does not define (`UnknownStatus` fault).
const UNKNOWN_STATUS: &str = "Paused";

/// The `Azure-AsyncOperation` monitor.
pub(crate) fn status_path(job: &Job) -> String {
    format!("/azure/operations/{}", job.id)
}

/// The `Operation-Location` monitor.
fn operation_status_path(job: &Job) -> String {
    format!("/azure/operation-status/{}", job.id)
}

/// The Location poller at `step` (0: the Location of the initial answer).
fn location_path(job: &Job, step: u32) -> String {
    match step {
        0 => format!("/azure/operation-results/{}", job.id),
        step => format!("/azure/operation-results/{}/{step}", job.id),
    }
}

/// Where a Succeeded monitor's `resourceLocation` points.
fn result_path(job: &Job) -> String {
    format!("/azure/results/{}", job.id)
}

fn resource_path(job: &Job) -> String {
    format!("/azure/resources/{}", resource_name(job))
}

/// The method that started the operation.
pub(crate) fn method(job: &Job) -> AzureMethod {
    match &job.details {
        Details::Azure { method, .. } => *method,
        _ => AzureMethod::Put,
    }
}

/// The status of the initial answer: the plan's, else 201 for PUT and POST and
/// 202 for PATCH and DELETE.
pub(crate) fn initial_status(job: &Job) -> u16 {
    job.plan.azure.initial_status.unwrap_or(match method(job) {
        AzureMethod::Put | AzureMethod::Post => 201,
        AzureMethod::Patch | AzureMethod::Delete => 202,
    })
}

/// Whether the initial answer ends the operation at once for a client that
/// follows the rules: no polling header, and a POST or DELETE, or a 204.
pub(crate) fn done_at_once(plan: &crate::plan::AzurePlan, method: AzureMethod) -> bool {
    plan.headers.as_ref().is_some_and(Vec::is_empty)
        && (matches!(method, AzureMethod::Post | AzureMethod::Delete)
            || plan.initial_status == Some(204))
}

/// The initial answer: its status and headers as the plan says (see
/// [`AzurePlan`](crate::plan::AzurePlan)); 200 and 201 carry the resource. The
/// URLs are absolute when the request said where it was sent.
pub(super) fn submitted(job: &Job, context: Context<'_>) -> Reply {
    let origin = context.origin.unwrap_or("");
    let status = StatusCode::from_u16(initial_status(job)).unwrap_or(StatusCode::CREATED);
    let mut reply = match status.as_u16() {
        202 | 204 => Reply::empty(status),
        _ => Reply::json(status, resource(job, context.now, false)),
    };
    match &job.plan.azure.headers {
        None => {
            reply.add_header(
                AZURE_ASYNC_OPERATION,
                format!("{origin}{}", status_path(job)),
            );
            reply.add_header(LOCATION, format!("{origin}{}", resource_path(job)));
            reply.add_header(RETRY_AFTER, "1");
        }
        Some(headers) => {
            for header in headers {
                let (name, path) = match header {
                    AzureHeader::AzureAsyncOperation => (AZURE_ASYNC_OPERATION, status_path(job)),
                    AzureHeader::OperationLocation => {
                        (OPERATION_LOCATION, operation_status_path(job))
                    }
                    AzureHeader::Location => (LOCATION, location_path(job, 0)),
                };
                reply.add_header(name, format!("{origin}{path}"));
            }
            if !headers.is_empty() {
                reply.add_header(RETRY_AFTER, "1");
            }
        }
    }
    reply
}

/// The operation resource.
pub(crate) fn operation(job: &Job, now: Instant, unknown_status: bool) -> Value {
    let phase = job.phase(now);
    let status = match phase {
        _ if unknown_status => UNKNOWN_STATUS,
        Phase::Queued => "NotStarted",
        Phase::Running => "Running",
        Phase::Succeeded => "Succeeded",
        Phase::Failed { .. } => "Failed",
        Phase::Cancelled => "Canceled",
    };
    let mut body = Map::new();
    body.insert("id".to_owned(), json!(status_path(job)));
    body.insert("name".to_owned(), json!(job.id));
    body.insert("status".to_owned(), json!(status));
    if job.plan.progress {
        body.insert("percentComplete".to_owned(), json!(job.percent(now)));
    }
    body.insert(
        "startTime".to_owned(),
        json!(clock::rfc3339(job.created_at)),
    );
    body.insert("endTime".to_owned(), timestamp(job.finished_at(now)));
    if let Some((code, message)) = error(phase) {
        body.insert(
            "error".to_owned(),
            json!({"code": code, "message": message}),
        );
    }
    Value::Object(body)
}

/// The `error` of a failed or cancelled operation: its code and message.
fn error<'a>(phase: Phase<'a>) -> Option<(&'static str, &'a str)> {
    match phase {
        Phase::Failed { message } => Some(("ProvisioningFailed", message)),
        Phase::Cancelled => Some(("Canceled", "the operation was canceled")),
        _ => None,
    }
}

/// A status monitor's answer: the operation, with `resourceLocation` once it
/// has succeeded if the plan asks for one, or what `fault` makes of it.
pub(crate) fn monitor(
    job: &Job,
    context: Context<'_>,
    unknown_status: bool,
    fault: Option<MonitorFaultKind>,
) -> Reply {
    let mut body = operation(job, context.now, unknown_status);
    if job.plan.azure.resource_location
        && job.phase(context.now) == Phase::Succeeded
        && let Value::Object(map) = &mut body
    {
        let origin = context.origin.unwrap_or("");
        map.insert(
            "resourceLocation".to_owned(),
            json!(format!("{origin}{}", result_path(job))),
        );
    }
    let Some(fault) = fault else {
        return Reply::ok(body);
    };
    match (fault, &mut body) {
        (MonitorFaultKind::EmptyBody, _) => Reply::empty(StatusCode::OK),
        (MonitorFaultKind::NotJson, _) => Reply {
            status: StatusCode::OK,
            headers: Vec::new(),
            body: Body::Text {
                content_type: "text/plain; charset=utf-8",
                text: "operation status unavailable\n".to_owned(),
            },
        },
        (MonitorFaultKind::MissingStatus, Value::Object(map)) => {
            map.remove("status");
            Reply::ok(body)
        }
        (MonitorFaultKind::NumericStatus, Value::Object(map)) => {
            map.insert("status".to_owned(), json!(1));
            Reply::ok(body)
        }
        _ => Reply::ok(body),
    }
}

/// The Location poller while the operation runs: 202, no body, `Retry-After: 1`,
/// and with `moved_to`, a `Location` naming that step.
pub(crate) fn accepted(job: &Job, context: Context<'_>, moved_to: Option<u32>) -> Reply {
    let mut reply = Reply::empty(StatusCode::ACCEPTED).with_header(RETRY_AFTER, "1");
    if let Some(step) = moved_to {
        let origin = context.origin.unwrap_or("");
        reply.add_header(LOCATION, format!("{origin}{}", location_path(job, step)));
    }
    reply
}

/// The Location poller once the operation is over: when it succeeded, the plan's
/// final status (204 without a body, else the resource); when it failed or was
/// cancelled, 400 with the Azure error.
pub(crate) fn location_done(job: &Job, now: Instant) -> Reply {
    let phase = job.phase(now);
    if let Some((code, message)) = error(phase) {
        return azure_error(StatusCode::BAD_REQUEST, code, message);
    }
    let default = match method(job) {
        AzureMethod::Delete => 204,
        _ => 200,
    };
    let status = job.plan.azure.location_final_status.unwrap_or(default);
    match StatusCode::from_u16(status) {
        Ok(StatusCode::NO_CONTENT) => Reply::empty(StatusCode::NO_CONTENT),
        Ok(status) if status.is_success() => Reply::json(status, resource(job, now, false)),
        _ => Reply::ok(resource(job, now, false)),
    }
}

/// The answer of a final GET that fails (`FinalGetFault`).
pub(crate) fn final_get_error(status: u16) -> Reply {
    let status = StatusCode::from_u16(status)
        .ok()
        .filter(|status| status.as_u16() >= 400)
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let code = match status {
        StatusCode::NOT_FOUND => "ResourceNotFound",
        StatusCode::FORBIDDEN => "AuthorizationFailed",
        StatusCode::INTERNAL_SERVER_ERROR => "InternalServerError",
        StatusCode::SERVICE_UNAVAILABLE => "ServiceUnavailable",
        _ => "RequestFailed",
    };
    azure_error(status, code, "injected final GET fault")
}

/// 404 for a resource that is gone or a result that does not exist yet.
pub(crate) fn not_found(what: &str) -> Reply {
    azure_error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        &format!("not found: {}", crate::reply::quote(what)),
    )
}

/// The resource's name.
pub(crate) fn resource_name(job: &Job) -> &str {
    match &job.details {
        Details::Azure { resource, .. } => resource,
        _ => &job.id,
    }
}

/// An Azure error body: `{"error": {"code": "...", "message": "..."}}`.
fn azure_error(status: StatusCode, code: &str, message: &str) -> Reply {
    Reply::json(status, json!({"error": {"code": code, "message": message}}))
}

/// The resource the latest operation on it works on: the fields the client put
/// or patched, its `properties` with `provisioningState` (and `outputUri` once
/// the operation has succeeded).
pub(crate) fn resource(job: &Job, now: Instant, unknown_status: bool) -> Value {
    let phase = job.phase(now);
    let state = match phase {
        _ if unknown_status => UNKNOWN_STATUS,
        Phase::Queued => "Accepted",
        Phase::Running => match method(job) {
            AzureMethod::Put | AzureMethod::Post => "Creating",
            AzureMethod::Patch => "Updating",
            AzureMethod::Delete => "Deleting",
        },
        Phase::Succeeded => "Succeeded",
        Phase::Failed { .. } => "Failed",
        Phase::Cancelled => "Canceled",
    };
    let mut body = Map::new();
    if let Details::Azure { payload, .. } = &job.details {
        for (key, value) in payload {
            if !matches!(key.as_str(), "id" | "name" | "type" | "properties") {
                body.insert(key.clone(), value.clone());
            }
        }
    }
    let mut properties = match &job.details {
        Details::Azure { payload, .. } => match payload.get("properties") {
            Some(Value::Object(properties)) => properties.clone(),
            _ => Map::new(),
        },
        _ => Map::new(),
    };
    properties.insert("provisioningState".to_owned(), json!(state));
    if phase == Phase::Succeeded {
        properties.insert(
            "outputUri".to_owned(),
            json!(format!(
                "https://files.example/{}/output",
                resource_name(job)
            )),
        );
    }
    body.insert("id".to_owned(), json!(resource_path(job)));
    body.insert("name".to_owned(), json!(resource_name(job)));
    body.insert("type".to_owned(), json!("Jobpoll/resources"));
    body.insert("properties".to_owned(), Value::Object(properties));
    Value::Object(body)
}

/// The resource's fields after an operation of `method` with `fields` on a
/// resource whose fields were `previous`: PUT replaces them, PATCH merges them
/// (`properties` key by key), POST and DELETE leave them.
pub(crate) fn payload_after(
    method: AzureMethod,
    previous: Option<&Map<String, Value>>,
    fields: Map<String, Value>,
) -> Map<String, Value> {
    let mut payload = previous.cloned().unwrap_or_default();
    match method {
        AzureMethod::Put => fields,
        AzureMethod::Post | AzureMethod::Delete => payload,
        AzureMethod::Patch => {
            for (key, value) in fields {
                match (payload.get_mut(&key), value) {
                    (Some(Value::Object(old)), Value::Object(new)) if key == "properties" => {
                        old.extend(new);
                    }
                    (_, value) => {
                        payload.insert(key, value);
                    }
                }
            }
            payload
        }
    }
}
