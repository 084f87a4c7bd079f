//! The invariants, checked after every step of a run.

use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use jobpoll_core::event::CancelledBy;
use jobpoll_core::{Config, Input, Instant, Outcome, Output, Purpose, TransportError};
use jobpoll_server::model::{ServerModel, Truth};
use jobpoll_server::plan::Shape;

use crate::world::JobFacts;

/// An invariant that broke.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("job {job} at {at}: {invariant}: {detail}")]
pub struct Violation {
    /// Index of the job (start order).
    pub job: usize,
    /// When.
    pub at: Instant,
    /// Which invariant.
    pub invariant: String,
    /// What happened.
    pub detail: String,
}

impl Violation {
    pub(crate) fn new(
        job: usize,
        at: Instant,
        invariant: &str,
        detail: impl Into<String>,
    ) -> Violation {
        Violation {
            job,
            at,
            invariant: invariant.to_owned(),
            detail: detail.into(),
        }
    }
}

/// What the checker tracks of one job, independently of the job itself.
#[derive(Clone, Debug, Default)]
struct Watch {
    /// No request may go out before this (server hints, read here from the raw
    /// headers, not through the core's parser).
    not_before: Option<Instant>,
    last_request_at: Option<Instant>,
    in_flight: bool,
    finished: bool,
    deadline_at: Option<Instant>,
    request_time_limit: Duration,
    min_interval: Duration,
    max_hint: Duration,
    /// When the server last produced a 2xx status answer.
    last_status_read: Option<Instant>,
    /// Whether the server ever refused our credentials for this job.
    saw_unauthorized: bool,
    /// Whether the server handled any request of this job.
    served: bool,
    /// Whether any request may have reached the server as the client sees it: it
    /// got an answer or failed in any way but a refused connection, or it was
    /// abandoned in flight.
    may_have_arrived: bool,
}

/// Checks every invariant of every job.
#[derive(Debug, Default)]
pub struct Checker {
    watches: Vec<Watch>,
}

impl Checker {
    /// Job `index` starts at `started` under `config`.
    pub(crate) fn on_start(&mut self, index: usize, config: &Config, started: Instant) {
        let watch = Watch {
            deadline_at: config.deadline.map(|d| started + d),
            request_time_limit: config.request_time_limit,
            min_interval: config.min_interval,
            max_hint: config.max_hint,
            ..Watch::default()
        };
        if self.watches.len() <= index {
            self.watches.resize(index + 1, Watch::default());
        }
        self.watches[index] = watch;
    }

    pub(crate) fn on_output(
        &mut self,
        index: usize,
        output: &Output,
        now: Instant,
    ) -> Result<(), Violation> {
        let watch = &mut self.watches[index];
        let fail =
            |invariant: &str, detail: String| Err(Violation::new(index, now, invariant, detail));
        if watch.finished && !matches!(output, Output::Done) {
            return fail("nothing after the outcome", format!("{output:?}"));
        }
        match output {
            Output::Transmit(transmit) => {
                if watch.in_flight {
                    return fail(
                        "one request in flight",
                        format!("{} sent while another is in flight", transmit.id),
                    );
                }
                if let Some(deadline) = watch.deadline_at
                    && now >= deadline
                {
                    return fail(
                        "the deadline holds",
                        format!("{} sent at or after the deadline {deadline}", transmit.id),
                    );
                }
                if transmit.purpose != Purpose::Cancel {
                    if let Some(not_before) = watch.not_before
                        && now < not_before
                    {
                        return fail(
                            "no request before the server's hint allows",
                            format!(
                                "{} sent at {now}, the server asked to wait until {not_before}",
                                transmit.id
                            ),
                        );
                    }
                    if let Some(last) = watch.last_request_at
                        && now < last + watch.min_interval
                    {
                        return fail(
                            "minimum interval",
                            format!("{} sent {:?} after the last", transmit.id, now - last),
                        );
                    }
                }
                watch.in_flight = true;
                watch.last_request_at = Some(now);
            }
            Output::Abort(_) => {
                watch.in_flight = false;
                watch.may_have_arrived = true;
            }
            Output::Finished(outcome) => {
                // A job may only say it may still be running on the server when
                // some request may have reached it, and may only say that none did
                // when the server indeed handled none.
                let text = outcome.to_string();
                let arrived = watch.may_have_arrived || watch.in_flight;
                if text.contains("may still be running") && !arrived {
                    return fail(
                        "no claim the job may be running where nothing reached the server",
                        text,
                    );
                }
                if outcome.stats().unreached && (arrived || watch.served) {
                    return fail(
                        "no claim that nothing reached the server when something may have",
                        format!("served: {}, {text}", watch.served),
                    );
                }
                if let Some(deadline) = watch.deadline_at
                    && now > deadline + watch.request_time_limit
                {
                    return fail(
                        "the deadline holds",
                        format!(
                            "outcome {} at {now}, later than deadline {deadline} + one request time limit",
                            outcome.kind()
                        ),
                    );
                }
                watch.finished = true;
            }
            Output::Event(_) | Output::WakeAt(_) | Output::Done => {}
        }
        Ok(())
    }

