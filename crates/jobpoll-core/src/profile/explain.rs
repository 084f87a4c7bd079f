//! [`Profile::explain`]: what a profile reads from one status response, and, for
//! each of its fields, the pointer and what was found there, so that a person can
//! see why a profile they wrote reads an API the way it does.

use core::fmt;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::status::{alternatives, json_pointer, parse_json};
use super::*;

/// What a profile makes of one status response (see [`Profile::explain`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The profile's name.
    pub profile: String,
    /// The response's HTTP status code.
    pub http_status: u16,
    /// What the job sees, when the profile can read the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<StatusReport>,
    /// Why the profile cannot read the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<InterpretError>,
    /// Each field of the profile that reads the body, in the profile's order.
    pub fields: Vec<FieldReading>,
}

/// One field of a profile, its pointer, and what was found there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldReading {
    /// The field, as a key of the profile's JSON (`percentage_pointer`,
    /// `completion.pointer`, `submit_id_pointers.0`).
    pub field: String,
    /// The pointer, as written (with its `|` alternatives).
    pub pointer: String,
    /// What the field takes, as a person says it (`string`, `number`).
    pub expected: String,
    /// What the body holds there.
    pub found: Finding,
}

/// What a field's pointer found in a body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "found", rename_all = "snake_case")]
pub enum Finding {
    /// A value the field takes.
    Value {
        /// The pointer (or alternative) that found it.
        at: String,
        /// A short excerpt of the value, as JSON.
        excerpt: String,
    },
    /// Values only of a type the field does not take: the first one.
    WrongType {
        /// The pointer (or alternative) that found it.
        at: String,
        /// The JSON type found (`number`, `object`, ...).
        kind: String,
        /// A short excerpt of the value, as JSON.
        excerpt: String,
    },
    /// No value at the pointer nor at any alternative.
    Nothing,
    /// The body is not JSON (or is empty): nothing was looked up.
    NotRead,
}

/// What a field takes, with the same rules as the status read.
#[derive(Clone, Copy)]
enum Takes {
    Text,
    NonEmptyText,
    Id,
    Number,
    NonNegativeNumber,
    Bool,
    Array,
    AnyButNull,
    Revision,
}

impl Takes {
    fn name(self) -> &'static str {
        match self {
            Takes::Text => "string",
            Takes::NonEmptyText => "non-empty string",
            Takes::Id => "non-empty string or integer",
            Takes::Number => "number (or a string holding one)",
            Takes::NonNegativeNumber => "number of seconds, 0 or more",
            Takes::Bool => "boolean",
            Takes::Array => "array",
            Takes::AnyButNull => "any value but null",
            Takes::Revision => "array or count",
        }
    }

    fn accepts(self, value: &serde_json::Value) -> bool {
        use serde_json::Value;
        let number = || match value {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => super::decimal::decimal(s.trim()),
            _ => None,
        };
        match self {
            Takes::Text => value.is_string(),
            Takes::NonEmptyText => value.as_str().is_some_and(|s| !s.is_empty()),
            Takes::Id => {
                value.as_str().is_some_and(|s| !s.is_empty()) || value.is_i64() || value.is_u64()
            }
            Takes::Number => number().is_some_and(|n| !n.is_nan()),
            Takes::NonNegativeNumber => number().is_some_and(|n| n >= 0.0),
            Takes::Bool => value.is_boolean(),
            Takes::Array => value.is_array(),
            Takes::AnyButNull => !value.is_null(),
            Takes::Revision => value.is_array() || value.is_u64(),
        }
    }
}

/// The JSON type of a value, as a person says it.
fn kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

fn value_excerpt(value: &serde_json::Value) -> String {
    excerpt(&serde_json::to_vec(value).unwrap_or_default())
}

/// What `pointer` (as written, then each alternative) finds in `doc` for a field
/// that takes `takes`.
fn probe(doc: Option<&serde_json::Value>, pointer: &str, takes: Takes) -> Finding {
    let Some(doc) = doc else {
        return Finding::NotRead;
    };
    let tried = core::iter::once(pointer).chain(alternatives(pointer).into_iter().flatten());
    let mut wrong = None;
    for at in tried {
        let Some(value) = json_pointer(doc, at) else {
            continue;
        };
        if takes.accepts(value) {
            return Finding::Value {
                at: at.to_owned(),
                excerpt: value_excerpt(value),
            };
        }
        wrong.get_or_insert_with(|| Finding::WrongType {
            at: at.to_owned(),
            kind: kind(value).to_owned(),
            excerpt: value_excerpt(value),
        });
    }
    wrong.unwrap_or(Finding::Nothing)
}

