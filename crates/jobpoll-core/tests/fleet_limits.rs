//! The fleet's limits, throttle holds and pauses, one test each, in virtual time
//! against a scripted server.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use jobpoll_core::fleet::FleetConfig;
use jobpoll_core::{Config, Outcome, Purpose, Transmit};
use support::cancelled_by_client;
use support::fleet_world::*;
use url::Url;

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

/// The server: a.test/job_0's first poll gets 429 with `Retry-After: 10`; every
/// job completes on its third poll.
fn job_0_throttled_once(transmit: &Transmit, count: usize, _now: Duration) -> Option<Answer> {
    let throttled = transmit.url.as_str() == "http://a.test/api/v1/jobs/job_0" && count == 1;
    Some(if throttled {
        let mut a = answer(429, "slow down");
        a.headers.push(("retry-after", "10".to_owned()));
        a
    } else if count >= 3 {
        completed()
    } else {
        running()
    })
}

#[test]
fn a_retry_after_on_one_job_holds_back_its_whole_origin() {
    // a.test/job_0's first poll gets 429 with Retry-After: 10.
    let mut world = World::new(FleetConfig::default(), job_0_throttled_once);
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
    // Its own polls go when each 10 s wait is over (the answer comes 0.1 s after
    // the poll), plus a spread of less than 1 s.
    let polls = world.status_polls(&job_url("a.test", 0));
    assert_eq!(polls.len(), 3, "{polls:?}");
    for pair in polls.windows(2) {
        let wait = pair[1] - pair[0] - Duration::from_millis(100);
        assert!(
            (Duration::from_secs(10)..Duration::from_secs(11)).contains(&wait),
            "{polls:?}"
        );
    }
}

/// When a hold ends, the jobs it held are let out a gap apart, not all at once:
/// the burst that made the server refuse would come back at one instant.
#[test]
fn held_jobs_are_released_a_gap_apart_when_the_hold_ends() {
    // a.test/job_0's first poll gets 429 with Retry-After: 10 at 0.1 s; seven
    // more jobs, added meanwhile, wait for the hold to end.
    let mut world = World::new(FleetConfig::default(), job_0_throttled_once);
    let config = every(30);
    world.add(&job_url("a.test", 0), &config);
    world.run_for(Duration::from_millis(500));
    let origin: Url = "http://a.test/".parse().unwrap();
    assert!(world.fleet.throttled_until(&origin).is_some());
    for n in 1..8 {
        world.add(&job_url("a.test", n), &config);
    }
    world.run_for(Duration::from_secs(20));
    let throttle_end = Duration::from_millis(10_100);
    let released: Vec<Duration> = world
        .sent
        .iter()
        .filter(|s| s.url.host_str() == Some("a.test") && s.at >= throttle_end)
        .map(|s| s.at)
        .collect();
    assert_eq!(released.len(), 8, "{released:?}");
    assert_eq!(
        released[0], throttle_end,
        "the first goes when the hold ends"
    );
    // Nothing was learned of the origin before the 429: the first gap is 100 ms,
    // and each accepted answer shortens it by an eighth.
    for pair in released.windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(30),
            "{released:?}"
        );
    }
    assert!(
        released[7] - released[0] >= Duration::from_millis(400),
        "{released:?}"
    );
    assert!(world.outcomes.values().all(Outcome::is_success));
}
