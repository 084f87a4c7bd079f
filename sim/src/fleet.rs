//! Fleets in the simulated world: one [`Fleet`] runs every job of a seed, on
//! several origins, each its own model server behind its own faulty network.
//!
//! One root seed draws the fleet's limits (1 to 64 requests in flight, 1 to 16 per
//! origin), a fault plan and a server per origin, the jobs (every shape and preset
//! of the single-job world, submitted or polled by URL), extra subscriptions to
//! jobs polled by URL (the same status URL, at once or later), stops of single
//! subscribers, sometimes a `stop_all`, and pause windows of the whole fleet and of
//! single origins. After the fault phase comes a fault-free liveness phase with no
//! pause. [`check::FleetChecker`] checks every invariant after every fleet call.
//!
//! A second stream of draws from the same seed adds what only some servers do:
//! jobs on a host of their own (`j7.a.sim.jobpoll.test`, served by `a`'s server
//! behind `a`'s network: to the fleet, an origin per job), and status answers
//! whose 2xx carries a `Retry-After` of 1 s to 10 minutes (a pace for that job),
//! and a proxy that answers a share of the requests with a bare 503.

pub mod check;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use jobpoll_core::fleet::{Fleet, FleetConfig, FleetOutput, JobKey, Subscriber};
use jobpoll_core::rng::Rng;
use jobpoll_core::{Input, Instant, JobSpec, Profile, Purpose, RequestId, Start, Transmit};
use jobpoll_server::model::{ServerConfig, ServerModel};
use jobpoll_server::plan::Shape;

use crate::agenda::Agenda;
use crate::distributions::{chance, lognormal};
use crate::faults::{FaultPlan, Intensity};
use crate::fleet::check::{FleetChecker, FleetView, FleetViolation, OriginView};
use crate::run::{SoakSummary, WorldArgs, write_outcomes};
use crate::world::{
    JobFacts, JobScenario, LIVENESS_START, SimConfig, cross, draw_scenario, scenario_spec,
    without_hints,
};

/// The hosts of the simulated origins (`https://` each).
pub const HOSTS: [&str; 3] = [
    "a.sim.jobpoll.test",
    "b.sim.jobpoll.test",
    "c.sim.jobpoll.test",
];

/// A deliberate bug in the driver, to prove the fleet checks can fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum FleetSabotage {
    /// The driver strips `Retry-After` and `RateLimit` headers from every answer
    /// that throttles its origin (a 429 or 503 with a wait, an exhausted budget)
    /// before the fleet reads it (the checker still reads them): the fleet never
    /// throttles an origin.
    FleetIgnoresThrottle,
}

/// Everything that decides a fleet run (`jobs` are those of the fault phase;
/// extra subscriptions come on top).
pub type FleetSimConfig = SimConfig<FleetSabotage>;

impl FleetSimConfig {
    /// The command that reproduces this run.
    pub fn command(&self) -> String {
        self.command_line("fleet-run")
    }
}

/// Arguments of the fleet commands (`jobs` are those of the fault phase; extra
/// subscriptions come on top).
pub type FleetArgs = WorldArgs<FleetSabotage>;

/// Counts of one fleet run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetSummary {
    /// The fleet's limits: requests in flight at once, and to one origin.
    pub limits: (u32, u32),
    /// Jobs the fleet ran.
    pub jobs: usize,
    /// Subscriptions.
    pub subscribers: usize,
    /// Subscriptions that joined a running job.
    pub joined: usize,
    /// Subscribers stopped (one by one or by `stop_all`).
    pub stopped: usize,
    /// Pauses and resumes, of the fleet and of origins.
    pub pauses: usize,
    /// Answers delivered with a hint that held back their origin.
    pub hints: usize,
    /// Jobs on a host of their own.
    pub own_hosts: usize,
    /// 2xx answers delivered with a `Retry-After` (a pace for their job).
    pub paced: usize,
    /// Stops of a subscriber whose job's origin a rate limit held back then.
    pub stops_in_holds: usize,
    /// 429 and 503 answers delivered while their job still kept a longer wait
    /// from an earlier 2xx (which must not hold the origin).
    pub inside_pace: usize,
    /// Requests sent.
    pub requests: u64,
    /// The most requests in flight at once.
    pub peak_in_flight: u32,
    /// Steps: fleet calls.
    pub steps: u64,
    /// Virtual time the run covered.
    pub virtual_seconds: u64,
    /// Outcomes by kind, one per subscriber.
    pub outcomes: BTreeMap<String, usize>,
    /// Hash of every fleet output with its time (FNV-1a 64).
    pub hash: u64,
}

impl std::fmt::Display for FleetSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "limits {} in flight, {} per origin; {} jobs, {} subscribers ({} joined a running job, {} stopped)",
            self.limits.0, self.limits.1, self.jobs, self.subscribers, self.joined, self.stopped
        )?;
        writeln!(
            f,
            "{} requests (at most {} in flight), {} throttling hints, {} pauses and resumes, {} steps, {} s of virtual time",
            self.requests,
            self.peak_in_flight,
            self.hints,
            self.pauses,
            self.steps,
            self.virtual_seconds
        )?;
        writeln!(
            f,
            "{} jobs on a host of their own, {} paced 2xx answers, {} stops while the origin was held, {} 429/503 answers inside a longer pace",
            self.own_hosts, self.paced, self.stops_in_holds, self.inside_pace
        )?;
        write_outcomes(f, &self.outcomes)?;
        writeln!(f, "output hash {:016x}", self.hash)
    }
}

