//! The task that runs one job: moves bytes between reqwest and the job, and time
//! between tokio's clock and the job's.

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::PathBuf;
use std::pin::pin;
use std::sync::Arc;

use jobpoll_core::trace::{RecordingJob, Redactor, to_json_lines};
use jobpoll_core::{Input, InputError, Job, Outcome, Output, RequestId};
use tokio::sync::watch;
use tracing::{debug, info};

use crate::DriverError;
use crate::clock::Clock;
use crate::events::EventSink;
use crate::transport;

/// The job, recording its trace or not.
pub(crate) enum Machine {
    Plain(Box<Job>),
    Recording {
        job: Box<RecordingJob>,
        trace: TraceFile,
    },
}

/// Where a trace goes, record by record.
pub(crate) struct TraceFile {
    path: PathBuf,
    file: BufWriter<File>,
    /// The first write error; recording stops there, the job runs on.
    error: Option<std::io::Error>,
}

impl TraceFile {
    pub(crate) fn create(path: PathBuf) -> Result<TraceFile, DriverError> {
        match File::create(&path) {
            Ok(file) => Ok(TraceFile {
                path,
                file: BufWriter::new(file),
                error: None,
            }),
            Err(source) => Err(DriverError::Trace {
                path,
                source,
                outcome: None,
            }),
        }
    }
}

impl Machine {
    fn handle_input(&mut self, input: Input) -> Result<(), InputError> {
        match self {
            Machine::Plain(job) => job.handle_input(input),
            Machine::Recording { job, .. } => job.handle_input(input),
        }
    }

    fn poll_output(&mut self) -> Output {
        match self {
            Machine::Plain(job) => job.poll_output(),
            Machine::Recording { job, .. } => job.poll_output(),
        }
    }

    pub(crate) fn max_body_bytes(&self) -> usize {
        match self {
            Machine::Plain(job) => job.config().max_body_bytes,
            Machine::Recording { job, .. } => job.job().config().max_body_bytes,
        }
    }

    /// Appends the records made since the last flush to the trace file.
    pub(crate) fn flush_trace(&mut self) {
        let Machine::Recording { job, trace } = self else {
            return;
        };
        let records = job.drain_records();
        if trace.error.is_some() || records.is_empty() {
            return;
        }
        let text = to_json_lines(&records);
        if let Err(error) = trace
            .file
            .write_all(text.as_bytes())
            .and_then(|()| trace.file.flush())
        {
            tracing::warn!(path = %trace.path.display(), %error, "cannot write the trace; recording stops, the job goes on");
            trace.error = Some(error);
        }
    }

    /// The trace's write error, if any, once the job is over.
    fn into_trace_error(self) -> Option<(PathBuf, std::io::Error)> {
        match self {
            Machine::Plain(_) => None,
            Machine::Recording { trace, .. } => trace.error.map(|error| (trace.path, error)),
        }
    }
}

/// Everything the task needs.
pub(crate) struct Driver {
    pub(crate) machine: Machine,
    pub(crate) http: reqwest::Client,
    pub(crate) redactor: Arc<Redactor>,
    pub(crate) clock: Clock,
    pub(crate) cancel: watch::Receiver<bool>,
    pub(crate) events: EventSink,
}

/// Resolves once the handle asks to cancel, or is dropped.
async fn cancelled(mut cancel: watch::Receiver<bool>) {
    // `Err` means the sender (the handle) is gone: that cancels too.
    let _ = cancel.wait_for(|cancelled| *cancelled).await;
}

impl Driver {
    fn feed(&mut self, input: Input) {
        if let Err(error) = self.machine.handle_input(input) {
            // Only possible when an answer races the job's own abort; the job ignores it.
            debug!(%error, "input refused");
        }
    }

    /// Runs the job to its outcome.
    pub(crate) async fn run(mut self) -> Result<Outcome, DriverError> {
        let max_body = self.machine.max_body_bytes();
        // The request in flight lives in the task itself (no allocation per request);
        // `None` when there is none. Its id is kept beside it.
        let mut request = pin!(None);
        let mut request_id: Option<RequestId> = None;
        // One timer and one cancel waiter for the whole job, re-armed as needed.
        let sleep = tokio::time::sleep_until(self.clock.epoch());
        let mut sleep = pin!(sleep);
        let mut cancel = pin!(cancelled(self.cancel.clone()));
        let mut cancel_fed = false;
        let mut outcome: Option<Outcome> = None;
        loop {
            // Drain every output until the job says when to wake it.
            let wake_at = loop {
                match self.machine.poll_output() {
                    Output::Transmit(transmit) => {
                        let logged = transport::log_request(&self.redactor, &transmit);
                        request_id = Some(transmit.id);
                        request.set(Some(transport::send(
                            &self.http, transmit, max_body, logged,
                        )));
                    }
                    Output::Abort(id) => {
                        if request_id == Some(id) {
                            debug!(id = id.0, "request aborted");
                            request_id = None;
                            request.set(None);
                        }
                    }
                    Output::Event(event) => {
                        transport::log_event(&self.redactor, &event);
                        self.events.push(event);
                    }
                    Output::Finished(finished) => outcome = Some(finished),
                    Output::WakeAt(at) => break Some(at),
                    Output::Done => break None,
                }
            };
            self.machine.flush_trace();
            let Some(at) = wake_at else { break };
            let deadline = self.clock.deadline(at);
            if sleep.deadline() != deadline {
                sleep.as_mut().reset(deadline);
            }
            let answer = async {
                match request.as_mut().as_pin_mut() {
                    Some(answer) => answer.await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                answer = answer => {
                    request.set(None);
                    let Some(id) = request_id.take() else { continue };
                    let input = Input::answer(id, answer, self.clock.now());
                    self.feed(input);
                }
                () = &mut cancel, if !cancel_fed => {
                    cancel_fed = true;
                    debug!("cancel");
                    let now = self.clock.now();
                    self.feed(Input::Cancel { now });
                }
                () = &mut sleep => {
                    // The timer never fires early, but the clock is read in whole
                    // microseconds: never tell the job it is earlier than it asked.
                    let now = self.clock.now().max(at);
                    self.feed(Input::Tick { now });
                }
            }
        }
        self.machine.flush_trace();
        request.set(None);
        let result = match outcome {
            Some(outcome) => {
                info!(kind = outcome.kind(), outcome = %outcome, "finished");
                Ok(outcome)
            }
            None => Err(DriverError::Task(
                "the job ended without an outcome".to_owned(),
            )),
        };
        match (self.machine.into_trace_error(), result) {
            (Some((path, source)), result) => Err(DriverError::Trace {
                path,
                source,
                outcome: result.ok().map(Box::new),
            }),
            (None, result) => result,
        }
    }
}
