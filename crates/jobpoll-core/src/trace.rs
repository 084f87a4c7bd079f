//! Recorded traces: every input and output of a job, timestamped, as JSON lines, and
//! a replay that feeds the inputs to a fresh job and checks it says the same.
//!
//! A trace starts with a [`Record::Start`] holding the spec, the configuration and
//! the start instant; then [`Record::Input`] and [`Record::Output`] in the order they
//! happened (outputs in the order `poll_output` returned them). Secrets are redacted
//! as records are made (see [`Redactor`]); replay applies the same redaction to what
//! the fresh job says before comparing, so a redacted trace still replays exactly.

use base64::Engine as _;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::event::TransportError;
use crate::job::{Input, InputError, Job, JobSpec, Output, RequestId, SpecError};
use crate::profile::{Interpret, Profile};
use crate::time::Instant;

mod redact;

pub use redact::Redactor;

/// The trace format version written by this build.
pub const TRACE_FORMAT: u32 = 1;

/// What replaces the value of a secret header (other secrets are overwritten with
/// `*`, see [`Redactor`]).
pub const REDACTED: &str = "[redacted]";

/// One line of a trace.
// The start record is large but written once per trace; boxing it would only make
// every reader unwrap a box.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
#[serde(bound(serialize = "P: Serialize", deserialize = "P: DeserializeOwned"))]
pub enum Record<P = Profile> {
    /// The job was built.
    Start {
        /// [`TRACE_FORMAT`] of the writer.
        format: u32,
        /// The spec (redacted).
        spec: JobSpec<P>,
        /// The configuration.
        config: Config,
        /// The start instant.
        now: Instant,
    },
    /// An input was fed.
    Input(RecordedInput),
    /// The input just before was refused (and changed nothing).
    Refused {
        /// Why.
        error: InputError,
    },
    /// `poll_output` returned this.
    Output(Output),
}

/// An [`Input`] as data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "input", rename_all = "snake_case")]
pub enum RecordedInput {
    /// [`Input::Response`].
    Response {
        /// The request answered.
        request: RequestId,
        /// Status code.
        status: u16,
        /// Headers in order.
        headers: Vec<(String, RecordedBytes)>,
        /// The body.
        body: RecordedBytes,
        /// Now.
        now: Instant,
    },
    /// [`Input::TransportError`].
    TransportError {
        /// The request that failed.
        request: RequestId,
        /// Why.
        error: TransportError,
        /// Now.
        now: Instant,
    },
    /// [`Input::Tick`].
    Tick {
        /// Now.
        now: Instant,
    },
    /// [`Input::Cancel`].
    Cancel {
        /// Now.
        now: Instant,
    },
}

/// Bytes as readable text when they are UTF-8, else base64.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RecordedBytes {
    /// UTF-8 text.
    Text(String),
    /// Anything else.
    Base64 {
        /// Standard base64.
        base64: String,
    },
}

impl RecordedBytes {
    /// Records `bytes`.
    pub fn new(bytes: &[u8]) -> RecordedBytes {
        match std::str::from_utf8(bytes) {
            Ok(text) => RecordedBytes::Text(text.to_owned()),
            Err(_) => RecordedBytes::Base64 {
                base64: base64::engine::general_purpose::STANDARD.encode(bytes),
            },
        }
    }

    /// The bytes back.
    pub fn to_bytes(&self) -> Result<Vec<u8>, TraceError> {
        match self {
            RecordedBytes::Text(text) => Ok(text.clone().into_bytes()),
            RecordedBytes::Base64 { base64 } => base64::engine::general_purpose::STANDARD
                .decode(base64)
                .map_err(|e| TraceError::Invalid(format!("bad base64: {e}"))),
        }
    }
}

/// A trace that cannot be read or replayed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum TraceError {
    /// A line is not a record.
    #[error("line {line}: not a trace record: {reason}")]
    Parse {
        /// 1-based line number.
        line: usize,
        /// Why.
        reason: String,
    },
    /// The trace does not start with a start record, or has a second one.
    #[error("the trace must start with exactly one start record")]
    NoStart,
    /// Written by an incompatible version.
    #[error("trace format {0} is not supported (expected {TRACE_FORMAT})")]
    Format(u32),
    /// The recorded job cannot be built.
    #[error("the recorded job cannot be built: {0}")]
    Spec(#[from] SpecError),
    /// A record holds something impossible (bad header, bad status code).
    #[error("invalid record: {0}")]
    Invalid(String),
}

/// Where a replay first disagrees with the trace.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Divergence {
    /// The fresh job returned another output.
    #[error("record {index}: the trace says {expected}, the job now says {actual}")]
    Output {
        /// 0-based index of the record.
        index: usize,
        /// The recorded output, as JSON.
        expected: String,
        /// The replayed output, as JSON.
        actual: String,
    },
    /// The fresh job refused an input the original accepted, or the other way.
    #[error("record {index}: {}", match error {
        Some(error) => format!("the input was refused on replay: {error}"),
        None => "the input was refused when recorded but accepted on replay".to_owned(),
    })]
    Input {
        /// 0-based index of the record.
        index: usize,
        /// Why the replay refused it; `None` when the replay accepted it.
        error: Option<InputError>,
    },
}

/// What a successful replay went through.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplayReport {
    /// Inputs fed.
    pub inputs: usize,
    /// Outputs compared.
    pub outputs: usize,
}

