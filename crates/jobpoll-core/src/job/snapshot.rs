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
use crate::profile::{Interpret, PollMode, Profile};
use crate::rng::Rng;
use crate::time::{Instant, micros, serde_micros};

use super::estimate::KnownReport;
use super::estimate::ProgressSample;
use super::io::{JobSpec, Output, RestoreError, validate};
use super::io::{Purpose, RequestId};
use super::layout::{History, Outputs, Rare};
use super::machine::Job;
use super::phase::{Fetching, InFlight, Phase, Request};

/// The serialized form of a [`Job`]: the format of snapshots and traces, kept
/// apart from the in-memory layout so that the layout can change and snapshots
/// stay readable.
///
/// `Q` is the pending outputs: [`NoOutputs`] for a [`SettledSnapshot`].
/// `S` and `C` are the spec and the configuration: [`Skipped`] for a
/// [`SettledState`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound(
    serialize = "S: Serialize, Q: Serialize, C: Serialize",
    deserialize = "S: DeserializeOwned, Q: DeserializeOwned, C: DeserializeOwned"
))]
pub(super) struct JobRepr<S, Q = VecDeque<Output>, C = Arc<Config>> {
    spec: S,
    config: C,
    /// The driver instant at age zero, in microseconds; negative after a resume on
    /// a clock that reads less than the job's age.
    #[serde(with = "serde_origin")]
    origin: i128,
    age: u64,
    phase: PhaseRepr,
    job_id: Option<String>,
    status_url: Option<Box<Url>>,
    results_url: Option<Box<Url>>,
    /// How status answers are read (absent: from the body).
    #[serde(default, skip_serializing_if = "is_default")]
    mode: PollMode,
    in_flight: Option<InFlightRepr>,
    #[serde(default)]
    polling_since: u64,
    next_send_at: u64,
    not_before: u64,
    hint: Option<ServerHint>,
    last_sent_at: Option<u64>,
    attempts: u32,
    requests: u32,
    consecutive_errors: u32,
    consecutive_unreadable: u32,
    poll_delays: u32,
    #[serde(with = "serde_micros::option")]
    previous_poll_delay: Option<Duration>,
    #[serde(with = "serde_micros::option")]
    previous_retry_delay: Option<Duration>,
    last_status: Option<String>,
    revision: Option<u64>,
    etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    etag_report: Option<Box<KnownReport>>,
    first_sample: Option<ProgressSample>,
    last_sample: Option<ProgressSample>,
    rng: Rng,
    next_request_id: u64,
    queue: Q,
    /// No request may have reached the server yet. Written only while true; a
    /// snapshot without it (all from before it existed) counts as having reached
    /// the server, so that it keeps the rules it was saved under.
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    unreached: bool,
}

/// The phase, as `{"phase": "polling"}` (with `url` and `result` when
/// fetching results). Read by hand (see its `Deserialize`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
enum PhaseRepr {
    Submitting,
    Polling,
    FetchingResults {
        url: Box<Url>,
        result: Option<Box<serde_json::Value>>,
    },
    Cancelling,
    Finished,
}

impl PhaseRepr {
    const NAMES: &'static [&'static str] = &[
        "submitting",
        "polling",
        "fetching_results",
        "cancelling",
        "finished",
    ];
}

/// The keys read in any order, as serde's derive for an internally tagged enum
/// does, but without first buffering the whole map into a generic value: that
/// buffering, and a second deserializer for the fields, was most of the code
/// that reads a snapshot's phase (the browser package counts its bytes).
impl<'de> Deserialize<'de> for PhaseRepr {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<PhaseRepr, D::Error> {
        struct Fields;
        impl<'de> serde::de::Visitor<'de> for Fields {
            type Value = PhaseRepr;
            fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str("a job's phase")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<PhaseRepr, A::Error> {
                use serde::de::Error as _;
                let mut phase: Option<String> = None;
                let mut url: Option<Box<Url>> = None;
                let mut result: Option<Box<serde_json::Value>> = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "phase" => phase = Some(map.next_value()?),
                        "url" => url = Some(map.next_value()?),
                        "result" => result = map.next_value()?,
                        _ => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                let phase = phase.ok_or_else(|| A::Error::missing_field("phase"))?;
                Ok(match phase.as_str() {
                    "submitting" => PhaseRepr::Submitting,
                    "polling" => PhaseRepr::Polling,
                    "fetching_results" => PhaseRepr::FetchingResults {
                        url: url.ok_or_else(|| A::Error::missing_field("url"))?,
                        result,
                    },
                    "cancelling" => PhaseRepr::Cancelling,
                    "finished" => PhaseRepr::Finished,
                    other => return Err(A::Error::unknown_variant(other, PhaseRepr::NAMES)),
                })
            }
        }
        deserializer.deserialize_map(Fields)
    }
}

