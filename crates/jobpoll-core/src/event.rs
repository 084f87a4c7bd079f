//! What a job tells the outside world: events while it runs, one outcome at the end,
//! and the errors a server or network can cause along the way.

use core::fmt;
use core::time::Duration;

use serde::{Deserialize, Serialize};

use crate::hints::{HintProblem, HintSource, ServerHint};
use crate::profile::InterpretError;
use crate::time::{format_duration, serde_micros};

/// Something a UI may want to show while the job runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The submit request was accepted: the job exists on the server.
    Submitted {
        /// The job's id, when the API has one.
        job_id: Option<String>,
        /// Where its status is polled.
        status_url: String,
    },
    /// The server's status value changed (the first status read counts as a change).
    StatusChanged {
        /// The previous status, if any.
        from: Option<String>,
        /// The new status.
        to: String,
    },
    /// A status poll succeeded and the job is still running.
    Progress(Progress),
    /// A request failed in a way worth retrying; the next one waits `delay`.
    Retrying {
        /// What went wrong.
        cause: PollError,
        /// Failures in a row so far, this one included; zero when the server
        /// paces its clients (a 429 or 503 that says how long to wait), which is
        /// not counted as a failure.
        consecutive_errors: u32,
        /// Time until the next request.
        #[serde(with = "serde_micros")]
        delay: Duration,
    },
    /// The server asked for a longer wait than the configured cap; the cap is used.
    HintCapped {
        /// The header it came from.
        source: HintSource,
        /// What the server asked for.
        #[serde(with = "serde_micros")]
        requested: Duration,
        /// What is used instead.
        #[serde(with = "serde_micros")]
        used: Duration,
    },
    /// A hint header could not be used and was ignored.
    HintIgnored {
        /// Why.
        problem: HintProblem,
    },
    /// The job's representation changed while it runs (a turn's blocks grew).
    Updated {
        /// The new revision (for turns: the number of blocks).
        revision: u64,
        /// The body that carries the change.
        body: Option<serde_json::Value>,
    },
    /// The results step after success fetched and read the results.
    ResultsFetched {
        /// The results, reshaped by the profile.
        results: serde_json::Value,
    },
    /// A cancel request was sent to the server.
    CancelRequested,
}

/// A progress report after a status poll.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Status polls sent so far.
    pub attempt: u32,
    /// The configured ceiling on status polls, if any.
    pub max_attempts: Option<u32>,
    /// The server's status value.
    pub status: String,
    /// Percent done, when the server says.
    pub percentage: Option<f64>,
    /// The server's description of the current step.
    pub step: Option<String>,
    /// Time until the next poll.
    #[serde(with = "serde_micros")]
    pub next_poll_in: Duration,
    /// Time since the job started.
    #[serde(with = "serde_micros")]
    pub elapsed: Duration,
    /// Estimated time until the job finishes: the server's ETA, else the progress
    /// slope.
    #[serde(with = "serde_micros::option")]
    pub eta: Option<Duration>,
}

/// How a job ended. Every variant carries [`Stats`]; `Display` gives a sentence a
/// person can read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The job finished successfully.
    Succeeded {
        /// The result from the status body, if the API puts it there.
        result: Option<serde_json::Value>,
        /// The results from the results step, if the profile has one and it worked.
        results: Option<serde_json::Value>,
        /// Why the results step did not deliver, if it did not. The job itself
        /// succeeded; fetch the results again later.
        results_error: Option<String>,
        /// Counts and times.
        stats: Stats,
    },
    /// The server says the job failed.
    Failed {
        /// The server's message.
        message: String,
        /// The server's structured details, if any.
        details: Option<serde_json::Value>,
        /// Counts and times.
        stats: Stats,
    },
    /// The job was cancelled.
    Cancelled {
        /// Who cancelled it.
        by: CancelledBy,
        /// Counts and times.
        stats: Stats,
    },
    /// We stopped waiting. The job may still be running on the server, unless no
    /// request ever reached it ([`Stats::unreached`]).
    TimedOut {
        /// Which limit was reached.
        reason: WaitLimit,
        /// Counts and times.
        stats: Stats,
    },
    /// Too many errors in a row, or an error that makes going on pointless.
    GaveUp {
        /// The last error.
        last_error: PollError,
        /// Counts and times.
        stats: Stats,
    },
    /// The server refused our credentials (401, 403). Retrying will not help.
    Unauthorized {
        /// 401 or 403.
        status: u16,
        /// A short, safe excerpt of the server's message.
        message: String,
        /// Counts and times.
        stats: Stats,
    },
    /// The server rejected the request (another 4xx). Retrying will not help.
    Rejected {
        /// The status code.
        status: u16,
        /// A short, safe excerpt of the server's message.
        message: String,
        /// Counts and times.
        stats: Stats,
    },
    /// The job does not exist (404 after the grace period).
    NotFound {
        /// Counts and times.
        stats: Stats,
    },
}

