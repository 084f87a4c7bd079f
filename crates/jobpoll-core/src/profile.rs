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

mod sparse;
#[cfg(test)]
mod sparse_tests;

use core::time::Duration;
use std::borrow::Cow;
use std::sync::OnceLock;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use url::Url;

use sparse::PointerTree;

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
}

/// What the create (submit) response says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submission {
    /// The job's id, when the API has one.
    pub job_id: Option<String>,
    /// Where to poll its status.
    pub status_url: Url,
    /// Where to fetch the final resource or results after success, when the submit
    /// response named it (Azure `Location`).
    pub results_url: Option<Url>,
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
    /// The body is not JSON.
    #[error("the response body is not JSON: {excerpt}")]
    NotJson {
        /// Short, safe excerpt of the body.
        excerpt: String,
    },
    /// A field the profile needs is missing or has the wrong type.
    #[error("the response has no usable {pointer}: {excerpt}")]
    MissingField {
        /// JSON pointer of the field.
        pointer: String,
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
    /// Reads the 2xx response to the submit request.
    fn read_submission(
        &self,
        response: &http::Response<Bytes>,
        submit_url: &Url,
    ) -> Result<Submission, InterpretError>;
    /// Reads a 2xx response to a status request.
    fn read_status(&self, response: &http::Response<Bytes>)
    -> Result<StatusReport, InterpretError>;
    /// [`Interpret::read_status`] for a caller that may not need the job id (a job
    /// that knows its id already): when `wants_id` is false, the report's `job_id`
    /// may be left `None`, so that reading it can be skipped. Everything else, and
    /// every error, is what `read_status` gives. The default reads the whole report.
    fn read_status_wanting_id(
        &self,
        response: &http::Response<Bytes>,
        wants_id: bool,
    ) -> Result<StatusReport, InterpretError> {
        let _ = wants_id;
        self.read_status(response)
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
}

/// A shared profile speaks as the profile it points to: a fleet of a million jobs
/// holds one `Arc<Profile>`, not a million copies.
impl<T: Interpret + ?Sized> Interpret for std::sync::Arc<T> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn read_submission(
        &self,
        response: &http::Response<Bytes>,
        submit_url: &Url,
    ) -> Result<Submission, InterpretError> {
        (**self).read_submission(response, submit_url)
    }
    fn read_status(
        &self,
        response: &http::Response<Bytes>,
    ) -> Result<StatusReport, InterpretError> {
        (**self).read_status(response)
    }
    fn read_status_wanting_id(
        &self,
        response: &http::Response<Bytes>,
        wants_id: bool,
    ) -> Result<StatusReport, InterpretError> {
        (**self).read_status_wanting_id(response, wants_id)
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
}

/// The placeholder `{id}` in templates is replaced by the job id, percent-encoded as
/// one path segment; `{id_path}` keeps `/` (Google operation names). A template that
/// starts with `/` is resolved against the origin of the URL it relates to; a full
/// URL is used as is; anything else is resolved as a child of that URL's path
/// (query dropped): `{id}` against `https://h/a/turns` gives `https://h/a/turns/t1`.
/// Only `http` and `https` results are accepted. The URL a status template relates
/// to is the submit URL; for results and cancel templates it is the status URL.
/// Ids that would make a dot segment (`..`) or, for `{id_path}`, an empty segment are
/// refused with [`InterpretError::BadUrl`].
pub type Template = String;

/// The status value sets of a [`Completion::Status`] rule. Values compare
/// ASCII-case-insensitively; a status in none of the sets is
/// [`InterpretError::UnknownStatus`]. Sets left out of a JSON description are empty.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StatusValues {
    /// Values meaning "keep polling".
    pub running: Vec<String>,
    /// Values meaning success.
    pub succeeded: Vec<String>,
    /// Values meaning failure.
    pub failed: Vec<String>,
    /// Values meaning cancelled by the server.
    pub cancelled: Vec<String>,
}

/// How a status body says the job is finished.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Completion {
    /// A status field (`pointer`) with value sets (jobs, codegen, turn).
    Status {
        /// JSON pointer to the status string.
        pointer: String,
        /// What each value means.
        values: StatusValues,
    },
    /// Files with tasks: done when `url_pointer` holds a non-empty string, or when every
    /// task in `tasks_pointer` has status `completed`; failed when the latest task's
    /// status is `error`.
    FileTasks {
        /// JSON pointer to the file URL.
        url_pointer: String,
        /// JSON pointer to the task array.
        tasks_pointer: String,
    },
    /// `google.longrunning.Operation`: `done`, then `error` or `response`.
    GoogleOperation,
    /// Azure long-running operations: `status` (operation resource) or
    /// `properties.provisioningState` (resource), or for `Location` polling, 202 while
    /// running and any other 2xx when done.
    AzureOperation,
}

/// Where the submit response names the status URL.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum StatusUrlRule {
    /// A template filled with the id read from the submit body.
    Template {
        /// The template.
        template: Template,
    },
    /// The first present of these response headers (Azure: `Azure-AsyncOperation`,
    /// `Operation-Location`, `Location`), resolved against the submit URL.
    Headers {
        /// Header names, most preferred first.
        names: Vec<String>,
    },
}

/// The optional results step after success (codegen's results endpoint).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultsSpec {
    /// Where the results are. `None`: the URL named by the submit response (Azure
    /// `Location`); the step is skipped when there is none.
    pub url: Option<Template>,
    /// How to reshape the results body.
    #[serde(default)]
    pub transform: ResultsTransform,
}

/// A reshaping of the results body.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultsTransform {
    /// Keep the body as it is.
    #[default]
    AsIs,
    /// Codegen results: `{graphId, generatedCodes[{nodeId, code}]}` into
    /// `{graphId: {nodeId: [code, ...]}}`.
    CodegenByGraph,
}

/// The optional server-side cancel request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelSpec {
    /// HTTP method (`POST`, `DELETE`).
    pub method: String,
    /// URL template.
    pub url: Template,
}

/// A data-driven description of a job API. See the module docs.
///
/// Build one with a constructor ([`Profile::jobs`] and the other built-in APIs) or
/// from JSON, then change its public fields as needed; it cannot be written as a
/// struct literal, because it also keeps the compiled form of its status pointers
/// (built on the first status read, and rebuilt for a read after its pointers
/// changed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// Short name (`jobs`, `codegen`, ...).
    pub name: String,
    /// How the status body says the job is done.
    pub completion: Completion,
    /// JSON pointers, tried in order, to the job id in the submit response body.
    #[serde(default)]
    pub submit_id_pointers: Vec<String>,
    /// Where the status URL comes from after a submit.
    pub status_url: StatusUrlRule,
    /// JSON pointer to progress in percent.
    #[serde(default)]
    pub percentage_pointer: Option<String>,
    /// JSON pointer to the step message.
    #[serde(default)]
    pub step_pointer: Option<String>,
    /// JSON pointer to the estimated remaining time, in seconds.
    #[serde(default)]
    pub eta_pointer: Option<String>,
    /// JSON pointer to the result in the status body.
    #[serde(default)]
    pub result_pointer: Option<String>,
    /// JSON pointer to the failure message.
    #[serde(default)]
    pub error_message_pointer: Option<String>,
    /// JSON pointer to the failure details.
    #[serde(default)]
    pub error_details_pointer: Option<String>,
    /// JSON pointer to an array whose growth is reported as an update (a turn's
    /// blocks).
    #[serde(default)]
    pub revision_pointer: Option<String>,
    /// The results step, if any.
    #[serde(default)]
    pub results: Option<ResultsSpec>,
    /// The cancel request, if any.
    #[serde(default)]
    pub cancel: Option<CancelSpec>,
    /// Whether 404 means "not ready yet" for the whole job (file tasks).
    #[serde(default)]
    pub not_found_means_pending: bool,
    /// The status pointers compiled for the sparse read, on first use (not data: never
    /// serialized nor compared, and printed as `..`).
    #[serde(skip)]
    status_plan: PlanCell,
}

/// A profile's [`StatusPlan`], built the first time it reads a status body.
/// Every profile compares equal here: the plan is derived from the profile's data.
#[derive(Clone, Default)]
struct PlanCell(OnceLock<Option<StatusPlan>>);

impl core::fmt::Debug for PlanCell {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("..")
    }
}

impl PartialEq for PlanCell {
    fn eq(&self, _: &PlanCell) -> bool {
        true
    }
}

impl Eq for PlanCell {}

impl Profile {
    /// The jobs API: `POST /api/v1/{x}-job` gives `{job_id, status: "queued"}`;
    /// `GET /api/v1/jobs/{id}` gives status queued|processing|completed|failed|
    /// cancelled, `progress_data{percentage, current_step, estimated_time_remaining}`,
    /// `result_data`, `error_data{message, details}`; `POST /api/v1/jobs/{id}/cancel`.
    ///
    /// The result is `result_data`, or `result` when that is absent (as the API's
    /// reference client does).
    pub fn jobs() -> Profile {
        Profile {
            name: "jobs".to_owned(),
            completion: Completion::Status {
                pointer: "/status".to_owned(),
                values: StatusValues {
                    running: strings(&["queued", "processing"]),
                    succeeded: strings(&["completed"]),
                    failed: strings(&["failed"]),
                    cancelled: strings(&["cancelled", "canceled"]),
                },
            },
            submit_id_pointers: strings(&["/job_id"]),
            status_url: StatusUrlRule::Template {
                template: "/api/v1/jobs/{id}".to_owned(),
            },
            percentage_pointer: Some("/progress_data/percentage".to_owned()),
            step_pointer: Some("/progress_data/current_step".to_owned()),
            eta_pointer: Some("/progress_data/estimated_time_remaining".to_owned()),
            result_pointer: Some("/result_data|/result".to_owned()),
            error_message_pointer: Some("/error_data/message".to_owned()),
            error_details_pointer: Some("/error_data/details".to_owned()),
            revision_pointer: None,
            results: None,
            cancel: Some(CancelSpec {
                method: "POST".to_owned(),
                url: "/api/v1/jobs/{id}/cancel".to_owned(),
            }),
            not_found_means_pending: false,
            status_plan: PlanCell::default(),
        }
    }

    /// Code generation: status pending|running|completed|failed at
    /// `GET /api/v1/public/graph/codegen/{id}/status`, then results at
    /// `/api/v1/public/graph/codegen/{id}/results`, reshaped to
    /// `{graphId: {nodeId: [code]}}`.
    ///
    /// The submit body names the job `jobId` (or `job_id`); a failure message is read
    /// from `error.message`, `error` or `message`, whichever is a string first.
    pub fn codegen() -> Profile {
        Profile {
            name: "codegen".to_owned(),
            completion: Completion::Status {
                pointer: "/status".to_owned(),
                values: StatusValues {
                    running: strings(&["pending", "running"]),
                    succeeded: strings(&["completed"]),
                    failed: strings(&["failed"]),
                    cancelled: Vec::new(),
                },
            },
            submit_id_pointers: strings(&["/jobId", "/job_id"]),
            status_url: StatusUrlRule::Template {
                template: "/api/v1/public/graph/codegen/{id}/status".to_owned(),
            },
            percentage_pointer: None,
            step_pointer: None,
            eta_pointer: None,
            result_pointer: None,
            error_message_pointer: Some("/error/message|/error|/message".to_owned()),
            error_details_pointer: Some("/error".to_owned()),
            revision_pointer: None,
            results: Some(ResultsSpec {
                url: Some("/api/v1/public/graph/codegen/{id}/results".to_owned()),
                transform: ResultsTransform::CodegenByGraph,
            }),
            cancel: None,
            not_found_means_pending: false,
            status_plan: PlanCell::default(),
        }
    }

    /// Files with tasks: `GET /api/file/{id}` gives `{id, url?, tasks[{status}]}`;
    /// 404 means not ready yet.
    ///
    /// The result is the whole file body. The status text is `ready` once the URL is
    /// set, else the latest task's status, else `pending`.
    pub fn file_tasks() -> Profile {
        Profile {
            name: "file-tasks".to_owned(),
            completion: Completion::FileTasks {
                url_pointer: "/url".to_owned(),
                tasks_pointer: "/tasks".to_owned(),
            },
            submit_id_pointers: strings(&["/id"]),
            status_url: StatusUrlRule::Template {
                template: "/api/file/{id}".to_owned(),
            },
            percentage_pointer: None,
            step_pointer: None,
            eta_pointer: None,
            result_pointer: None,
            error_message_pointer: None,
            error_details_pointer: None,
            revision_pointer: None,
            results: None,
            cancel: None,
            not_found_means_pending: true,
            status_plan: PlanCell::default(),
        }
    }