/// A request in flight, as saved. Its expiry is an age.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct InFlightRepr {
    id: RequestId,
    purpose: Purpose,
    expires_at: u64,
}

impl<P> From<Job<P>> for JobRepr<JobSpec<P>> {
    fn from(job: Job<P>) -> JobRepr<JobSpec<P>> {
        let in_flight = job
            .phase
            .in_flight()
            .map(|(in_flight, purpose)| InFlightRepr {
                id: in_flight.id(),
                purpose,
                expires_at: in_flight.expires_at,
            });
        let origin = job.origin();
        let rare = job.rare.map(|rare| *rare).unwrap_or_default();
        let phase = match job.phase {
            Phase::Submitting { .. } => PhaseRepr::Submitting,
            Phase::Polling { .. } => PhaseRepr::Polling,
            Phase::FetchingResults { fetch, .. } => {
                let Fetching {
                    url,
                    pending_result,
                } = *fetch;
                PhaseRepr::FetchingResults {
                    url: Box::new(url),
                    result: pending_result.map(Box::new),
                }
            }
            Phase::Cancelling { .. } => PhaseRepr::Cancelling,
            Phase::Finished => PhaseRepr::Finished,
        };
        let history = job.history;
        JobRepr {
            spec: job.spec,
            config: job.config,
            origin,
            age: job.age,
            phase,
            job_id: job.job_id.map(String::from),
            status_url: rare.status_url,
            results_url: rare.results_url,
            mode: rare.mode,
            in_flight,
            polling_since: rare.polling_since,
            next_send_at: job.next_send_at,
            not_before: rare.not_before,
            hint: rare.hint,
            last_sent_at: history.last_sent_at(),
            attempts: job.attempts,
            requests: job.requests,
            consecutive_errors: rare.consecutive_errors,
            consecutive_unreadable: rare.consecutive_unreadable,
            poll_delays: history.poll_delays,
            previous_poll_delay: history.previous_poll_delay(),
            previous_retry_delay: rare.previous_retry_delay,
            last_status: job.last_status.map(String::from),
            revision: rare.revision,
            etag: rare.etag,
            etag_report: rare.etag_report,
            first_sample: history.first_sample(),
            last_sample: history.last_sample(),
            rng: job.rng,
            next_request_id: u64::from(job.next_request_id),
            queue: job.queue.into_queue(),
            unreached: !job.contact,
        }
    }
}

impl<P, Q: Into<VecDeque<Output>>> From<JobRepr<JobSpec<P>, Q>> for Job<P> {
    fn from(repr: JobRepr<JobSpec<P>, Q>) -> Job<P> {
        repr.into_job(|spec, config| (spec, config))
    }
}

