//! The fleet's rules, one test each, in virtual time against a scripted server.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use jobpoll_core::fleet::{
    Fleet, FleetConfig, FleetError, FleetInput, FleetOutput, JobKey, Subscriber,
};
use jobpoll_core::{
    Config, Event, Instant, JobSpec, Outcome, Profile, Purpose, RequestId, Schedule, Transmit,
};
use support::cancelled_by_client;
use url::Url;

/// An answer: status, headers, body, and how long it takes.
#[derive(Clone)]
struct Answer {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    latency: Duration,
}

fn answer(status: u16, body: &str) -> Answer {
    Answer {
        status,
        headers: Vec::new(),
        body: body.to_owned(),
        latency: Duration::from_millis(100),
    }
}

fn running() -> Answer {
    answer(200, r#"{"status":"processing"}"#)
}

fn completed() -> Answer {
    answer(200, r#"{"status":"completed","result_data":{"ok":true}}"#)
}

/// A request the test saw: when, for which job, to where.
#[derive(Clone, Debug)]
struct Sent {
    at: Duration,
    job: JobKey,
    purpose: Purpose,
    url: Url,
}

type Server = Box<dyn FnMut(&Transmit, usize, Duration) -> Option<Answer>>;

struct World {
    fleet: Fleet,
    now: Instant,
    server: Server,
    /// Answers due: (at, job, request, answer).
    pending: Vec<(Instant, JobKey, RequestId, Answer)>,
    sent: Vec<Sent>,
    /// Requests per URL so far.
    counts: HashMap<String, usize>,
    events: BTreeMap<Subscriber, Vec<Event>>,
    outcomes: BTreeMap<Subscriber, Outcome>,
    in_flight: HashMap<String, u32>,
    max_in_flight: u32,
    max_per_origin: HashMap<String, u32>,
}

fn origin(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap(),
        url.port_or_known_default().unwrap()
    )
}

impl World {
    fn new(
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

    fn elapsed(&self) -> Duration {
        Duration::from_micros(self.now.as_micros())
    }

    fn add(&mut self, url: &str, config: &Arc<Config>) -> Subscriber {
        let spec = JobSpec::poll_shared(url.parse().unwrap());
        self.add_spec(spec, config)
    }

    fn add_spec(&mut self, spec: JobSpec<Arc<Profile>>, config: &Arc<Config>) -> Subscriber {
        let subscriber = self.fleet.add(spec, config.clone(), self.now).unwrap();
        self.drain();
        subscriber
    }

    /// Ends a subscription now.
    fn stop(&mut self, subscriber: Subscriber) -> Result<(), FleetError> {
        let now = self.now;
        self.fleet
            .handle_input(FleetInput::Stop { subscriber, now })
    }

    /// Answers request `request` of `job` now with `response`.
    fn respond(
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
    fn drain(&mut self) -> Option<Instant> {
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
                        let url = self
                            .sent
                            .iter()
                            .rev()
                            .find(|s| s.job == job)
                            .unwrap()
                            .url
                            .clone();
                        *self.in_flight.get_mut(&origin(&url)).unwrap() -= 1;
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

    /// Runs until nothing is left to do or `limit` of virtual time has passed.
    fn run_for(&mut self, limit: Duration) {
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
                let url = self
                    .sent
                    .iter()
                    .rev()
                    .find(|s| s.job == job)
                    .unwrap()
                    .url
                    .clone();
                *self.in_flight.get_mut(&origin(&url)).unwrap() -= 1;
                let mut response = http::Response::builder().status(answer.status);
                for (name, value) in &answer.headers {
                    response = response.header(*name, value);
                }
                let response = response.body(Bytes::from(answer.body)).unwrap();
                self.fleet
                    .handle_input(FleetInput::Response {
                        job,
                        request,
                        response,
                        now,
                    })
                    .unwrap();
                self.drain();
            }
            self.fleet.handle_input(FleetInput::Tick { now }).unwrap();
        }
        self.drain();
    }

    fn status_polls(&self, url: &str) -> Vec<Duration> {
        self.sent
            .iter()
            .filter(|s| s.url.as_str() == url && s.purpose == Purpose::Status)
            .map(|s| s.at)
            .collect()
    }
}

fn every(seconds: u64) -> Arc<Config> {
    support::every(seconds, Duration::from_secs(600))
}

fn job_url(host: &str, n: usize) -> String {
    format!("http://{host}/api/v1/jobs/job_{n}")
}

/// Completes each job on its `polls`-th status request.
fn completes_after(polls: usize) -> impl FnMut(&Transmit, usize, Duration) -> Option<Answer> {
    move |_transmit, count, _now| {
        Some(if count >= polls {
            completed()
        } else {
            running()
        })
    }
}

#[test]
fn a_thousand_jobs_finish_on_one_timer_queue() {
    let limits = FleetConfig {
        max_in_flight: 256,
        max_in_flight_per_origin: 256,
        seed: 0,
    };
    let mut world = World::new(limits, completes_after(3));
    let config = every(2);
    for n in 0..1000 {
        world.add(&job_url("a.test", n), &config);
    }
    assert_eq!(world.fleet.len(), 1000);
    world.run_for(Duration::from_secs(60));
    assert_eq!(world.outcomes.len(), 1000);
    assert!(world.outcomes.values().all(Outcome::is_success));
    assert!(world.fleet.is_empty());
    let metrics = world.fleet.metrics();
    assert_eq!(metrics.jobs, 1000);
    assert_eq!(metrics.finished, 1000);
    assert_eq!(metrics.requests, 3000);
    assert_eq!(metrics.success_rate(), Some(1.0));
    assert_eq!(metrics.average_attempts(), Some(3.0));
    // Polls at 0, 2.1 and 4.2 s (each answered after 0.1 s): done at 4.3 s, later
    // for the jobs that waited for a slot (256 in flight at most): the last of the
    // 1000 first polls goes out at 0.3 s.
    assert_eq!(
        world.status_polls(&job_url("a.test", 0)),
        [0, 2100, 4200].map(Duration::from_millis)
    );
    assert_eq!(
        world.status_polls(&job_url("a.test", 999)),
        [300, 2400, 4500].map(Duration::from_millis)
    );
    let average = metrics.average_completion().unwrap();
    assert!(
        average > Duration::from_millis(4300) && average < Duration::from_millis(4600),
        "{average:?}"
    );
    assert_eq!(world.max_in_flight, 256);
}

#[test]
fn a_second_subscriber_shares_the_polls_and_gets_every_event() {
    let mut world = World::new(FleetConfig::default(), completes_after(4));
    let config = every(5);
    let url = job_url("a.test", 1);
    let first = world.add(&url, &config);
    world.run_for(Duration::from_secs(6)); // polls at 0 and 5.1 s answered
    let second = world.add(&url, &config);
    assert_eq!(second.job(), first.job(), "the running job is shared");
    assert_ne!(second, first);
    assert_eq!(world.fleet.subscribers(first.job()), 2);
    world.run_for(Duration::from_secs(60));
    // One request per poll, not one per subscriber.
    assert_eq!(
        world.status_polls(&url),
        [0, 5100, 10200, 15300].map(Duration::from_millis)
    );
    let a = &world.outcomes[&first];
    let b = &world.outcomes[&second];
    assert!(a.is_success() && b.is_success());
    assert_eq!(a, b);
    // The late subscriber sees every event from the moment it joined.
    let progress = |s: &Subscriber| {
        world.events[s]
            .iter()
            .filter(|e| matches!(e, Event::Progress(_)))
            .count()
    };
    assert_eq!(progress(&first), 3);
    assert_eq!(progress(&second), 1);
    assert_eq!(world.fleet.metrics().joined, 1);
    assert_eq!(world.fleet.metrics().jobs, 1);
}

#[test]
fn different_headers_or_profiles_are_different_jobs() {
    let mut world = World::new(FleetConfig::default(), completes_after(2));
    let config = every(5);
    let url: Url = job_url("a.test", 1).parse().unwrap();
    let plain = world.add(url.as_str(), &config);
    let with_token = world.add_spec(
        JobSpec::poll_shared(url.clone()).with_header("authorization", "Bearer b"),
        &config,
    );
    let other_profile = world.add_spec(
        JobSpec {
            profile: Arc::new(Profile::turn()),
            ..JobSpec::poll_shared(url.clone())
        },
        &config,
    );
    assert_ne!(plain.job(), with_token.job());
    assert_ne!(plain.job(), other_profile.job());
    assert_eq!(world.fleet.len(), 3);
}

/// Sharing compares the whole spec, not the profile's name: a profile edited to
/// read another status value as running reads the same answers differently.
#[test]
fn an_edited_profile_of_the_same_name_or_another_job_id_is_a_different_job() {
    let mut world = World::new(FleetConfig::default(), completes_after(2));
    let config = every(5);
    let url: Url = job_url("a.test", 1).parse().unwrap();
    let stock = world.add(url.as_str(), &config);
    let mut edited = Profile::jobs();
    let jobpoll_core::profile::Completion::Status { values, .. } = &mut edited.completion else {
        panic!("the jobs profile reads a status field");
    };
    values.running.push("warming_up".to_owned());
    let edited = Arc::new(edited);
    let with = |profile: &Arc<Profile>| JobSpec {
        profile: profile.clone(),
        ..JobSpec::poll_shared(url.clone())
    };
    let first_edited = world.add_spec(with(&edited), &config);
    assert_ne!(
        first_edited.job(),
        stock.job(),
        "joined the stock profile's job"
    );
    // Equal profiles share, whether or not they are the same `Arc`.
    let again_edited = world.add_spec(with(&Arc::new(Profile::clone(&edited))), &config);
    assert_eq!(again_edited.job(), first_edited.job());
    let again_stock = world.add(url.as_str(), &config);
    assert_eq!(again_stock.job(), stock.job());
    // A job id given up front names the cancel request: another id, another job.
    let with_id = world.add_spec(
        JobSpec::poll_shared(url.clone()).with_job_id("job_1"),
        &config,
    );
    assert_ne!(with_id.job(), stock.job());
    assert_eq!(world.fleet.len(), 3);
    assert_eq!(world.fleet.metrics().joined, 2);
}

#[test]
fn stopping_one_subscriber_leaves_the_job_to_the_others() {
    let mut world = World::new(FleetConfig::default(), completes_after(5));
    let config = every(5);
    let url = job_url("a.test", 1);
    let first = world.add(&url, &config);
    let second = world.add(&url, &config);
    world.run_for(Duration::from_secs(6));
    world.stop(first).unwrap();
    world.drain();
    assert!(cancelled_by_client(&world.outcomes[&first], None));
    assert!(world.stop(first).is_err(), "already stopped");
    world.run_for(Duration::from_secs(60));
    assert!(world.outcomes[&second].is_success());
    assert_eq!(world.status_polls(&url).len(), 5);
}

#[test]
fn stopping_the_last_subscriber_cancels_on_the_server() {
    let mut world = World::new(
        FleetConfig::default(),
        |transmit: &Transmit, _count, _now| {
            Some(match transmit.purpose {
                Purpose::Cancel => answer(200, r#"{"job_id":"job_1","status":"cancelled"}"#),
                // The status body names the job: the cancel URL needs its id.
                _ => answer(200, r#"{"job_id":"job_1","status":"processing"}"#),
            })
        },
    );
    let config = every(5);
    let url = job_url("a.test", 1);
    let only = world.add(&url, &config);
    world.run_for(Duration::from_secs(6));
    world.stop(only).unwrap();
    world.run_for(Duration::from_secs(10));
    let cancels: Vec<_> = world
        .sent
        .iter()
        .filter(|s| s.purpose == Purpose::Cancel)
        .collect();
    assert_eq!(cancels.len(), 1);
    assert!(cancelled_by_client(&world.outcomes[&only], Some(true)));
}

/// Found by the fleet simulator (seed 25): a subscription that came while the
/// job's only subscriber was being cancelled joined the dying job and received
/// "cancelled by the client" without having stopped.
#[test]
fn a_new_subscriber_does_not_join_a_job_being_cancelled() {
    let mut world = World::new(
        FleetConfig::default(),
        |transmit: &Transmit, count, _now| {
            Some(match transmit.purpose {
                Purpose::Cancel => answer(200, r#"{"job_id":"job_1","status":"cancelled"}"#),
                _ if count >= 3 => answer(
                    200,
                    r#"{"job_id":"job_1","status":"completed","result_data":{"ok":true}}"#,
                ),
                _ => answer(200, r#"{"job_id":"job_1","status":"processing"}"#),
            })
        },
    );
    let config = every(1);
    let url = job_url("a.test", 1);
    let first = world.add(&url, &config);
    world.run_for(Duration::from_millis(500));
    // The cancel goes out at once and is answered 0.1 s later; the new
    // subscription comes in between.
    world.stop(first).unwrap();
    world.drain();
    let second = world.add(&url, &config);
    assert_ne!(second.job(), first.job(), "joined the job being cancelled");
    world.run_for(Duration::from_secs(30));
    assert!(cancelled_by_client(&world.outcomes[&first], Some(true)));
    assert!(
        world.outcomes[&second].is_success(),
        "{}",
        world.outcomes[&second]
    );
    assert_eq!(world.fleet.metrics().joined, 0);
}

#[test]
fn requests_in_flight_never_pass_the_global_limit_and_queue_in_order() {
    let config = FleetConfig {
        max_in_flight: 3,
        max_in_flight_per_origin: 100,
        seed: 0,
    };
    let mut world = World::new(config, completes_after(2));
    let every = every(1);
    for n in 0..10 {
        world.add(&job_url("a.test", n), &every);
    }
    world.run_for(Duration::from_secs(60));
    assert_eq!(world.max_in_flight, 3);
    assert_eq!(world.outcomes.len(), 10);
    // First polls go out in the order the jobs were added, three at a time, each
    // batch when the previous answers arrive (0.1 s).
    let first_polls: Vec<(Duration, String)> = world
        .sent
        .iter()
        .take(10)
        .map(|s| (s.at, s.url.path().rsplit('/').next().unwrap().to_owned()))
        .collect();
    let expected: Vec<(Duration, String)> = (0..10)
        .map(|n| {
            (
                Duration::from_millis(100 * (n / 3) as u64),
                format!("job_{n}"),
            )
        })
        .collect();
    assert_eq!(first_polls, expected);
}

#[test]
fn the_per_origin_limit_holds_one_origin_while_others_proceed() {
    let config = FleetConfig {
        max_in_flight: 100,
        max_in_flight_per_origin: 2,
        seed: 0,
    };
    let mut world = World::new(config, completes_after(1));
    let every = every(1);
    for n in 0..6 {
        world.add(&job_url("a.test", n), &every);
    }
    world.add(&job_url("b.test", 0), &every);
    // a.test: two at 0 s, two at 0.1 s, two at 0.2 s; b.test is not held back.
    let at = |world: &World, host: &str| -> Vec<Duration> {
        world
            .sent
            .iter()
            .filter(|s| s.url.host_str() == Some(host))
            .map(|s| s.at)
            .collect()
    };
    assert_eq!(at(&world, "b.test"), [Duration::ZERO]);
    world.run_for(Duration::from_secs(10));
    assert_eq!(
        at(&world, "a.test"),
        [0, 0, 100, 100, 200, 200].map(Duration::from_millis)
    );
    assert_eq!(world.max_per_origin["a.test:80"], 2);
}

#[test]
fn origins_take_turns_for_the_global_limit() {
    let config = FleetConfig {
        max_in_flight: 1,
        max_in_flight_per_origin: 1,
        seed: 0,
    };
    let mut world = World::new(config, completes_after(1));
    let every = every(1);
    for n in 0..3 {
        world.add(&job_url("a.test", n), &every);
    }
    for n in 0..3 {
        world.add(&job_url("b.test", n), &every);
    }
    world.run_for(Duration::from_secs(10));
    let hosts: Vec<&str> = world
        .sent
        .iter()
        .map(|s| s.url.host_str().unwrap())
        .collect();
    assert_eq!(
        hosts,
        ["a.test", "b.test", "a.test", "b.test", "a.test", "b.test"]
    );
}

#[test]
fn a_retry_after_on_one_job_holds_back_its_whole_origin() {
    // a.test/job_0's first poll gets 429 with Retry-After: 10.
    let mut world = World::new(
        FleetConfig::default(),
        |transmit: &Transmit, count, _now| {
            let throttled =
                transmit.url.as_str() == "http://a.test/api/v1/jobs/job_0" && count == 1;
            Some(if throttled {
                let mut a = answer(429, "slow down");
                a.headers.push(("retry-after", "10".to_owned()));
                a
            } else if count >= 3 {
                completed()
            } else {
                running()
            })
        },
    );
    let config = every(1);
    world.add(&job_url("a.test", 0), &config);
    world.run_for(Duration::from_millis(50));
    for n in 1..4 {
        world.add(&job_url("a.test", n), &config);
    }
    world.add(&job_url("b.test", 0), &config);
    world.run_for(Duration::from_secs(60));
    // The 429 arrived at 0.1 s: nothing to a.test between then and 10.1 s (the
    // jobs added at 0.05 s sent their first poll before it).
    let throttle_end = Duration::from_millis(10_100);
    let a_sends: Vec<Duration> = world
        .sent
        .iter()
        .filter(|s| s.url.host_str() == Some("a.test"))
        .map(|s| s.at)
        .collect();
    assert!(
        a_sends
            .iter()
            .all(|at| *at <= Duration::from_millis(100) || *at >= throttle_end),
        "{a_sends:?}"
    );
    assert!(a_sends.iter().filter(|at| **at >= throttle_end).count() >= 4);
    // b.test kept its pace: polls at 0.05, 1.15, 2.25 s.
    let b_sends: Vec<Duration> = world.status_polls(&job_url("b.test", 0));
    assert_eq!(b_sends, [50, 1150, 2250].map(Duration::from_millis));
    assert!(world.outcomes.values().all(Outcome::is_success));
    assert_eq!(world.fleet.metrics().errors["http_429"], 1);
}

/// Found by the fleet simulator (seed 4): a 429 answering a cancel request did not
/// throttle the origin, because the job ended before reading the answer's hints.
#[test]
fn a_retry_after_on_a_cancel_answer_holds_back_the_origin() {
    let mut world = World::new(
        FleetConfig::default(),
        |transmit: &Transmit, _count, _now| {
            Some(if transmit.purpose == Purpose::Cancel {
                let mut a = answer(429, "slow down");
                a.headers.push(("retry-after", "10".to_owned()));
                a
            } else {
                // The status body names the job: the cancel URL needs its id.
                let id = transmit.url.path().rsplit('/').next().unwrap();
                answer(
                    200,
                    &format!(r#"{{"job_id":"{id}","status":"processing"}}"#),
                )
            })
        },
    );
    let config = every(1);
    let stopped = world.add(&job_url("a.test", 0), &config);
    world.add(&job_url("a.test", 1), &config);
    world.run_for(Duration::from_millis(500));
    world.stop(stopped).unwrap();
    world.run_for(Duration::from_secs(15));
    // The cancel went out at 0.5 s and its 429 arrived at 0.6 s: job_1 waits until
    // 10.6 s instead of polling again at 1.1 s.
    let polls = world.status_polls(&job_url("a.test", 1));
    assert_eq!(
        polls[..2],
        [0, 10_600].map(Duration::from_millis),
        "{polls:?}"
    );
    assert!(cancelled_by_client(&world.outcomes[&stopped], Some(false)));
}

#[test]
fn an_exhausted_rate_limit_budget_holds_back_the_origin() {
    let mut world = World::new(
        FleetConfig::default(),
        |_transmit: &Transmit, count, now| {
            let mut a = if count >= 3 { completed() } else { running() };
            if now < Duration::from_millis(50) {
                a.headers
                    .push(("ratelimit", "limit=100, remaining=0, reset=7".to_owned()));
            }
            Some(a)
        },
    );
    let config = every(1);
    world.add(&job_url("a.test", 0), &config);
    world.run_for(Duration::from_millis(50));
    world.add(&job_url("a.test", 1), &config);
    world.run_for(Duration::from_secs(60));
    let second = world.status_polls(&job_url("a.test", 1));
    // Its first poll (0.05 s) went out before the budget ran out in the answer at
    // 0.1 s; the next one waits for the reset, 7 s later, not its schedule's 1 s.
    assert_eq!(
        second[..2],
        [50, 7100].map(Duration::from_millis),
        "{second:?}"
    );
}

#[test]
fn a_paused_fleet_sends_nothing_and_resumes_oldest_first() {
    let mut world = World::new(FleetConfig::default(), completes_after(3));
    let config = every(2);
    for n in 0..3 {
        world.add(&job_url("a.test", n), &config);
    }
    world.run_for(Duration::from_secs(1));
    world.fleet.pause();
    let before = world.sent.len();
    world.run_for(Duration::from_secs(30));
    assert_eq!(world.sent.len(), before, "a paused fleet sent a request");
    assert!(world.fleet.is_paused());
    world.fleet.resume(world.now);
    world.drain();
    let resumed: Vec<&str> = world.sent[before..].iter().map(|s| s.url.path()).collect();
    assert_eq!(
        resumed,
        [
            "/api/v1/jobs/job_0",
            "/api/v1/jobs/job_1",
            "/api/v1/jobs/job_2"
        ]
    );
    assert!(
        world.sent[before..]
            .iter()
            .all(|s| s.at == Duration::from_secs(31))
    );
    world.run_for(Duration::from_secs(60));
    assert!(world.outcomes.values().all(Outcome::is_success));
}

#[test]
fn pausing_one_origin_leaves_the_others_running() {
    let mut world = World::new(FleetConfig::default(), completes_after(3));
    let config = every(2);
    let a: Url = job_url("a.test", 0).parse().unwrap();
    world.fleet.pause_origin(&a);
    world.add(a.as_str(), &config);
    world.add(&job_url("b.test", 0), &config);
    world.run_for(Duration::from_secs(30));
    assert!(world.status_polls(a.as_str()).is_empty());
    assert_eq!(world.status_polls(&job_url("b.test", 0)).len(), 3);
    world.fleet.resume_origin(&a, world.now);
    world.run_for(Duration::from_secs(30));
    assert_eq!(world.status_polls(a.as_str())[0], Duration::from_secs(30));
    assert_eq!(world.outcomes.len(), 2);
}

#[test]
fn deadlines_hold_while_paused_and_a_stop_then_sends_nothing() {
    let mut world = World::new(FleetConfig::default(), |_t: &Transmit, _c, _n| {
        Some(running())
    });
    let short = Arc::new(Config {
        deadline: Some(Duration::from_secs(10)),
        ..(*every(2)).clone()
    });
    let timed = world.add(&job_url("a.test", 0), &short);
    let stopped = world.add(&job_url("a.test", 1), &every(2));
    world.run_for(Duration::from_secs(1));
    world.fleet.pause();
    let before = world.sent.len();
    world.run_for(Duration::from_secs(20));
    assert!(matches!(world.outcomes[&timed], Outcome::TimedOut { .. }));
    world.stop(stopped).unwrap();
    world.drain();
    assert_eq!(world.sent.len(), before, "no cancel request while paused");
    assert!(cancelled_by_client(&world.outcomes[&stopped], None));
    assert!(world.fleet.is_empty());
}

#[test]
fn stopping_everything_gives_every_subscriber_an_outcome() {
    let mut world = World::new(FleetConfig::default(), |t: &Transmit, _c, _n| {
        Some(if t.purpose == Purpose::Cancel {
            answer(204, "")
        } else {
            running()
        })
    });
    let config = every(2);
    let mut subscribers = Vec::new();
    for n in 0..20 {
        subscribers.push(world.add(&job_url("a.test", n % 15), &config));
    }
    world.run_for(Duration::from_secs(3));
    let now = world.now;
    world
        .fleet
        .handle_input(FleetInput::StopAll { now })
        .unwrap();
    world.run_for(Duration::from_secs(10));
    assert_eq!(world.outcomes.len(), 20);
    assert!(world.outcomes.values().all(|o| o.kind() == "cancelled"));
    assert!(world.fleet.is_empty());
}

#[test]
fn metrics_count_errors_by_kind() {
    let mut world = World::new(FleetConfig::default(), |_t: &Transmit, count, _n| {
        Some(match count {
            1 => answer(503, "busy"),
            2 => answer(200, "not json"),
            _ => completed(),
        })
    });
    let config = every(1);
    world.add(&job_url("a.test", 0), &config);
    world.run_for(Duration::from_secs(30));
    let metrics = world.fleet.metrics();
    assert_eq!(metrics.errors["http_5xx"], 1);
    assert_eq!(metrics.errors["unreadable"], 1);
    assert_eq!(metrics.outcomes["succeeded"], 1);
    assert_eq!(metrics.average_attempts(), Some(3.0));
}

#[test]
fn answers_for_unknown_jobs_or_requests_change_nothing() {
    let mut world = World::new(FleetConfig::default(), |_t: &Transmit, _c, _n| None);
    let config = every(1);
    let subscriber = world.add(&job_url("a.test", 0), &config);
    let response = || http::Response::new(Bytes::from_static(b"{}"));
    assert!(
        world
            .respond(subscriber.job(), RequestId(99), response())
            .is_err()
    );
    assert_eq!(world.fleet.in_flight(), 1);
    world.stop(subscriber).unwrap();
    world.run_for(Duration::from_secs(60));
    assert!(
        world
            .respond(subscriber.job(), RequestId(0), response())
            .is_err()
    );
    assert_eq!(world.fleet.in_flight(), 0);
}

#[test]
fn same_seed_same_requests() {
    let run = |seed: u64| {
        let config = FleetConfig {
            seed,
            ..FleetConfig::default()
        };
        let mut world = World::new(config, completes_after(4));
        let config = Arc::new(Config {
            poll: Schedule::Exponential {
                initial: Duration::from_secs(1),
                multiplier: 2.0,
                max: Duration::from_secs(30),
                jitter: jobpoll_core::Jitter::Full,
            },
            ..Config::standard()
        });
        for n in 0..50 {
            world.add(&job_url("a.test", n), &config);
        }
        world.run_for(Duration::from_secs(600));
        world
            .sent
            .iter()
            .map(|s| (s.at, s.url.to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(run(7), run(7));
    assert_ne!(run(7), run(8), "jitter draws from the fleet's seed");
}

#[test]
fn a_retry_after_on_a_success_stays_with_its_job() {
    // Azure and Google answer "poll again in 10 s" on a 2xx: that is one job's pace,
    // not a rate limit, so the other jobs of the origin keep theirs.
    let mut world = World::new(
        FleetConfig::default(),
        |transmit: &Transmit, count, _now| {
            let mut a = if count >= 3 { completed() } else { running() };
            if transmit.url.as_str() == "http://a.test/api/v1/jobs/job_0" {
                a.headers.push(("retry-after", "10".to_owned()));
            }
            Some(a)
        },
    );
    let config = every(1);
    world.add(&job_url("a.test", 0), &config);
    world.add(&job_url("a.test", 1), &config);
    world.run_for(Duration::from_secs(60));
    assert_eq!(
        world.status_polls(&job_url("a.test", 1)),
        [0, 1100, 2200].map(Duration::from_millis)
    );
    assert_eq!(
        world.status_polls(&job_url("a.test", 0)),
        [0, 10_100, 20_200].map(Duration::from_millis)
    );
}

#[test]
fn a_submitted_job_counts_against_the_origin_its_polls_go_to() {
    // One request at a time per origin. The Azure job is submitted to a.test, whose
    // answer sends its polls to b.test; meanwhile another job's request hangs on
    // a.test. Counted against a.test, the Azure polls would wait for that request
    // to time out; counted against b.test, the first goes as the submit answer
    // arrives (0.1 s), when the other job's request takes a.test's one slot.
    let limits = FleetConfig {
        max_in_flight: 10,
        max_in_flight_per_origin: 1,
        seed: 0,
    };
    let mut world = World::new(limits, |transmit: &Transmit, _count, _now| {
        match (transmit.url.host_str(), transmit.purpose) {
            (Some("a.test"), Purpose::Submit) => {
                let mut a = answer(201, "");
                a.headers.push((
                    "azure-asyncoperation",
                    "http://b.test/operations/1".to_owned(),
                ));
                Some(a)
            }
            (Some("a.test"), _) => None, // hangs
            _ => Some(answer(200, r#"{"status":"Succeeded"}"#)),
        }
    });
    let config = every(1);
    let JobSpec { start, headers, .. } = JobSpec::submit(
        Profile::azure_operation(),
        "http://a.test/resources/r1".parse().unwrap(),
        None,
    );
    let azure = world.add_spec(
        JobSpec {
            profile: Arc::new(Profile::azure_operation()),
            start,
            headers,
        },
        &config,
    );
    world.run_for(Duration::from_millis(50));
    world.add(&job_url("a.test", 0), &config);
    world.run_for(Duration::from_secs(5));
    let b_polls: Vec<Duration> = world
        .sent
        .iter()
        .filter(|s| s.url.host_str() == Some("b.test"))
        .map(|s| s.at)
        .collect();
    assert_eq!(b_polls, [Duration::from_millis(100)]);
    assert!(world.outcomes[&azure].is_success());
    assert_eq!(
        world.fleet.in_flight_to(&"http://a.test/".parse().unwrap()),
        1
    );
}