    /// Turns: `{status, blocks[], error?}` with status pending|running|completed|
    /// failed; an update whenever `blocks` grows.
    ///
    /// The real status URL, `GET /api/projects/{projectId}/sessions/{sessionId}/turns/
    /// {turnId}`, holds ids a template cannot know, so this profile is normally used
    /// with a known status URL. After a submit it reads the turn id from `/id` and
    /// polls the template `{id}`, a relative reference resolved as a child of the
    /// submit URL: `POST .../sessions/s1/turns` giving `{"id": "t1"}` polls
    /// `.../sessions/s1/turns/t1`. The revision is the number of blocks, the report
    /// carries the whole turn as `body`, and the result is the whole turn.
    pub fn turn() -> Profile {
        Profile {
            name: "turn".to_owned(),
            completion: Completion::Status {
                pointer: "/status".to_owned(),
                values: StatusValues {
                    running: strings(&["pending", "running"]),
                    succeeded: strings(&["completed"]),
                    failed: strings(&["failed"]),
                    cancelled: Vec::new(),
                },
            },
            submit_id_pointers: strings(&["/id"]),
            status_url: StatusUrlRule::Template {
                template: "{id}".to_owned(),
            },
            percentage_pointer: None,
            step_pointer: None,
            eta_pointer: None,
            result_pointer: Some(String::new()),
            error_message_pointer: Some("/error".to_owned()),
            error_details_pointer: None,
            revision_pointer: Some("/blocks".to_owned()),
            results: None,
            cancel: None,
            not_found_means_pending: false,
            status_plan: PlanCell::default(),
        }
    }

    /// Google `google.longrunning.Operation`: `GET /v1/{name}`, cancel with
    /// `POST /v1/{name}:cancel`.
    ///
    /// Running while `done` is absent or false (status `running`, percentage from
    /// `metadata.progressPercent`); once done (status `done`), `error` means failed,
    /// or cancelled when its code is 1 (`CANCELLED`), and otherwise the result is
    /// `response`.
    pub fn google_operation() -> Profile {
        Profile {
            name: "google".to_owned(),
            completion: Completion::GoogleOperation,
            submit_id_pointers: strings(&["/name"]),
            status_url: StatusUrlRule::Template {
                template: "/v1/{id_path}".to_owned(),
            },
            percentage_pointer: Some("/metadata/progressPercent".to_owned()),
            step_pointer: None,
            eta_pointer: None,
            result_pointer: Some("/response".to_owned()),
            error_message_pointer: Some("/error/message".to_owned()),
            error_details_pointer: Some("/error".to_owned()),
            revision_pointer: None,
            results: None,
            cancel: Some(CancelSpec {
                method: "POST".to_owned(),
                url: "/v1/{id_path}:cancel".to_owned(),
            }),
            not_found_means_pending: false,
            status_plan: PlanCell::default(),
        }
    }

    /// Azure long-running operations: status URL from `Azure-AsyncOperation`,
    /// `Operation-Location` or `Location`; final GET of the resource named by
    /// `Location`.
    ///
    /// Status values compare case-insensitively: `Succeeded`, `Failed`,
    /// `Canceled`/`Cancelled`, anything else running. Percentage from
    /// `percentComplete`, failure message from `error.message`. The result of a
    /// succeeded status body is the whole body.
    pub fn azure_operation() -> Profile {
        Profile {
            name: "azure".to_owned(),
            completion: Completion::AzureOperation,
            submit_id_pointers: Vec::new(),
            status_url: StatusUrlRule::Headers {
                names: strings(&["Azure-AsyncOperation", "Operation-Location", "Location"]),
            },
            percentage_pointer: Some("/percentComplete".to_owned()),
            step_pointer: None,
            eta_pointer: None,
            result_pointer: None,
            error_message_pointer: Some("/error/message".to_owned()),
            error_details_pointer: Some("/error".to_owned()),
            revision_pointer: None,
            results: Some(ResultsSpec {
                url: None,
                transform: ResultsTransform::AsIs,
            }),
            cancel: None,
            not_found_means_pending: false,
            status_plan: PlanCell::default(),
        }
    }

    /// Every built-in profile by name, for command lines and configs.
    pub fn builtin(name: &str) -> Option<Profile> {
        match name {
            "jobs" => Some(Profile::jobs()),
            "codegen" => Some(Profile::codegen()),
            "file-tasks" => Some(Profile::file_tasks()),
            "turn" => Some(Profile::turn()),
            "google" => Some(Profile::google_operation()),
            "azure" => Some(Profile::azure_operation()),
            _ => None,
        }
    }

    /// Names accepted by [`Profile::builtin`].
    pub const BUILTIN_NAMES: &'static [&'static str] =
        &["jobs", "codegen", "file-tasks", "turn", "google", "azure"];

    /// The job id from a submit body, trying `submit_id_pointers` in order. Strings
    /// and integers are accepted; an empty string is not an id.
    fn read_id(&self, body: &[u8]) -> Result<String, InterpretError> {
        let doc = parse_json(body)?.ok_or_else(|| not_json(body))?;
        self.submit_id_pointers
            .iter()
            .find_map(|pointer| find_in(&doc, pointer, id_text))
            .ok_or_else(|| missing(&self.submit_id_pointers.join(" or "), body))
    }
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|&v| v.to_owned()).collect()
}

