//! The simulated world: a virtual clock that jumps from one event to the next, the
//! model server, a network with latency and faults, and many jobs.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use jobpoll_core::rng::Rng;
use jobpoll_core::trace::{Record, RecordingJob, Redactor};
use jobpoll_core::{Config, Input, Instant, JobSpec, Output, Profile, TransportError};
use jobpoll_server::model::{ServerConfig, ServerModel};
use jobpoll_server::plan::{Ending, JobPlan, Shape};

use crate::check::{Checker, Violation};
use crate::faults::{FaultPlan, Intensity};

/// The origin the simulated server answers on.
pub const ORIGIN: &str = "https://sim.jobpoll.test";

/// Presets the simulated jobs draw from (all have a deadline, so every job ends).
const PRESETS: &[&str] = &[
    "fast",
    "standard",
    "aggressive",
    "progressive",
    "turn",
    "scraping",
];

/// A deliberate bug, to prove the checker catches it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Sabotage {
    /// The client never sees `Retry-After` or `RateLimit` headers, so it polls on its
    /// own schedule through a 429 storm.
    IgnoreRetryAfter,
}

/// Everything that decides a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimConfig {
    /// The root seed: every other random draw derives from it.
    pub seed: u64,
    /// Jobs started in the fault phase.
    pub jobs: usize,
    /// How hard the fault phase is.
    pub intensity: Intensity,
    /// Jobs started in the fault-free liveness phase at the end.
    pub liveness_jobs: usize,
    /// A deliberate bug, for testing the checker.
    pub sabotage: Option<Sabotage>,
}

impl SimConfig {
    /// The command that reproduces this run.
    pub fn command(&self) -> String {
        let mut command = format!(
            "cargo run --release -p jobpoll-sim -- run --seed {} --jobs {} --intensity {} --liveness-jobs {}",
            self.seed,
            self.jobs,
            match self.intensity {
                Intensity::None => "none",
                Intensity::Light => "light",
                Intensity::Heavy => "heavy",
            },
            self.liveness_jobs
        );
        if let Some(Sabotage::IgnoreRetryAfter) = self.sabotage {
            command.push_str(" --sabotage ignore-retry-after");
        }
        command
    }
}

/// What one simulated job is.
#[derive(Debug)]
pub(crate) struct SimJob {
    pub(crate) job: RecordingJob,
    pub(crate) server_id: Option<String>,
    pub(crate) shape: Shape,
    pub(crate) plan: JobPlan,
    pub(crate) started: Instant,
    pub(crate) phase_calm: bool,
    /// The request in flight: id, and whether it was aborted.
    pub(crate) in_flight: Option<(jobpoll_core::RequestId, bool)>,
    wake_token: u64,
    pub(crate) cancelled_at: Option<Instant>,
    pub(crate) finished: bool,
}

#[derive(Debug)]
enum EventKind {
    /// The job asked to be woken.
    Wake { job: usize, token: u64 },
    /// The answer to a request arrives at the client.
    Arrive { job: usize, input: Input },
    /// The user cancels.
    Cancel { job: usize },
    /// A new job starts.
    Start { job_spec: usize },
}

struct Event {
    at: Instant,
    sequence: u64,
    kind: EventKind,
}

impl PartialEq for Event {
    fn eq(&self, other: &Event) -> bool {
        (self.at, self.sequence) == (other.at, other.sequence)
    }
}
impl Eq for Event {}
impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Event) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Event {
    fn cmp(&self, other: &Event) -> std::cmp::Ordering {
        (self.at, self.sequence).cmp(&(other.at, other.sequence))
    }
}

/// One job of a run: what the server will do, how the client waits, and when.
#[derive(Clone, Debug)]
pub struct JobScenario {
    /// The API shape.
    pub shape: Shape,
    /// What the job does on the server.
    pub plan: JobPlan,
    /// How the client waits.
    pub config: Config,
    /// Create the job through the API (`true`) or directly in the model.
    pub submit: bool,
    /// The user cancels this long after the start.
    pub cancel_after: Option<Duration>,
    /// Part of the fault-free liveness phase: the outcome must be exactly what the
    /// server decided.
    pub calm: bool,
    /// When the job starts.
    pub start_at: Instant,
}

