//! The simulated world: a virtual clock that jumps from one event to the next, the
//! model server, a network with latency and faults, and many jobs.

use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use jobpoll_core::rng::Rng;
use jobpoll_core::trace::{Record, RecordingJob, Redactor};
use jobpoll_core::{Config, Input, Instant, JobSpec, Output, Profile, TransportError};
use jobpoll_server::model::{ServerConfig, ServerModel};
use jobpoll_server::plan::{Ending, JobPlan, Shape};

use crate::agenda::Agenda;
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

/// Everything that decides a run (of the single-job world, or with
/// [`FleetSabotage`](crate::fleet::FleetSabotage) of the fleet world).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimConfig<S = Sabotage> {
    /// The root seed: every other random draw derives from it.
    pub seed: u64,
    /// Jobs started in the fault phase.
    pub jobs: usize,
    /// How hard the fault phase is.
    pub intensity: Intensity,
    /// Jobs started in the fault-free liveness phase at the end.
    pub liveness_jobs: usize,
    /// A deliberate bug, for testing the checker.
    pub sabotage: Option<S>,
}

impl<S: clap::ValueEnum> SimConfig<S> {
    /// The `subcommand` that reproduces this run.
    pub(crate) fn command_line(&self, subcommand: &str) -> String {
        let name = |value: Option<clap::builder::PossibleValue>| {
            value.map(|v| v.get_name().to_owned()).unwrap_or_default()
        };
        let mut command = format!(
            "cargo run --release -p jobpoll-sim -- {subcommand} --seed {} --jobs {} --intensity {} --liveness-jobs {}",
            self.seed,
            self.jobs,
            name(clap::ValueEnum::to_possible_value(&self.intensity)),
            self.liveness_jobs
        );
        if let Some(sabotage) = &self.sabotage {
            command.push_str(" --sabotage ");
            command.push_str(&name(sabotage.to_possible_value()));
        }
        command
    }
}

impl SimConfig {
    /// The command that reproduces this run.
    pub fn command(&self) -> String {
        self.command_line("run")
    }
}

/// What the checker knows of one job besides its outputs: what the server will do
/// with it and what the user did.
#[derive(Clone, Debug, PartialEq)]
pub struct JobFacts {
    /// The job's id on the server, once known.
    pub server_id: Option<String>,
    /// The API shape.
    pub shape: Shape,
    /// What the job does on the server.
    pub plan: JobPlan,
    /// When the client started it.
    pub started: Instant,
    /// Part of the fault-free liveness phase.
    pub phase_calm: bool,
    /// When the user cancelled (or stopped following) it.
    pub cancelled_at: Option<Instant>,
}

impl JobFacts {
    /// ` [jobs job, succeeding for 40s, server id Some("job-1")]`, for violations.
    pub(crate) fn describe(&self) -> String {
        format!(
            " [{} job, {} for {:?}, server id {:?}]",
            self.shape.profile_name(),
            match &self.plan.ending {
                Ending::Succeed => "succeeding",
                Ending::Fail { .. } => "failing",
                Ending::Never => "never finishing",
            },
            self.plan.duration,
            self.server_id
        )
    }
}

/// What one simulated job is.
#[derive(Debug)]
struct SimJob {
    job: RecordingJob,
    facts: JobFacts,
    /// The request in flight: id, and whether it was aborted.
    in_flight: Option<(jobpoll_core::RequestId, bool)>,
    wake_token: u64,
    finished: bool,
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
    queue: Agenda<EventKind>,
    now: Instant,
    checker: Checker,
    summary: Summary,
    /// One readable line per input and output, when asked for.
    log: Option<Vec<String>>,
}

/// Time at which the liveness phase starts its jobs.
pub(crate) const LIVENESS_START: Duration = Duration::from_secs(3 * 3600);

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
            queue: Agenda::new(),
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
        draw_scenario(&mut self.rng, plan_source, calm, start_at)
    }

    fn push(&mut self, at: Instant, kind: EventKind) {
        self.queue.push(at, kind);
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
        while let Some((at, kind)) = self.queue.pop() {
            self.now = self.now.max(at);
            self.summary.steps += 1;
            let job = match kind {
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
                    self.checker.on_answer(job, &input, self.now);
                    let input = self.sabotaged(input);
                    self.feed(job, input);
                    job
                }
                EventKind::Cancel { job } => {
                    if self.jobs[job].finished {
                        continue;
                    }
                    let now = self.now;
                    self.jobs[job].facts.cancelled_at = Some(now);
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
            violation.detail.push_str(&sim_job.facts.describe());
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
        let (spec, server_id) = scenario_spec(&mut self.server, &origin, &pending, now)
            .expect("the model's paths are valid URLs");
        let job = RecordingJob::new(spec, pending.config.clone(), now, Redactor::none())
            .expect("presets and model URLs make valid jobs");
        let index = self.jobs.len();
        self.jobs.push(SimJob {
            job,
            facts: JobFacts {
                server_id,
                shape: pending.shape,
                plan: pending.plan.clone(),
                started: now,
                phase_calm: pending.calm,
                cancelled_at: None,
            },
            in_flight: None,
            wake_token: 0,
            finished: false,
        });
        self.checker.on_start(index, &pending.config, now);
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
            if !matches!(output, Output::WakeAt(_) | Output::Done) {
                self.note(index, || describe_output(&output));
            }
            self.checker.on_output(index, &output, self.now)?;
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
                        &self.jobs[index].facts,
                        &self.server,
                    )?;
                }
                Output::WakeAt(at) => {
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
        let calm = self.jobs[index].facts.phase_calm;
        let faults = if calm { &self.calm } else { &self.faults };
        let crossing = cross(faults, &mut self.rng, &mut self.server, &transmit, self.now);
        if let Some((at, status)) = crossing.served {
            self.checker
                .on_server_answer(index, transmit.purpose, status, at);
            let facts = &mut self.jobs[index].facts;
            if facts.server_id.is_none() && transmit.purpose == jobpoll_core::Purpose::Status {
                facts.server_id = self.server.job_id_for_path(transmit.url.path());
            }
        }
        if let Some((at, input)) = crossing.delivery {
            self.push(at, EventKind::Arrive { job: index, input });
        }
    }

    fn sabotaged(&self, input: Input) -> Input {
        match (self.config.sabotage, input) {
            (Some(Sabotage::IgnoreRetryAfter), input) => without_hints(input),
            (None, input) => input,
        }
    }
}

