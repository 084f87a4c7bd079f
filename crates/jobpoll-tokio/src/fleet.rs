//! Many jobs in one task: the fleet runner.
//!
//! One tokio task owns a [`jobpoll_core::fleet::Fleet`], one timer (a single
//! `tokio::time::Sleep`, re-armed to the fleet's next wake-up) and the requests in
//! flight (a `FuturesUnordered`; each request's future in a box that the next
//! request reuses; an [`Abort`](FleetOutput::Abort) drops the request at once).
//! There is no task and no timer per job: the fleet's limits bound how many
//! requests are in flight, and the task sleeps until an answer, a command or the
//! timer wakes it. [`FleetHandle`] talks to it over a channel.

use std::collections::HashMap;
use std::future::Future;
use std::hash::{BuildHasherDefault, Hasher};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use jobpoll_core::fleet::{Fleet, FleetConfig, FleetOutput, JobKey, Subscriber};
use jobpoll_core::trace::Redactor;
use jobpoll_core::{Config, Input, JobSpec, Outcome, Profile, RequestId, SpecError, Transmit};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info};
use url::Url;

use crate::DriverError;
use crate::clock::Clock;
use crate::events::{self, EventSink, EventStream};
use crate::handle::poll_outcome;
use crate::transport::{self, Answer};

/// A snapshot of a fleet: the counts over its life and what it is doing now.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct FleetMetrics {
    /// Counts over the fleet's life: jobs, shared polls, outcomes by kind, errors
    /// by kind, requests, attempts, completion time.
    pub totals: jobpoll_core::fleet::FleetMetrics,
    /// Jobs running now (a job shared by several subscribers counts once).
    pub running: usize,
    /// Subscriptions still waiting for their outcome.
    pub waiting: usize,
    /// Requests in flight now.
    pub in_flight: u32,
    /// Origins held back by a server hint (`Retry-After`, an exhausted
    /// `RateLimit`) right now, whether a job started there or a server's answer
    /// named it for the job's status.
    pub throttled_origins: usize,
    /// Origins the fleet keeps state for now: those of its running jobs, those
    /// paused with [`FleetHandle::pause_origin`], and those a server hint still
    /// holds back. An origin leaves once none of these needs it, so this does not
    /// grow with the hosts servers name in their status URLs.
    pub origins: usize,
    /// Whether the whole fleet is paused.
    pub paused: bool,
}

/// What a [`FleetHandle`] asks of the runner.
enum Command {
    Add {
        spec: JobSpec<Arc<Profile>>,
        config: Arc<Config>,
        outcome: OutcomeSender,
        events: Option<EventSink>,
        reply: oneshot::Sender<Result<Subscriber, SpecError>>,
    },
    /// Many jobs under one configuration, in one message and one reply.
    AddMany {
        jobs: Vec<(JobSpec<Arc<Profile>>, OutcomeSender)>,
        config: Arc<Config>,
        reply: oneshot::Sender<Vec<Result<Subscriber, SpecError>>>,
    },
    Events {
        subscriber: Subscriber,
        sink: EventSink,
    },
    Stop(Subscriber),
    Pause(Ack),
    Resume(Ack),
    PauseOrigin(Url, Ack),
    ResumeOrigin(Url, Ack),
    StopAll(Ack),
    Metrics(oneshot::Sender<FleetMetrics>),
    Idle(Ack),
    Shutdown(Ack),
}

type Ack = oneshot::Sender<()>;

/// Where a subscription's outcome goes. The outcome is boxed so that a waiting
/// subscription holds a small allocation.
type OutcomeSender = oneshot::Sender<Box<Outcome>>;

/// Hashes the keys the fleet hands out (small integers, never chosen by a peer)
/// with one multiply per word rather than SipHash: the runner looks one up for
/// every event and outcome.
#[derive(Clone, Copy, Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u32(&mut self, word: u32) {
        self.write_u64(u64::from(word));
    }

    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0xf135_7aea_2e62_a9c5);
    }

    fn finish(&self) -> u64 {
        // The table takes its buckets from the low bits: bring the well-mixed high
        // bits down.
        self.0.rotate_left(26)
    }
}

