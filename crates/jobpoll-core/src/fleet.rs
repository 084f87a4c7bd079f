//! Many jobs behind one scheduler.
//!
//! A [`Fleet`] drives any number of [`Job`]s with one timer queue: the driver keeps
//! one timer, never one per job. On top of what each job does on its own, the
//! fleet
//!
//! - **shares polls**: a second subscriber to the same job (an equal profile, status
//!   URL, job id and headers) joins the running job; one request serves every
//!   subscriber, and each receives every event and the outcome;
//! - **limits requests in flight**, globally and per origin, and queues the rest
//!   fairly: first come, first served within an origin, and across origins the one
//!   that has waited longest since it last sent goes next;
//! - **throttles per origin**: a 429 or 503 with a wait, or an exhausted `RateLimit`
//!   budget, that one job receives holds back every job on that origin until the
//!   wait is over;
//! - **pauses** the whole fleet or one origin (a hidden browser tab): a paused fleet
//!   sends nothing, and the requests that fall due wait for the resume;
//! - **stops** one subscriber or everything, at once: a cancel request does not
//!   wait for a throttle, a queue or a limit;
//! - keeps **metrics**: completion time, success rate, errors by kind, attempts.
//!
//! Like a job, the fleet is pure: time is an input, and the same inputs give the same
//! outputs. Adding a job, a timer firing, a response and a release from a queue cost
//! O(log n) in the number of jobs; pausing, resuming and stopping everything are
//! linear in what they touch.
//!
//! ## The run loop
//!
//! The loop of one [`Job`], for many: feed a [`FleetInput`] with
//! [`Fleet::handle_input`], then drain [`Fleet::poll_output`] until it answers
//! [`FleetOutput::WakeAt`] ("wake me at T": feed [`FleetInput::Tick`] then) or
//! [`FleetOutput::Idle`] (no job waits on time). Setting the fleet up is done with
//! calls ([`Fleet::add`], [`Fleet::pause`], [`Fleet::resume`] and the origin's
//! pause and resume); drain after those too.
//!
//! ```
//! use std::sync::Arc;
//! use bytes::Bytes;
//! use jobpoll_core::fleet::{Fleet, FleetConfig, FleetInput, FleetOutput};
//! use jobpoll_core::{Config, Instant, JobSpec, Profile};
//!
//! let profile = Arc::new(Profile::jobs());
//! let config = Arc::new(Config::standard());
//! let mut fleet = Fleet::new(FleetConfig::default());
//! let mut now = Instant::ZERO;
//! let mut subscribers = Vec::new();
//! // The third subscription joins the second: one job, polled once for both.
//! for n in [0, 1, 1] {
//!     let url = format!("https://api.example.com/api/v1/jobs/job_{n}").parse().unwrap();
//!     let spec = JobSpec { profile: profile.clone(), ..JobSpec::poll_shared(url) };
//!     subscribers.push(fleet.add(spec, config.clone(), now).unwrap());
//! }
//! // Its user gives up at once; the job goes on for the other.
//! let stopped = subscribers[2];
//! fleet.handle_input(FleetInput::Stop { subscriber: stopped, now }).unwrap();
//! let mut outcomes = Vec::new();
//! loop {
//!     match fleet.poll_output() {
//!         // A real driver sends the request; here the server answers at once.
//!         FleetOutput::Transmit { job, transmit } => {
//!             let body = r#"{"status":"completed","result_data":{"url":"x"}}"#;
//!             let response = http::Response::new(Bytes::from(body));
//!             let request = transmit.id;
//!             fleet.handle_input(FleetInput::Response { job, request, response, now }).unwrap();
//!         }
//!         FleetOutput::Abort { .. } => {} // drop that request
//!         FleetOutput::Event { .. } => {}
//!         FleetOutput::Finished { subscriber, outcome } => outcomes.push((subscriber, outcome)),
//!         FleetOutput::WakeAt(at) => {
//!             now = at; // a real driver sleeps until `at`, or until an input comes
//!             fleet.handle_input(FleetInput::Tick { now }).unwrap();
//!         }
//!         // Nothing waits on time: a real driver waits for an input or a call.
//!         FleetOutput::Idle => break,
//!     }
//! }
//! assert_eq!(outcomes.len(), 3);
//! for (subscriber, outcome) in outcomes {
//!     assert_eq!(outcome.is_success(), subscriber != stopped, "{outcome}");
//! }
//! ```

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;