impl RecordedInput {
    /// The input this record describes.
    pub fn to_input(&self) -> Result<Input, TraceError> {
        Ok(match self {
            RecordedInput::Response {
                request,
                status,
                headers,
                body,
                now,
            } => {
                let mut builder = http::Response::builder().status(*status);
                for (name, value) in headers {
                    let value = http::HeaderValue::from_bytes(&value.to_bytes()?)
                        .map_err(|e| TraceError::Invalid(format!("header {name}: {e}")))?;
                    builder = builder.header(name.as_str(), value);
                }
                let response = builder
                    .body(Bytes::from(body.to_bytes()?))
                    .map_err(|e| TraceError::Invalid(e.to_string()))?;
                Input::Response {
                    request: *request,
                    response,
                    now: *now,
                }
            }
            RecordedInput::TransportError {
                request,
                error,
                now,
            } => Input::TransportError {
                request: *request,
                error: error.clone(),
                now: *now,
            },
            RecordedInput::Tick { now } => Input::Tick { now: *now },
            RecordedInput::Cancel { now } => Input::Cancel { now: *now },
        })
    }
}

/// A job that records its own trace: use it in place of [`Job`] in a run loop.
#[derive(Debug)]
pub struct RecordingJob<P = Profile> {
    job: Job<P>,
    redactor: Redactor,
    records: Vec<Record<P>>,
}

impl<P: Interpret + Clone> RecordingJob<P> {
    /// [`Job::new`], recording from the start.
    pub fn new(
        spec: JobSpec<P>,
        config: Config,
        now: Instant,
        redactor: Redactor,
    ) -> Result<Self, SpecError> {
        let start = Record::Start {
            format: TRACE_FORMAT,
            spec: redactor.spec(&spec),
            config: config.clone(),
            now,
        };
        let job = Job::new(spec, config, now)?;
        Ok(RecordingJob {
            job,
            redactor,
            records: vec![start],
        })
    }

    /// [`Job::handle_input`], recorded.
    pub fn handle_input(&mut self, input: Input) -> Result<(), InputError> {
        self.records
            .push(Record::Input(self.redactor.input(&input)));
        let result = self.job.handle_input(input);
        if let Err(error) = &result {
            self.records.push(Record::Refused {
                error: error.clone(),
            });
        }
        result
    }

    /// [`Job::poll_output`], recorded.
    #[must_use]
    pub fn poll_output(&mut self) -> Output {
        let output = self.job.poll_output();
        self.records
            .push(Record::Output(self.redactor.output(&output)));
        output
    }

    /// The job inside.
    pub fn job(&self) -> &Job<P> {
        &self.job
    }

    /// The records so far, oldest first.
    pub fn records(&self) -> &[Record<P>] {
        &self.records
    }

    /// Takes the records so far, leaving the recorder empty (for streaming to a file).
    pub fn drain_records(&mut self) -> Vec<Record<P>> {
        std::mem::take(&mut self.records)
    }
}

/// Writes records as JSON lines.
pub fn to_json_lines<P: Serialize>(records: &[Record<P>]) -> String {
    let mut out = String::new();
    for record in records {
        // A record holds only strings, numbers and JSON values: it always serializes.
        if let Ok(line) = serde_json::to_string(record) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// Reads JSON lines (blank lines are skipped).
pub fn from_json_lines<P: DeserializeOwned>(text: &str) -> Result<Vec<Record<P>>, TraceError> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            serde_json::from_str(line).map_err(|e| TraceError::Parse {
                line: index + 1,
                reason: e.to_string(),
            })
        })
        .collect()
}

/// Feeds a trace's inputs to a fresh job and checks every output matches.
///
/// `Ok(Err(divergence))` means the trace was read but the job now behaves
/// differently; `Err` means the trace itself is unusable.
pub fn replay<P: Interpret + Clone + Serialize>(
    records: &[Record<P>],
    redactor: &Redactor,
) -> Result<Result<ReplayReport, Divergence>, TraceError> {
    let Some((
        Record::Start {
            format,
            spec,
            config,
            now,
        },
        rest,
    )) = records.split_first()
    else {
        return Err(TraceError::NoStart);
    };
    if *format != TRACE_FORMAT {
        return Err(TraceError::Format(*format));
    }
    let mut job = Job::new(spec.clone(), config.clone(), *now)?;
    let mut report = ReplayReport::default();
    for (offset, record) in rest.iter().enumerate() {
        let index = offset + 1;
        match record {
            Record::Start { .. } => return Err(TraceError::NoStart),
            Record::Input(input) => {
                report.inputs += 1;
                let refused = match rest.get(offset + 1) {
                    Some(Record::Refused { error }) => Some(error),
                    _ => None,
                };
                match (job.handle_input(input.to_input()?), refused) {
                    (Ok(()), None) => {}
                    (Err(error), Some(expected)) if &error == expected => {}
                    (Err(error), _) => {
                        return Ok(Err(Divergence::Input {
                            index,
                            error: Some(error),
                        }));
                    }
                    (Ok(()), Some(_)) => return Ok(Err(Divergence::Input { index, error: None })),
                }
            }
            // Checked with the input before it.
            Record::Refused { .. } => {}
            Record::Output(expected) => {
                report.outputs += 1;
                let actual = redactor.output(&job.poll_output());
                if &actual != expected {
                    let json =
                        |o: &Output| serde_json::to_string(o).unwrap_or_else(|e| e.to_string());
                    return Ok(Err(Divergence::Output {
                        index,
                        expected: json(expected),
                        actual: json(&actual),
                    }));
                }
            }
        }
    }
    Ok(Ok(report))
}