/// A fleet run that broke an invariant.
#[derive(Debug)]
pub struct FleetFailure {
    /// What broke.
    pub violation: FleetViolation,
    /// The counts up to the failure.
    pub summary: FleetSummary,
    /// The command that runs the same seed again.
    pub command: String,
    /// Where the log of the run (one line per fleet call and output) was written,
    /// if it was.
    pub log_file: Option<PathBuf>,
}

impl std::fmt::Display for FleetFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "invariant broken: {}", self.violation)?;
        writeln!(f, "reproduce the run:   {}", self.command)?;
        if let Some(file) = &self.log_file {
            writeln!(f, "the run's log:       {}", file.display())?;
        }
        Ok(())
    }
}

/// One subscription of a hand-written fleet scenario.
#[derive(Clone, Debug)]
pub struct FleetScenario {
    /// The origin, an index into [`HOSTS`].
    pub origin: usize,
    /// The job, how the client waits, when it subscribes and when it stops. For a
    /// subscription to another's job, shape and plan must be that job's.
    pub job: JobScenario,
    /// Subscribe to the status URL of this earlier subscription (whose job is
    /// polled by URL).
    pub joins: Option<usize>,
}

/// One origin: its URL, its network's faults and its server.
#[derive(Debug)]
struct SimOrigin {
    url: Url,
    faults: FaultPlan,
    server: ServerModel,
}

/// One subscription the seed plans.
#[derive(Clone, Debug)]
struct Planned {
    origin: usize,
    /// The job, how the client waits, when it subscribes, when it stops. For a
    /// subscription to another's job, shape and plan are that job's.
    scenario: JobScenario,
    /// Subscribes to the status URL of this earlier planned subscription.
    joins: Option<usize>,
    /// A header of its own (a different subscription to the same URL, which the
    /// fleet must not share).
    header: Option<(String, String)>,
    /// A host of its own, served by its origin's server (for a new job).
    host: Option<String>,
}

/// The spec a subscription used, and its job's id on the server if known then.
type StartedSpec = (JobSpec<Arc<Profile>>, Option<String>);

/// One job the fleet runs, as the simulator knows it.
#[derive(Debug)]
struct RunningJob {
    key: JobKey,
    /// Its server (an index into the world's origins).
    origin: usize,
    calm: bool,
    /// The request in flight: id, purpose, and whether it was aborted.
    in_flight: Option<(RequestId, Purpose, bool)>,
    /// Until when the last paced 2xx asked it to wait.
    paced_until: Instant,
}

#[derive(Debug)]
enum Action {
    Subscribe(usize),
    Arrive { job: usize, input: Input },
    Stop(usize),
    StopAll,
    Pause,
    Resume,
    PauseOrigin(usize),
    ResumeOrigin(usize),
}

/// The seeded fleet world.
pub struct FleetWorld {
    config: FleetSimConfig,
    rng: Rng,
    limits: FleetConfig,
    fleet: Fleet<Arc<Profile>>,
    origins: Vec<SimOrigin>,
    calm: FaultPlan,
    /// One profile per shape (in [`Shape::ALL`] order), shared by all its jobs.
    profiles: Vec<Arc<Profile>>,
    planned: Vec<Planned>,
    /// The spec and server id each planned subscription used, once started.
    specs: Vec<Option<StartedSpec>>,
    /// The subscriber number of each planned subscription, once started.
    subscriber_of: Vec<Option<usize>>,
    subscribers: Vec<Subscriber>,
    subscriber_numbers: HashMap<Subscriber, usize>,
    jobs: Vec<RunningJob>,
    job_numbers: HashMap<JobKey, usize>,
    /// Jobs whose outcome has not come yet.
    live: Vec<usize>,
    agenda: Agenda<Action>,
    now: Instant,
    checker: FleetChecker,
    /// The fleet's origins by the checker's numbers: the servers' hosts first,
    /// then the hosts of jobs of their own.
    hosts: Vec<Url>,
    /// Draws for paced answers, apart from the network's.
    pace_rng: Rng,
    /// The share of 2xx status answers that carry a `Retry-After`.
    pace: f64,
    /// The share of requests a proxy answers with a bare 503 (no wait).
    shed: f64,
    summary: FleetSummary,
    hash: crate::hash::Fnv64,
    log: Option<Vec<String>>,
}

/// A whole number from 1 to `max`, spread evenly on a logarithmic scale (small
/// limits are as likely as large ones).
fn log_uniform(rng: &mut Rng, max: u32) -> u32 {
    let top = f64::from(max).log2();
    (2f64.powf(rng.range_f64(0.0, top)).round() as u32).clamp(1, max)
}

/// Windows `(from, until)` in the fault phase: up to `most` of them.
fn windows(rng: &mut Rng, most: u64) -> Vec<(Instant, Instant)> {
    let count = rng.next_u64() % (most + 1);
    (0..count)
        .map(|_| {
            let from = Duration::from_secs_f64(rng.range_f64(0.0, 150.0));
            let length = Duration::from_secs_f64(lognormal(rng, 5.0, 1.2).clamp(0.1, 90.0));
            (Instant::ZERO + from, Instant::ZERO + from + length)
        })
        .collect()
}

