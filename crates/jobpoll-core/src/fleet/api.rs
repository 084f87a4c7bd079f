//! The fleet's public vocabulary: its limits, the keys of jobs and
//! subscriptions, what it takes in and puts out, its errors and its counts.

use core::time::Duration;
use std::collections::BTreeMap;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::event::{Event, Outcome, TransportError};
use crate::job::{Input, InputError, RequestId, Transmit};
use crate::time::Instant;

/// The fleet's own limits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetConfig {
    /// Requests in flight at once, over all origins (at least 1).
    pub max_in_flight: u32,
    /// Requests in flight at once to one origin (at least 1).
    pub max_in_flight_per_origin: u32,
    /// Root of every job's random seed (each job draws its own from it, in the
    /// order the jobs are added).
    pub seed: u64,
}

impl Default for FleetConfig {
    /// 256 requests in flight, 32 per origin.
    fn default() -> FleetConfig {
        FleetConfig {
            max_in_flight: 256,
            max_in_flight_per_origin: 32,
            seed: 0,
        }
    }
}

/// One job of the fleet (shared by all its subscribers). Keys are never reused: a
/// key of a finished job stays unknown to the fleet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct JobKey {
    pub(super) slot: u32,
    pub(super) generation: u32,
}

/// One subscription to a job: what [`Fleet::add`](super::Fleet::add) returns and what events and the
/// outcome are addressed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Subscriber {
    pub(super) job: JobKey,
    pub(super) number: u32,
}

impl Subscriber {
    /// The job this subscription is to.
    pub fn job(&self) -> JobKey {
        self.job
    }
}

/// Something that happened, for the fleet to react to: feed it with
/// [`Fleet::handle_input`](super::Fleet::handle_input), then drain
/// [`Fleet::poll_output`](super::Fleet::poll_output). Each carries the time it is
/// handled at; the fleet's clock never runs backwards, so an input earlier than
/// one before it is handled as if it came at the latest time seen.
///
/// These mirror a job's [`Input`]s; a job's `Cancel` (the user gives up) is a
/// fleet's [`FleetInput::Stop`], since a fleet's jobs may have several
/// subscribers.
#[derive(Clone, Debug)]
pub enum FleetInput {
    /// The response to request `request` of `job`, body complete.
    Response {
        /// The job that sent it.
        job: JobKey,
        /// The request it answers.
        request: RequestId,
        /// The response.
        response: http::Response<Bytes>,
        /// Now.
        now: Instant,
    },
    /// Request `request` of `job` got no response.
    TransportError {
        /// The job that sent it.
        job: JobKey,
        /// The request that failed.
        request: RequestId,
        /// Why.
        error: TransportError,
        /// Now.
        now: Instant,
    },
    /// Time has passed: feed it when the last [`FleetOutput::WakeAt`] is reached
    /// (extra ticks are harmless). Every job, request time limit and throttle hold
    /// due by `now` is acted on.
    Tick {
        /// Now.
        now: Instant,
    },
    /// The user ends one subscription, at once. The subscriber receives its
    /// outcome now (cancelled, by the client) when others still follow the job;
    /// else the job cancels now: it ends at once, or, when the profile has a
    /// server-side cancel request, that request goes out now and the outcome
    /// comes with its answer.
    ///
    /// The cancel request does not wait for its turn: not behind the origin's
    /// queue, its throttle hold nor the in-flight limits. It counts in the
    /// requests in flight while it is out (so the fleet's count may pass a limit
    /// by the cancel requests out), and requests that wait go after it. While
    /// the job's origin or the fleet is paused it is not sent (a paused fleet
    /// sends nothing) and the job ends at once.
    Stop {
        /// The subscription to end.
        subscriber: Subscriber,
        /// Now.
        now: Instant,
    },
    /// The user ends every subscription, as [`FleetInput::Stop`] does for one:
    /// every subscriber receives an outcome.
    StopAll {
        /// Now.
        now: Instant,
    },
}

impl FleetInput {
    /// The time the input carries.
    pub fn now(&self) -> Instant {
        match self {
            FleetInput::Response { now, .. }
            | FleetInput::TransportError { now, .. }
            | FleetInput::Tick { now }
            | FleetInput::Stop { now, .. }
            | FleetInput::StopAll { now } => *now,
        }
    }

    /// A job's answer (a [`Input::Response`] or [`Input::TransportError`]) as the
    /// fleet's input for `job`, for drivers that build a job's input from what
    /// came back; `None` for a tick or a cancel, which are not answers.
    pub fn answer(job: JobKey, input: Input) -> Option<FleetInput> {
        match input {
            Input::Response {
                request,
                response,
                now,
            } => Some(FleetInput::Response {
                job,
                request,
                response,
                now,
            }),
            Input::TransportError {
                request,
                error,
                now,
            } => Some(FleetInput::TransportError {
                job,
                request,
                error,
                now,
            }),
            Input::Tick { .. } | Input::Cancel { .. } => None,
        }
    }
}

