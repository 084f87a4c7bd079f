//! The fleet's invariants, checked after every fleet call.
//!
//! The checker knows jobs and subscribers by the simulator's own numbers (in the
//! order they appear), not by the fleet's keys, and counts everything itself: what
//! is in flight (from the requests it saw go out, minus answers and aborts), until
//! when each origin's rate-limit answers hold it back (from the responses it saw
//! delivered, read with the core's hint parser and each job's cap), what is paused,
//! who follows which job and what each subscriber received. Origins are the
//! fleet's: one per host (`https://host`), the hosts of the simulated servers and
//! any host of a job's own. Per job it reuses the single-job [`Checker`]: one
//! request in flight, the job's own hints, the minimum interval, the deadline,
//! nothing after the outcome, and an outcome that matches the server's truth.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use jobpoll_core::fleet::FleetConfig;
use jobpoll_core::hints::{HintSource, ServerHint, read_hints};
use jobpoll_core::{Config, Event, Input, Instant, Outcome, Output, Purpose, RequestId, Transmit};
use jobpoll_server::model::ServerModel;

use crate::check::{Checker, Violation};
use crate::world::JobFacts;

/// A fleet invariant that broke.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("seed {seed} at {at}: {}{invariant}: {detail}", self.place())]
pub struct FleetViolation {
    /// The run's root seed.
    pub seed: u64,
    /// When.
    pub at: Instant,
    /// The job (the simulator's number, in creation order), if one is involved.
    pub job: Option<usize>,
    /// The subscriber (in subscription order), if one is involved.
    pub subscriber: Option<usize>,
    /// The origin (`https://host`), if one is involved.
    pub origin: Option<String>,
    /// Which invariant.
    pub invariant: String,
    /// What happened.
    pub detail: String,
}

impl FleetViolation {
    /// `job 3 subscriber 5 on https://a.sim.jobpoll.test: `, as far as known.
    fn place(&self) -> String {
        let mut place = String::new();
        if let Some(job) = self.job {
            place.push_str(&format!("job {job} "));
        }
        if let Some(subscriber) = self.subscriber {
            place.push_str(&format!("subscriber {subscriber} "));
        }
        if let Some(origin) = &self.origin {
            place.push_str(&format!("on {origin} "));
        }
        if !place.is_empty() {
            place.pop();
            place.push_str(": ");
        }
        place
    }
}

/// What the fleet says of itself after a call, to compare with the checker's own
/// counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FleetView {
    /// `Fleet::in_flight`.
    pub in_flight: u32,
    /// What the fleet says of some origins (those of
    /// [`FleetChecker::origins_to_compare`]).
    pub by_origin: Vec<OriginView>,
    /// `Fleet::len`: jobs running.
    pub running: usize,
    /// `Fleet::origins`: origins the fleet keeps state for, if compared.
    pub origins: Option<usize>,
}

/// What the fleet says of one origin.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OriginView {
    /// The origin, by the checker's number.
    pub origin: usize,
    /// `Fleet::in_flight_to`.
    pub in_flight: u32,
    /// `Fleet::throttled_until`.
    pub held_until: Option<Instant>,
}

/// One origin as the checker sees it.
#[derive(Clone, Debug)]
struct OriginWatch {
    /// `https://host`.
    name: String,
    /// The host, to recognise the origin of a request.
    host: String,
    in_flight: u32,
    paused: bool,
    /// No request to this origin before this instant (but a cancel request), and
    /// what asked for it.
    hint_until: Instant,
    hint_reason: String,
    /// Jobs on this origin whose outcome has not come.
    live_jobs: u32,
}

/// One job as the checker sees it.
#[derive(Clone, Debug)]
struct JobWatch {
    origin: usize,
    facts: JobFacts,
    /// The job's cap on server hints (`Config::max_hint`).
    max_hint: Duration,
    /// Profile, status URL and headers of a job polled by URL: jobs with the same
    /// identity share polls.
    identity: Option<String>,
    subscribers: Vec<usize>,
    in_flight: Option<RequestId>,
    /// The request in flight is its cancel request.
    cancelling: bool,
    /// Every event the job sent out, in order (each subscriber receives the part
    /// from the moment it joined).
    events: Vec<Event>,
    /// The final outcome, once the fleet sent it.
    outcome: Option<Outcome>,
}