impl FleetWorld {
    /// A world for `config`: draws the limits, origins, pauses and every
    /// subscription up front.
    pub fn new(config: FleetSimConfig) -> Result<FleetWorld, url::ParseError> {
        let mut rng = Rng::new(config.seed);
        let max_in_flight = log_uniform(&mut rng, 64);
        let max_in_flight_per_origin = log_uniform(&mut rng, 16);
        let limits = FleetConfig {
            max_in_flight,
            max_in_flight_per_origin,
            seed: rng.next_u64(),
        };
        let mut origins = Vec::new();
        let mut weights = Vec::new();
        for host in HOSTS {
            let faults = FaultPlan::draw(&mut rng, config.intensity);
            let server_config = ServerConfig {
                rate_limit: faults.rate_limit.clone(),
                ..ServerConfig::default()
            };
            let server = ServerModel::new(server_config, rng.next_u64());
            weights.push(rng.range_f64(0.1, 1.0));
            origins.push(SimOrigin {
                url: Url::parse(&format!("https://{host}"))?,
                faults,
                server,
            });
        }
        let names: Vec<String> = origins
            .iter()
            .map(|o| o.url.origin().ascii_serialization())
            .collect();
        let checker = FleetChecker::new(config.seed, &limits, &names);
        let origins_urls: Vec<Url> = origins.iter().map(|o| o.url.clone()).collect();
        let mut agenda = Agenda::new();
        let shared_rate = if chance(&mut rng, 0.25) {
            0.0
        } else {
            rng.range_f64(0.0, 0.6)
        };
        if chance(&mut rng, 0.15) {
            let at = Duration::from_secs_f64(rng.range_f64(5.0, 150.0));
            agenda.push(Instant::ZERO + at, Action::StopAll);
        }
        for (from, until) in windows(&mut rng, 3) {
            agenda.push(from, Action::Pause);
            agenda.push(until, Action::Resume);
        }
        for origin in 0..origins.len() {
            for (from, until) in windows(&mut rng, 2) {
                agenda.push(from, Action::PauseOrigin(origin));
                agenda.push(until, Action::ResumeOrigin(origin));
            }
        }
        // What only some servers do, drawn apart so that the draws above stay as
        // they were: jobs on hosts of their own, paced 2xx answers.
        let mut extra = Rng::new(config.seed ^ 0x6f77_6e5f_686f_7374);
        let own_host_rate = if chance(&mut extra, 1.0 / 3.0) {
            0.0
        } else {
            extra.range_f64(0.0, 0.5)
        };
        let pace = if chance(&mut extra, 0.5) {
            0.0
        } else {
            extra.range_f64(0.1, 0.6)
        };
        let shed = if chance(&mut extra, 0.5) {
            0.0
        } else {
            extra.range_f64(0.02, 0.15)
        };
        let pace_rng = Rng::new(extra.next_u64());
        let calm_plan = FaultPlan::calm();
        let mut planned = Vec::new();
        for index in 0..config.jobs + config.liveness_jobs {
            let calm = index >= config.jobs;
            let start = if calm {
                Instant::ZERO + LIVENESS_START + Duration::from_millis(rng.next_u64() % 60_000)
            } else {
                Instant::from_micros(rng.next_u64() % 120_000_000)
            };
            let total: f64 = weights.iter().sum();
            let mut pick = rng.range_f64(0.0, total);
            let origin = weights
                .iter()
                .position(|w| {
                    pick -= w;
                    pick < 0.0
                })
                .unwrap_or(weights.len() - 1);
            let source = if calm {
                &calm_plan
            } else {
                &origins[origin].faults
            };
            let scenario = draw_scenario(&mut rng, source, calm, start);
            let (shape, plan, submit) = (scenario.shape, scenario.plan.clone(), scenario.submit);
            let original = planned.len();
            let host =
                chance(&mut extra, own_host_rate).then(|| format!("j{original}.{}", HOSTS[origin]));
            planned.push(Planned {
                origin,
                scenario,
                joins: None,
                header: None,
                host,
            });
            let extra = if !submit && chance(&mut rng, shared_rate) {
                1 + rng.next_u64() % 2
            } else {
                0
            };
            for _ in 0..extra {
                let delay = if chance(&mut rng, 0.4) {
                    Duration::ZERO
                } else {
                    let most = if calm { 10.0 } else { 90.0 };
                    Duration::from_secs_f64(rng.range_f64(0.0, most))
                };
                let own = draw_scenario(&mut rng, source, calm, start + delay);
                let header = chance(&mut rng, 0.2)
                    .then(|| ("x-subscriber".to_owned(), planned.len().to_string()));
                planned.push(Planned {
                    header,
                    host: None,
                    origin,
                    scenario: JobScenario {
                        shape,
                        plan: plan.clone(),
                        submit: false,
                        ..own
                    },
                    joins: Some(original),
                });
            }
        }
        for (index, plan) in planned.iter().enumerate() {
            agenda.push(plan.scenario.start_at, Action::Subscribe(index));
        }
        let profiles = Shape::ALL
            .iter()
            .map(|shape| {
                Arc::new(Profile::builtin(shape.profile_name()).unwrap_or_else(Profile::jobs))
            })
            .collect();
        Ok(FleetWorld {
            fleet: Fleet::new(limits.clone()),
            summary: FleetSummary {
                limits: (limits.max_in_flight, limits.max_in_flight_per_origin),
                ..FleetSummary::default()
            },
            specs: vec![None; planned.len()],
            subscriber_of: vec![None; planned.len()],
            planned,
            limits,
            origins,
            calm: calm_plan,
            profiles,
            subscribers: Vec::new(),
            subscriber_numbers: HashMap::new(),
            jobs: Vec::new(),
            job_numbers: HashMap::new(),
            live: Vec::new(),
            agenda,
            now: Instant::ZERO,
            checker,
            hosts: origins_urls,
            pace_rng,
            pace,
            shed,
            hash: crate::hash::Fnv64::new(),
            log: None,
            rng,
            config,
        })
    }

