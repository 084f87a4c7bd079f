//! Many jobs in one task: the fleet runner.
//!
//! One tokio task owns a [`jobpoll_core::fleet::Fleet`], one timer (a single
//! `tokio::time::Sleep`, re-armed to the fleet's next wake-up) and the requests in
//! flight (a `FuturesUnordered`; each request's future in a box that the next
//! request reuses; an [`Abort`](FleetOutput::Abort) drops the request at once).
//! There is no task and no timer per job: the fleet's limits bound how many
//! requests are in flight, and the task sleeps until an answer, a command or the
//! timer wakes it. [`FleetHandle`] (in `handle`) talks to it over a channel.

use std::collections::HashMap;
use std::future::Future;
use std::hash::{BuildHasherDefault, Hasher};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use jobpoll_core::fleet::{Fleet, FleetConfig, FleetInput, FleetOutput, JobKey, Subscriber};
use jobpoll_core::trace::Redactor;
use jobpoll_core::{Config, Input, JobSpec, Outcome, Profile, RequestId, SpecError, Transmit};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info};
use url::Url;

use crate::clock::Clock;
use crate::events::EventSink;
use crate::transport::{self, Answer};

mod handle;

pub use self::handle::{FleetHandle, FleetJob};

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
type MakeRequest<F> = fn(&reqwest::Client, Transmit, usize, Option<transport::Exchange>) -> F;

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
            let wake_at = self.drain();
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
                    // A tick (like a stop of everything) is never refused.
                    let _ = self.fleet.handle_input(FleetInput::Tick { now });
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
                let _ = self.fleet.handle_input(FleetInput::StopAll { now });
                let _ = ack.send(());
            }
            Command::Metrics(reply) => {
                let _ = reply.send(self.metrics());
            }
            Command::Idle(ack) => self.idle_waiters.push(ack),
            Command::Shutdown(ack) => {
                let _ = self.fleet.handle_input(FleetInput::StopAll { now });
                self.shutdown_waiters.push(ack);
            }
        }
    }

    fn stop(&mut self, subscriber: Subscriber) {
        if self.outcomes.contains_key(&subscriber) {
            // Unknown only when it has just finished: nothing to stop.
            let now = self.clock.now();
            let _ = self
                .fleet
                .handle_input(FleetInput::Stop { subscriber, now });
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
        let input = Input::answer(id, answer, self.clock.now());
        let Some(input) = FleetInput::answer(job, input) else {
            return;
        };
        if let Err(error) = self.fleet.handle_input(input) {
            // Only possible when an answer races the job's end; nothing changed.
            debug!(%error, "answer refused");
        }
    }

    /// Acts on everything the fleet asks for; returns when it next wants a tick.
    fn drain(&mut self) -> Option<jobpoll_core::Instant> {
        let wake_at = loop {
            match self.fleet.poll_output() {
                FleetOutput::Transmit { job, transmit } => {
                    let logged = transport::log_request(&self.redactor, &transmit);
                    let max_body = self.fleet.job(job).map_or_else(
                        || Config::standard().max_body_bytes,
                        |job| job.config().max_body_bytes,
                    );
                    let id = transmit.id;
                    let request = (self.send)(&self.http, transmit, max_body, logged);
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
                FleetOutput::WakeAt(at) => break Some(at),
                FleetOutput::Idle => break None,
            }
        };
        if !self.aborting.is_empty() {
            self.abort_requests();
        }
        wake_at
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