impl JobWatch {
    fn is_over(&self) -> bool {
        self.outcome.is_some()
    }
}

/// One subscriber as the checker sees it.
#[derive(Clone, Debug)]
struct SubscriberWatch {
    job: usize,
    /// Index of the next event of its job it must receive.
    cursor: usize,
    stopped_at: Option<Instant>,
    finished: bool,
    /// It received its outcome while its job ran on (it stopped; others follow).
    left: bool,
}

/// Checks every fleet invariant. Feed it what the simulator does and what the
/// fleet answers, in order; every method that can see a violation returns it.
#[derive(Debug)]
pub struct FleetChecker {
    seed: u64,
    limits: FleetConfig,
    paused: bool,
    in_flight: u32,
    origins: Vec<OriginWatch>,
    jobs: Vec<JobWatch>,
    subscribers: Vec<SubscriberWatch>,
    /// Jobs by identity, for shared polls.
    shared: HashMap<String, Vec<usize>>,
    /// The single-job invariants, per job.
    per_job: Checker,
    /// Jobs whose events or outcome changed since the last [`FleetChecker::settled`].
    touched: Vec<usize>,
    /// Origins whose requests in flight or hold changed since then.
    touched_origins: BTreeSet<usize>,
    /// Origins by host.
    hosts: HashMap<String, usize>,
    /// Subscribers stopped by the last call, with the instant of the stop.
    stops: Vec<(usize, Instant)>,
    running: usize,
}

impl FleetChecker {
    /// A checker for a run of seed `seed` under `limits`, with these origins
    /// (`https://host`, in the order the other calls number them; more come with
    /// [`FleetChecker::origin`]).
    pub fn new(seed: u64, limits: &FleetConfig, origins: &[String]) -> FleetChecker {
        let mut checker = FleetChecker {
            seed,
            limits: limits.clone(),
            paused: false,
            in_flight: 0,
            origins: Vec::new(),
            jobs: Vec::new(),
            subscribers: Vec::new(),
            shared: HashMap::new(),
            per_job: Checker::default(),
            touched: Vec::new(),
            touched_origins: BTreeSet::new(),
            hosts: HashMap::new(),
            stops: Vec::new(),
            running: 0,
        };
        for name in origins {
            checker.origin(name);
        }
        checker
    }

    /// The number of the origin `name` (`https://host`), numbered next if new.
    pub fn origin(&mut self, name: &str) -> usize {
        let host = name.split_once("://").map_or(name, |(_, host)| host);
        if let Some(origin) = self.hosts.get(host) {
            return *origin;
        }
        let origin = self.origins.len();
        self.origins.push(OriginWatch {
            host: host.to_owned(),
            name: name.to_owned(),
            in_flight: 0,
            paused: false,
            hint_until: Instant::ZERO,
            hint_reason: String::new(),
            live_jobs: 0,
        });
        self.hosts.insert(host.to_owned(), origin);
        origin
    }

    /// The origins whose view the next [`FleetChecker::settled`] should get: those
    /// whose requests in flight or hold changed since the last one, and the first
    /// `always` origins.
    pub fn origins_to_compare(&self, always: usize) -> Vec<usize> {
        let mut origins: Vec<usize> = (0..always.min(self.origins.len())).collect();
        origins.extend(self.touched_origins.iter().filter(|o| **o >= always));
        origins
    }

    /// The origin of `job`, by the checker's number.
    pub fn origin_of(&self, job: usize) -> Option<usize> {
        self.jobs.get(job).map(|j| j.origin)
    }

    /// `https://host` of origin `origin`.
    pub fn origin_name(&self, origin: usize) -> Option<&str> {
        self.origins.get(origin).map(|o| o.name.as_str())
    }