/// Counts of one run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Jobs run.
    pub jobs: usize,
    /// Outcomes by kind, sorted by name.
    pub outcomes: std::collections::BTreeMap<String, usize>,
    /// Requests sent.
    pub requests: u64,
    /// Events processed.
    pub steps: u64,
    /// Virtual time the run covered.
    pub virtual_seconds: u64,
    /// Hash of every trace record of every job, in job order (FNV-1a 64).
    pub trace_hash: u64,
}

/// Everything a finished run recorded.
#[derive(Debug)]
pub struct Recorded {
    /// The counts.
    pub summary: Summary,
    /// Every job's trace, in start order.
    pub traces: Vec<Vec<Record>>,
    /// One readable line per input and output, if the world was built
    /// [`World::with_log`].
    pub log: Vec<String>,
}

/// A run that broke an invariant.
#[derive(Debug)]
pub struct Failure {
    /// What broke.
    pub violation: Violation,
    /// The trace of the job that broke it.
    pub trace: Vec<Record>,
    /// The counts up to the failure.
    pub summary: Summary,
}

/// The simulated world.
pub struct World {
    config: SimConfig,
    faults: FaultPlan,
    calm: FaultPlan,
    rng: Rng,
    server: ServerModel,
    jobs: Vec<SimJob>,
    scenarios: Vec<JobScenario>,
    queue: BinaryHeap<Reverse<Event>>,
    sequence: u64,
    now: Instant,
    checker: Checker,
    summary: Summary,
    /// One readable line per input and output, when asked for.
    log: Option<Vec<String>>,
}

/// Time at which the liveness phase starts its jobs.
const LIVENESS_START: Duration = Duration::from_secs(3 * 3600);

impl World {
    /// A world for `config`: draws the fault plan and every job up front.
    pub fn new(config: SimConfig) -> World {
        let mut rng = Rng::new(config.seed);
        let faults = FaultPlan::draw(&mut rng, config.intensity);
        let calm = FaultPlan::calm();
        let server_config = ServerConfig {
            rate_limit: faults.rate_limit.clone(),
            ..ServerConfig::default()
        };
        let server = ServerModel::new(server_config, rng.next_u64());
        let mut world = World {
            faults,
            calm,
            server,
            jobs: Vec::new(),
            scenarios: Vec::new(),
            queue: BinaryHeap::new(),
            sequence: 0,
            now: Instant::ZERO,
            checker: Checker::default(),
            summary: Summary::default(),
            log: None,
            rng,
            config,
        };
        for index in 0..world.config.jobs + world.config.liveness_jobs {
            let calm = index >= world.config.jobs;
            let start = if calm {
                Instant::ZERO
                    + LIVENESS_START
                    + Duration::from_millis(world.rng.next_u64() % 60_000)
            } else {
                Instant::from_micros(world.rng.next_u64() % 120_000_000)
            };
            let scenario = world.draw_job(calm, start);
            world.add(scenario);
        }
        world
    }

    /// A world with exactly these jobs, under `faults` (for readable scenario
    /// runs).
    pub fn from_scenarios(seed: u64, faults: FaultPlan, jobs: Vec<JobScenario>) -> World {
        let config = SimConfig {
            seed,
            jobs: jobs.len(),
            intensity: Intensity::None,
            liveness_jobs: 0,
            sabotage: None,
        };
        let mut world = World::new(config);
        world.queue.clear();
        world.scenarios.clear();
        world.faults = faults;
        for job in jobs {
            world.add(job);
        }
        world
    }

    fn add(&mut self, scenario: JobScenario) {
        let at = scenario.start_at;
        self.scenarios.push(scenario);
        let job_spec = self.scenarios.len() - 1;
        self.push(at, EventKind::Start { job_spec });
    }

