//! One polling job as a deterministic state machine.
//!
//! See the crate documentation for the run loop. The contract, in short:
//!
//! 1. Build the job with [`Job::new`], then drain [`Job::poll_output`] until it
//!    returns [`Output::WakeAt`] (or [`Output::Done`]).
//! 2. Carry out each [`Output::Transmit`] and report what happened with exactly one
//!    [`Input::Response`] or [`Input::TransportError`] carrying the same
//!    [`RequestId`] — unless an [`Output::Abort`] for that id came first.
//! 3. When the clock reaches the instant of the last [`Output::WakeAt`], feed
//!    [`Input::Tick`]. Feed [`Input::Cancel`] when the user cancels.
//! 4. After every input, drain [`Job::poll_output`] again.
//!
//! Inputs never panic: a response the server should not have sent is an error the
//! job handles (it retries or finishes with a typed [`Outcome`]), and a call that
//! breaks the contract is an [`InputError`] that leaves the job unchanged.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use core::time::Duration;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::classify::{StatusClass, classify_status};
use crate::config::{Config, ConfigError, FirstPoll};
use crate::event::{
    CancelledBy, Event, Outcome, PollError, Progress, Stats, TransportError, WaitLimit,
};
use crate::hints::{ServerHint, read_hints};
use crate::profile::{Interpret, JobRef, JobState, Profile, StatusReport, excerpt};
use crate::rng::Rng;
use crate::schedule::ScheduleInput;
use crate::time::{Instant, micros, serde_micros};

/// Identifies one request of one job, so a response can be matched to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RequestId(pub u64);

impl core::fmt::Display for RequestId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Why a request is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Create the job.
    Submit,
    /// Read its status.
    Status,
    /// Fetch its results after success.
    Results,
    /// Ask the server to cancel it.
    Cancel,
}

/// A request for the driver to send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transmit {
    /// Report the answer with this id.
    pub id: RequestId,
    /// Why it is sent.
    pub purpose: Purpose,
    /// HTTP method.
    #[serde(with = "serde_method")]
    pub method: http::Method,
    /// Target URL (always `http` or `https`).
    pub url: Url,
    /// Headers, in order; names and values are valid HTTP.
    pub headers: Vec<(String, String)>,
    /// Body, if any.
    pub body: Option<String>,
    /// Give up on the request after this long and report
    /// [`TransportError::NoResponseInTime`]. The job also enforces it by itself.
    #[serde(with = "serde_micros", alias = "timeout")]
    pub time_limit: Duration,
}

impl Transmit {
    /// The request as an `http::Request`, for drivers built on the `http` types.
    pub fn to_http_request(&self) -> Result<http::Request<Bytes>, http::Error> {
        let mut builder = http::Request::builder()
            .method(self.method.clone())
            .uri(self.url.as_str());
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        builder.body(self.body.clone().map(Bytes::from).unwrap_or_default())
    }
}

/// Something that happened, for the job to react to. Each carries the time it is
/// handled at.
#[derive(Clone, Debug)]
pub enum Input {
    /// The response to request `request`, body complete.
    Response {
        /// The request it answers.
        request: RequestId,
        /// The response.
        response: http::Response<Bytes>,
        /// Now.
        now: Instant,
    },
    /// Request `request` got no response.
    TransportError {
        /// The request that failed.
        request: RequestId,
        /// Why.
        error: TransportError,
        /// Now.
        now: Instant,
    },
    /// Time has passed (feed it when the last [`Output::WakeAt`] is reached; extra
    /// ticks are harmless).
    Tick {
        /// Now.
        now: Instant,
    },
    /// The user cancels the job.
    Cancel {
        /// Now.
        now: Instant,
    },
}

impl Input {
    /// The time the input carries.
    pub fn now(&self) -> Instant {
        match self {
            Input::Response { now, .. }
            | Input::TransportError { now, .. }
            | Input::Tick { now }
            | Input::Cancel { now } => *now,
        }
    }
}

/// What the job asks of its driver. Drain with [`Job::poll_output`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "output", content = "data", rename_all = "snake_case")]
pub enum Output {
    /// Send this request.
    Transmit(Transmit),
    /// Stop waiting for this request and drop it; its answer, if it still comes, is
    /// no longer wanted.
    Abort(RequestId),
    /// Tell the user.
    Event(Event),
    /// The job is over. Comes exactly once, after every other output.
    Finished(Outcome),
    /// Nothing more to do until this instant, unless an input arrives first: feed
    /// [`Input::Tick`] then.
    #[serde(alias = "timeout")]
    WakeAt(Instant),
    /// The job is finished and every output has been drained.
    Done,
}

/// How a job starts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "start", rename_all = "snake_case")]
pub enum Start {
    /// Wait on a job that exists: poll its status URL.
    Poll {
        /// The status URL.
        status_url: Url,
        /// The job's id, if known (needed for results and cancel templates).
        job_id: Option<String>,
    },
    /// Create the job first, then poll the status URL the profile reads from the
    /// response.
    Submit {
        /// HTTP method, normally `POST`.
        #[serde(with = "serde_method")]
        method: http::Method,
        /// The create URL.
        url: Url,
        /// The request body, if any (sent as `application/json` unless a
        /// `Content-Type` header says otherwise).
        body: Option<String>,
    },
}

/// What job to wait for and how its API speaks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSpec<P = Profile> {
    /// How the API speaks.
    pub profile: P,
    /// How the job starts.
    pub start: Start,
    /// Headers sent with every request (`Authorization`, ...).
    #[serde(default)]
    pub headers: Vec<(String, String)>,
}

impl JobSpec<Profile> {
    /// Wait on the job at `status_url` with a built-in or custom profile.
    pub fn poll(profile: Profile, status_url: Url) -> JobSpec {
        JobSpec {
            profile,
            start: Start::Poll {
                status_url,
                job_id: None,
            },
            headers: Vec::new(),
        }
    }

    /// Create a job with `POST url` and `body`, then wait on it.
    pub fn submit(profile: Profile, url: Url, body: Option<String>) -> JobSpec {
        JobSpec {
            profile,
            start: Start::Submit {
                method: http::Method::POST,
                url,
                body,
            },
            headers: Vec::new(),
        }
    }
}

impl<P> JobSpec<P> {
    /// The same spec with one more header sent on every request.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The same spec with the job id known up front (for results and cancel URLs).
    pub fn with_job_id(mut self, id: impl Into<String>) -> Self {
        if let Start::Poll { job_id, .. } = &mut self.start {
            *job_id = Some(id.into());
        }
        self
    }
}

/// A job that cannot be built as specified.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SpecError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A header name or value is not valid HTTP.
    #[error("header {name:?} is not valid HTTP: {reason}")]
    Header {
        /// The header name (its value is never quoted: it may be a secret).
        name: String,
        /// Why.
        reason: String,
    },
    /// A URL is not `http` or `https`.
    #[error("URL {url:?} must use http or https")]
    Scheme {
        /// The URL.
        url: String,
    },
}

