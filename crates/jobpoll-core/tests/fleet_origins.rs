//! What the fleet keeps per origin: a stop is not held by an origin's throttle or
//! queue, an origin is held only by the wait of the answer that asks for it, and
//! the table of origins shrinks back when their jobs end.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use jobpoll_core::fleet::{Fleet, FleetConfig, FleetInput, FleetOutput, JobKey, Subscriber};
use jobpoll_core::{Config, Instant, JobSpec, Outcome, Purpose, RequestId, Transmit};
use support::cancelled_by_client;
use url::Url;

fn every(seconds: u64) -> Arc<Config> {
    support::every(seconds, Duration::from_secs(7200))
}

fn secs(s: f64) -> Instant {
    Instant::ZERO + Duration::from_secs_f64(s)
}

fn url(host: &str, n: usize) -> Url {
    format!("http://{host}/api/v1/jobs/job_{n}")
        .parse()
        .unwrap()
}

/// A job of the built-in jobs profile whose id is known, so that it can be
/// cancelled on the server.
fn spec(host: &str, n: usize) -> JobSpec<Arc<jobpoll_core::Profile>> {
    JobSpec::poll_shared(url(host, n)).with_job_id(format!("job_{n}"))
}

fn response(status: u16, headers: &[(&str, &str)], body: &str) -> http::Response<Bytes> {
    let mut builder = http::Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Bytes::from(body.to_owned())).unwrap()
}