    fn draw_job(&mut self, calm: bool, start_at: Instant) -> JobScenario {
        let plan_source = if calm { &self.calm } else { &self.faults };
        let mut config =
            Config::preset(PRESETS[(self.rng.next_u64() % PRESETS.len() as u64) as usize])
                .unwrap_or_default();
        config.seed = self.rng.next_u64();
        config.max_body_bytes = 64 * 1024;
        let (shape, mut plan) = plan_source.job(&mut self.rng, config.max_body_bytes);
        if calm {
            // The liveness phase must end by itself: jobs that finish well inside
            // their deadline, with no faults.
            plan.faults.clear();
            plan.visible_after = Duration::ZERO;
            if plan.ending == Ending::Never {
                plan.ending = Ending::Succeed;
            }
            let deadline = config.deadline.unwrap_or(Duration::from_secs(120));
            plan.duration = plan.duration.min(deadline / 3);
        }
        let submit = self.rng.next_u64().is_multiple_of(2);
        let cancel_after = if crate::distributions::chance(&mut self.rng, plan_source.cancel) {
            Some(Duration::from_secs_f64(self.rng.range_f64(0.0, 120.0)))
        } else {
            None
        };
        JobScenario {
            shape,
            plan,
            config,
            submit,
            cancel_after,
            calm,
            start_at,
        }
    }

    fn push(&mut self, at: Instant, kind: EventKind) {
        self.sequence += 1;
        self.queue.push(Reverse(Event {
            at,
            sequence: self.sequence,
            kind,
        }));
    }

    /// The same world, writing one readable line per input and output.
    pub fn with_log(mut self) -> World {
        self.log = Some(Vec::new());
        self
    }

    /// Runs to the end. Every job must reach an outcome and no invariant may break.
    pub fn run(self) -> Result<Summary, Box<Failure>> {
        self.run_to_end().map(|world| world.summary)
    }

    /// [`World::run`], also returning every job's trace and the log.
    pub fn run_with_traces(self) -> Result<Recorded, Box<Failure>> {
        self.run_to_end().map(|world| Recorded {
            traces: world
                .jobs
                .iter()
                .map(|job| job.job.records().to_vec())
                .collect(),
            log: world.log.unwrap_or_default(),
            summary: world.summary,
        })
    }

    fn note(&mut self, job: usize, text: impl FnOnce() -> String) {
        if let Some(log) = &mut self.log {
            let time = jobpoll_core::time::format_duration(self.now.since_epoch());
            log.push(format!("{time:>10}  job {job}  {}", text()));
        }
    }

    fn run_to_end(mut self) -> Result<World, Box<Failure>> {
        while let Some(Reverse(event)) = self.queue.pop() {
            self.now = self.now.max(event.at);
            self.summary.steps += 1;
            let job = match event.kind {
                EventKind::Start { job_spec } => self.start_job(job_spec),
                EventKind::Wake { job, token } => {
                    if self.jobs[job].wake_token != token || self.jobs[job].finished {
                        continue;
                    }
                    let now = self.now;
                    self.feed(job, Input::Tick { now });
                    job
                }
                EventKind::Arrive { job, input } => {
                    match self.jobs[job].in_flight {
                        // Answers to aborted requests are dropped by the driver.
                        Some((id, false)) if Some(id) == request_of(&input) => {}
                        _ => continue,
                    }
                    self.jobs[job].in_flight = None;
                    self.note(job, || describe_input(&input));
                    self.checker
                        .on_answer(job, &input, self.now, &self.jobs[job]);
                    let input = self.sabotaged(input);
                    self.feed(job, input);
                    job
                }
                EventKind::Cancel { job } => {
                    if self.jobs[job].finished {
                        continue;
                    }
                    let now = self.now;
                    self.jobs[job].cancelled_at = Some(now);
                    self.note(job, || "cancel".to_owned());
                    self.feed(job, Input::Cancel { now });
                    job
                }
            };
            if let Err(violation) = self.drain(job) {
                return Err(self.failure(job, violation));
            }
        }
        for (index, job) in self.jobs.iter().enumerate() {
            if !job.finished {
                let violation = Violation::new(
                    index,
                    self.now,
                    "liveness",
                    "the job never reached an outcome",
                );
                return Err(self.failure(index, violation));
            }
        }
        self.summary.jobs = self.jobs.len();
        self.summary.virtual_seconds = self.now.since_epoch().as_secs();
        self.summary.trace_hash = self.trace_hash();
        Ok(self)
    }

