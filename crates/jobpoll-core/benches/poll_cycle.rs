//! Core cost: one full poll cycle (tick -> request -> response parsed -> wake-at).
//!
//! `cargo bench -p jobpoll-core --bench poll_cycle`
// criterion_group! generates undocumented public items.
#![allow(missing_docs)]

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use jobpoll_core::{Config, Input, Instant, Job, JobSpec, Output, Profile, Schedule};

const RUNNING: &str = r#"{"job_id":"job_abc123","status":"processing","type":"video_generation","created_at":"2024-01-15T10:00:00Z","completed_at":null,"progress_data":{"percentage":45,"current_step":"Generating scene 3 of 7","estimated_time_remaining":120}}"#;

/// Drives one cycle: wait for the wake-up, take the request, answer it, drain to the
/// next wake-up. Returns the new time.
fn cycle(job: &mut Job, now: Instant, body: &Bytes) -> Instant {
    let mut now = now;
    loop {
        match job.poll_output() {
            Output::WakeAt(at) => {
                now = at;
                job.handle_input(Input::Tick { now }).expect("tick");
            }
            Output::Transmit(request) => {
                let response = http::Response::new(body.clone());
                job.handle_input(Input::Response {
                    request: request.id,
                    response,
                    now,
                })
                .expect("answer");
                loop {
                    match job.poll_output() {
                        Output::WakeAt(_) => return now,
                        Output::Event(event) => {
                            black_box(event);
                        }
                        other => panic!("unexpected {other:?}"),
                    }
                }
            }
            Output::Event(event) => {
                black_box(event);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

fn poll_cycle(c: &mut Criterion) {
    let body = Bytes::from_static(RUNNING.as_bytes());
    let config = Config {
        poll: Schedule::Fixed {
            interval: std::time::Duration::from_secs(2),
        },
        deadline: None,
        ..Config::standard()
    };
    let url = "https://api.example.com/api/v1/jobs/job_abc123"
        .parse()
        .expect("URL");
    let spec = JobSpec::poll(Profile::jobs(), url);
    let mut job = Job::new(spec, config, Instant::ZERO).expect("job");
    let mut now = Instant::ZERO;
    c.bench_function("poll_cycle/jobs_running", |b| {
        b.iter(|| {
            now = cycle(&mut job, now, &body);
        })
    });
}

criterion_group!(benches, poll_cycle);
criterion_main!(benches);