/// What the fleet asks of its driver. Drain with
/// [`Fleet::poll_output`](super::Fleet::poll_output) until [`FleetOutput::WakeAt`]
/// or [`FleetOutput::Idle`].
#[derive(Clone, Debug, PartialEq)]
pub enum FleetOutput {
    /// Send this request for `job`; answer with [`FleetInput::Response`] or
    /// [`FleetInput::TransportError`].
    Transmit {
        /// The job it belongs to.
        job: JobKey,
        /// The request.
        transmit: Transmit,
    },
    /// Drop the request `request` of `job`: its answer is no longer wanted.
    Abort {
        /// The job it belongs to.
        job: JobKey,
        /// The request.
        request: RequestId,
    },
    /// Something happened to a job one subscriber follows (every subscriber of a
    /// shared job receives its own copy).
    Event {
        /// Who it is for.
        subscriber: Subscriber,
        /// What happened.
        event: Event,
    },
    /// The outcome, once per subscriber, after its last event.
    Finished {
        /// Who it is for.
        subscriber: Subscriber,
        /// How it ended.
        outcome: Outcome,
    },
    /// Nothing more to do until this instant, unless an input or a call comes
    /// first: feed [`FleetInput::Tick`] then.
    WakeAt(Instant),
    /// No job waits on time: the fleet is empty, or everything that waits is held
    /// by a pause. Nothing happens until an input or a call comes.
    Idle,
}

/// A call the fleet could not act on. Nothing changed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FleetError {
    /// The job is finished or was never in this fleet.
    #[error("no such job in the fleet: {0:?}")]
    UnknownJob(JobKey),
    /// The subscription ended or never existed.
    #[error("no such subscriber in the fleet: {0:?}")]
    UnknownSubscriber(Subscriber),
    /// The job refused the input (an answer to a request it did not send).
    #[error(transparent)]
    Input(#[from] InputError),
}

/// Counts over the fleet's life.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FleetMetrics {
    /// Jobs created.
    pub jobs: u64,
    /// Subscriptions that joined a job already running (shared polls).
    pub joined: u64,
    /// Jobs that reached an outcome.
    pub finished: u64,
    /// Outcomes by kind (`succeeded`, `failed`, `timed_out`, ...; see
    /// [`Outcome::kind`]).
    pub outcomes: BTreeMap<String, u64>,
    /// Failed requests by kind (`no_response`, `http_429`, `http_5xx`, ...; see
    /// [`PollError::kind`](crate::PollError::kind)), retried or final.
    pub errors: BTreeMap<String, u64>,
    /// Requests sent.
    pub requests: u64,
    /// Status polls of the finished jobs.
    pub attempts: u64,
    /// Time from start to outcome, summed over the finished jobs.
    #[serde(with = "crate::time::serde_micros")]
    pub completion_time: Duration,
}

impl FleetMetrics {
    /// Mean time from start to outcome of the finished jobs.
    pub fn average_completion(&self) -> Option<Duration> {
        let n = u32::try_from(self.finished).ok().filter(|n| *n > 0)?;
        Some(self.completion_time / n)
    }

    /// Share of the finished jobs that succeeded, 0 to 1.
    pub fn success_rate(&self) -> Option<f64> {
        let succeeded = self.outcomes.get("succeeded").copied().unwrap_or(0);
        (self.finished > 0).then(|| succeeded as f64 / self.finished as f64)
    }

    /// Mean number of status polls of the finished jobs.
    pub fn average_attempts(&self) -> Option<f64> {
        (self.finished > 0).then(|| self.attempts as f64 / self.finished as f64)
    }

    /// Counts a job's outcome: its kind, its final error, its attempts and time.
    pub(super) fn count_outcome(&mut self, outcome: &Outcome) {
        self.finished += 1;
        match self.outcomes.get_mut(outcome.kind()) {
            Some(count) => *count += 1,
            None => {
                self.outcomes.insert(outcome.kind().to_owned(), 1);
            }
        }
        if let Outcome::GaveUp { last_error, .. } = outcome {
            self.count_error(last_error.kind());
        }
        let stats = outcome.stats();
        self.attempts += u64::from(stats.attempts);
        self.completion_time = self.completion_time.saturating_add(stats.elapsed);
    }

    /// Counts a failed request of kind `kind`.
    pub(super) fn count_error(&mut self, kind: &str) {
        match self.errors.get_mut(kind) {
            Some(count) => *count += 1,
            None => {
                self.errors.insert(kind.to_owned(), 1);
            }
        }
    }
}
