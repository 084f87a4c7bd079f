//! The snapshot format: the serialized form of a job, kept apart from its
//! in-memory layout, and saving, restoring and resuming.

use std::collections::VecDeque;
use std::sync::Arc;

use core::time::Duration;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::Config;
use crate::event::{PollError, TransportError};
use crate::hints::ServerHint;
use crate::profile::{Interpret, Profile};
use crate::rng::Rng;
use crate::time::{Instant, micros, serde_micros};

use super::estimate::KnownReport;
use super::io::{JobSpec, Output, RestoreError, validate};
use super::layout::{
    InFlight, MaybeSample, NONE_U64, Outputs, Phase, ProgressSample, Rare, opt_u64, pack_duration,
    unpack_duration,
};
use super::machine::Job;

/// The serialized form of a [`Job`]: the format of snapshots and traces, kept
/// apart from the in-memory layout so that the layout can change and snapshots
/// stay readable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound(serialize = "P: Serialize", deserialize = "P: DeserializeOwned"))]
pub(super) struct JobRepr<P> {
    pub(super) spec: JobSpec<P>,
    pub(super) config: Arc<Config>,
    /// The driver instant at age zero, in microseconds; negative after a resume on
    /// a clock that reads less than the job's age.
    #[serde(with = "serde_origin")]
    pub(super) origin: i128,
    pub(super) age: u64,
    pub(super) phase: PhaseRepr,
    pub(super) job_id: Option<String>,
    pub(super) status_url: Option<Box<Url>>,
    pub(super) results_url: Option<Box<Url>>,
    pub(super) in_flight: Option<InFlight>,
    #[serde(default)]
    pub(super) polling_since: u64,
    pub(super) next_send_at: u64,
    pub(super) not_before: u64,
    pub(super) hint: Option<ServerHint>,
    pub(super) last_sent_at: Option<u64>,
    pub(super) attempts: u32,
    pub(super) requests: u32,
    pub(super) consecutive_errors: u32,
    pub(super) consecutive_unreadable: u32,
    pub(super) poll_delays: u32,
    #[serde(with = "serde_micros::option")]
    pub(super) previous_poll_delay: Option<Duration>,
    #[serde(with = "serde_micros::option")]
    pub(super) previous_retry_delay: Option<Duration>,
    pub(super) last_status: Option<String>,
    pub(super) revision: Option<u64>,
    pub(super) etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) etag_report: Option<Box<KnownReport>>,
    pub(super) first_sample: Option<ProgressSample>,
    pub(super) last_sample: Option<ProgressSample>,
    pub(super) rng: Rng,
    pub(super) next_request_id: u64,
    pub(super) queue: VecDeque<Output>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub(super) enum PhaseRepr {
    Submitting,
    Polling,
    FetchingResults {
        url: Box<Url>,
        result: Option<Box<serde_json::Value>>,
    },
    Cancelling,
    Finished,
}

impl<P> From<Job<P>> for JobRepr<P> {
    fn from(job: Job<P>) -> JobRepr<P> {
        let in_flight = job.in_flight();
        let origin = job.origin();
        let rare = job.rare.map(|rare| *rare).unwrap_or_default();
        let phase = match job.phase {
            Phase::Submitting => PhaseRepr::Submitting,
            Phase::Polling => PhaseRepr::Polling,
            Phase::FetchingResults => match rare.fetch_url {
                Some(url) => PhaseRepr::FetchingResults {
                    url,
                    result: rare.pending_result,
                },
                // Never built; polling again is the safe reading.
                None => PhaseRepr::Polling,
            },
            Phase::Cancelling => PhaseRepr::Cancelling,
            Phase::Finished => PhaseRepr::Finished,
        };
        JobRepr {
            spec: job.spec,
            config: job.config,
            origin,
            age: job.age,
            phase,
            job_id: job.job_id.map(String::from),
            status_url: rare.status_url,
            results_url: rare.results_url,
            in_flight,
            polling_since: rare.polling_since,
            next_send_at: job.next_send_at,
            not_before: rare.not_before,
            hint: rare.hint,
            last_sent_at: opt_u64(job.last_sent_at),
            attempts: job.attempts,
            requests: job.requests,
            consecutive_errors: job.consecutive_errors,
            consecutive_unreadable: rare.consecutive_unreadable,
            poll_delays: job.poll_delays,
            previous_poll_delay: unpack_duration(job.previous_poll_delay),
            previous_retry_delay: rare.previous_retry_delay,
            last_status: job.last_status.map(String::from),
            revision: rare.revision,
            etag: rare.etag,
            etag_report: rare.etag_report,
            first_sample: job.first_sample.get(),
            last_sample: job.last_sample.get(),
            rng: job.rng,
            next_request_id: u64::from(job.next_request_id),
            queue: job.queue.0.map(|queue| *queue).unwrap_or_default(),
        }
    }
}