    fn violation(
        &self,
        at: Instant,
        job: Option<usize>,
        subscriber: Option<usize>,
        invariant: &str,
        detail: String,
    ) -> FleetViolation {
        let origin = job
            .and_then(|j| self.jobs.get(j))
            .and_then(|j| self.origins.get(j.origin))
            .map(|o| o.name.clone());
        let detail = match job.and_then(|j| self.jobs.get(j)) {
            Some(watch) => format!("{detail}{}", watch.facts.describe()),
            None => detail,
        };
        FleetViolation {
            seed: self.seed,
            at,
            job,
            subscriber,
            origin,
            invariant: invariant.to_owned(),
            detail,
        }
    }

    /// Job `job`, which the simulator must have reported started.
    fn job(&self, job: usize, now: Instant) -> Result<&JobWatch, FleetViolation> {
        self.jobs.get(job).ok_or_else(|| {
            let detail = format!("job {job} was never started");
            self.violation(now, None, None, "outputs name known jobs", detail)
        })
    }

    /// Subscriber `subscriber`, which the simulator must have reported subscribed.
    fn subscriber(
        &self,
        subscriber: usize,
        now: Instant,
    ) -> Result<&SubscriberWatch, FleetViolation> {
        self.subscribers.get(subscriber).ok_or_else(|| {
            let detail = format!("subscriber {subscriber} never subscribed");
            self.violation(now, None, None, "outputs name known subscribers", detail)
        })
    }

    /// A single-job violation, placed in the fleet.
    fn placed(&self, violation: Violation) -> FleetViolation {
        self.violation(
            violation.at,
            Some(violation.job),
            None,
            &violation.invariant,
            violation.detail,
        )
    }

    /// The fleet started job number `job` (the next one) on origin `origin` under
    /// `config`; `identity` names a job polled by URL that others may share.
    pub fn job_started(
        &mut self,
        job: usize,
        origin: usize,
        config: &Config,
        facts: JobFacts,
        identity: Option<String>,
    ) -> Result<(), FleetViolation> {
        if job != self.jobs.len() || origin >= self.origins.len() {
            return Err(self.violation(
                facts.started,
                Some(job),
                None,
                "the simulator numbers jobs and origins in order",
                format!(
                    "job {job} on origin {origin} after {} jobs",
                    self.jobs.len()
                ),
            ));
        }
        self.per_job.on_start(job, config, facts.started);
        if let Some(identity) = &identity {
            self.shared.entry(identity.clone()).or_default().push(job);
        }
        self.jobs.push(JobWatch {
            origin,
            max_hint: config.max_hint,
            facts,
            identity,
            subscribers: Vec::new(),
            in_flight: None,
            cancelling: false,
            events: Vec::new(),
            outcome: None,
        });
        self.origins[origin].live_jobs += 1;
        self.running += 1;
        Ok(())
    }

    /// Whether some subscriber of `job` still follows it (has neither stopped nor
    /// finished).
    fn followed(&self, job: usize) -> bool {
        self.jobs[job].subscribers.iter().any(|s| {
            let watch = &self.subscribers[*s];
            watch.stopped_at.is_none() && !watch.finished
        })
    }

    /// Another running job with the same identity as `job` that somebody still
    /// follows: the two should have been one.
    fn twin(&self, job: usize) -> Option<usize> {
        let identity = self.jobs[job].identity.as_ref()?;
        self.shared
            .get(identity)?
            .iter()
            .copied()
            .find(|other| *other != job && !self.jobs[*other].is_over() && self.followed(*other))
    }