impl<S, Q: Into<VecDeque<Output>>, C> JobRepr<S, Q, C> {
    /// The job, with the spec and configuration `parts` makes of the saved ones.
    fn into_job<P>(self, parts: impl FnOnce(S, C) -> (JobSpec<P>, Arc<Config>)) -> Job<P> {
        let (spec, config) = parts(self.spec, self.config);
        // The request in flight is always the latest one sent.
        let next_request_id = match self.in_flight {
            Some(in_flight) => in_flight.id.0.wrapping_add(1),
            None => self.next_request_id,
        };
        let next_request_id = u32::try_from(next_request_id).unwrap_or(u32::MAX);
        // The phase says what the request in flight is for (the saved purpose is
        // always the phase's: the job never sends anything else).
        let in_flight = self.in_flight.map(|in_flight| InFlight {
            number: next_request_id.wrapping_sub(1),
            expires_at: in_flight.expires_at,
        });
        let request = Request::from(in_flight);
        let phase = match self.phase {
            PhaseRepr::Submitting => Phase::Submitting { request },
            PhaseRepr::Polling => Phase::Polling { request },
            PhaseRepr::FetchingResults { url, result } => Phase::FetchingResults {
                fetch: Box::new(Fetching {
                    url: *url,
                    pending_result: result.map(|result| *result),
                }),
                request,
            },
            PhaseRepr::Cancelling => Phase::Cancelling { request },
            PhaseRepr::Finished => Phase::Finished,
        };
        let rare = Rare {
            status_url: self.status_url,
            results_url: self.results_url,
            mode: self.mode,
            polling_since: self.polling_since,
            not_before: self.not_before,
            hint: self.hint,
            answer_wait: None,
            consecutive_errors: self.consecutive_errors,
            consecutive_unreadable: self.consecutive_unreadable,
            previous_retry_delay: self.previous_retry_delay,
            revision: self.revision,
            etag: self.etag,
            etag_report: self.etag_report,
        };
        // A NaN percentage is no sample, as when it is reported.
        let sample = |sample: Option<ProgressSample>| sample.filter(|s| !s.percentage.is_nan());
        let mut history = History::default();
        history.poll_delays = self.poll_delays;
        history.set_last_sent_at(self.last_sent_at);
        history.set_previous_poll_delay(self.previous_poll_delay);
        history.set_first_sample(sample(self.first_sample));
        history.set_last_sample(sample(self.last_sample));
        let (origin, origin_before_epoch) = split_origin(self.origin);
        Job {
            spec,
            config,
            origin,
            age: self.age,
            next_send_at: self.next_send_at,
            phase,
            history,
            rng: self.rng,
            job_id: self.job_id.map(String::into_boxed_str),
            last_status: self.last_status.map(String::into_boxed_str),
            queue: Outputs::new(self.queue.into()),
            rare: (rare != Rare::default()).then(|| Box::new(rare)),
            attempts: self.attempts,
            requests: self.requests,
            next_request_id,
            gated: false,
            origin_before_epoch,
            contact: !self.unreached,
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
    job: Job<P>,
}

/// A [`Snapshot`] of a job with no outputs pending (every output drained, as a
/// fleet does after each input), read without the code that reads outputs: a
/// driver that only ever saves such jobs (the browser's, where code size
/// counts) reads them back with this, then turns it into a [`Snapshot`]. The
/// JSON is a snapshot's; one whose pending outputs are not empty is refused.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(bound(deserialize = "P: DeserializeOwned"))]
pub struct SettledSnapshot<P = Profile> {
    /// Format version; see [`Snapshot::FORMAT`].
    pub format: u32,
    /// The driver instant the snapshot was taken at (the job's latest input).
    pub taken_at: Instant,
    job: JobRepr<JobSpec<P>, NoOutputs>,
}

/// A [`SettledSnapshot`] read without the job's spec and configuration, for a
/// driver that keeps what they were made from and makes them again (the browser
/// driver keeps the caller's URL and options): reading it needs no code for
/// profiles, starts, schedules or limits. The JSON is a snapshot's; the spec
/// and configuration in it are skipped, and
/// [`into_snapshot`](SettledState::into_snapshot) takes the ones the job goes
/// on with (checked again when the job is restored).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct SettledState {
    /// Format version; see [`Snapshot::FORMAT`].
    pub format: u32,
    /// The driver instant the snapshot was taken at (the job's latest input).
    pub taken_at: Instant,
    job: JobRepr<Skipped, NoOutputs, Skipped>,
}

impl SettledState {
    /// The snapshot of the job saved, going on with `spec` and `config`.
    pub fn into_snapshot<P>(self, spec: JobSpec<P>, config: Arc<Config>) -> Snapshot<P> {
        Snapshot {
            format: self.format,
            taken_at: self.taken_at,
            job: self.job.into_job(|_, _| (spec, config)),
        }
    }
}

/// A part of a saved job that is read past, not read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Skipped;

impl<'de> Deserialize<'de> for Skipped {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Skipped, D::Error> {
        serde::de::IgnoredAny::deserialize(deserializer).map(|_| Skipped)
    }
}

impl<P> From<SettledSnapshot<P>> for Snapshot<P> {
    fn from(settled: SettledSnapshot<P>) -> Snapshot<P> {
        Snapshot {
            format: settled.format,
            taken_at: settled.taken_at,
            job: Job::from(settled.job),
        }
    }
}

/// The pending outputs of a [`SettledSnapshot`]: an empty list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct NoOutputs;

impl From<NoOutputs> for VecDeque<Output> {
    fn from(_: NoOutputs) -> VecDeque<Output> {
        VecDeque::new()
    }
}

impl<'de> Deserialize<'de> for NoOutputs {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<NoOutputs, D::Error> {
        struct Empty;
        impl<'de> serde::de::Visitor<'de> for Empty {
            type Value = NoOutputs;
            fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str("an empty list of pending outputs")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<NoOutputs, A::Error> {
                match seq.next_element::<serde::de::IgnoredAny>()? {
                    None => Ok(NoOutputs),
                    Some(_) => Err(serde::de::Error::custom(
                        "the job has outputs pending: read it as a Snapshot",
                    )),
                }
            }
        }
        deserializer.deserialize_seq(Empty)
    }
}

impl<P> Snapshot<P> {
    /// The format this build writes and reads.
    pub const FORMAT: u32 = 1;

