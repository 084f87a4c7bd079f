//! Core cost of the fleet: bytes per idle job and poll cycles per second, with a
//! million jobs on one core.
//!
//! `cargo bench -p jobpoll-core --bench fleet`
//!
//! `JOBPOLL_FLEET_JOBS` (default 1 000 000) sets the number of jobs and
//! `JOBPOLL_FLEET_CYCLES` (default 3 000 000) the number of poll cycles timed.
//!
//! 1. Memory: the jobs are added (one shared `Config`, one shared `Profile`, a
//!    distinct status URL each), their first poll is answered with a running status,
//!    and then every job is idle, waiting for its next poll. A counting allocator
//!    reports the heap bytes the fleet holds, divided by the number of jobs: that is
//!    everything the fleet keeps per job (the job, its URL, its timer entry, the
//!    sharing index, the slot), not the size of a struct.
//! 2. Speed: the clock then jumps from one wake-up to the next; each due job gets
//!    its tick, sends its status request, and the request is answered at once with
//!    the same 245-byte running body as the `poll_cycle` bench (parsed, progress
//!    event, next wake-up). Cycles per second is answered requests over wall time
//!    on this one thread. `JOBPOLL_FLEET_BODY=minimal` answers a 23-byte body
//!    instead, to see the scheduler's own cost.
#![allow(missing_docs)]

use std::alloc::System;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use jobpoll_core::fleet::{Fleet, FleetConfig, FleetOutput};
use jobpoll_core::{Config, Instant, JobSpec, Profile, Schedule};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

/// The system allocator, counting what it hands out.
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Bytes currently allocated.
fn allocated() -> usize {
    let stats = GLOBAL.stats();
    // `realloc` is already counted in both (as growth or shrinkage).
    stats
        .bytes_allocated
        .saturating_sub(stats.bytes_deallocated)
}

const RUNNING: &str = r#"{"job_id":"job_abc123","status":"processing","type":"video_generation","created_at":"2024-01-15T10:00:00Z","completed_at":null,"progress_data":{"percentage":45,"current_step":"Generating scene 3 of 7","estimated_time_remaining":120}}"#;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// Answers every request in the fleet's outputs at once; returns how many.
fn answer_all(fleet: &mut Fleet, now: Instant, body: &Bytes) -> usize {
    let mut answered = 0;
    while let Some(output) = fleet.poll_output() {
        match output {
            FleetOutput::Transmit { job, transmit } => {
                let response = http::Response::new(body.clone());
                fleet
                    .handle_response(job, transmit.id, response, now)
                    .expect("answer");
                answered += 1;
            }
            FleetOutput::Event { event, .. } => {
                black_box(event);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    answered
}

fn main() {
    // `cargo bench` passes `--bench`; filters are not used here.
    let jobs = env("JOBPOLL_FLEET_JOBS", 1_000_000);
    let cycles = env("JOBPOLL_FLEET_CYCLES", 3_000_000);
    // `JOBPOLL_FLEET_BODY=minimal` answers `{"status":"processing"}` instead: the
    // scheduler's own cost with almost nothing to parse.
    let body = match std::env::var("JOBPOLL_FLEET_BODY").as_deref() {
        Ok("minimal") => Bytes::from_static(br#"{"status":"processing"}"#),
        _ => Bytes::from_static(RUNNING.as_bytes()),
    };
    println!("status body: {} bytes", body.len());
    let config = Arc::new(Config {
        poll: Schedule::Fixed {
            interval: Duration::from_secs(10),
        },
        deadline: None,
        ..Config::standard()
    });
    let profile = Arc::new(Profile::jobs());

    let before = allocated();
    let mut fleet: Fleet = Fleet::new(FleetConfig {
        max_in_flight: 1024,
        max_in_flight_per_origin: 1024,
        seed: 1,
    });
    let started = std::time::Instant::now();
    let mut now = Instant::ZERO;
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
        answer_all(&mut fleet, now, &body);
    }
    let added = started.elapsed();
    // Every job has had its first poll answered and waits for the next.
    assert_eq!(fleet.len(), jobs);
    assert_eq!(fleet.in_flight(), 0);
    let held = allocated() - before;
    println!("jobs: {jobs}");
    println!(
        "size of one job: {} bytes (of which its spec {} bytes)",
        std::mem::size_of::<jobpoll_core::Job<Arc<Profile>>>(),
        std::mem::size_of::<JobSpec<Arc<Profile>>>()
    );
    println!(
        "added and first poll answered in {:.2} s ({:.2} µs per job)",
        added.as_secs_f64(),
        added.as_secs_f64() * 1e6 / jobs as f64
    );
    println!(
        "heap held by the fleet: {:.1} MiB = {} bytes per idle job",
        held as f64 / (1024.0 * 1024.0),
        held / jobs
    );

    let mut done = 0;
    let started = std::time::Instant::now();
    while done < cycles {
        let Some(at) = fleet.poll_timeout() else {
            break;
        };
        now = at;
        fleet.handle_timeout(now);
        done += answer_all(&mut fleet, now, &body);
    }
    let elapsed = started.elapsed();
    println!(
        "{done} poll cycles in {:.2} s: {:.0} cycles per second ({:.3} µs per cycle), one thread",
        elapsed.as_secs_f64(),
        done as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / done as f64
    );
    let held = allocated() - before;
    println!("heap held after the cycles: {} bytes per job", held / jobs);
    let metrics = fleet.metrics();
    println!("requests: {}", metrics.requests);
}
