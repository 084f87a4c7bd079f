//! The fleet's public vocabulary: its limits, the keys of jobs and
//! subscriptions, what it outputs, its errors and its counts.

use core::time::Duration;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::event::Event;
use crate::event::Outcome;
use crate::job::{InputError, RequestId, Transmit};

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

/// What the fleet asks of its driver.
#[derive(Clone, Debug, PartialEq)]
pub enum FleetOutput {
    /// Send this request for `job`; answer with [`Fleet::handle_response`](super::Fleet::handle_response) or
    /// [`Fleet::handle_transport_error`](super::Fleet::handle_transport_error).
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

    pub(super) fn count_error(&mut self, kind: &str) {
        match self.errors.get_mut(kind) {
            Some(count) => *count += 1,
            None => {
                self.errors.insert(kind.to_owned(), 1);
            }
        }
    }
}
