//! Fleets in the simulator: a bounded soak keeps every fleet invariant, runs are
//! deterministic, the checker reports each kind of violation, and hand-written
//! scenarios behave as the fleet promises.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use bytes::Bytes;
use jobpoll_core::fleet::FleetConfig;
use jobpoll_core::{
    CancelledBy, Config, Event, Input, Instant, Outcome, Purpose, RequestId, Stats, Transmit,
};
use jobpoll_server::model::{ServerConfig, ServerModel};
use jobpoll_server::plan::{Fault, FaultWindow, JobPlan, Shape};
use jobpoll_sim::faults::{FaultPlan, Intensity};
use jobpoll_sim::fleet::check::{FleetChecker, FleetView, FleetViolation, OriginView};
use jobpoll_sim::fleet::{
    FleetArgs, FleetSabotage, FleetScenario, FleetWorld, fleet_soak, run_fleet_seed,
    run_fleet_seed_in,
};
use jobpoll_sim::world::{JobFacts, JobScenario};

mod support;

fn args(jobs: usize, sabotage: Option<FleetSabotage>) -> FleetArgs {
    FleetArgs {
        jobs,
        intensity: Intensity::Heavy,
        liveness_jobs: 5,
        sabotage,
        trace_dir: std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sim-failures"),
    }
}

#[test]
fn a_bounded_fleet_soak_under_heavy_faults_keeps_every_invariant() {
    let total = fleet_soak(&args(40, None), 0, 15).unwrap_or_else(|failure| panic!("{failure}"));
    assert_eq!(total.totals.seeds, 15);
    assert!(total.totals.jobs >= 15 * 45, "{total}");
    // The run must have exercised what the fleet adds: shared subscriptions,
    // stops, throttling hints, and every kind of ending.
    assert!(
        total.joined > 0 && total.stopped > 0 && total.hints > 0,
        "{total}"
    );
    // And what only some servers do: hosts of a job's own, paced 2xx answers,
    // and stops while a rate limit holds the origin back.
    assert!(
        total.own_hosts > 0 && total.paced > 0 && total.stops_in_holds > 0,
        "{total}"
    );
    for kind in ["succeeded", "failed", "timed_out", "cancelled"] {
        assert!(
            total.totals.outcomes.get(kind).copied().unwrap_or(0) > 0,
            "no {kind} outcome in {total}"
        );
    }
}

#[test]
fn the_same_fleet_seed_gives_the_same_output_hash() {
    let first = run_fleet_seed(args(40, None).config(7)).unwrap_or_else(|f| panic!("{f}"));
    let second = run_fleet_seed(args(40, None).config(7)).unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(first, second);
    let other = run_fleet_seed(args(40, None).config(8)).unwrap_or_else(|f| panic!("{f}"));
    assert_ne!(first.hash, other.hash, "different seeds should differ");
}

/// With the fleet blind to `Retry-After` and `RateLimit`, the simulator catches a
/// request to a throttled origin and prints a command that reproduces it.
#[test]
fn a_fleet_that_ignores_throttling_is_caught_and_reproduced() {
    let args = args(30, Some(FleetSabotage::FleetIgnoresThrottle));
    // (The job that met the limit also lost its own wait, so some seeds are caught
    // by the per-job check first; look for one caught at the origin.)
    let failure = (0..20)
        .filter_map(|seed| run_fleet_seed_in(args.config(seed), &args.trace_dir).err())
        .find(|f| {
            f.violation.invariant == "no request to a throttled origin before its hint allows"
        })
        .expect("some seed throttles an origin");
    let violation = &failure.violation;
    assert_eq!(
        violation.invariant, "no request to a throttled origin before its hint allows",
        "{violation}"
    );
    assert!(violation.origin.is_some() && violation.job.is_some());

    support::reproduces(&failure.command, &args.trace_dir, &violation.to_string());

    // The log of the run ends with the request that broke the invariant.
    let log = std::fs::read_to_string(failure.log_file.as_ref().expect("log written")).unwrap();
    let last = log.lines().last().unwrap();
    assert!(last.contains("->"), "{last}");
}

// --- the checker, fed by hand -----------------------------------------------------

const A: &str = "https://a.sim.jobpoll.test";
const B: &str = "https://b.sim.jobpoll.test";

fn at(millis: u64) -> Instant {
    Instant::from_millis(millis)
}