    /// A world with exactly these subscriptions, under these limits, every origin
    /// behind a network with `faults` (and its rate limit, if any); no pause and no
    /// stop but the scenarios' own.
    pub fn from_scenarios(
        seed: u64,
        limits: FleetConfig,
        faults: &FaultPlan,
        subscriptions: Vec<FleetScenario>,
        sabotage: Option<FleetSabotage>,
    ) -> Result<FleetWorld, url::ParseError> {
        let config = FleetSimConfig {
            seed,
            jobs: 0,
            intensity: Intensity::None,
            liveness_jobs: 0,
            sabotage,
        };
        let mut world = FleetWorld::new(config)?;
        world.agenda.clear();
        for (index, origin) in world.origins.iter_mut().enumerate() {
            origin.faults = faults.clone();
            let server_config = ServerConfig {
                rate_limit: faults.rate_limit.clone(),
                ..ServerConfig::default()
            };
            origin.server = ServerModel::new(server_config, seed.wrapping_add(index as u64));
        }
        let names: Vec<String> = world
            .origins
            .iter()
            .map(|o| o.url.origin().ascii_serialization())
            .collect();
        world.checker = FleetChecker::new(seed, &limits, &names);
        world.pace = 0.0;
        world.shed = 0.0;
        world.fleet = Fleet::new(limits.clone());
        world.summary.limits = (limits.max_in_flight, limits.max_in_flight_per_origin);
        world.limits = limits;
        world.planned = subscriptions
            .into_iter()
            .map(|s| Planned {
                origin: s.origin.min(HOSTS.len() - 1),
                scenario: s.job,
                joins: s.joins,
                header: None,
                host: None,
            })
            .collect();
        world.specs = vec![None; world.planned.len()];
        world.subscriber_of = vec![None; world.planned.len()];
        for (index, plan) in world.planned.iter().enumerate() {
            world
                .agenda
                .push(plan.scenario.start_at, Action::Subscribe(index));
        }
        Ok(world)
    }

    /// The same world, writing one readable line per fleet call and output.
    pub fn with_log(mut self) -> FleetWorld {
        self.log = Some(Vec::new());
        self
    }

    /// The fleet's limits.
    pub fn limits(&self) -> &FleetConfig {
        &self.limits
    }

    /// Runs to the end: every subscriber must receive its outcome and no invariant
    /// may break. Returns the counts, and the log if one was asked for.
    pub fn run(mut self) -> (Result<FleetSummary, Box<FleetFailure>>, Vec<String>) {
        let result = self.run_to_end();
        self.summary.jobs = self.jobs.len();
        self.summary.subscribers = self.subscribers.len();
        self.summary.virtual_seconds = self.now.since_epoch().as_secs();
        self.summary.hash = self.hash.finish();
        let log = self.log.take().unwrap_or_default();
        let result = match result {
            Ok(()) => Ok(self.summary),
            Err(violation) => Err(Box::new(FleetFailure {
                violation,
                summary: self.summary,
                command: self.config.command(),
                log_file: None,
            })),
        };
        (result, log)
    }

    fn violation(&self, job: Option<usize>, invariant: &str, detail: String) -> FleetViolation {
        FleetViolation {
            seed: self.config.seed,
            at: self.now,
            job,
            subscriber: None,
            origin: job
                .and_then(|j| self.checker.origin_of(j))
                .and_then(|o| self.checker.origin_name(o))
                .map(str::to_owned),
            invariant: invariant.to_owned(),
            detail,
        }
    }

    fn note(&mut self, text: impl FnOnce() -> String) {
        if let Some(log) = &mut self.log {
            let time = jobpoll_core::time::format_duration(self.now.since_epoch());
            log.push(format!("{time:>10}  {}", text()));
        }
    }