/// A map keyed by the fleet's keys.
type KeyMap<K, V> = HashMap<K, V, BuildHasherDefault<KeyHasher>>;

/// The box a request's future lives in. It outlives the request: once the request
/// is answered or aborted, the empty box goes back to the runner for the next
/// request, so that a request costs no allocation of its future's size.
type Slot<F> = Pin<Box<Option<F>>>;

/// A request in flight: its job and id, and its future until it is answered or
/// aborted.
struct InFlight<F> {
    job: JobKey,
    id: RequestId,
    /// The waker it was last polled with: an abort wakes it, so that the runner
    /// drops it from its set at once.
    waker: Option<Waker>,
    /// `None` once it has resolved.
    slot: Option<Slot<F>>,
}

/// What a request in flight resolves to.
struct Resolved<F> {
    job: JobKey,
    id: RequestId,
    /// The answer, or `None` if the request was aborted.
    answer: Option<Answer>,
    /// The request's box, empty, for the next request.
    slot: Option<Slot<F>>,
}

impl<F: Future<Output = Answer>> Future for InFlight<F> {
    type Output = Resolved<F>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let answer = match this.slot.as_mut() {
            Some(slot) => match slot.as_mut().as_pin_mut() {
                Some(request) => match request.poll(cx) {
                    Poll::Ready(answer) => {
                        slot.set(None);
                        Some(answer)
                    }
                    Poll::Pending => {
                        if !this
                            .waker
                            .as_ref()
                            .is_some_and(|waker| waker.will_wake(cx.waker()))
                        {
                            this.waker = Some(cx.waker().clone());
                        }
                        return Poll::Pending;
                    }
                },
                None => None,
            },
            None => None,
        };
        Poll::Ready(Resolved {
            job: this.job,
            id: this.id,
            answer,
            slot: this.slot.take(),
        })
    }
}