/// A call that breaks the job's contract; the job is unchanged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "error", content = "request", rename_all = "snake_case")]
pub enum InputError {
    /// The answer is for a request that is not in flight: it was aborted, already
    /// answered, or never sent.
    #[error("request {0} is not in flight (aborted, already answered, or never sent)")]
    UnknownRequest(RequestId),
}

/// A snapshot that cannot be restored.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RestoreError {
    /// Written by an incompatible version.
    #[error("snapshot format {found} is not supported (expected {expected})")]
    Format {
        /// The version in the snapshot.
        found: u32,
        /// The version this build writes.
        expected: u32,
    },
    /// The job inside is not valid.
    #[error("the snapshot holds an invalid job: {0}")]
    Invalid(#[from] SpecError),
}

/// Where the job is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Submitting,
    Polling,
    /// Fetching the results; the URL and the pending result are in [`Rare`].
    FetchingResults,
    Cancelling,
    Finished,
}

/// A request in flight. Times are ages: microseconds since the job started.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct InFlight {
    id: RequestId,
    purpose: Purpose,
    expires_at: u64,
}

/// Sample of the server's progress, for the slope estimate.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
struct ProgressSample {
    age: u64,
    percentage: f64,
}

/// An optional progress sample in 16 bytes: a NaN percentage (which no report
/// carries) means none.
#[derive(Clone, Copy, Debug)]
struct MaybeSample(ProgressSample);

impl PartialEq for MaybeSample {
    fn eq(&self, other: &MaybeSample) -> bool {
        self.get() == other.get()
    }
}

/// Pending outputs; `None` when there are none and no buffer is kept (a fleet lends
/// its one buffer to whichever job handles an input). Equal when the outputs are.
/// Boxed so that a job without outputs pays 8 bytes, not a `VecDeque`'s 32.
#[derive(Clone, Debug, Default)]
#[allow(clippy::box_collection)]
pub(crate) struct Outputs(Option<Box<VecDeque<Output>>>);

impl PartialEq for Outputs {
    fn eq(&self, other: &Outputs) -> bool {
        let empty = VecDeque::new();
        self.0.as_deref().unwrap_or(&empty) == other.0.as_deref().unwrap_or(&empty)
    }
}

impl MaybeSample {
    const NONE: MaybeSample = MaybeSample(ProgressSample {
        age: 0,
        percentage: f64::NAN,
    });

    fn get(self) -> Option<ProgressSample> {
        (!self.0.percentage.is_nan()).then_some(self.0)
    }

    fn from(sample: Option<ProgressSample>) -> MaybeSample {
        sample
            .filter(|s| !s.percentage.is_nan())
            .map_or(MaybeSample::NONE, MaybeSample)
    }
}

/// No value, for the `u64` fields that stand for an `Option<u64>`.
const NONE_U64: u64 = u64::MAX;

fn opt_u64(value: u64) -> Option<u64> {
    (value != NONE_U64).then_some(value)
}

/// An optional duration as whole nanoseconds (exact up to 584 years; longer ones
/// are held at that).
fn pack_duration(duration: Option<Duration>) -> u64 {
    duration.map_or(NONE_U64, |d| {
        u64::try_from(d.as_nanos())
            .unwrap_or(NONE_U64 - 1)
            .min(NONE_U64 - 1)
    })
}

fn unpack_duration(nanos: u64) -> Option<Duration> {
    (nanos != NONE_U64).then(|| Duration::from_nanos(nanos))
}

/// What most jobs never need: kept out of line so that an idle job in a fleet of a
/// million stays small. Allocated the first time one of these is set.
#[derive(Clone, Debug, Default, PartialEq)]
struct Rare {
    /// The status URL when it is not the spec's (learned from the submit answer).
    status_url: Option<Box<Url>>,
    results_url: Option<Box<Url>>,
    /// While fetching the results: where, and the result the status gave.
    fetch_url: Option<Box<Url>>,
    pending_result: Option<Box<serde_json::Value>>,
    /// When status polling began after a submit (zero for a job polled from the
    /// start): the 404 grace period counts from here.
    polling_since: u64,
    /// No request before this (server hints), and the hint that set it.
    not_before: u64,
    hint: Option<ServerHint>,
    previous_retry_delay: Option<Duration>,
    consecutive_unreadable: u32,
    revision: Option<u64>,
    /// The `ETag` of the last status answer, sent back as `If-None-Match`.
    etag: Option<String>,
    /// What that answer reported besides its status, when it reported anything:
    /// a `304 Not Modified` says it is still current.
    etag_report: Option<Box<KnownReport>>,
}

/// What a status answer reported besides its status: kept with its `ETag`, so that
/// a `304 Not Modified` (the answer to a request that named that tag) repeats it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct KnownReport {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    percentage: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    step: Option<String>,
    /// When the server's estimate of the remaining time runs out, as an age: the
    /// estimate counts down from the answer that gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    eta_until: Option<u64>,
}

impl KnownReport {
    /// What `report`, answered at `now`, said besides its status; `None` if nothing.
    fn of(report: &StatusReport, now: u64) -> Option<KnownReport> {
        let known = KnownReport {
            percentage: report.percentage,
            step: report.step.clone(),
            eta_until: report.eta.map(|eta| now.saturating_add(micros(eta))),
        };
        (known != KnownReport::default()).then_some(known)
    }

    /// The server's estimate at `now`, counted down from when it was given (zero
    /// once it has run out).
    fn eta_at(&self, now: u64) -> Option<Duration> {
        self.eta_until
            .map(|until| Duration::from_micros(until.saturating_sub(now)))
    }
}

/// One polling job. See the [module documentation](self) for the calling contract.
///
/// All times inside are *ages*: whole microseconds since the job started, so that a
/// snapshot can be resumed on another clock. The layout is compact (a fleet keeps a
/// million of these); its serialized form is a separate type, which does not change
/// with the layout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(
    bound(
        serialize = "P: Serialize + Clone",
        deserialize = "P: DeserializeOwned"
    ),
    from = "JobRepr<P>",
    into = "JobRepr<P>"
)]
pub struct Job<P = Profile> {
    spec: JobSpec<P>,
    /// Shared by every job of a fleet that was given the same configuration.
    config: Arc<Config>,
    /// The driver instant at age zero, in microseconds: before the driver's epoch
    /// by this much when `origin_before_epoch` is set (a job resumed on a clock
    /// that reads less than its age). Together the two hold every `now - age`
    /// exactly, over the whole range of [`Instant`]; read it with
    /// [`Job::origin`].
    origin: u64,
    /// The latest age seen: time never runs backwards inside the job.
    age: u64,
    /// When the next request is due.
    next_send_at: u64,
    /// When the last request was sent ([`NONE_U64`] before the first).
    last_sent_at: u64,
    /// When the request in flight times out (meaningful while `flight` is set).
    expires_at: u64,
    /// The previous delay of the poll schedule, packed ([`pack_duration`]).
    previous_poll_delay: u64,
    first_sample: MaybeSample,
    last_sample: MaybeSample,
    rng: Rng,
    job_id: Option<Box<str>>,
    last_status: Option<Box<str>>,
    queue: Outputs,
    rare: Option<Box<Rare>>,
    attempts: u32,
    requests: u32,
    consecutive_errors: u32,
    poll_delays: u32,
    /// The id of the next request; the one in flight is the one before.
    next_request_id: u32,
    phase: Phase,
    /// The purpose of the request in flight, if one is.
    flight: Option<Purpose>,
    /// Held by a fleet: no request goes out, even when one is due, until the fleet
    /// lets it (limits, throttling, pause). Never set for a job driven on its own.
    gated: bool,
    /// The sign of `origin`.
    origin_before_epoch: bool,
}

