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
//!   wait is over, and then lets the origin's requests out a gap apart, at the pace
//!   the origin has shown it accepts (see [`Fleet::paced_until`]), not in one burst;
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
use crate::job::{Input, Job, JobSpec, SpecError, Start};
use crate::profile::{Interpret, Profile};
use crate::rng::Rng;
use crate::time::Instant;

// One file a concern. This one: the fleet's state, its calls and its loop.
// `api`: the public vocabulary. `slots`: where the jobs live. `sharing`: which
// job a new subscriber joins. `origins`: the table of origins. `limits`: when a
// due request may go (the limits, pauses and holds, the queues, the pump).
// `wake`: when the fleet wakes and what a tick does, over the queues of `timers`
// (jobs' wake-ups) and `flights` (requests' time limits). `outputs`: how a job's
// outputs become the fleet's. `stop`: stops. `resumed`: saved jobs put back.
mod api;
mod flights;
mod limits;
mod origins;
mod outputs;
mod pace;
mod resumed;
mod sharing;
mod slots;
mod stop;
mod timers;
mod wake;

pub use api::{FleetConfig, FleetError, FleetInput, FleetMetrics, FleetOutput, JobKey, Subscriber};

use flights::{Flights, NO_FLIGHT};
use origins::{Origins, origin_name, origin_wait};
use sharing::{NO_SHARE, SharingIndex, share_key};
use slots::{Entry, Slots, Subscribers};
use timers::Timers;
use wake::NO_TIMER;