use url::Url;

use crate::config::Config;
use crate::event::{CancelledBy, Event, Outcome};
use crate::job::{Input, Job, JobSpec, Output, SpecError, Start};
use crate::profile::{Interpret, Profile};
use crate::rng::Rng;
use crate::time::Instant;

mod api;
mod flights;
mod origins;
mod sharing;
mod slots;
mod timers;

pub use api::{FleetConfig, FleetError, FleetInput, FleetMetrics, FleetOutput, JobKey, Subscriber};
use slots::{Entry, Slots, Subscribers};

use flights::{Flights, NO_FLIGHT};
use origins::{Origins, origin_name, origin_wait};
use sharing::{NO_SHARE, share_key, slot_share_key};
use timers::Timers;

/// Entries an empty origin queue may keep room for; a queue that grew past this
/// for a burst gives its memory back once it is empty.
const KEPT_QUEUE: usize = 1024;

const NO_TIMER: u64 = u64::MAX;

/// Many jobs, one scheduler. See the [module documentation](self).
#[derive(Debug)]
pub struct Fleet<P = Arc<Profile>> {
    config: FleetConfig,
    slots: Slots<P>,
    free: Vec<u32>,
    live: usize,
    /// Timers of jobs without a request in flight: (instant µs, slot, generation).
    /// Entries whose job moved its timer or ended are skipped when they come up.
    timers: Timers,
    /// Time limits of the requests in flight, same form. Removed when the answer comes,
    /// so that answered requests leave nothing behind in `timers` (a million idle
    /// jobs keep one timer entry each); at most `max_in_flight` long.
    flights: Flights,
    /// Origin throttle ends: (instant µs, origin, its generation).
    throttle_ends: BinaryHeap<Reverse<(u64, u32, u32)>>,
    /// The origins of the running jobs, and those the user paused or a throttle
    /// still holds; an origin nothing needs leaves the table.
    origins: Origins,
    /// Origins with waiting jobs, least recently served first: (turn, origin, its
    /// generation). An entry whose origin has sent since is put back with its new
    /// turn; one whose origin has left the table is dropped.
    ring: BinaryHeap<Reverse<(u64, u32, u32)>>,
    /// Counts requests sent, to order origins by when they last sent.
    turns: u64,
    /// Running jobs that can be shared, as slots, found by their entry's
    /// `share_key` (a hash of profile, status URL and headers): 4 bytes a job.
    shared: hashbrown::HashTable<u32>,
    in_flight: u32,
    paused: bool,
    seeds: Rng,
    metrics: FleetMetrics,
    outputs: VecDeque<FleetOutput>,
    /// The one output buffer lent to whichever job is handling an input.
    spare: crate::job::Outputs,
    now: u64,
}

impl JobSpec<Arc<Profile>> {
    /// [`JobSpec::poll`] for a fleet: the built-in jobs profile, shared; replace
    /// `profile` with a clone of your own `Arc` to share another.
    pub fn poll_shared(status_url: Url) -> JobSpec<Arc<Profile>> {
        let JobSpec { start, headers, .. } = JobSpec::poll(Profile::jobs(), status_url);
        JobSpec {
            profile: Arc::new(Profile::jobs()),
            start,
            headers,
        }
    }
}

impl<P: Interpret> Fleet<P> {
    /// An empty fleet. Limits below 1 are raised to 1.
    pub fn new(config: FleetConfig) -> Fleet<P> {
        let config = FleetConfig {
            max_in_flight: config.max_in_flight.max(1),
            max_in_flight_per_origin: config.max_in_flight_per_origin.max(1),
            ..config
        };
        Fleet {
            seeds: Rng::new(config.seed),
            config,
            slots: Slots::default(),
            free: Vec::new(),
            live: 0,
            timers: Timers::default(),
            flights: Flights::default(),
            throttle_ends: BinaryHeap::new(),
            origins: Origins::default(),
            ring: BinaryHeap::new(),
            turns: 0,
            shared: hashbrown::HashTable::new(),
            in_flight: 0,
            paused: false,
            metrics: FleetMetrics::default(),
            outputs: VecDeque::new(),
            spare: crate::job::Outputs::default(),
            now: 0,
        }
    }

