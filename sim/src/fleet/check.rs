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
//!
//! This file holds the checker's state, what every group of invariants shares,
//! and the comparison with the fleet's own counts after each call
//! ([`FleetChecker::settled`]); each group is in a file of its own: requests in
//! flight, limits, pauses and holds in `limits`; jobs, subscriptions, stops and
//! outcomes in `outcomes`; origins and the memory they take in `origins`.

mod limits;
mod origins;
mod outcomes;

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use jobpoll_core::fleet::FleetConfig;
use jobpoll_core::{Event, Instant, Outcome, RequestId};

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
    /// The wait asked by the rate-limit answer that started the latest hold: the
    /// fleet paces the origin after a hold, and never by a gap longer than this.
    pace_bound: Duration,
    /// When the last request went to this origin.
    last_sent: Instant,
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
}