/// Many jobs, one scheduler. See the [module documentation](self).
///
/// The methods come in four kinds, as a job's do:
///
/// - **the input**, [`Fleet::handle_input`]: an answer, a tick or a stop;
/// - **the output**, [`Fleet::poll_output`], drained after every input and every
///   call that changes the fleet, until [`FleetOutput::WakeAt`] or
///   [`FleetOutput::Idle`];
/// - **setup calls**, at any time between two drains: [`Fleet::add`],
///   [`Fleet::add_resumed`] (a saved job, continued), [`Fleet::pause`], [`Fleet::resume`], [`Fleet::pause_origin`],
///   [`Fleet::resume_origin`];
/// - **getters**, which change nothing the driver sees: [`Fleet::next_wake`],
///   [`Fleet::metrics`], [`Fleet::in_flight`] and the others.
#[derive(Debug)]
pub struct Fleet<P = Arc<Profile>> {
    config: FleetConfig,
    /// The running jobs.
    slots: Slots<P>,
    /// Timers of jobs without a request in flight: (instant µs, slot, generation).
    /// Entries whose job moved its timer or ended are skipped when they come up.
    timers: Timers,
    /// Time limits of the requests in flight, same form. Removed when the answer comes,
    /// so that answered requests leave nothing behind in `timers` (a million idle
    /// jobs keep one timer entry each); at most `max_in_flight` long.
    flights: Flights,
    /// Origin throttle ends, and the ends of paced origins' gaps: (instant µs, origin,
    /// its generation).
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
    /// The running jobs that a new subscriber may join.
    shared: SharingIndex,
    /// Requests in flight, over all origins.
    in_flight: u32,
    /// Whether the user paused the whole fleet.
    paused: bool,
    /// Draws each new job's seed.
    seeds: Rng,
    metrics: FleetMetrics,
    /// What the driver has yet to take with [`Fleet::poll_output`].
    outputs: VecDeque<FleetOutput>,
    /// The one output buffer lent to whichever job is handling an input.
    spare: crate::job::Outputs,
    /// The latest time seen (µs): the fleet's clock never runs backwards.
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
            timers: Timers::default(),
            flights: Flights::default(),
            throttle_ends: BinaryHeap::new(),
            origins: Origins::default(),
            ring: BinaryHeap::new(),
            turns: 0,
            shared: SharingIndex::default(),
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
    ///
    /// Call it whenever the user asks for a job, then drain
    /// [`Fleet::poll_output`]: a new job's first request may go out at once.
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
        if let Some(subscriber) = self.join(share_key, &spec) {
            return Ok(subscriber);
        }
        let start_url = match &spec.start {
            Start::Poll { status_url, .. } => status_url,
            Start::Submit { url, .. } => url,
        };
        let origin_name = origin_name(start_url);
        let seed = self.seeds.next_u64();
        let job = Job::build(spec, config, seed, now, true)?;
        // No running job has this spec (else it was joined): it can be shared.
        Ok(self.run(job, origin_name, share_key.unwrap_or(NO_SHARE)))
    }

    /// A new subscriber of the running job with `spec`, whose sharing key is
    /// `share_key`, if there is one.
    fn join(&mut self, share_key: Option<u64>, spec: &JobSpec<P>) -> Option<Subscriber>
    where
        P: PartialEq,
    {
        let job = self.shared.find(share_key?, spec, &self.slots)?;
        let entry = self.entry_mut(job)?;
        let number = entry.next_subscriber;
        entry.next_subscriber = number.wrapping_add(1);
        entry.subscribers.push(number);
        self.metrics.joined += 1;
        Some(Subscriber { job, number })
    }

    /// Puts a built, gated job in the fleet under `share_key` ([`NO_SHARE`]: not
    /// shared), counting it against the origin `origin_name`; lets out what the
    /// limits allow. Its one subscriber.
    fn run(&mut self, job: Job<P>, origin_name: String, share_key: u64) -> Subscriber {
        // Only a job that runs puts its origin in the table.
        let origin = self.origins.intern(origin_name, self.now);
        self.origins[origin].jobs = self.origins[origin].jobs.saturating_add(1);
        let key = self.slots.insert(Entry {
            job,
            origin,
            share_key,
            timer_at: NO_TIMER,
            flight: NO_FLIGHT,
            subscribers: Subscribers::from_buf([0]),
            next_subscriber: 1,
            in_flight: false,
            queued: false,
        });
        if share_key != NO_SHARE {
            self.shared.insert(share_key, key.slot, &self.slots);
        }
        self.metrics.jobs += 1;
        self.settle(key);
        self.pump();
        Subscriber {
            job: key,
            number: 0,
        }
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
        self.earliest_wake().map(Instant::from_micros)
    }

    /// Holds back every request until [`Fleet::resume`]. Requests in flight finish;
    /// timers keep running (deadlines hold), and what falls due waits. Call it
    /// when the user pauses (a hidden browser tab); it outputs nothing.
    pub fn pause(&mut self) {
        self.paused = true;
    }

    /// Lets requests out again, oldest first. Drain [`Fleet::poll_output`]
    /// afterwards: what waited goes out now.
    pub fn resume(&mut self, now: Instant) {
        self.see(now);
        self.paused = false;
        self.reopen_all();
    }

    /// Whether the whole fleet is paused.
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Holds back every request to `origin` (`scheme://host[:port]`, as
    /// [`Url::origin`] writes it; jobs added later for it are held too), until
    /// [`Fleet::resume_origin`]. It outputs nothing.
    pub fn pause_origin(&mut self, origin: &Url) {
        let id = self.origins.intern(origin_name(origin), self.now);
        self.origins[id].paused = true;
    }

    /// Lets requests to `origin` out again. Drain [`Fleet::poll_output`]
    /// afterwards: what waited goes out now.
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
        self.slots.live()
    }

    /// Whether no job is running.
    pub fn is_empty(&self) -> bool {
        self.slots.live() == 0
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

    /// Until when the origin of `url` is paced, if it is: after a rate limit the
    /// fleet lets requests out to the origin one at a time, a gap apart (see
    /// [the module documentation](self)), and none goes before this instant but a
    /// cancel request. The gap is never longer than the last wait the origin
    /// asked for.
    pub fn paced_until(&self, url: &Url) -> Option<Instant> {
        let id = self.origins.find(&origin_name(url))?;
        self.origins[id]
            .pace
            .holds_until(self.now)
            .map(Instant::from_micros)
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

    /// Time never runs backwards inside the fleet.
    fn see(&mut self, now: Instant) -> u64 {
        self.now = self.now.max(now.as_micros());
        self.now
    }

    fn entry(&self, key: JobKey) -> Option<&Entry<P>> {
        self.slots.entry(key)
    }

    fn entry_mut(&mut self, key: JobKey) -> Option<&mut Entry<P>> {
        self.slots.entry_mut(key)
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
        let answered = matches!(input, Input::Response { .. });
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
        match origin_wait {
            Some(wait) => self.hold(origin, wait, now),
            None if answered => self.origins[origin].pace.accepted(),
            None => {}
        }
        self.settle(job);
        self.pump();
        Ok(())
    }

    /// Runs `f` on the job, with the fleet's spare output buffer lent to it.
    fn with_job<R>(&mut self, key: JobKey, f: impl FnOnce(&mut Job<P>) -> R) -> Option<R> {
        let job = &mut self.slots.entry_mut(key)?.job;
        job.lend_buffer(&mut self.spare);
        let result = f(job);
        job.reclaim_buffer(&mut self.spare);
        Some(result)
    }

    /// After an input: forwards the job's outputs, queues a due request (or sends it
    /// when the limits allow and nobody is ahead), and sets its timer.
    fn settle(&mut self, key: JobKey) {
        self.drain(key);
        self.admit(key);
        self.set_timer(key);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
