//! The jobs API: `POST /api/v1/{x}-job`, `GET /api/v1/jobs/{id}`,
//! `POST /api/v1/jobs/{id}/cancel`, `GET /api/v1/jobs`.

use http::StatusCode;
use http::header::LOCATION;
use serde_json::{Map, Value, json};

use jobpoll_core::Instant;

use super::{StatusExtras, timestamp};
use crate::clock;
use crate::job::{Details, Job, Phase};
use crate::reply::{Reply, quote};

/// The steps a running job goes through, one per fifth of its duration.
const STEPS: [&str; 5] = [
    "Preparing inputs",
    "Generating",
    "Rendering",
    "Checking quality",
    "Uploading results",
];

/// A status value the API does not define (`UnknownStatus` fault).
const UNKNOWN_STATUS: &str = "on_hold";

pub(super) fn status_path(job: &Job) -> String {
    format!("/api/v1/jobs/{}", job.id)
}

/// 201 `{job_id, status: "queued", type, created_at}`.
pub(super) fn submitted(job: &Job) -> Reply {
    Reply::json(
        StatusCode::CREATED,
        json!({
            "job_id": job.id,
            "status": "queued",
            "type": kind(job),
            "created_at": clock::rfc3339(job.created_at),
        }),
    )
    .with_header(LOCATION, status_path(job))
}

/// The status body: `{job_id, status, type, created_at, completed_at,
/// progress_data{percentage, current_step, estimated_time_remaining}, result_data,
/// error_data{message, details}}`.
pub(super) fn status(job: &Job, now: Instant, extras: StatusExtras) -> Value {
    let phase = job.phase(now);
    let mut progress = Map::new();
    if job.plan.progress {
        progress.insert("percentage".to_owned(), json!(job.percent(now)));
    }
    progress.insert("current_step".to_owned(), json!(step(job, now, phase)));
    if let Some(eta) = extras.eta_seconds {
        progress.insert("estimated_time_remaining".to_owned(), json!(eta));
    }
    let status = if extras.unknown_status {
        UNKNOWN_STATUS
    } else {
        status_word(phase)
    };
    json!({
        "job_id": job.id,
        "status": status,
        "type": kind(job),
        "created_at": clock::rfc3339(job.created_at),
        "completed_at": timestamp(job.finished_at(now)),
        "progress_data": progress,
        "result_data": result(job, phase),
        "error_data": error(job, now, phase),
    })
}

/// One entry of the job list: the status body without an estimate.
pub(crate) fn summary(job: &Job, now: Instant) -> Value {
    status(job, now, StatusExtras::default())
}

/// The status words of the API, for list filters.
pub(crate) const STATUS_WORDS: [&str; 5] =
    ["queued", "processing", "completed", "failed", "cancelled"];

/// The API's word for `phase`.
pub(crate) fn status_word(phase: Phase<'_>) -> &'static str {
    match phase {
        Phase::Queued => "queued",
        Phase::Running => "processing",
        Phase::Succeeded => "completed",
        Phase::Failed { .. } => "failed",
        Phase::Cancelled => "cancelled",
    }
}

/// 200 after a cancel.
pub(super) fn cancelled(job: &Job, now: Instant) -> Reply {
    Reply::ok(json!({
        "job_id": job.id,
        "status": "cancelled",
        "cancelled_at": timestamp(job.finished_at(now)),
    }))
}

/// 409 for a cancel that comes too late.
pub(super) fn cancel_refused(job: &Job, now: Instant) -> Reply {
    Reply::error(
        StatusCode::CONFLICT,
        format!("job {} is already {}", job.id, status_word(job.phase(now))),
    )
}

fn kind(job: &Job) -> &str {
    match &job.details {
        Details::Jobs { kind } => kind,
        _ => "job",
    }
}

fn step(job: &Job, now: Instant, phase: Phase<'_>) -> String {
    match phase {
        Phase::Queued => "Waiting in queue".to_owned(),
        Phase::Running => {
            let index = job.stage(now, STEPS.len());
            format!("{} (step {} of {})", STEPS[index], index + 1, STEPS.len())
        }
        Phase::Succeeded => "Done".to_owned(),
        Phase::Failed { .. } => "Failed".to_owned(),
        Phase::Cancelled => "Cancelled".to_owned(),
    }
}

fn result(job: &Job, phase: Phase<'_>) -> Value {
    match phase {
        Phase::Succeeded => json!({
            "url": format!("https://files.example/{}/result.json", job.id),
            "type": kind(job),
        }),
        _ => Value::Null,
    }
}

fn error(job: &Job, now: Instant, phase: Phase<'_>) -> Value {
    match phase {
        Phase::Failed { message } => json!({
            "message": message,
            "details": {"job_id": job.id, "failed_at_percentage": job.percent(now)},
        }),
        Phase::Cancelled => json!({
            "message": "cancelled by request",
            "details": {"job_id": job.id, "cancelled_at": timestamp(job.finished_at(now))},
        }),
        _ => Value::Null,
    }
}

/// Jobs listed when the query names no `limit`, and the most it may name.
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 1_000;

/// `GET /api/v1/jobs?status=<all|active|queued|...>&limit=<n>`: the visible jobs of
/// this API, newest first, `{jobs, total, limit}`. `jobs` is every job the
/// server holds, oldest first.
pub(crate) fn list<'a>(
    jobs: impl DoubleEndedIterator<Item = &'a Job>,
    query: Option<&str>,
    now: Instant,
) -> Reply {
    let query = match ListQuery::parse(query.unwrap_or("")) {
        Ok(query) => query,
        Err(message) => return Reply::bad_request(message),
    };
    let matching: Vec<&Job> = jobs
        .rev()
        .filter(|job| matches!(job.details, Details::Jobs { .. }) && job.is_visible(now))
        .filter(|job| query.accepts(job.phase(now)))
        .collect();
    let listed: Vec<Value> = matching
        .iter()
        .take(query.limit)
        .map(|job| summary(job, now))
        .collect();
    Reply::ok(json!({"jobs": listed, "total": matching.len(), "limit": query.limit}))
}

/// The filters of a list request.
struct ListQuery {
    /// `None`: every status.
    statuses: Option<Vec<&'static str>>,
    limit: usize,
}

impl ListQuery {
    fn parse(query: &str) -> Result<ListQuery, String> {
        let mut parsed = ListQuery {
            statuses: None,
            limit: DEFAULT_LIMIT,
        };
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "status" => {
                    parsed.statuses = match value {
                        "all" | "" => None,
                        "active" => Some(vec!["queued", "processing"]),
                        _ => Some(vec![
                            STATUS_WORDS
                                .into_iter()
                                .find(|word| *word == value)
                                .ok_or_else(|| {
                                    format!(
                                        "unknown status filter {}: use all, active or one of {}",
                                        quote(value),
                                        STATUS_WORDS.join(", ")
                                    )
                                })?,
                        ]),
                    };
                }
                "limit" => {
                    parsed.limit = value
                        .parse::<usize>()
                        .ok()
                        .filter(|limit| *limit > 0)
                        .ok_or_else(|| {
                            format!("limit must be a positive integer, not {}", quote(value))
                        })?
                        .min(MAX_LIMIT);
                }
                _ => {}
            }
        }
        Ok(parsed)
    }

    fn accepts(&self, phase: Phase<'_>) -> bool {
        self.statuses
            .as_ref()
            .is_none_or(|statuses| statuses.contains(&status_word(phase)))
    }
}