/// The input with every server hint header removed from its response (a client
/// blind to `Retry-After` and `RateLimit`).
pub(crate) fn without_hints(input: Input) -> Input {
    match input {
        Input::Response {
            request,
            mut response,
            now,
        } => {
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
        input => input,
    }
}

/// Draws one job of a run from `plan_source`: preset, shape, plan, how it starts,
/// and whether the user cancels it. In the liveness phase (`calm`) the job has no
/// faults and ends well inside its deadline.
pub(crate) fn draw_scenario(
    rng: &mut Rng,
    plan_source: &FaultPlan,
    calm: bool,
    start_at: Instant,
) -> JobScenario {
    let mut config = Config::preset(PRESETS[(rng.next_u64() % PRESETS.len() as u64) as usize])
        .unwrap_or_default();
    config.seed = rng.next_u64();
    config.max_body_bytes = 64 * 1024;
    let (shape, mut plan) = plan_source.job(rng, config.max_body_bytes);
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
    let submit = rng.next_u64().is_multiple_of(2);
    let cancel_after = if crate::distributions::chance(rng, plan_source.cancel) {
        Some(Duration::from_secs_f64(rng.range_f64(0.0, 120.0)))
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

/// The spec of a scenario's job on the server at `origin`: a submit request, or a
/// job created in the model at `now` and polled by URL with its id known (then its
/// server id is returned too).
pub(crate) fn scenario_spec(
    server: &mut ServerModel,
    origin: &url::Url,
    scenario: &JobScenario,
    now: Instant,
) -> Result<(JobSpec, Option<String>), url::ParseError> {
    if scenario.submit {
        let spec = ServerModel::submit_spec(origin, scenario.shape, &scenario.plan)?;
        return Ok((spec, None));
    }
    let created = server.create(scenario.shape, scenario.plan.clone(), now);
    let status_url = origin.join(&created.status_path)?;
    let profile = Profile::builtin(scenario.shape.profile_name()).unwrap_or_else(Profile::jobs);
    let spec = JobSpec::poll(profile, status_url).with_job_id(created.id.clone());
    Ok((spec, Some(created.id)))
}

/// What became of one request on the simulated network.
#[derive(Debug)]
pub(crate) struct Crossing {
    /// The server handled it at this (server) time and answered this status.
    pub(crate) served: Option<(Instant, http::StatusCode)>,
    /// What reaches the client, and when; `None` when nothing ever does (the
    /// server hangs).
    pub(crate) delivery: Option<(Instant, Input)>,
}

/// Sends `transmit` at `now` across a network with `faults` to `server`: latency
/// both ways, connection failures and outages, hangs, resets after the server
/// handled the request.
pub(crate) fn cross(
    faults: &FaultPlan,
    rng: &mut Rng,
    server: &mut ServerModel,
    transmit: &jobpoll_core::Transmit,
    now: Instant,
) -> Crossing {
    let there = faults.latency(rng);
    let back = faults.latency(rng);
    let request = transmit.id;
    let connect_error = faults.in_outage(now.since_epoch())
        || crate::distributions::chance(rng, faults.connect_error);
    let hang = crate::distributions::chance(rng, faults.hang);
    let reset = crate::distributions::chance(rng, faults.reset);
    if connect_error {
        let at = now + there;
        let input = Input::TransportError {
            request,
            error: TransportError::Connect("connection refused".into()),
            now: at,
        };
        return Crossing {
            served: None,
            delivery: Some((at, input)),
        };
    }
    if hang {
        return Crossing {
            served: None,
            delivery: None,
        };
    }
    let arrives = now + there;
    let response = match transmit.to_http_request() {
        Ok(http_request) => server.handle(&http_request, arrives),
        Err(_) => http::Response::builder()
            .status(400)
            .body(Bytes::from_static(b"unbuildable request"))
            .unwrap_or_default(),
    };
    let served = Some((arrives, response.status()));
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
    Crossing {
        served,
        delivery: Some((at, input)),
    }
}

fn request_of(input: &Input) -> Option<jobpoll_core::RequestId> {
    match input {
        Input::Response { request, .. } | Input::TransportError { request, .. } => Some(*request),
        Input::Tick { .. } | Input::Cancel { .. } => None,
    }
}

/// One readable line for a job's output.
pub(crate) fn describe_output(output: &Output) -> String {
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
        Output::WakeAt(at) => format!("wait until {at}"),
        Output::Done => "done".to_owned(),
    }
}

/// One readable line for a job's input.
pub(crate) fn describe_input(input: &Input) -> String {
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
