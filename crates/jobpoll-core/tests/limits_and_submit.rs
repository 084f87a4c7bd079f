//! The limits around the classification (retry reset, consecutive errors, attempts,
//! minimum interval) and the submit rules, through a real `Job` against a
//! scripted server with realistic bodies (`docs/architecture.md`,
//! "Classification").

mod support;

use std::time::Duration;

use jobpoll_core::event::WaitLimit;
use jobpoll_core::{
    Config, Event, Instant, Jitter, Job, Outcome, PollError, Purpose, Schedule, TransportError,
};
use serde_json::json;
use support::jobs_api::{COMPLETED, PROCESSING, QUEUED, fast_run, jobs_job, submit_spec};
use support::{Reply, Run, header, run, script, within_spread};

const SECOND: Duration = Duration::from_secs(1);

// --- limits --------------------------------------------------------------------------

#[test]
fn the_retry_schedule_resets_after_a_success() {
    let run = fast_run(vec![
        Reply::status(500, "Internal Server Error"),
        Reply::status(500, "Internal Server Error"),
        Reply::ok(PROCESSING),
        Reply::status(500, "Internal Server Error"),
        Reply::ok(COMPLETED),
    ]);
    let retries: Vec<(f64, u32)> = run.retries().iter().map(|r| (r.1, r.2)).collect();
    assert_eq!(retries, vec![(2.0, 1), (3.0, 2), (2.0, 1)]);
    // Errors do not advance the poll schedule: the first poll delay is still 2 s.
    assert_eq!(run.poll_gaps(), vec![2.0]);
    assert_eq!(run.send_times(), vec![0.0, 2.0, 5.0, 7.0, 9.0]);
}

#[test]
fn max_consecutive_errors_gives_up_with_the_last_error() {
    let config = Config {
        max_consecutive_errors: Some(3),
        ..Config::fast().with_retry_jitter(Jitter::None)
    };
    let run = run(
        jobs_job(config),
        script(vec![
            Reply::status(503, "Service Unavailable"),
            Reply::fail(TransportError::Reset("connection reset by peer".into())),
            Reply::status(502, "Bad Gateway"),
        ]),
        None,
    );
    assert_eq!(run.send_times(), vec![0.0, 2.0, 5.0]);
    match run.outcome() {
        Outcome::GaveUp { last_error, stats } => {
            assert_eq!(
                *last_error,
                PollError::Status {
                    status: 502,
                    excerpt: "Bad Gateway".into()
                }
            );
            assert_eq!(stats.attempts, 3);
        }
        other => panic!("expected to give up, got {other}"),
    }
}

#[test]
fn max_attempts_times_out() {
    let config = Config {
        max_attempts: Some(3),
        ..Config::fast()
    };
    let run = run(jobs_job(config), |_, _| Reply::ok(PROCESSING), None);
    assert_eq!(run.sent.len(), 3);
    assert!(run.progress().iter().all(|p| p.max_attempts == Some(3)));
    let outcome = run.outcome();
    match outcome {
        Outcome::TimedOut {
            reason: WaitLimit::MaxAttempts { max_attempts },
            stats,
        } => {
            assert_eq!(*max_attempts, 3);
            assert_eq!(stats.attempts, 3);
        }
        other => panic!("expected max attempts, got {other}"),
    }
    let text = outcome.to_string();
    assert!(text.contains("all 3 attempts"), "{text}");
    assert!(text.contains("may still be running"), "{text}");
}

#[test]
fn min_interval_holds_against_the_schedule_and_retry_after_zero() {
    let config = Config {
        poll: Schedule::fixed(SECOND),
        retry: Schedule::fixed(Duration::from_millis(1)),
        min_interval: 5 * SECOND,
        ..Config::fast()
    };
    let run = run(
        jobs_job(config),
        script(vec![
            Reply::ok(PROCESSING).after(2 * SECOND),
            Reply::status(503, "").header("Retry-After", "0"),
            Reply::ok(PROCESSING),
            Reply::ok(COMPLETED),
        ]),
        None,
    );
    assert_eq!(run.send_times(), vec![0.0, 5.0, 10.0, 15.0]);
    // The events say the real wait, not the schedule's.
    assert_eq!(run.poll_gaps(), vec![3.0, 5.0]);
    assert_eq!(run.retries(), vec![(5.0, 5.0, 1)]);
}

// --- submit ----------------------------------------------------------------------------

