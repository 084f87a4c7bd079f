//! A fleet in virtual time against a scripted server, for the fleet's tests:
//! every request is answered after its latency, every output is recorded, and
//! the limits are checked as requests go out.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use jobpoll_core::fleet::{
    Fleet, FleetConfig, FleetError, FleetInput, FleetOutput, JobKey, Subscriber,
};
use jobpoll_core::{
    Config, Event, Instant, JobSpec, Outcome, Profile, Purpose, RequestId, Transmit,
};
use url::Url;

/// An answer: status, headers, body, and how long it takes.
#[derive(Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    pub latency: Duration,
}

pub fn answer(status: u16, body: &str) -> Answer {
    Answer {
        status,
        headers: Vec::new(),
        body: body.to_owned(),
        latency: Duration::from_millis(100),
    }
}

pub fn running() -> Answer {
    answer(200, r#"{"status":"processing"}"#)
}

pub fn completed() -> Answer {
    answer(200, r#"{"status":"completed","result_data":{"ok":true}}"#)
}

/// A request the test saw: when, for which job, to where.
#[derive(Clone, Debug)]
pub struct Sent {
    pub at: Duration,
    pub job: JobKey,
    pub purpose: Purpose,
    pub url: Url,
}

pub type Server = Box<dyn FnMut(&Transmit, usize, Duration) -> Option<Answer>>;

pub struct World {
    pub fleet: Fleet,
    pub now: Instant,
    pub server: Server,
    /// Answers due: (at, job, request, answer).
    pub pending: Vec<(Instant, JobKey, RequestId, Answer)>,
    pub sent: Vec<Sent>,
    /// Requests per URL so far.
    pub counts: HashMap<String, usize>,
    pub events: BTreeMap<Subscriber, Vec<Event>>,
    pub outcomes: BTreeMap<Subscriber, Outcome>,
    pub in_flight: HashMap<String, u32>,
    pub max_in_flight: u32,
    pub max_per_origin: HashMap<String, u32>,
}

pub fn origin(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap(),
        url.port_or_known_default().unwrap()
    )
}

impl World {
    pub fn new(
        config: FleetConfig,
        server: impl FnMut(&Transmit, usize, Duration) -> Option<Answer> + 'static,
    ) -> World {
        World {
            fleet: Fleet::new(config),
            now: Instant::ZERO,
            server: Box::new(server),
            pending: Vec::new(),
            sent: Vec::new(),
            counts: HashMap::new(),
            events: BTreeMap::new(),
            outcomes: BTreeMap::new(),
            in_flight: HashMap::new(),
            max_in_flight: 0,
            max_per_origin: HashMap::new(),
        }
    }

    pub fn elapsed(&self) -> Duration {
        Duration::from_micros(self.now.as_micros())
    }

    pub fn add(&mut self, url: &str, config: &Arc<Config>) -> Subscriber {
        let spec = JobSpec::poll_shared(url.parse().unwrap());
        self.add_spec(spec, config)
    }

    pub fn add_spec(&mut self, spec: JobSpec<Arc<Profile>>, config: &Arc<Config>) -> Subscriber {
        let subscriber = self.fleet.add(spec, config.clone(), self.now).unwrap();
        self.drain();
        subscriber
    }

    /// Ends a subscription now.
    pub fn stop(&mut self, subscriber: Subscriber) -> Result<(), FleetError> {
        let now = self.now;
        self.fleet
            .handle_input(FleetInput::Stop { subscriber, now })
    }

    /// Answers request `request` of `job` now with `response`.
    pub fn respond(
        &mut self,
        job: JobKey,
        request: RequestId,
        response: http::Response<Bytes>,
    ) -> Result<(), FleetError> {
        let now = self.now;
        self.fleet.handle_input(FleetInput::Response {
            job,
            request,
            response,
            now,
        })
    }

    /// Acts on every output; returns the fleet's next wake-up, if any.
    pub fn drain(&mut self) -> Option<Instant> {
        loop {
            match self.fleet.poll_output() {
                FleetOutput::Transmit { job, transmit } => {
                    let url = transmit.url.clone();
                    let count = self.counts.entry(url.to_string()).or_default();
                    *count += 1;
                    let count = *count;
                    self.sent.push(Sent {
                        at: self.elapsed(),
                        job,
                        purpose: transmit.purpose,
                        url: url.clone(),
                    });
                    let o = self.in_flight.entry(origin(&url)).or_default();
                    *o += 1;
                    let o = *o;
                    let max = self.max_per_origin.entry(origin(&url)).or_default();
                    *max = (*max).max(o);
                    let total: u32 = self.in_flight.values().sum();
                    self.max_in_flight = self.max_in_flight.max(total);
                    assert!(
                        total <= self.fleet.config().max_in_flight,
                        "global limit broken"
                    );
                    assert!(
                        o <= self.fleet.config().max_in_flight_per_origin,
                        "origin limit broken"
                    );
                    let elapsed = self.elapsed();
                    if let Some(answer) = (self.server)(&transmit, count, elapsed) {
                        let at = Instant::from_micros(
                            self.now.as_micros() + answer.latency.as_micros() as u64,
                        );
                        self.pending.push((at, job, transmit.id, answer));
                    } else {
                        // Never answered: the request is held until the job aborts it.
                        self.pending.push((
                            Instant::from_micros(u64::MAX),
                            job,
                            transmit.id,
                            running(),
                        ));
                    }
                    let _ = url;
                }
                FleetOutput::Abort { job, request } => {
                    if let Some(i) = self
                        .pending
                        .iter()
                        .position(|p| p.1 == job && p.2 == request)
                    {
                        self.pending.remove(i);
                        self.request_over(job);
                    }
                }
                FleetOutput::Event { subscriber, event } => {
                    self.events.entry(subscriber).or_default().push(event);
                }
                FleetOutput::Finished {
                    subscriber,
                    outcome,
                } => {
                    assert!(
                        self.outcomes.insert(subscriber, outcome).is_none(),
                        "two outcomes for {subscriber:?}"
                    );
                }
                FleetOutput::WakeAt(at) => return Some(at),
                FleetOutput::Idle => return None,
            }
        }
    }

    /// The last request of `job` is no longer in flight (answered or aborted).
    fn request_over(&mut self, job: JobKey) {
        let url = &self.sent.iter().rev().find(|s| s.job == job).unwrap().url;
        *self.in_flight.get_mut(&origin(url)).unwrap() -= 1;
    }

    /// Runs until nothing is left to do or `limit` of virtual time has passed.
    pub fn run_for(&mut self, limit: Duration) {
        let end = self.now.as_micros() + limit.as_micros() as u64;
        loop {
            let timer = self.drain();
            let answer_at = self.pending.iter().map(|p| p.0).min();
            let next = match (answer_at, timer) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => match a.or(b) {
                    Some(at) => at,
                    None => break,
                },
            };
            if next.as_micros() > end {
                self.now = Instant::from_micros(end);
                break;
            }
            self.now = self.now.max(next);
            let now = self.now;
            let (due, rest): (Vec<_>, Vec<_>) = self.pending.drain(..).partition(|p| p.0 <= now);
            self.pending = rest;
            for (_, job, request, answer) in due {
                self.request_over(job);
                let mut response = http::Response::builder().status(answer.status);
                for (name, value) in &answer.headers {
                    response = response.header(*name, value);
                }
                let response = response.body(Bytes::from(answer.body)).unwrap();
                self.respond(job, request, response).unwrap();
                self.drain();
            }
            self.fleet.handle_input(FleetInput::Tick { now }).unwrap();
        }
        self.drain();
    }

    pub fn status_polls(&self, url: &str) -> Vec<Duration> {
        self.sent
            .iter()
            .filter(|s| s.url.as_str() == url && s.purpose == Purpose::Status)
            .map(|s| s.at)
            .collect()
    }
}

pub fn every(seconds: u64) -> Arc<Config> {
    super::every(seconds, Duration::from_secs(600))
}

pub fn job_url(host: &str, n: usize) -> String {
    format!("http://{host}/api/v1/jobs/job_{n}")
}

/// Completes each job on its `polls`-th status request.
pub fn completes_after(polls: usize) -> impl FnMut(&Transmit, usize, Duration) -> Option<Answer> {
    move |_transmit, count, _now| {
        Some(if count >= polls {
            completed()
        } else {
            running()
        })
    }
}