    fn failure(&mut self, job: usize, mut violation: Violation) -> Box<Failure> {
        if let Some(sim_job) = self.jobs.get(job) {
            violation.detail.push_str(&format!(
                " [{} job, {} for {:?}, server id {:?}]",
                sim_job.shape.profile_name(),
                match &sim_job.plan.ending {
                    Ending::Succeed => "succeeding",
                    Ending::Fail { .. } => "failing",
                    Ending::Never => "never finishing",
                },
                sim_job.plan.duration,
                sim_job.server_id
            ));
        }
        self.summary.jobs = self.jobs.len();
        self.summary.virtual_seconds = self.now.since_epoch().as_secs();
        let trace = self
            .jobs
            .get(job)
            .map(|j| j.job.records().to_vec())
            .unwrap_or_default();
        Box::new(Failure {
            violation,
            trace,
            summary: self.summary.clone(),
        })
    }

    fn trace_hash(&self) -> u64 {
        let mut hash = crate::hash::Fnv64::new();
        for job in &self.jobs {
            hash.write(jobpoll_core::trace::to_json_lines(job.job.records()).as_bytes());
        }
        hash.finish()
    }

    /// Starts job `job_spec` at the current time; returns its index.
    fn start_job(&mut self, job_spec: usize) -> usize {
        let pending = self.scenarios[job_spec].clone();
        let now = self.now;
        let origin: url::Url = ORIGIN.parse().expect("a valid origin");
        let (spec, server_id) = if pending.submit {
            let spec = ServerModel::submit_spec(&origin, pending.shape, &pending.plan)
                .expect("the model's paths are valid URLs");
            (spec, None)
        } else {
            let created = self.server.create(pending.shape, pending.plan.clone(), now);
            let status_url = origin
                .join(&created.status_path)
                .expect("the model's paths are valid URLs");
            let profile =
                Profile::builtin(pending.shape.profile_name()).unwrap_or_else(Profile::jobs);
            let spec = JobSpec::poll(profile, status_url).with_job_id(created.id.clone());
            (spec, Some(created.id))
        };
        let job = RecordingJob::new(spec, pending.config.clone(), now, Redactor::none())
            .expect("presets and model URLs make valid jobs");
        let index = self.jobs.len();
        self.jobs.push(SimJob {
            job,
            server_id,
            shape: pending.shape,
            plan: pending.plan.clone(),
            started: now,
            phase_calm: pending.calm,
            in_flight: None,
            wake_token: 0,
            cancelled_at: None,
            finished: false,
        });
        self.checker.on_start(index, &self.jobs[index]);
        if let Some(after) = pending.cancel_after {
            self.push(now + after, EventKind::Cancel { job: index });
        }
        index
    }

    fn feed(&mut self, job: usize, input: Input) {
        // The sim only feeds inputs the job can take; a refusal is a sim bug.
        if let Err(error) = self.jobs[job].job.handle_input(input) {
            panic!("the simulator fed job {job} an input it refused: {error}");
        }
    }

    /// Drains the job's outputs, carrying out each, checking every step.
    fn drain(&mut self, index: usize) -> Result<(), Violation> {
        loop {
            let output = self.jobs[index].job.poll_output();
            if !matches!(output, Output::Timeout(_) | Output::Done) {
                self.note(index, || describe_output(&output));
            }
            self.checker
                .on_output(index, &output, self.now, &self.jobs[index])?;
            match output {
                Output::Transmit(transmit) => {
                    self.summary.requests += 1;
                    self.jobs[index].in_flight = Some((transmit.id, false));
                    self.transmit(index, transmit);
                }
                Output::Abort(id) => {
                    if let Some((in_flight, aborted)) = &mut self.jobs[index].in_flight
                        && *in_flight == id
                    {
                        *aborted = true;
                    }
                }
                Output::Event(_) => {}
                Output::Finished(outcome) => {
                    self.jobs[index].finished = true;
                    self.jobs[index].in_flight = None;
                    *self
                        .summary
                        .outcomes
                        .entry(outcome.kind().to_owned())
                        .or_default() += 1;
                    self.checker.on_outcome(
                        index,
                        &outcome,
                        self.now,
                        &self.jobs[index],
                        &self.server,
                    )?;
                }
                Output::Timeout(at) => {
                    let job = &mut self.jobs[index];
                    job.wake_token += 1;
                    let token = job.wake_token;
                    self.push(at, EventKind::Wake { job: index, token });
                    return Ok(());
                }
                Output::Done => return Ok(()),
            }
        }
    }