    fn run_to_end(&mut self) -> Result<(), FleetViolation> {
        // Timers that fire without time moving on; a fleet that keeps asking for
        // the same instant is stuck.
        let mut stalls = 0u32;
        loop {
            let timer = self.fleet.poll_timeout();
            let event = self.agenda.next_at();
            let timer_first = match (timer, event) {
                (Some(at), Some(e)) => at <= e,
                (timer, _) => timer.is_some(),
            };
            match (timer, event) {
                (Some(at), _) if timer_first => {
                    stalls = if at <= self.now { stalls + 1 } else { 0 };
                    if stalls > 10_000 {
                        return Err(self.violation(
                            None,
                            "the fleet's timer moves on",
                            format!("the fleet asked for {at} again and again"),
                        ));
                    }
                    self.now = self.now.max(at);
                    self.note(|| "timeout".to_owned());
                    self.fleet.handle_timeout(self.now);
                }
                (_, Some(_)) => {
                    let Some((at, action)) = self.agenda.pop() else {
                        break;
                    };
                    self.now = self.now.max(at);
                    self.act(action)?;
                }
                _ => break,
            }
            self.summary.steps += 1;
            self.drain()?;
        }
        self.checker.at_end(self.now, self.fleet.is_empty())?;
        self.checker.check_origins(self.now, self.fleet.origins())?;
        let metrics = self.fleet.metrics();
        let counted = (
            metrics.jobs,
            metrics.joined,
            metrics.requests,
            metrics.finished,
        );
        let jobs = self.jobs.len() as u64;
        let seen = (
            jobs,
            self.summary.joined as u64,
            self.summary.requests,
            jobs,
        );
        if counted != seen {
            return Err(self.violation(
                None,
                "the fleet's metrics agree with what it did",
                format!("metrics (jobs, joined, requests, finished) {counted:?}, seen {seen:?}"),
            ));
        }
        Ok(())
    }

    fn act(&mut self, action: Action) -> Result<(), FleetViolation> {
        let now = self.now;
        match action {
            Action::Subscribe(plan) => self.subscribe(plan)?,
            Action::Arrive { job, input } => self.deliver(job, input)?,
            Action::Stop(plan) => {
                let Some(number) = self.subscriber_of[plan] else {
                    return Ok(());
                };
                if self.checker.has_finished(number) {
                    return Ok(());
                }
                self.note(|| format!("stop subscriber {number}"));
                self.summary.stopped += 1;
                if self.checker.held_at(number, now) {
                    self.summary.stops_in_holds += 1;
                }
                self.checker.stopped(number, now);
                let subscriber = self.subscribers[number];
                if let Err(error) = self.fleet.stop(subscriber, now) {
                    let job = self.job_numbers.get(&subscriber.job()).copied();
                    return Err(self.violation(
                        job,
                        "a subscriber that has no outcome can stop",
                        format!("subscriber {number}: {error}"),
                    ));
                }
            }
            Action::StopAll => {
                self.note(|| "stop all".to_owned());
                for number in 0..self.subscribers.len() {
                    if !self.checker.has_finished(number) {
                        self.summary.stopped += 1;
                        if self.checker.held_at(number, now) {
                            self.summary.stops_in_holds += 1;
                        }
                        self.checker.stopped(number, now);
                    }
                }
                self.fleet.stop_all(now);
            }
            Action::Pause => {
                self.note(|| "pause the fleet".to_owned());
                self.summary.pauses += 1;
                self.checker.paused();
                self.fleet.pause();
            }
            Action::Resume => {
                self.note(|| "resume the fleet".to_owned());
                self.summary.pauses += 1;
                self.checker.resumed();
                self.fleet.resume(now);
            }
            Action::PauseOrigin(origin) => {
                self.note(|| format!("pause {}", HOSTS[origin]));
                self.summary.pauses += 1;
                self.checker.origin_paused(origin);
                self.fleet.pause_origin(&self.origins[origin].url);
            }
            Action::ResumeOrigin(origin) => {
                self.note(|| format!("resume {}", HOSTS[origin]));
                self.summary.pauses += 1;
                self.checker.origin_resumed(origin);
                self.fleet.resume_origin(&self.origins[origin].url, now);
            }
        }
        Ok(())
    }