fn limits(global: u32, per_origin: u32) -> FleetConfig {
    FleetConfig {
        max_in_flight: global,
        max_in_flight_per_origin: per_origin,
        seed: 0,
    }
}

fn facts(server_id: Option<&str>) -> JobFacts {
    JobFacts {
        server_id: server_id.map(str::to_owned),
        shape: Shape::Jobs,
        plan: JobPlan::default(),
        started: Instant::ZERO,
        phase_calm: false,
        cancelled_at: None,
    }
}

fn status(id: u64, origin: &str, job: &str) -> Transmit {
    Transmit {
        id: RequestId(id),
        purpose: Purpose::Status,
        method: http::Method::GET,
        url: format!("{origin}/api/v1/jobs/{job}").parse().unwrap(),
        headers: Vec::new(),
        body: None,
        time_limit: Duration::from_secs(30),
    }
}

fn response(request: u64, status: u16, headers: &[(&str, &str)], now: Instant) -> Input {
    let mut builder = http::Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    Input::Response {
        request: RequestId(request),
        response: builder.body(Bytes::from_static(b"{}")).unwrap(),
        now,
    }
}

/// A checker with `jobs` jobs polled by URL, each with one subscriber, the first
/// half on origin A and the rest on B (by `origins`).
fn checker(limits: FleetConfig, origins: &[usize]) -> FleetChecker {
    let mut checker = FleetChecker::new(1, &limits, &[A.to_owned(), B.to_owned()]);
    let config = Config {
        min_interval: Duration::ZERO,
        ..Config::standard()
    };
    for (job, origin) in origins.iter().enumerate() {
        let identity = format!("jobs {job}");
        checker
            .job_started(job, *origin, &config, facts(None), Some(identity.clone()))
            .unwrap();
        checker
            .subscribed(job, job, Some(&identity), Instant::ZERO)
            .unwrap();
    }
    checker
}

/// Job `job` on `origin` polls at `sent` (request 0) and is answered 100 ms later
/// with `code` and a `Retry-After` of `retry_after`.
fn answered(
    c: &mut FleetChecker,
    job: usize,
    origin: &str,
    sent: Instant,
    code: u16,
    retry_after: &str,
) {
    let url_job = format!("job-{job}");
    c.transmitted(job, &status(0, origin, &url_job), sent)
        .unwrap();
    let answer = sent + Duration::from_millis(100);
    c.delivered(
        job,
        &response(0, code, &[("retry-after", retry_after)], answer),
        answer,
    )
    .unwrap();
}

fn expect(result: Result<(), FleetViolation>, invariant: &str) -> FleetViolation {
    let violation = result.expect_err(invariant);
    assert_eq!(violation.invariant, invariant, "{violation}");
    assert_eq!(violation.seed, 1);
    violation
}

#[test]
fn the_checker_reports_too_many_requests_in_flight() {
    let mut c = checker(limits(2, 5), &[0, 0, 1]);
    c.transmitted(0, &status(0, A, "job-0"), at(0)).unwrap();
    c.transmitted(1, &status(0, A, "job-1"), at(0)).unwrap();
    let v = expect(
        c.transmitted(2, &status(0, B, "job-2"), at(0)),
        "requests in flight stay within the global limit",
    );
    assert_eq!(v.origin.as_deref(), Some(B));
    assert_eq!(v.job, Some(2));

    let mut c = checker(limits(10, 1), &[0, 0, 1]);
    c.transmitted(0, &status(0, A, "job-0"), at(0)).unwrap();
    c.transmitted(2, &status(0, B, "job-2"), at(0)).unwrap();
    expect(
        c.transmitted(1, &status(0, A, "job-1"), at(0)),
        "requests in flight stay within the per-origin limit",
    );
    // An answer frees the slot.
    c.delivered(0, &response(0, 200, &[], at(50)), at(50))
        .unwrap();
    c.transmitted(1, &status(0, A, "job-1"), at(50)).unwrap();
}

