//! The caller's end of a running job.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use jobpoll_core::Outcome;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::DriverError;
use crate::events::EventStream;

/// A job running in the background. Await it for the [`Outcome`]; read its events
/// with [`JobHandle::events`]; stop it with [`JobHandle::cancel`].
///
/// Dropping the handle cancels the job: the background task goes on until the
/// cancellation is finished, the server-side cancel request included (when the
/// profile has one), as long as the tokio runtime runs.
#[derive(Debug)]
#[must_use = "dropping a JobHandle cancels the job"]
pub struct JobHandle {
    task: JoinHandle<Result<Outcome, DriverError>>,
    cancel: watch::Sender<bool>,
    events: Option<EventStream>,
    done: bool,
}

impl JobHandle {
    pub(crate) fn new(
        task: JoinHandle<Result<Outcome, DriverError>>,
        cancel: watch::Sender<bool>,
        events: EventStream,
    ) -> JobHandle {
        JobHandle {
            task,
            cancel,
            events: Some(events),
            done: false,
        }
    }

    /// Cancels the job: it stops polling and, if the profile has a cancel request
    /// and the configuration allows it, asks the server to cancel too. The handle
    /// then resolves with [`Outcome::Cancelled`] (or with the outcome the job had
    /// already reached). Calling it again, or after the job ended, does nothing.
    pub fn cancel(&self) {
        self.cancel
            .send_if_modified(|cancelled| !std::mem::replace(cancelled, true));
    }

    /// The job's events. The first call takes the stream; a later call gets a stream
    /// that has already ended.
    ///
    /// Events are kept from the start of the job, so none is missed by taking the
    /// stream late. When the reader falls behind, progress reports are dropped and
    /// nothing else is: see [`EventStream`]. Read the stream until it ends before
    /// awaiting the handle to see every event before the outcome.
    pub fn events(&mut self) -> EventStream {
        self.events.take().unwrap_or_else(EventStream::ended)
    }

    /// Whether the job's task has ended (the outcome is ready).
    pub fn is_finished(&self) -> bool {
        self.done || self.task.is_finished()
    }
}

impl Future for JobHandle {
    type Output = Result<Outcome, DriverError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        poll_outcome(&mut this.done, &mut this.task, cx, |result| match result {
            Ok(result) => result,
            Err(error) if error.is_panic() => Err(DriverError::Task(format!(
                "the job's task panicked: {}",
                panic_message(error.into_panic())
            ))),
            Err(error) => Err(DriverError::Task(format!(
                "the job's task was stopped (is the runtime shutting down?): {error}"
            ))),
        })
    }
}

/// Polls `source` for a job's outcome, once: `done` is set when it is ready, and a
/// poll after that is an error. `settle` turns what `source` gives into the result.
pub(crate) fn poll_outcome<F: Future + Unpin>(
    done: &mut bool,
    source: &mut F,
    cx: &mut Context<'_>,
    settle: impl FnOnce(F::Output) -> Result<Outcome, DriverError>,
) -> Poll<Result<Outcome, DriverError>> {
    if *done {
        return Poll::Ready(Err(DriverError::Task(
            "the job's outcome was already taken".to_owned(),
        )));
    }
    match Pin::new(source).poll(cx) {
        Poll::Pending => Poll::Pending,
        Poll::Ready(result) => {
            *done = true;
            Poll::Ready(settle(result))
        }
    }
}

impl Drop for JobHandle {
    fn drop(&mut self) {
        // The task ends by itself once the cancellation is complete; it is not
        // aborted, so that the server hears about it.
        self.cancel();
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "(no message)".to_owned()
    }
}
