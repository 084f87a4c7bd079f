//! The classification of what came back (`docs/architecture.md`, "Classification"), row by row, through a real
//! `Job` against a scripted server with realistic bodies; then the driver
//! contract. The limits and the submit rules are in `limits_and_submit.rs`.

mod support;

use std::time::Duration;

use bytes::Bytes;
use jobpoll_core::event::{CancelledBy, WaitLimit};
use jobpoll_core::profile::InterpretError;
use jobpoll_core::{
    Config, Event, Input, InputError, Instant, Job, JobSpec, Outcome, Output, PollError, Profile,
    Purpose, RequestId, Schedule, TransportError,
};
use serde_json::json;
use support::jobs_api::{COMPLETED, PROCESSING, QUEUED, fast_run, jobs_job, submit_spec};
use support::{Reply, api, header, run, script, within_spread};

const SECOND: Duration = Duration::from_secs(1);

// --- 2xx --------------------------------------------------------------------------------

#[test]
fn running_2xx_follows_the_poll_schedule() {
    let run = fast_run(vec![
        Reply::ok(r#"{"job_id":"job_abc123","status":"queued","type":"video_generation"}"#),
        Reply::status(202, PROCESSING),
        Reply::ok(PROCESSING),
        Reply::ok(COMPLETED),
    ]);
    assert_eq!(run.send_times(), vec![0.0, 2.0, 5.0, 9.5]);
    assert_eq!(run.poll_gaps(), vec![2.0, 3.0, 4.5]);
    assert!(run.retries().is_empty());
    let progress = run.progress();
    assert_eq!(progress[0].status, "queued");
    assert_eq!(progress[1].status, "processing");
    assert_eq!(progress[1].percentage, Some(45.0));
    assert_eq!(progress[1].step.as_deref(), Some("Generating scene 3 of 7"));
    assert_eq!(progress[1].eta, Some(120 * SECOND));
    assert_eq!(progress[1].elapsed, 2 * SECOND);
    assert_eq!(progress[1].attempt, 2);
    let changes: Vec<(Option<String>, String)> = run
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::StatusChanged { from, to } => Some((from.clone(), to.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        changes,
        vec![
            (None, "queued".to_owned()),
            (Some("queued".to_owned()), "processing".to_owned()),
            (Some("processing".to_owned()), "completed".to_owned()),
        ]
    );
}

#[test]
fn succeeded_2xx_finishes_with_the_result() {
    let run = fast_run(vec![Reply::ok(COMPLETED)]);
    match run.outcome() {
        Outcome::Succeeded {
            result,
            results,
            results_error,
            stats,
        } => {
            assert_eq!(
                result.as_ref(),
                Some(&json!({"video_url": "https://cdn.example/v/abc123.mp4", "duration": 30}))
            );
            assert_eq!(*results, None, "the jobs API has no results step");
            assert_eq!(*results_error, None);
            assert_eq!(stats.attempts, 1);
            assert_eq!(stats.last_status.as_deref(), Some("completed"));
        }
        other => panic!("expected success, got {other}"),
    }
}

#[test]
fn failed_2xx_finishes_with_the_server_message() {
    let run = fast_run(vec![
        Reply::ok(PROCESSING),
        Reply::ok(
            r#"{"job_id":"job_abc123","status":"failed","error_data":{"message":"GPU out of memory while rendering scene 4","details":{"scene":4,"code":"OOM"}}}"#,
        ),
    ]);
    let outcome = run.outcome();
    match outcome {
        Outcome::Failed {
            message, details, ..
        } => {
            assert_eq!(message, "GPU out of memory while rendering scene 4");
            assert_eq!(details.as_ref(), Some(&json!({"scene": 4, "code": "OOM"})));
        }
        other => panic!("expected failure, got {other}"),
    }
    assert!(
        outcome
            .to_string()
            .contains("GPU out of memory while rendering scene 4")
    );
    assert!(run.retries().is_empty(), "a job failure is not retried");
}

#[test]
fn cancelled_2xx_finishes_as_cancelled_by_the_server() {
    let run = fast_run(vec![
        Reply::ok(PROCESSING),
        Reply::ok(
            r#"{"job_id":"job_abc123","status":"cancelled","error_data":{"message":"cancelled by an administrator"}}"#,
        ),
    ]);
    assert!(
        matches!(
            run.outcome(),
            Outcome::Cancelled {
                by: CancelledBy::Server,
                ..
            }
        ),
        "{}",
        run.outcome()
    );
    assert!(
        run.outcome()
            .to_string()
            .contains("cancelled on the server")
    );
}

// --- 304 -------------------------------------------------------------------------------

#[test]
fn not_modified_keeps_polling_on_the_poll_schedule() {
    let run = fast_run(vec![
        Reply::ok(PROCESSING).header("ETag", "\"v1\""),
        Reply::status(304, "").header("ETag", "\"v1\""),
        Reply::status(304, ""),
        Reply::ok(COMPLETED),
    ]);
    let statuses = run.requests(Purpose::Status);
    assert_eq!(header(statuses[0].1, "if-none-match"), None);
    for (_, request) in &statuses[1..] {
        assert_eq!(header(request, "if-none-match"), Some("\"v1\""));
    }
    assert_eq!(run.send_times(), vec![0.0, 2.0, 5.0, 9.5]);
    assert_eq!(run.poll_gaps(), vec![2.0, 3.0, 4.5]);
    assert!(run.retries().is_empty());
    let progress = run.progress();
    assert_eq!(
        progress[1].status, "processing",
        "304 keeps the last status"
    );
    assert_eq!(progress[2].status, "processing");
    assert!(run.outcome().is_success(), "{}", run.outcome());
}

#[test]
fn conditional_requests_can_be_turned_off() {
    let config = Config {
        conditional_requests: false,
        ..Config::fast()
    };
    let run = run(
        jobs_job(config),
        script(vec![
            Reply::ok(PROCESSING).header("ETag", "\"v1\""),
            Reply::ok(COMPLETED),
        ]),
        None,
    );
    assert!(
        run.sent
            .iter()
            .all(|(_, t)| header(t, "if-none-match").is_none())
    );
}

// --- 401, 403 ------------------------------------------------------------------------

#[test]
fn unauthorized_and_forbidden_finish_without_retry() {
    for (code, body) in [
        (401, r#"{"detail":"Could not validate credentials"}"#),
        (
            403,
            r#"{"detail":"Not enough permissions for job job_abc123"}"#,
        ),
    ] {
        let run = fast_run(vec![Reply::ok(PROCESSING), Reply::status(code, body)]);
        assert_eq!(run.sent.len(), 2, "{code}");
        match run.outcome() {
            Outcome::Unauthorized {
                status, message, ..
            } => {
                assert_eq!(*status, code);
                assert_eq!(message, body);
            }
            other => panic!("{code}: expected unauthorized, got {other}"),
        }
    }
}

// --- 404 -------------------------------------------------------------------------------

#[test]
fn not_found_after_the_grace_period_finishes() {
    let config = Config {
        poll: Schedule::fixed(2 * SECOND),
        not_found_grace: 5 * SECOND,
        ..Config::fast()
    };
    let run = run(
        jobs_job(config),
        |_, _| Reply::status(404, r#"{"detail":"Job job_abc123 not found"}"#),
        None,
    );
    // 0, 2 and 4 s are inside the grace; the poll after 4 s comes when the grace
    // ends, at 5 s, and its 404 is final.
    assert_eq!(run.send_times(), vec![0.0, 2.0, 4.0, 5.0]);
    assert!(run.retries().is_empty());
    assert!(
        matches!(run.outcome(), Outcome::NotFound { .. }),
        "{}",
        run.outcome()
    );
    assert_eq!(run.finished_at(), 5.0);
    assert!(run.outcome().to_string().contains("not found"));
}

/// A schedule whose next poll is far off (the adaptive one waits 9 s after the
/// first poll) still polls when the grace ends: the job is reported not found
/// after the grace it was given, not after the schedule's gap.
#[test]
fn a_job_that_never_appears_is_reported_when_the_grace_ends() {
    let config = Config {
        poll: Schedule::adaptive(jobpoll_core::schedule::Adaptive::standard()),
        not_found_grace: 2 * SECOND,
        ..Config::standard()
    };
    let run = run(
        jobs_job(config),
        |_, _| Reply::status(404, r#"{"detail":"not found"}"#),
        None,
    );
    assert_eq!(run.send_times(), vec![0.0, 2.0]);
    assert!(
        matches!(run.outcome(), Outcome::NotFound { .. }),
        "{}",
        run.outcome()
    );
    assert_eq!(run.finished_at(), 2.0);
}

#[test]
fn not_found_for_file_tasks_never_ends_the_job_early() {
    let spec = JobSpec::poll(Profile::file_tasks(), api("/api/file/f1"));
    let config = Config::progressive();
    let job = Job::new(spec, config.clone(), Instant::ZERO).expect("valid job");
    let run = run(
        job,
        |_, now| {
            if now < Instant::from_secs(90) {
                Reply::status(404, r#"{"detail":"File not found"}"#)
            } else {
                Reply::ok(
                    r#"{"id":"f1","url":"https://cdn.example/f1.mp4","contentType":"video/mp4","tasks":[{"id":"t1","status":"completed"}]}"#,
                )
            }
        },
        None,
    );
    assert!(run.finished_at() >= 90.0);
    assert!(run.outcome().is_success(), "{}", run.outcome());
    assert!(run.retries().is_empty(), "a pending 404 is not an error");

    // A file that never appears: the deadline ends the wait, not a 404.
    let spec = JobSpec::poll(Profile::file_tasks(), api("/api/file/f2"));
    let job = Job::new(spec, config, Instant::ZERO).expect("valid job");
    let run = support::run(
        job,
        |_, _| Reply::status(404, r#"{"detail":"File not found"}"#),
        None,
    );
    assert!(
        matches!(
            run.outcome(),
            Outcome::TimedOut {
                reason: WaitLimit::Deadline { .. },
                ..
            }
        ),
        "{}",
        run.outcome()
    );
    assert_eq!(run.finished_at(), 420.0);
}

#[test]
fn not_found_grace_starts_when_the_submit_is_accepted() {
    let job = Job::new(submit_spec(), Config::fast(), Instant::ZERO).expect("valid job");
    let run = run(
        job,
        script(vec![
            Reply::status(503, r#"{"detail":"busy"}"#).header("Retry-After", "40"),
            Reply::status(201, QUEUED),
            // The job was created a moment ago; the read replica does not have it yet.
            Reply::status(404, r#"{"detail":"Job job_abc123 not found"}"#),
            Reply::ok(COMPLETED),
        ]),
        None,
    );
    // The submit goes again when the 503's wait is over (40 s, plus a spread of
    // less than 4 s); the first poll goes at once after it.
    let first_poll = run.requests(Purpose::Status)[0].0;
    assert!(within_spread(first_poll, 0.0, 40.0), "{first_poll}");
    assert!(run.outcome().is_success(), "{}", run.outcome());
}

// --- 408, 425, 429, 5xx -------------------------------------------------------------

#[test]
fn retryable_statuses_use_the_retry_schedule() {
    for code in [408, 425, 429, 500, 502, 503, 504] {
        let body = format!(r#"{{"detail":"upstream said {code}"}}"#);
        let run = fast_run(vec![Reply::status(code, &body), Reply::ok(COMPLETED)]);
        assert_eq!(run.retries(), vec![(0.0, 2.0, 1)], "{code}");
        assert_eq!(
            run.retry_causes(),
            vec![&PollError::Status {
                status: code,
                excerpt: body.clone()
            }],
            "{code}"
        );
        assert_eq!(run.send_times(), vec![0.0, 2.0], "{code}");
        assert!(run.outcome().is_success(), "{code}: {}", run.outcome());
    }
}

#[test]
fn retryable_statuses_honour_retry_after() {
    for code in [408, 425, 429, 500, 502, 503, 504] {
        let run = fast_run(vec![
            Reply::status(code, "").header("Retry-After", "5"),
            Reply::ok(COMPLETED),
        ]);
        let [(0.0, delay, counted)] = run.retries()[..] else {
            panic!("{code}: {:?}", run.retries());
        };
        // A 429 or 503 with a wait is the server pacing us: not an error.
        let expected = if matches!(code, 429 | 503) { 0 } else { 1 };
        assert_eq!(counted, expected, "{code}");
        assert!(within_spread(delay, 0.0, 5.0), "{code}: {delay}");
        assert_eq!(run.send_times(), vec![0.0, delay], "{code}");
    }
    // The server's wait is the wait: a shorter one than the schedule's shortens
    // the retry delay (2 s here) to it.
    let run = fast_run(vec![
        Reply::status(503, "").header("Retry-After", "1"),
        Reply::ok(COMPLETED),
    ]);
    assert!(
        within_spread(run.send_times()[1], 0.0, 1.0),
        "{:?}",
        run.send_times()
    );
    // retry-after-ms counts too.
    let run = fast_run(vec![
        Reply::status(429, "").header("retry-after-ms", "7500"),
        Reply::ok(COMPLETED),
    ]);
    assert!(
        within_spread(run.send_times()[1], 0.0, 7.5),
        "{:?}",
        run.send_times()
    );
}

/// Clients told to wait together do not come back together: the spread above
/// the server's wait is drawn from each job's own seed.
#[test]
fn jobs_told_the_same_wait_come_back_at_different_instants() {
    let mut seconds = Vec::new();
    for seed in 0..20 {
        let config = Config {
            seed,
            ..Config::standard()
        };
        let run = run(
            jobs_job(config),
            script(vec![
                Reply::status(429, "").header("Retry-After", "2"),
                Reply::ok(COMPLETED),
            ]),
            None,
        );
        let again = run.send_times()[1];
        // The standard retry schedule would wait 15 to 30 s: the server's 2 s win.
        assert!(within_spread(again, 0.0, 2.0), "seed {seed}: {again}");
        seconds.push(again);
    }
    seconds.sort_by(f64::total_cmp);
    seconds.dedup();
    assert_eq!(seconds.len(), 20, "{seconds:?}");
}

#[test]
fn unexpected_redirect_is_retried_like_an_error() {
    let run = fast_run(vec![
        Reply::status(302, "").header("Location", "/login"),
        Reply::ok(COMPLETED),
    ]);
    assert_eq!(run.retries(), vec![(0.0, 2.0, 1)]);
    assert!(run.outcome().is_success(), "{}", run.outcome());
}

// --- other 4xx -----------------------------------------------------------------------

#[test]
fn other_client_errors_are_rejected_with_the_body_excerpt() {
    for (code, body) in [
        (400, r#"{"detail":"Invalid job id format"}"#),
        (
            409,
            r#"{"detail":"Job job_abc123 belongs to another workspace"}"#,
        ),
        (
            422,
            r#"{"detail":[{"loc":["path","job_id"],"msg":"string too long","type":"value_error"}]}"#,
        ),
        (501, "Not Implemented"),
    ] {
        let run = fast_run(vec![Reply::status(code, body)]);
        assert_eq!(run.sent.len(), 1, "{code}");
        match run.outcome() {
            Outcome::Rejected {
                status, message, ..
            } => {
                assert_eq!(*status, code);
                assert_eq!(message, body);
            }
            other => panic!("{code}: expected rejected, got {other}"),
        }
        assert!(run.outcome().to_string().contains(body), "{code}");
    }
    // The excerpt is short and safe: at most 200 characters, no control characters.
    let long = format!(
        "{{\"detail\":\"bad\nrequest\",\"trace\":\"{}\"}}",
        "x".repeat(5000)
    );
    let run = fast_run(vec![Reply::status(400, &long)]);
    match run.outcome() {
        Outcome::Rejected { message, .. } => {
            assert!(message.chars().count() <= 201, "{}", message.len());
            assert!(
                message.starts_with("{\"detail\":\"bad request\""),
                "{message}"
            );
            assert!(message.ends_with('…'));
        }
        other => panic!("expected rejected, got {other}"),
    }
}

// --- transport errors ----------------------------------------------------------------

#[test]
fn transport_errors_are_retried() {
    for error in [
        TransportError::Connect("connection refused".into()),
        TransportError::NoResponseInTime,
        TransportError::Reset("connection reset by peer".into()),
        TransportError::BodyTooLarge(1 << 20),
        TransportError::Other("dns failure".into()),
    ] {
        let run = fast_run(vec![
            Reply::fail(error.clone()).after(SECOND),
            Reply::ok(COMPLETED),
        ]);
        assert_eq!(run.retries(), vec![(1.0, 2.0, 1)], "{error}");
        assert_eq!(
            run.retry_causes(),
            vec![&PollError::Transport(error.clone())]
        );
        assert_eq!(run.send_times(), vec![0.0, 3.0], "{error}");
        assert!(run.outcome().is_success(), "{error}: {}", run.outcome());
    }
}

// --- bodies that cannot be read ------------------------------------------------------

#[test]
fn a_body_that_does_not_parse_is_retried_then_gives_up_quoting_an_excerpt() {
    let html = format!(
        "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>{}</body></html>",
        "<p>nginx</p>".repeat(500)
    );
    let run = run(jobs_job(Config::fast()), |_, _| Reply::ok(&html), None);
    let config = Config::fast();
    assert_eq!(config.max_unreadable, 3);
    assert_eq!(run.sent.len(), 3);
    assert_eq!(run.retries().len(), 2);
    let outcome = run.outcome();
    match outcome {
        Outcome::GaveUp {
            last_error: PollError::Unreadable(InterpretError::NotJson { excerpt, .. }),
            ..
        } => {
            assert!(excerpt.starts_with("<!DOCTYPE html><html>"), "{excerpt}");
            assert!(excerpt.chars().count() <= 201);
        }
        other => panic!("expected to give up on an unreadable body, got {other}"),
    }
    let text = outcome.to_string();
    assert!(text.contains("502 Bad Gateway"), "{text}");
    assert!(
        text.len() < 400,
        "the message quotes only an excerpt: {text}"
    );
}

#[test]
fn an_unknown_status_value_is_retried_then_gives_up() {
    let run = run(
        jobs_job(Config::fast()),
        |_, _| Reply::ok(r#"{"job_id":"job_abc123","status":"exploded"}"#),
        None,
    );
    assert_eq!(run.sent.len(), 3);
    match run.outcome() {
        Outcome::GaveUp {
            last_error: PollError::Unreadable(InterpretError::UnknownStatus { value }),
            ..
        } => assert_eq!(value, "exploded"),
        other => panic!("expected to give up on an unknown status, got {other}"),
    }
    assert!(run.outcome().to_string().contains("\"exploded\""));
}

#[test]
fn unreadable_bodies_must_come_in_a_row_to_give_up() {
    let garbled = r#"{"job_id":"job_abc123","status":"processing""#;
    let run = fast_run(vec![
        Reply::ok(garbled),
        Reply::ok(garbled),
        Reply::ok(PROCESSING),
        Reply::ok(garbled),
        Reply::ok(garbled),
        Reply::ok(COMPLETED),
    ]);
    assert!(run.outcome().is_success(), "{}", run.outcome());
    let errors_in_a_row: Vec<u32> = run.retries().iter().map(|r| r.2).collect();
    assert_eq!(errors_in_a_row, vec![1, 2, 1, 2]);
}

#[test]
fn a_body_larger_than_the_limit_is_an_error() {
    let config = Config {
        max_body_bytes: 256,
        ..Config::fast()
    };
    let big = json!({
        "job_id": "job_abc123",
        "status": "processing",
        "logs": "frame rendered\n".repeat(100),
    })
    .to_string();
    assert!(big.len() > 256);
    let run = run(
        jobs_job(config),
        script(vec![Reply::ok(&big), Reply::ok(COMPLETED)]),
        None,
    );
    assert_eq!(
        run.retry_causes(),
        vec![&PollError::BodyTooLarge { limit: 256 }]
    );
    assert!(run.outcome().is_success(), "{}", run.outcome());
}

#[test]
fn an_oversized_error_response_still_honours_retry_after() {
    let config = Config {
        max_body_bytes: 512,
        ..Config::fast()
    };
    assert!(COMPLETED.len() <= 512);
    let html = format!(
        "<html><body><h1>429 Too Many Requests</h1>{}</body></html>",
        "<p>Please retry later.</p>".repeat(40)
    );
    let run = run(
        jobs_job(config),
        script(vec![
            Reply::status(429, &html).header("Retry-After", "10"),
            Reply::ok(COMPLETED),
        ]),
        None,
    );
    let times = run.send_times();
    assert!(
        times.len() == 2 && within_spread(times[1], 0.0, 10.0),
        "{times:?}"
    );
}

// --- the driver contract -------------------------------------------------------------

/// A fresh jobs job with its first request drained: returns the job and that request.
fn job_with_request_in_flight() -> (Job, RequestId) {
    let mut job = jobs_job(Config::fast());
    let Output::Transmit(transmit) = job.poll_output() else {
        panic!("the first output is the first poll");
    };
    assert_eq!(
        job.poll_output(),
        Output::WakeAt(Instant::from_secs(10)),
        "then the request time limit"
    );
    (job, transmit.id)
}

fn response(body: &str) -> http::Response<Bytes> {
    http::Response::new(Bytes::from(body.to_owned()))
}

#[test]
fn an_answer_to_an_unknown_request_is_an_input_error_and_changes_nothing() {
    let (mut job, id) = job_with_request_in_flight();
    let before = job.clone();
    let stray = RequestId(id.0 + 1);
    let now = Instant::ZERO;
    assert_eq!(
        job.handle_input(Input::Response {
            request: stray,
            response: response(COMPLETED),
            now
        }),
        Err(InputError::UnknownRequest(stray))
    );
    assert_eq!(
        job.handle_input(Input::TransportError {
            request: stray,
            error: TransportError::NoResponseInTime,
            now
        }),
        Err(InputError::UnknownRequest(stray))
    );
    assert_eq!(job, before);
    assert_eq!(job.poll_output(), Output::WakeAt(Instant::from_secs(10)));

    // The real answer still works, and a second answer to it is refused.
    job.handle_input(Input::Response {
        request: id,
        response: response(PROCESSING),
        now,
    })
    .expect("the answer to the request in flight");
    while !matches!(job.poll_output(), Output::WakeAt(_)) {}
    let before = job.clone();
    assert_eq!(
        job.handle_input(Input::Response {
            request: id,
            response: response(COMPLETED),
            now
        }),
        Err(InputError::UnknownRequest(id))
    );
    assert_eq!(job, before);
}

#[test]
fn an_answer_to_an_aborted_request_is_an_input_error() {
    let (mut job, id) = job_with_request_in_flight();
    // The request outlives its time limit: the job aborts it and schedules a retry.
    job.handle_input(Input::Tick {
        now: Instant::from_secs(10),
    })
    .expect("tick");
    assert_eq!(job.poll_output(), Output::Abort(id));
    while !matches!(job.poll_output(), Output::WakeAt(_)) {}
    let before = job.clone();
    assert_eq!(
        job.handle_input(Input::Response {
            request: id,
            response: response(COMPLETED),
            now: Instant::from_secs(10)
        }),
        Err(InputError::UnknownRequest(id))
    );
    assert_eq!(job, before);
}

#[test]
fn a_late_answer_to_an_unknown_request_changes_nothing() {
    let (mut job, id) = job_with_request_in_flight();
    let before = job.clone();
    let stray = RequestId(id.0 + 1);
    assert_eq!(
        job.handle_input(Input::Response {
            request: stray,
            response: response(COMPLETED),
            now: Instant::from_secs(400),
        }),
        Err(InputError::UnknownRequest(stray))
    );
    assert_eq!(job.stats().elapsed, Duration::ZERO);
    assert_eq!(job, before);
    // Consequence: the refused input moved the clock past the 5-minute deadline, so
    // the next ordinary input ends the job.
    job.handle_input(Input::Response {
        request: id,
        response: response(PROCESSING),
        now: Instant::from_secs(1),
    })
    .expect("the answer to the request in flight");
    assert!(!job.is_finished());
}

/// A server that keeps answering "429, come back in 1 s" is pacing its clients:
/// the job waits as told for as long as its deadline allows, and the answers do
/// not add up to the error limit that ends a job whose server keeps failing.
#[test]
fn a_long_run_of_paced_429s_is_waited_out_but_as_many_500s_give_up() {
    let limit = 5;
    let config = Config {
        max_consecutive_errors: Some(limit),
        ..Config::fast().with_retry_jitter(jobpoll_core::Jitter::None)
    };
    let storm = |code: u16, header: bool| {
        let mut replies: Vec<Reply> = (0..limit + 5)
            .map(|_| {
                let reply = Reply::status(code, "slow down");
                if header {
                    reply.header("Retry-After", "1")
                } else {
                    reply
                }
            })
            .collect();
        replies.push(Reply::ok(COMPLETED));
        run(jobs_job(config.clone()), script(replies), None)
    };
    for code in [429, 503] {
        let paced = storm(code, true);
        assert!(paced.outcome().is_success(), "{code}: {}", paced.outcome());
        assert_eq!(
            paced.sent.len(),
            usize::try_from(limit).unwrap() + 6,
            "{code}"
        );
        let unpaced = storm(code, false);
        assert!(
            matches!(unpaced.outcome(), Outcome::GaveUp { .. }),
            "{code} without a wait: {}",
            unpaced.outcome()
        );
    }
    let failing = storm(500, true);
    assert!(
        matches!(failing.outcome(), Outcome::GaveUp { .. }),
        "a failing server: {}",
        failing.outcome()
    );
}