#[test]
fn the_checker_reports_a_request_to_a_throttled_origin() {
    let mut c = checker(limits(10, 10), &[0, 0, 1]);
    answered(&mut c, 0, A, at(0), 429, "10");
    // Another origin is not held back; the same origin is, until 10.1 s.
    c.transmitted(2, &status(0, B, "job-2"), at(200)).unwrap();
    let v = expect(
        c.transmitted(1, &status(0, A, "job-1"), at(5_000)),
        "no request to a throttled origin before its hint allows",
    );
    assert_eq!(v.origin.as_deref(), Some(A));
    assert!(v.detail.contains("a 429 to job 0"), "{v}");
    let mut c = checker(limits(10, 10), &[0, 0]);
    answered(&mut c, 0, A, at(0), 429, "10");
    c.transmitted(1, &status(0, A, "job-1"), at(10_100))
        .unwrap();
    // An exhausted RateLimit budget throttles too.
    let mut c = checker(limits(10, 10), &[0, 0]);
    c.transmitted(0, &status(0, A, "job-0"), at(0)).unwrap();
    let budget = [("ratelimit", "\"default\";r=0;t=7")];
    c.delivered(0, &response(0, 200, &budget, at(100)), at(100))
        .unwrap();
    expect(
        c.transmitted(1, &status(0, A, "job-1"), at(7_000)),
        "no request to a throttled origin before its hint allows",
    );
}

#[test]
fn the_checker_reports_requests_while_paused() {
    let mut c = checker(limits(10, 10), &[0, 1]);
    c.paused();
    expect(
        c.transmitted(0, &status(0, A, "job-0"), at(0)),
        "a paused fleet sends nothing",
    );
    let mut c = checker(limits(10, 10), &[0, 1]);
    c.origin_paused(0);
    c.transmitted(1, &status(0, B, "job-1"), at(0)).unwrap();
    expect(
        c.transmitted(0, &status(0, A, "job-0"), at(0)),
        "a paused origin sends nothing",
    );
    c.origin_resumed(0);
    c.transmitted(0, &status(0, A, "job-0"), at(0)).unwrap();
}

#[test]
fn the_checker_reports_a_shared_url_polled_by_two_jobs() {
    let limits = limits(10, 10);
    let mut c = FleetChecker::new(1, &limits, &[A.to_owned()]);
    let config = Config::standard();
    let shared = "jobs https://a.sim.jobpoll.test/api/v1/jobs/job-1 []";
    c.job_started(0, 0, &config, facts(None), Some(shared.to_owned()))
        .unwrap();
    c.subscribed(0, 0, Some(shared), at(0)).unwrap();
    // A second subscription must join job 0, not start job 1.
    c.job_started(1, 0, &config, facts(None), Some(shared.to_owned()))
        .unwrap();
    expect(
        c.subscribed(1, 1, Some(shared), at(10)),
        "a shared job sends one request per poll",
    );
    // A subscription with other headers must not join it.
    let mut c = FleetChecker::new(1, &limits, &[A.to_owned()]);
    c.job_started(0, 0, &config, facts(None), Some(shared.to_owned()))
        .unwrap();
    c.subscribed(0, 0, Some(shared), at(0)).unwrap();
    expect(
        c.subscribed(1, 0, Some("jobs .../job-1 [x-subscriber]"), at(10)),
        "only the same profile, status URL and headers share a job",
    );
}

#[test]
fn the_checker_reports_two_requests_in_flight_for_one_job() {
    let mut c = checker(limits(10, 10), &[0]);
    c.transmitted(0, &status(0, A, "job-0"), at(0)).unwrap();
    expect(
        c.transmitted(0, &status(1, A, "job-0"), at(10)),
        "one request in flight",
    );
}

fn event(percent: f64) -> Event {
    Event::StatusChanged {
        from: None,
        to: format!("processing {percent}"),
    }
}

fn cancelled() -> Outcome {
    Outcome::Cancelled {
        by: CancelledBy::Client {
            server_confirmed: None,
        },
        stats: Stats::default(),
    }
}

/// The outcome of a job cancelled before it sent anything.
fn cancelled_unsent() -> Outcome {
    Outcome::Cancelled {
        by: CancelledBy::Client {
            server_confirmed: None,
        },
        stats: Stats {
            unreached: true,
            ..Stats::default()
        },
    }
}

/// One job followed by two subscribers (0 and 1).
fn shared_checker() -> FleetChecker {
    let mut c = FleetChecker::new(1, &limits(10, 10), &[A.to_owned()]);
    let identity = "jobs shared";
    c.job_started(
        0,
        0,
        &Config::standard(),
        facts(None),
        Some(identity.to_owned()),
    )
    .unwrap();
    c.subscribed(0, 0, Some(identity), at(0)).unwrap();
    c.subscribed(1, 0, Some(identity), at(0)).unwrap();
    c
}

fn view(running: usize) -> FleetView {
    FleetView {
        running,
        ..FleetView::default()
    }
}

