//! Turns: `POST /api/projects/{p}/sessions/{s}/turns`, then
//! `GET .../turns/{id}` giving `{id, status, blocks[{id, type, content}], error?}`.
//!
//! A turn streams five blocks, one per fifth of its duration: a running turn shows
//! the blocks finished so far (at most four), a completed one all five, a failed one
//! those it had when it failed.

use http::StatusCode;
use http::header::LOCATION;
use serde_json::{Value, json};

use jobpoll_core::Instant;

use super::timestamp;
use crate::clock;
use crate::job::{Details, Job, Phase};
use crate::reply::Reply;

/// The type of each block, in order.
const BLOCKS: [&str; 5] = ["thinking", "text", "tool_use", "tool_result", "text"];

/// A status value the API does not define (`UnknownStatus` fault).
const UNKNOWN_STATUS: &str = "paused";

pub(super) fn status_path(job: &Job) -> String {
    let (project, session) = session(job);
    format!(
        "/api/projects/{project}/sessions/{session}/turns/{}",
        job.id
    )
}

/// 201 `{id, status: "pending"}`.
pub(super) fn submitted(job: &Job) -> Reply {
    Reply::json(
        StatusCode::CREATED,
        json!({"id": job.id, "status": "pending"}),
    )
    .with_header(LOCATION, status_path(job))
}

/// `{id, session_id, status, blocks, error?, created_at, completed_at}`.
pub(super) fn status(job: &Job, now: Instant, unknown_status: bool) -> Value {
    let phase = job.phase(now);
    let at = job.finished_at(now).unwrap_or(now);
    let shown = match phase {
        Phase::Queued => 0,
        Phase::Succeeded => BLOCKS.len(),
        Phase::Running | Phase::Failed { .. } | Phase::Cancelled => job.stage(at, BLOCKS.len()),
    };
    let status = match phase {
        _ if unknown_status => UNKNOWN_STATUS,
        Phase::Queued => "pending",
        Phase::Running => "running",
        Phase::Succeeded => "completed",
        // The API has no cancelled status; a cancelled turn reads as failed.
        Phase::Failed { .. } | Phase::Cancelled => "failed",
    };
    let blocks: Vec<Value> = BLOCKS
        .iter()
        .take(shown)
        .enumerate()
        .map(|(index, kind)| {
            json!({
                "id": format!("{}-block-{}", job.id, index + 1),
                "type": kind,
                "content": format!("{kind} block {} of {}", index + 1, job.id),
            })
        })
        .collect();
    let mut body = json!({
        "id": job.id,
        "session_id": session(job).1,
        "status": status,
        "blocks": blocks,
        "created_at": clock::rfc3339(job.created_at),
        "completed_at": timestamp(job.finished_at(now)),
    });
    let message = match phase {
        Phase::Failed { message } => Some(message),
        Phase::Cancelled => Some("cancelled by request"),
        _ => None,
    };
    if let (Some(message), Some(map)) = (message, body.as_object_mut()) {
        map.insert("error".to_owned(), json!(message));
    }
    body
}

fn session(job: &Job) -> (&str, &str) {
    match &job.details {
        Details::Turn { project, session } => (project, session),
        _ => ("-", "-"),
    }
}