impl<F> InFlight<F> {
    /// Drops the request now; the future then resolves without an answer.
    fn abort(&mut self) {
        if let Some(slot) = self.slot.as_mut() {
            slot.set(None);
        }
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

/// What the runner makes of a request: [`transport::send`], whose future type has
/// no name of its own.
type MakeRequest<F> = fn(&reqwest::Client, Transmit, usize) -> F;

/// The fleet's task; `F` is the future of one request.
struct Runner<F> {
    fleet: Fleet<Arc<Profile>>,
    http: reqwest::Client,
    send: MakeRequest<F>,
    redactor: Arc<Redactor>,
    clock: Clock,
    /// Where each waiting subscription's outcome goes.
    outcomes: KeyMap<Subscriber, OutcomeSender>,
    /// The event queues of the subscriptions whose events somebody takes: most
    /// have none, and while none has, an event costs no look-up.
    sinks: KeyMap<Subscriber, EventSink>,
    requests: FuturesUnordered<InFlight<F>>,
    /// Empty request boxes, for the next requests.
    spare: Vec<Slot<F>>,
    /// The requests the fleet aborted in the outputs being drained; dropped in one
    /// pass over the requests in flight at the end.
    aborting: Vec<(JobKey, RequestId)>,
    idle_waiters: Vec<Ack>,
    shutdown_waiters: Vec<Ack>,
}

/// Starts the runner on `runtime`; the caller's end of it.
pub(crate) fn spawn(
    runtime: &tokio::runtime::Handle,
    config: FleetConfig,
    http: reqwest::Client,
    redactor: Arc<Redactor>,
    event_capacity: usize,
) -> FleetHandle {
    let (sender, receiver) = mpsc::unbounded_channel();
    let runner = Runner::new(config, http, transport::send, redactor);
    runtime.spawn(async move {
        let mut runner = runner;
        runner.run(receiver).await;
    });
    FleetHandle {
        commands: sender,
        event_capacity,
    }
}

impl<F> Runner<F> {
    /// A runner whose requests are made by `send`.
    fn new(
        config: FleetConfig,
        http: reqwest::Client,
        send: MakeRequest<F>,
        redactor: Arc<Redactor>,
    ) -> Runner<F> {
        Runner {
            fleet: Fleet::new(config),
            http,
            send,
            redactor,
            clock: Clock::start(),
            outcomes: KeyMap::default(),
            sinks: KeyMap::default(),
            requests: FuturesUnordered::new(),
            spare: Vec::new(),
            aborting: Vec::new(),
            idle_waiters: Vec::new(),
            shutdown_waiters: Vec::new(),
        }
    }
}

impl<F: Future<Output = Answer> + Send + 'static> Runner<F> {
    async fn run(&mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        let mut sleep = pin!(tokio::time::sleep_until(self.clock.epoch()));
        let mut listening = true;
        loop {
            self.drain();
            if self.is_idle() {
                // Requests still in flight belong to no job any more; the tables
                // give back what a large batch made them grow to.
                self.requests.clear();
                self.spare = Vec::new();
                self.outcomes.shrink_to_fit();
                self.sinks.shrink_to_fit();
                for waiter in self.idle_waiters.drain(..) {
                    let _ = waiter.send(());
                }
                if !self.shutdown_waiters.is_empty() || !listening {
                    break;
                }
            }
            let wake_at = self.fleet.poll_timeout();
            if let Some(at) = wake_at {
                let deadline = self.clock.deadline(at);
                if sleep.deadline() != deadline {
                    sleep.as_mut().reset(deadline);
                }
            }
            tokio::select! {
                command = commands.recv(), if listening => match command {
                    Some(command) => self.command(command),
                    // Every handle and job is gone: finish what runs, then end.
                    None => listening = false,
                },
                Some(resolved) = self.requests.next(), if !self.requests.is_empty() => {
                    if let Some(slot) = resolved.slot {
                        self.spare.push(slot);
                    }
                    self.answer(resolved.job, resolved.id, resolved.answer);
                }
                () = &mut sleep, if wake_at.is_some() => {
                    // Never tell the fleet it is earlier than it asked.
                    let now = self.clock.now();
                    let now = wake_at.map_or(now, |at| now.max(at));
                    self.fleet.handle_timeout(now);
                }
                // Nobody can add or stop anything, and nothing is under way or due:
                // nothing will ever change.
                else => break,
            }
        }
        // Anything that came in while shutting down hears that the fleet is gone
        // when the channel drops.
        for waiter in self.shutdown_waiters.drain(..) {
            let _ = waiter.send(());
        }
        debug!("fleet stopped");
    }

    /// No job runs and every subscription has its outcome.
    fn is_idle(&self) -> bool {
        self.fleet.is_empty() && self.outcomes.is_empty()
    }

    fn command(&mut self, command: Command) {
        let now = self.clock.now();
        match command {
            Command::Add {
                spec,
                config,
                outcome,
                events,
                reply,
            } => {
                if !self.shutdown_waiters.is_empty() {
                    // Shutting down: dropping `reply` tells the caller.
                    return;
                }
                match self.enlist(spec, config, outcome, events, now) {
                    Ok(subscriber) => {
                        if reply.send(Ok(subscriber)).is_err() {
                            // The caller stopped waiting for the job: stop it.
                            self.stop(subscriber);
                        }
                    }
                    Err(error) => {
                        let _ = reply.send(Err(error));
                    }
                }
            }
            Command::AddMany {
                jobs,
                config,
                reply,
            } => {
                if !self.shutdown_waiters.is_empty() {
                    return;
                }
                let added: Vec<_> = jobs
                    .into_iter()
                    .map(|(spec, outcome)| self.enlist(spec, config.clone(), outcome, None, now))
                    .collect();
                if let Err(added) = reply.send(added) {
                    // The caller stopped waiting: stop what it would have had.
                    for subscriber in added.into_iter().flatten() {
                        self.stop(subscriber);
                    }
                }
            }
            Command::Events { subscriber, sink } => {
                if self.outcomes.contains_key(&subscriber) {
                    self.sinks.insert(subscriber, sink);
                }
            }
            Command::Stop(subscriber) => self.stop(subscriber),
            Command::Pause(ack) => {
                self.fleet.pause();
                let _ = ack.send(());
            }
            Command::Resume(ack) => {
                self.fleet.resume(now);
                let _ = ack.send(());
            }
            Command::PauseOrigin(url, ack) => {
                self.fleet.pause_origin(&url);
                let _ = ack.send(());
            }
            Command::ResumeOrigin(url, ack) => {
                self.fleet.resume_origin(&url, now);
                let _ = ack.send(());
            }
            Command::StopAll(ack) => {
                self.fleet.stop_all(now);
                let _ = ack.send(());
            }
            Command::Metrics(reply) => {
                let _ = reply.send(self.metrics());
            }
            Command::Idle(ack) => self.idle_waiters.push(ack),
            Command::Shutdown(ack) => {
                self.fleet.stop_all(now);
                self.shutdown_waiters.push(ack);
            }
        }
    }

    fn stop(&mut self, subscriber: Subscriber) {
        if self.outcomes.contains_key(&subscriber) {
            // Unknown only when it has just finished: nothing to stop.
            let _ = self.fleet.stop(subscriber, self.clock.now());
        }
    }

    /// Adds a job to the fleet; its outcome goes to `outcome`, its events to
    /// `events` if given.
    fn enlist(
        &mut self,
        spec: JobSpec<Arc<Profile>>,
        config: Arc<Config>,
        outcome: OutcomeSender,
        events: Option<EventSink>,
        now: jobpoll_core::Instant,
    ) -> Result<Subscriber, SpecError> {
        let subscriber = self.fleet.add(spec, config, now)?;
        self.outcomes.insert(subscriber, outcome);
        if let Some(sink) = events {
            self.sinks.insert(subscriber, sink);
        }
        Ok(subscriber)
    }

    fn metrics(&self) -> FleetMetrics {
        FleetMetrics {
            totals: self.fleet.metrics().clone(),
            running: self.fleet.len(),
            waiting: self.outcomes.len(),
            in_flight: self.fleet.in_flight(),
            throttled_origins: self.fleet.throttled_origins(),
            origins: self.fleet.origins(),
            paused: self.fleet.is_paused(),
        }
    }

    /// Feeds an answer to the fleet, unless its request was aborted meanwhile.
    fn answer(&mut self, job: JobKey, id: RequestId, answer: Option<Answer>) {
        let Some(answer) = answer else { return };
        let result = match transport::answer_input(id, answer, self.clock.now()) {
            Input::Response {
                request,
                response,
                now,
            } => self.fleet.handle_response(job, request, response, now),
            Input::TransportError {
                request,
                error,
                now,
            } => self.fleet.handle_transport_error(job, request, error, now),
            _ => Ok(()),
        };
        if let Err(error) = result {
            // Only possible when an answer races the job's end; nothing changed.
            debug!(%error, "answer refused");
        }
    }

    /// Acts on everything the fleet asks for.
    fn drain(&mut self) {
        while let Some(output) = self.fleet.poll_output() {
            match output {
                FleetOutput::Transmit { job, transmit } => {
                    transport::log_request(&self.redactor, &transmit);
                    let max_body = self.fleet.job(job).map_or_else(
                        || Config::standard().max_body_bytes,
                        |job| job.config().max_body_bytes,
                    );
                    let id = transmit.id;
                    let request = (self.send)(&self.http, transmit, max_body);
                    let mut slot = self.spare.pop().unwrap_or_else(|| Box::pin(None));
                    slot.set(Some(request));
                    self.requests.push(InFlight {
                        job,
                        id,
                        waker: None,
                        slot: Some(slot),
                    });
                }
                FleetOutput::Abort { job, request } => self.aborting.push((job, request)),
                FleetOutput::Event { subscriber, event } => {
                    transport::log_event(&self.redactor, &event);
                    if !self.sinks.is_empty()
                        && let Some(sink) = self.sinks.get(&subscriber)
                    {
                        sink.push(event);
                    }
                }
                FleetOutput::Finished {
                    subscriber,
                    outcome,
                } => {
                    info!(kind = outcome.kind(), outcome = %outcome, "finished");
                    if let Some(sender) = self.outcomes.remove(&subscriber) {
                        // The outcome first, then the end of the event stream: a
                        // reader that sees the stream end finds the outcome ready.
                        let _ = sender.send(Box::new(outcome));
                        if !self.sinks.is_empty() {
                            drop(self.sinks.remove(&subscriber));
                        }
                    }
                }
            }
        }
        if !self.aborting.is_empty() {
            self.abort_requests();
        }
    }

    /// Drops the requests in `aborting` that are still in flight, in one pass.
    fn abort_requests(&mut self) {
        self.aborting.sort_unstable();
        for request in self.requests.iter_mut() {
            if self
                .aborting
                .binary_search(&(request.job, request.id))
                .is_ok()
            {
                debug!(id = request.id.0, "request aborted");
                request.abort();
            }
        }
        self.aborting.clear();
    }
}

/// The caller's end of a fleet: add jobs, pause and resume, stop, read metrics.
/// Cheap to clone; every clone talks to the same fleet. From [`Client::fleet`].
///
/// The fleet runs until [`FleetHandle::shutdown`], or until every handle and every
/// [`FleetJob`] is dropped and the jobs still running have ended.
///
/// [`Client::fleet`]: crate::Client::fleet
#[derive(Clone, Debug)]
pub struct FleetHandle {
    commands: mpsc::UnboundedSender<Command>,
    event_capacity: usize,
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::future::{Ready, ready};
    use std::time::Duration;