/// The codegen results' storage shape: `{graphId: {nodeId: [code, ...]}}` from a
/// results body `{graphId, generatedCodes: [{nodeId, code, ...}]}`.
///
/// Several entries for the same node append their code in order. A missing
/// `graphId` or `generatedCodes`, or an entry without a string `nodeId` or `code`,
/// is a [`InterpretError::MissingField`] naming the pointer.
pub fn codegen_by_graph(results: &serde_json::Value) -> Result<serde_json::Value, InterpretError> {
    use serde_json::{Map, Value};

    let graph_id = results
        .get("graphId")
        .and_then(Value::as_str)
        .ok_or_else(|| missing("/graphId", &value_bytes(results)))?;
    let codes = results
        .get("generatedCodes")
        .and_then(Value::as_array)
        .ok_or_else(|| missing("/generatedCodes", &value_bytes(results)))?;
    let mut nodes: Map<String, Value> = Map::new();
    for (index, entry) in codes.iter().enumerate() {
        let node_id = entry.get("nodeId").and_then(Value::as_str).ok_or_else(|| {
            missing(
                &format!("/generatedCodes/{index}/nodeId"),
                &value_bytes(entry),
            )
        })?;
        let code = entry.get("code").and_then(Value::as_str).ok_or_else(|| {
            missing(
                &format!("/generatedCodes/{index}/code"),
                &value_bytes(entry),
            )
        })?;
        let slot = nodes
            .entry(node_id.to_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = slot {
            list.push(Value::String(code.to_owned()));
        }
    }
    let mut out = Map::new();
    out.insert(graph_id.to_owned(), Value::Object(nodes));
    Ok(Value::Object(out))
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

impl Interpret for Profile {
    fn name(&self) -> &str {
        &self.name
    }

    fn read_submission(
        &self,
        response: &http::Response<Bytes>,
        submit_url: &Url,
    ) -> Result<Submission, InterpretError> {
        let body = response.body();
        match &self.status_url {
            StatusUrlRule::Template { template } => {
                let job_id = if self.submit_id_pointers.is_empty() {
                    None
                } else {
                    Some(self.read_id(body)?)
                };
                let status_url = fill_template(template, job_id.as_deref(), submit_url)?;
                Ok(Submission {
                    job_id,
                    status_url,
                    results_url: None,
                })
            }
            StatusUrlRule::Headers { names } => {
                // The id is optional here (Azure has none): best effort.
                let job_id = if self.submit_id_pointers.is_empty() {
                    None
                } else {
                    self.read_id(body).ok()
                };
                let (chosen, value) = names
                    .iter()
                    .find_map(|name| response.headers().get(name.as_str()).map(|v| (name, v)))
                    .ok_or_else(|| InterpretError::MissingField {
                        pointer: format!("{} header", names.join(" / ")),
                        excerpt: excerpt(body),
                    })?;
                let status_url = header_url(value, submit_url)?;
                // The status came from an operation header: a `Location` alongside it
                // names the final resource. A malformed one is ignored rather than
                // failing a submit whose status URL is fine.
                let results_url = if chosen.eq_ignore_ascii_case("location") {
                    None
                } else {
                    response
                        .headers()
                        .get(http::header::LOCATION)
                        .and_then(|v| header_url(v, submit_url).ok())
                };
                Ok(Submission {
                    job_id,
                    status_url,
                    results_url,
                })
            }
        }
    }

    fn read_status(
        &self,
        response: &http::Response<Bytes>,
    ) -> Result<StatusReport, InterpretError> {
        self.read_status_wanting_id(response, true)
    }

    /// Without `wants_id`, `job_id` is always `None`.
    fn read_status_wanting_id(
        &self,
        response: &http::Response<Bytes>,
        wants_id: bool,
    ) -> Result<StatusReport, InterpretError> {
        // Filled in place: a report is 248 bytes, and each move is a copy.
        let mut report = StatusReport::default();
        match self.sparse_status(response.body(), wants_id, &mut report) {
            Some(Ok(())) => Ok(report),
            Some(Err(error)) => Err(error),
            None => self.read_status_by_tree(response).map(|mut report| {
                if !wants_id {
                    report.job_id = None;
                }
                report
            }),
        }
    }

    fn results_url(&self, job: JobRef<'_>) -> Option<Result<Url, InterpretError>> {
        let spec = self.results.as_ref()?;
        match &spec.url {
            Some(template) => Some(fill_template(template, job.job_id, job.status_url)),
            None => job.results_url.cloned().map(Ok),
        }
    }

    fn read_results(
        &self,
        response: &http::Response<Bytes>,
    ) -> Result<serde_json::Value, InterpretError> {
        let body = response.body().as_ref();
        // An empty results body (204, or a final GET with no content) reads as null.
        let doc = parse_json(body)?.unwrap_or(serde_json::Value::Null);
        let transform = self
            .results
            .as_ref()
            .map(|spec| spec.transform)
            .unwrap_or_default();
        match transform {
            ResultsTransform::AsIs => Ok(doc),
            ResultsTransform::CodegenByGraph => codegen_by_graph(&doc),
        }
    }

    fn cancel_request(
        &self,
        job: JobRef<'_>,
    ) -> Option<Result<(http::Method, Url), InterpretError>> {
        let spec = self.cancel.as_ref()?;
        let method =
            match http::Method::from_bytes(spec.method.trim().to_ascii_uppercase().as_bytes()) {
                Ok(method) => method,
                Err(_) => {
                    return Some(Err(InterpretError::BadUrl {
                        value: excerpt(spec.method.as_bytes()),
                        reason: "bad method".to_owned(),
                    }));
                }
            };
        Some(fill_template(&spec.url, job.job_id, job.status_url).map(|url| (method, url)))
    }

    fn not_found_means_pending(&self) -> bool {
        self.not_found_means_pending
    }
}

impl Profile {
    /// The reference way to read a status response: the whole body parsed into a
    /// `serde_json::Value`, then the pointers looked up in it.
    /// [`Interpret::read_status`] gives the same answer (the same report or the same
    /// error) for every body; for [`Completion::Status`] profiles without a
    /// `revision_pointer` it first tries a sparse read of the body that builds no
    /// tree, and comes here when serde_json refuses the body. Public for
    /// differential tests and fuzzing.
    #[doc(hidden)]
    pub fn read_status_by_tree(
        &self,
        response: &http::Response<Bytes>,
    ) -> Result<StatusReport, InterpretError> {
        let body = response.body().as_ref();
        let (doc, outcome) = match &self.completion {
            Completion::Status { pointer, values } => {
                let doc = parse_json(body)?.ok_or_else(|| not_json(body))?;
                let outcome = status_rule(&doc, body, Field { pointer, index: 0 }, values)?;
                (Some(doc), outcome)
            }
            Completion::FileTasks {
                url_pointer,
                tasks_pointer,
            } => {
                let doc = parse_json(body)?.ok_or_else(|| not_json(body))?;
                if !doc.is_object() {
                    return Err(missing(tasks_pointer, body));
                }
                let outcome = file_tasks_rule(&doc, url_pointer, tasks_pointer);
                (Some(doc), outcome)
            }
            Completion::GoogleOperation => {
                let doc = parse_json(body)?.ok_or_else(|| not_json(body))?;
                if !doc.is_object() {
                    return Err(missing("/done", body));
                }
                let outcome = google_rule(&doc);
                (Some(doc), outcome)
            }
            Completion::AzureOperation => azure_rule(response.status(), body)?,
        };
        Ok(self.report(doc, outcome))
    }

    /// The fast path of [`Interpret::read_status`]: serde_json reads the status
    /// body for the pointers the report needs, without building a
    /// `serde_json::Value` of the rest (see `sparse`). `None` when the profile is
    /// not one it handles or serde_json refuses the body: the tree read then gives
    /// the answer, error included.
    #[cfg(test)]
    fn read_status_sparse(&self, body: &[u8]) -> Option<Result<StatusReport, InterpretError>> {
        let mut report = StatusReport::default();
        Some(
            self.sparse_status(body, true, &mut report)?
                .map(|()| report),
        )
    }

    /// [`Profile::read_status_sparse`] into `report` (a default one), reading the
    /// job id only when `wants_id`. After `None` or an error, `report` means
    /// nothing.
    fn sparse_status(
        &self,
        body: &[u8],
        wants_id: bool,
        report: &mut StatusReport,
    ) -> Option<Result<(), InterpretError>> {
        let Completion::Status { pointer, values } = &self.completion else {
            return None;
        };
        if self.revision_pointer.is_some() {
            return None;
        }
        let cached = self
            .status_plan
            .0
            .get_or_init(|| StatusPlan::new(self))
            .as_ref()?;
        // The fields are public: a profile changed since its plan was built gets a
        // plan of its own for this read.
        let fresh;
        let plan = if cached.fits(self) {
            cached
        } else {
            fresh = StatusPlan::new(self)?;
            &fresh
        };
        let mut kept = sparse::Kept::default();
        let found = plan.tree.read(trim_body(body), &mut kept)?;
        let doc = Sparse {
            plan,
            found: &found,
        };
        let status = Field { pointer, index: 0 };
        Some(
            status_rule(doc, body, status, values)
                .map(|outcome| self.fill_report(doc, outcome, wants_id, report)),
        )
    }
}

/// The pointers a status report may read, compiled for the sparse read: the
/// status pointer (field 0), each submit id pointer, then the six optional
/// pointers of [`StatusPlan::optional`]'s order, each with its `|`-alternatives.
#[derive(Clone, Debug)]
struct StatusPlan {
    /// The pointers the plan was built from, field by field (`None` for an
    /// optional pointer that is not set).
    pointers: Vec<Option<Box<str>>>,
    /// The nodes of `tree` each field tries, in order: the pointer as written,
    /// then its alternatives (a pointer that can find nothing has no node).
    fields: Vec<Box<[usize]>>,
    tree: PointerTree,
}

impl StatusPlan {
    /// The optional pointers, in field order after the id pointers.
    fn optional(profile: &Profile) -> [Option<&str>; 6] {
        [
            profile.percentage_pointer.as_deref(),
            profile.step_pointer.as_deref(),
            profile.eta_pointer.as_deref(),
            profile.result_pointer.as_deref(),
            profile.error_message_pointer.as_deref(),
            profile.error_details_pointer.as_deref(),
        ]
    }

    /// The pointer of each field, in order.
    fn pointers(profile: &Profile) -> Option<impl Iterator<Item = Option<&str>>> {
        let Completion::Status { pointer, .. } = &profile.completion else {
            return None;
        };
        Some(
            core::iter::once(Some(pointer.as_str()))
                .chain(profile.submit_id_pointers.iter().map(|p| Some(p.as_str())))
                .chain(Self::optional(profile)),
        )
    }

    /// The plan for `profile`'s pointers; `None` for a profile that is not read
    /// by a status pointer.
    fn new(profile: &Profile) -> Option<StatusPlan> {
        let mut pointers = Vec::new();
        let mut counts = Vec::new();
        let mut tried: Vec<&str> = Vec::new();
        for pointer in Self::pointers(profile)? {
            pointers.push(pointer.map(Box::from));
            let before = tried.len();
            if let Some(pointer) = pointer {
                tried.push(pointer);
                tried.extend(alternatives(pointer).into_iter().flatten());
            }
            counts.push(tried.len() - before);
        }
        let (tree, ends) = PointerTree::new(tried);
        let mut ends = ends.into_iter();
        let fields = counts
            .into_iter()
            .map(|count| ends.by_ref().take(count).flatten().collect())
            .collect();
        Some(StatusPlan {
            pointers,
            fields,
            tree,
        })
    }

    /// Whether the plan was built from `profile`'s pointers as they are now.
    /// Checked on every read, so written out field by field rather than with
    /// [`StatusPlan::pointers`]' chain of iterators.
    fn fits(&self, profile: &Profile) -> bool {
        let Completion::Status { pointer, .. } = &profile.completion else {
            return false;
        };
        let ids = &profile.submit_id_pointers;
        let optional = Self::optional(profile);
        let Some((status, rest)) = self.pointers.split_first() else {
            return false;
        };
        if rest.len() != ids.len() + optional.len() {
            return false;
        }
        let (built_ids, built_optional) = rest.split_at(ids.len());
        status.as_deref() == Some(pointer.as_str())
            && built_ids
                .iter()
                .zip(ids)
                .all(|(was, now)| was.as_deref() == Some(now.as_str()))
            && built_optional
                .iter()
                .zip(optional)
                .all(|(was, now)| was.as_deref() == now)
    }

    /// The nodes field `index` tries, in order.
    fn tried(&self, index: usize) -> &[usize] {
        self.fields.get(index).map_or(&[], |nodes| nodes)
    }
}

// ---------------------------------------------------------------------------------
// Status interpretation.

/// What a completion rule reads from a status response; the profile's pointers fill
/// in the rest (and win over the `default_*` values, which apply only when the
/// corresponding pointer is not configured or finds nothing).
struct Outcome {
    state: JobState,
    status: String,
    /// Used on success when the profile has no `result_pointer`.
    default_result: Option<serde_json::Value>,
    /// Used on failure when `error_message_pointer` finds no string.
    default_message: Option<String>,
    /// Used on failure when `error_details_pointer` finds nothing.
    default_details: Option<serde_json::Value>,
}

impl Outcome {
    fn new(state: JobState, status: impl Into<String>) -> Outcome {
        Outcome {
            state,
            status: status.into(),
            default_result: None,
            default_message: None,
            default_details: None,
        }
    }
}

impl Profile {
    fn report(&self, doc: Option<serde_json::Value>, outcome: Outcome) -> StatusReport {
        let Some(doc) = doc else {
            return StatusReport {
                state: Some(outcome.state),
                status: outcome.status,
                result: outcome.default_result,
                ..StatusReport::default()
            };
        };
        let mut report = self.report_from(&doc, outcome, true);
        if let Some(pointer) = self.revision_pointer.as_deref() {
            report.revision = find(&doc, pointer, revision_of);
            report.body = Some(doc);
        }
        report
    }

    /// The report from a status body however its pointers are looked up: the one
    /// set of rules for the parsed tree and for the sparse read. The job id is read only
    /// when `wants_id`.
    fn report_from<'a>(
        &self,
        doc: impl Lookup<'a>,
        outcome: Outcome,
        wants_id: bool,
    ) -> StatusReport {
        let mut report = StatusReport::default();
        self.fill_report(doc, outcome, wants_id, &mut report);
        report
    }

    /// [`Profile::report_from`] into `report`, a default one.
    fn fill_report<'a>(
        &self,
        doc: impl Lookup<'a>,
        outcome: Outcome,
        wants_id: bool,
        report: &mut StatusReport,
    ) {
        report.state = Some(outcome.state);
        report.status = outcome.status;
        // Fields in the order of `StatusPlan`: the status, the ids, then the rest.
        if wants_id {
            report.job_id = self
                .submit_id_pointers
                .iter()
                .enumerate()
                .find_map(|(at, pointer)| doc.find(Field::new(pointer, 1 + at), id_text));
        }
        let base = 1 + self.submit_id_pointers.len();
        fn field(pointer: &Option<String>, index: usize) -> Option<Field<'_>> {
            pointer.as_deref().map(|pointer| Field::new(pointer, index))
        }
        report.percentage = field(&self.percentage_pointer, base)
            .and_then(|p| doc.find(p, lenient_f64))
            .map(|p| p.clamp(0.0, 100.0));
        report.step = field(&self.step_pointer, base + 1)
            .and_then(|p| doc.find(p, Node::into_str))
            .map(str::to_owned);
        report.eta = field(&self.eta_pointer, base + 2)
            .and_then(|p| doc.find(p, |v| lenient_f64(v).filter(|s| *s >= 0.0)))
            .map(crate::time::duration_from_secs_f64);
        match outcome.state {
            JobState::Running => {}
            JobState::Succeeded => {
                report.result = match field(&self.result_pointer, base + 3) {
                    Some(p) => doc.find(p, non_null),
                    None => outcome.default_result,
                };
            }
            JobState::Failed | JobState::Cancelled => {
                let message = field(&self.error_message_pointer, base + 4)
                    .and_then(|p| doc.find(p, Node::into_str))
                    .map(str::to_owned)
                    .or(outcome.default_message);
                report.error_message = match (outcome.state, message) {
                    (_, Some(message)) => Some(message),
                    (JobState::Failed, None) => Some("the job failed".to_owned()),
                    (_, None) => None,
                };
                report.error_details = field(&self.error_details_pointer, base + 5)
                    .and_then(|p| doc.find(p, non_null))
                    .or(outcome.default_details);
            }
        }
    }
}

fn status_rule<'a>(
    doc: impl Lookup<'a>,
    body: &[u8],
    pointer: Field<'_>,
    values: &StatusValues,
) -> Result<Outcome, InterpretError> {
    let raw = doc
        .find(pointer, Node::into_str)
        .ok_or_else(|| missing(pointer.pointer, body))?;
    let is_in = |set: &[String]| set.iter().any(|v| v.eq_ignore_ascii_case(raw));
    let state = if is_in(&values.running) {
        JobState::Running
    } else if is_in(&values.succeeded) {
        JobState::Succeeded
    } else if is_in(&values.failed) {
        JobState::Failed
    } else if is_in(&values.cancelled) {
        JobState::Cancelled
    } else {
        return Err(InterpretError::UnknownStatus {
            value: excerpt(raw.as_bytes()),
        });
    };
    Ok(Outcome::new(state, raw))
}

fn file_tasks_rule(doc: &serde_json::Value, url_pointer: &str, tasks_pointer: &str) -> Outcome {
    use serde_json::Value;

    let has_url = find(doc, url_pointer, |v| v.as_str().filter(|s| !s.is_empty())).is_some();
    if has_url {
        let mut outcome = Outcome::new(JobState::Succeeded, "ready");
        outcome.default_result = Some(doc.clone());
        return outcome;
    }
    let tasks: &[Value] = find(doc, tasks_pointer, Value::as_array).map_or(&[], Vec::as_slice);
    let Some(latest) = tasks.last() else {
        return Outcome::new(JobState::Running, "pending");
    };
    let latest_status = task_status(latest).unwrap_or("pending");
    if latest_status.eq_ignore_ascii_case("error") {
        let mut outcome = Outcome::new(JobState::Failed, latest_status);
        outcome.default_message = Some(match latest.get("id").map(Node::Tree).and_then(id_text) {
            Some(id) => format!("the latest task failed (task {})", excerpt(id.as_bytes())),
            None => "the latest task failed".to_owned(),
        });
        outcome.default_details = Some(latest.clone());
        return outcome;
    }
    let all_completed = tasks
        .iter()
        .all(|task| task_status(task).is_some_and(|s| s.eq_ignore_ascii_case("completed")));
    if all_completed {
        let mut outcome = Outcome::new(JobState::Succeeded, latest_status);
        outcome.default_result = Some(doc.clone());
        return outcome;
    }
    Outcome::new(JobState::Running, latest_status)
}