/// Who cancelled a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum CancelledBy {
    /// We did, through `Input::Cancel`.
    Client {
        /// Whether the server confirmed the cancel request: `None` when none was sent
        /// (the API has no cancel, or the job id was not known yet).
        server_confirmed: Option<bool>,
    },
    /// The server reports the job as cancelled.
    Server,
}

/// Which limit ended the wait.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "limit", rename_all = "snake_case")]
pub enum WaitLimit {
    /// The total deadline passed.
    Deadline {
        /// The configured deadline.
        #[serde(with = "serde_micros")]
        deadline: Duration,
    },
    /// The configured number of status polls was used up.
    MaxAttempts {
        /// The configured ceiling.
        max_attempts: u32,
    },
    /// The server asked us to wait past the deadline; waiting would be pointless.
    HintPastDeadline {
        /// What the server asked for.
        hint: ServerHint,
        /// Time that was left until the deadline.
        #[serde(with = "serde_micros")]
        remaining: Duration,
    },
}

/// Counts and times every outcome carries.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// The job's id, when known.
    pub job_id: Option<String>,
    /// Time from start to outcome.
    #[serde(with = "serde_micros")]
    pub elapsed: Duration,
    /// Status polls sent.
    pub attempts: u32,
    /// All requests sent (submit, status, results, cancel).
    pub requests: u32,
    /// The last status value the server reported.
    pub last_status: Option<String>,
    /// No request could have reached the server: every one sent was refused before
    /// it went out (or none was sent). The server then knows nothing of this job
    /// from us, and no text says it may still be running there.
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    pub unreached: bool,
}

/// A failure caused by the server or the network (the peer misbehaved). Jobs retry
/// these; they end the job only when a limit is reached.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum PollError {
    /// The request did not get a response.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The server answered with an error status.
    #[error("the server answered {status}: {excerpt}")]
    Status {
        /// The status code.
        status: u16,
        /// A short, safe excerpt of the body.
        excerpt: String,
    },
    /// The response could not be read.
    #[error("the response could not be read: {0}")]
    Unreadable(#[from] InterpretError),
    /// The body is larger than the configured limit.
    #[error("the response body is larger than the limit of {limit} bytes")]
    BodyTooLarge {
        /// The limit.
        limit: usize,
    },
    /// No request reached the server: the connection was refused, in a row, as
    /// many times as the configuration allows before any contact.
    #[error(
        "could not reach {origin}: {failures} connection attempts in a row failed, so no request reached the server (the last: {last})"
    )]
    Unreachable {
        /// The server, as `scheme://host:port`.
        origin: String,
        /// Connection attempts that failed in a row.
        failures: u32,
        /// The last connection error.
        last: TransportError,
    },
    /// A job that was submitted may or may not exist: the submit request failed in a
    /// way that does not tell, and repeating it could create a second job.
    #[error(
        "the submit request failed ({cause}); the job may or may not have been created, and repeating the request could create a second one (send an Idempotency-Key header to allow retries)"
    )]
    SubmitUncertain {
        /// What went wrong.
        cause: Box<PollError>,
    },
}

