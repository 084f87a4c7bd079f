//! The 429 storm (`jobpoll-sim storm`): many jobs start together on one origin
//! whose server admits requests through a token bucket and answers the rest with
//! `429 Too Many Requests` and a `Retry-After` of the whole seconds until its next
//! token. The same jobs run twice: as independent clients (one [`Job`] each, as
//! separate processes would), and through one [`Fleet`].
//!
//! Per run: requests and 429s per job, and how late each job's completion was
//! seen (time of the outcome minus the moment the server finished the job).
//! Everything is decided by the arguments and the seed.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use jobpoll_core::fleet::{Fleet, FleetConfig, FleetInput, FleetOutput, JobKey};
use jobpoll_core::rng::Rng;
use jobpoll_core::{Config, Input, Instant, Job, JobSpec, Outcome, Output, Profile, RequestId};

/// Arguments of `jobpoll-sim storm`.
#[derive(Clone, Debug, clap::Args)]
pub struct StormArgs {
    /// Jobs, all started within the first second.
    #[arg(long, default_value_t = 200)]
    pub jobs: usize,
    /// The preset every job runs with.
    #[arg(long, default_value = "standard")]
    pub preset: String,
    /// Tokens the server adds per second.
    #[arg(long, default_value_t = 10.0)]
    pub rate: f64,
    /// Tokens the bucket holds at most (and at the start).
    #[arg(long, default_value_t = 20)]
    pub burst: u32,
    /// Shortest job on the server, in seconds (lengths are uniform up to `--longest`).
    #[arg(long, default_value_t = 30.0)]
    pub shortest: f64,
    /// Longest job on the server, in seconds.
    #[arg(long, default_value_t = 120.0)]
    pub longest: f64,
    /// The root seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// How the jobs are driven.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// One [`Job`] per job, each on its own (separate clients).
    Clients,
    /// One [`Fleet`] runs every job.
    Fleet,
}

/// The figures of one run.
#[derive(Clone, Debug, PartialEq)]
pub struct StormReport {
    /// How the jobs were driven.
    pub mode: Mode,
    /// Jobs.
    pub jobs: usize,
    /// Requests that reached the server.
    pub requests: u64,
    /// Of which answered with a 429.
    pub too_many: u64,
    /// Jobs that succeeded.
    pub succeeded: usize,
    /// Mean time from the server finishing a job to its outcome, in seconds.
    pub mean_delay: f64,
    /// The 95th percentile of that time, in seconds.
    pub p95_delay: f64,
    /// When the last outcome came, in seconds.
    pub last_outcome: f64,
}

impl fmt::Display for StormReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let jobs = self.jobs.max(1) as f64;
        write!(
            f,
            "{:<7} jobs {}  succeeded {}  requests/job {:.2}  429s/job {:.2}  \
             late by mean {:.2} s  p95 {:.2} s  last outcome at {:.1} s",
            match self.mode {
                Mode::Clients => "clients",
                Mode::Fleet => "fleet",
            },
            self.jobs,
            self.succeeded,
            self.requests as f64 / jobs,
            self.too_many as f64 / jobs,
            self.mean_delay,
            self.p95_delay,
            self.last_outcome,
        )
    }
}

/// The token bucket and the jobs' lengths: the one origin's server.
struct Server {
    rate: f64,
    burst: f64,
    tokens: f64,
    /// When `tokens` was last brought up to date (µs).
    at: u64,
    /// When each job finishes (µs).
    ends: Vec<u64>,
    requests: u64,
    too_many: u64,
}

