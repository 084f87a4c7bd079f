//! Azure long-running operations: `PUT|POST /azure/resources/{name}` (or `POST
//! /azure/resources`) answers 201 with `Azure-AsyncOperation` (the operation to
//! poll), `Location` (the resource to fetch at the end) and `Retry-After`;
//! `GET /azure/operations/{id}` gives `{id, name, status, percentComplete, error?}`;
//! `GET /azure/resources/{name}` gives `{id, name, properties{provisioningState}}`.

use http::header::{LOCATION, RETRY_AFTER};
use http::{HeaderName, StatusCode};
use serde_json::{Map, Value, json};

use jobpoll_core::Instant;

use super::{Context, timestamp};
use crate::clock;
use crate::job::{Details, Job, Phase};
use crate::reply::Reply;

const AZURE_ASYNC_OPERATION: HeaderName = HeaderName::from_static("azure-asyncoperation");

/// A status value the API does not define (`UnknownStatus` fault).
const UNKNOWN_STATUS: &str = "Paused";

pub(super) fn status_path(job: &Job) -> String {
    format!("/azure/operations/{}", job.id)
}

fn resource_path(job: &Job) -> String {
    format!("/azure/resources/{}", resource_name(job))
}

/// 201 with the resource, `Azure-AsyncOperation`, `Location` and `Retry-After: 1`.
/// The URLs are absolute when the request said where it was sent.
pub(super) fn submitted(job: &Job, context: Context<'_>) -> Reply {
    let origin = context.origin.unwrap_or("");
    Reply::json(StatusCode::CREATED, resource(job, context.now, false))
        .with_header(
            AZURE_ASYNC_OPERATION,
            format!("{origin}{}", status_path(job)),
        )
        .with_header(LOCATION, format!("{origin}{}", resource_path(job)))
        .with_header(RETRY_AFTER, "1")
}

/// The operation resource.
pub(super) fn operation(job: &Job, now: Instant, unknown_status: bool) -> Value {
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
    let error = match phase {
        Phase::Failed { message } => Some(("ProvisioningFailed", message)),
        Phase::Cancelled => Some(("Canceled", "cancelled by request")),
        _ => None,
    };
    if let Some((code, message)) = error {
        body.insert(
            "error".to_owned(),
            json!({"code": code, "message": message}),
        );
    }
    Value::Object(body)
}

/// The resource the latest operation on it provisions.
pub(super) fn resource(job: &Job, now: Instant, unknown_status: bool) -> Value {
    let phase = job.phase(now);
    let state = match phase {
        _ if unknown_status => UNKNOWN_STATUS,
        Phase::Queued => "Accepted",
        Phase::Running => "Creating",
        Phase::Succeeded => "Succeeded",
        Phase::Failed { .. } => "Failed",
        Phase::Cancelled => "Canceled",
    };
    let mut properties = Map::new();
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
    json!({
        "id": resource_path(job),
        "name": resource_name(job),
        "type": "Jobpoll/resources",
        "properties": properties,
    })
}

fn resource_name(job: &Job) -> &str {
    match &job.details {
        Details::Azure { resource } => resource,
        _ => &job.id,
    }
}
