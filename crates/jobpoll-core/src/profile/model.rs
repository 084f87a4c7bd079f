//! The [`Profile`] data model: the pointers, value sets, URL templates and rules
//! that describe a job API, and their JSON form.

use serde::{Deserialize, Serialize};

use super::sparse::PlanCell;
#[cfg(doc)]
use super::{Interpret, InterpretError, StatusReport};

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
/// [`InterpretError::UnknownStatus`], unless `unknown_means_running` is set. Sets
/// left out of a JSON description are empty.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StatusValues {
    /// Values meaning "keep polling".
    pub running: Vec<String>,
    /// Values meaning success.
    pub succeeded: Vec<String>,
    /// Values meaning failure.
    pub failed: Vec<String>,
    /// Values meaning cancelled by the server.
    pub cancelled: Vec<String>,
    /// Whether a status value in none of the sets means "keep polling" (APIs that
    /// document only their terminal values). When false, such a value is
    /// [`InterpretError::UnknownStatus`]. Left out of JSON when false.
    #[serde(skip_serializing_if = "is_false")]
    pub unknown_means_running: bool,
}

/// Whether a flag is off, so that it is left out of JSON.
fn is_false(flag: &bool) -> bool {
    !*flag
}

/// Progress read as a ratio of two numbers of the status body (`done` of
/// `total` items): the percentage is `done / total * 100`, clamped to 0..=100.
/// A `total` that is missing, not a number or zero (or a missing `done`) gives no
/// progress. Both are pointers, with `|` alternatives, as elsewhere; numbers may
/// be written as strings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgressRatio {
    /// JSON pointer to the count done.
    pub done: String,
    /// JSON pointer to the total count.
    pub total: String,
}

/// How a status body says the job is finished.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
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
    /// Azure long-running operations, read as the Azure SDKs read them: the submit
    /// answer chooses a [`PollMode`](super::PollMode) (an `Azure-AsyncOperation` or
    /// `Operation-Location` monitor with a `status`, `Location` polling by HTTP status,
    /// the resource's own `properties.provisioningState`, or done at once), and
    /// success is followed by a GET of the final resource where the rules say.
    AzureOperation {
        /// Where the final result is, as the API's description says
        /// (`final-state-via`); by default, the request URL after `PUT` and `PATCH`,
        /// the `Location` after `POST`, nothing after `DELETE`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        final_state_via: Option<FinalStateVia>,
    },
}

/// Where an Azure operation's final result is (the `final-state-via` of the API's
/// description).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FinalStateVia {
    /// The operation monitor named by `Azure-AsyncOperation`: its last body is the
    /// result after `POST`, and no `resourceLocation` is followed.
    AzureAsyncOperation,
    /// The monitor named by `Operation-Location`: as `azure-async-operation`.
    OperationLocation,
    /// A GET of the `Location` the submit answer gave.
    Location,
    /// A GET of the request URL.
    OriginalUri,
}

/// When a submit request may be sent again although it may have created the job
/// (see [`Interpret::submit_repeatable`](super::Interpret::submit_repeatable)).
/// Idempotent methods and requests with an `Idempotency-Key` are repeated anyway.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RepeatSubmit {
    /// Methods this API treats as safe to repeat, after an error status or a lost
    /// answer (`PATCH` for an API whose updates are idempotent).
    pub methods: Vec<String>,
    /// Error statuses after which a submit of any method is repeated, because the
    /// API promises that they mean nothing was done (Azure: 500, 503, 504).
    pub statuses: Vec<u16>,
}

impl RepeatSubmit {
    /// Whether a submit sent with `method` may be repeated after `answer` (`None`:
    /// no answer came).
    pub fn allows(&self, method: &http::Method, answer: Option<http::StatusCode>) -> bool {
        self.methods
            .iter()
            .any(|m| m.trim().eq_ignore_ascii_case(method.as_str()))
            || answer.is_some_and(|status| self.statuses.contains(&status.as_u16()))
    }

    fn is_empty(&self) -> bool {
        self.methods.is_empty() && self.statuses.is_empty()
    }
}

/// Where the submit response names the status URL.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case", deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
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
///
/// Its JSON form refuses keys it does not know; [`Profile::from_json`] says which
/// key, where, and the known key nearest to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Short name (`jobs`, `codegen`, ...).
    pub name: String,
    /// How the status body says the job is done.
    pub completion: Completion,
    /// JSON pointers, tried in order, to the job id in the submit response body.
    #[serde(default)]
    pub submit_id_pointers: Vec<String>,
    /// A response header that carries the job id (`X-Job-Id`), read from the submit
    /// answer when no pointer finds one, and from status answers by a job that
    /// does not know its id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submit_id_header: Option<String>,
    /// Where the status URL comes from after a submit.
    pub status_url: StatusUrlRule,
    /// JSON pointer to progress in percent.
    #[serde(default)]
    pub percentage_pointer: Option<String>,
    /// Progress as `done / total` of two numbers, when `percentage_pointer` is not
    /// set or finds no number. Left out of JSON when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress_ratio: Option<ProgressRatio>,
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
    /// When a submit that may have created the job is sent again.
    #[serde(default, skip_serializing_if = "RepeatSubmit::is_empty")]
    pub repeat_submit: RepeatSubmit,
    /// The status pointers compiled for the sparse read, on first use (not data: never
    /// serialized nor compared, and printed as `..`).
    #[serde(skip)]
    pub(super) status_plan: PlanCell,
}