/// A file task's status string.
fn task_status(task: &serde_json::Value) -> Option<&str> {
    task.get("status").and_then(serde_json::Value::as_str)
}

fn google_rule(doc: &serde_json::Value) -> Outcome {
    use serde_json::Value;

    let done = doc.get("done").and_then(Value::as_bool).unwrap_or(false);
    if !done {
        return Outcome::new(JobState::Running, "running");
    }
    match doc.get("error").filter(|e| !e.is_null()) {
        None => Outcome::new(JobState::Succeeded, "done"),
        Some(error) => {
            let cancelled = error.get("code").and_then(Value::as_i64) == Some(1)
                || error
                    .get("status")
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.eq_ignore_ascii_case("CANCELLED"));
            let state = if cancelled {
                JobState::Cancelled
            } else {
                JobState::Failed
            };
            Outcome::new(state, "done")
        }
    }
}

fn azure_rule(
    code: http::StatusCode,
    body: &[u8],
) -> Result<(Option<serde_json::Value>, Outcome), InterpretError> {
    let accepted = code == http::StatusCode::ACCEPTED;
    let doc = match parse_json(body) {
        Ok(doc) => doc,
        // `Location` polling: a 202 says "not yet" whatever its body is.
        Err(_) if accepted => return Ok((None, Outcome::new(JobState::Running, "Accepted"))),
        Err(error) => return Err(error),
    };
    let status = doc.as_ref().and_then(|doc| {
        find(doc, "/status", serde_json::Value::as_str).or_else(|| {
            find(
                doc,
                "/properties/provisioningState",
                serde_json::Value::as_str,
            )
        })
    });
    let outcome = match status {
        Some(raw) => {
            // Azure's guidelines: only the terminal values end the operation, and
            // any other value (documented or not) means it is still going. Some
            // services say `Completed`/`Complete` for success.
            let state = if ["succeeded", "completed", "complete"]
                .iter()
                .any(|word| raw.eq_ignore_ascii_case(word))
            {
                JobState::Succeeded
            } else if raw.eq_ignore_ascii_case("failed") {
                JobState::Failed
            } else if raw.eq_ignore_ascii_case("canceled") || raw.eq_ignore_ascii_case("cancelled")
            {
                JobState::Cancelled
            } else {
                JobState::Running
            };
            let mut outcome = Outcome::new(state, raw);
            outcome.default_result = doc.clone();
            outcome
        }
        None if accepted => Outcome::new(JobState::Running, "Accepted"),
        None => {
            let mut outcome = Outcome::new(JobState::Succeeded, "Succeeded");
            outcome.default_result = doc.clone();
            outcome
        }
    };
    Ok((doc, outcome))
}

// ---------------------------------------------------------------------------------
// JSON helpers.

/// The body without a UTF-8 byte order mark and surrounding ASCII whitespace: the
/// text that is read as JSON.
fn trim_body(body: &[u8]) -> &[u8] {
    body.strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(body)
        .trim_ascii()
}

/// The body as JSON; `None` when it is empty (or only whitespace / a BOM).
fn parse_json(body: &[u8]) -> Result<Option<serde_json::Value>, InterpretError> {
    let trimmed = trim_body(body);
    if trimmed.is_empty() {
        return Ok(None);
    }
    // Checking UTF-8 once, then reading a `str`, is cheaper than serde_json's
    // check of every string, and refuses the same bodies.
    let text = std::str::from_utf8(trimmed).map_err(|_| not_json(body))?;
    serde_json::from_str(text)
        .map(Some)
        .map_err(|_| not_json(body))
}

fn not_json(body: &[u8]) -> InterpretError {
    InterpretError::NotJson {
        excerpt: excerpt(body),
    }
}

fn missing(pointer: &str, body: &[u8]) -> InterpretError {
    InterpretError::MissingField {
        pointer: pointer.to_owned(),
        excerpt: excerpt(body),
    }
}

/// A value's compact JSON, for excerpts (only on error paths).
fn value_bytes(value: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// The alternatives tried after `pointer` itself: when it contains `|`, each
/// `|`-separated part in order (`/result_data|/result`).
fn alternatives(pointer: &str) -> Option<core::str::Split<'_, char>> {
    pointer.contains('|').then(|| pointer.split('|'))
}

/// The first value that `accept` takes at `pointer` as written, or else at its
/// [`alternatives`].
fn find<'v, T>(
    doc: &'v serde_json::Value,
    pointer: &str,
    accept: impl Fn(&'v serde_json::Value) -> Option<T>,
) -> Option<T> {
    let try_one = |p: &str| json_pointer(doc, p).and_then(&accept);
    try_one(pointer).or_else(|| alternatives(pointer)?.find_map(try_one))
}

/// [`find`], with `accept` taking a [`Node`].
fn find_in<'v, T>(
    doc: &'v serde_json::Value,
    pointer: &str,
    accept: impl Fn(Node<'v>) -> Option<T>,
) -> Option<T> {
    find(doc, pointer, |value| accept(Node::Tree(value)))
}

/// A pointer of a profile as a report reads it: its text, and its place among the
/// fields of a [`StatusPlan`].
#[derive(Clone, Copy)]
struct Field<'p> {
    pointer: &'p str,
    index: usize,
}

impl<'p> Field<'p> {
    fn new(pointer: &'p str, index: usize) -> Field<'p> {
        Field { pointer, index }
    }
}

/// How a status body's pointers are looked up: in the parsed tree, or in what the
/// sparse read found.
trait Lookup<'a>: Copy {
    /// The first value that `accept` takes at `field`'s pointer as written, or else
    /// at its [`alternatives`].
    fn find<T>(self, field: Field<'_>, accept: impl Fn(Node<'a>) -> Option<T>) -> Option<T>;
}

impl<'a> Lookup<'a> for &'a serde_json::Value {
    fn find<T>(self, field: Field<'_>, accept: impl Fn(Node<'a>) -> Option<T>) -> Option<T> {
        find_in(self, field.pointer, accept)
    }
}

/// The values a sparse read found, with the plan that says which field tries
/// which of them.
#[derive(Clone, Copy)]
struct Sparse<'a, 'de> {
    plan: &'a StatusPlan,
    found: &'a sparse::Found<'a, 'a, 'de>,
}

impl<'a, 'de: 'a> Lookup<'a> for Sparse<'a, 'de> {
    fn find<T>(self, field: Field<'_>, accept: impl Fn(Node<'a>) -> Option<T>) -> Option<T> {
        // The plan's nodes for the field are its pointer and alternatives, in order.
        self.plan
            .tried(field.index)
            .iter()
            .find_map(|&node| self.found.at(node).and_then(&accept))
    }
}

/// One value of a status body: a node of a parsed tree, or a scalar the sparse
/// read kept.
#[derive(Clone, Copy)]
enum Node<'a> {
    /// A node of a parsed tree (the whole body's, or a value the sparse read kept).
    Tree(&'a serde_json::Value),
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(&'a serde_json::Number),
    /// A string, decoded.
    String(&'a str),
}

impl<'a> Node<'a> {
    fn is_null(self) -> bool {
        matches!(self, Node::Null | Node::Tree(serde_json::Value::Null))
    }

    fn number(self) -> Option<&'a serde_json::Number> {
        match self {
            Node::Tree(serde_json::Value::Number(n)) | Node::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The string, as `serde_json::Value::as_str`.
    fn into_str(self) -> Option<&'a str> {
        match self {
            Node::Tree(serde_json::Value::String(s)) => Some(s),
            Node::String(s) => Some(s),
            _ => None,
        }
    }

    fn into_value(self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Node::Tree(value) => value.clone(),
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(b),
            Node::Number(n) => Value::Number(n.clone()),
            Node::String(s) => Value::String(s.to_owned()),
        }
    }
}

/// A pointer's segment as RFC 6901 reads it: `~1` is `/`, then `~0` is `~`.
fn decode_segment(segment: &str) -> Cow<'_, str> {
    if segment.contains('~') {
        Cow::Owned(segment.replace("~1", "/").replace("~0", "~"))
    } else {
        Cow::Borrowed(segment)
    }
}

/// The array index a decoded segment names: decimal digits, no sign, no leading
/// zero unless it is `0`.
fn array_index(segment: &str) -> Option<usize> {
    let leading_zero = segment.len() > 1 && segment.starts_with('0');
    if leading_zero || segment.starts_with('+') {
        return None;
    }
    segment.parse().ok()
}

/// One step of a pointer lookup: the member `segment` (decoded) of an object, or
/// the element it names in an array.
fn step<'v>(target: &'v serde_json::Value, segment: &str) -> Option<&'v serde_json::Value> {
    match target {
        serde_json::Value::Object(map) => map.get(segment),
        serde_json::Value::Array(list) => list.get(array_index(segment)?),
        _ => None,
    }
}

/// RFC 6901 lookup, as `serde_json::Value::pointer`, but without allocating for
/// segments that hold no escape.
fn json_pointer<'v>(doc: &'v serde_json::Value, pointer: &str) -> Option<&'v serde_json::Value> {
    if pointer.is_empty() {
        return Some(doc);
    }
    pointer
        .strip_prefix('/')?
        .split('/')
        .try_fold(doc, |target, segment| {
            step(target, &decode_segment(segment))
        })
}

/// Any value but `null`.
fn non_null(node: Node<'_>) -> Option<serde_json::Value> {
    (!node.is_null()).then(|| node.into_value())
}

/// A number, or a string holding one; never NaN.
fn lenient_f64(node: Node<'_>) -> Option<f64> {
    let number = match node.number() {
        Some(n) => n.as_f64(),
        None => node.into_str()?.trim().parse::<f64>().ok(),
    };
    number.filter(|n| !n.is_nan())
}

/// An id: a non-empty string, or an integer in decimal.
fn id_text(node: Node<'_>) -> Option<String> {
    if let Some(n) = node.number() {
        return (n.is_i64() || n.is_u64()).then(|| n.to_string());
    }
    node.into_str().filter(|s| !s.is_empty()).map(str::to_owned)
}

/// An array's length, or a count given as a non-negative integer.
fn revision_of(value: &serde_json::Value) -> Option<u64> {
    match value {
        serde_json::Value::Array(items) => u64::try_from(items.len()).ok(),
        other => other.as_u64(),
    }
}

// ---------------------------------------------------------------------------------
// URL helpers.

fn bad_url(value: &str, reason: &str) -> InterpretError {
    InterpretError::BadUrl {
        value: excerpt(value.as_bytes()),
        reason: reason.to_owned(),
    }
}

/// `id` percent-encoded: everything but the unreserved characters (and `/` when
/// `keep_slash`) becomes `%XX`.
fn percent_encode(id: &str, keep_slash: bool) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(id.len());
    for &byte in id.as_bytes() {
        if byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && byte == b'/')
        {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0F)]));
        }
    }
    out
}

/// `{id}`: one path segment. `.` and `..` would be dot segments after encoding
/// (they are unreserved), so they are refused like the empty id.
fn encode_segment(id: &str) -> Result<String, InterpretError> {
    if id.is_empty() || id == "." || id == ".." {
        return Err(bad_url(id, "the job id is not a usable path segment"));
    }
    Ok(percent_encode(id, false))
}

/// `{id_path}`: `/`-separated segments, none empty, `.` or `..`.
fn encode_path(id: &str) -> Result<String, InterpretError> {
    if id
        .split('/')
        .any(|segment| segment.is_empty() || segment == "." || segment == "..")
    {
        return Err(bad_url(id, "the job id path has an empty or dot segment"));
    }
    Ok(percent_encode(id, true))
}

/// A template filled with `id` and resolved against `base`; see [`Template`].
pub(crate) fn fill_template(
    template: &str,
    id: Option<&str>,
    base: &Url,
) -> Result<Url, InterpretError> {
    let wants_path = template.contains("{id_path}");
    let wants_segment = template.contains("{id}");
    let mut filled = template.to_owned();
    if wants_path || wants_segment {
        let Some(id) = id else {
            return Err(InterpretError::MissingField {
                pointer: "job id".to_owned(),
                excerpt: excerpt(template.as_bytes()),
            });
        };
        if wants_path {
            filled = filled.replace("{id_path}", &encode_path(id)?);
        }
        if wants_segment {
            filled = filled.replace("{id}", &encode_segment(id)?);
        }
    }
    resolve_template(&filled, base)
}