/// The serialized form of a [`Job`]: the format of snapshots and traces, kept
/// apart from the in-memory layout so that the layout can change and snapshots
/// stay readable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound(serialize = "P: Serialize", deserialize = "P: DeserializeOwned"))]
struct JobRepr<P> {
    spec: JobSpec<P>,
    config: Arc<Config>,
    /// The driver instant at age zero, in microseconds; negative after a resume on
    /// a clock that reads less than the job's age.
    #[serde(with = "serde_origin")]
    origin: i128,
    age: u64,
    phase: PhaseRepr,
    job_id: Option<String>,
    status_url: Option<Box<Url>>,
    results_url: Option<Box<Url>>,
    in_flight: Option<InFlight>,
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
    queue: VecDeque<Output>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
    job: Job<P>,
}

impl<P> Snapshot<P> {
    /// The format this build writes and reads.
    pub const FORMAT: u32 = 1;
}

const IF_NONE_MATCH: &str = "if-none-match";

impl<P> Job<P> {
    fn push(&mut self, output: Output) {
        self.queue.0.get_or_insert_default().push_back(output);
    }

    fn rare_mut(&mut self) -> &mut Rare {
        self.rare.get_or_insert_default()
    }

    fn not_before(&self) -> u64 {
        self.rare.as_ref().map_or(0, |rare| rare.not_before)
    }

    fn polling_since(&self) -> u64 {
        self.rare.as_ref().map_or(0, |rare| rare.polling_since)
    }

    /// The request in flight, if one is.
    fn in_flight(&self) -> Option<InFlight> {
        self.flight.map(|purpose| InFlight {
            id: RequestId(u64::from(self.next_request_id.wrapping_sub(1))),
            purpose,
            expires_at: self.expires_at,
        })
    }

    fn take_in_flight(&mut self) -> Option<InFlight> {
        let in_flight = self.in_flight();
        self.flight = None;
        in_flight
    }

    /// The driver instant at age zero, in microseconds (negative after a resume
    /// on a clock that reads less than the job's age).
    fn origin(&self) -> i128 {
        let magnitude = i128::from(self.origin);
        if self.origin_before_epoch {
            -magnitude
        } else {
            magnitude
        }
    }
}

impl<P: Interpret> Job<P> {
    /// A job that starts at `now`. Its first request is ready in
    /// [`Job::poll_output`] (unless the configuration delays the first poll).
    pub fn new(spec: JobSpec<P>, config: Config, now: Instant) -> Result<Job<P>, SpecError> {
        let seed = config.seed;
        Job::new_shared(spec, Arc::new(config), seed, now)
    }

    /// As [`Job::new`], with a configuration shared with other jobs (a fleet of a
    /// million jobs keeps one copy) and this job's own random seed, which replaces
    /// `config.seed`.
    pub fn new_shared(
        spec: JobSpec<P>,
        config: Arc<Config>,
        seed: u64,
        now: Instant,
    ) -> Result<Job<P>, SpecError> {
        Job::build(spec, config, seed, now, false)
    }

    /// A job whose requests a fleet lets out (`gated`), or a job on its own.
    pub(crate) fn build(
        spec: JobSpec<P>,
        config: Arc<Config>,
        seed: u64,
        now: Instant,
        gated: bool,
    ) -> Result<Job<P>, SpecError> {
        validate(&spec, &config)?;
        let normalized = Config::clone(&config).normalized();
        let config = if normalized == *config {
            config
        } else {
            Arc::new(normalized)
        };
        let phase = match &spec.start {
            Start::Poll { .. } => Phase::Polling,
            Start::Submit { .. } => Phase::Submitting,
        };
        let job_id = match &spec.start {
            Start::Poll { job_id, .. } => job_id.as_deref().map(Box::from),
            Start::Submit { .. } => None,
        };
        let mut job = Job {
            rng: Rng::new(seed),
            spec,
            config,
            origin: now.as_micros(),
            age: 0,
            next_send_at: 0,
            last_sent_at: NONE_U64,
            expires_at: 0,
            previous_poll_delay: NONE_U64,
            first_sample: MaybeSample::NONE,
            last_sample: MaybeSample::NONE,
            job_id,
            last_status: None,
            queue: Outputs::default(),
            rare: None,
            attempts: 0,
            requests: 0,
            consecutive_errors: 0,
            poll_delays: 0,
            next_request_id: 0,
            phase,
            flight: None,
            gated,
            origin_before_epoch: false,
        };
        if job.phase == Phase::Polling && job.config.first_poll == FirstPoll::AfterFirstDelay {
            job.schedule_poll(0, None);
        }
        job.drive(0);
        Ok(job)
    }

    /// Feeds one input. Call [`Job::poll_output`] until it returns
    /// [`Output::WakeAt`] or [`Output::Done`] afterwards.
    ///
    /// Never panics. An answer to a request that is not in flight is an
    /// [`InputError`] and changes nothing; anything after the outcome is ignored.
    /// An input whose `now` is earlier than a previous one is handled as if it came
    /// at the latest time seen.
    pub fn handle_input(&mut self, input: Input) -> Result<(), InputError> {
        // Check before anything changes: a refused input leaves the job as it was.
        let answered = match &input {
            Input::Response { request, .. } | Input::TransportError { request, .. } => {
                match self.in_flight() {
                    Some(in_flight) if in_flight.id == *request => Some(in_flight.purpose),
                    _ => return Err(InputError::UnknownRequest(*request)),
                }
            }
            Input::Tick { .. } | Input::Cancel { .. } => None,
        };
        let now = self.advance(input.now());
        if answered.is_some() {
            self.flight = None;
        }
        // Matched in place: a response is about 150 bytes, and a tuple of it
        // would be a copy.
        match input {
            Input::Response { ref response, .. } => {
                if let Some(purpose) = answered {
                    self.on_response(now, purpose, response);
                }
            }
            Input::TransportError { error, .. } => {
                if let Some(purpose) = answered {
                    self.on_transport_error(now, purpose, error);
                }
            }
            Input::Cancel { .. } => self.on_cancel(now),
            Input::Tick { .. } => {}
        }
        self.drive(now);
        Ok(())
    }

