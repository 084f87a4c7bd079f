//! Profiles: how one job API speaks.
//!
//! A [`Profile`] is data: JSON pointers into the status body, the value sets that mean
//! running / succeeded / failed / cancelled, URL templates for status, results and
//! cancel, and a [`Completion`] rule for the few shapes a pointer cannot express
//! (file tasks, Google operations, Azure operations). Being data, it serializes with a
//! job's snapshot and can be written by a CLI user for an API we have never seen.
//! [`Interpret`] is the trait the job calls; [`Profile`] implements it, and code that
//! needs more than data implements it on its own type.
//!
//! Pointers are RFC 6901 JSON pointers (`/progress_data/percentage`; the empty
//! pointer `""` is the whole body). A pointer may list alternatives separated by `|`
//! (`/result_data|/result`): the pointer as written is tried first, then each
//! alternative in order, and the first value of the expected type wins. Optional
//! fields of the wrong type count as absent; only the status field of a
//! [`Completion::Status`] rule is required.
//!
//! A profile that sets `revision_pointer` also puts the whole status body in
//! [`StatusReport::body`], so update events can carry it.

mod azure;
mod builtin;
mod decimal;
mod explain;
mod interpret;
mod model;
mod parse;
mod sparse;
mod status;
mod urls;

#[cfg(test)]
mod explain_tests;
#[cfg(test)]
mod interpret_tests;
#[cfg(test)]
mod model_tests;
#[cfg(test)]
mod parse_tests;
#[cfg(test)]
mod reading_tests;
#[cfg(test)]
mod sparse_cases_tests;
#[cfg(test)]
mod sparse_tests;
#[cfg(test)]
mod status_tests;
#[cfg(test)]
mod testing;
#[cfg(test)]
mod urls_tests;

use core::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use url::Url;

pub use builtin::codegen_by_graph;
pub use explain::{Explanation, FieldReading, Finding, JobView};
pub use model::{
    CancelSpec, Completion, FinalStateVia, Profile, ProgressRatio, RepeatSubmit, ResultsSpec,
    ResultsTransform, StatusUrlRule, StatusValues, Template,
};
pub use parse::{ProfileError, nearest};

/// Where the job stands according to one status response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Queued, pending, processing: keep polling.
    Running,
    /// Finished successfully.
    Succeeded,
    /// Finished with a failure the server reports.
    Failed,
    /// Cancelled on the server side.
    Cancelled,
}

/// What one status response says about the job.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    /// The interpreted state.
    pub state: Option<JobState>,
    /// The server's own word for the status (`"processing"`, `"InProgress"`, ...).
    pub status: String,
    /// Progress in percent, 0 to 100, when the server reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percentage: Option<f64>,
    /// The server's description of the current step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// The server's estimate of the remaining time.
    #[serde(
        default,
        with = "crate::time::serde_micros::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub eta: Option<Duration>,
    /// The job's result, on success, when it is in the status body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
    /// The server's failure message, on failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Structured failure details, on failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_details: Option<serde_json::Value>,
    /// A number that grows when the job's representation grows while running (the
    /// count of a turn's blocks); the job emits `Event::Updated` when it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<u64>,
    /// The job's id as the status body gives it (read with the submit id
    /// pointers), so a job polled by URL alone learns the id its results and cancel
    /// requests need.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// The body, as JSON, when an update event should carry it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
    /// Where to poll from now on, when the answer moves the job (a `202` with a new
    /// `Location` while [`PollMode::Location`] polling).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_to: Option<Url>,
    /// Where the final resource is, when a succeeded status names it (Azure's
    /// `resourceLocation`): fetched instead of the URL the submit answer named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results_url: Option<Url>,
}

/// How the status answers of one job are read. The profile chooses it from the
/// submit answer (Azure's rules pick one of four ways); a job polled by URL alone
/// reads its status from the body.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PollMode {
    /// The status is in the answer's body (every status profile; Azure's
    /// `Azure-AsyncOperation` and `Operation-Location` monitors, whose success may
    /// name the final resource in `resourceLocation`).
    #[default]
    Body,
    /// As [`PollMode::Body`], and the last status body is the result: no final
    /// request follows (Azure with `final-state-via` the operation, after `POST`).
    BodyIsResult,
    /// The HTTP status says it: `202` while running (a new `Location` on the `202`
    /// moves the polling), any other `2xx` done, with the body as the resource
    /// (Azure `Location` polling).
    Location,
    /// The resource itself is polled at the request URL, and its own provisioning
    /// state says where it stands (Azure `PUT`/`PATCH` without a monitor header).
    Resource,
}