/// A filled template against `base`: `/...` against its origin, an absolute URL as
/// is, anything else as a child of `base`'s path.
fn resolve_template(reference: &str, base: &Url) -> Result<Url, InterpretError> {
    let url = if reference.starts_with('/') {
        let origin = base.origin();
        if !origin.is_tuple() {
            return Err(bad_url(base.as_str(), "the base URL has no origin"));
        }
        Url::parse(&format!("{}{reference}", origin.ascii_serialization()))
            .map_err(|e| bad_url(reference, &e.to_string()))?
    } else {
        match Url::parse(reference) {
            Ok(url) => url,
            Err(url::ParseError::RelativeUrlWithoutBase) => {
                let mut parent = base.clone();
                parent.set_query(None);
                parent.set_fragment(None);
                if !parent.path().ends_with('/') {
                    let path = format!("{}/", parent.path());
                    parent.set_path(&path);
                }
                parent
                    .join(reference)
                    .map_err(|e| bad_url(reference, &e.to_string()))?
            }
            Err(e) => return Err(bad_url(reference, &e.to_string())),
        }
    };
    require_http(url)
}

/// A header naming a URL, resolved against `base` as an RFC 3986 reference.
fn header_url(value: &http::HeaderValue, base: &Url) -> Result<Url, InterpretError> {
    let text = value
        .to_str()
        .map_err(|_| {
            bad_url(
                &String::from_utf8_lossy(value.as_bytes()),
                "the header is not valid text",
            )
        })?
        .trim();
    if text.is_empty() {
        return Err(bad_url(text, "the header is empty"));
    }
    let url = base.join(text).map_err(|e| bad_url(text, &e.to_string()))?;
    require_http(url)
}

fn require_http(url: Url) -> Result<Url, InterpretError> {
    match url.scheme() {
        "http" | "https" if url.has_host() => Ok(url),
        _ => Err(bad_url(url.as_str(), "not an http(s) URL")),
    }
}

#[cfg(test)]
mod tests {
    use core::time::Duration;