    /// Starts planned subscription `plan`: a new job, or a second subscription to
    /// the status URL of an earlier one.
    fn subscribe(&mut self, plan: usize) -> Result<(), FleetViolation> {
        let now = self.now;
        let Planned {
            origin,
            scenario,
            joins,
            header,
            host,
        } = self.planned[plan].clone();
        let (spec, server_id) = match joins {
            Some(original) => match &self.specs[original] {
                Some((spec, server_id)) => {
                    let mut spec = spec.clone();
                    if let Some((name, value)) = header {
                        spec = spec.with_header(name, value);
                    }
                    (spec, server_id.clone())
                }
                None => {
                    return Err(self.violation(
                        None,
                        "a second subscription comes after the first",
                        format!("planned subscription {plan} before {original}"),
                    ));
                }
            },
            None => {
                let o = &mut self.origins[origin];
                let url = match &host {
                    Some(host) => Url::parse(&format!("https://{host}")).map_err(|error| {
                        self.violation(None, "a job's own host is a valid URL", error.to_string())
                    })?,
                    None => o.url.clone(),
                };
                let o = &mut self.origins[origin];
                let (spec, server_id) = scenario_spec(&mut o.server, &url, &scenario, now)
                    .map_err(|error| {
                        self.violation(None, "the model's paths are valid URLs", error.to_string())
                    })?;
                let shape = Shape::ALL
                    .iter()
                    .position(|s| *s == scenario.shape)
                    .unwrap_or(0);
                let spec = JobSpec {
                    profile: self.profiles[shape].clone(),
                    start: spec.start,
                    headers: spec.headers,
                };
                (spec, server_id)
            }
        };
        let identity = match &spec.start {
            Start::Poll { status_url, .. } => Some(format!(
                "{} {status_url} {:?}",
                scenario.shape.profile_name(),
                spec.headers
            )),
            Start::Submit { .. } => None,
        };
        let config = Arc::new(scenario.config.clone());
        // The fleet's origin: the host the job starts on.
        let start_url = match &spec.start {
            Start::Poll { status_url, .. } => status_url,
            Start::Submit { url, .. } => url,
        };
        let host = self
            .checker
            .origin(&start_url.origin().ascii_serialization());
        if host == self.hosts.len() {
            self.hosts.push(start_url.clone());
            self.summary.own_hosts += 1;
        }
        let subscriber = self
            .fleet
            .add(spec.clone(), config.clone(), now)
            .map_err(|error| {
                self.violation(None, "the fleet takes a valid spec", error.to_string())
            })?;
        self.specs[plan] = Some((spec, server_id.clone()));
        let key = subscriber.job();
        let job = match self.job_numbers.get(&key) {
            Some(job) => {
                self.summary.joined += 1;
                *job
            }
            None => {
                let job = self.jobs.len();
                self.jobs.push(RunningJob {
                    key,
                    origin,
                    calm: scenario.calm,
                    in_flight: None,
                    paced_until: Instant::ZERO,
                });
                self.job_numbers.insert(key, job);
                let facts = JobFacts {
                    server_id,
                    shape: scenario.shape,
                    plan: scenario.plan.clone(),
                    started: now,
                    phase_calm: scenario.calm,
                    cancelled_at: None,
                };
                self.checker
                    .job_started(job, host, &config, facts, identity.clone())?;
                self.live.push(job);
                job
            }
        };
        let number = self.subscribers.len();
        self.subscribers.push(subscriber);
        self.subscriber_numbers.insert(subscriber, number);
        self.subscriber_of[plan] = Some(number);
        self.note(|| {
            format!(
                "subscriber {number} {} job {job} on {}",
                if joins.is_some() { "joins" } else { "starts" },
                HOSTS[origin]
            )
        });
        self.checker
            .subscribed(number, job, identity.as_deref(), now)?;
        if let Some(after) = scenario.cancel_after {
            self.agenda.push(now + after, Action::Stop(plan));
        }
        Ok(())
    }

    /// Delivers an answer that arrived, unless its request was aborted.
    fn deliver(&mut self, job: usize, input: Input) -> Result<(), FleetViolation> {
        let request = match &input {
            Input::Response { request, .. } | Input::TransportError { request, .. } => *request,
            Input::Tick { .. } | Input::Cancel { .. } => return Ok(()),
        };
        let purpose = match self.jobs[job].in_flight {
            // Answers to aborted requests are dropped by the driver.
            Some((id, purpose, false)) if id == request => purpose,
            _ => return Ok(()),
        };
        self.jobs[job].in_flight = None;
        let input = self.pace(job, purpose, input);
        self.note(|| format!("job {job}  {}", crate::world::describe_input(&input)));
        let origin = self.checker.origin_of(job).unwrap_or(0);
        let before = self.checker.throttled_until(origin);
        self.checker.delivered(job, &input, self.now)?;
        if self.checker.throttled_until(origin) != before {
            self.summary.hints += 1;
        }
        let input = match self.config.sabotage {
            // Only the answers that throttle the origin (the checker's view changed).
            Some(FleetSabotage::FleetIgnoresThrottle)
                if self.checker.throttled_until(origin) != before =>
            {
                without_hints(input)
            }
            _ => input,
        };
        let key = self.jobs[job].key;
        let now = self.now;
        let answered = match input {
            Input::Response {
                request, response, ..
            } => self.fleet.handle_response(key, request, response, now),
            Input::TransportError { request, error, .. } => {
                self.fleet.handle_transport_error(key, request, error, now)
            }
            Input::Tick { .. } | Input::Cancel { .. } => Ok(()),
        };
        answered.map_err(|error| {
            self.violation(
                Some(job),
                "the fleet takes the answer to a request in flight",
                error.to_string(),
            )
        })
    }

