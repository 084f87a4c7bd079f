//! A `304 Not Modified` means "what you have is current": the progress event that
//! follows it repeats the last answer's status, percentage and step, with the
//! server's estimate of the remaining time counting down from when it was given,
//! and the adaptive schedule keeps using that estimate.

mod support;

use std::time::Duration;

use jobpoll_core::rng::Rng;
use jobpoll_core::schedule::{Adaptive, ScheduleInput};
use jobpoll_core::{Config, Instant, Job, JobSpec, Output, Profile, Schedule, Snapshot};
use support::{Reply, api, header, run, script};

/// A running `jobs` answer: 40 %, a step and two minutes to go.
const RUNNING: &str = r#"{"job_id":"j-1","status":"processing","progress_data":{"percentage":40,"current_step":"render","estimated_time_remaining":120}}"#;
const COMPLETED: &str = r#"{"job_id":"j-1","status":"completed","result_data":{"ok":true}}"#;

fn spec() -> JobSpec {
    JobSpec::poll(Profile::jobs(), api("/api/v1/jobs/j-1")).with_job_id("j-1")
}

#[test]
fn a_304_repeats_the_last_progress_step_and_eta() {
    // Polls at 0, 2 and 5 s (2 s x1.5).
    let run = run(
        Job::new(spec(), Config::fast(), Instant::ZERO).expect("valid"),
        script(vec![
            Reply::ok(RUNNING).header("ETag", "\"v1\""),
            Reply::status(304, "").header("ETag", "\"v1\""),
            Reply::status(304, ""),
            Reply::ok(COMPLETED),
        ]),
        None,
    );
    let statuses = run.requests(jobpoll_core::Purpose::Status);
    assert_eq!(header(statuses[1].1, "if-none-match"), Some("\"v1\""));
    let progress = run.progress();
    assert_eq!(progress.len(), 3, "{}", run.text());
    for (i, p) in progress.iter().enumerate() {
        assert_eq!(p.status, "processing", "progress {i}");
        assert_eq!(p.percentage, Some(40.0), "progress {i}: {}", run.text());
        assert_eq!(p.step.as_deref(), Some("render"), "progress {i}");
    }
    // The estimate was given at 0 s: 2 s and 5 s later, 118 s and 115 s remain.
    let etas: Vec<Option<Duration>> = progress.iter().map(|p| p.eta).collect();
    assert_eq!(
        etas,
        [120, 118, 115].map(|s| Some(Duration::from_secs(s))),
        "{}",
        run.text()
    );
    assert!(run.outcome().is_success(), "{}", run.outcome());
}

#[test]
fn the_adaptive_schedule_keeps_the_servers_eta_through_a_304() {
    let adaptive = Schedule::adaptive(Adaptive::standard());
    let config = Config {
        poll: adaptive.clone(),
        deadline: None,
        ..Config::fast()
    };
    let run = run(
        Job::new(spec(), config, Instant::ZERO).expect("valid"),
        script(vec![
            Reply::ok(RUNNING).header("ETag", "\"v1\""),
            Reply::status(304, "").header("ETag", "\"v1\""),
            Reply::ok(COMPLETED),
        ]),
        None,
    );
    let sent = run.send_times();
    assert_eq!(sent.len(), 3, "{}", run.text());
    // What the schedule gives with the estimate counted down to the 304's arrival.
    let at_304 = Duration::from_secs_f64(sent[1]);
    let expected = adaptive.next_delay(
        &ScheduleInput {
            attempt: 2,
            elapsed: at_304,
            previous: None,
            remaining_estimate: Some(Duration::from_secs(120) - at_304),
        },
        &mut Rng::new(0),
    );
    let gaps = run.poll_gaps();
    assert_eq!(
        gaps[1],
        expected.as_secs_f64(),
        "the poll after the 304 is placed by the server's estimate: {}",
        run.text()
    );
    assert_eq!(sent[2] - sent[1], expected.as_secs_f64());
}

#[test]
fn the_report_behind_an_etag_survives_a_snapshot() {
    let mut job = Job::new(spec(), Config::fast(), Instant::ZERO).expect("valid");
    let Output::Transmit(first) = job.poll_output() else {
        panic!("the first poll goes out at once")
    };
    let response = http::Response::builder()
        .header("ETag", "\"v1\"")
        .body(bytes::Bytes::from_static(RUNNING.as_bytes()))
        .expect("valid");
    job.handle_input(jobpoll_core::Input::Response {
        request: first.id,
        response,
        now: Instant::ZERO,
    })
    .expect("answer");
    while !matches!(job.poll_output(), Output::WakeAt(_)) {}
    let json = serde_json::to_string(&job.snapshot()).expect("serializes");
    assert!(json.contains("\"etag_report\""), "{json}");
    let snapshot: Snapshot = serde_json::from_str(&json).expect("reads back");
    let restored = Job::restore(snapshot).expect("restores");
    assert_eq!(
        serde_json::to_string(&restored.snapshot()).expect("serializes"),
        json
    );
    for mut job in [job, restored] {
        let now = Instant::from_secs(2);
        job.handle_input(jobpoll_core::Input::Tick { now })
            .expect("tick");
        let Output::Transmit(poll) = job.poll_output() else {
            panic!("the second poll goes out at 2 s")
        };
        job.handle_input(jobpoll_core::Input::Response {
            request: poll.id,
            response: http::Response::builder()
                .status(304)
                .body(bytes::Bytes::new())
                .expect("valid"),
            now,
        })
        .expect("answer");
        let Output::Event(jobpoll_core::Event::Progress(progress)) = job.poll_output() else {
            panic!("progress after the 304")
        };
        assert_eq!(progress.percentage, Some(40.0));
        assert_eq!(progress.step.as_deref(), Some("render"));
        assert_eq!(progress.eta, Some(Duration::from_secs(118)));
    }
}