    /// The next output. Drain until [`Output::WakeAt`] (then wait for that instant
    /// or an input) or [`Output::Done`] (the job is over).
    #[must_use]
    pub fn poll_output(&mut self) -> Output {
        if let Some(output) = self.queue.0.as_mut().and_then(|queue| queue.pop_front()) {
            return output;
        }
        match self.next_wake() {
            Some(at) => Output::WakeAt(at),
            None => Output::Done,
        }
    }

    /// When the job next needs an [`Input::Tick`], or `None` once it is finished.
    #[must_use]
    pub fn next_wake(&self) -> Option<Instant> {
        if self.phase == Phase::Finished {
            return None;
        }
        let at = match self.flight {
            Some(_) => self.expires_at,
            None => match self.deadline() {
                Some(deadline) => self.next_send_at.min(deadline),
                None => self.next_send_at,
            },
        };
        Some(self.instant(at))
    }

    /// Whether the outcome has been decided (it may still be waiting in the output
    /// queue).
    pub fn is_finished(&self) -> bool {
        self.phase == Phase::Finished
    }

    /// The job's id, once known.
    pub fn job_id(&self) -> Option<&str> {
        self.job_id.as_deref()
    }

    /// The status URL, once known.
    pub fn status_url(&self) -> Option<&Url> {
        let learned = self
            .rare
            .as_ref()
            .and_then(|rare| rare.status_url.as_deref());
        match (learned, &self.spec.start) {
            (Some(url), _) => Some(url),
            (None, Start::Poll { status_url, .. }) => Some(status_url),
            (None, Start::Submit { .. }) => None,
        }
    }

    /// The server's last status value.
    pub fn last_status(&self) -> Option<&str> {
        self.last_status.as_deref()
    }