    use bytes::Bytes;
    use jobpoll_core::{Schedule, Start};

    use super::*;

    /// Every host at once, without a network: a submit to `front.test/{kind}?{n}`
    /// names its status URL on a host of its own, `h{n}.test/{kind}/{n}`; a status
    /// poll under `/held/` is refused with `Retry-After: 60`, any other has
    /// succeeded.
    fn answer(_: &reqwest::Client, transmit: Transmit, _: usize) -> Ready<Answer> {
        let url = &transmit.url;
        let response = if transmit.method == http::Method::POST {
            let n = url.query().unwrap_or("0");
            let status_url = format!("https://h{n}.test{}/{n}", url.path());
            http::Response::builder()
                .status(202)
                .header("azure-asyncoperation", status_url)
                .body(Bytes::new())
        } else if url.path().starts_with("/held/") {
            http::Response::builder()
                .status(429)
                .header("retry-after", "60")
                .body(Bytes::new())
        } else {
            http::Response::builder().body(Bytes::from_static(br#"{"status":"Succeeded"}"#))
        };
        ready(Ok(response.unwrap()))
    }

    fn runner() -> Runner<Ready<Answer>> {
        Runner::new(
            FleetConfig::default(),
            reqwest::Client::new(),
            answer,
            Arc::new(Redactor::default()),
        )
    }

    fn config() -> Arc<Config> {
        let ms = Duration::from_millis(1);
        Arc::new(Config {
            poll: Schedule::Fixed { interval: ms },
            retry: Schedule::Fixed { interval: ms },
            min_interval: Duration::ZERO,
            ..Config::fast()
        })
    }

    fn azure() -> Arc<Profile> {
        Arc::new(Profile::azure_operation())
    }

    /// Polls `https://h{n}.test/ops/{n}`.
    fn poll(n: usize) -> JobSpec<Arc<Profile>> {
        JobSpec {
            profile: azure(),
            start: Start::Poll {
                status_url: format!("https://h{n}.test/ops/{n}").parse().unwrap(),
                job_id: None,
            },
            headers: Vec::new(),
        }
    }

    /// Submits to the front host, whose answer names `h{n}.test` for the status.
    fn submit(kind: &str, n: usize) -> JobSpec<Arc<Profile>> {
        JobSpec {
            profile: azure(),
            start: Start::Submit {
                method: http::Method::POST,
                url: format!("https://front.test/{kind}?{n}").parse().unwrap(),
                body: None,
            },
            headers: Vec::new(),
        }
    }

    /// Sends `command` with a reply channel and returns the reply's end.
    fn ask<T>(
        commands: &mpsc::UnboundedSender<Command>,
        command: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> oneshot::Receiver<T> {
        let (reply, replied) = oneshot::channel();
        commands.send(command(reply)).unwrap();
        replied
    }

    #[tokio::test]
    async fn jobs_on_hosts_of_their_own_leave_nothing_behind_in_the_runner() {
        let mut runner = runner();
        let (commands, receiver) = mpsc::unbounded_channel();
        let jobs = 500;
        // Half polled where the caller says, half where the front host's answer
        // says; some with their events kept from the start, some taken later.
        let mut specs: Vec<_> = (0..jobs / 2).map(poll).collect();
        specs.extend((jobs / 2..jobs).map(|n| submit("ops", n)));
        let mut outcomes = Vec::new();
        let mut streams = Vec::new();
        for (n, spec) in specs.into_iter().enumerate() {
            let (outcome, finished) = oneshot::channel();
            let (sink, stream) = events::channel(4, false);
            let events = (n % 3 == 0).then_some(sink);
            let added = ask(&commands, |reply| Command::Add {
                spec,
                config: config(),
                outcome,
                events,
                reply,
            });
            outcomes.push((added, finished));
            streams.push(stream);
        }
        let driver = async {
            let mut later = Vec::new();
            for (n, (added, finished)) in outcomes.into_iter().enumerate() {
                let subscriber = added.await.unwrap().unwrap();
                if n % 3 == 1 {
                    let (sink, stream) = events::channel(4, false);
                    commands.send(Command::Events { subscriber, sink }).unwrap();
                    later.push(stream);
                }
                assert!(finished.await.unwrap().is_success());
            }
            ask(&commands, Command::Idle).await.unwrap();
            let metrics = ask(&commands, Command::Metrics).await.unwrap();
            drop(commands);
            (metrics, later)
        };
        let ((), (metrics, _later)) = tokio::join!(runner.run(receiver), driver);
        assert_eq!(
            metrics.totals.outcomes.get("succeeded"),
            Some(&(jobs as u64)),
            "{metrics:?}"
        );
        assert_eq!(
            (metrics.running, metrics.waiting, metrics.origins),
            (0, 0, 0),
            "{metrics:?}"
        );
        // Nothing per job or per origin is left in the runner.
        assert_eq!(runner.fleet.origins(), 0);
        assert!(runner.fleet.is_empty());
        assert!(runner.outcomes.is_empty());
        assert!(runner.sinks.is_empty());
        assert!(runner.requests.is_empty());
        assert!(runner.aborting.is_empty());
    }

    #[tokio::test]
    async fn the_throttled_count_covers_the_hosts_servers_name() {
        let mut runner = runner();
        let (commands, receiver) = mpsc::unbounded_channel();
        // Every job starts at the front host; the hosts of four status URLs hold
        // back with a 429, four others answer.
        let specs = (0..8).map(|n| submit(if n % 2 == 0 { "held" } else { "ops" }, n));
        let (jobs, _outcomes): (Vec<_>, Vec<_>) = specs
            .map(|spec| {
                let (sender, outcome) = oneshot::channel();
                ((spec, sender), outcome)
            })
            .unzip();
        let driver = async {
            let added = ask(&commands, |reply| Command::AddMany {
                jobs,
                config: config(),
                reply,
            });
            assert!(added.await.unwrap().iter().all(Result::is_ok));
            let mut held = ask(&commands, Command::Metrics).await.unwrap();
            for _ in 0..1000 {
                if held.totals.errors.get("http_429") == Some(&4) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
                held = ask(&commands, Command::Metrics).await.unwrap();
            }
            ask(&commands, Command::StopAll).await.unwrap();
            ask(&commands, Command::Idle).await.unwrap();
            let stopped = ask(&commands, Command::Metrics).await.unwrap();
            drop(commands);
            (held, stopped)
        };
        let ((), (held, stopped)) = tokio::join!(runner.run(receiver), driver);
        assert_eq!(held.throttled_origins, 4, "{held:?}");
        // The jobs are gone; the four holds still keep their origins.
        assert_eq!(
            (stopped.running, stopped.throttled_origins, stopped.origins),
            (0, 4, 4),
            "{stopped:?}"
        );
        // Once the holds end, so do their origins.
        while let Some(at) = runner.fleet.poll_timeout() {
            runner.fleet.handle_timeout(at);
        }
        let metrics = runner.metrics();
        assert_eq!(
            (metrics.throttled_origins, metrics.origins),
            (0, 0),
            "{metrics:?}"
        );
    }
}