/// What the fleet says of an origin: requests in flight, held until.
fn origin_view(origin: usize, in_flight: u32, held_until: Option<Instant>) -> OriginView {
    OriginView {
        origin,
        in_flight,
        held_until,
    }
}

#[test]
fn the_checker_reports_an_event_that_misses_a_subscriber() {
    let mut c = shared_checker();
    c.event(0, &event(1.0), at(10)).unwrap();
    c.event(1, &event(1.0), at(10)).unwrap();
    c.settled(at(10), &view(1)).unwrap();
    c.event(0, &event(2.0), at(20)).unwrap();
    let v = expect(
        c.settled(at(20), &view(1)),
        "events of a shared job reach every subscriber",
    );
    assert_eq!(v.subscriber, Some(1));
    // A different event where the copy should be.
    let mut c = shared_checker();
    c.event(0, &event(1.0), at(10)).unwrap();
    expect(
        c.event(1, &event(9.0), at(10)),
        "events of a shared job reach every subscriber",
    );
}

#[test]
fn the_checker_reports_outcomes_missing_doubled_or_followed_by_events() {
    let server = ServerModel::new(ServerConfig::default(), 0);
    // One subscriber of a shared job gets the job's outcome, the other nothing.
    let mut c = shared_checker();
    c.stopped(0, at(5));
    c.stopped(1, at(5));
    c.finished(0, &cancelled_unsent(), true, at(10), &server)
        .unwrap();
    expect(
        c.settled(at(10), &view(0)),
        "every subscriber of a shared job receives its outcome",
    );
    // Two outcomes for one subscriber.
    let mut c = shared_checker();
    c.stopped(0, at(5));
    c.finished(0, &cancelled_unsent(), false, at(10), &server)
        .unwrap();
    expect(
        c.finished(0, &cancelled_unsent(), false, at(11), &server),
        "every subscriber receives exactly one outcome",
    );
    // An event after the outcome.
    expect(c.event(0, &event(1.0), at(12)), "nothing after the outcome");
    // An outcome for a subscriber that never stopped, while its job runs on.
    let mut c = shared_checker();
    expect(
        c.finished(1, &cancelled_unsent(), false, at(10), &server),
        "a subscriber's outcome comes with its job's, or after it stopped",
    );
    // "Cancelled by the client" when nobody stopped.
    let mut c = shared_checker();
    c.finished(0, &cancelled_unsent(), true, at(10), &server)
        .map(|()| panic!("accepted"))
        .unwrap_or_else(|v| {
            assert_eq!(v.invariant, "the outcome matches the server", "{v}");
            assert_eq!(v.subscriber, Some(0));
        });
}

#[test]
fn the_checker_reports_wrong_counts_a_held_request_and_a_missing_outcome() {
    let mut c = checker(limits(10, 10), &[0]);
    c.transmitted(0, &status(0, A, "job-0"), at(0)).unwrap();
    let wrong = FleetView {
        in_flight: 0,
        by_origin: vec![origin_view(0, 0, None), origin_view(1, 0, None)],
        running: 1,
        origins: None,
    };
    expect(
        c.settled(at(0), &wrong),
        "the fleet counts requests in flight right",
    );
    let right = FleetView {
        in_flight: 1,
        by_origin: vec![origin_view(0, 1, None), origin_view(1, 0, None)],
        running: 1,
        origins: Some(1),
    };
    c.settled(at(0), &right).unwrap();
    expect(
        c.settled(
            at(0),
            &FleetView {
                running: 2,
                ..right.clone()
            },
        ),
        "every job that ends sends its outcome",
    );
    // A request due while nothing holds it back.
    c.delivered(0, &response(0, 200, &[], at(100)), at(100))
        .unwrap();
    expect(
        c.held(0, at(1_000), at(1_000)),
        "a due request goes out while nothing holds it back",
    );
    c.paused();
    c.held(0, at(1_000), at(1_000)).unwrap();
    expect(c.at_end(at(2_000), true), "liveness");
}

/// The cancel request of `job` on `origin`.
fn cancel(id: u64, origin: &str, job: &str) -> Transmit {
    Transmit {
        purpose: Purpose::Cancel,
        method: http::Method::POST,
        url: format!("{origin}/api/v1/jobs/{job}/cancel")
            .parse()
            .unwrap(),
        ..status(id, origin, job)
    }
}