impl Profile {
    /// What this profile reads from `response`, a status response: the report
    /// the job sees (or why it cannot read it), and for each field of the
    /// profile, its pointer and what the body holds there. Pure: for unit tests
    /// and for `jobpoll status --explain`.
    pub fn explain(&self, response: &http::Response<Bytes>) -> Explanation {
        let (report, error) = match self.read_status(response) {
            Ok(report) => (Some(report), None),
            Err(error) => (None, Some(error)),
        };
        let doc = parse_json(response.body()).ok().flatten();
        let mut fields = Vec::new();
        let mut add = |field: String, pointer: &str, takes: Takes| {
            fields.push(FieldReading {
                field,
                pointer: pointer.to_owned(),
                expected: takes.name().to_owned(),
                found: probe(doc.as_ref(), pointer, takes),
            });
        };
        match &self.completion {
            Completion::Status { pointer, .. } => {
                add("completion.pointer".to_owned(), pointer, Takes::Text);
            }
            Completion::FileTasks {
                url_pointer,
                tasks_pointer,
            } => {
                let url = "completion.url_pointer".to_owned();
                add(url, url_pointer, Takes::NonEmptyText);
                let tasks = "completion.tasks_pointer".to_owned();
                add(tasks, tasks_pointer, Takes::Array);
            }
            Completion::GoogleOperation => {
                add("completion (done)".to_owned(), "/done", Takes::Bool);
                add("completion (error)".to_owned(), "/error", Takes::AnyButNull);
                add("completion (name)".to_owned(), "/name", Takes::Text);
            }
            Completion::AzureOperation { .. } => {
                // As an operation monitor's answer is read.
                add("completion (status)".to_owned(), "/status", Takes::Text);
            }
        }
        for (at, pointer) in self.submit_id_pointers.iter().enumerate() {
            add(format!("submit_id_pointers.{at}"), pointer, Takes::Id);
        }
        let optional = [
            (
                "percentage_pointer",
                &self.percentage_pointer,
                Takes::Number,
            ),
            ("step_pointer", &self.step_pointer, Takes::Text),
            ("eta_pointer", &self.eta_pointer, Takes::NonNegativeNumber),
            ("result_pointer", &self.result_pointer, Takes::AnyButNull),
            (
                "error_message_pointer",
                &self.error_message_pointer,
                Takes::Text,
            ),
            (
                "error_details_pointer",
                &self.error_details_pointer,
                Takes::AnyButNull,
            ),
            ("revision_pointer", &self.revision_pointer, Takes::Revision),
        ];
        for (name, pointer, takes) in optional {
            if let Some(pointer) = pointer {
                add(name.to_owned(), pointer, takes);
            }
            if name == "percentage_pointer"
                && let Some(ratio) = &self.progress_ratio
            {
                add("progress_ratio.done".to_owned(), &ratio.done, Takes::Number);
                add(
                    "progress_ratio.total".to_owned(),
                    &ratio.total,
                    Takes::Number,
                );
            }
        }
        Explanation {
            profile: self.name.clone(),
            http_status: response.status().as_u16(),
            report,
            error,
            fields,
        }
    }
}

impl Explanation {
    /// Whether the profile read the response.
    pub fn is_readable(&self) -> bool {
        self.report.is_some()
    }

    /// What the job sees, one `name: value` a line, without the fields.
    pub fn job_view(&self) -> JobView<'_> {
        JobView(self)
    }
}

/// What the job sees in one response, one `name: value` a line (see
/// [`Explanation::job_view`]).
pub struct JobView<'a>(&'a Explanation);

impl fmt::Display for JobView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(report) = &self.0.report else {
            let why = self.0.error.as_ref().map(ToString::to_string);
            return writeln!(f, "unreadable: {}", why.unwrap_or_default());
        };
        let state = match report.state {
            Some(JobState::Running) => "running",
            Some(JobState::Succeeded) => "succeeded",
            Some(JobState::Failed) => "failed",
            Some(JobState::Cancelled) => "cancelled",
            None => "unknown",
        };
        writeln!(f, "state: {state}")?;
        writeln!(f, "status: {}", excerpt(report.status.as_bytes()))?;
        if let Some(percentage) = report.percentage {
            writeln!(f, "progress: {percentage}%")?;
        }
        if let Some(step) = &report.step {
            writeln!(f, "step: {}", excerpt(step.as_bytes()))?;
        }
        if let Some(eta) = report.eta {
            writeln!(f, "eta: {}s", eta.as_secs_f64())?;
        }
        if let Some(result) = &report.result {
            writeln!(f, "result: {}", value_excerpt(result))?;
        }
        if let Some(message) = &report.error_message {
            writeln!(f, "error: {}", excerpt(message.as_bytes()))?;
        }
        if let Some(details) = &report.error_details {
            writeln!(f, "error details: {}", value_excerpt(details))?;
        }
        if let Some(id) = &report.job_id {
            writeln!(f, "job id: {}", excerpt(id.as_bytes()))?;
        }
        Ok(())
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::Value { excerpt, .. } => f.write_str(excerpt),
            Finding::WrongType { kind, .. } if kind == "null" => f.write_str("wrong type: null"),
            Finding::WrongType { kind, excerpt, .. } => {
                write!(f, "wrong type: found {kind} {excerpt}")
            }
            Finding::Nothing => f.write_str("nothing"),
            Finding::NotRead => f.write_str("nothing (the body is not JSON)"),
        }
    }
}

impl fmt::Display for FieldReading {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} -> ", self.field, self.pointer)?;
        match &self.found {
            Finding::WrongType { kind, .. } if kind == "null" => {
                write!(f, "wrong type: expected {}, found null", self.expected)?;
            }
            Finding::WrongType { kind, excerpt, .. } => write!(
                f,
                "wrong type: expected {}, found {kind} {excerpt}",
                self.expected
            )?,
            found => write!(f, "{found}")?,
        }
        match &self.found {
            Finding::Value { at, .. } | Finding::WrongType { at, .. } if *at != self.pointer => {
                write!(f, " (at {at})")
            }
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Explanation {
    /// What the job sees, then each field on its own line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "profile: {}", self.profile)?;
        writeln!(f, "HTTP status: {}", self.http_status)?;
        write!(f, "{}", self.job_view())?;
        writeln!(f, "fields:")?;
        for field in &self.fields {
            writeln!(f, "  {field}")?;
        }
        Ok(())
    }
}
