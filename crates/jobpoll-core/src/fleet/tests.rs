//! The fleet's internals: timers, request time limits, the sharing index, queues.

use core::time::Duration;

use bytes::Bytes;

use super::limits::KEPT_QUEUE;
use super::slots::CHUNK;
use super::*;
use crate::schedule::Schedule;

fn config() -> Arc<Config> {
    Arc::new(Config {
        poll: Schedule::Fixed {
            interval: Duration::from_secs(10),
        },
        deadline: None,
        ..Config::standard()
    })
}

fn spec(profile: &Arc<Profile>, n: usize) -> JobSpec<Arc<Profile>> {
    let url = format!("https://api.example.com/api/v1/jobs/job_{n}")
        .parse()
        .unwrap();
    JobSpec {
        profile: profile.clone(),
        ..JobSpec::poll_shared(url)
    }
}

/// Every output up to the next wake-up (or the fleet's idling).
fn drain(fleet: &mut Fleet) -> Vec<FleetOutput> {
    std::iter::from_fn(|| match fleet.poll_output() {
        FleetOutput::WakeAt(_) | FleetOutput::Idle => None,
        output => Some(output),
    })
    .collect()
}

/// Answers every request at once with `body`, up to the next wake-up; returns
/// how many.
fn answer_all(fleet: &mut Fleet, now: Instant, body: &'static str) -> usize {
    answer_with(fleet, now, |_| {
        http::Response::new(Bytes::from_static(body.as_bytes()))
    })
}

/// Answers every request at once with what `answer` makes of it, up to the next
/// wake-up; returns how many.
fn answer_with(
    fleet: &mut Fleet,
    now: Instant,
    answer: impl Fn(&crate::job::Transmit) -> http::Response<Bytes>,
) -> usize {
    let mut answered = 0;
    loop {
        match fleet.poll_output() {
            FleetOutput::Transmit { job, transmit } => {
                let response = answer(&transmit);
                let request = transmit.id;
                fleet
                    .handle_input(FleetInput::Response {
                        job,
                        request,
                        response,
                        now,
                    })
                    .unwrap();
                answered += 1;
            }
            FleetOutput::WakeAt(_) | FleetOutput::Idle => return answered,
            _ => {}
        }
    }
}

/// Time comes to the fleet's next wake-up; returns it.
fn tick(fleet: &mut Fleet) -> Instant {
    let now = fleet.next_wake().unwrap();
    fleet.handle_input(FleetInput::Tick { now }).unwrap();
    now
}

const RUNNING: &str = r#"{"status":"processing"}"#;

/// The fleet's short cut for a held job's tick leaves the job exactly as the
/// tick would, and is refused when the tick has more to do (the deadline).
#[test]
fn a_held_tick_only_moves_the_clock_or_is_refused() {
    let profile = Arc::new(Profile::jobs());
    for deadline in [None, Some(Duration::from_secs(25))] {
        let config = Arc::new(Config {
            deadline,
            ..Config::clone(&config())
        });
        let mut job = Job::build(spec(&profile, 1), config, 7, Instant::ZERO, true).unwrap();
        // Gated from the start: its first poll is due and held back.
        assert!(job.wants_to_send());
        for secs in [0, 5, 10, 24, 25, 30] {
            let now = Instant::from_micros(secs * 1_000_000);
            let mut ticked = job.clone();
            ticked.handle_input(Input::Tick { now }).unwrap();
            let mut held = job.clone();
            let taken = held.tick_held(now);
            let deadline_come =
                deadline.is_some_and(|d| u128::from(secs) * 1_000_000 >= d.as_micros());
            assert_eq!(taken, !deadline_come, "at {secs} s");
            if taken {
                assert!(!ticked.has_outputs(), "at {secs} s");
                assert_eq!(format!("{held:?}"), format!("{ticked:?}"), "at {secs} s");
            } else {
                assert!(
                    ticked.has_outputs(),
                    "the deadline ends the job at {secs} s"
                );
                assert_eq!(
                    format!("{held:?}"),
                    format!("{job:?}"),
                    "unchanged at {secs} s"
                );
            }
            job = ticked;
        }
    }
}

#[test]
fn answered_requests_leave_no_timer_behind() {
    let profile = Arc::new(Profile::jobs());
    let mut fleet: Fleet = Fleet::new(FleetConfig {
        max_in_flight: 7,
        ..FleetConfig::default()
    });
    let jobs = 50;
    for n in 0..jobs {
        fleet
            .add(spec(&profile, n), config(), Instant::ZERO)
            .unwrap();
    }
    let mut now = Instant::ZERO;
    let mut answered = answer_all(&mut fleet, now, RUNNING);
    while answered < 20 * jobs {
        now = tick(&mut fleet);
        answered += answer_all(&mut fleet, now, RUNNING);
        // One timer entry a job at most, and request time limits only for the
        // requests in flight (none: every answer came at once).
        assert!(fleet.timers.len() <= jobs, "{} timers", fleet.timers.len());
        assert_eq!(fleet.flights.len(), 0);
    }
    assert_eq!(fleet.metrics().requests, answered as u64);
}