fn processing() -> http::Response<Bytes> {
    response(200, &[], r#"{"status":"processing"}"#)
}

/// Every output the fleet has up to its next wake-up, in order.
fn outputs(fleet: &mut Fleet) -> Vec<FleetOutput> {
    std::iter::from_fn(|| match fleet.poll_output() {
        FleetOutput::WakeAt(_) | FleetOutput::Idle => None,
        output => Some(output),
    })
    .collect()
}

/// Answers `request` of `job` with `response` at `now`.
fn respond(
    fleet: &mut Fleet,
    job: JobKey,
    request: RequestId,
    response: http::Response<Bytes>,
    now: Instant,
) {
    let input = FleetInput::Response {
        job,
        request,
        response,
        now,
    };
    fleet.handle_input(input).unwrap();
}

/// Time comes to `now`.
fn tick(fleet: &mut Fleet, now: Instant) {
    fleet.handle_input(FleetInput::Tick { now }).unwrap();
}

/// `subscriber` stops at `now`.
fn stop(fleet: &mut Fleet, subscriber: Subscriber, now: Instant) {
    fleet
        .handle_input(FleetInput::Stop { subscriber, now })
        .unwrap();
}

/// The requests among `outputs`, by job.
fn sent(outputs: &[FleetOutput]) -> Vec<(JobKey, Transmit)> {
    outputs
        .iter()
        .filter_map(|o| match o {
            FleetOutput::Transmit { job, transmit } => Some((*job, transmit.clone())),
            _ => None,
        })
        .collect()
}

fn outcome_of(outputs: &[FleetOutput], who: Subscriber) -> Option<&Outcome> {
    outputs.iter().find_map(|o| match o {
        FleetOutput::Finished {
            subscriber,
            outcome,
        } if *subscriber == who => Some(outcome),
        _ => None,
    })
}

/// Two jobs of one origin, both polled once; job 0's poll was answered 429 with
/// `Retry-After: 3600` at 0.1 s, job 1's with a running status.
fn held_origin() -> (Fleet, Subscriber, Subscriber) {
    let mut fleet: Fleet = Fleet::new(FleetConfig::default());
    let config = every(5);
    let first = fleet
        .add(spec("a.test", 0), config.clone(), secs(0.0))
        .unwrap();
    let second = fleet.add(spec("a.test", 1), config, secs(0.0)).unwrap();
    let polls = sent(&outputs(&mut fleet));
    assert_eq!(polls.len(), 2);
    let throttle = response(429, &[("retry-after", "3600")], "slow down");
    respond(&mut fleet, polls[0].0, polls[0].1.id, throttle, secs(0.1));
    respond(
        &mut fleet,
        polls[1].0,
        polls[1].1.id,
        processing(),
        secs(0.1),
    );
    outputs(&mut fleet);
    let origin = "http://a.test/".parse().unwrap();
    assert_eq!(fleet.throttled_until(&origin), Some(secs(3600.1)));
    (fleet, first, second)
}

#[test]
fn a_stop_sends_its_cancel_request_at_once_through_a_throttled_origin() {
    let (mut fleet, _, second) = held_origin();
    tick(&mut fleet, secs(30.0));
    assert!(
        sent(&outputs(&mut fleet)).is_empty(),
        "polls wait for the hold"
    );
    // The user stops job 1, a minute into the hour the server asked for.
    stop(&mut fleet, second, secs(60.0));
    let now = outputs(&mut fleet);
    let cancels = sent(&now);
    assert_eq!(
        cancels.len(),
        1,
        "the cancel request goes out at the stop, not after the hold: {now:?}"
    );
    let (job, cancel) = &cancels[0];
    assert_eq!(cancel.purpose, Purpose::Cancel);
    assert_eq!(cancel.url.path(), "/api/v1/jobs/job_1/cancel");
    let answer = response(200, &[], r#"{"status":"cancelled"}"#);
    respond(&mut fleet, *job, cancel.id, answer, secs(60.1));
    let after = outputs(&mut fleet);
    let outcome = outcome_of(&after, second).expect("the outcome with the cancel's answer");
    assert!(cancelled_by_client(outcome, Some(true)), "{outcome}");
    // Job 0 still waits for the hold.
    assert!(sent(&after).is_empty());
}

#[test]
fn a_stop_sends_its_cancel_request_at_once_past_a_full_origin_and_its_queue() {
    let limits = FleetConfig {
        max_in_flight: 1,
        max_in_flight_per_origin: 1,
        seed: 0,
    };
    let mut fleet: Fleet = Fleet::new(limits);
    let config = every(5);
    // Job 0's poll takes the one place and is never answered; jobs 1 and 2 wait.
    fleet
        .add(spec("a.test", 0), config.clone(), secs(0.0))
        .unwrap();
    let waiting = fleet
        .add(spec("a.test", 1), config.clone(), secs(0.0))
        .unwrap();
    fleet.add(spec("a.test", 2), config, secs(0.0)).unwrap();
    assert_eq!(sent(&outputs(&mut fleet)).len(), 1);
    stop(&mut fleet, waiting, secs(1.0));
    let now = outputs(&mut fleet);
    let cancels = sent(&now);
    assert_eq!(cancels.len(), 1, "{now:?}");
    assert_eq!(cancels[0].1.purpose, Purpose::Cancel);
    assert_eq!(cancels[0].0, waiting.job());
    // It counts while it is out: two in flight under a limit of one, and job 2
    // still waits.
    assert_eq!(fleet.in_flight(), 2);
    let answer = response(204, &[], "");
    respond(
        &mut fleet,
        waiting.job(),
        cancels[0].1.id,
        answer,
        secs(1.1),
    );
    let after = outputs(&mut fleet);
    assert!(cancelled_by_client(
        outcome_of(&after, waiting).unwrap(),
        Some(true)
    ));
    assert!(
        sent(&after).is_empty(),
        "job 0's poll still holds the place"
    );
    assert_eq!(fleet.in_flight(), 1);
}

/// Job 0 of a.test was told `Retry-After: 600` on a 200 (its own pace) and is
/// then stopped: its cancel request goes out at once, and `cancel_answer` answers
/// it at 30.1 s. Returns until when a.test is held after that answer.
fn hold_after_cancel_answer(cancel_answer: http::Response<Bytes>) -> Option<Instant> {
    let mut fleet: Fleet = Fleet::new(FleetConfig::default());
    let stopped = fleet.add(spec("a.test", 0), every(5), secs(0.0)).unwrap();
    let polls = sent(&outputs(&mut fleet));
    let paced = response(200, &[("retry-after", "600")], r#"{"status":"processing"}"#);
    respond(&mut fleet, polls[0].0, polls[0].1.id, paced, secs(0.1));
    outputs(&mut fleet);
    let origin: Url = "http://a.test/".parse().unwrap();
    assert_eq!(fleet.throttled_until(&origin), None, "a 2xx paces its job");
    stop(&mut fleet, stopped, secs(30.0));
    let cancels = sent(&outputs(&mut fleet));
    assert_eq!(cancels.len(), 1);
    respond(
        &mut fleet,
        stopped.job(),
        cancels[0].1.id,
        cancel_answer,
        secs(30.1),
    );
    outputs(&mut fleet);
    fleet.throttled_until(&origin)
}

#[test]
fn a_bare_503_does_not_hold_the_origin_by_a_wait_its_job_kept() {
    let hold = hold_after_cancel_answer(response(503, &[], "busy"));
    assert_eq!(
        hold, None,
        "the 503 asked for no wait; the 200's 600 s were the job's own"
    );
}

#[test]
fn a_429_holds_the_origin_by_its_own_wait_not_a_longer_one_its_job_kept() {
    let hold = hold_after_cancel_answer(response(429, &[("retry-after", "5")], "slow"));
    assert_eq!(hold, Some(secs(35.1)));
}

#[test]
fn an_exhausted_budget_holds_the_origin_by_its_reset_beside_a_longer_retry_after() {
    let mut fleet: Fleet = Fleet::new(FleetConfig::default());
    fleet.add(spec("a.test", 0), every(5), secs(0.0)).unwrap();
    let polls = sent(&outputs(&mut fleet));
    // The job's pace is 600 s; the origin's budget is spent for 7 s.
    let headers = [
        ("retry-after", "600"),
        ("ratelimit", "limit=10, remaining=0, reset=7"),
    ];
    let answer = response(200, &headers, r#"{"status":"processing"}"#);
    respond(&mut fleet, polls[0].0, polls[0].1.id, answer, secs(0.1));
    let origin: Url = "http://a.test/".parse().unwrap();
    assert_eq!(fleet.throttled_until(&origin), Some(secs(7.1)));
}

/// Runs every job to its outcome: each status poll is answered at once, the
/// `polls`-th of a job completes it. Returns the outcomes' count.
fn run_to_end(fleet: &mut Fleet, mut now: Instant, polls: usize) -> usize {
    let mut counts = std::collections::HashMap::new();
    let mut finished = 0;
    loop {
        match fleet.poll_output() {
            FleetOutput::Transmit { job, transmit } => {
                let count = counts.entry(job).or_insert(0);
                *count += 1;
                let answer = if *count >= polls {
                    response(200, &[], r#"{"status":"completed","result_data":{}}"#)
                } else {
                    processing()
                };
                respond(fleet, job, transmit.id, answer, now);
            }
            FleetOutput::Finished { .. } => finished += 1,
            FleetOutput::WakeAt(at) => {
                now = now.max(at);
                tick(fleet, now);
            }
            FleetOutput::Idle => return finished,
            FleetOutput::Abort { .. } | FleetOutput::Event { .. } => {}
        }
    }
}

#[test]
fn origins_leave_the_table_when_their_jobs_end() {
    let mut fleet: Fleet = Fleet::new(FleetConfig::default());
    let config = every(1);
    // Ten thousand jobs, each on a host of its own (as a server naming a status
    // host per job would make them).
    let jobs = 10_000;
    for n in 0..jobs {
        fleet
            .add(spec(&format!("h{n}.a.test"), n), config.clone(), secs(0.0))
            .unwrap();
    }
    assert_eq!(fleet.origins(), jobs);
    assert_eq!(run_to_end(&mut fleet, secs(0.0), 2), jobs);
    assert!(fleet.is_empty());
    assert_eq!(fleet.origins(), 0, "no job left, no origin left");
    // The numbers are used again: another ten thousand hosts fit the same table.
    for n in 0..jobs {
        fleet
            .add(
                spec(&format!("g{n}.a.test"), n),
                config.clone(),
                secs(100.0),
            )
            .unwrap();
    }
    assert_eq!(fleet.origins(), jobs);
    assert_eq!(run_to_end(&mut fleet, secs(100.0), 1), jobs);
    assert_eq!(fleet.origins(), 0);
}

#[test]
fn an_origin_stays_while_paused_or_held_and_leaves_after() {
    let mut fleet: Fleet = Fleet::new(FleetConfig::default());
    let paused: Url = "http://p.test/".parse().unwrap();
    fleet.pause_origin(&paused);
    assert_eq!(fleet.origins(), 1, "a pause is kept for jobs to come");
    // One job on h.test meets a 429 with a wait of 30 s and then completes.
    fleet.add(spec("h.test", 0), every(1), secs(0.0)).unwrap();
    let polls = sent(&outputs(&mut fleet));
    let throttle = response(429, &[("retry-after", "30")], "slow down");
    respond(&mut fleet, polls[0].0, polls[0].1.id, throttle, secs(0.1));
    // The job's own retry goes when the wait is over, plus its spread (< 3 s).
    let mut polls = Vec::new();
    while polls.is_empty() {
        let at = fleet.next_wake().expect("the job waits on time");
        assert!(at >= secs(30.1) && at < secs(33.1), "{at}");
        tick(&mut fleet, at);
        polls = sent(&outputs(&mut fleet));
    }
    let done = response(200, &[], r#"{"status":"completed","result_data":{}}"#);
    respond(&mut fleet, polls[0].0, polls[0].1.id, done, secs(33.2));
    assert!(fleet.is_empty());
    assert_eq!(fleet.origins(), 1, "only the paused one");
    fleet.resume_origin(&paused, secs(31.0));
    assert_eq!(fleet.origins(), 0);

    // A hold outlives the job that met it: a job added there meanwhile waits.
    let second = fleet.add(spec("h.test", 1), every(1), secs(40.0)).unwrap();
    let polls = sent(&outputs(&mut fleet));
    let throttle = response(429, &[("retry-after", "60")], "slow down");
    respond(&mut fleet, polls[0].0, polls[0].1.id, throttle, secs(40.1));
    stop(&mut fleet, second, secs(41.0));
    let cancels = sent(&outputs(&mut fleet));
    let answer = response(204, &[], "");
    respond(
        &mut fleet,
        cancels[0].0,
        cancels[0].1.id,
        answer,
        secs(41.1),
    );
    assert!(fleet.is_empty());
    assert_eq!(fleet.origins(), 1, "held until 100.1 s");
    let origin: Url = "http://h.test/".parse().unwrap();
    assert_eq!(fleet.throttled_until(&origin), Some(secs(100.1)));
    fleet.add(spec("h.test", 2), every(1), secs(50.0)).unwrap();
    assert!(sent(&outputs(&mut fleet)).is_empty(), "still held");
    tick(&mut fleet, secs(100.1));
    assert_eq!(sent(&outputs(&mut fleet)).len(), 1);
}