    /// Subscriber number `subscriber` (the next one) joined or started `job`, with
    /// a spec of this identity (see [`FleetChecker::job_started`]).
    pub fn subscribed(
        &mut self,
        subscriber: usize,
        job: usize,
        identity: Option<&str>,
        now: Instant,
    ) -> Result<(), FleetViolation> {
        if subscriber != self.subscribers.len() || job >= self.jobs.len() {
            return Err(self.violation(
                now,
                Some(job),
                Some(subscriber),
                "the simulator numbers subscribers in order",
                format!("after {} subscribers", self.subscribers.len()),
            ));
        }
        if self.jobs[job].is_over() {
            return Err(self.violation(
                now,
                Some(job),
                Some(subscriber),
                "a subscriber joins a running job",
                "the fleet made it join a job that has finished".to_owned(),
            ));
        }
        if self.jobs[job].identity.as_deref() != identity {
            return Err(self.violation(
                now,
                Some(job),
                Some(subscriber),
                "only the same profile, status URL and headers share a job",
                format!(
                    "a subscription to {} joined job {job}, which polls {}",
                    identity.unwrap_or("a new submitted job"),
                    self.jobs[job]
                        .identity
                        .as_deref()
                        .unwrap_or("a submitted job")
                ),
            ));
        }
        if let Some(twin) = self.twin(job) {
            return Err(self.violation(
                now,
                Some(job),
                Some(subscriber),
                "a shared job sends one request per poll",
                format!(
                    "a subscription to the status URL job {twin} polls went to job {job}: {}",
                    self.jobs[job].identity.as_deref().unwrap_or("")
                ),
            ));
        }
        self.subscribers.push(SubscriberWatch {
            job,
            cursor: self.jobs[job].events.len(),
            stopped_at: None,
            finished: false,
            left: false,
        });
        self.jobs[job].subscribers.push(subscriber);
        Ok(())
    }

    /// The simulator stopped `subscriber` (or stopped everything). The stop must
    /// be acted on within the same call (see [`FleetChecker::settled`]).
    pub fn stopped(&mut self, subscriber: usize, now: Instant) {
        if let Some(watch) = self.subscribers.get_mut(subscriber)
            && watch.stopped_at.is_none()
        {
            watch.stopped_at = Some(now);
            self.stops.push((subscriber, now));
        }
    }

    /// Whether the origin of `subscriber`'s job is held back at `now` by a
    /// rate-limit answer.
    pub fn held_at(&self, subscriber: usize, now: Instant) -> bool {
        self.subscribers
            .get(subscriber)
            .and_then(|s| self.jobs.get(s.job))
            .is_some_and(|job| now < self.origins[job.origin].hint_until)
    }

    /// Whether `subscriber` received its outcome.
    pub fn has_finished(&self, subscriber: usize) -> bool {
        self.subscribers.get(subscriber).is_some_and(|s| s.finished)
    }

    /// The simulator paused the whole fleet.
    pub fn paused(&mut self) {
        self.paused = true;
    }

    /// The simulator resumed the whole fleet.
    pub fn resumed(&mut self) {
        self.paused = false;
    }

    /// The simulator paused one origin.
    pub fn origin_paused(&mut self, origin: usize) {
        if let Some(o) = self.origins.get_mut(origin) {
            o.paused = true;
        }
    }

    /// The simulator resumed one origin.
    pub fn origin_resumed(&mut self, origin: usize) {
        if let Some(o) = self.origins.get_mut(origin) {
            o.paused = false;
        }
    }

    /// The server handled a request of `job` at server time `at`, answering
    /// `status`; `server_id` is the job's id on the server, if now known.
    pub fn served(
        &mut self,
        job: usize,
        purpose: Purpose,
        status: http::StatusCode,
        at: Instant,
        server_id: Option<String>,
    ) {
        let Some(watch) = self.jobs.get_mut(job) else {
            return;
        };
        if watch.facts.server_id.is_none() {
            watch.facts.server_id = server_id;
        }
        self.per_job.on_server_answer(job, purpose, status, at);
    }

    /// The job's server id, once known.
    pub fn server_id(&self, job: usize) -> Option<&str> {
        self.jobs.get(job)?.facts.server_id.as_deref()
    }

    /// The simulator delivers the answer to a request of `job` (as the server sent
    /// it: before any sabotage) at `now`. A hint in it holds back the job's whole
    /// origin from `now` on, as far as the job's cap allows.
    pub fn delivered(
        &mut self,
        job: usize,
        input: &Input,
        now: Instant,
    ) -> Result<(), FleetViolation> {
        let request = match input {
            Input::Response { request, .. } | Input::TransportError { request, .. } => *request,
            Input::Tick { .. } | Input::Cancel { .. } => {
                return Err(self.violation(
                    now,
                    Some(job),
                    None,
                    "the simulator delivers answers",
                    "delivered a tick or a cancel as an answer".to_owned(),
                ));
            }
        };
        let origin = self.land(
            job,
            request,
            now,
            "the simulator delivers answers to requests in flight",
        )?;
        let max_hint = self.jobs[job].max_hint;
        let o = &mut self.origins[origin];
        // Only a rate limit binds the whole origin, and only the one this answer
        // states: a wait on a 429 or 503, or an exhausted `RateLimit` budget on
        // any answer (a `Retry-After` on a 2xx is one job's).
        if let Input::Response { response, .. } = input
            && let Some(hint) = rate_limit_wait(response, max_hint)
        {
            let until = now + hint.delay;
            if until > o.hint_until {
                o.hint_until = until;
                o.hint_reason = format!(
                    "a {} to job {job} at {now} asked {} to wait {:?} ({:?})",
                    response.status().as_u16(),
                    o.name,
                    hint.delay,
                    hint.source
                );
            }
        }
        self.touched_origins.insert(origin);
        self.per_job.on_answer(job, input, now);
        Ok(())
    }