#[test]
fn a_request_in_flight_times_out_from_the_flights_queue() {
    let profile = Arc::new(Profile::jobs());
    let mut fleet: Fleet = Fleet::new(FleetConfig::default());
    fleet
        .add(spec(&profile, 1), config(), Instant::ZERO)
        .unwrap();
    let FleetOutput::Transmit { transmit, .. } = fleet.poll_output() else {
        panic!("a request");
    };
    assert_eq!(fleet.flights.len(), 1);
    // Nothing answers: the request's time limit is the next thing due.
    let at = fleet.next_wake().unwrap();
    assert_eq!(at, Instant::ZERO + transmit.time_limit);
    fleet.handle_input(FleetInput::Tick { now: at }).unwrap();
    let outputs = drain(&mut fleet);
    assert!(
        outputs
            .iter()
            .any(|o| matches!(o, FleetOutput::Abort { request, .. } if *request == transmit.id)),
        "{outputs:?}"
    );
    assert_eq!(fleet.flights.len(), 0);
    assert_eq!(fleet.in_flight(), 0);
}

#[test]
fn the_sharing_index_follows_jobs_across_slot_chunks() {
    let profile = Arc::new(Profile::jobs());
    let mut fleet: Fleet = Fleet::new(FleetConfig::default());
    let jobs = CHUNK * 2 + 5;
    let first: Vec<_> = (0..jobs)
        .map(|n| {
            fleet
                .add(spec(&profile, n), config(), Instant::ZERO)
                .unwrap()
        })
        .collect();
    assert_eq!(fleet.slots.chunks.len(), 3);
    assert_eq!(fleet.shared.len(), jobs);
    // The same URLs again join the running jobs, in every chunk.
    for n in [0, CHUNK - 1, CHUNK, jobs - 1] {
        let again = fleet
            .add(spec(&profile, n), config(), Instant::ZERO)
            .unwrap();
        assert_eq!(again.job(), first[n].job());
        assert_eq!(fleet.subscribers(again.job()), 2);
    }
    assert_eq!(fleet.len(), jobs);
    // Once every job has ended, the index is empty and a slot is reused.
    let mut now = Instant::ZERO;
    answer_all(&mut fleet, now, RUNNING);
    while !fleet.is_empty() {
        now = tick(&mut fleet);
        answer_all(&mut fleet, now, r#"{"status":"completed"}"#);
    }
    assert_eq!(fleet.shared.len(), 0);
    let reused = fleet.add(spec(&profile, 0), config(), now).unwrap();
    assert!(reused.job().slot < fleet.slots.len());
    assert_eq!(fleet.slots.chunks.len(), 3);
}

#[test]
fn the_throttled_count_is_the_origins_held_now() {
    let mut fleet: Fleet = Fleet::new(FleetConfig::default());
    for host in ["a.test", "b.test", "c.test"] {
        let url = format!("https://{host}/jobs/1").parse().unwrap();
        fleet
            .add(JobSpec::poll_shared(url), config(), Instant::ZERO)
            .unwrap();
    }
    assert_eq!(fleet.throttled_origins(), 0);
    let now = Instant::from_micros(1_000);
    answer_with(&mut fleet, now, |transmit| {
        if transmit.url.host_str() == Some("c.test") {
            http::Response::new(Bytes::from_static(RUNNING.as_bytes()))
        } else {
            http::Response::builder()
                .status(429)
                .header("retry-after", "60")
                .body(Bytes::new())
                .unwrap()
        }
    });
    assert_eq!(fleet.throttled_origins(), 2);
    let now = now + Duration::from_secs(60);
    fleet.handle_input(FleetInput::Tick { now }).unwrap();
    assert_eq!(fleet.throttled_origins(), 0);
}

#[test]
fn an_origin_queue_gives_back_its_room_after_a_burst() {
    let profile = Arc::new(Profile::jobs());
    let mut fleet: Fleet = Fleet::new(FleetConfig {
        max_in_flight: 4,
        ..FleetConfig::default()
    });
    // Every job falls due at once: all but four wait in their origin's queue.
    let jobs = 3 * KEPT_QUEUE;
    for n in 0..jobs {
        fleet
            .add(spec(&profile, n), config(), Instant::ZERO)
            .unwrap();
    }
    assert!(fleet.origins[0].waiting.capacity() > KEPT_QUEUE);
    let mut answered = 0;
    while answered < jobs {
        answered += answer_all(&mut fleet, Instant::ZERO, RUNNING);
    }
    assert_eq!(answered, jobs);
    assert!(fleet.origins[0].waiting.is_empty());
    assert_eq!(fleet.origins[0].waiting.capacity(), 0);
    // The next burst queues again, in order.
    tick(&mut fleet);
    assert_eq!(fleet.in_flight(), 4);
    assert_eq!(fleet.origins[0].waiting.len(), jobs - 4);
}
