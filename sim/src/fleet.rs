//! Fleets in the simulated world: one [`Fleet`] runs every job of a seed, on
//! several origins, each its own model server behind its own faulty network.
//!
//! One root seed draws the fleet's limits (1 to 64 requests in flight, 1 to 16 per
//! origin), a fault plan and a server per origin, the jobs (every shape and preset
//! of the single-job world, submitted or polled by URL), extra subscriptions to
//! jobs polled by URL (the same status URL, at once or later), stops of single
//! subscribers, sometimes a stop of everything, and pause windows of the whole
//! fleet and of single origins. After the fault phase comes a fault-free liveness phase with no
//! pause. [`check::FleetChecker`] checks every invariant after every fleet call.
//!
//! A second stream of draws from the same seed adds what only some servers do:
//! jobs on a host of their own (`j7.a.sim.jobpoll.test`, served by `a`'s server
//! behind `a`'s network: to the fleet, an origin per job), and status answers
//! whose 2xx carries a `Retry-After` of 1 s to 10 minutes (a pace for that job),
//! and a proxy that answers a share of the requests with a bare 503.
//!
//! This file holds the world's parts and the commands' entry points; the world is
//! drawn in `draw`, its networks and servers answer in `network`, the run loop
//! drives the fleet in `drive`, and the counts are in `report`.

pub mod check;
mod draw;
mod drive;
mod network;
mod report;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use url::Url;

use jobpoll_core::fleet::{Fleet, FleetConfig, JobKey, Subscriber};
use jobpoll_core::rng::Rng;
use jobpoll_core::{Input, Instant, JobSpec, Profile, Purpose, RequestId};
use jobpoll_server::model::ServerModel;

use crate::agenda::Agenda;
use crate::faults::FaultPlan;
use crate::fleet::check::{FleetChecker, FleetViolation};
use crate::run::WorldArgs;
use crate::world::{JobScenario, SimConfig};

pub use self::report::{FleetFailure, FleetSoakSummary, FleetSummary};

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
    ///
    /// [`Shape::ALL`]: jobpoll_server::plan::Shape::ALL
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