    /// Whether `job` has a request in flight.
    pub fn in_flight(&self, job: usize) -> bool {
        self.jobs.get(job).is_some_and(|j| j.in_flight.is_some())
    }

    /// Whether the fleet sent the final outcome of `job`.
    pub fn is_over(&self, job: usize) -> bool {
        self.jobs.get(job).is_some_and(JobWatch::is_over)
    }

    /// `job` has had a request due since `due` and, at `now` (with no fleet timer
    /// left to fire at `now`), has not sent it: something must hold it back (a
    /// pause, a hint, a limit). The fleet releases what the limits allow.
    pub fn held(&self, job: usize, due: Instant, now: Instant) -> Result<(), FleetViolation> {
        let Some(watch) = self.jobs.get(job) else {
            return Ok(());
        };
        let o = &self.origins[watch.origin];
        let free = !self.paused
            && !o.paused
            && now >= o.hint_until
            && self.in_flight < self.limits.max_in_flight
            && o.in_flight < self.limits.max_in_flight_per_origin;
        if free {
            return Err(self.violation(
                now,
                Some(job),
                None,
                "a due request goes out while nothing holds it back",
                format!(
                    "due since {due}, not paused, not throttled, {} of {} in flight ({} of {} to {})",
                    self.in_flight,
                    self.limits.max_in_flight,
                    o.in_flight,
                    self.limits.max_in_flight_per_origin,
                    o.name
                ),
            ));
        }
        Ok(())
    }

    /// Until when hints hold back `origin`.
    pub fn throttled_until(&self, origin: usize) -> Option<Instant> {
        self.origins.get(origin).map(|o| o.hint_until)
    }

    /// The fleet sent `transmit` for `job` at `now`.
    pub fn transmitted(
        &mut self,
        job: usize,
        transmit: &Transmit,
        now: Instant,
    ) -> Result<(), FleetViolation> {
        let watch = self.job(job, now)?;
        let fail = |checker: &FleetChecker, invariant: &str, detail: String| {
            Err(checker.violation(now, Some(job), None, invariant, detail))
        };
        let what = format!("{} {:?} {}", transmit.id, transmit.purpose, transmit.url);
        if watch.is_over() {
            return fail(self, "nothing after the outcome", format!("sent {what}"));
        }
        let host = transmit.url.host_str().unwrap_or("");
        let Some(origin) = self.origins.iter().position(|o| o.host == host) else {
            return fail(self, "requests go to known origins", format!("sent {what}"));
        };
        if origin != watch.origin {
            return fail(
                self,
                "a job keeps its origin",
                format!(
                    "sent {what}, the job started on {}",
                    self.origins[watch.origin].name
                ),
            );
        }
        if self.paused {
            return fail(
                self,
                "a paused fleet sends nothing",
                format!("sent {what} while the fleet was paused"),
            );
        }
        let o = &self.origins[origin];
        if o.paused {
            return fail(
                self,
                "a paused origin sends nothing",
                format!("sent {what} while {} was paused", o.name),
            );
        }
        // A cancel request is a user's stop: it goes out at once, past the
        // origin's hold and the limits (it counts in flight while it is out).
        let cancel = transmit.purpose == Purpose::Cancel;
        if now < o.hint_until && !cancel {
            return fail(
                self,
                "no request to a throttled origin before its hint allows",
                format!(
                    "sent {what} at {now}, before {}: {}",
                    o.hint_until, o.hint_reason
                ),
            );
        }
        if self.in_flight >= self.limits.max_in_flight && !cancel {
            return fail(
                self,
                "requests in flight stay within the global limit",
                format!(
                    "sent {what} with {} already in flight (limit {})",
                    self.in_flight, self.limits.max_in_flight
                ),
            );
        }
        if o.in_flight >= self.limits.max_in_flight_per_origin && !cancel {
            return fail(
                self,
                "requests in flight stay within the per-origin limit",
                format!(
                    "sent {what} with {} already in flight to {} (limit {})",
                    o.in_flight, o.name, self.limits.max_in_flight_per_origin
                ),
            );
        }
        if transmit.purpose == Purpose::Status
            && let Some(twin) = self.twin(job)
        {
            return fail(
                self,
                "a shared job sends one request per poll",
                format!("sent {what} while job {twin} polls the same status URL"),
            );
        }
        self.per_job
            .on_output(job, &Output::Transmit(transmit.clone()), now)
            .map_err(|v| self.placed(v))?;
        self.jobs[job].in_flight = Some(transmit.id);
        self.jobs[job].cancelling = cancel;
        self.in_flight += 1;
        self.origins[origin].in_flight += 1;
        self.touched_origins.insert(origin);
        Ok(())
    }