/// What the job knows when it reads a status answer.
#[derive(Clone, Copy, Debug)]
pub struct StatusContext<'a> {
    /// Whether the job wants its id read: when false, the report's `job_id` may be
    /// left `None`, so that reading it can be skipped.
    pub wants_id: bool,
    /// How this job's status answers are read.
    pub mode: PollMode,
    /// The URL the answer is from, for URLs the answer gives relative to it.
    pub status_url: Option<&'a Url>,
}

impl Default for StatusContext<'_> {
    /// The id wanted, the status read from the body, and no URL known.
    fn default() -> Self {
        StatusContext {
            wants_id: true,
            mode: PollMode::Body,
            status_url: None,
        }
    }
}

/// What the create (submit) response says.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    /// The job's id, when the API has one.
    pub job_id: Option<String>,
    /// Where to poll its status.
    pub status_url: Url,
    /// Where to fetch the final resource or results after success, when the submit
    /// answer decides it (Azure: the `Location`, or the request URL for `PUT` and
    /// `PATCH`).
    pub results_url: Option<Url>,
    /// How the job's status answers are read.
    #[serde(default)]
    pub mode: PollMode,
    /// The submit answer already tells how the job ended (an Azure `204`, a `200`
    /// with a terminal provisioning state, a Google operation that is `done`): the
    /// job ends with this report instead of polling. Never a running report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<StatusReport>,
}

/// What the job knows that a profile may need to build a URL.
#[derive(Clone, Copy, Debug)]
pub struct JobRef<'a> {
    /// The job's id, when known.
    pub job_id: Option<&'a str>,
    /// The status URL.
    pub status_url: &'a Url,
    /// The results URL named by the submit response, if any.
    pub results_url: Option<&'a Url>,
}

/// A response the profile could not read. Messages quote at most a short, safe
/// excerpt of what the server sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum InterpretError {
    /// The body is not JSON. An HTML page (a wrong URL, a login page, a proxy's
    /// error page) says so, with its title.
    #[error("{}", status::not_json_message(.excerpt, .html.as_deref()))]
    NotJson {
        /// Short, safe excerpt of the body.
        excerpt: String,
        /// When the body is an HTML page (by its start, or its `Content-Type`):
        /// the page's `<title>`, empty when it has none.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        html: Option<String>,
    },
    /// A field the profile needs is missing or has the wrong type.
    #[error("the response has no usable {pointer}: {excerpt}")]
    MissingField {
        /// JSON pointer of the field.
        pointer: String,
        /// Short, safe excerpt of the body.
        excerpt: String,
    },
    /// The status body has none of the fields the profile reads a job's state
    /// from: most likely the API speaks another profile's language.
    #[error(
        "this does not look like a {profile} status: no {looked_for}; check that the {profile} profile fits this API: {excerpt}"
    )]
    NotThisApi {
        /// The profile's name.
        profile: String,
        /// The pointers it looked for, as a person reads them (`/done, /error or /name`).
        looked_for: String,
        /// Short, safe excerpt of the body.
        excerpt: String,
    },
    /// The status value is none of the known ones.
    #[error("unknown job status {value:?}")]
    UnknownStatus {
        /// Short, safe excerpt of the value.
        value: String,
    },
    /// A URL could not be built or read.
    #[error("bad URL {value:?}: {reason}")]
    BadUrl {
        /// Short, safe excerpt of the offending text.
        value: String,
        /// Why.
        reason: String,
    },
}