    /// Sends a request through the simulated network to the model server.
    fn transmit(&mut self, index: usize, transmit: jobpoll_core::Transmit) {
        let calm = self.jobs[index].phase_calm;
        let faults = if calm { &self.calm } else { &self.faults };
        let rng = &mut self.rng;
        let there = faults.latency(rng);
        let back = faults.latency(rng);
        let request = transmit.id;
        let since_start = self.now.since_epoch();
        let connect_error = faults.in_outage(since_start)
            || crate::distributions::chance(rng, faults.connect_error);
        let hang = crate::distributions::chance(rng, faults.hang);
        let reset = crate::distributions::chance(rng, faults.reset);
        if connect_error {
            let at = self.now + there;
            let input = Input::TransportError {
                request,
                error: TransportError::Connect("connection refused".into()),
                now: at,
            };
            self.push(at, EventKind::Arrive { job: index, input });
            return;
        }
        if hang {
            return;
        }
        let arrives = self.now + there;
        let response = match transmit.to_http_request() {
            Ok(http_request) => self.server.handle(&http_request, arrives),
            Err(_) => http::Response::builder()
                .status(400)
                .body(Bytes::from_static(b"unbuildable request"))
                .unwrap_or_default(),
        };
        self.checker
            .on_server_answer(index, &transmit, &response, arrives);
        if self.jobs[index].server_id.is_none() && transmit.purpose == jobpoll_core::Purpose::Status
        {
            self.jobs[index].server_id = self.server.job_id_for_path(transmit.url.path());
        }
        let at = arrives + back;
        let input = if reset {
            Input::TransportError {
                request,
                error: TransportError::Reset("connection reset by peer".into()),
                now: at,
            }
        } else {
            Input::Response {
                request,
                response,
                now: at,
            }
        };
        self.push(at, EventKind::Arrive { job: index, input });
    }

    fn sabotaged(&self, input: Input) -> Input {
        match (self.config.sabotage, input) {
            (
                Some(Sabotage::IgnoreRetryAfter),
                Input::Response {
                    request,
                    mut response,
                    now,
                },
            ) => {
                for name in [
                    "retry-after",
                    "retry-after-ms",
                    "ratelimit",
                    "ratelimit-policy",
                    "ratelimit-reset",
                    "ratelimit-remaining",
                ] {
                    response.headers_mut().remove(name);
                }
                Input::Response {
                    request,
                    response,
                    now,
                }
            }
            (_, input) => input,
        }
    }
}

fn request_of(input: &Input) -> Option<jobpoll_core::RequestId> {
    match input {
        Input::Response { request, .. } | Input::TransportError { request, .. } => Some(*request),
        Input::Tick { .. } | Input::Cancel { .. } => None,
    }
}

fn describe_output(output: &Output) -> String {
    match output {
        Output::Transmit(t) => format!(
            "-> {} {} {} [{:?}]",
            t.id,
            t.method,
            t.url.path(),
            t.purpose
        ),
        Output::Abort(id) => format!("abort {id}"),
        Output::Event(event) => format!("event {event}"),
        Output::Finished(outcome) => format!("finished {}: {outcome}", outcome.kind()),
        Output::Timeout(at) => format!("wait until {at}"),
        Output::Done => "done".to_owned(),
    }
}

fn describe_input(input: &Input) -> String {
    match input {
        Input::Response {
            request, response, ..
        } => {
            let body = String::from_utf8_lossy(response.body());
            let short: String = body.chars().take(70).collect();
            let more = if body.chars().count() > 70 { "…" } else { "" };
            let hint = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(|v| format!(" retry-after: {v}"))
                .unwrap_or_default();
            format!(
                "<- {request} {}{hint} {short}{more}",
                response.status().as_u16()
            )
        }
        Input::TransportError { request, error, .. } => format!("<- {request} {error}"),
        Input::Tick { .. } => "tick".to_owned(),
        Input::Cancel { .. } => "cancel".to_owned(),
    }
}