    /// Request `request` of `job` is no longer in flight (answered or aborted);
    /// returns the job's origin. `invariant`: what it breaks if it was not.
    fn land(
        &mut self,
        job: usize,
        request: RequestId,
        now: Instant,
        invariant: &str,
    ) -> Result<usize, FleetViolation> {
        if self.jobs.get(job).and_then(|j| j.in_flight) != Some(request) {
            return Err(self.violation(
                now,
                Some(job),
                None,
                invariant,
                format!("{request} is not in flight"),
            ));
        }
        let watch = &mut self.jobs[job];
        watch.in_flight = None;
        watch.cancelling = false;
        let origin = watch.origin;
        self.in_flight = self.in_flight.saturating_sub(1);
        let o = &mut self.origins[origin];
        o.in_flight = o.in_flight.saturating_sub(1);
        self.touched_origins.insert(origin);
        Ok(origin)
    }

    /// The fleet withdrew request `request` of `job`.
    pub fn aborted(
        &mut self,
        job: usize,
        request: RequestId,
        now: Instant,
    ) -> Result<(), FleetViolation> {
        self.land(job, request, now, "only requests in flight are aborted")?;
        self.per_job
            .on_output(job, &Output::Abort(request), now)
            .map_err(|v| self.placed(v))
    }

    /// The fleet sent `event` to `subscriber`.
    pub fn event(
        &mut self,
        subscriber: usize,
        event: &Event,
        now: Instant,
    ) -> Result<(), FleetViolation> {
        let watch = self.subscriber(subscriber, now)?;
        let job = watch.job;
        let fail = |checker: &FleetChecker, invariant: &str, detail: String| {
            Err(checker.violation(now, Some(job), Some(subscriber), invariant, detail))
        };
        if watch.finished {
            return fail(
                self,
                "nothing after the outcome",
                format!("event after the subscriber's outcome: {event}"),
            );
        }
        let cursor = watch.cursor;
        let known = self.jobs[job].events.len();
        if cursor == known {
            // The first copy of a new event.
            self.per_job
                .on_output(job, &Output::Event(event.clone()), now)
                .map_err(|v| self.placed(v))?;
            self.jobs[job].events.push(event.clone());
        } else if self.jobs[job].events.get(cursor) != Some(event) {
            return fail(
                self,
                "events of a shared job reach every subscriber",
                format!(
                    "received {event}, but event {cursor} of the job was {}",
                    self.jobs[job].events[cursor]
                ),
            );
        }
        self.subscribers[subscriber].cursor += 1;
        self.touched.push(job);
        Ok(())
    }

