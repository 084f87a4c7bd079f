//! The caller's end of a fleet: [`FleetHandle`], which sends the runner its
//! commands, and [`FleetJob`], one subscription's outcome, events and stop.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use jobpoll_core::fleet::{JobKey, Subscriber};
use jobpoll_core::{Config, JobSpec, Outcome, Profile};
use tokio::sync::{mpsc, oneshot};
use url::Url;

use super::{Ack, Command, FleetMetrics};
use crate::DriverError;
use crate::events::{self, EventStream};
use crate::handle::poll_outcome;

/// The caller's end of a fleet: add jobs, pause and resume, stop, read metrics.
/// Cheap to clone; every clone talks to the same fleet. From [`Client::fleet`].
///
/// The fleet runs until [`FleetHandle::shutdown`], or until every handle and every
/// [`FleetJob`] is dropped and the jobs still running have ended.
///
/// [`Client::fleet`]: crate::Client::fleet
#[derive(Clone, Debug)]
pub struct FleetHandle {
    pub(super) commands: mpsc::UnboundedSender<Command>,
    pub(super) event_capacity: usize,
}

impl FleetHandle {
    /// Adds a job and returns once the fleet runs it (or shares it: a job polled at
    /// the same status URL with the same profile name and headers as one already
    /// running joins it, and one request per poll serves both). Await the
    /// [`FleetJob`] for the outcome; dropping it stops the job.
    ///
    /// The configuration is shared: give many jobs clones of one `Arc`. A
    /// subscriber that joins a running job runs under that job's configuration.
    ///
    /// Errors: [`DriverError::Spec`] for a spec or configuration the core refuses,
    /// [`DriverError::FleetClosed`] after [`FleetHandle::shutdown`].
    pub async fn add(
        &self,
        spec: JobSpec<Arc<Profile>>,
        config: Arc<Config>,
    ) -> Result<FleetJob, DriverError> {
        self.enlist(spec, config, false).await
    }

    /// [`FleetHandle::add`], keeping the job's events from its very start for
    /// [`FleetJob::events`] (with [`FleetHandle::add`], the events start when the
    /// stream is taken).
    pub async fn add_with_events(
        &self,
        spec: JobSpec<Arc<Profile>>,
        config: Arc<Config>,
    ) -> Result<FleetJob, DriverError> {
        self.enlist(spec, config, true).await
    }

    /// [`FleetHandle::add`] for many jobs under one configuration, with one
    /// message to the fleet's task and one reply for all of them: the way to start
    /// thousands. One result per spec, in order (a spec the core refuses is
    /// [`DriverError::Spec`] and does not stop the others); the outer error is
    /// [`DriverError::FleetClosed`].
    pub async fn add_many(
        &self,
        specs: impl IntoIterator<Item = JobSpec<Arc<Profile>>>,
        config: Arc<Config>,
    ) -> Result<Vec<Result<FleetJob, DriverError>>, DriverError> {
        let (jobs, outcomes): (Vec<_>, Vec<_>) = specs
            .into_iter()
            .map(|spec| {
                let (sender, outcome) = oneshot::channel();
                ((spec, sender), outcome)
            })
            .unzip();
        let (reply, replied) = oneshot::channel();
        self.send(Command::AddMany {
            jobs,
            config,
            reply,
        })?;
        let added = replied.await.map_err(|_| DriverError::FleetClosed)?;
        Ok(added
            .into_iter()
            .zip(outcomes)
            .map(|(added, outcome)| Ok(self.job(added?, outcome, None)))
            .collect())
    }

    async fn enlist(
        &self,
        spec: JobSpec<Arc<Profile>>,
        config: Arc<Config>,
        with_events: bool,
    ) -> Result<FleetJob, DriverError> {
        let (outcome_sender, outcome) = oneshot::channel();
        let (sink, stream) = if with_events {
            let (sink, stream) = events::channel(self.event_capacity, false);
            (Some(sink), Some(stream))
        } else {
            (None, None)
        };
        let (reply, replied) = oneshot::channel();
        self.send(Command::Add {
            spec,
            config,
            outcome: outcome_sender,
            events: sink,
            reply,
        })?;
        let subscriber = replied.await.map_err(|_| DriverError::FleetClosed)??;
        Ok(self.job(subscriber, outcome, stream))
    }

    /// The caller's end of a subscription the fleet has taken.
    fn job(
        &self,
        subscriber: Subscriber,
        outcome: oneshot::Receiver<Box<Outcome>>,
        events: Option<EventStream>,
    ) -> FleetJob {
        FleetJob {
            subscriber,
            outcome,
            commands: self.commands.clone(),
            events,
            events_taken: false,
            event_capacity: self.event_capacity,
            done: false,
        }
    }

    /// Holds back every request until [`FleetHandle::resume`]: once this returns,
    /// nothing more is sent (requests already in flight finish). Timers keep
    /// running, so deadlines hold; what falls due waits for the resume.
    pub async fn pause(&self) -> Result<(), DriverError> {
        self.ask(Command::Pause).await
    }

    /// Lets requests out again, those that waited longest first.
    pub async fn resume(&self) -> Result<(), DriverError> {
        self.ask(Command::Resume).await
    }