#[test]
fn submit_201_starts_polling() {
    let job = Job::new(submit_spec(), Config::fast(), Instant::ZERO).expect("valid job");
    let run = run(
        job,
        script(vec![
            Reply::status(201, QUEUED),
            Reply::ok(PROCESSING),
            Reply::ok(COMPLETED),
        ]),
        None,
    );
    let submit = &run.sent[0].1;
    assert_eq!(submit.purpose, Purpose::Submit);
    assert_eq!(submit.method, http::Method::POST);
    assert_eq!(
        submit.body.as_deref(),
        Some(r#"{"prompt":"a cat surfing at sunset","duration":30}"#)
    );
    assert!(run.has_event(|e| *e
        == Event::Submitted {
            job_id: Some("job_abc123".into()),
            status_url: "https://api.example.com/api/v1/jobs/job_abc123".into(),
        }));
    let polls = run.requests(Purpose::Status);
    assert_eq!(polls.len(), 2);
    assert_eq!(
        polls[0].1.url.as_str(),
        "https://api.example.com/api/v1/jobs/job_abc123"
    );
    assert_eq!(polls[0].1.method, http::Method::GET);
    assert!(run.outcome().is_success(), "{}", run.outcome());
    assert_eq!(run.outcome().stats().job_id.as_deref(), Some("job_abc123"));
}

#[test]
fn submit_503_and_429_are_retried() {
    for code in [503, 429] {
        let job = Job::new(submit_spec(), Config::fast(), Instant::ZERO).expect("valid job");
        let run = run(
            job,
            script(vec![
                Reply::status(code, r#"{"detail":"busy"}"#).header("Retry-After", "4"),
                Reply::status(201, QUEUED),
                Reply::ok(COMPLETED),
            ]),
            None,
        );
        let submits = run.requests(Purpose::Submit);
        assert_eq!(submits.len(), 2, "{code}");
        assert!(
            within_spread(submits[1].0, 0.0, 4.0),
            "{code}: Retry-After is honoured: {}",
            submits[1].0
        );
        assert!(run.outcome().is_success(), "{code}: {}", run.outcome());
    }
}

fn assert_submit_uncertain(run: &Run, cause: &PollError) {
    assert_eq!(
        run.requests(Purpose::Submit).len(),
        1,
        "the POST is not repeated"
    );
    assert_eq!(run.sent.len(), 1);
    match run.outcome() {
        Outcome::GaveUp {
            last_error: PollError::SubmitUncertain { cause: actual },
            ..
        } => assert_eq!(actual.as_ref(), cause),
        other => panic!("expected an uncertain submit, got {other}"),
    }
    let text = run.outcome().to_string();
    assert!(text.contains("may or may not have been created"), "{text}");
}

#[test]
fn submit_500_is_uncertain_and_not_repeated() {
    let job = Job::new(submit_spec(), Config::fast(), Instant::ZERO).expect("valid job");
    let run = run(
        job,
        script(vec![Reply::status(500, "Internal Server Error")]),
        None,
    );
    assert_submit_uncertain(
        &run,
        &PollError::Status {
            status: 500,
            excerpt: "Internal Server Error".into(),
        },
    );
}

#[test]
fn submit_without_an_answer_in_time_is_uncertain_and_not_repeated() {
    // The driver reports that no answer came in time ...
    let job = Job::new(submit_spec(), Config::fast(), Instant::ZERO).expect("valid job");
    let run = run(
        job,
        script(vec![
            Reply::fail(TransportError::NoResponseInTime).after(10 * SECOND),
        ]),
        None,
    );
    assert_submit_uncertain(
        &run,
        &PollError::Transport(TransportError::NoResponseInTime),
    );
    // ... or the job enforces it by itself.
    let job = Job::new(submit_spec(), Config::fast(), Instant::ZERO).expect("valid job");
    let run = support::run(job, script(vec![Reply::Hang]), None);
    assert_submit_uncertain(
        &run,
        &PollError::Transport(TransportError::NoResponseInTime),
    );
    assert_eq!(run.aborted(), vec!["#0"]);
    assert_eq!(run.finished_at(), 10.0);
}

#[test]
fn submit_connect_error_is_retried() {
    // The request certainly did not reach the server.
    let job = Job::new(submit_spec(), Config::fast(), Instant::ZERO).expect("valid job");
    let run = run(
        job,
        script(vec![
            Reply::fail(TransportError::Connect("connection refused".into())),
            Reply::status(201, QUEUED),
            Reply::ok(COMPLETED),
        ]),
        None,
    );
    assert_eq!(run.requests(Purpose::Submit).len(), 2);
    assert!(run.outcome().is_success(), "{}", run.outcome());
}

#[test]
fn submit_with_an_idempotency_key_is_retried() {
    for first in [
        Reply::status(500, "Internal Server Error"),
        Reply::fail(TransportError::NoResponseInTime).after(10 * SECOND),
        Reply::Hang,
    ] {
        let spec = submit_spec().with_header("Idempotency-Key", "7f9c1b2e-video-42");
        let job = Job::new(spec, Config::fast(), Instant::ZERO).expect("valid job");
        let run = run(
            job,
            script(vec![
                first.clone(),
                Reply::status(201, QUEUED),
                Reply::ok(COMPLETED),
            ]),
            None,
        );
        let submits = run.requests(Purpose::Submit);
        assert_eq!(submits.len(), 2, "{first:?}");
        for (_, submit) in &submits {
            assert_eq!(header(submit, "idempotency-key"), Some("7f9c1b2e-video-42"));
        }
        assert!(run.outcome().is_success(), "{first:?}: {}", run.outcome());
    }
}

#[test]
fn submit_with_an_idempotent_method_is_retried() {
    let mut spec = submit_spec();
    if let jobpoll_core::Start::Submit { method, .. } = &mut spec.start {
        *method = http::Method::PUT;
    }
    let job = Job::new(spec, Config::fast(), Instant::ZERO).expect("valid job");
    let run = run(
        job,
        script(vec![
            Reply::status(500, "Internal Server Error"),
            Reply::status(201, QUEUED),
            Reply::ok(COMPLETED),
        ]),
        None,
    );
    assert_eq!(run.requests(Purpose::Submit).len(), 2);
    assert!(run.outcome().is_success(), "{}", run.outcome());
}

#[test]
fn submit_response_over_the_body_limit_is_uncertain_and_not_repeated() {
    let config = Config {
        max_body_bytes: 64,
        ..Config::fast()
    };
    let created = json!({
        "job_id": "job_abc123",
        "status": "queued",
        "type": "video_generation",
        "created_at": "2024-01-15T10:00:00Z",
    })
    .to_string();
    assert!(created.len() > 64);
    let job = Job::new(submit_spec(), config, Instant::ZERO).expect("valid job");
    let run = run(
        job,
        script(vec![
            Reply::status(201, &created),
            Reply::status(201, &created),
            Reply::ok(COMPLETED),
        ]),
        None,
    );
    assert_submit_uncertain(&run, &PollError::BodyTooLarge { limit: 64 });
}