/// Why a request got no response. Drivers map their own errors onto these.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum TransportError {
    /// The connection could not be made; the request was certainly not sent.
    #[error("could not connect: {0}")]
    Connect(String),
    /// No complete response within the request's time limit.
    #[error("no response within the request time limit")]
    #[serde(alias = "timeout")]
    NoResponseInTime,
    /// The connection broke after the request was sent.
    #[error("the connection broke: {0}")]
    Reset(String),
    /// The response body exceeded the driver's cap.
    #[error("the response body exceeded the limit of {0} bytes")]
    BodyTooLarge(usize),
    /// Anything else.
    #[error("transport error: {0}")]
    Other(String),
    /// The driver stopped before the answer came (the process was restarted and
    /// the job resumed from a snapshot); the request may have reached the server.
    #[error("the process stopped before the answer came")]
    Interrupted,
}

/// One line a person can read: `status queued -> processing`,
/// `progress attempt 3 processing 45% next in 10s eta 2m`, ...
impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Submitted { job_id, status_url } => write!(
                f,
                "submitted id={} status_url={status_url}",
                job_id.as_deref().unwrap_or("-")
            ),
            Event::StatusChanged { from, to } => {
                write!(f, "status {} -> {to}", from.as_deref().unwrap_or("-"))
            }
            Event::Progress(progress) => write!(f, "{progress}"),
            Event::Retrying {
                cause,
                consecutive_errors: 0,
                delay,
            } => write!(
                f,
                "retrying in {}, as the server asked: {cause}",
                format_duration(*delay)
            ),
            Event::Retrying {
                cause,
                consecutive_errors,
                delay,
            } => write!(
                f,
                "retrying in {} (error {consecutive_errors} in a row): {cause}",
                format_duration(*delay)
            ),
            Event::HintCapped {
                source,
                requested,
                used,
            } => write!(
                f,
                "hint capped: {source:?} asked {} used {}",
                format_duration(*requested),
                format_duration(*used)
            ),
            Event::HintIgnored { problem } => write!(f, "hint ignored: {problem}"),
            Event::Updated { revision, .. } => write!(f, "updated revision {revision}"),
            Event::ResultsFetched { results } => write!(f, "results fetched {results}"),
            Event::CancelRequested => write!(f, "cancel requested"),
        }
    }
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "progress attempt {}", self.attempt)?;
        if let Some(max) = self.max_attempts {
            write!(f, "/{max}")?;
        }
        write!(f, " {}", self.status)?;
        if let Some(percentage) = self.percentage {
            write!(f, " {percentage}%")?;
        }
        if let Some(step) = &self.step {
            write!(f, " {step:?}")?;
        }
        write!(f, " next in {}", format_duration(self.next_poll_in))?;
        if let Some(eta) = self.eta {
            write!(f, " eta {}", format_duration(eta))?;
        }
        Ok(())
    }
}

impl PollError {
    /// A short stable name for the kind of failure (`connect`, `no_response`,
    /// `http_429`, `http_5xx`, `unreadable`, ...), for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            PollError::Transport(TransportError::Connect(_)) => "connect",
            PollError::Transport(TransportError::NoResponseInTime) => "no_response",
            PollError::Transport(TransportError::Reset(_)) => "reset",
            PollError::Transport(TransportError::BodyTooLarge(_))
            | PollError::BodyTooLarge { .. } => "body_too_large",
            PollError::Transport(TransportError::Other(_)) => "transport",
            PollError::Transport(TransportError::Interrupted) => "interrupted",
            PollError::Status { status: 429, .. } => "http_429",
            PollError::Status {
                status: 500..=599, ..
            } => "http_5xx",
            PollError::Status { .. } => "http_other",
            PollError::Unreadable(_) => "unreadable",
            PollError::SubmitUncertain { .. } => "submit_uncertain",
            PollError::Unreachable { .. } => "unreachable",
        }
    }
}

