//! The million-job fleet of the `fleet` and `fleet_speed` benches: how it is
//! built, and the poll cycles both run.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use jobpoll_core::fleet::{Fleet, FleetConfig, FleetInput, FleetOutput};
use jobpoll_core::{Config, Instant, JobSpec, Profile, Schedule};

/// The running body of the `poll_cycle` bench (233 bytes).
const RUNNING: &str = r#"{"job_id":"job_abc123","status":"processing","type":"video_generation","created_at":"2024-01-15T10:00:00Z","completed_at":null,"progress_data":{"percentage":45,"current_step":"Generating scene 3 of 7","estimated_time_remaining":120}}"#;

/// A number from the environment (`_` allowed as a separator), or `default`.
pub(crate) fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// The status body: `JOBPOLL_FLEET_BODY=minimal` answers `{"status":"processing"}`
/// instead, to see the scheduler's own cost with almost nothing to parse.
pub(crate) fn body() -> Bytes {
    match std::env::var("JOBPOLL_FLEET_BODY").as_deref() {
        Ok("minimal") => Bytes::from_static(br#"{"status":"processing"}"#),
        _ => Bytes::from_static(RUNNING.as_bytes()),
    }
}

/// Answers every request in the fleet's outputs at once; returns how many, and
/// the fleet's next wake-up.
pub(crate) fn answer_all(
    fleet: &mut Fleet,
    now: Instant,
    body: &Bytes,
) -> (usize, Option<Instant>) {
    let mut answered = 0;
    loop {
        match fleet.poll_output() {
            FleetOutput::Transmit { job, transmit } => {
                let response = http::Response::new(body.clone());
                let request = transmit.id;
                fleet
                    .handle_input(FleetInput::Response {
                        job,
                        request,
                        response,
                        now,
                    })
                    .expect("answer");
                answered += 1;
            }
            FleetOutput::Event { event, .. } => {
                black_box(event);
            }
            FleetOutput::WakeAt(at) => return (answered, Some(at)),
            FleetOutput::Idle => return (answered, None),
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// A fleet of `jobs` jobs polled by URL (one shared configuration polling every
/// 10 s, one shared jobs profile, a distinct status URL each), each with its first
/// poll answered by `body`: every job is idle, waiting for its next poll.
pub(crate) fn idle_fleet(jobs: usize, body: &Bytes) -> Fleet {
    let config = Arc::new(Config {
        poll: Schedule::Fixed {
            interval: Duration::from_secs(10),
        },
        deadline: None,
        ..Config::standard()
    });
    let profile = Arc::new(Profile::jobs());
    let mut fleet: Fleet = Fleet::new(FleetConfig {
        max_in_flight: 1024,
        max_in_flight_per_origin: 1024,
        seed: 1,
    });
    let now = Instant::ZERO;
    for n in 0..jobs {
        // Parsed here so that the URL the job keeps is counted.
        let url = format!("https://api.example.com/api/v1/jobs/job_{n:07}")
            .parse()
            .expect("URL");
        let spec = JobSpec {
            profile: profile.clone(),
            ..JobSpec::poll_shared(url)
        };
        fleet.add(spec, config.clone(), now).expect("add");
        answer_all(&mut fleet, now, body);
    }
    assert_eq!(fleet.len(), jobs);
    assert_eq!(fleet.in_flight(), 0);
    fleet
}

/// Runs at least `cycles` poll cycles: the clock jumps from one wake-up to the
/// next, each due job sends its status request, and it is answered at once.
/// Returns the cycles run and the wall time they took.
pub(crate) fn run_cycles(fleet: &mut Fleet, cycles: usize, body: &Bytes) -> (usize, Duration) {
    let mut done = 0;
    let started = std::time::Instant::now();
    let mut wake = fleet.next_wake();
    while done < cycles {
        let Some(now) = wake else {
            break;
        };
        fleet.handle_input(FleetInput::Tick { now }).expect("tick");
        let (answered, next) = answer_all(fleet, now, body);
        done += answered;
        wake = next;
    }
    (done, started.elapsed())
}

/// Prints the cycles' rate.
pub(crate) fn report_cycles(done: usize, elapsed: Duration) {
    println!(
        "{done} poll cycles in {:.2} s: {:.0} cycles per second ({:.3} µs per cycle), one thread",
        elapsed.as_secs_f64(),
        done as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / done as f64
    );
}