    /// Subscribes to a job. A job polled by URL that the fleet already runs with
    /// the very same spec (an equal profile, status URL, job id and headers) is
    /// shared: the new subscriber joins it as it is, under its configuration
    /// (`config` is then unused). Otherwise a new job starts at `now` under
    /// `config` (share one `Arc` between jobs) and a seed drawn from the fleet's.
    ///
    /// Profiles are compared by value (`Arc`s of one profile compare by pointer
    /// first), so a profile edited to read the answers differently never joins a
    /// job that reads them with another.
    pub fn add(
        &mut self,
        spec: JobSpec<P>,
        config: Arc<Config>,
        now: Instant,
    ) -> Result<Subscriber, SpecError>
    where
        P: PartialEq,
    {
        self.see(now);
        let share_key = share_key(&spec);
        if let Some(key) = share_key
            && let Some(job) = self.shared_job(key, &spec)
            && let Some(entry) = self.entry_mut(job)
        {
            let number = entry.next_subscriber;
            entry.next_subscriber = number.wrapping_add(1);
            entry.subscribers.push(number);
            self.metrics.joined += 1;
            return Ok(Subscriber { job, number });
        }
        let start_url = match &spec.start {
            Start::Poll { status_url, .. } => status_url,
            Start::Submit { url, .. } => url,
        };
        let origin_name = origin_name(start_url);
        let seed = self.seeds.next_u64();
        let job = Job::build(spec, config, seed, now, true)?;
        // Only a job that runs puts its origin in the table.
        let origin = self.origins.intern(origin_name);
        self.origins[origin].jobs = self.origins[origin].jobs.saturating_add(1);
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => self.slots.grow(),
        };
        let generation = self.slots[slot].generation;
        let key = JobKey { slot, generation };
        // No running job has this spec (else it was joined): it can be shared.
        let share_key = share_key.unwrap_or(NO_SHARE);
        self.slots[slot].entry = Some(Entry {
            job,
            origin,
            share_key,
            timer_at: NO_TIMER,
            flight: NO_FLIGHT,
            subscribers: Subscribers::One(0),
            next_subscriber: 1,
            in_flight: false,
            queued: false,
        });
        if share_key != NO_SHARE {
            let slots = &self.slots;
            self.shared
                .insert_unique(share_key, slot, |s| slot_share_key(slots, *s));
        }
        self.live += 1;
        self.metrics.jobs += 1;
        self.settle(key);
        self.pump();
        Ok(Subscriber {
            job: key,
            number: 0,
        })
    }

    /// Feeds one input. Drain [`Fleet::poll_output`] until it returns
    /// [`FleetOutput::WakeAt`] or [`FleetOutput::Idle`] afterwards.
    ///
    /// Never panics. An answer for a job that has ended (or a request it no
    /// longer waits for), or a stop of a subscription that has ended, is a
    /// [`FleetError`] and changes nothing.
    pub fn handle_input(&mut self, input: FleetInput) -> Result<(), FleetError> {
        match input {
            FleetInput::Response {
                job,
                request,
                response,
                now,
            } => self.answer(
                job,
                Input::Response {
                    request,
                    response,
                    now,
                },
            ),
            FleetInput::TransportError {
                job,
                request,
                error,
                now,
            } => self.answer(
                job,
                Input::TransportError {
                    request,
                    error,
                    now,
                },
            ),
            FleetInput::Tick { now } => {
                self.tick(now);
                Ok(())
            }
            FleetInput::Stop { subscriber, now } => self.stop(subscriber, now),
            FleetInput::StopAll { now } => {
                self.stop_all(now);
                Ok(())
            }
        }
    }

    /// The next output. Drain after every input and every call that changes the
    /// fleet (`add`, the pauses and resumes) until [`FleetOutput::WakeAt`] (then
    /// wait for that instant or an input) or [`FleetOutput::Idle`] (wait for an
    /// input or a call).
    #[must_use]
    pub fn poll_output(&mut self) -> FleetOutput {
        if let Some(output) = self.outputs.pop_front() {
            return output;
        }
        match self.next_wake() {
            Some(at) => FleetOutput::WakeAt(at),
            None => FleetOutput::Idle,
        }
    }

    /// When the fleet next needs a [`FleetInput::Tick`]: what the last
    /// [`FleetOutput::WakeAt`] said, for a driver that wants to ask again;
    /// `None` when no job waits on time.
    #[must_use]
    pub fn next_wake(&mut self) -> Option<Instant> {
        while let Some(timer) = self.timers.peek() {
            if self.is_live_timer(timer) {
                break;
            }
            self.timers.pop();
        }
        let timer = self.timers.peek().map(|(at, _, _)| at);
        let flight = self.flights.first().map(|(at, _, _)| at);
        let job = match (timer, flight) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let throttle = self.throttle_ends.peek().map(|Reverse((at, _, _))| *at);
        let at = match (job, throttle) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        };
        Some(Instant::from_micros(at))
    }

    /// Holds back every request until [`Fleet::resume`]. Requests in flight finish;
    /// timers keep running (deadlines hold), and what falls due waits.
    pub fn pause(&mut self) {
        self.paused = true;
    }

    /// Lets requests out again, oldest first.
    pub fn resume(&mut self, now: Instant) {
        self.see(now);
        self.paused = false;
        for origin in 0..self.origins.end() {
            self.enter_ring(origin);
        }
        self.pump();
    }

    /// Whether the whole fleet is paused.
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Holds back every request to `origin` (`scheme://host[:port]`, as
    /// [`Url::origin`] writes it; jobs added later for it are held too).
    pub fn pause_origin(&mut self, origin: &Url) {
        let id = self.origins.intern(origin_name(origin));
        self.origins[id].paused = true;
    }

    /// Lets requests to `origin` out again.
    pub fn resume_origin(&mut self, origin: &Url, now: Instant) {
        let now = self.see(now);
        let Some(id) = self.origins.find(&origin_name(origin)) else {
            return;
        };
        self.origins[id].paused = false;
        self.enter_ring(id);
        self.pump();
        self.origins.retire_if_idle(id, now);
    }

    /// Counts over the fleet's life.
    pub fn metrics(&self) -> &FleetMetrics {
        &self.metrics
    }

    /// The fleet's limits.
    pub fn config(&self) -> &FleetConfig {
        &self.config
    }

    /// Jobs running (a shared job counts once).
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether no job is running.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Requests in flight over all origins (cancel requests included, which may
    /// take it past [`FleetConfig::max_in_flight`]).
    pub fn in_flight(&self) -> u32 {
        self.in_flight
    }

    /// Requests in flight to the origin of `url`.
    pub fn in_flight_to(&self, url: &Url) -> u32 {
        self.origins
            .find(&origin_name(url))
            .map_or(0, |id| self.origins[id].in_flight)
    }

    /// Until when the origin of `url` is throttled by a server hint, if it is.
    pub fn throttled_until(&self, url: &Url) -> Option<Instant> {
        let id = self.origins.find(&origin_name(url))?;
        let until = self.origins[id].throttled_until;
        (until > self.now).then(|| Instant::from_micros(until))
    }

    /// How many origins a server hint (`Retry-After`, an exhausted `RateLimit`)
    /// holds back now: those for which [`Fleet::throttled_until`] is `Some`,
    /// whichever URL named them (a submit URL, or a status URL from a server's
    /// answer).
    pub fn throttled_origins(&self) -> usize {
        self.origins.throttled(self.now)
    }

    /// Origins the fleet keeps state for: those its running jobs count against,
    /// those paused with [`Fleet::pause_origin`], and those a throttle hold
    /// still holds back. Any other origin leaves the fleet's table once its last
    /// job ends, so the table does not grow with the hosts servers name.
    pub fn origins(&self) -> usize {
        self.origins.len()
    }

    /// The job behind `key`, while it runs.
    pub fn job(&self, key: JobKey) -> Option<&Job<P>> {
        self.entry(key).map(|entry| &entry.job)
    }

    /// How many subscribers follow the job behind `key`.
    pub fn subscribers(&self, key: JobKey) -> usize {
        self.entry(key).map_or(0, |entry| entry.subscribers.len())
    }

    // --- internals ---------------------------------------------------------------

    /// Time has come to `now`: fires every timer due.
    fn tick(&mut self, now: Instant) {
        let now = self.see(now);
        while let Some(Reverse((at, origin, generation))) = self.throttle_ends.peek().copied() {
            if at > now {
                break;
            }
            self.throttle_ends.pop();
            if self.origins.current(origin, generation).is_some() {
                self.enter_ring(origin);
                self.origins.retire_if_idle(origin, now);
            }
        }
        while let Some((_, slot, generation)) = self.next_due(now) {
            let key = JobKey { slot, generation };
            let Some(entry) = self.entry_mut(key) else {
                continue;
            };
            entry.timer_at = NO_TIMER;
            entry.flight = NO_FLIGHT;
            // A job with nothing in flight and no place in a queue, on an origin
            // that may send with nobody waiting, would be released at once: let
            // this tick send (one tick instead of a held one and a release).
            let origin = entry.origin;
            let open = !entry.in_flight
                && !entry.queued
                && self.origins[origin].waiting.is_empty()
                && self.permitted(origin, now);
            let now = Instant::from_micros(now);
            // A held job with nothing else due only waits for its turn.
            let held = !open && self.entry_mut(key).is_some_and(|e| e.job.tick_held(now));
            if !held {
                self.with_job(key, |job| {
                    job.set_gated(!open);
                    let _ = job.handle_input(Input::Tick { now });
                    job.set_gated(true);
                });
            }
            self.settle(key);
        }
        self.pump();
    }

    /// Ends one subscription (see [`FleetInput::Stop`]).
    fn stop(&mut self, subscriber: Subscriber, now: Instant) -> Result<(), FleetError> {
        let job = subscriber.job;
        // Checked before anything changes, the clock included.
        if !self
            .entry(job)
            .is_some_and(|entry| entry.subscribers.contains(subscriber.number))
        {
            return Err(FleetError::UnknownSubscriber(subscriber));
        }
        self.see(now);
        let Some(entry) = self.entry_mut(job) else {
            return Err(FleetError::UnknownSubscriber(subscriber));
        };
        if entry.subscribers.len() > 1 {
            entry.subscribers.remove(subscriber.number);
            let stats = entry.job.stats();
            self.outputs.push_back(FleetOutput::Finished {
                subscriber,
                outcome: Outcome::Cancelled {
                    by: CancelledBy::Client {
                        server_confirmed: None,
                    },
                    stats,
                },
            });
            return Ok(());
        }
        self.cancel(job, now);
        self.pump();
        Ok(())
    }

    /// Stops every job (see [`FleetInput::StopAll`]).
    fn stop_all(&mut self, now: Instant) {
        self.see(now);
        for slot in 0..self.slots.len() {
            let slot_ref = &self.slots[slot];
            if slot_ref.entry.is_some() {
                let key = JobKey {
                    slot,
                    generation: slot_ref.generation,
                };
                self.cancel(key, now);
            }
        }
        self.pump();
    }

    /// Time never runs backwards inside the fleet.
    fn see(&mut self, now: Instant) -> u64 {
        self.now = self.now.max(now.as_micros());
        self.now
    }

    fn entry(&self, key: JobKey) -> Option<&Entry<P>> {
        let slot = self.slots.get(key.slot)?;
        (slot.generation == key.generation)
            .then_some(slot.entry.as_ref())
            .flatten()
    }

    fn entry_mut(&mut self, key: JobKey) -> Option<&mut Entry<P>> {
        let slot = self.slots.get_mut(key.slot)?;
        if slot.generation != key.generation {
            return None;
        }
        slot.entry.as_mut()
    }

    /// Feeds a job the answer to its request, then acts on what the answer asks of
    /// its origin.
    fn answer(&mut self, job: JobKey, input: Input) -> Result<(), FleetError> {
        // The clock moves only once the job has taken the answer.
        let now = self.now.max(input.now().as_micros());
        // What this answer asks of the whole origin, read from the answer itself:
        // what the job keeps from earlier answers is that job's alone.
        let origin_wait = match (&input, self.entry(job)) {
            (Input::Response { response, .. }, Some(entry)) => {
                origin_wait(response, entry.job.config().max_hint)
            }
            _ => None,
        };
        // A refused answer changes nothing (the job checks before it changes).
        self.with_job(job, |job| job.handle_input(input))
            .ok_or(FleetError::UnknownJob(job))??;
        self.now = now;
        let Some(entry) = self.entry_mut(job) else {
            return Ok(());
        };
        let origin = entry.origin;
        if entry.in_flight {
            entry.in_flight = false;
            self.release_slot(origin);
        }
        if let Some(wait) = origin_wait {
            let until = now.saturating_add(u64::try_from(wait.as_micros()).unwrap_or(u64::MAX));
            let o = &mut self.origins[origin];
            if until > now && until > o.throttled_until {
                o.throttled_until = until;
                self.throttle_ends
                    .push(Reverse((until, origin, o.generation)));
            }
        }
        self.settle(job);
        self.pump();
        Ok(())
    }

    /// Runs `f` on the job, with the fleet's spare output buffer lent to it.
    fn with_job<R>(&mut self, key: JobKey, f: impl FnOnce(&mut Job<P>) -> R) -> Option<R> {
        let slot = self.slots.get_mut(key.slot)?;
        if slot.generation != key.generation {
            return None;
        }
        let job = &mut slot.entry.as_mut()?.job;
        job.lend_buffer(&mut self.spare);
        let result = f(job);
        job.reclaim_buffer(&mut self.spare);
        Some(result)
    }

    /// After an input: forwards the job's outputs, queues a due request (or sends it
    /// when the limits allow and nobody is ahead), and sets its timer.
    fn settle(&mut self, key: JobKey) {
        self.drain(key);
        let now = self.now;
        let Some(entry) = self.entry_mut(key) else {
            return;
        };
        if entry.job.wants_to_send() && !entry.queued {
            let origin = entry.origin;
            let nobody_ahead = self.origins[origin].waiting.is_empty();
            if nobody_ahead && self.permitted(origin, now) {
                self.release(key);
            } else {
                if let Some(entry) = self.entry_mut(key) {
                    entry.queued = true;
                }
                self.origins[origin].waiting.push_back(key);
                self.enter_ring(origin);
            }
        }
        self.set_timer(key);
    }

    /// Lets the job send its due request now.
    fn release(&mut self, key: JobKey) {
        let now = Instant::from_micros(self.now);
        if let Some(entry) = self.entry_mut(key) {
            entry.queued = false;
        }
        self.with_job(key, |job| {
            job.set_gated(false);
            let _ = job.handle_input(Input::Tick { now });
            job.set_gated(true);
        });
        self.drain(key);
        self.set_timer(key);
    }

    fn set_timer(&mut self, key: JobKey) {
        let Some(entry) = self.entry_mut(key) else {
            return;
        };
        let at = entry.job.wake_at().map_or(NO_TIMER, Instant::as_micros);
        let in_flights = entry.in_flight;
        if at == entry.timer_at && in_flights == (entry.flight != NO_FLIGHT) {
            return;
        }
        let old_flight = entry.flight;
        entry.timer_at = at;
        entry.flight = NO_FLIGHT;
        if old_flight != NO_FLIGHT {
            self.flights.remove(old_flight);
        }
        if at == NO_TIMER {
            return;
        }
        if in_flights {
            let id = self.flights.insert(at, key.slot, key.generation);
            if let Some(entry) = self.entry_mut(key) {
                entry.flight = id;
            }
        } else {
            self.timers.push((at, key.slot, key.generation));
        }
    }

    /// Takes the earliest timer due at `now` from either queue, skipping stale
    /// entries of `timers`.
    fn next_due(&mut self, now: u64) -> Option<(u64, u32, u32)> {
        loop {
            let timer = self.timers.peek().filter(|t| t.0 <= now);
            let flight = self.flights.first().filter(|t| t.0 <= now);
            let (t, from_timers) = match (timer, flight) {
                (Some(t), Some(f)) if t < f => (t, true),
                (_, Some(f)) => (f, false),
                (Some(t), None) => (t, true),
                (None, None) => return None,
            };
            if !from_timers {
                self.flights.pop_first();
                return Some(t);
            }
            self.timers.pop();
            if self.is_live_timer(t) {
                return Some(t);
            }
        }
    }

    /// The running, shareable job with this spec, whose sharing key is `key`:
    /// the hash finds the candidates, the spec itself decides.
    fn shared_job(&self, key: u64, spec: &JobSpec<P>) -> Option<JobKey>
    where
        P: PartialEq,
    {
        let slots = &self.slots;
        let slot = *self.shared.find(key, |s| {
            slots
                .get(*s)
                .and_then(|s| s.entry.as_ref())
                .is_some_and(|entry| entry.share_key == key && entry.job.spec() == spec)
        })?;
        Some(JobKey {
            slot,
            generation: slots[slot].generation,
        })
    }

    /// Takes a job out of the sharing index (a slot is in it at most once, so the
    /// slot alone finds it, even once the slot's entry is gone).
    fn unshare(&mut self, key: JobKey, share_key: u64) {
        if share_key == NO_SHARE {
            return;
        }
        if let Ok(found) = self.shared.find_entry(share_key, |s| *s == key.slot) {
            found.remove();
        }
    }

    /// Whether a `timers` entry is the job's current timer (not one it moved, nor
    /// one of a job that ended).
    fn is_live_timer(&self, (at, slot, generation): (u64, u32, u32)) -> bool {
        self.entry(JobKey { slot, generation })
            .is_some_and(|entry| entry.timer_at == at && entry.flight == NO_FLIGHT)
    }

    /// Moves the job's outputs to the fleet's, fanning events out to subscribers;
    /// removes the job once it has finished.
    fn drain(&mut self, key: JobKey) {
        let Some(entry) = self.slots[key.slot].entry.as_mut() else {
            return;
        };
        // Most inputs of a waiting job leave nothing to forward.
        if !entry.job.has_outputs() {
            return;
        }
        entry.job.lend_buffer(&mut self.spare);
        let mut finished = false;
        // The origin of a request the job withdrew: its slot is free again.
        let mut withdrawn_from = None;
        // The origin the job left for the one its polls go to.
        let mut moved_from = None;
        loop {
            let output = match entry.job.poll_output() {
                Output::WakeAt(_) | Output::Done => break,
                output => output,
            };
            match output {
                Output::Transmit(transmit) => {
                    entry.in_flight = true;
                    self.in_flight += 1;
                    let origin = &mut self.origins[entry.origin];
                    origin.in_flight += 1;
                    self.turns += 1;
                    origin.turn = self.turns;
                    self.metrics.requests += 1;
                    self.outputs
                        .push_back(FleetOutput::Transmit { job: key, transmit });
                }
                Output::Abort(request) => {
                    if entry.in_flight {
                        entry.in_flight = false;
                        withdrawn_from = Some(entry.origin);
                    }
                    self.outputs
                        .push_back(FleetOutput::Abort { job: key, request });
                }
                Output::Event(event) => {
                    if let Event::Retrying { cause, .. } = &event {
                        self.metrics.count_error(cause.kind());
                    }
                    if let Event::Submitted { status_url, .. } = &event
                        && let Ok(url) = status_url.parse::<Url>()
                    {
                        // Polls go where the submit answer says; count them there.
                        let name = origin_name(&url);
                        if name != self.origins[entry.origin].name {
                            let left = &mut self.origins[entry.origin];
                            left.jobs = left.jobs.saturating_sub(1);
                            moved_from = Some(entry.origin);
                            entry.origin = self.origins.intern(name);
                            let joined = &mut self.origins[entry.origin];
                            joined.jobs = joined.jobs.saturating_add(1);
                        }
                    }
                    fan_out(
                        &mut self.outputs,
                        key,
                        &entry.subscribers,
                        event,
                        |subscriber, event| FleetOutput::Event { subscriber, event },
                    );
                }
                Output::Finished(outcome) => {
                    finished = true;
                    let metrics = &mut self.metrics;
                    metrics.finished += 1;
                    match metrics.outcomes.get_mut(outcome.kind()) {
                        Some(count) => *count += 1,
                        None => {
                            metrics.outcomes.insert(outcome.kind().to_owned(), 1);
                        }
                    }
                    if let Outcome::GaveUp { last_error, .. } = &outcome {
                        metrics.count_error(last_error.kind());
                    }
                    let stats = outcome.stats();
                    metrics.attempts += u64::from(stats.attempts);
                    metrics.completion_time = metrics.completion_time.saturating_add(stats.elapsed);
                    fan_out(
                        &mut self.outputs,
                        key,
                        &entry.subscribers,
                        outcome,
                        |subscriber, outcome| FleetOutput::Finished {
                            subscriber,
                            outcome,
                        },
                    );
                }
                Output::WakeAt(_) | Output::Done => {}
            }
        }
        entry.job.reclaim_buffer(&mut self.spare);
        if let Some(origin) = moved_from {
            self.origins.retire_if_idle(origin, self.now);
        }
        if let Some(origin) = withdrawn_from {
            self.release_slot(origin);
        }
        if finished {
            self.remove(key);
        }
    }

    fn remove(&mut self, key: JobKey) {
        let slot = &mut self.slots[key.slot];
        let Some(entry) = slot.entry.take() else {
            return;
        };
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(key.slot);
        self.live -= 1;
        if entry.flight != NO_FLIGHT {
            self.flights.remove(entry.flight);
        }
        self.unshare(key, entry.share_key);
        if entry.in_flight {
            self.release_slot(entry.origin);
        }
        let o = &mut self.origins[entry.origin];
        o.jobs = o.jobs.saturating_sub(1);
        self.origins.retire_if_idle(entry.origin, self.now);
    }

    /// A request of `origin` is no longer in flight.
    fn release_slot(&mut self, origin: u32) {
        self.in_flight = self.in_flight.saturating_sub(1);
        let o = &mut self.origins[origin];
        o.in_flight = o.in_flight.saturating_sub(1);
        self.enter_ring(origin);
    }

    /// Puts an origin with waiting jobs in the ring (once).
    fn enter_ring(&mut self, origin: u32) {
        let o = &mut self.origins[origin];
        if !o.waiting.is_empty() && !o.in_ring {
            o.in_ring = true;
            self.ring.push(Reverse((o.turn, origin, o.generation)));
        }
    }

    /// Whether a request may go to `origin` now (global limit included).
    fn permitted(&self, origin: u32, now: u64) -> bool {
        let o = &self.origins[origin];
        !self.paused
            && !o.paused
            && o.throttled_until <= now
            && o.in_flight < self.config.max_in_flight_per_origin
            && self.in_flight < self.config.max_in_flight
    }

    /// Releases waiting jobs while the limits allow, one at a time from the origin
    /// that has waited longest since it last sent.
    /// An origin that may not send leaves the ring; what lifts its block (a
    /// response, the throttle's end, a resume) puts it back.
    fn pump(&mut self) {
        let now = self.now;
        while !self.paused && self.in_flight < self.config.max_in_flight {
            let Some(Reverse((turn, origin, generation))) = self.ring.pop() else {
                break;
            };
            let Some(o) = self.origins.current(origin, generation) else {
                // The origin has left the table (and its number may be another's).
                continue;
            };
            if o.turn != turn {
                // It sent since it joined the ring: its place is further back.
                self.ring.push(Reverse((o.turn, origin, generation)));
                continue;
            }
            o.in_ring = false;
            if !self.permitted(origin, now) {
                continue;
            }
            let Some(key) = self.next_waiting(origin) else {
                continue;
            };
            self.release(key);
            self.enter_ring(origin);
        }
    }

    /// The first job of the origin's queue that still has a request due.
    fn next_waiting(&mut self, origin: u32) -> Option<JobKey> {
        loop {
            let waiting = &mut self.origins[origin].waiting;
            let key = waiting.pop_front()?;
            // A burst is over: a queue that grew for it does not keep its room.
            if waiting.is_empty() && waiting.capacity() > KEPT_QUEUE {
                *waiting = VecDeque::new();
            }
            let Some(entry) = self.entry_mut(key) else {
                continue;
            };
            if !entry.queued {
                continue;
            }
            entry.queued = false;
            if entry.job.wants_to_send() {
                return Some(key);
            }
        }
    }

    /// Cancels a job (its last subscriber stopped): with the server-side cancel when
    /// it may send, at once when its origin or the fleet is paused.
    fn cancel(&mut self, key: JobKey, now: Instant) {
        let Some(entry) = self.entry(key) else {
            return;
        };
        let (share_key, origin) = (entry.share_key, entry.origin);
        // A job on its way out is no longer shared: a later subscription to the
        // same status URL starts a job of its own.
        self.unshare(key, share_key);
        if let Some(entry) = self.entry_mut(key) {
            entry.share_key = NO_SHARE;
            // Whatever it waited to send is no longer wanted; its place in the
            // queue goes stale.
            entry.queued = false;
        }
        let paused = self.paused || self.origins[origin].paused;
        self.with_job(key, |job| {
            if paused {
                job.cancel_locally(now);
            } else {
                // A stop is acted on at once: the cancel request (the only
                // request a cancelled job sends) goes out now, past the origin's
                // queue, its throttle and the in-flight limits.
                job.set_gated(false);
                let _ = job.handle_input(Input::Cancel { now });
                job.set_gated(true);
            }
        });
        self.settle(key);
    }
}

/// Sends one copy of `item` to each subscriber (the last gets the original).
fn fan_out<T: Clone>(
    outputs: &mut VecDeque<FleetOutput>,
    job: JobKey,
    subscribers: &Subscribers,
    item: T,
    wrap: impl Fn(Subscriber, T) -> FleetOutput,
) {
    let numbers = subscribers.numbers();
    let Some((last, others)) = numbers.split_last() else {
        return;
    };
    for number in others {
        let subscriber = Subscriber {
            job,
            number: *number,
        };
        outputs.push_back(wrap(subscriber, item.clone()));
    }
    outputs.push_back(wrap(Subscriber { job, number: *last }, item));
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
