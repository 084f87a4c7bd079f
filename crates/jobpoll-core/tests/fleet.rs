//! The fleet's rules, one test each, in virtual time against a scripted server:
//! one timer queue, shared polls, stops, metrics and determinism. The limits,
//! throttle holds and pauses are in `fleet_limits.rs`.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use jobpoll_core::fleet::{FleetConfig, FleetInput, Subscriber};
use jobpoll_core::{
    Config, Event, JobSpec, Outcome, Profile, Purpose, RequestId, Schedule, Transmit,
};
use support::cancelled_by_client;
use support::fleet_world::*;
use url::Url;

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
fn a_submitted_job_counts_against_the_origin_its_polls_go_to() {
    // One request at a time per origin. The Azure job is submitted to a.test, whose
    // answer sends its polls to b.test; meanwhile another job's request hangs on
    // a.test. Counted against a.test, the Azure polls would wait for that request
    // to reach its time limit; counted against b.test, the first goes as the submit answer
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
