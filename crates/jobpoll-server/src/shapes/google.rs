//! Google `google.longrunning.Operation`: `POST /v1/operations`,
//! `GET /v1/{name}`, `POST /v1/{name}:cancel`, `DELETE /v1/{name}`, where the
//! name is `operations/op-1`, or `operations/{prefix}/op-1` with slashes.
//!
//! An operation is `{name, metadata, done}` while running; once done it holds
//! `response`, or `error` (code 1, `CANCELLED`, after a cancel).

use http::StatusCode;
use serde_json::{Map, Value, json};

use jobpoll_core::Instant;

use super::timestamp;
use crate::clock;
use crate::job::{Details, Job, Phase};
use crate::reply::Reply;

const METADATA_TYPE: &str = "type.googleapis.com/jobpoll.v1.OperationMetadata";
const RESPONSE_TYPE: &str = "type.googleapis.com/jobpoll.v1.Result";

/// `google.rpc.Code`: CANCELLED, INTERNAL, FAILED_PRECONDITION.
const CANCELLED: u16 = 1;
const INTERNAL: u16 = 13;

/// The operation's resource name, which clients poll as `/v1/{name}`.
pub(super) fn name(job: &Job) -> String {
    match &job.details {
        Details::Google { name } => name.clone(),
        _ => format!("operations/{}", job.id),
    }
}

/// The name of operation `id` whose plan asks for `prefix`.
pub(crate) fn name_for(id: &str, prefix: Option<&str>) -> String {
    match prefix {
        Some(prefix) => format!("operations/{prefix}/{id}"),
        None => format!("operations/{id}"),
    }
}

pub(super) fn status_path(job: &Job) -> String {
    format!("/v1/{}", name(job))
}

/// 200 with the operation, as `Create` methods of long-running APIs answer.
pub(super) fn submitted(job: &Job, now: Instant) -> Reply {
    Reply::ok(operation(job, now, false))
}

/// The operation at `now`.
pub(super) fn operation(job: &Job, now: Instant, unknown_status: bool) -> Value {
    let phase = job.phase(now);
    let mut metadata = Map::new();
    metadata.insert("@type".to_owned(), json!(METADATA_TYPE));
    metadata.insert(
        "createTime".to_owned(),
        json!(clock::rfc3339(job.created_at)),
    );
    metadata.insert("endTime".to_owned(), timestamp(job.finished_at(now)));
    if job.plan.progress {
        metadata.insert("progressPercent".to_owned(), json!(job.percent(now)));
    }
    let mut body = Map::new();
    body.insert("name".to_owned(), json!(name(job)));
    body.insert("metadata".to_owned(), Value::Object(metadata));
    // `done` is a boolean; a string is what this API never says.
    let done = if unknown_status {
        json!("unknown")
    } else {
        json!(phase.is_finished())
    };
    body.insert("done".to_owned(), done);
    match phase {
        Phase::Queued | Phase::Running => {}
        Phase::Succeeded => {
            body.insert(
                "response".to_owned(),
                json!({
                    "@type": RESPONSE_TYPE,
                    "uri": format!("https://files.example/{}/result.json", job.id),
                }),
            );
        }
        Phase::Failed { message } => {
            body.insert(
                "error".to_owned(),
                json!({"code": INTERNAL, "message": message}),
            );
        }
        Phase::Cancelled => {
            body.insert(
                "error".to_owned(),
                json!({"code": CANCELLED, "message": "cancelled by request"}),
            );
        }
    }
    Value::Object(body)
}

/// 400 `FAILED_PRECONDITION` for a cancel that comes after the operation is done.
pub(super) fn cancel_refused(job: &Job) -> Reply {
    Reply::json(
        StatusCode::BAD_REQUEST,
        json!({"error": {
            "code": 400,
            "status": "FAILED_PRECONDITION",
            "message": format!("operation {} is already done", name(job)),
        }}),
    )
}
