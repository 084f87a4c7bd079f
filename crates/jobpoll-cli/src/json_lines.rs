//! The `--json` output: one JSON object per line, each an event or an outcome of
//! one job, in one documented shape for one job and many (`docs/cli.md`, "JSON
//! output").
//!
//! Every line has `type` (the event kind, or `outcome`), `job` (the job's number,
//! from 1, in the order given) and `url` (the URL it was given by, secrets
//! redacted). Durations are whole milliseconds in fields ending in `_ms`.

use std::time::Duration;

use jobpoll_core::trace::Redactor;
use jobpoll_core::{CancelledBy, Event, Outcome, PollError, WaitLimit};
use serde_json::{Map, Value, json};

/// Whole milliseconds.
fn ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The line that starts every object: `type`, `job`, `url`.
fn head(kind: &str, job: usize, url: &str) -> Map<String, Value> {
    let mut line = Map::new();
    line.insert("type".into(), json!(kind));
    line.insert("job".into(), json!(job));
    line.insert("url".into(), json!(url));
    line
}

/// Adds `fields` (an object) to `line`.
fn with(mut line: Map<String, Value>, fields: Value) -> Value {
    if let Value::Object(fields) = fields {
        line.extend(fields);
    }
    Value::Object(line)
}

/// The line of one event of job number `job`, given by `url`.
pub(crate) fn event(job: usize, url: &str, event: &Event) -> Value {
    let (kind, fields) = match event {
        Event::Submitted { job_id, status_url } => {
            let status_url = match status_url.parse() {
                Ok(parsed) => Redactor::default().url(&parsed).to_string(),
                Err(_) => status_url.clone(),
            };
            (
                "submitted",
                json!({ "job_id": job_id, "status_url": status_url }),
            )
        }
        Event::StatusChanged { from, to } => ("status_changed", json!({ "from": from, "to": to })),
        Event::Progress(progress) => (
            "progress",
            json!({
                "attempt": progress.attempt,
                "max_attempts": progress.max_attempts,
                "status": progress.status,
                "percentage": progress.percentage,
                "step": progress.step,
                "next_poll_in_ms": ms(progress.next_poll_in),
                "elapsed_ms": ms(progress.elapsed),
                "eta_ms": progress.eta.map(ms),
            }),
        ),
        Event::Retrying {
            cause,
            consecutive_errors,
            delay,
        } => (
            "retrying",
            json!({
                "error": poll_error(cause),
                "consecutive_errors": consecutive_errors,
                "delay_ms": ms(*delay),
            }),
        ),
        Event::HintCapped {
            source,
            requested,
            used,
        } => (
            "hint_capped",
            json!({
                "source": source,
                "requested_ms": ms(*requested),
                "used_ms": ms(*used),
            }),
        ),
        Event::HintIgnored { problem } => {
            ("hint_ignored", json!({ "problem": problem.to_string() }))
        }
        Event::Updated { revision, body } => {
            ("updated", json!({ "revision": revision, "body": body }))
        }
        Event::ResultsFetched { results } => ("results_fetched", json!({ "results": results })),
        Event::CancelRequested => ("cancel_requested", json!({})),
    };
    with(head(kind, job, url), fields)
}

/// The error object of a request that failed: `kind` (see [`PollError::kind`]),
/// `message`, the HTTP `status` when the server answered one, and no `details`.
fn poll_error(error: &PollError) -> Value {
    let status = match error {
        PollError::Status { status, .. } => Some(*status),
        PollError::SubmitUncertain { cause } => match cause.as_ref() {
            PollError::Status { status, .. } => Some(*status),
            _ => None,
        },
        _ => None,
    };
    error_object(error.kind(), &error.to_string(), status, None)
}

fn error_object(kind: &str, message: &str, status: Option<u16>, details: Option<&Value>) -> Value {
    json!({ "kind": kind, "message": message, "status": status, "details": details })
}