    use bytes::Bytes;
    use serde_json::{Value, json};
    use url::Url;

    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).expect("test URL")
    }

    fn response(code: u16, headers: &[(&str, &str)], body: &str) -> http::Response<Bytes> {
        let mut builder = http::Response::builder().status(code);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder
            .body(Bytes::from(body.to_owned()))
            .expect("test response")
    }

    fn ok(body: &str) -> http::Response<Bytes> {
        response(200, &[("content-type", "application/json")], body)
    }

    fn status(profile: &Profile, body: &str) -> StatusReport {
        profile.read_status(&ok(body)).expect("status reads")
    }

    fn status_err(profile: &Profile, body: &str) -> InterpretError {
        profile
            .read_status(&ok(body))
            .expect_err("status must not read")
    }

    fn job<'a>(id: Option<&'a str>, status_url: &'a Url) -> JobRef<'a> {
        JobRef {
            job_id: id,
            status_url,
            results_url: None,
        }
    }

    // ----- jobs ------------------------------------------------------------------

    #[test]
    fn jobs_submit_gives_id_and_status_url() {
        let profile = Profile::jobs();
        let submit = url("https://api.example.com/api/v1/video-generation-job");
        let sub = profile
            .read_submission(&ok(r#"{"job_id":"job_abc123","status":"queued"}"#), &submit)
            .expect("submission");
        assert_eq!(sub.job_id.as_deref(), Some("job_abc123"));
        assert_eq!(
            sub.status_url.as_str(),
            "https://api.example.com/api/v1/jobs/job_abc123"
        );
        assert_eq!(sub.results_url, None);
    }

    #[test]
    fn jobs_submit_keeps_port_and_drops_path_and_query() {
        let profile = Profile::jobs();
        let submit = url("http://localhost:8080/prefix/api/v1/ads-job?x=1");
        let sub = profile
            .read_submission(&ok(r#"{"job_id":"j1"}"#), &submit)
            .expect("submission");
        assert_eq!(
            sub.status_url.as_str(),
            "http://localhost:8080/api/v1/jobs/j1"
        );
    }

    #[test]
    fn jobs_each_status_value_maps_to_a_state() {
        let profile = Profile::jobs();
        for (value, state) in [
            ("queued", JobState::Running),
            ("processing", JobState::Running),
            ("completed", JobState::Succeeded),
            ("failed", JobState::Failed),
            ("cancelled", JobState::Cancelled),
            ("PROCESSING", JobState::Running),
        ] {
            let report = status(&profile, &format!(r#"{{"job_id":"j","status":"{value}"}}"#));
            assert_eq!(report.state, Some(state), "{value}");
            assert_eq!(report.status, value);
        }
    }

    #[test]
    fn jobs_progress_step_and_eta_are_extracted() {
        let profile = Profile::jobs();
        let report = status(
            &profile,
            r#"{"job_id":"job_abc123","status":"processing","type":"video_generation",
                "created_at":"2024-01-15T10:00:00Z","completed_at":null,
                "progress_data":{"percentage":45,"current_step":"Generating scene 3 of 7",
                "estimated_time_remaining":120}}"#,
        );
        assert_eq!(report.state, Some(JobState::Running));
        assert_eq!(report.percentage, Some(45.0));
        assert_eq!(report.step.as_deref(), Some("Generating scene 3 of 7"));
        assert_eq!(report.eta, Some(Duration::from_secs(120)));
        assert_eq!(report.result, None);
        assert_eq!(report.error_message, None);
        assert_eq!(report.revision, None);
        assert_eq!(report.body, None);
    }

    #[test]
    fn jobs_progress_is_clamped_and_lenient() {
        let profile = Profile::jobs();
        let r = status(
            &profile,
            r#"{"status":"processing","progress_data":{"percentage":250,"estimated_time_remaining":-5}}"#,
        );
        assert_eq!(r.percentage, Some(100.0));
        assert_eq!(r.eta, None);
        let r = status(
            &profile,
            r#"{"status":"processing","progress_data":{"percentage":"-3","estimated_time_remaining":"1.5"}}"#,
        );
        assert_eq!(r.percentage, Some(0.0));
        assert_eq!(r.eta, Some(Duration::from_millis(1500)));
        let r = status(
            &profile,
            r#"{"status":"processing","progress_data":{"percentage":"NaN","current_step":7,"estimated_time_remaining":"soon"}}"#,
        );
        assert_eq!(r.percentage, None);
        assert_eq!(r.step, None);
        assert_eq!(r.eta, None);
        let r = status(&profile, r#"{"status":"processing","progress_data":"45%"}"#);
        assert_eq!(r.percentage, None);
        let r = status(
            &profile,
            r#"{"status":"processing","progress_data":{"percentage":1e308,"estimated_time_remaining":1e308}}"#,
        );
        assert_eq!(r.percentage, Some(100.0));
        assert_eq!(r.eta, Some(Duration::from_micros(u64::MAX)));
    }

    #[test]
    fn jobs_result_is_result_data_then_result() {
        let profile = Profile::jobs();
        let r = status(
            &profile,
            r#"{"status":"completed","result_data":{"ads":[1,2]},"result":"old"}"#,
        );
        assert_eq!(r.result, Some(json!({"ads": [1, 2]})));
        let r = status(
            &profile,
            r#"{"status":"completed","result_data":null,"result":{"x":1}}"#,
        );
        assert_eq!(r.result, Some(json!({"x": 1})));
        let r = status(&profile, r#"{"status":"completed"}"#);
        assert_eq!(r.state, Some(JobState::Succeeded));
        assert_eq!(r.result, None);
    }

    #[test]
    fn jobs_failure_message_and_details() {
        let profile = Profile::jobs();
        let r = status(
            &profile,
            r#"{"status":"failed","error_data":{"message":"GPU out of memory","details":{"scene":3}}}"#,
        );
        assert_eq!(r.state, Some(JobState::Failed));
        assert_eq!(r.error_message.as_deref(), Some("GPU out of memory"));
        assert_eq!(r.error_details, Some(json!({"scene": 3})));
        assert_eq!(r.result, None);
        let r = status(
            &profile,
            r#"{"status":"failed","error_data":{"message":42}}"#,
        );
        assert_eq!(r.error_message.as_deref(), Some("the job failed"));
        assert_eq!(r.error_details, None);
        let r = status(&profile, r#"{"status":"cancelled"}"#);
        assert_eq!(r.state, Some(JobState::Cancelled));
        assert_eq!(r.error_message, None);
    }

    #[test]
    fn jobs_cancel_request_and_no_results_step() {
        let profile = Profile::jobs();
        let status_url = url("https://api.example.com/api/v1/jobs/job_abc123");
        let (method, cancel) = profile
            .cancel_request(job(Some("job_abc123"), &status_url))
            .expect("has cancel")
            .expect("cancel builds");
        assert_eq!(method, http::Method::POST);
        assert_eq!(
            cancel.as_str(),
            "https://api.example.com/api/v1/jobs/job_abc123/cancel"
        );
        assert!(
            profile
                .results_url(job(Some("job_abc123"), &status_url))
                .is_none()
        );
        assert!(!profile.not_found_means_pending());
        assert_eq!(profile.name(), "jobs");
    }

    #[test]
    fn invalid_utf8_in_a_string_is_not_json() {
        let body = Bytes::from_static(b"{\"status\":\"process\xffing\"}");
        let response = http::Response::new(body);
        let error = Profile::jobs().read_status(&response).unwrap_err();
        assert!(matches!(error, InterpretError::NotJson { .. }), "{error:?}");
    }

    #[test]
    fn cancel_without_job_id_is_missing_field() {
        let profile = Profile::jobs();
        let status_url = url("https://api.example.com/api/v1/jobs/x");
        let err = profile
            .cancel_request(job(None, &status_url))
            .expect("has cancel")
            .expect_err("no id");
        assert!(
            matches!(err, InterpretError::MissingField { ref pointer, .. } if pointer == "job id")
        );
    }

    #[test]
    fn cancel_method_is_parsed() {
        let mut profile = Profile::jobs();
        let status_url = url("https://api.example.com/api/v1/jobs/x");
        profile.cancel = Some(CancelSpec {
            method: "delete".to_owned(),
            url: "/api/v1/jobs/{id}".to_owned(),
        });
        let (method, _) = profile
            .cancel_request(job(Some("x"), &status_url))
            .expect("cancel")
            .expect("ok");
        assert_eq!(method, http::Method::DELETE);
        profile.cancel = Some(CancelSpec {
            method: "PO ST".to_owned(),
            url: "/x".to_owned(),
        });
        let err = profile
            .cancel_request(job(Some("x"), &status_url))
            .expect("cancel")
            .expect_err("bad");
        assert!(matches!(err, InterpretError::BadUrl { ref reason, .. } if reason == "bad method"));
    }

    // ----- codegen ---------------------------------------------------------------

    #[test]
    fn codegen_submit_accepts_both_id_spellings() {
        let profile = Profile::codegen();
        let submit = url("https://kubegram.example/api/v1/public/graph/codegen");
        for body in [r#"{"jobId":"job-456"}"#, r#"{"job_id":"job-456"}"#] {
            let sub = profile
                .read_submission(&ok(body), &submit)
                .expect("submission");
            assert_eq!(sub.job_id.as_deref(), Some("job-456"));
            assert_eq!(
                sub.status_url.as_str(),
                "https://kubegram.example/api/v1/public/graph/codegen/job-456/status"
            );
        }
        let sub = profile
            .read_submission(&ok(r#"{"jobId": 789}"#), &submit)
            .expect("int id");
        assert_eq!(sub.job_id.as_deref(), Some("789"));
    }

    #[test]
    fn codegen_statuses_and_failure() {
        let profile = Profile::codegen();
        for (value, state) in [
            ("pending", JobState::Running),
            ("running", JobState::Running),
            ("completed", JobState::Succeeded),
            ("failed", JobState::Failed),
        ] {
            let r = status(
                &profile,
                &format!(r#"{{"jobId":"job-456","status":"{value}"}}"#),
            );
            assert_eq!(r.state, Some(state));
            assert_eq!(r.result, None, "codegen results come from the results step");
        }
        let r = status(
            &profile,
            r#"{"jobId":"j","status":"failed","error":"LLM quota exceeded"}"#,
        );
        assert_eq!(r.error_message.as_deref(), Some("LLM quota exceeded"));
        let r = status(
            &profile,
            r#"{"jobId":"j","status":"failed","message":"graph invalid"}"#,
        );
        assert_eq!(r.error_message.as_deref(), Some("graph invalid"));
        let r = status(
            &profile,
            r#"{"jobId":"j","status":"failed","error":{"message":"nested"}}"#,
        );
        assert_eq!(r.error_message.as_deref(), Some("nested"));
        assert_eq!(r.error_details, Some(json!({"message": "nested"})));
        let r = status(&profile, r#"{"jobId":"j","status":"failed"}"#);
        assert_eq!(r.error_message.as_deref(), Some("the job failed"));
        assert!(matches!(
            status_err(&profile, r#"{"jobId":"j","status":"cancelled"}"#),
            InterpretError::UnknownStatus { ref value } if value == "cancelled"
        ));
    }

    #[test]
    fn codegen_results_url_and_no_cancel() {
        let profile = Profile::codegen();
        let status_url = url("https://kubegram.example/api/v1/public/graph/codegen/job-456/status");
        let results = profile
            .results_url(job(Some("job-456"), &status_url))
            .expect("step")
            .expect("url");
        assert_eq!(
            results.as_str(),
            "https://kubegram.example/api/v1/public/graph/codegen/job-456/results"
        );
        assert!(
            profile
                .cancel_request(job(Some("job-456"), &status_url))
                .is_none()
        );
        let err = profile
            .results_url(job(None, &status_url))
            .expect("step")
            .expect_err("no id");
        assert!(
            matches!(err, InterpretError::MissingField { ref pointer, .. } if pointer == "job id")
        );
    }

    #[test]
    fn codegen_results_are_reshaped_by_graph() {
        let profile = Profile::codegen();
        let body = r#"{
            "graphId": "graph-123",
            "jobId": "job-456",
            "timestamp": "2026-02-06T12:00:00Z",
            "generatedCodes": [
                {"nodeId": "node-1", "code": "import React from 'react';", "language": "javascript", "framework": "react"},
                {"nodeId": "node-2", "code": "apiVersion: v1"},
                {"nodeId": "node-1", "code": "export default App;"}
            ],
            "summary": {"totalNodes": 2, "successfulGenerations": 2, "failedGenerations": 0}
        }"#;
        let reshaped = profile.read_results(&ok(body)).expect("results");
        assert_eq!(
            reshaped,
            json!({"graph-123": {
                "node-1": ["import React from 'react';", "export default App;"],
                "node-2": ["apiVersion: v1"]
            }})
        );
        let empty =
            codegen_by_graph(&json!({"graphId": "g", "generatedCodes": []})).expect("empty");
        assert_eq!(empty, json!({"g": {}}));
    }

    #[test]
    fn codegen_by_graph_names_missing_fields() {
        let pointer_of = |value: Value| match codegen_by_graph(&value) {
            Err(InterpretError::MissingField { pointer, .. }) => pointer,
            other => panic!("expected MissingField, got {other:?}"),
        };
        assert_eq!(pointer_of(json!({"generatedCodes": []})), "/graphId");
        assert_eq!(
            pointer_of(json!({"graphId": 5, "generatedCodes": []})),
            "/graphId"
        );
        assert_eq!(pointer_of(json!({"graphId": "g"})), "/generatedCodes");
        assert_eq!(
            pointer_of(
                json!({"graphId": "g", "generatedCodes": [{"nodeId": "a", "code": "x"}, {"nodeId": "b", "code": 1}]})
            ),
            "/generatedCodes/1/code"
        );
        assert_eq!(
            pointer_of(json!({"graphId": "g", "generatedCodes": [{"code": "x"}]})),
            "/generatedCodes/0/nodeId"
        );
        assert_eq!(pointer_of(json!([1, 2])), "/graphId");
        let profile = Profile::codegen();
        assert!(matches!(
            profile.read_results(&ok("")),
            Err(InterpretError::MissingField { .. })
        ));
        assert!(matches!(
            profile.read_results(&ok("<html>")),
            Err(InterpretError::NotJson { .. })
        ));
    }

    // ----- file tasks ------------------------------------------------------------

    #[test]
    fn file_tasks_submit_and_flags() {
        let profile = Profile::file_tasks();
        assert!(profile.not_found_means_pending());
        let sub = profile
            .read_submission(
                &ok(r#"{"id":"file_9"}"#),
                &url("https://app.example/api/generate/image"),
            )
            .expect("submission");
        assert_eq!(
            sub.status_url.as_str(),
            "https://app.example/api/file/file_9"
        );
        let status_url = sub.status_url.clone();
        assert!(
            profile
                .results_url(job(Some("file_9"), &status_url))
                .is_none()
        );
        assert!(
            profile
                .cancel_request(job(Some("file_9"), &status_url))
                .is_none()
        );
    }

    #[test]
    fn file_tasks_url_means_done_with_the_whole_body() {
        let profile = Profile::file_tasks();
        let body = r#"{"id":"f1","url":"https://cdn.example/f1.png","contentType":"image/png",
                       "tasks":[{"id":"t1","status":"in_progress"}]}"#;
        let r = status(&profile, body);
        assert_eq!(r.state, Some(JobState::Succeeded));
        assert_eq!(r.status, "ready");
        assert_eq!(
            r.result,
            Some(serde_json::from_str::<Value>(body).expect("json"))
        );
    }

    #[test]
    fn file_tasks_all_completed_means_done() {
        let profile = Profile::file_tasks();
        let r = status(
            &profile,
            r#"{"id":"f1","tasks":[{"id":"t1","status":"completed"},{"id":"t2","status":"completed"}]}"#,
        );
        assert_eq!(r.state, Some(JobState::Succeeded));
        assert_eq!(r.status, "completed");
        assert_eq!(
            r.result.as_ref().and_then(|v| v.get("id")),
            Some(&json!("f1"))
        );
    }

    #[test]
    fn file_tasks_latest_error_fails() {
        let profile = Profile::file_tasks();
        let r = status(
            &profile,
            r#"{"id":"f1","url":"","tasks":[{"id":"t1","status":"completed"},{"id":"t2","status":"error"}]}"#,
        );
        assert_eq!(r.state, Some(JobState::Failed));
        assert_eq!(r.status, "error");
        assert_eq!(
            r.error_message.as_deref(),
            Some("the latest task failed (task t2)")
        );
        assert_eq!(
            r.error_details,
            Some(json!({"id": "t2", "status": "error"}))
        );
        // An earlier error followed by a retry still running is not a failure.
        let r = status(
            &profile,
            r#"{"id":"f1","tasks":[{"id":"t1","status":"error"},{"id":"t2","status":"in_progress"}]}"#,
        );
        assert_eq!(r.state, Some(JobState::Running));
        assert_eq!(r.status, "in_progress");
        let r = status(&profile, r#"{"id":"f1","tasks":[{"status":"error"}]}"#);
        assert_eq!(r.error_message.as_deref(), Some("the latest task failed"));
    }

    #[test]
    fn file_tasks_running_cases() {
        let profile = Profile::file_tasks();
        for (body, text) in [
            (r#"{"id":"f1"}"#, "pending"),
            (r#"{"id":"f1","tasks":[]}"#, "pending"),
            (r#"{"id":"f1","tasks":null,"url":null}"#, "pending"),
            (
                r#"{"id":"f1","tasks":[{"id":"t","status":"pending"}]}"#,
                "pending",
            ),
            (
                r#"{"id":"f1","tasks":[{"status":"completed"},{"status":"in_progress"}]}"#,
                "in_progress",
            ),
            (
                r#"{"id":"f1","tasks":[{"status":"completed"},{"id":"x"}]}"#,
                "pending",
            ),
        ] {
            let r = status(&profile, body);
            assert_eq!(r.state, Some(JobState::Running), "{body}");
            assert_eq!(r.status, text, "{body}");
            assert_eq!(r.result, None);
        }
        assert!(matches!(
            status_err(&profile, "[]"),
            InterpretError::MissingField { .. }
        ));
        assert!(matches!(
            status_err(&profile, ""),
            InterpretError::NotJson { .. }
        ));
    }

    // ----- turn ------------------------------------------------------------------

    #[test]
    fn turn_submit_resolves_below_the_submit_url() {
        let profile = Profile::turn();
        let submit = url("https://uspark.example/api/projects/p1/sessions/s1/turns");
        let sub = profile
            .read_submission(&ok(r#"{"id":"turn 1","status":"pending"}"#), &submit)
            .expect("sub");
        assert_eq!(sub.job_id.as_deref(), Some("turn 1"));
        assert_eq!(
            sub.status_url.as_str(),
            "https://uspark.example/api/projects/p1/sessions/s1/turns/turn%201"
        );
        let submit = url("https://uspark.example/api/projects/p1/sessions/s1/turns/?x=1");
        let sub = profile
            .read_submission(&ok(r#"{"id":"t2"}"#), &submit)
            .expect("sub");
        assert_eq!(
            sub.status_url.as_str(),
            "https://uspark.example/api/projects/p1/sessions/s1/turns/t2"
        );
    }

    #[test]
    fn turn_revision_counts_blocks_and_carries_the_body() {
        let profile = Profile::turn();
        let r = status(&profile, r#"{"id":"t1","status":"pending","blocks":[]}"#);
        assert_eq!(r.state, Some(JobState::Running));
        assert_eq!(r.revision, Some(0));
        let body = r#"{"id":"t1","status":"running","blocks":[{"id":"b1","type":"text"},{"id":"b2","type":"tool_use"}]}"#;
        let r = status(&profile, body);
        assert_eq!(r.state, Some(JobState::Running));
        assert_eq!(r.revision, Some(2));
        assert_eq!(
            r.body,
            Some(serde_json::from_str::<Value>(body).expect("json"))
        );
        let r = status(&profile, r#"{"id":"t1","status":"running"}"#);
        assert_eq!(r.revision, None);
        assert!(r.body.is_some());
        let r = status(
            &profile,
            r#"{"id":"t1","status":"completed","blocks":[{"id":"b1"}]}"#,
        );
        assert_eq!(r.state, Some(JobState::Succeeded));
        assert_eq!(r.revision, Some(1));
        assert_eq!(
            r.result,
            Some(json!({"id": "t1", "status": "completed", "blocks": [{"id": "b1"}]}))
        );
    }

    #[test]
    fn turn_failure_message_from_error() {
        let profile = Profile::turn();
        let r = status(
            &profile,
            r#"{"id":"t1","status":"failed","blocks":[],"error":"sandbox crashed"}"#,
        );
        assert_eq!(r.state, Some(JobState::Failed));
        assert_eq!(r.error_message.as_deref(), Some("sandbox crashed"));
        assert_eq!(r.result, None);
    }

    // ----- Google operations -----------------------------------------------------

    #[test]
    fn google_submit_status_and_cancel_urls() {
        let profile = Profile::google_operation();
        let submit = url("https://speech.googleapis.com/v1/speech:longrunningrecognize");
        let sub = profile
            .read_submission(
                &ok(r#"{"name":"projects/p1/locations/us/operations/op 7","metadata":{}}"#),
                &submit,
            )
            .expect("sub");
        assert_eq!(
            sub.job_id.as_deref(),
            Some("projects/p1/locations/us/operations/op 7")
        );
        assert_eq!(
            sub.status_url.as_str(),
            "https://speech.googleapis.com/v1/projects/p1/locations/us/operations/op%207"
        );
        let (method, cancel) = profile
            .cancel_request(job(sub.job_id.as_deref(), &sub.status_url))
            .expect("cancel")
            .expect("ok");
        assert_eq!(method, http::Method::POST);
        assert_eq!(
            cancel.as_str(),
            "https://speech.googleapis.com/v1/projects/p1/locations/us/operations/op%207:cancel"
        );
        assert!(
            profile
                .results_url(job(sub.job_id.as_deref(), &sub.status_url))
                .is_none()
        );
    }

    #[test]
    fn google_running_and_done() {
        let profile = Profile::google_operation();
        let r = status(
            &profile,
            r#"{"name":"operations/1","metadata":{"progressPercent":30}}"#,
        );
        assert_eq!(r.state, Some(JobState::Running));
        assert_eq!(r.status, "running");
        assert_eq!(r.percentage, Some(30.0));
        let r = status(&profile, r#"{"name":"operations/1","done":false}"#);
        assert_eq!(r.state, Some(JobState::Running));
        assert_eq!(r.percentage, None);
        let r = status(
            &profile,
            r#"{"name":"operations/1","done":true,"response":{"@type":"type.googleapis.com/x","results":[1]}}"#,
        );
        assert_eq!(r.state, Some(JobState::Succeeded));
        assert_eq!(r.status, "done");
        assert_eq!(
            r.result,
            Some(json!({"@type": "type.googleapis.com/x", "results": [1]}))
        );
        let r = status(&profile, r#"{"name":"operations/1","done":true}"#);
        assert_eq!(r.state, Some(JobState::Succeeded));
        assert_eq!(r.result, None);
    }

    #[test]
    fn google_error_and_cancelled() {
        let profile = Profile::google_operation();
        let r = status(
            &profile,
            r#"{"name":"operations/1","done":true,"error":{"code":3,"message":"Invalid audio","details":[]}}"#,
        );
        assert_eq!(r.state, Some(JobState::Failed));
        assert_eq!(r.error_message.as_deref(), Some("Invalid audio"));
        assert_eq!(
            r.error_details,
            Some(json!({"code": 3, "message": "Invalid audio", "details": []}))
        );
        let r = status(
            &profile,
            r#"{"name":"operations/1","done":true,"error":{"code":1,"message":"Operation cancelled"}}"#,
        );
        assert_eq!(r.state, Some(JobState::Cancelled));
        assert_eq!(r.error_message.as_deref(), Some("Operation cancelled"));
        assert!(matches!(
            status_err(&profile, "42"),
            InterpretError::MissingField { .. }
        ));
    }

    #[test]
    fn google_id_path_rejects_dot_and_empty_segments() {
        let profile = Profile::google_operation();
        let submit = url("https://api.example/v1/things:run");
        for name in [
            "operations/../../admin",
            "operations//x",
            "/operations/x",
            "..",
            "operations/.",
        ] {
            let body = json!({ "name": name }).to_string();
            let err = profile
                .read_submission(&ok(&body), &submit)
                .expect_err(name);
            assert!(
                matches!(err, InterpretError::BadUrl { .. }),
                "{name}: {err:?}"
            );
        }
    }

    // ----- Azure ----------------------------------------------------------------

    #[test]
    fn azure_status_url_from_each_header() {
        let profile = Profile::azure_operation();
        let submit = url(
            "https://management.azure.com/subscriptions/s/resourceGroups/g/providers/P/vms/v1?api-version=2024-01-01",
        );

        let sub = profile
            .read_submission(
                &response(
                    201,
                    &[
                        (
                            "Azure-AsyncOperation",
                            "https://management.azure.com/operations/op1?api-version=1",
                        ),
                        (
                            "Location",
                            "/subscriptions/s/operationResults/op1?api-version=1",
                        ),
                    ],
                    r#"{"properties":{"provisioningState":"Creating"}}"#,
                ),
                &submit,
            )
            .expect("sub");
        assert_eq!(sub.job_id, None);
        assert_eq!(
            sub.status_url.as_str(),
            "https://management.azure.com/operations/op1?api-version=1"
        );
        assert_eq!(
            sub.results_url.as_ref().map(Url::as_str),
            Some("https://management.azure.com/subscriptions/s/operationResults/op1?api-version=1")
        );

        let sub = profile
            .read_submission(
                &response(
                    202,
                    &[(
                        "Operation-Location",
                        "https://eastus.api.cognitive.microsoft.com/ops/42",
                    )],
                    "",
                ),
                &submit,
            )
            .expect("sub");
        assert_eq!(
            sub.status_url.as_str(),
            "https://eastus.api.cognitive.microsoft.com/ops/42"
        );
        assert_eq!(sub.results_url, None);

        let sub = profile
            .read_submission(
                &response(202, &[("location", "../results/7")], "not json"),
                &submit,
            )
            .expect("sub");
        assert_eq!(
            sub.status_url.as_str(),
            "https://management.azure.com/subscriptions/s/resourceGroups/g/providers/P/results/7"
        );
        assert_eq!(
            sub.results_url, None,
            "Location polled as status is not also the results"
        );

        let status_url = sub.status_url.clone();
        assert!(profile.results_url(job(None, &status_url)).is_none());
        let results = url("https://management.azure.com/final");
        let j = JobRef {
            job_id: None,
            status_url: &status_url,
            results_url: Some(&results),
        };
        assert_eq!(profile.results_url(j).expect("step").expect("url"), results);
        assert!(profile.cancel_request(j).is_none());
    }

    #[test]
    fn azure_submit_header_problems() {
        let profile = Profile::azure_operation();
        let submit = url("https://management.azure.com/x");
        let err = profile
            .read_submission(&response(202, &[], "{}"), &submit)
            .expect_err("no header");
        assert!(
            matches!(err, InterpretError::MissingField { ref pointer, .. } if pointer.contains("Azure-AsyncOperation"))
        );
        let err = profile
            .read_submission(
                &response(202, &[("Azure-AsyncOperation", "ftp://x/y")], ""),
                &submit,
            )
            .expect_err("ftp");
        assert!(matches!(err, InterpretError::BadUrl { .. }));
        let bad = http::Response::builder()
            .status(202)
            .header(
                "Operation-Location",
                http::HeaderValue::from_bytes(b"https://x/\xFF").expect("value"),
            )
            .body(Bytes::new())
            .expect("response");
        assert!(matches!(
            profile.read_submission(&bad, &submit),
            Err(InterpretError::BadUrl { .. })
        ));
        // A broken secondary Location does not spoil a usable status header.
        let sub = profile
            .read_submission(
                &response(
                    202,
                    &[
                        ("Azure-AsyncOperation", "https://x/op"),
                        ("Location", "mailto:a@b"),
                    ],
                    "",
                ),
                &submit,
            )
            .expect("sub");
        assert_eq!(sub.results_url, None);
    }

    #[test]
    fn azure_operation_status_values() {
        let profile = Profile::azure_operation();
        for (value, state) in [
            ("NotStarted", JobState::Running),
            ("Running", JobState::Running),
            ("InProgress", JobState::Running),
            ("Accepted", JobState::Running),
            ("succeeded", JobState::Succeeded),
            ("Succeeded", JobState::Succeeded),
            ("Failed", JobState::Failed),
            ("Canceled", JobState::Cancelled),
            ("Cancelled", JobState::Cancelled),
        ] {
            let r = status(
                &profile,
                &format!(r#"{{"id":"op1","status":"{value}","percentComplete":12.5}}"#),
            );
            assert_eq!(r.state, Some(state), "{value}");
            assert_eq!(r.status, value);
            assert_eq!(r.percentage, Some(12.5));
        }
        let r = status(
            &profile,
            r#"{"id":"op1","status":"Failed","error":{"code":"QuotaExceeded","message":"Quota exceeded for cores"}}"#,
        );
        assert_eq!(r.error_message.as_deref(), Some("Quota exceeded for cores"));
        assert_eq!(
            r.error_details,
            Some(json!({"code": "QuotaExceeded", "message": "Quota exceeded for cores"}))
        );
        let r = status(&profile, r#"{"status":"Failed"}"#);
        assert_eq!(r.error_message.as_deref(), Some("the job failed"));
    }

    #[test]
    fn azure_provisioning_state() {
        let profile = Profile::azure_operation();
        for (value, state) in [
            ("Creating", JobState::Running),
            ("Updating", JobState::Running),
            ("Deleting", JobState::Running),
            ("Succeeded", JobState::Succeeded),
            ("Failed", JobState::Failed),
            ("Canceled", JobState::Cancelled),
        ] {
            let body = format!(
                r#"{{"id":"/subscriptions/s/vms/v1","properties":{{"provisioningState":"{value}"}}}}"#
            );
            let r = status(&profile, &body);
            assert_eq!(r.state, Some(state), "{value}");
            assert_eq!(r.status, value);
        }
        let body =
            r#"{"id":"/vms/v1","properties":{"provisioningState":"Succeeded","vmSize":"B2s"}}"#;
        assert_eq!(
            status(&profile, body).result,
            Some(serde_json::from_str::<Value>(body).expect("json"))
        );
    }

    #[test]
    fn azure_location_polling() {
        let profile = Profile::azure_operation();
        let r = profile
            .read_status(&response(202, &[("Retry-After", "5")], ""))
            .expect("202");
        assert_eq!(r.state, Some(JobState::Running));
        assert_eq!(r.status, "Accepted");
        let r = profile
            .read_status(&response(202, &[], "<html>wait</html>"))
            .expect("202 html");
        assert_eq!(r.state, Some(JobState::Running));
        let r = profile
            .read_status(&response(202, &[], "{}"))
            .expect("202 json");
        assert_eq!(r.state, Some(JobState::Running));
        let r = profile
            .read_status(&response(200, &[], r#"{"name":"vm1","size":3}"#))
            .expect("200");
        assert_eq!(r.state, Some(JobState::Succeeded));
        assert_eq!(r.result, Some(json!({"name": "vm1", "size": 3})));
        let r = profile.read_status(&response(204, &[], "")).expect("204");
        assert_eq!(r.state, Some(JobState::Succeeded));
        assert_eq!(r.result, None);
        let r = profile
            .read_status(&response(200, &[], ""))
            .expect("200 empty");
        assert_eq!(r.state, Some(JobState::Succeeded));
        assert_eq!(r.result, None);
        assert!(matches!(
            profile.read_status(&response(200, &[], "<html>")),
            Err(InterpretError::NotJson { .. })
        ));
        let final_body = profile
            .read_results(&response(200, &[], r#"{"name":"vm1"}"#))
            .expect("results");
        assert_eq!(final_body, json!({"name": "vm1"}));
        assert_eq!(
            profile
                .read_results(&response(204, &[], ""))
                .expect("empty"),
            Value::Null
        );
    }

    // ----- generic engine -------------------------------------------------------

    #[test]
    fn malformed_missing_and_unknown_status() {
        let profile = Profile::jobs();
        let err = status_err(&profile, r#"{"status": "processing""#);
        assert!(
            matches!(err, InterpretError::NotJson { ref excerpt } if excerpt.contains("processing"))
        );
        assert!(matches!(
            status_err(&profile, ""),
            InterpretError::NotJson { .. }
        ));
        assert!(matches!(
            status_err(&profile, "   "),
            InterpretError::NotJson { .. }
        ));
        assert!(matches!(
            status_err(&profile, r#"{"job_id":"j"}"#),
            InterpretError::MissingField { ref pointer, .. } if pointer == "/status"
        ));
        assert!(matches!(
            status_err(&profile, r#"{"status":3}"#),
            InterpretError::MissingField { ref pointer, .. } if pointer == "/status"
        ));
        assert!(matches!(
            status_err(&profile, "null"),
            InterpretError::MissingField { .. }
        ));
        assert!(matches!(
            status_err(&profile, r#"{"status":"exploded"}"#),
            InterpretError::UnknownStatus { ref value } if value == "exploded"
        ));
        let long = "x".repeat(5000);
        match status_err(&profile, &format!(r#"{{"status":"{long}"}}"#)) {
            InterpretError::UnknownStatus { value } => assert!(value.chars().count() <= 201),
            other => panic!("{other:?}"),
        }
        // A BOM and surrounding whitespace are tolerated.
        let r = status(&profile, "\u{feff}  {\"status\":\"queued\"}\n");
        assert_eq!(r.state, Some(JobState::Running));
    }

    #[test]
    fn hostile_bodies_never_panic() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let huge = format!(
            r#"{{"status":"processing","progress_data":{{"percentage":1{}}}}}"#,
            "0".repeat(500)
        );
        let bodies: Vec<&[u8]> = vec![
            b"",
            b"\xFF\xFE\x00",
            deep.as_bytes(),
            huge.as_bytes(),
            br#"{"status":"completed","result_data":1e999}"#,
            br#"{"done":"yes","error":7,"name":[],"tasks":{"a":1},"url":5}"#,
            br#"{"tasks":[null,1,"x",{"status":null}]}"#,
            br#"{"status":{"nested":true},"properties":{"provisioningState":[]}}"#,
            b"\"just a string\"",
        ];
        for name in Profile::BUILTIN_NAMES {
            let profile = Profile::builtin(name).expect("builtin");
            let submit = url("https://h.example/a/b");
            let status_url = url("https://h.example/a/b/c");
            for body in &bodies {
                for code in [200, 202] {
                    let resp = http::Response::builder()
                        .status(code)
                        .body(Bytes::copy_from_slice(body))
                        .expect("response");
                    let _ = profile.read_status(&resp);
                    let _ = profile.read_submission(&resp, &submit);
                    let _ = profile.read_results(&resp);
                }
            }
            for id in ["", ".", "..", "a/../b", "%2e%2e", "ü/ß", "\u{0}"] {
                let j = job(Some(id), &status_url);
                let _ = profile.results_url(j);
                let _ = profile.cancel_request(j);
            }
        }
        // Beyond f64 the body is unreadable (serde_json refuses it), not a panic.
        assert!(matches!(
            Profile::jobs().read_status(&ok(&huge)),
            Err(InterpretError::NotJson { .. })
        ));
        let big = format!(
            r#"{{"status":"processing","progress_data":{{"percentage":1{}}}}}"#,
            "0".repeat(30)
        );
        let r = Profile::jobs()
            .read_status(&ok(&big))
            .expect("a big integer is still a number");
        assert_eq!(r.percentage, Some(100.0));
    }

    #[test]
    fn ids_are_percent_encoded_as_one_segment() {
        let profile = Profile::jobs();
        let submit = url("https://api.example.com/api/v1/x-job");
        let sub = profile
            .read_submission(&ok(r#"{"job_id":"a/b?c#d e%f~g.h_i-j:k"}"#), &submit)
            .expect("sub");
        assert_eq!(
            sub.status_url.as_str(),
            "https://api.example.com/api/v1/jobs/a%2Fb%3Fc%23d%20e%25f~g.h_i-j%3Ak"
        );
        let sub = profile
            .read_submission(&ok(r#"{"job_id":"zß"}"#), &submit)
            .expect("sub");
        assert_eq!(
            sub.status_url.as_str(),
            "https://api.example.com/api/v1/jobs/z%C3%9F"
        );
        for id in [r#""..""#, r#"".""#] {
            let err = profile
                .read_submission(&ok(&format!(r#"{{"job_id":{id}}}"#)), &submit)
                .expect_err(id);
            assert!(matches!(err, InterpretError::BadUrl { .. }), "{id}");
        }
        // `%2e%2e` is encoded to `%252e%252e`, not decoded into a dot segment.
        let sub = profile
            .read_submission(&ok(r#"{"job_id":"%2e%2e"}"#), &submit)
            .expect("sub");
        assert_eq!(
            sub.status_url.as_str(),
            "https://api.example.com/api/v1/jobs/%252e%252e"
        );
    }

    #[test]
    fn submit_id_problems() {
        let profile = Profile::codegen();
        let submit = url("https://h.example/api/v1/public/graph/codegen");
        for body in [
            r#"{"jobId":""}"#,
            r#"{"jobId":null}"#,
            r#"{"jobId":1.5}"#,
            r#"{}"#,
            "[]",
        ] {
            let err = profile.read_submission(&ok(body), &submit).expect_err(body);
            assert!(
                matches!(err, InterpretError::MissingField { ref pointer, .. } if pointer == "/jobId or /job_id"),
                "{body}: {err:?}"
            );
        }
        assert!(matches!(
            profile.read_submission(&ok("oops"), &submit),
            Err(InterpretError::NotJson { .. })
        ));
        // The first usable pointer wins; an empty one falls through to the next.
        let sub = profile
            .read_submission(&ok(r#"{"jobId":"","job_id":"j2"}"#), &submit)
            .expect("sub");
        assert_eq!(sub.job_id.as_deref(), Some("j2"));
    }

    #[test]
    fn template_resolution_rules() {
        let base = url("https://h.example:8443/a/b?q=1#f");
        let fill = |t: &str, id: Option<&str>| fill_template(t, id, &base);
        assert_eq!(
            fill("/x/{id}", Some("1")).expect("abs path").as_str(),
            "https://h.example:8443/x/1"
        );
        assert_eq!(
            fill("//evil.example/x", None).expect("path").as_str(),
            "https://h.example:8443//evil.example/x"
        );
        assert_eq!(
            fill("https://other.example/{id}", Some("7"))
                .expect("full")
                .as_str(),
            "https://other.example/7"
        );
        assert_eq!(
            fill("c/{id}", Some("7")).expect("rel").as_str(),
            "https://h.example:8443/a/b/c/7"
        );
        assert_eq!(
            fill("/static", None).expect("no id needed").as_str(),
            "https://h.example:8443/static"
        );
        assert!(matches!(
            fill("ftp://h/{id}", Some("1")),
            Err(InterpretError::BadUrl { .. })
        ));
        assert!(matches!(
            fill("javascript:alert(1)", None),
            Err(InterpretError::BadUrl { .. })
        ));
        assert!(matches!(
            fill("/x/{id}", None),
            Err(InterpretError::MissingField { .. })
        ));
        assert!(matches!(
            fill("/x/{id}", Some("")),
            Err(InterpretError::BadUrl { .. })
        ));
        assert!(matches!(
            fill("/v1/{id_path}", Some("a/../b")),
            Err(InterpretError::BadUrl { .. })
        ));
        assert_eq!(
            fill("/v1/{id_path}/{id}", Some("a/b c"))
                .expect("both")
                .as_str(),
            "https://h.example:8443/v1/a/b%20c/a%2Fb%20c"
        );
    }

    #[test]
    fn pointer_alternatives() {
        let doc = json!({"a": null, "b": "x", "c|d": 5, "e": 3});
        assert_eq!(find(&doc, "/a|/b", Value::as_str), Some("x"));
        assert_eq!(find(&doc, "/c|d", Value::as_u64), Some(5));
        assert_eq!(find(&doc, "/b|/e", Value::as_u64), Some(3));
        assert_eq!(find(&doc, "", Value::as_object).map(|o| o.len()), Some(4));
        assert_eq!(find(&doc, "b", Value::as_str), None);
    }

    #[test]
    fn profiles_round_trip_through_json() {
        for name in Profile::BUILTIN_NAMES {
            let profile = Profile::builtin(name).expect("builtin");
            let text = serde_json::to_string_pretty(&profile).expect("serialize");
            let back: Profile = serde_json::from_str(&text).expect("deserialize");
            assert_eq!(back, profile, "{name}");
        }
        assert!(Profile::builtin("nope").is_none());
        let json = serde_json::to_value(Profile::google_operation()).expect("value");
        assert_eq!(json["completion"], json!({"rule": "google_operation"}));
        assert_eq!(
            json["status_url"],
            json!({"from": "template", "template": "/v1/{id_path}"})
        );
        let json = serde_json::to_value(Profile::azure_operation()).expect("value");
        assert_eq!(json["status_url"]["from"], "headers");
        assert_eq!(json["results"], json!({"url": null, "transform": "as_is"}));
    }

    #[test]
    fn reports_and_errors_serialize() {
        let report = status(
            &Profile::jobs(),
            r#"{"status":"processing","progress_data":{"percentage":45,"estimated_time_remaining":2}}"#,
        );
        let text = serde_json::to_string(&report).expect("serialize");
        assert_eq!(
            serde_json::from_str::<StatusReport>(&text).expect("back"),
            report
        );
        let err = InterpretError::UnknownStatus {
            value: "x".to_owned(),
        };
        assert_eq!(
            serde_json::to_value(&err).expect("err"),
            json!({"problem": "unknown_status", "value": "x"})
        );
    }

    #[test]
    fn a_profile_described_only_as_json_works_end_to_end() {
        let profile: Profile = serde_json::from_str(
            r#"{
                "name": "tasks-v2",
                "completion": {
                    "rule": "status",
                    "pointer": "/state/phase",
                    "values": {"running": ["Pending", "Running"], "succeeded": ["Done"], "failed": ["Error"]}
                },
                "submit_id_pointers": ["/metadata/uid"],
                "status_url": {"from": "template", "template": "/apis/tasks/v2/{id}"},
                "percentage_pointer": "/state/progress",
                "step_pointer": "/state/message",
                "eta_pointer": "/state/remainingSeconds",
                "result_pointer": "/state/output",
                "error_message_pointer": "/state/reason",
                "error_details_pointer": "/state/conditions",
                "results": {"url": "/apis/tasks/v2/{id}/output"},
                "cancel": {"method": "DELETE", "url": "/apis/tasks/v2/{id}"}
            }"#,
        )
        .expect("a CLI user's profile parses");
        assert_eq!(profile.name(), "tasks-v2");
        assert!(!profile.not_found_means_pending());

        let submit = url("https://tasks.example/apis/tasks/v2");
        let sub = profile
            .read_submission(
                &ok(r#"{"metadata":{"uid":"t-42"},"state":{"phase":"Pending"}}"#),
                &submit,
            )
            .expect("submit");
        assert_eq!(sub.job_id.as_deref(), Some("t-42"));
        assert_eq!(
            sub.status_url.as_str(),
            "https://tasks.example/apis/tasks/v2/t-42"
        );

        let r = status(
            &profile,
            r#"{"state":{"phase":"running","progress":"60","message":"copying","remainingSeconds":30}}"#,
        );
        assert_eq!(r.state, Some(JobState::Running));
        assert_eq!(r.status, "running");
        assert_eq!(r.percentage, Some(60.0));
        assert_eq!(r.step.as_deref(), Some("copying"));
        assert_eq!(r.eta, Some(Duration::from_secs(30)));

        let r = status(
            &profile,
            r#"{"state":{"phase":"Done","output":{"rows":10}}}"#,
        );
        assert_eq!(r.state, Some(JobState::Succeeded));
        assert_eq!(r.result, Some(json!({"rows": 10})));

        let r = status(
            &profile,
            r#"{"state":{"phase":"Error","reason":"disk full","conditions":[{"t":"X"}]}}"#,
        );
        assert_eq!(r.state, Some(JobState::Failed));
        assert_eq!(r.error_message.as_deref(), Some("disk full"));
        assert_eq!(r.error_details, Some(json!([{"t": "X"}])));

        assert!(matches!(
            status_err(&profile, r#"{"state":{"phase":"Exploded"}}"#),
            InterpretError::UnknownStatus { .. }
        ));

        let j = job(sub.job_id.as_deref(), &sub.status_url);
        let results = profile.results_url(j).expect("step").expect("url");
        assert_eq!(
            results.as_str(),
            "https://tasks.example/apis/tasks/v2/t-42/output"
        );
        assert_eq!(
            profile
                .read_results(&ok(r#"{"rows":[1,2]}"#))
                .expect("as is"),
            json!({"rows": [1, 2]})
        );
        let (method, cancel) = profile.cancel_request(j).expect("cancel").expect("ok");
        assert_eq!(method, http::Method::DELETE);
        assert_eq!(cancel.as_str(), "https://tasks.example/apis/tasks/v2/t-42");
    }

    #[test]
    fn headers_rule_with_an_id_pointer() {
        let profile: Profile = serde_json::from_value(json!({
            "name": "hdr",
            "completion": {"rule": "status", "pointer": "/s", "values": {"running": ["r"], "succeeded": ["ok"]}},
            "submit_id_pointers": ["/id"],
            "status_url": {"from": "headers", "names": ["Location"]}
        }))
        .expect("profile");
        let submit = url("https://h.example/jobs");
        let sub = profile
            .read_submission(
                &response(202, &[("Location", "/jobs/9/status")], r#"{"id":9}"#),
                &submit,
            )
            .expect("sub");
        assert_eq!(sub.job_id.as_deref(), Some("9"));
        assert_eq!(sub.status_url.as_str(), "https://h.example/jobs/9/status");
        let sub = profile
            .read_submission(
                &response(202, &[("Location", "/jobs/9/status")], ""),
                &submit,
            )
            .expect("id optional");
        assert_eq!(sub.job_id, None);
    }

    #[test]
    fn json_pointer_agrees_with_serde_json() {
        let doc = json!({"a": {"b/c": [1, {"d~e": 2}], "": 3, "01": 4}, "list": [10, 20]});
        for pointer in [
            "",
            "/a",
            "/a/b~1c",
            "/a/b~1c/0",
            "/a/b~1c/1/d~0e",
            "/a/",
            "/a/01",
            "/list/1",
            "/list/01",
            "/list/+1",
            "/list/-",
            "/list/9",
            "a",
            "/missing/x",
            "/a/b~1c/x",
        ] {
            assert_eq!(
                json_pointer(&doc, pointer),
                doc.pointer(pointer),
                "{pointer:?}"
            );
        }
    }
}
