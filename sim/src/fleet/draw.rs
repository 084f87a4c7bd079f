//! Drawing a fleet world: from one root seed the fleet's limits, the origins (a
//! fault plan and a server each), pauses, stops and every subscription; or a world
//! of hand-written scenarios.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use url::Url;

use jobpoll_core::fleet::{Fleet, FleetConfig};
use jobpoll_core::rng::Rng;
use jobpoll_core::{Instant, Profile};
use jobpoll_server::model::{ServerConfig, ServerModel};
use jobpoll_server::plan::Shape;

use super::{
    Action, FleetSabotage, FleetScenario, FleetSimConfig, FleetSummary, FleetWorld, HOSTS, Planned,
    SimOrigin,
};
use crate::agenda::Agenda;
use crate::distributions::{chance, lognormal};
use crate::faults::{FaultPlan, Intensity};
use crate::fleet::check::FleetChecker;
use crate::world::{JobScenario, LIVENESS_START, draw_scenario};

/// A whole number from 1 to `max`, spread evenly on a logarithmic scale (small
/// limits are as likely as large ones).
pub(super) fn log_uniform(rng: &mut Rng, max: u32) -> u32 {
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
}