/// The error of an outcome that is not a success, or `null`.
fn outcome_error(outcome: &Outcome) -> Value {
    let kind = outcome.kind();
    let sentence = outcome.to_string();
    match outcome {
        Outcome::Succeeded { .. } => Value::Null,
        Outcome::Failed {
            message, details, ..
        } => error_object(kind, message, None, details.as_ref()),
        Outcome::Unauthorized {
            status, message, ..
        }
        | Outcome::Rejected {
            status, message, ..
        } => error_object(kind, message, Some(*status), None),
        Outcome::GaveUp { last_error, .. } => poll_error(last_error),
        Outcome::TimedOut { reason, .. } => {
            let kind = match reason {
                WaitLimit::Deadline { .. } => "deadline",
                WaitLimit::MaxAttempts { .. } => "max_attempts",
                WaitLimit::HintPastDeadline { .. } => "hint_past_deadline",
            };
            error_object(kind, &sentence, None, None)
        }
        Outcome::Cancelled { by, .. } => {
            let kind = match by {
                CancelledBy::Client { .. } => "cancelled_by_client",
                CancelledBy::Server => "cancelled_by_server",
            };
            error_object(kind, &sentence, None, None)
        }
        Outcome::NotFound { .. } => error_object(kind, &sentence, Some(404), None),
    }
}

/// The result of a successful job: the fetched results when there are some, else
/// the result of its status; `null` when it has none or did not succeed.
pub(crate) fn result_of(outcome: &Outcome) -> Value {
    let value = match outcome {
        Outcome::Succeeded {
            result, results, ..
        } => results.clone().or_else(|| result.clone()),
        _ => None,
    };
    value.unwrap_or(Value::Null)
}

/// The outcome line of job number `job`, given by `url`.
pub(crate) fn outcome(job: usize, url: &str, outcome: &Outcome) -> Value {
    let stats = outcome.stats();
    let results_error = match outcome {
        Outcome::Succeeded { results_error, .. } => results_error.clone(),
        _ => None,
    };
    with(
        head("outcome", job, url),
        json!({
            "outcome": outcome.kind(),
            "message": outcome.to_string(),
            "result": result_of(outcome),
            "results_error": results_error,
            "error": outcome_error(outcome),
            "job_id": stats.job_id,
            "last_status": stats.last_status,
            "elapsed_ms": ms(stats.elapsed),
            "attempts": stats.attempts,
            "requests": stats.requests,
        }),
    )
}

/// The server's error of a job that did not succeed, for standard error: its
/// message, then its details (pretty JSON) when it has some. `None` on success.
pub(crate) fn error_text(outcome: &Outcome) -> Option<String> {
    match outcome {
        Outcome::Succeeded { .. } => None,
        Outcome::Failed {
            message, details, ..
        } => {
            let mut text = format!("the job failed: {message}");
            if let Some(details) = details {
                let details =
                    serde_json::to_string_pretty(details).unwrap_or_else(|_| details.to_string());
                text.push_str(&format!("\ndetails: {details}"));
            }
            Some(text)
        }
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use jobpoll_core::{Progress, Stats};

    use super::*;

    #[test]
    fn durations_are_whole_milliseconds_named_so() {
        let line = event(
            2,
            "http://x/j",
            &Event::Progress(Progress {
                attempt: 3,
                max_attempts: None,
                status: "running".into(),
                percentage: Some(40.0),
                step: None,
                next_poll_in: Duration::from_micros(1_500_700),
                elapsed: Duration::from_secs(2),
                eta: Some(Duration::from_millis(250)),
            }),
        );
        assert_eq!(line["type"], "progress");
        assert_eq!(line["job"], 2);
        assert_eq!(line["next_poll_in_ms"], 1500);
        assert_eq!(line["elapsed_ms"], 2000);
        assert_eq!(line["eta_ms"], 250);
    }

    #[test]
    fn a_failure_carries_the_server_message_and_details() {
        let failed = Outcome::Failed {
            message: "out of memory".into(),
            details: Some(json!({"code": 137})),
            stats: Stats::default(),
        };
        let line = outcome(1, "http://x/j", &failed);
        assert_eq!(line["error"]["message"], "out of memory");
        assert_eq!(line["error"]["details"]["code"], 137);
        assert_eq!(line["result"], Value::Null);
        let text = error_text(&failed).expect("an error");
        assert!(
            text.contains("out of memory") && text.contains("137"),
            "{text}"
        );
    }
}
