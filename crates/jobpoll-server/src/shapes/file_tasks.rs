//! Files with tasks: `POST /api/file`, `GET /api/file/{id}` giving
//! `{id, url?, contentType, tasks[{id, status}]}`.
//!
//! A file is made by three tasks, each taking a third of the job's duration. While
//! the job runs, the tasks so far are listed, the latest one `in_progress`
//! (`pending` while queued), so the client never sees "every task completed"
//! early. On success every task is `completed` and `url` is set; on failure the
//! latest task is `error`.

use http::StatusCode;
use http::header::LOCATION;
use serde_json::{Value, json};

use jobpoll_core::Instant;

use crate::job::{Job, Phase};
use crate::reply::Reply;

const TASKS: usize = 3;

/// A task status value the API does not define (`UnknownStatus` fault). The
/// file-tasks rule reads any status but `completed` and `error` as running.
const UNKNOWN_STATUS: &str = "paused";

pub(super) fn status_path(job: &Job) -> String {
    format!("/api/file/{}", job.id)
}

/// 201 with the file as it stands.
pub(super) fn submitted(job: &Job, now: Instant) -> Reply {
    Reply::json(StatusCode::CREATED, status(job, now, false))
        .with_header(LOCATION, status_path(job))
}

/// `{id, url?, contentType, tasks[{id, status, error?}]}`.
pub(super) fn status(job: &Job, now: Instant, unknown_status: bool) -> Value {
    let phase = job.phase(now);
    let at = job.finished_at(now).unwrap_or(now);
    // (tasks listed, status of the latest one, error message)
    let (listed, latest, message) = match phase {
        Phase::Queued => (1, "pending", None),
        Phase::Running => (job.stage(now, TASKS) + 1, "in_progress", None),
        Phase::Succeeded => (TASKS, "completed", None),
        Phase::Failed { message } => (job.stage(at, TASKS) + 1, "error", Some(message)),
        // The API has no cancelled state; a cancelled file reads as failed.
        Phase::Cancelled => (
            job.stage(at, TASKS) + 1,
            "error",
            Some("cancelled by request"),
        ),
    };
    let latest = if unknown_status {
        UNKNOWN_STATUS
    } else {
        latest
    };
    let tasks: Vec<Value> = (1..=listed)
        .map(|number| {
            let mut task = json!({"id": format!("{}-task-{number}", job.id)});
            let status = if number == listed {
                latest
            } else {
                "completed"
            };
            if let Some(map) = task.as_object_mut() {
                map.insert("status".to_owned(), json!(status));
                if let (true, Some(message)) = (number == listed, message) {
                    map.insert("error".to_owned(), json!(message));
                }
            }
            task
        })
        .collect();
    let mut body = json!({"id": job.id, "contentType": "video/mp4", "tasks": tasks});
    if phase == Phase::Succeeded
        && let Some(map) = body.as_object_mut()
    {
        map.insert(
            "url".to_owned(),
            json!(format!("https://files.example/{}.mp4", job.id)),
        );
    }
    body
}