    /// Some servers pace their jobs: a 2xx status answer (of the fault phase)
    /// may carry a `Retry-After` of its own. Counts the paced answers, and the
    /// 429s and 503s that come while their job still keeps a longer pace.
    fn pace(&mut self, job: usize, purpose: Purpose, input: Input) -> Input {
        let Input::Response {
            request,
            mut response,
            now,
        } = input
        else {
            return input;
        };
        let status = response.status();
        if status.is_success()
            && purpose == Purpose::Status
            && !self.jobs[job].calm
            && !response.headers().contains_key(http::header::RETRY_AFTER)
            && chance(&mut self.pace_rng, self.pace)
        {
            let seconds = log_uniform(&mut self.pace_rng, 600);
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, http::HeaderValue::from(seconds));
        }
        if let Some(wait) = response
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
        {
            if status.is_success() {
                self.summary.paced += 1;
                let until = now + Duration::from_secs(wait);
                let running = &mut self.jobs[job];
                running.paced_until = running.paced_until.max(until);
            } else if matches!(status.as_u16(), 429 | 503)
                && now + Duration::from_secs(wait) < self.jobs[job].paced_until
            {
                self.summary.inside_pace += 1;
            }
        } else if matches!(status.as_u16(), 429 | 503) && now < self.jobs[job].paced_until {
            self.summary.inside_pace += 1;
        }
        Input::Response {
            request,
            response,
            now,
        }
    }

    fn job_number(&self, key: JobKey) -> Result<usize, FleetViolation> {
        self.job_numbers.get(&key).copied().ok_or_else(|| {
            self.violation(
                None,
                "outputs name jobs of the fleet",
                format!("unknown job {key:?}"),
            )
        })
    }

    fn subscriber_number(&self, subscriber: Subscriber) -> Result<usize, FleetViolation> {
        self.subscriber_numbers
            .get(&subscriber)
            .copied()
            .ok_or_else(|| {
                self.violation(
                    None,
                    "outputs name subscribers of the fleet",
                    format!("unknown subscriber {subscriber:?}"),
                )
            })
    }

    /// Carries out every output of the last fleet call, checking each, then checks
    /// the fleet's own counts.
    fn drain(&mut self) -> Result<(), FleetViolation> {
        let now = self.now;
        while let Some(output) = self.fleet.poll_output() {
            self.hash
                .write(format!("{} {output:?}\n", now.as_micros()).as_bytes());
            match output {
                FleetOutput::Transmit { job, transmit } => {
                    let job = self.job_number(job)?;
                    self.note(|| {
                        format!(
                            "job {job}  -> {} {} {} [{:?}]",
                            transmit.id, transmit.method, transmit.url, transmit.purpose
                        )
                    });
                    self.checker.transmitted(job, &transmit, now)?;
                    self.summary.requests += 1;
                    self.summary.peak_in_flight =
                        self.summary.peak_in_flight.max(self.fleet.in_flight());
                    self.jobs[job].in_flight = Some((transmit.id, transmit.purpose, false));
                    self.send(job, &transmit);
                }
                FleetOutput::Abort { job, request } => {
                    let job = self.job_number(job)?;
                    self.note(|| format!("job {job}  abort {request}"));
                    self.checker.aborted(job, request, now)?;
                    if let Some((id, _, aborted)) = &mut self.jobs[job].in_flight
                        && *id == request
                    {
                        *aborted = true;
                    }
                }
                FleetOutput::Event { subscriber, event } => {
                    let number = self.subscriber_number(subscriber)?;
                    self.note(|| format!("subscriber {number}  event {event}"));
                    self.checker.event(number, &event, now)?;
                }
                FleetOutput::Finished {
                    subscriber,
                    outcome,
                } => {
                    let number = self.subscriber_number(subscriber)?;
                    let job = self.job_number(subscriber.job())?;
                    self.note(|| {
                        format!(
                            "subscriber {number}  finished {}: {outcome}",
                            outcome.kind()
                        )
                    });
                    let job_over = self.fleet.job(subscriber.job()).is_none();
                    let server = &self.origins[self.jobs[job].origin].server;
                    self.checker
                        .finished(number, &outcome, job_over, now, server)?;
                    *self
                        .summary
                        .outcomes
                        .entry(outcome.kind().to_owned())
                        .or_default() += 1;
                }
            }
        }
        let by_origin = self
            .checker
            .origins_to_compare(HOSTS.len())
            .into_iter()
            .map(|origin| {
                let url = &self.hosts[origin];
                OriginView {
                    origin,
                    in_flight: self.fleet.in_flight_to(url),
                    held_until: self.fleet.throttled_until(url),
                }
            })
            .collect();
        let view = FleetView {
            in_flight: self.fleet.in_flight(),
            by_origin,
            running: self.fleet.len(),
            origins: Some(self.fleet.origins()),
        };
        self.checker.settled(now, &view)?;
        self.check_held(now)
    }

    /// With no fleet timer left to fire now, every job with a request due and none
    /// in flight must be held back by something the checker knows of.
    fn check_held(&mut self, now: Instant) -> Result<(), FleetViolation> {
        let checker = &self.checker;
        self.live.retain(|job| !checker.is_over(*job));
        if self.fleet.poll_timeout().is_some_and(|at| at <= now) {
            return Ok(());
        }
        for job in &self.live {
            if self.checker.in_flight(*job) {
                continue;
            }
            let due = self
                .fleet
                .job(self.jobs[*job].key)
                .filter(|j| !j.is_finished())
                .and_then(|j| j.poll_timeout());
            if let Some(due) = due
                && due <= now
            {
                self.checker.held(*job, due, now)?;
            }
        }
        Ok(())
    }

    /// Sends a request of `job` across its origin's network to its server.
    fn send(&mut self, job: usize, transmit: &Transmit) {
        let running = &self.jobs[job];
        let origin = &mut self.origins[running.origin];
        let faults = if running.calm {
            &self.calm
        } else {
            &origin.faults
        };
        if !running.calm && chance(&mut self.pace_rng, self.shed) {
            // An overloaded proxy in front of the server: a bare 503, no wait.
            let at = self.now + faults.latency(&mut self.pace_rng);
            let response = http::Response::builder()
                .status(503)
                .body(bytes::Bytes::from_static(b"overloaded"))
                .unwrap_or_default();
            let input = Input::Response {
                request: transmit.id,
                response,
                now: at,
            };
            self.agenda.push(at, Action::Arrive { job, input });
            return;
        }
        let crossing = cross(
            faults,
            &mut self.rng,
            &mut origin.server,
            transmit,
            self.now,
        );
        if let Some((at, status)) = crossing.served {
            let server_id =
                if self.checker.server_id(job).is_none() && transmit.purpose == Purpose::Status {
                    origin.server.job_id_for_path(transmit.url.path())
                } else {
                    None
                };
            self.checker
                .served(job, transmit.purpose, status, at, server_id);
        }
        if let Some((at, input)) = crossing.delivery {
            self.agenda.push(at, Action::Arrive { job, input });
        }
    }
}