    /// The profile the saved job speaks.
    pub fn profile(&self) -> &P {
        &self.job.spec.profile
    }

    /// The same snapshot with its profile replaced by `f(profile)`, or `f`'s
    /// error. A driver may save a profile in a form of its own (a built-in
    /// profile by its name) and turn it back into a profile before a restore.
    pub fn map_profile<Q, E>(self, f: impl FnOnce(P) -> Result<Q, E>) -> Result<Snapshot<Q>, E> {
        let Snapshot {
            format,
            taken_at,
            job,
        } = self;
        let Job {
            spec,
            config,
            origin,
            age,
            next_send_at,
            phase,
            history,
            rng,
            job_id,
            last_status,
            queue,
            rare,
            attempts,
            requests,
            next_request_id,
            gated,
            origin_before_epoch,
            contact,
        } = job;
        let spec = JobSpec {
            profile: f(spec.profile)?,
            start: spec.start,
            headers: spec.headers,
        };
        Ok(Snapshot {
            format,
            taken_at,
            job: Job {
                spec,
                config,
                origin,
                age,
                next_send_at,
                phase,
                history,
                rng,
                job_id,
                last_status,
                queue,
                rare,
                attempts,
                requests,
                next_request_id,
                gated,
                origin_before_epoch,
                contact,
            },
        })
    }
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
        Job::resume_gated(snapshot, now, downtime, false)
    }

    /// [`Job::resume`] for a job that a fleet lets out (`gated`): the gate is
    /// shut before the job looks at what is due, so a request that may be
    /// repeated waits for the fleet instead of going out on its own.
    pub(crate) fn resume_gated(
        snapshot: Snapshot<P>,
        now: Instant,
        downtime: Duration,
        gated: bool,
    ) -> Result<Job<P>, RestoreError> {
        let mut job = Job::restore(snapshot)?;
        job.gated = gated;
        let age = job.age.saturating_add(micros(downtime));
        (job.origin, job.origin_before_epoch) =
            split_origin(i128::from(now.as_micros()) - i128::from(age));
        job.age = age;
        job.queue
            .retain(|output| !matches!(output, Output::Transmit(_) | Output::Abort(_)));
        if let Some((_, purpose)) = job.phase.take_in_flight() {
            // The lost request may have reached the server.
            job.contact = true;
            let error = TransportError::Interrupted;
            if job.may_repeat(purpose, &error) {
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
fn split_origin(origin: i128) -> (u64, bool) {
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

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_phase_reads_with_its_keys_in_any_order_and_says_what_is_wrong() {
        let fetching = PhaseRepr::FetchingResults {
            url: Box::new("https://api.example.com/r/1".parse().unwrap()),
            result: Some(Box::new(serde_json::json!({"a": 1}))),
        };
        let json = serde_json::to_string(&fetching).unwrap();
        assert_eq!(
            json,
            r#"{"phase":"fetching_results","url":"https://api.example.com/r/1","result":{"a":1}}"#
        );
        let read = |text: &str| serde_json::from_str::<PhaseRepr>(text);
        assert_eq!(read(&json).unwrap(), fetching);
        // The tag last, a key this build does not know, no result yet.
        assert_eq!(
            read(r#"{"url":"https://api.example.com/r/1","later":[1],"result":{"a":1},"phase":"fetching_results"}"#).unwrap(),
            fetching
        );
        let no_result = read(r#"{"phase":"fetching_results","url":"https://x/"}"#).unwrap();
        assert!(matches!(
            no_result,
            PhaseRepr::FetchingResults { result: None, .. }
        ));
        for phase in [
            PhaseRepr::Submitting,
            PhaseRepr::Polling,
            PhaseRepr::Cancelling,
            PhaseRepr::Finished,
        ] {
            assert_eq!(
                read(&serde_json::to_string(&phase).unwrap()).unwrap(),
                phase
            );
        }
        let error = |text: &str| read(text).unwrap_err().to_string();
        assert!(error(r#"{"phase":"fetching_results"}"#).contains("missing field `url`"));
        assert!(error(r#"{"url":"https://x/"}"#).contains("missing field `phase`"));
        assert!(
            error(r#"{"phase":"paused"}"#)
                .contains("unknown variant `paused`, expected one of `submitting`")
        );
        assert!(error(r#""polling""#).contains("expected a job's phase"));
    }
}