#[test]
fn the_checker_reports_a_stop_that_is_not_acted_on_at_once() {
    // Neither an outcome nor a cancel request in the call of the stop.
    let mut c = checker(limits(10, 10), &[0]);
    c.stopped(0, at(5));
    let v = expect(c.settled(at(5), &view(1)), "a stop is acted on at once");
    assert_eq!(v.subscriber, Some(0));
    // Its cancel request out is enough; the outcome comes with its answer.
    let mut c = checker(limits(10, 10), &[0]);
    c.stopped(0, at(5));
    c.transmitted(0, &cancel(0, A, "job-0"), at(5)).unwrap();
    c.settled(
        at(5),
        &FleetView {
            in_flight: 1,
            running: 1,
            ..FleetView::default()
        },
    )
    .unwrap();
}

#[test]
fn a_cancel_request_passes_an_origins_hold_and_the_limits() {
    let mut c = checker(limits(1, 1), &[0, 0, 0]);
    answered(&mut c, 0, A, at(0), 429, "10");
    c.transmitted(1, &cancel(0, A, "job-1"), at(200)).unwrap();
    // Counted while out: the one place is taken, and the hold still binds polls.
    c.transmitted(2, &cancel(0, A, "job-2"), at(300)).unwrap();
    expect(
        c.transmitted(0, &status(1, A, "job-0"), at(20_000)),
        "requests in flight stay within the global limit",
    );
    let mut c = checker(limits(10, 10), &[0, 0]);
    answered(&mut c, 0, A, at(0), 429, "10");
    c.transmitted(1, &cancel(0, A, "job-1"), at(200)).unwrap();
    expect(
        c.transmitted(0, &status(1, A, "job-0"), at(300)),
        "no request to a throttled origin before its hint allows",
    );
}

#[test]
fn the_checker_reports_an_origin_held_by_a_wait_no_rate_limit_answer_asked_for() {
    let held = |until: u64| FleetView {
        running: 2,
        by_origin: vec![origin_view(0, 0, Some(at(until)))],
        ..FleetView::default()
    };
    // A 200's Retry-After paces its job; the origin is not held by it.
    let mut c = checker(limits(10, 10), &[0, 0]);
    answered(&mut c, 0, A, at(0), 200, "600");
    let v = expect(
        c.settled(at(100), &held(600_100)),
        "an origin is held only by the wait a rate-limit answer asks for",
    );
    assert_eq!(v.origin.as_deref(), Some(A));
    // A 429 holds it for its own wait, not longer.
    answered(&mut c, 1, A, at(200), 429, "5");
    c.settled(at(300), &held(5_300)).unwrap();
    expect(
        c.settled(at(300), &held(600_100)),
        "an origin is held only by the wait a rate-limit answer asks for",
    );
}

#[test]
fn the_checker_reports_origins_the_fleet_keeps_without_need() {
    let mut c = checker(limits(10, 10), &[0, 1]);
    let kept = |origins: usize, running: usize| FleetView {
        running,
        origins: Some(origins),
        ..FleetView::default()
    };
    c.settled(at(0), &kept(2, 2)).unwrap();
    expect(
        c.settled(at(0), &kept(3, 2)),
        "the fleet keeps only the origins it needs",
    );
    // Job 1 on B ends after a 429 that holds B for 10 s: B may stay until then.
    let server = ServerModel::new(ServerConfig::default(), 0);
    answered(&mut c, 1, B, at(0), 429, "10");
    c.stopped(1, at(200));
    c.finished(1, &cancelled(), true, at(200), &server).unwrap();
    c.settled(at(200), &kept(2, 1)).unwrap();
    expect(
        c.check_origins(at(10_100), 2),
        "the fleet keeps only the origins it needs",
    );
    c.check_origins(at(10_100), 1).unwrap();
}

// --- scenarios --------------------------------------------------------------------

fn quiet_network() -> FaultPlan {
    FaultPlan {
        latency_median: Duration::from_millis(40),
        latency_sigma: 0.0,
        ..FaultPlan::calm()
    }
}

fn job(plan: JobPlan, start_ms: u64) -> JobScenario {
    JobScenario {
        shape: Shape::Jobs,
        plan,
        config: Config::standard(),
        submit: false,
        cancel_after: None,
        calm: false,
        start_at: at(start_ms),
    }
}

/// The requests of a logged run: (time, job, host).
fn sends(log: &[String]) -> Vec<(String, usize, String)> {
    log.iter()
        .filter_map(|line| {
            let (time, rest) = line.trim_start().split_once("  job ")?;
            let (job, rest) = rest.split_once("  -> ")?;
            let url = rest.split_whitespace().nth(2)?;
            let host = url.split('/').nth(2)?.to_owned();
            Some((time.to_owned(), job.parse().ok()?, host))
        })
        .collect()
}