    /// The client received an answer (before any sabotage strips its headers).
    pub(crate) fn on_answer(&mut self, index: usize, input: &Input, now: Instant) {
        let watch = &mut self.watches[index];
        watch.in_flight = false;
        if !matches!(
            input,
            Input::TransportError {
                error: TransportError::Connect(_),
                ..
            }
        ) {
            watch.may_have_arrived = true;
        }
        if let Input::Response { response, .. } = input
            && let Some(wait) = hinted_wait(response)
        {
            let until = now + wait.min(watch.max_hint);
            watch.not_before = Some(watch.not_before.map_or(until, |t| t.max(until)));
        }
    }

    /// The server produced an answer (at server time `at`).
    pub(crate) fn on_server_answer(
        &mut self,
        index: usize,
        purpose: Purpose,
        status: http::StatusCode,
        at: Instant,
    ) {
        let watch = &mut self.watches[index];
        watch.served = true;
        if purpose == Purpose::Status && status.is_success() {
            watch.last_status_read = Some(at);
        }
        if status == http::StatusCode::UNAUTHORIZED {
            watch.saw_unauthorized = true;
        }
    }

    /// The outcome must match what the model knows happened.
    pub(crate) fn on_outcome(
        &mut self,
        index: usize,
        outcome: &Outcome,
        now: Instant,
        job: &JobFacts,
        server: &ServerModel,
    ) -> Result<(), Violation> {
        let watch = &self.watches[index];
        let fail = |detail: String| {
            Err(Violation::new(
                index,
                now,
                "the outcome matches the server",
                detail,
            ))
        };
        let truth = job
            .server_id
            .as_deref()
            .and_then(|id| server.truth(id, now));
        match outcome {
            Outcome::Succeeded { .. } => match truth {
                Some(Truth::Succeeded { at }) if at <= now => Ok(()),
                other => fail(format!("succeeded, but the server says {other:?}")),
            },
            Outcome::Failed { message, .. } => match truth {
                // The file-tasks API has no message field: the core says which task
                // failed instead of the server's words.
                Some(Truth::Failed { message: m, .. })
                    if &m == message || job.shape == Shape::FileTasks =>
                {
                    Ok(())
                }
                other => fail(format!(
                    "failed with {message:?}, but the server says {other:?}"
                )),
            },
            Outcome::Cancelled {
                by: CancelledBy::Server,
                ..
            } => match truth {
                Some(Truth::Cancelled { .. }) => Ok(()),
                other => fail(format!(
                    "cancelled by the server, but the server says {other:?}"
                )),
            },
            Outcome::Cancelled {
                by: CancelledBy::Client { .. },
                ..
            } => match job.cancelled_at {
                Some(_) => Ok(()),
                None => fail("cancelled by the client, but nobody cancelled".to_owned()),
            },
            Outcome::TimedOut { .. } => {
                let last_read = watch.last_status_read;
                match (last_read, job.server_id.as_deref()) {
                    (Some(at), Some(id)) => match server.truth(id, at) {
                        Some(Truth::Running) | None => Ok(()),
                        Some(other) if job.phase_calm => {
                            fail(format!("timed out, but the last status read saw {other:?}"))
                        }
                        Some(_) => Ok(()),
                    },
                    _ if job.phase_calm => {
                        fail("a calm job timed out without a status read".to_owned())
                    }
                    _ => Ok(()),
                }
            }
            Outcome::Unauthorized { .. } if watch.saw_unauthorized => Ok(()),
            Outcome::GaveUp { .. }
            | Outcome::NotFound { .. }
            | Outcome::Rejected { .. }
            | Outcome::Unauthorized { .. }
                if job.phase_calm =>
            {
                fail(format!("a job with no faults ended as {outcome}"))
            }
            Outcome::Unauthorized { .. } => {
                fail("unauthorized, but the server never answered 401".to_owned())
            }
            Outcome::Rejected { .. } => fail(format!(
                "the model never rejects a valid request: {outcome}"
            )),
            Outcome::NotFound { .. } if job.plan.visible_after.is_zero() => {
                fail("not found, but the job was visible from the start".to_owned())
            }
            Outcome::GaveUp { .. } | Outcome::NotFound { .. } => Ok(()),
        }
    }
}

/// The wait a response asks for, read from its raw headers: `Retry-After` in
/// seconds and an exhausted `RateLimit` budget (`r=0;t=N`) — the forms the model
/// server sends.
fn hinted_wait(response: &http::Response<Bytes>) -> Option<Duration> {
    let headers = response.headers();
    let retry_after = headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let rate_limit = headers
        .get("ratelimit")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let params: Vec<&str> = v.split(';').map(str::trim).collect();
            let value = |key: &str| {
                params
                    .iter()
                    .find_map(|p| p.strip_prefix(key))
                    .and_then(|n| n.parse::<u64>().ok())
            };
            (value("r=") == Some(0))
                .then(|| value("t=").map(Duration::from_secs))
                .flatten()
        });
    retry_after.into_iter().chain(rate_limit).max()
}
