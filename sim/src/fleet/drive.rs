//! Driving the core fleet: the run loop that fires the fleet's timer and the
//! agenda's actions (subscriptions, arrivals, stops, pauses), carries out and
//! checks every output, and compares the fleet's own counts with the checker's.

use std::sync::Arc;

use url::Url;

use jobpoll_core::fleet::{FleetInput, FleetOutput, JobKey, Subscriber};
use jobpoll_core::{Input, Instant, JobSpec, Start};
use jobpoll_server::plan::Shape;

use super::{
    Action, FleetFailure, FleetSabotage, FleetSummary, FleetWorld, HOSTS, Planned, RunningJob,
};
use crate::fleet::check::{FleetView, FleetViolation, OriginView};
use crate::world::{JobFacts, scenario_spec, without_hints};

impl FleetWorld {
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
        // When the fleet wants its next tick, as its last output said.
        let mut wake = self.fleet.next_wake();
        loop {
            let timer = wake;
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
                    self.note(|| "tick".to_owned());
                    let now = self.now;
                    // A tick is never refused.
                    let _ = self.fleet.handle_input(FleetInput::Tick { now });
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
            wake = self.drain()?;
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
                if let Err(error) = self
                    .fleet
                    .handle_input(FleetInput::Stop { subscriber, now })
                {
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
                // Stopping everything is never refused.
                let _ = self.fleet.handle_input(FleetInput::StopAll { now });
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
        let Some(input) = FleetInput::answer(key, input) else {
            return Ok(());
        };
        self.fleet.handle_input(input).map_err(|error| {
            self.violation(
                Some(job),
                "the fleet takes the answer to a request in flight",
                error.to_string(),
            )
        })
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
    /// the fleet's own counts. Returns when the fleet next wants a tick.
    fn drain(&mut self) -> Result<Option<Instant>, FleetViolation> {
        let now = self.now;
        let wake = loop {
            // The hash covers what the fleet asks for, not when it next wakes
            // (which the instants of the outputs after it show).
            let output = match self.fleet.poll_output() {
                FleetOutput::WakeAt(at) => break Some(at),
                FleetOutput::Idle => break None,
                output => output,
            };
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
                // The end of the outputs, taken above.
                FleetOutput::WakeAt(_) | FleetOutput::Idle => {}
            }
        };
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
        self.check_held(now, wake)?;
        Ok(wake)
    }

    /// With no fleet timer left to fire now (the fleet wakes next at `wake`),
    /// every job with a request due and none in flight must be held back by
    /// something the checker knows of.
    fn check_held(&mut self, now: Instant, wake: Option<Instant>) -> Result<(), FleetViolation> {
        let checker = &self.checker;
        self.live.retain(|job| !checker.is_over(*job));
        if wake.is_some_and(|at| at <= now) {
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
                .and_then(|j| j.next_wake());
            if let Some(due) = due
                && due <= now
            {
                self.checker.held(*job, due, now)?;
            }
        }
        Ok(())
    }
}
