//! The job's inputs and outputs and their wire types: what a driver sends, what it
//! feeds back, how a job is specified, and the errors for bad specs, bad calls and bad
//! snapshots.

use bytes::Bytes;
use core::time::Duration;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::{Config, ConfigError};
use crate::event::{Event, Outcome, TransportError};
use crate::profile::Profile;
use crate::time::{Instant, serde_micros};

use super::snapshot::serde_method;

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
    /// The input for the answer to `request` that came at `now`: the response, or
    /// why there was none. The one mapping every driver needs.
    pub fn answer(
        request: RequestId,
        answer: Result<http::Response<Bytes>, TransportError>,
        now: Instant,
    ) -> Input {
        match answer {
            Ok(response) => Input::Response {
                request,
                response,
                now,
            },
            Err(error) => Input::TransportError {
                request,
                error,
                now,
            },
        }
    }

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

/// What the job asks of its driver. Drain with [`Job::poll_output`](super::Job::poll_output).
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

/// Whether `headers` has one named `name` (names compare without case).
pub(super) fn has_header(headers: &[(String, String)], name: &str) -> bool {
    headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
}

/// Checks what a job is built or restored from: the configuration, the headers,
/// and that the first URL is `http` or `https`.
pub(super) fn validate<P>(spec: &JobSpec<P>, config: &Config) -> Result<(), SpecError> {
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