    /// Holds back every request to the origin of `url` (jobs added later for it
    /// are held too).
    pub async fn pause_origin(&self, url: &Url) -> Result<(), DriverError> {
        self.ask(|ack| Command::PauseOrigin(url.clone(), ack)).await
    }

    /// Lets requests to the origin of `url` out again.
    pub async fn resume_origin(&self, url: &Url) -> Result<(), DriverError> {
        self.ask(|ack| Command::ResumeOrigin(url.clone(), ack))
            .await
    }

    /// Stops every job: each one's cancel request goes to the server when its
    /// profile has one (unless the fleet or its origin is paused), and every
    /// [`FleetJob`] then resolves, most with [`Outcome::Cancelled`]. The fleet
    /// takes new jobs afterwards.
    pub async fn stop_all(&self) -> Result<(), DriverError> {
        self.ask(Command::StopAll).await
    }

    /// A snapshot of the fleet's counts and state.
    pub async fn metrics(&self) -> Result<FleetMetrics, DriverError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Metrics(reply))?;
        answer.await.map_err(|_| DriverError::FleetClosed)
    }

    /// Waits until no job runs and every [`FleetJob`] has its outcome (at once if
    /// that is so now).
    pub async fn idle(&self) -> Result<(), DriverError> {
        self.ask(Command::Idle).await
    }

    /// Stops every job (as [`FleetHandle::stop_all`]), waits until each has its
    /// outcome and the cancel requests are answered, then ends the fleet's task.
    /// Afterwards every call on any clone of the handle is
    /// [`DriverError::FleetClosed`]; calling it again then is harmless.
    pub async fn shutdown(&self) -> Result<(), DriverError> {
        match self.ask(Command::Shutdown).await {
            Err(DriverError::FleetClosed) | Ok(()) => Ok(()),
            Err(error) => Err(error),
        }
    }

    fn send(&self, command: Command) -> Result<(), DriverError> {
        self.commands
            .send(command)
            .map_err(|_| DriverError::FleetClosed)
    }

    async fn ask(&self, command: impl FnOnce(Ack) -> Command) -> Result<(), DriverError> {
        let (ack, acked) = oneshot::channel();
        self.send(command(ack))?;
        acked.await.map_err(|_| DriverError::FleetClosed)
    }
}

/// One subscription to a job of a fleet. Await it for the [`Outcome`]; read its
/// events with [`FleetJob::events`]; stop it with [`FleetJob::stop`] or by dropping
/// it.
///
/// Stopping the only subscriber of a job cancels the job, with the server-side
/// cancel request when the profile has one (unless the fleet or the job's origin is
/// paused); stopping one of several subscribers of a shared job ends that
/// subscription at once and leaves the job to the others.
#[derive(Debug)]
#[must_use = "dropping a FleetJob stops it"]
pub struct FleetJob {
    subscriber: Subscriber,
    outcome: oneshot::Receiver<Box<Outcome>>,
    commands: mpsc::UnboundedSender<Command>,
    events: Option<EventStream>,
    events_taken: bool,
    event_capacity: usize,
    done: bool,
}

impl FleetJob {
    /// The job's events. With [`FleetHandle::add_with_events`], the first call
    /// takes a stream that holds every event from the job's start; otherwise the
    /// first call starts a stream from now on (a job's first event needs an answer
    /// from its server, so taking the stream right after `add` misses nothing in
    /// practice). A later call, or one after the outcome, gets a stream that has
    /// already ended. The stream ends after the job's last event, once the outcome
    /// is ready; a slow reader loses only progress reports (see [`EventStream`]).
    pub fn events(&mut self) -> EventStream {
        if let Some(stream) = self.events.take() {
            self.events_taken = true;
            return stream;
        }
        if self.events_taken || self.done {
            return EventStream::ended();
        }
        self.events_taken = true;
        let (sink, stream) = events::channel(self.event_capacity, false);
        let command = Command::Events {
            subscriber: self.subscriber,
            sink,
        };
        // If the fleet is gone, the sink drops with the command: the stream ends.
        let _ = self.commands.send(command);
        stream
    }

    /// Stops this subscription (see [`FleetJob`]); the job then resolves, usually
    /// with [`Outcome::Cancelled`], or with the outcome it had already reached.
    /// Calling it again, or after the outcome, does nothing.
    pub fn stop(&self) {
        if !self.done {
            let _ = self.commands.send(Command::Stop(self.subscriber));
        }
    }

    /// The fleet's key of the job this subscription follows (shared subscribers
    /// have the same).
    pub fn key(&self) -> JobKey {
        self.subscriber.job()
    }

    /// Whether the outcome is ready (or was taken).
    pub fn is_finished(&self) -> bool {
        self.done || !self.outcome.is_empty()
    }
}

impl Future for FleetJob {
    type Output = Result<Outcome, DriverError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        poll_outcome(
            &mut this.done,
            &mut this.outcome,
            cx,
            |result| match result {
                Ok(outcome) => Ok(*outcome),
                Err(_) => Err(DriverError::FleetClosed),
            },
        )
    }
}

impl Drop for FleetJob {
    fn drop(&mut self) {
        self.stop();
    }
}