/// How a job API speaks: the trait the job state machine calls.
///
/// Implementations must be pure and must not panic on any response: bad input is an
/// [`InterpretError`].
pub trait Interpret {
    /// A short name for logs and traces.
    fn name(&self) -> &str;
    /// Reads the 2xx answer to the submit request, sent with `method` to
    /// `submit_url`.
    fn read_submission_to(
        &self,
        response: &http::Response<Bytes>,
        method: &http::Method,
        submit_url: &Url,
    ) -> Result<Submission, InterpretError>;
    /// [`Interpret::read_submission_to`] for a `POST`.
    fn read_submission(
        &self,
        response: &http::Response<Bytes>,
        submit_url: &Url,
    ) -> Result<Submission, InterpretError> {
        self.read_submission_to(response, &http::Method::POST, submit_url)
    }
    /// Reads a 2xx answer to a status request, as `context` says. Everything the
    /// report holds but the job id (when not wanted), and every error, is what the
    /// same body gives for any other `wants_id`.
    fn read_status_in(
        &self,
        response: &http::Response<Bytes>,
        context: &StatusContext<'_>,
    ) -> Result<StatusReport, InterpretError>;
    /// [`Interpret::read_status_in`] with the default context: the status in the
    /// body, the id wanted, no URL known.
    fn read_status(
        &self,
        response: &http::Response<Bytes>,
    ) -> Result<StatusReport, InterpretError> {
        self.read_status_in(response, &StatusContext::default())
    }
    /// The URL to fetch results from after success, if this API has a results step.
    fn results_url(&self, job: JobRef<'_>) -> Option<Result<Url, InterpretError>>;
    /// Reads the 2xx response to the results request.
    fn read_results(
        &self,
        response: &http::Response<Bytes>,
    ) -> Result<serde_json::Value, InterpretError>;
    /// The method and URL that cancel the job on the server, if the API has one.
    fn cancel_request(
        &self,
        job: JobRef<'_>,
    ) -> Option<Result<(http::Method, Url), InterpretError>>;
    /// Whether a 404 means "not visible yet" for as long as the job lasts (file tasks),
    /// rather than only during the configured grace period.
    fn not_found_means_pending(&self) -> bool;
    /// Whether this API lets a submit sent with `method` be sent again after
    /// `answer` (an error status), or after no answer at all (`None`), although it
    /// may have created the job. The job repeats idempotent methods and requests
    /// with an `Idempotency-Key` header anyway; the default allows nothing more.
    fn submit_repeatable(&self, method: &http::Method, answer: Option<http::StatusCode>) -> bool {
        let _ = (method, answer);
        false
    }
}

/// A shared profile speaks as the profile it points to: a fleet of a million jobs
/// holds one `Arc<Profile>`, not a million copies.
impl<T: Interpret + ?Sized> Interpret for std::sync::Arc<T> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn read_submission_to(
        &self,
        response: &http::Response<Bytes>,
        method: &http::Method,
        submit_url: &Url,
    ) -> Result<Submission, InterpretError> {
        (**self).read_submission_to(response, method, submit_url)
    }
    fn read_status_in(
        &self,
        response: &http::Response<Bytes>,
        context: &StatusContext<'_>,
    ) -> Result<StatusReport, InterpretError> {
        (**self).read_status_in(response, context)
    }
    fn results_url(&self, job: JobRef<'_>) -> Option<Result<Url, InterpretError>> {
        (**self).results_url(job)
    }
    fn read_results(
        &self,
        response: &http::Response<Bytes>,
    ) -> Result<serde_json::Value, InterpretError> {
        (**self).read_results(response)
    }
    fn cancel_request(
        &self,
        job: JobRef<'_>,
    ) -> Option<Result<(http::Method, Url), InterpretError>> {
        (**self).cancel_request(job)
    }
    fn not_found_means_pending(&self) -> bool {
        (**self).not_found_means_pending()
    }
    fn submit_repeatable(&self, method: &http::Method, answer: Option<http::StatusCode>) -> bool {
        (**self).submit_repeatable(method, answer)
    }
}

/// At most 200 characters of `bytes`, lossily decoded, with control characters
/// replaced: safe to put in an error message or a log line.
pub fn excerpt(bytes: &[u8]) -> String {
    const LIMIT: usize = 200;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(LIMIT * 4)]);
    let mut out: String = text
        .chars()
        .take(LIMIT)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().count() > LIMIT || bytes.len() > LIMIT * 4 {
        out.push('…');
    }
    out
}