    /// The fleet sent `outcome` to `subscriber`; `job_over` tells whether the fleet
    /// still runs the job after it (a subscriber that stopped leaves a shared job
    /// that runs on). `server` is the job's origin's model, for the truth.
    pub fn finished(
        &mut self,
        subscriber: usize,
        outcome: &Outcome,
        job_over: bool,
        now: Instant,
        server: &ServerModel,
    ) -> Result<(), FleetViolation> {
        let watch = self.subscriber(subscriber, now)?;
        let job = watch.job;
        let stopped_at = watch.stopped_at;
        let fail = |checker: &FleetChecker, invariant: &str, detail: String| {
            Err(checker.violation(now, Some(job), Some(subscriber), invariant, detail))
        };
        if watch.finished {
            return fail(
                self,
                "every subscriber receives exactly one outcome",
                format!("a second outcome: {outcome}"),
            );
        }
        self.subscribers[subscriber].finished = true;
        self.subscribers[subscriber].left = !job_over;
        self.touched.push(job);
        if job_over {
            match &self.jobs[job].outcome {
                None => {
                    self.per_job
                        .on_output(job, &Output::Finished(outcome.clone()), now)
                        .map_err(|v| self.placed(v))?;
                    self.jobs[job].outcome = Some(outcome.clone());
                    self.running = self.running.saturating_sub(1);
                    let o = &mut self.origins[self.jobs[job].origin];
                    o.live_jobs = o.live_jobs.saturating_sub(1);
                }
                Some(first) if first != outcome => {
                    return fail(
                        self,
                        "every subscriber of a shared job receives its outcome",
                        format!("received {outcome}, another subscriber received {first}"),
                    );
                }
                Some(_) => {}
            }
        } else if stopped_at.is_none() {
            return fail(
                self,
                "a subscriber's outcome comes with its job's, or after it stopped",
                format!("received {outcome} while the job runs on, without stopping"),
            );
        }
        let facts = JobFacts {
            cancelled_at: stopped_at,
            ..self.jobs[job].facts.clone()
        };
        self.per_job
            .on_outcome(job, outcome, now, &facts, server)
            .map_err(|v| {
                let mut violation = self.placed(v);
                violation.subscriber = Some(subscriber);
                violation
            })
    }