/// A 429 with `Retry-After: 10` to one job of origin A holds back the other jobs
/// of A (not those of B) until 10 s after it arrived; with the fleet blind to the
/// header, the checker flags the first early request.
#[test]
fn a_429_on_one_origin_holds_back_its_other_jobs() {
    let storm = JobPlan {
        faults: vec![FaultWindow {
            from: Duration::ZERO,
            until: Duration::from_secs(3),
            fault: Fault::Status {
                status: 429,
                retry_after: Some(10),
            },
        }],
        ..JobPlan::default()
    };
    let scenarios = || {
        vec![
            FleetScenario {
                origin: 0,
                job: job(storm.clone(), 0),
                joins: None,
            },
            FleetScenario {
                origin: 0,
                job: job(JobPlan::default(), 1_000),
                joins: None,
            },
            FleetScenario {
                origin: 0,
                job: job(JobPlan::default(), 2_000),
                joins: None,
            },
            FleetScenario {
                origin: 1,
                job: job(JobPlan::default(), 1_000),
                joins: None,
            },
        ]
    };
    let world =
        FleetWorld::from_scenarios(3, limits(10, 10), &quiet_network(), scenarios(), None).unwrap();
    let (result, log) = world.with_log().run();
    let summary = result.unwrap_or_else(|f| panic!("{f}\n{}", log.join("\n")));
    assert_eq!(summary.outcomes.get("succeeded"), Some(&4), "{summary}");
    let sends = sends(&log);
    let first = |job: usize| sends.iter().find(|s| s.1 == job).unwrap().0.clone();
    // Jobs are numbered as they start: 0 and 1 on A (at 0 and 1 s), 2 on B (1 s),
    // 3 on A (2 s). The 429 left at 40 ms and arrived at 80 ms: A is held until
    // 10.08 s. Job 0's own retry goes when its wait is over, plus its spread.
    assert_eq!(first(0), "0s");
    assert_eq!(first(1), "10.08s", "{}", log.join("\n"));
    assert_eq!(first(2), "1s", "B is not held back");
    // The held jobs are let out a gap apart: A accepted nothing before the 429,
    // so the first gap is 100 ms.
    assert_eq!(first(3), "10.18s", "{}", log.join("\n"));

    let world = FleetWorld::from_scenarios(
        3,
        limits(10, 10),
        &quiet_network(),
        scenarios(),
        Some(FleetSabotage::FleetIgnoresThrottle),
    )
    .unwrap();
    let failure = world.run().0.expect_err("the blind fleet is caught");
    assert_eq!(
        failure.violation.invariant,
        "no request to a throttled origin before its hint allows"
    );
    assert_eq!(failure.violation.job, Some(1));
    assert_eq!(failure.violation.at, at(1_000));
}

/// Three subscriptions to one status URL make one job and one request per poll;
/// one stops and leaves, the others receive every event and the success.
#[test]
fn three_subscribers_of_one_url_share_every_poll() {
    let plan = JobPlan {
        duration: Duration::from_secs(20),
        ..JobPlan::default()
    };
    let alone = vec![FleetScenario {
        origin: 0,
        job: job(plan.clone(), 0),
        joins: None,
    }];
    let mut shared = alone.clone();
    shared.push(FleetScenario {
        origin: 0,
        job: job(plan.clone(), 0),
        joins: Some(0),
    });
    shared.push(FleetScenario {
        origin: 0,
        job: JobScenario {
            cancel_after: Some(Duration::from_secs(3)),
            ..job(plan, 5_000)
        },
        joins: Some(0),
    });
    let run = |subscriptions| {
        let world =
            FleetWorld::from_scenarios(5, limits(4, 2), &quiet_network(), subscriptions, None)
                .unwrap();
        world.run().0.unwrap_or_else(|f| panic!("{f}"))
    };
    let alone = run(alone);
    let shared = run(shared);
    assert_eq!(shared.jobs, 1);
    assert_eq!(shared.joined, 2);
    assert_eq!(shared.requests, alone.requests, "one request per poll");
    assert_eq!(shared.outcomes.get("succeeded"), Some(&2), "{shared}");
    assert_eq!(shared.outcomes.get("cancelled"), Some(&1), "{shared}");
}