impl Outcome {
    /// The counts and times of this outcome.
    pub fn stats(&self) -> &Stats {
        match self {
            Outcome::Succeeded { stats, .. }
            | Outcome::Failed { stats, .. }
            | Outcome::Cancelled { stats, .. }
            | Outcome::TimedOut { stats, .. }
            | Outcome::GaveUp { stats, .. }
            | Outcome::Unauthorized { stats, .. }
            | Outcome::Rejected { stats, .. }
            | Outcome::NotFound { stats } => stats,
        }
    }

    /// Whether the job succeeded.
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Succeeded { .. })
    }

    /// A short stable name for the variant (`succeeded`, `timed_out`, ...), for
    /// summaries and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Outcome::Succeeded { .. } => "succeeded",
            Outcome::Failed { .. } => "failed",
            Outcome::Cancelled { .. } => "cancelled",
            Outcome::TimedOut { .. } => "timed_out",
            Outcome::GaveUp { .. } => "gave_up",
            Outcome::Unauthorized { .. } => "unauthorized",
            Outcome::Rejected { .. } => "rejected",
            Outcome::NotFound { .. } => "not_found",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stats = self.stats();
        let job = match &stats.job_id {
            Some(id) => format!("job {id}"),
            None => "the job".to_owned(),
        };
        let tally = format!(
            "after {} ({} {})",
            format_duration(stats.elapsed),
            stats.attempts,
            if stats.attempts == 1 {
                "attempt"
            } else {
                "attempts"
            }
        );
        // Whether the server may know of the job: only then can it still be
        // running there.
        let maybe_running = if stats.unreached {
            "no request reached the server"
        } else {
            "the job may still be running on the server"
        };
        match self {
            Outcome::Succeeded {
                results_error: None,
                ..
            } => write!(f, "{job} succeeded {tally}"),
            Outcome::Succeeded {
                results_error: Some(e),
                ..
            } => write!(
                f,
                "{job} succeeded {tally}, but its results could not be fetched: {e}"
            ),
            Outcome::Failed { message, .. } => write!(f, "{job} failed {tally}: {message}"),
            Outcome::Cancelled {
                by: CancelledBy::Server,
                ..
            } => {
                write!(f, "{job} was cancelled on the server {tally}")
            }
            Outcome::Cancelled {
                by: CancelledBy::Client { server_confirmed },
                ..
            } => {
                let server = match server_confirmed {
                    _ if stats.unreached => "; no request reached the server",
                    Some(true) => "; the server confirmed",
                    Some(false) => "; the server did not confirm, so it may still be running",
                    None => {
                        "; no cancel request was sent, so it may still be running on the server"
                    }
                };
                write!(f, "{job} was cancelled {tally}{server}")
            }
            Outcome::TimedOut { reason, .. } => {
                let limit = match reason {
                    WaitLimit::Deadline { deadline } => {
                        format!("the deadline of {} passed", format_duration(*deadline))
                    }
                    WaitLimit::MaxAttempts { max_attempts } => {
                        format!("all {max_attempts} attempts were used")
                    }
                    WaitLimit::HintPastDeadline { hint, remaining } => format!(
                        "the server asked to wait {} but only {} was left before the deadline",
                        format_duration(hint.capped_from.unwrap_or(hint.delay)),
                        format_duration(*remaining)
                    ),
                };
                let last = match &stats.last_status {
                    Some(status) => format!(", last status {status:?}"),
                    None => String::new(),
                };
                write!(
                    f,
                    "gave up waiting for {job} {tally}{last}: {limit}; {maybe_running}"
                )
            }
            Outcome::GaveUp { last_error, .. } => {
                write!(f, "gave up on {job} {tally}: {last_error}")
            }
            Outcome::Unauthorized {
                status, message, ..
            } => write!(
                f,
                "the server refused our credentials for {job} ({status}): {message}; check the token and log in again"
            ),
            Outcome::Rejected {
                status, message, ..
            } => {
                write!(
                    f,
                    "the server rejected the request for {job} ({status}): {message}"
                )
            }
            Outcome::NotFound { .. } => write!(f, "{job} was not found {tally}"),
        }
    }
}