    /// The spec the job was built from.
    pub fn spec(&self) -> &JobSpec<P> {
        &self.spec
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Counts and times so far.
    pub fn stats(&self) -> Stats {
        Stats {
            job_id: self.job_id.as_deref().map(str::to_owned),
            elapsed: Duration::from_micros(self.age),
            attempts: self.attempts,
            requests: self.requests,
            last_status: self.last_status.as_deref().map(str::to_owned),
        }
    }

    // --- for the fleet ----------------------------------------------------------

    /// Holds back (`true`) or lets out the job's requests.
    pub(crate) fn set_gated(&mut self, gated: bool) {
        self.gated = gated;
    }

    /// A tick while the gate is shut, when it can only move the job's clock on:
    /// the job is not finished, has nothing in flight and its deadline has not
    /// come, so [`Job::handle_input`] with [`Input::Tick`] would change nothing
    /// else and emit nothing (a due request stays behind the gate). Then the clock
    /// moves and this returns true; otherwise nothing changes and it returns false.
    pub(crate) fn tick_held(&mut self, now: Instant) -> bool {
        if !self.gated || self.phase == Phase::Finished || self.flight.is_some() {
            return false;
        }
        let age = self.age_at(now);
        if self.deadline().is_some_and(|deadline| age >= deadline) {
            return false;
        }
        self.age = age;
        true
    }

    /// Whether a request is due now (the gate may be holding it back).
    pub(crate) fn wants_to_send(&self) -> bool {
        self.phase != Phase::Finished && self.flight.is_none() && self.age >= self.next_send_at
    }

    /// When the job needs a tick, not counting a request that is due but held back
    /// by the gate (the fleet releases that one itself).
    pub(crate) fn wake_at(&self) -> Option<Instant> {
        if self.gated && self.wants_to_send() {
            return self.deadline().map(|deadline| self.instant(deadline));
        }
        self.next_wake()
    }

    /// Lends the job an empty output buffer that already has capacity, so that a
    /// fleet of idle jobs does not keep one allocated buffer each.
    pub(crate) fn lend_buffer(&mut self, spare: &mut Outputs) {
        if self.queue.0.is_none() {
            self.queue.0 = spare.0.take();
        }
    }

    /// Whether outputs wait in the job's queue (not counting the wake-up or
    /// `Done` that [`Job::poll_output`] gives when it is empty).
    pub(crate) fn has_outputs(&self) -> bool {
        self.queue.0.as_ref().is_some_and(|queue| !queue.is_empty())
    }

    /// Takes back the (drained) output buffer: into `spare` if that has none, else
    /// it is freed.
    pub(crate) fn reclaim_buffer(&mut self, spare: &mut Outputs) {
        if self.queue.0.as_ref().is_some_and(|queue| queue.is_empty()) {
            let queue = self.queue.0.take();
            if spare.0.is_none() {
                spare.0 = queue;
            }
        }
    }

    /// Ends the job as cancelled without telling the server (the fleet is paused and
    /// may send nothing).
    pub(crate) fn cancel_locally(&mut self, now: Instant) {
        let now = self.advance(now);
        match self.phase {
            Phase::Polling | Phase::Cancelling => self.finish_cancelled(now, None),
            _ => self.on_cancel(now),
        }
    }

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
    /// sent twice: the job ends with [`Outcome::GaveUp`] and
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

    // --- time -------------------------------------------------------------------

    /// Converts a driver instant into an age, never going backwards.
    fn advance(&mut self, now: Instant) -> u64 {
        self.age = self.age_at(now);
        self.age
    }

    /// The job's age at `now`: never less than it was.
    fn age_at(&self, now: Instant) -> u64 {
        let age = (i128::from(now.as_micros()) - self.origin()).clamp(0, i128::from(u64::MAX));
        self.age.max(age as u64)
    }

    /// The driver instant at `age`; an age past the end of the clock is
    /// [`Instant::MAX`], which the documentation of [`Instant`] calls "never".
    fn instant(&self, age: u64) -> Instant {
        let micros = (self.origin() + i128::from(age)).clamp(0, i128::from(u64::MAX));
        Instant::from_micros(micros as u64)
    }

    fn deadline(&self) -> Option<u64> {
        self.config.deadline.map(micros)
    }

    // --- the main step ----------------------------------------------------------

    /// Enforces request time limits and the deadline, and sends what is due.
    fn drive(&mut self, now: u64) {
        if self.phase == Phase::Finished {
            return;
        }
        if let Some(in_flight) = self.in_flight() {
            if now < in_flight.expires_at {
                return;
            }
            self.flight = None;
            self.push(Output::Abort(in_flight.id));
            self.on_transport_error(now, in_flight.purpose, TransportError::NoResponseInTime);
            if self.phase == Phase::Finished || self.flight.is_some() {
                return;
            }
        }
        if let Some(deadline) = self.deadline()
            && now >= deadline
        {
            self.on_deadline(now);
            return;
        }
        if now >= self.next_send_at && !self.gated {
            self.send(now);
        }
    }

    fn on_deadline(&mut self, now: u64) {
        let deadline = self.config.deadline.unwrap_or_default();
        self.stop_at_limit(now, WaitLimit::Deadline { deadline });
    }

    fn send(&mut self, now: u64) {
        let (purpose, method, url, body) = match self.phase {
            Phase::Submitting => match &self.spec.start {
                Start::Submit { method, url, body } => {
                    (Purpose::Submit, method.clone(), url.clone(), body.clone())
                }
                Start::Poll { .. } => {
                    return self.give_up_inconsistent(now, "submitting without a submit request");
                }
            },
            Phase::Polling => match self.status_url() {
                Some(url) => (Purpose::Status, http::Method::GET, url.clone(), None),
                None => return self.give_up_inconsistent(now, "polling without a status URL"),
            },
            Phase::FetchingResults => {
                match self
                    .rare
                    .as_ref()
                    .and_then(|rare| rare.fetch_url.as_deref())
                {
                    Some(url) => (Purpose::Results, http::Method::GET, url.clone(), None),
                    None => return self.give_up_inconsistent(now, "fetching without a URL"),
                }
            }
            Phase::Cancelling => match self.cancel_target() {
                Some((method, url)) => (Purpose::Cancel, method, url, None),
                None => return self.finish_cancelled(now, None),
            },
            Phase::Finished => return,
        };
        let mut headers = self.spec.headers.clone();
        if body.is_some() && !has_header(&headers, "content-type") {
            headers.push(("content-type".to_owned(), "application/json".to_owned()));
        }
        if purpose == Purpose::Status
            && self.config.conditional_requests
            && let Some(etag) = self.rare.as_ref().and_then(|rare| rare.etag.as_ref())
        {
            headers.push((IF_NONE_MATCH.to_owned(), etag.clone()));
        }
        let id = RequestId(u64::from(self.next_request_id));
        self.next_request_id = self.next_request_id.wrapping_add(1);
        self.requests = self.requests.saturating_add(1);
        if purpose == Purpose::Status {
            self.attempts = self.attempts.saturating_add(1);
        }
        self.last_sent_at = now;
        let time_limit = self.config.request_time_limit;
        self.flight = Some(purpose);
        self.expires_at = now.saturating_add(micros(time_limit));
        self.push(Output::Transmit(Transmit {
            id,
            purpose,
            method,
            url,
            headers,
            body,
            time_limit,
        }));
    }

    fn cancel_target(&self) -> Option<(http::Method, Url)> {
        let status_url = self.status_url()?;
        let job = JobRef {
            job_id: self.job_id.as_deref(),
            status_url,
            results_url: self
                .rare
                .as_ref()
                .and_then(|rare| rare.results_url.as_deref()),
        };
        self.spec.profile.cancel_request(job)?.ok()
    }

    // --- reacting to answers ----------------------------------------------------

    fn on_response(&mut self, now: u64, purpose: Purpose, response: &http::Response<Bytes>) {
        let class = classify_status(response.status());
        if purpose == Purpose::Cancel {
            // The job ends here, but the server's wait still holds for its origin:
            // a fleet throttles the origin by it (no event, nothing else changes).
            if let Some(hint) = read_hints(response.headers(), self.config.max_hint).wait {
                self.hold_for(now, hint);
            }
            return self.finish_cancelled(now, Some(class == StatusClass::Success));
        }
        // Hints first: an answer too large to read still says when to come back.
        self.apply_hints(now, response);
        // Only a body we must read is refused for its size; an error body is only
        // quoted, and the quote is short.
        if class == StatusClass::Success && response.body().len() > self.config.max_body_bytes {
            let error = PollError::BodyTooLarge {
                limit: self.config.max_body_bytes,
            };
            return self.on_unreadable_answer(now, purpose, error);
        }
        match purpose {
            Purpose::Submit => self.on_submit_response(now, class, response),
            Purpose::Status => self.on_status_response(now, class, response),
            Purpose::Results => self.on_results_response(now, class, response),
            Purpose::Cancel => {}
        }
    }

    /// A 2xx whose body cannot be used. After a submit that cannot be safely
    /// repeated, the job exists but we cannot know which: stop and say so.
    fn on_unreadable_answer(&mut self, now: u64, purpose: Purpose, error: PollError) {
        if purpose == Purpose::Submit && !self.submit_is_idempotent() {
            return self.give_up_uncertain(now, error);
        }
        self.on_failure(now, purpose, error);
    }

    fn on_transport_error(&mut self, now: u64, purpose: Purpose, error: TransportError) {
        if purpose == Purpose::Cancel {
            return self.finish_cancelled(now, Some(false));
        }
        if !self.may_repeat(purpose, &error) {
            return self.give_up_uncertain(now, PollError::Transport(error));
        }
        self.on_failure(now, purpose, PollError::Transport(error));
    }

    /// Whether a request of `purpose` that got no answer, the way `error` says, may
    /// be sent again: every request but a submit that could create a second job
    /// (see [`Job::submit_is_idempotent`]), and that one too when it certainly never
    /// left (the connection was refused). The one rule for a request whose fate is
    /// unknown, whether the transport lost it or the process stopped with it in
    /// flight ([`Job::resume`]).
    fn may_repeat(&self, purpose: Purpose, error: &TransportError) -> bool {
        purpose != Purpose::Submit
            || matches!(error, TransportError::Connect(_))
            || self.submit_is_idempotent()
    }

    /// The submit request may have created the job, and repeating it could create
    /// a second one: stop and say so.
    fn give_up_uncertain(&mut self, now: u64, cause: PollError) {
        let cause = Box::new(cause);
        self.finish(now, |stats| Outcome::GaveUp {
            last_error: PollError::SubmitUncertain { cause },
            stats,
        });
    }

    fn on_submit_response(
        &mut self,
        now: u64,
        class: StatusClass,
        response: &http::Response<Bytes>,
    ) {
        let submit_url = match &self.spec.start {
            Start::Submit { url, .. } => url.clone(),
            Start::Poll { .. } => {
                return self.give_up_inconsistent(now, "a submit answer for a polling job");
            }
        };
        match class {
            StatusClass::Success => {
                match self.spec.profile.read_submission(response, &submit_url) {
                    Ok(submission) => {
                        self.reset_errors();
                        self.push(Output::Event(Event::Submitted {
                            job_id: submission.job_id.clone(),
                            status_url: submission.status_url.to_string(),
                        }));
                        self.job_id = submission.job_id.map(String::into_boxed_str);
                        let rare = self.rare_mut();
                        rare.status_url = Some(Box::new(submission.status_url));
                        rare.results_url = submission.results_url.map(Box::new);
                        rare.polling_since = now;
                        self.phase = Phase::Polling;
                        match self.config.first_poll {
                            FirstPoll::Immediately => {
                                self.set_next_send(now, Duration::ZERO);
                            }
                            FirstPoll::AfterFirstDelay => {
                                self.schedule_poll(now, None);
                            }
                        }
                    }
                    Err(error) => self.on_unreadable_answer(now, Purpose::Submit, error.into()),
                }
            }
            StatusClass::Unauthorized => self.finish_unauthorized(now, response),
            StatusClass::NotFound | StatusClass::Rejected => self.finish_rejected(now, response),
            StatusClass::Retryable
                if matches!(response.status().as_u16(), 429 | 503)
                    || self.submit_is_idempotent() =>
            {
                self.on_failure(now, Purpose::Submit, status_error(response));
            }
            StatusClass::Retryable | StatusClass::NotModified | StatusClass::Unexpected => {
                self.give_up_uncertain(now, status_error(response));
            }
        }
    }

    fn on_status_response(
        &mut self,
        now: u64,
        class: StatusClass,
        response: &http::Response<Bytes>,
    ) {
        match class {
            StatusClass::Success => match self
                .spec
                .profile
                .read_status_wanting_id(response, self.job_id.is_none())
            {
                Ok(report) => {
                    let etag = response
                        .headers()
                        .get(http::header::ETAG)
                        .and_then(|v| v.to_str().ok());
                    match (etag, self.rare.as_mut()) {
                        (Some(etag), _) => {
                            let known = KnownReport::of(&report, now).map(Box::new);
                            let rare = self.rare_mut();
                            rare.etag = Some(etag.to_owned());
                            rare.etag_report = known;
                        }
                        (None, Some(rare)) => {
                            rare.etag = None;
                            rare.etag_report = None;
                        }
                        (None, None) => {}
                    }
                    self.on_report(now, report);
                }
                Err(error) => self.on_failure(now, Purpose::Status, error.into()),
            },
            StatusClass::NotModified => self.on_not_modified(now),
            StatusClass::NotFound
                if self.spec.profile.not_found_means_pending()
                    || now
                        < self
                            .polling_since()
                            .saturating_add(micros(self.config.not_found_grace)) =>
            {
                self.reset_errors();
                self.keep_polling(now, "not found yet".to_owned(), None, None, None);
            }
            StatusClass::NotFound => self.finish(now, |stats| Outcome::NotFound { stats }),
            StatusClass::Unauthorized => self.finish_unauthorized(now, response),
            StatusClass::Rejected => self.finish_rejected(now, response),
            StatusClass::Retryable | StatusClass::Unexpected => {
                self.on_failure(now, Purpose::Status, status_error(response));
            }
        }
    }

    fn on_results_response(
        &mut self,
        now: u64,
        class: StatusClass,
        response: &http::Response<Bytes>,
    ) {
        match class {
            StatusClass::Success => match self.spec.profile.read_results(response) {
                Ok(results) => {
                    self.push(Output::Event(Event::ResultsFetched {
                        results: results.clone(),
                    }));
                    let result = self.take_pending_result();
                    self.finish(now, succeeded(result, Some(results), None));
                }
                Err(error) => self.on_failure(now, Purpose::Results, error.into()),
            },
            StatusClass::Retryable | StatusClass::Unexpected | StatusClass::NotFound => {
                self.on_failure(now, Purpose::Results, status_error(response));
            }
            StatusClass::Unauthorized | StatusClass::Rejected | StatusClass::NotModified => {
                let result = self.take_pending_result();
                let error = status_error(response).to_string();
                self.finish(now, succeeded(result, None, Some(error)));
            }
        }
    }

    fn on_report(&mut self, now: u64, report: StatusReport) {
        self.reset_errors();
        if self.job_id.is_none() {
            self.job_id = report.job_id.as_deref().map(Box::from);
        }
        if self.last_status.as_deref() != Some(report.status.as_str()) {
            let from = self.last_status.take().map(String::from);
            self.push(Output::Event(Event::StatusChanged {
                from,
                to: report.status.clone(),
            }));
            self.last_status = Some(Box::from(report.status.as_str()));
        }
        if let Some(revision) = report.revision {
            let old = self.rare.as_ref().and_then(|rare| rare.revision);
            if old.map_or(revision > 0, |old| revision > old) {
                self.push(Output::Event(Event::Updated {
                    revision,
                    body: present(report.body.clone()),
                }));
            }
            self.rare_mut().revision = Some(revision);
        }
        match report.state.unwrap_or(JobState::Running) {
            JobState::Running => {
                let StatusReport {
                    status,
                    percentage,
                    step,
                    eta,
                    ..
                } = report;
                self.on_running(now, status, percentage, step, eta);
            }
            JobState::Succeeded => self.on_succeeded(now, report.result),
            JobState::Failed => {
                let message = report
                    .error_message
                    .unwrap_or_else(|| "the job failed".to_owned());
                let details = present(report.error_details);
                self.finish(now, |stats| Outcome::Failed {
                    message,
                    details,
                    stats,
                });
            }
            JobState::Cancelled => {
                self.finish(now, |stats| Outcome::Cancelled {
                    by: CancelledBy::Server,
                    stats,
                });
            }
        }
    }

    /// A `304 Not Modified`: what the job has is current. It is the last answer
    /// again: the same status, and what the answer with the `ETag` the request named
    /// reported (progress, step, the server's estimate counting down from when it
    /// was given). After an answer without an `ETag` (a `304` nobody asked for)
    /// the job kept nothing but the status, and repeats that.
    fn on_not_modified(&mut self, now: u64) {
        self.reset_errors();
        let status = self
            .last_status
            .as_deref()
            .unwrap_or("unchanged")
            .to_owned();
        let known = self
            .rare
            .as_ref()
            .and_then(|rare| rare.etag_report.as_deref());
        let (percentage, step, eta) = match known {
            Some(known) => (known.percentage, known.step.clone(), known.eta_at(now)),
            None => (None, None, None),
        };
        self.on_running(now, status, percentage, step, eta);
    }

    /// The server reports the job running, in a fresh answer or a `304`: note the
    /// progress, and poll again when the schedule says, with the server's estimate
    /// of the remaining time or else the one from the progress slope.
    fn on_running(
        &mut self,
        now: u64,
        status: String,
        percentage: Option<f64>,
        step: Option<String>,
        server_eta: Option<Duration>,
    ) {
        self.record_progress(now, percentage);
        let eta = server_eta.or_else(|| self.slope_estimate(now));
        self.keep_polling(now, status, percentage, step, eta);
    }

    fn on_succeeded(&mut self, now: u64, result: Option<serde_json::Value>) {
        let result = present(result);
        let results_url = self.status_url().and_then(|status_url| {
            self.spec.profile.results_url(JobRef {
                job_id: self.job_id.as_deref(),
                status_url,
                results_url: self
                    .rare
                    .as_ref()
                    .and_then(|rare| rare.results_url.as_deref()),
            })
        });
        match results_url {
            None => self.finish(now, succeeded(result, None, None)),
            Some(Err(error)) => {
                let error = format!("the results URL could not be built: {error}");
                self.finish(now, succeeded(result, None, Some(error)));
            }
            Some(Ok(url)) => {
                self.reset_errors();
                let rare = self.rare_mut();
                rare.fetch_url = Some(Box::new(url));
                rare.pending_result = result.map(Box::new);
                self.phase = Phase::FetchingResults;
                self.set_next_send(now, Duration::ZERO);
            }
        }
    }

    /// The job is healthy and not done: report progress and schedule the next poll.
    fn keep_polling(
        &mut self,
        now: u64,
        status: String,
        percentage: Option<f64>,
        step: Option<String>,
        eta: Option<Duration>,
    ) {
        if let Some(max_attempts) = self.config.max_attempts
            && self.attempts >= max_attempts
        {
            return self.stop_at_limit(now, WaitLimit::MaxAttempts { max_attempts });
        }
        let Some(mut next_poll_in) = self.schedule_poll(now, eta) else {
            return;
        };
        // When the deadline comes first, that is the next thing that happens.
        if let Some(deadline) = self.deadline() {
            next_poll_in = next_poll_in.min(Duration::from_micros(deadline.saturating_sub(now)));
        }
        self.push(Output::Event(Event::Progress(Progress {
            attempt: self.attempts,
            max_attempts: self.config.max_attempts,
            status,
            percentage,
            step,
            next_poll_in,
            elapsed: Duration::from_micros(now),
            eta,
        })));
    }

    /// Takes the next delay of the poll schedule; `None` if that ended the job.
    fn schedule_poll(
        &mut self,
        now: u64,
        remaining_estimate: Option<Duration>,
    ) -> Option<Duration> {
        self.poll_delays = self.poll_delays.saturating_add(1);
        let input = ScheduleInput {
            attempt: self.poll_delays,
            elapsed: Duration::from_micros(now),
            previous: unpack_duration(self.previous_poll_delay),
            remaining_estimate,
        };
        let delay = self.config.poll.next_delay(&input, &mut self.rng);
        self.previous_poll_delay = pack_duration(Some(delay));
        self.set_next_send(now, delay)
    }

    /// A request failed in a way worth retrying: back off along the retry schedule,
    /// or stop if a limit is reached.
    fn on_failure(&mut self, now: u64, purpose: Purpose, error: PollError) {
        if purpose == Purpose::Cancel {
            return self.finish_cancelled(now, Some(false));
        }
        self.consecutive_errors = self.consecutive_errors.saturating_add(1);
        let unreadable = if matches!(error, PollError::Unreadable(_)) {
            let rare = self.rare_mut();
            rare.consecutive_unreadable = rare.consecutive_unreadable.saturating_add(1);
            rare.consecutive_unreadable
        } else {
            if let Some(rare) = self.rare.as_mut() {
                rare.consecutive_unreadable = 0;
            }
            0
        };
        let too_many = self
            .config
            .max_consecutive_errors
            .is_some_and(|max| self.consecutive_errors >= max)
            || unreadable >= self.config.max_unreadable;
        if too_many {
            if purpose == Purpose::Results {
                let result = self.take_pending_result();
                return self.finish(now, succeeded(result, None, Some(error.to_string())));
            }
            return self.finish(now, |stats| Outcome::GaveUp {
                last_error: error,
                stats,
            });
        }
        if purpose == Purpose::Status
            && let Some(max_attempts) = self.config.max_attempts
            && self.attempts >= max_attempts
        {
            return self.stop_at_limit(now, WaitLimit::MaxAttempts { max_attempts });
        }
        let input = ScheduleInput {
            attempt: self.consecutive_errors,
            elapsed: Duration::from_micros(now),
            previous: self
                .rare
                .as_ref()
                .and_then(|rare| rare.previous_retry_delay),
            remaining_estimate: None,
        };
        let delay = self.config.retry.next_delay(&input, &mut self.rng);
        self.rare_mut().previous_retry_delay = Some(delay);
        let Some(delay) = self.set_next_send(now, delay) else {
            return;
        };
        self.push(Output::Event(Event::Retrying {
            cause: error,
            consecutive_errors: self.consecutive_errors,
            delay,
        }));
    }

    /// Schedules the next request `delay` from now, but no earlier than the server's
    /// hint and the minimum interval allow. Returns the actual wait, or `None` when
    /// the server's hint reaches past the deadline and the job ended instead.
    fn set_next_send(&mut self, now: u64, delay: Duration) -> Option<Duration> {
        let not_before = self.not_before();
        if let (Some(deadline), Some(hint)) = (
            self.deadline(),
            self.rare.as_ref().and_then(|rare| rare.hint.as_ref()),
        ) && not_before > deadline
        {
            let reason = WaitLimit::HintPastDeadline {
                hint: ServerHint::clone(hint),
                remaining: Duration::from_micros(deadline.saturating_sub(now)),
            };
            self.stop_at_limit(now, reason);
            return None;
        }
        let mut at = now.saturating_add(micros(delay)).max(not_before);
        if let Some(last) = opt_u64(self.last_sent_at) {
            at = at.max(last.saturating_add(micros(self.config.min_interval)));
        }
        self.next_send_at = at;
        Some(Duration::from_micros(at - now))
    }

    /// Reads the wait hints of a response; they bound every later request.
    fn apply_hints(&mut self, now: u64, response: &http::Response<Bytes>) {
        let hints = read_hints(response.headers(), self.config.max_hint);
        for problem in hints.problems {
            self.push(Output::Event(Event::HintIgnored { problem }));
        }
        if let Some(hint) = hints.wait {
            if let Some(requested) = hint.capped_from {
                self.push(Output::Event(Event::HintCapped {
                    source: hint.source,
                    requested,
                    used: hint.delay,
                }));
            }
            self.hold_for(now, hint);
        }
    }

    /// No request before the hint allows, counted from `now`.
    fn hold_for(&mut self, now: u64, hint: ServerHint) {
        let until = now.saturating_add(micros(hint.delay));
        if until > self.not_before() {
            let rare = self.rare_mut();
            rare.not_before = until;
            rare.hint = Some(hint);
        }
    }

    fn reset_errors(&mut self) {
        self.consecutive_errors = 0;
        if let Some(rare) = self.rare.as_mut() {
            rare.consecutive_unreadable = 0;
            rare.previous_retry_delay = None;
        }
    }

    fn on_cancel(&mut self, now: u64) {
        match self.phase {
            Phase::Finished | Phase::Cancelling => {}
            Phase::FetchingResults => {
                let result = self.take_pending_result();
                let error = "cancelled before the results were fetched".to_owned();
                self.finish(now, succeeded(result, None, Some(error)));
            }
            Phase::Submitting => self.finish_cancelled(now, None),
            Phase::Polling => {
                if let Some(in_flight) = self.take_in_flight() {
                    self.push(Output::Abort(in_flight.id));
                }
                // Past the deadline a cancel request would break the deadline's promise.
                let before_deadline = self.deadline().is_none_or(|deadline| now < deadline);
                if self.config.cancel_on_server && before_deadline && self.cancel_target().is_some()
                {
                    self.phase = Phase::Cancelling;
                    self.push(Output::Event(Event::CancelRequested));
                    // Due at once, whatever the schedule and hints say; `drive`
                    // sends it (unless a fleet holds it back).
                    self.next_send_at = now;
                } else {
                    self.finish_cancelled(now, None);
                }
            }
        }
    }

    // --- endings ----------------------------------------------------------------

    fn finish(&mut self, _now: u64, outcome: impl FnOnce(Stats) -> Outcome) {
        if self.phase == Phase::Finished {
            return;
        }
        if let Some(in_flight) = self.take_in_flight() {
            self.push(Output::Abort(in_flight.id));
        }
        self.phase = Phase::Finished;
        let outcome = outcome(self.stats());
        self.push(Output::Finished(outcome));
    }

    /// A limit (deadline, attempts, a hint past the deadline) is reached. A job that
    /// already succeeded keeps its success; only the results are missing.
    fn stop_at_limit(&mut self, now: u64, reason: WaitLimit) {
        match self.phase {
            Phase::FetchingResults => {
                let result = self.take_pending_result();
                let error = format!(
                    "stopped before the results were fetched: {}",
                    limit_text(&reason)
                );
                self.finish(now, succeeded(result, None, Some(error)));
            }
            Phase::Cancelling => self.finish_cancelled(now, None),
            _ => self.finish(now, |stats| Outcome::TimedOut { reason, stats }),
        }
    }

    fn finish_cancelled(&mut self, now: u64, server_confirmed: Option<bool>) {
        self.finish(now, |stats| Outcome::Cancelled {
            by: CancelledBy::Client { server_confirmed },
            stats,
        });
    }

    fn finish_unauthorized(&mut self, now: u64, response: &http::Response<Bytes>) {
        let status = response.status().as_u16();
        let message = excerpt(response.body());
        self.finish(now, |stats| Outcome::Unauthorized {
            status,
            message,
            stats,
        });
    }

    fn finish_rejected(&mut self, now: u64, response: &http::Response<Bytes>) {
        let status = response.status().as_u16();
        let message = excerpt(response.body());
        self.finish(now, |stats| Outcome::Rejected {
            status,
            message,
            stats,
        });
    }

    /// Only reachable through a hand-edited snapshot; ends the job instead of
    /// leaving it stuck.
    fn give_up_inconsistent(&mut self, now: u64, what: &str) {
        let error = PollError::Transport(TransportError::Other(format!(
            "inconsistent job state: {what}"
        )));
        self.finish(now, |stats| Outcome::GaveUp {
            last_error: error,
            stats,
        });
    }

    fn take_pending_result(&mut self) -> Option<serde_json::Value> {
        if self.phase != Phase::FetchingResults {
            return None;
        }
        let rare = self.rare.as_mut()?;
        rare.pending_result.take().map(|result| *result)
    }

    /// Whether repeating the submit request cannot create a second job: the method
    /// is idempotent, or the request carries an `Idempotency-Key`.
    fn submit_is_idempotent(&self) -> bool {
        let idempotent_method = match &self.spec.start {
            Start::Submit { method, .. } => method.is_idempotent(),
            Start::Poll { .. } => true,
        };
        idempotent_method || has_header(&self.spec.headers, "idempotency-key")
    }

    // --- estimates --------------------------------------------------------------

    fn record_progress(&mut self, now: u64, percentage: Option<f64>) {
        let Some(percentage) = percentage else {
            return;
        };
        let sample = ProgressSample {
            age: now,
            percentage,
        };
        // Progress that goes backwards starts a new slope (a new phase of the job).
        if self.first_sample.get().is_none()
            || self
                .last_sample
                .get()
                .is_some_and(|last| percentage < last.percentage)
        {
            self.first_sample = MaybeSample::from(Some(sample));
        }
        self.last_sample = MaybeSample::from(Some(sample));
    }

    /// Remaining time predicted from the average progress rate since the first
    /// sample.
    fn slope_estimate(&self, now: u64) -> Option<Duration> {
        let (first, last) = (self.first_sample.get()?, self.last_sample.get()?);
        if last.percentage <= first.percentage || last.age <= first.age {
            return None;
        }
        let rate = (last.percentage - first.percentage) / (last.age - first.age) as f64;
        let remaining_after_last = (100.0 - last.percentage).max(0.0) / rate;
        let remaining = remaining_after_last - now.saturating_sub(last.age) as f64;
        Some(crate::time::duration_from_secs_f64(remaining / 1e6))
    }
}

/// A JSON `null` result is no result: `Some(Null)` would not survive serde (it reads
/// back as `None`), and snapshots and traces must be exact.
fn present(value: Option<serde_json::Value>) -> Option<serde_json::Value> {
    value.filter(|value| !value.is_null())
}

fn succeeded(
    result: Option<serde_json::Value>,
    results: Option<serde_json::Value>,
    results_error: Option<String>,
) -> impl FnOnce(Stats) -> Outcome {
    let (result, results) = (present(result), present(results));
    move |stats| Outcome::Succeeded {
        result,
        results,
        results_error,
        stats,
    }
}

fn limit_text(reason: &WaitLimit) -> String {
    match reason {
        WaitLimit::Deadline { deadline } => {
            format!(
                "the deadline of {} passed",
                crate::time::format_duration(*deadline)
            )
        }
        WaitLimit::MaxAttempts { max_attempts } => {
            format!("all {max_attempts} attempts were used")
        }
        WaitLimit::HintPastDeadline { hint, .. } => format!(
            "the server asked to wait {}, past the deadline",
            crate::time::format_duration(hint.capped_from.unwrap_or(hint.delay))
        ),
    }
}

fn status_error(response: &http::Response<Bytes>) -> PollError {
    PollError::Status {
        status: response.status().as_u16(),
        excerpt: excerpt(response.body()),
    }
}

fn has_header(headers: &[(String, String)], name: &str) -> bool {
    headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
}

fn validate<P>(spec: &JobSpec<P>, config: &Config) -> Result<(), SpecError> {
    config.validate()?;
    for (name, value) in &spec.headers {
        http::HeaderName::from_bytes(name.as_bytes()).map_err(|e| SpecError::Header {
            name: name.clone(),
            reason: e.to_string(),
        })?;
        http::HeaderValue::from_str(value).map_err(|e| SpecError::Header {
            name: name.clone(),
            reason: e.to_string(),
        })?;
    }
    let url = match &spec.start {
        Start::Poll { status_url, .. } => status_url,
        Start::Submit { url, .. } => url,
    };
    if !matches!(url.scheme(), "http" | "https") {
        return Err(SpecError::Scheme {
            url: url.to_string(),
        });
    }
    Ok(())
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
mod serde_origin {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
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

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<i128, D::Error> {
        i128::deserialize(deserializer)
    }
}

/// Serde for `http::Method` as its name.
mod serde_method {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(super) fn serialize<S: Serializer>(
        method: &http::Method,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(method.as_str())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<http::Method, D::Error> {
        let name = String::deserialize(deserializer)?;
        http::Method::from_bytes(name.as_bytes()).map_err(D::Error::custom)
    }
}