impl<P> From<JobRepr<P>> for Job<P> {
    fn from(repr: JobRepr<P>) -> Job<P> {
        let (phase, fetch_url, pending_result) = match repr.phase {
            PhaseRepr::Submitting => (Phase::Submitting, None, None),
            PhaseRepr::Polling => (Phase::Polling, None, None),
            PhaseRepr::FetchingResults { url, result } => {
                (Phase::FetchingResults, Some(url), result)
            }
            PhaseRepr::Cancelling => (Phase::Cancelling, None, None),
            PhaseRepr::Finished => (Phase::Finished, None, None),
        };
        let rare = Rare {
            status_url: repr.status_url,
            results_url: repr.results_url,
            fetch_url,
            pending_result,
            polling_since: repr.polling_since,
            not_before: repr.not_before,
            hint: repr.hint,
            previous_retry_delay: repr.previous_retry_delay,
            consecutive_unreadable: repr.consecutive_unreadable,
            revision: repr.revision,
            etag: repr.etag,
            etag_report: repr.etag_report,
        };
        // The request in flight is always the latest one sent.
        let next_request_id = match repr.in_flight {
            Some(in_flight) => in_flight.id.0.wrapping_add(1),
            None => repr.next_request_id,
        };
        let (origin, origin_before_epoch) = split_origin(repr.origin);
        Job {
            spec: repr.spec,
            config: repr.config,
            origin,
            age: repr.age,
            next_send_at: repr.next_send_at,
            last_sent_at: repr.last_sent_at.unwrap_or(NONE_U64),
            expires_at: repr.in_flight.map_or(0, |f| f.expires_at),
            previous_poll_delay: pack_duration(repr.previous_poll_delay),
            first_sample: MaybeSample::from(repr.first_sample),
            last_sample: MaybeSample::from(repr.last_sample),
            rng: repr.rng,
            job_id: repr.job_id.map(String::into_boxed_str),
            last_status: repr.last_status.map(String::into_boxed_str),
            queue: Outputs((!repr.queue.is_empty()).then(|| Box::new(repr.queue))),
            rare: (rare != Rare::default()).then(|| Box::new(rare)),
            attempts: repr.attempts,
            requests: repr.requests,
            consecutive_errors: repr.consecutive_errors,
            poll_delays: repr.poll_delays,
            next_request_id: u32::try_from(next_request_id).unwrap_or(u32::MAX),
            phase,
            flight: repr.in_flight.map(|f| f.purpose),
            gated: false,
            origin_before_epoch,
        }
    }
}

/// A saved job: `serde` it anywhere, then [`Job::restore`] or [`Job::resume`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound(
    serialize = "P: Serialize + Clone",
    deserialize = "P: DeserializeOwned"
))]
pub struct Snapshot<P = Profile> {
    /// Format version; see [`Snapshot::FORMAT`].
    pub format: u32,
    /// The driver instant the snapshot was taken at (the job's latest input).
    pub taken_at: Instant,
    pub(super) job: Job<P>,
}

impl<P> Snapshot<P> {
    /// The format this build writes and reads.
    pub const FORMAT: u32 = 1;
}

impl<P: Interpret> Job<P> {
    /// Saves the job, pending outputs included.
    pub fn snapshot(&self) -> Snapshot<P>
    where
        P: Clone,
    {
        Snapshot {
            format: Snapshot::<P>::FORMAT,
            taken_at: self.instant(self.age),
            job: self.clone(),
        }
    }