/// Runs one fleet seed.
pub fn run_fleet_seed(config: FleetSimConfig) -> Result<FleetSummary, Box<FleetFailure>> {
    run_fleet_logged(config, false).0
}

/// Runs one fleet seed, with the log of every call and output when `log` is set.
pub fn run_fleet_logged(
    config: FleetSimConfig,
    log: bool,
) -> (Result<FleetSummary, Box<FleetFailure>>, Vec<String>) {
    let command = config.command();
    let seed = config.seed;
    match FleetWorld::new(config) {
        Ok(world) if log => world.with_log().run(),
        Ok(world) => world.run(),
        Err(error) => {
            let failure = FleetFailure {
                violation: FleetViolation {
                    seed,
                    at: Instant::ZERO,
                    job: None,
                    subscriber: None,
                    origin: None,
                    invariant: "the simulated origins are valid URLs".to_owned(),
                    detail: error.to_string(),
                },
                summary: FleetSummary::default(),
                command,
                log_file: None,
            };
            (Err(Box::new(failure)), Vec::new())
        }
    }
}

/// Totals of a fleet soak.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FleetSoakSummary {
    /// Seeds, jobs the fleets ran, requests, steps (fleet calls) and outcomes by
    /// kind (one per subscriber).
    pub totals: SoakSummary,
    /// Subscriptions.
    pub subscribers: usize,
    /// Subscriptions that joined a running job.
    pub joined: usize,
    /// Subscribers stopped.
    pub stopped: usize,
    /// Answers with a hint that held back their origin.
    pub hints: usize,
    /// Jobs on a host of their own.
    pub own_hosts: usize,
    /// 2xx answers with a `Retry-After`.
    pub paced: usize,
    /// Stops while the subscriber's origin was held.
    pub stops_in_holds: usize,
    /// 429 and 503 answers while their job kept a longer pace.
    pub inside_pace: usize,
}

impl FleetSoakSummary {
    fn add(&mut self, summary: &FleetSummary) {
        self.totals.count(
            summary.jobs,
            summary.requests,
            summary.steps,
            &summary.outcomes,
        );
        self.subscribers += summary.subscribers;
        self.joined += summary.joined;
        self.stopped += summary.stopped;
        self.hints += summary.hints;
        self.own_hosts += summary.own_hosts;
        self.paced += summary.paced;
        self.stops_in_holds += summary.stops_in_holds;
        self.inside_pace += summary.inside_pace;
    }
}

impl std::fmt::Display for FleetSoakSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let totals = &self.totals;
        writeln!(
            f,
            "{} seeds, {} jobs, {} subscribers ({} joined a running job, {} stopped), {} requests, {} throttling hints, {} steps",
            totals.seeds,
            totals.jobs,
            self.subscribers,
            self.joined,
            self.stopped,
            totals.requests,
            self.hints,
            totals.steps
        )?;
        writeln!(
            f,
            "{} jobs on a host of their own, {} paced 2xx answers, {} stops while the origin was held, {} 429/503 answers inside a longer pace",
            self.own_hosts, self.paced, self.stops_in_holds, self.inside_pace
        )?;
        write_outcomes(f, &totals.outcomes)
    }
}

/// Runs one fleet seed; on failure runs it again with the log on (the run is
/// deterministic) and writes the log into `trace_dir`.
pub fn run_fleet_seed_in(
    config: FleetSimConfig,
    trace_dir: &Path,
) -> Result<FleetSummary, Box<FleetFailure>> {
    run_fleet_seed(config.clone()).map_err(|mut failure| {
        let (_, log) = run_fleet_logged(config.clone(), true);
        let file = trace_dir.join(format!("fleet-seed-{}.log", config.seed));
        let mut text = log.join("\n");
        text.push('\n');
        let written = std::fs::create_dir_all(trace_dir).and_then(|()| std::fs::write(&file, text));
        failure.log_file = written.ok().map(|()| file);
        failure
    })
}

/// Runs fleet seeds `first..first + count`, stopping at the first failure.
pub fn fleet_soak(
    args: &FleetArgs,
    first: u64,
    count: u64,
) -> Result<FleetSoakSummary, Box<FleetFailure>> {
    let mut total = FleetSoakSummary::default();
    for seed in first..first.saturating_add(count) {
        let summary = run_fleet_seed_in(args.config(seed), &args.trace_dir)?;
        total.add(&summary);
    }
    Ok(total)
}

/// Runs a fleet seed twice and returns the two output hashes.
pub fn fleet_check_determinism(config: &FleetSimConfig) -> Result<(u64, u64), Box<FleetFailure>> {
    let first = run_fleet_seed(config.clone())?;
    let second = run_fleet_seed(config.clone())?;
    Ok((first.hash, second.hash))
}