impl Server {
    /// The answer to a status request for `job` arriving at `now` (µs).
    fn answer(&mut self, job: usize, now: u64) -> http::Response<Bytes> {
        self.requests += 1;
        let elapsed = now.saturating_sub(self.at) as f64 / 1e6;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.at = now;
        if self.tokens < 1.0 {
            self.too_many += 1;
            let wait = ((1.0 - self.tokens) / self.rate).ceil().max(1.0) as u64;
            return http::Response::builder()
                .status(429)
                .header("retry-after", wait.to_string())
                .body(Bytes::new())
                .unwrap_or_default();
        }
        self.tokens -= 1.0;
        let status = if now >= self.ends[job] {
            "completed"
        } else {
            "processing"
        };
        http::Response::new(Bytes::from(format!(r#"{{"status":"{status}"}}"#)))
    }
}

/// Something due at a virtual instant.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Due {
    /// A request of `job` reaches the server.
    Arrive { job: usize, request: RequestId },
    /// The answer reaches the client.
    Deliver { job: usize, request: RequestId },
    /// A job's wake-up (clients), or the fleet's.
    Tick { job: usize },
}

/// The agenda: what is due, in order of time then of insertion.
#[derive(Default)]
struct Agenda {
    heap: BinaryHeap<Reverse<(u64, u64, Due)>>,
    seq: u64,
}

impl Agenda {
    fn push(&mut self, at: u64, due: Due) {
        self.seq += 1;
        self.heap.push(Reverse((at, self.seq, due)));
    }

    fn pop(&mut self) -> Option<(u64, Due)> {
        self.heap.pop().map(|Reverse((at, _, due))| (at, due))
    }
}

/// The simulated world of one run: the server, the network and the jobs' results.
struct World {
    server: Server,
    net: Rng,
    agenda: Agenda,
    /// Answers on their way back, by job.
    answers: HashMap<usize, http::Response<Bytes>>,
    /// When each job's outcome came (µs).
    outcomes: Vec<Option<(u64, bool)>>,
    starts: Vec<u64>,
}

/// The index of the job a status URL names (`.../jobs/17`).
fn job_of(url: &url::Url) -> usize {
    url.path_segments()
        .and_then(|mut s| s.next_back())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

impl World {
    fn new(args: &StormArgs) -> World {
        let mut rng = Rng::new(args.seed);
        let mut draws = rng.fork();
        let starts: Vec<u64> = (0..args.jobs)
            .map(|_| (draws.next_f64() * 1e6) as u64)
            .collect();
        let ends = starts
            .iter()
            .map(|start| start + (draws.range_f64(args.shortest, args.longest) * 1e6) as u64)
            .collect();
        World {
            server: Server {
                rate: args.rate.max(1e-6),
                burst: f64::from(args.burst.max(1)),
                tokens: f64::from(args.burst.max(1)),
                at: 0,
                ends,
                requests: 0,
                too_many: 0,
            },
            net: rng.fork(),
            agenda: Agenda::default(),
            answers: HashMap::new(),
            outcomes: vec![None; args.jobs],
            starts,
        }
    }

    /// One way across the network: 10 to 40 ms.
    fn latency(&mut self) -> u64 {
        (self.net.range_f64(0.010, 0.040) * 1e6) as u64
    }

    fn send(&mut self, now: u64, job: usize, request: RequestId) {
        let at = now + self.latency();
        self.agenda.push(at, Due::Arrive { job, request });
    }

    /// A request reaches the server: its answer starts back.
    fn arrive(&mut self, now: u64, job: usize, request: RequestId) {
        let response = self.server.answer(job, now);
        self.answers.insert(job, response);
        let at = now + self.latency();
        self.agenda.push(at, Due::Deliver { job, request });
    }

    fn finish(&mut self, now: u64, job: usize, outcome: &Outcome) {
        self.outcomes[job] = Some((now, outcome.is_success()));
    }

    fn report(&self, mode: Mode) -> StormReport {
        let mut delays: Vec<f64> = Vec::new();
        let mut succeeded = 0;
        let mut last: u64 = 0;
        for (job, outcome) in self.outcomes.iter().enumerate() {
            if let Some((at, success)) = outcome {
                last = last.max(*at);
                if *success {
                    succeeded += 1;
                    delays.push(at.saturating_sub(self.server.ends[job]) as f64 / 1e6);
                }
            }
        }
        delays.sort_by(f64::total_cmp);
        let mean = delays.iter().sum::<f64>() / delays.len().max(1) as f64;
        let p95 = delays
            .get((delays.len() * 95).div_ceil(100).saturating_sub(1))
            .copied()
            .unwrap_or(0.0);
        StormReport {
            mode,
            jobs: self.outcomes.len(),
            requests: self.server.requests,
            too_many: self.server.too_many,
            succeeded,
            mean_delay: mean,
            p95_delay: p95,
            last_outcome: last as f64 / 1e6,
        }
    }
}

fn url(job: usize) -> Result<url::Url, String> {
    format!("https://storm.sim.jobpoll.test/api/v1/jobs/{job}")
        .parse()
        .map_err(|e| format!("{e}"))
}

fn config(args: &StormArgs) -> Result<Config, String> {
    Config::preset(&args.preset).ok_or_else(|| format!("no preset called {:?}", args.preset))
}

/// Runs the storm with every job on its own.
pub fn run_clients(args: &StormArgs) -> Result<StormReport, String> {
    let mut world = World::new(args);
    let config = config(args)?;
    let mut seeds = Rng::new(args.seed ^ 0x5EED);
    let mut jobs: Vec<Option<Job>> = (0..args.jobs).map(|_| None).collect();
    let mut wakes: Vec<u64> = vec![u64::MAX; args.jobs];
    for (job, start) in world.starts.clone().into_iter().enumerate() {
        world.agenda.push(start, Due::Tick { job });
    }
    while let Some((now, due)) = world.agenda.pop() {
        let job = match &due {
            Due::Arrive { job, request } => {
                world.arrive(now, *job, *request);
                continue;
            }
            Due::Deliver { job, .. } | Due::Tick { job } => *job,
        };
        let instant = Instant::from_micros(now);
        let slot = &mut jobs[job];
        match (slot.as_mut(), &due) {
            (None, Due::Tick { .. }) => {
                let config = Config {
                    seed: seeds.next_u64(),
                    ..config.clone()
                };
                *slot = Some(
                    Job::new(JobSpec::poll(Profile::jobs(), url(job)?), config, instant)
                        .map_err(|e| e.to_string())?,
                );
            }
            (Some(running), Due::Deliver { request, .. }) => {
                let response = world.answers.remove(&job).unwrap_or_default();
                let input = Input::Response {
                    request: *request,
                    response,
                    now: instant,
                };
                running.handle_input(input).map_err(|e| e.to_string())?;
            }
            (Some(running), Due::Tick { .. }) => {
                if wakes[job] != now {
                    continue;
                }
                running
                    .handle_input(Input::Tick { now: instant })
                    .map_err(|e| e.to_string())?;
            }
            _ => continue,
        }
        let Some(running) = jobs[job].as_mut() else {
            continue;
        };
        loop {
            match running.poll_output() {
                Output::Transmit(transmit) => world.send(now, job, transmit.id),
                Output::WakeAt(at) => {
                    let at = at.as_micros();
                    if wakes[job] != at {
                        wakes[job] = at;
                        world.agenda.push(at, Due::Tick { job });
                    }
                    break;
                }
                Output::Finished(outcome) => world.finish(now, job, &outcome),
                Output::Event(_) | Output::Abort(_) => {}
                Output::Done => break,
            }
        }
    }
    Ok(world.report(Mode::Clients))
}

/// Runs the storm with every job in one fleet (its default limits).
pub fn run_fleet(args: &StormArgs) -> Result<StormReport, String> {
    /// The fleet's wake-ups are agenda entries of this pseudo-job.
    const FLEET: usize = usize::MAX;
    let mut world = World::new(args);
    let config = Arc::new(config(args)?);
    let mut fleet: Fleet = Fleet::new(FleetConfig {
        seed: args.seed ^ 0x5EED,
        ..FleetConfig::default()
    });
    let mut keys: HashMap<JobKey, usize> = HashMap::new();
    let mut key_of: Vec<Option<JobKey>> = vec![None; args.jobs];
    let mut wake = u64::MAX;
    // Jobs start in order of their start time: their own agenda entries.
    let mut order: Vec<usize> = (0..args.jobs).collect();
    order.sort_by_key(|&job| (world.starts[job], job));
    for job in order {
        world.agenda.push(world.starts[job], Due::Tick { job });
    }
    while let Some((now, due)) = world.agenda.pop() {
        let instant = Instant::from_micros(now);
        match due {
            Due::Arrive { job, request } => {
                world.arrive(now, job, request);
                continue;
            }
            Due::Deliver { job, request } => {
                let response = world.answers.remove(&job).unwrap_or_default();
                let Some(key) = key_of[job] else { continue };
                fleet
                    .handle_input(FleetInput::Response {
                        job: key,
                        request,
                        response,
                        now: instant,
                    })
                    .map_err(|e| e.to_string())?;
            }
            Due::Tick { job: FLEET } => {
                if wake != now {
                    continue;
                }
                fleet
                    .handle_input(FleetInput::Tick { now: instant })
                    .map_err(|e| e.to_string())?;
            }
            Due::Tick { job } => {
                let subscriber = fleet
                    .add(
                        JobSpec::poll_shared(url(job)?),
                        Arc::clone(&config),
                        instant,
                    )
                    .map_err(|e| e.to_string())?;
                keys.insert(subscriber.job(), job);
                key_of[job] = Some(subscriber.job());
            }
        }
        loop {
            match fleet.poll_output() {
                FleetOutput::Transmit { job, transmit } => {
                    world.send(now, job_of(&transmit.url), transmit.id);
                    debug_assert_eq!(keys.get(&job), Some(&job_of(&transmit.url)));
                }
                FleetOutput::Finished {
                    subscriber,
                    outcome,
                } => {
                    if let Some(job) = keys.remove(&subscriber.job()) {
                        key_of[job] = None;
                        world.finish(now, job, &outcome);
                    }
                }
                FleetOutput::WakeAt(at) => {
                    let at = at.as_micros();
                    if wake != at {
                        wake = at;
                        world.agenda.push(at, Due::Tick { job: FLEET });
                    }
                    break;
                }
                FleetOutput::Idle => break,
                FleetOutput::Event { .. } | FleetOutput::Abort { .. } => {}
            }
        }
    }
    Ok(world.report(Mode::Fleet))
}

/// `jobpoll-sim storm`: both runs, one line each.
pub fn run_command(args: &StormArgs) -> Result<(), String> {
    println!(
        "429 storm: {} jobs ({} preset, {}-{} s each) on one origin, \
         token bucket {} per s, burst {}, seed {}",
        args.jobs, args.preset, args.shortest, args.longest, args.rate, args.burst, args.seed
    );
    println!("{}", run_clients(args)?);
    println!("{}", run_fleet(args)?);
    Ok(())
}