    /// The job exactly as it was saved, on the same clock: the same future inputs
    /// give the same outputs. A request in flight stays in flight, to be answered by
    /// the same driver; one that cannot be answered any more ends the way any
    /// unanswered request does, at its time limit (a submit that is not safe to repeat
    /// then ends the job as uncertain). After a restart, use [`Job::resume`].
    pub fn restore(snapshot: Snapshot<P>) -> Result<Job<P>, RestoreError> {
        if snapshot.format != Snapshot::<P>::FORMAT {
            return Err(RestoreError::Format {
                found: snapshot.format,
                expected: Snapshot::<P>::FORMAT,
            });
        }
        validate(&snapshot.job.spec, &snapshot.job.config)?;
        Ok(snapshot.job)
    }

    /// The job continued in a new process whose clock reads `now`, `downtime` after
    /// the snapshot was taken (measure it with a wall clock; the time counts against
    /// the deadline).
    ///
    /// A request that was in flight (from the moment the job emitted it: a
    /// [`Output::Transmit`] still waiting in the snapshot's outputs may have been
    /// sent after the snapshot was taken) is lost with the old process, and may
    /// have reached the server. It is sent again at once when that is safe, as it
    /// would be after a broken connection: a status poll, a results fetch, a cancel,
    /// a submit with an idempotent method or an `Idempotency-Key` header. A submit
    /// that is not safe to repeat (a `POST` without an `Idempotency-Key`) is never
    /// sent twice: the job ends with [`Outcome::GaveUp`](crate::event::Outcome::GaveUp) and
    /// [`PollError::SubmitUncertain`], whose cause is
    /// [`TransportError::Interrupted`].
    pub fn resume(
        snapshot: Snapshot<P>,
        now: Instant,
        downtime: Duration,
    ) -> Result<Job<P>, RestoreError> {
        let mut job = Job::restore(snapshot)?;
        let age = job.age.saturating_add(micros(downtime));
        (job.origin, job.origin_before_epoch) =
            split_origin(i128::from(now.as_micros()) - i128::from(age));
        job.age = age;
        if let Some(queue) = job.queue.0.as_mut() {
            queue.retain(|output| !matches!(output, Output::Transmit(_) | Output::Abort(_)));
        }
        if let Some(lost) = job.take_in_flight() {
            let error = TransportError::Interrupted;
            if job.may_repeat(lost.purpose, &error) {
                job.next_send_at = job.next_send_at.min(age);
            } else {
                job.give_up_uncertain(age, PollError::Transport(error));
            }
        }
        job.drive(age);
        Ok(job)
    }
}

/// An origin (`now - age`, so within `±u64::MAX` microseconds) as the magnitude
/// and sign the job keeps; anything further out is held at the ends.
pub(super) fn split_origin(origin: i128) -> (u64, bool) {
    let magnitude = u64::try_from(origin.unsigned_abs()).unwrap_or(u64::MAX);
    (magnitude, origin < 0)
}

/// Serde for the origin: a plain 64-bit number whenever it fits one (always, but
/// for a job resumed at an age of more than 2^63 microseconds on a younger clock),
/// so that snapshots stay readable by formats without 128-bit numbers.
pub(super) mod serde_origin {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(in crate::job) fn serialize<S: Serializer>(
        origin: &i128,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        if let Ok(origin) = i64::try_from(*origin) {
            serializer.serialize_i64(origin)
        } else if let Ok(origin) = u64::try_from(*origin) {
            serializer.serialize_u64(origin)
        } else {
            serializer.serialize_i128(*origin)
        }
    }

    pub(in crate::job) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<i128, D::Error> {
        i128::deserialize(deserializer)
    }
}

/// Serde for `http::Method` as its name.
pub(super) mod serde_method {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(in crate::job) fn serialize<S: Serializer>(
        method: &http::Method,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(method.as_str())
    }

    pub(in crate::job) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<http::Method, D::Error> {
        let name = String::deserialize(deserializer)?;
        http::Method::from_bytes(name.as_bytes()).map_err(D::Error::custom)
    }
}