    /// After a fleet call and every output it produced: the fleet's own counts
    /// agree with the checker's, and every subscriber of a job received every event
    /// of it and, once the job ended, its outcome.
    pub fn settled(&mut self, now: Instant, view: &FleetView) -> Result<(), FleetViolation> {
        if view.in_flight != self.in_flight {
            return Err(self.violation(
                now,
                None,
                None,
                "the fleet counts requests in flight right",
                format!(
                    "the fleet says {}, the requests sent and not answered or aborted are {}",
                    view.in_flight, self.in_flight
                ),
            ));
        }
        for theirs in &view.by_origin {
            let Some(origin) = self.origins.get(theirs.origin) else {
                continue;
            };
            let at_origin = |invariant: &str, detail: String| {
                let mut violation = self.violation(now, None, None, invariant, detail);
                violation.origin = Some(origin.name.clone());
                Err(violation)
            };
            if theirs.in_flight != origin.in_flight {
                return at_origin(
                    "the fleet counts requests in flight right",
                    format!(
                        "the fleet says {} to this origin, the requests sent and not answered or aborted are {}",
                        theirs.in_flight, origin.in_flight
                    ),
                );
            }
            let ours = (origin.hint_until > now).then_some(origin.hint_until);
            if theirs.held_until > ours {
                return at_origin(
                    "an origin is held only by the wait a rate-limit answer asks for",
                    format!(
                        "the fleet holds it until {}, the answers delivered ask for {}",
                        theirs
                            .held_until
                            .map_or("-".to_owned(), |at| at.to_string()),
                        ours.map_or("no wait".to_owned(), |at| format!(
                            "{at}: {}",
                            origin.hint_reason
                        )),
                    ),
                );
            }
        }
        self.touched_origins.clear();
        if let Some(theirs) = view.origins {
            self.check_origins(now, theirs)?;
        }
        if view.running != self.running {
            return Err(self.violation(
                now,
                None,
                None,
                "every job that ends sends its outcome",
                format!(
                    "the fleet runs {} jobs, {} have not sent their outcome",
                    view.running, self.running
                ),
            ));
        }
        let mut touched = std::mem::take(&mut self.touched);
        touched.sort_unstable();
        touched.dedup();
        for job in touched {
            let watch = &self.jobs[job];
            for subscriber in &watch.subscribers {
                let s = &self.subscribers[*subscriber];
                if s.left {
                    continue;
                }
                if s.cursor != watch.events.len() {
                    return Err(self.violation(
                        now,
                        Some(job),
                        Some(*subscriber),
                        "events of a shared job reach every subscriber",
                        format!(
                            "received {} of the {} events since it joined",
                            s.cursor,
                            watch.events.len()
                        ),
                    ));
                }
                if watch.is_over() && !s.finished {
                    return Err(self.violation(
                        now,
                        Some(job),
                        Some(*subscriber),
                        "every subscriber of a shared job receives its outcome",
                        "the job ended without an outcome for this subscriber".to_owned(),
                    ));
                }
            }
        }
        // A stop is acted on within its own call: the subscriber has its outcome,
        // or its job's cancel request is out.
        for (subscriber, at) in std::mem::take(&mut self.stops) {
            let watch = &self.subscribers[subscriber];
            let job = &self.jobs[watch.job];
            let cancel_out = job.cancelling && job.in_flight.is_some();
            if !watch.finished && !cancel_out {
                return Err(self.violation(
                    now,
                    Some(watch.job),
                    Some(subscriber),
                    "a stop is acted on at once",
                    format!(
                        "stopped at {at}: no outcome and no cancel request out{}",
                        if now < self.origins[job.origin].hint_until {
                            format!(
                                " (the origin is held: {})",
                                self.origins[job.origin].hint_reason
                            )
                        } else {
                            String::new()
                        }
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The fleet keeps `theirs` origins at `now`: no more than those with a job
    /// whose outcome has not come, a pause, or a hold still to run. (The memory an
    /// origin takes is freed once none of these needs it.)
    pub fn check_origins(&self, now: Instant, theirs: usize) -> Result<(), FleetViolation> {
        let needed = self
            .origins
            .iter()
            .filter(|o| o.live_jobs > 0 || o.in_flight > 0 || o.paused || o.hint_until > now)
            .count();
        if theirs > needed {
            return Err(self.violation(
                now,
                None,
                None,
                "the fleet keeps only the origins it needs",
                format!(
                    "the fleet keeps {theirs} origins; {needed} have a running job, a request in flight, a pause or a hold"
                ),
            ));
        }
        Ok(())
    }

    /// At the end of the run: every subscriber has its outcome, and the fleet is
    /// empty with nothing in flight.
    pub fn at_end(&self, now: Instant, fleet_is_empty: bool) -> Result<(), FleetViolation> {
        if let Some(subscriber) = self.subscribers.iter().position(|s| !s.finished) {
            let job = self.subscribers[subscriber].job;
            return Err(self.violation(
                now,
                Some(job),
                Some(subscriber),
                "liveness",
                "the subscriber never received an outcome".to_owned(),
            ));
        }
        if !fleet_is_empty || self.in_flight != 0 {
            return Err(self.violation(
                now,
                None,
                None,
                "liveness",
                format!(
                    "the run ended with the fleet {} and {} requests in flight",
                    if fleet_is_empty { "empty" } else { "not empty" },
                    self.in_flight
                ),
            ));
        }
        Ok(())
    }
}

/// The wait a response asks of its whole origin, as the fleet's rules say: the
/// wait of a 429 or 503, or on any other answer the wait of an exhausted
/// `RateLimit` budget alone (read from the rate-limit headers without the
/// `Retry-After` beside them, which paces one job).
fn rate_limit_wait(response: &http::Response<bytes::Bytes>, cap: Duration) -> Option<ServerHint> {
    if matches!(response.status().as_u16(), 429 | 503) {
        return read_hints(response.headers(), cap).wait;
    }
    let mut budget = http::HeaderMap::new();
    for (name, value) in response.headers() {
        if name.as_str().starts_with("ratelimit") {
            budget.append(name.clone(), value.clone());
        }
    }
    let hint = read_hints(&budget, cap).wait?;
    (hint.source == HintSource::RateLimit).then_some(hint)
}
