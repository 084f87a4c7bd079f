//! Canonical runs, snapshotted one line per input and output (read the `.snap`
//! files in `snapshots/` as the specification of each scenario). Each test also
//! asserts the key facts, so it fails on meaning and not only on text.

mod support;

use std::time::Duration;

use jobpoll_core::event::{CancelledBy, WaitLimit};
use jobpoll_core::hints::HintSource;
use jobpoll_core::{
    Config, Event, Instant, Jitter, Job, JobSpec, Outcome, PollError, Profile, Purpose, Schedule,
    TransportError,
};
use serde_json::json;
use support::{Reply, api, cancelled_by_client, run, script, within_spread};

fn url(path: &str) -> url::Url {
    api(path)
}

const SECOND: Duration = Duration::from_secs(1);

#[test]
fn standard_backoff_until_timeout() {
    let spec = JobSpec::poll(
        Profile::codegen(),
        url("/api/v1/public/graph/codegen/job-1/status"),
    )
    .with_job_id("job-1");
    let job = Job::new(spec, Config::standard(), Instant::ZERO).expect("valid job");
    let run = run(
        job,
        |_, _| Reply::ok(r#"{"jobId":"job-1","status":"running"}"#),
        None,
    );
    let gaps: Vec<f64> = run.send_times().windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(
        &gaps[..7],
        &[30.0, 45.0, 67.5, 101.25, 151.875, 227.8125, 300.0]
    );
    insta::assert_snapshot!(run.text());
}

// --- the progressive preset with a 429 in the middle -------------------------

#[test]
fn progressive_with_retry_after_in_the_middle() {
    let spec = JobSpec::poll(Profile::file_tasks(), url("/api/file/f1"));
    let job = Job::new(spec, Config::progressive(), Instant::ZERO).expect("valid job");
    let pending = r#"{"id":"f1","url":null,"tasks":[{"id":"t1","status":"in_progress"}]}"#;
    let ready = r#"{"id":"f1","url":"https://cdn.example/f1.png","contentType":"image/png","tasks":[{"id":"t1","status":"completed"}]}"#;
    let run = run(
        job,
        script(vec![
            Reply::ok(pending),
            Reply::ok(pending),
            Reply::status(429, r#"{"error":"Too Many Requests"}"#)
                .header("Retry-After", "7")
                .after(Duration::from_millis(500)),
            Reply::ok(pending),
            Reply::ok(pending),
            Reply::ok(pending),
            Reply::ok(pending),
            Reply::ok(pending),
            Reply::ok(ready),
        ]),
        None,
    );

    let times = run.send_times();
    // The 429 answers the third request 0.5 s after it went out; Retry-After counts
    // from its arrival.
    let arrived = times[2] + 0.5;
    assert!(within_spread(times[3], arrived, 7.0), "{times:?}");
    assert_eq!(times[..3], [0.0, 1.0, 2.0]);
    // The poll schedule is not disturbed by the error: 1 s x5, then 2 s.
    assert_eq!(run.poll_gaps(), vec![1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0]);
    // A 429 with a wait is the server pacing: not counted as an error.
    let [(at, delay, 0)] = run.retries()[..] else {
        panic!("{:?}", run.retries());
    };
    assert_eq!(at, 2.5);
    assert!((delay - (times[3] - arrived)).abs() < 1e-6, "{delay}");
    match run.outcome() {
        Outcome::Succeeded { result, .. } => {
            let result = result.as_ref().expect("the file body is the result");
            assert_eq!(result["url"], "https://cdn.example/f1.png");
        }
        other => panic!("expected success, got {other}"),
    }
    insta::assert_snapshot!(run.text());
}

// --- credentials ----------------------------------------------------------------------

#[test]
fn unauthorized_stops_at_once() {
    let spec = JobSpec::poll(Profile::jobs(), url("/api/v1/jobs/job_1"))
        .with_header("Authorization", "Bearer expired-token");
    let job = Job::new(spec, Config::standard(), Instant::ZERO).expect("valid job");
    let run = run(
        job,
        script(vec![Reply::status(
            401,
            r#"{"detail":"Token has expired"}"#,
        )]),
        None,
    );
    assert_eq!(run.sent.len(), 1);
    match run.outcome() {
        Outcome::Unauthorized {
            status, message, ..
        } => {
            assert_eq!(*status, 401);
            assert!(message.contains("Token has expired"), "{message}");
        }
        other => panic!("expected unauthorized, got {other}"),
    }
    assert_eq!(run.finished_at(), 0.0);
    insta::assert_snapshot!(run.text());
}

// --- 404 while the job is not visible yet -------------------------------------------

#[test]
fn not_found_during_grace_then_success() {
    let spec = JobSpec::poll(Profile::jobs(), url("/api/v1/jobs/job_7")).with_job_id("job_7");
    let config = Config::fast();
    assert_eq!(config.not_found_grace, 30 * SECOND);
    let job = Job::new(spec, config, Instant::ZERO).expect("valid job");
    let run = run(
        job,
        script(vec![
            Reply::status(404, r#"{"detail":"Job not found"}"#),
            Reply::status(404, r#"{"detail":"Job not found"}"#),
            Reply::ok(
                r#"{"job_id":"job_7","status":"processing","type":"ad_generation","progress_data":{"percentage":40,"current_step":"Rendering","estimated_time_remaining":6}}"#,
            ),
            Reply::ok(
                r#"{"job_id":"job_7","status":"completed","type":"ad_generation","progress_data":{"percentage":100},"result_data":{"ads":[{"id":"ad-1","headline":"Fresh coffee"}]}}"#,
            ),
        ]),
        None,
    );
    // 404s inside the grace period keep the poll schedule (2 s, 3 s) and no retry.
    assert_eq!(run.send_times(), vec![0.0, 2.0, 5.0, 9.5]);
    assert!(run.retries().is_empty());
    let progress = run.progress();
    assert_eq!(progress[0].status, "not found yet");
    assert_eq!(progress[2].percentage, Some(40.0));
    assert_eq!(progress[2].step.as_deref(), Some("Rendering"));
    assert_eq!(progress[2].eta, Some(6 * SECOND));
    match run.outcome() {
        Outcome::Succeeded { result, .. } => {
            assert_eq!(
                result.as_ref(),
                Some(&json!({"ads":[{"id":"ad-1","headline":"Fresh coffee"}]}))
            );
        }
        other => panic!("expected success, got {other}"),
    }
    insta::assert_snapshot!(run.text());
}

// --- cancel while a status request is in flight --------------------------------------

fn slow_status_then_cancel(config: Config, cancel_reply: Reply) -> support::Run {
    let spec = JobSpec::poll(Profile::jobs(), url("/api/v1/jobs/job_42")).with_job_id("job_42");
    let job = Job::new(spec, config, Instant::ZERO).expect("valid job");
    let processing =
        r#"{"job_id":"job_42","status":"processing","progress_data":{"percentage":10}}"#;
    run(
        job,
        script(vec![Reply::ok(processing).after(5 * SECOND), cancel_reply]),
        Some(Instant::from_secs(2)),
    )
}

#[test]
fn cancel_in_flight_confirmed_by_the_server() {
    let run = slow_status_then_cancel(
        Config::standard(),
        Reply::ok(r#"{"job_id":"job_42","status":"cancelled"}"#),
    );
    assert_eq!(run.aborted(), vec!["#0"]);
    assert!(run.has_event(|e| *e == Event::CancelRequested));
    let cancels = run.requests(Purpose::Cancel);
    assert_eq!(cancels.len(), 1);
    assert_eq!(cancels[0].0, 2.0);
    assert_eq!(cancels[0].1.method, http::Method::POST);
    assert_eq!(cancels[0].1.url.path(), "/api/v1/jobs/job_42/cancel");
    assert!(
        cancelled_by_client(run.outcome(), Some(true)),
        "{}",
        run.outcome()
    );
    assert_eq!(run.finished_at(), 2.0);
    insta::assert_snapshot!(run.text());
}

#[test]
fn cancel_in_flight_not_confirmed_when_the_cancel_request_fails() {
    let run = slow_status_then_cancel(
        Config::standard(),
        Reply::status(500, r#"{"detail":"internal error"}"#),
    );
    assert_eq!(run.aborted(), vec!["#0"]);
    assert_eq!(run.requests(Purpose::Cancel).len(), 1);
    assert!(
        cancelled_by_client(run.outcome(), Some(false)),
        "{}",
        run.outcome()
    );
    assert!(run.outcome().to_string().contains("may still be running"));
    insta::assert_snapshot!(run.text());
}

#[test]
fn cancel_in_flight_not_confirmed_when_the_cancel_request_breaks() {
    let run = slow_status_then_cancel(
        Config::standard(),
        Reply::fail(TransportError::Reset("connection reset by peer".into())).after(SECOND),
    );
    assert_eq!(run.requests(Purpose::Cancel).len(), 1);
    assert!(
        cancelled_by_client(run.outcome(), Some(false)),
        "{}",
        run.outcome()
    );
    assert_eq!(run.finished_at(), 3.0);
}

#[test]
fn cancel_in_flight_without_a_server_cancel() {
    let config = Config {
        cancel_on_server: false,
        ..Config::standard()
    };
    let run = slow_status_then_cancel(config, Reply::Hang);
    assert_eq!(run.aborted(), vec!["#0"]);
    assert!(!run.has_event(|e| *e == Event::CancelRequested));
    assert!(run.requests(Purpose::Cancel).is_empty());
    assert_eq!(run.sent.len(), 1);
    assert!(
        cancelled_by_client(run.outcome(), None),
        "{}",
        run.outcome()
    );
    assert!(matches!(
        run.outcome(),
        Outcome::Cancelled {
            by: CancelledBy::Client {
                server_confirmed: None
            },
            ..
        }
    ));
    insta::assert_snapshot!(run.text());
}

// --- codegen: submit, poll, fetch the results (seeds 000, 001) ------------------------

#[test]
fn codegen_submit_poll_and_fetch_results() {
    let spec = JobSpec::submit(
        Profile::codegen(),
        url("/api/v1/public/graph/codegen"),
        Some(r#"{"graphId":"graph-123","options":{"language":"typescript"}}"#.to_owned()),
    );
    let job = Job::new(spec, Config::fast(), Instant::ZERO).expect("valid job");
    let results = json!({
        "graphId": "graph-123",
        "jobId": "job-9",
        "timestamp": "2026-02-06T12:00:00Z",
        "generatedCodes": [
            {"nodeId": "node-api", "code": "export const api = express();", "language": "typescript"},
            {"nodeId": "node-db", "code": "apiVersion: v1\nkind: Service", "language": "yaml"},
            {"nodeId": "node-api", "code": "api.listen(8080);", "language": "typescript"}
        ],
        "summary": {"totalNodes": 2, "successfulGenerations": 3, "failedGenerations": 0}
    });
    let run = run(
        job,
        script(vec![
            Reply::status(202, r#"{"jobId":"job-9","status":"pending"}"#),
            Reply::ok(r#"{"jobId":"job-9","status":"pending"}"#),
            Reply::ok(r#"{"jobId":"job-9","status":"running"}"#),
            Reply::ok(r#"{"jobId":"job-9","status":"completed"}"#),
            Reply::ok(&results.to_string()),
        ]),
        None,
    );
    let purposes: Vec<Purpose> = run.sent.iter().map(|(_, t)| t.purpose).collect();
    assert_eq!(
        purposes,
        vec![
            Purpose::Submit,
            Purpose::Status,
            Purpose::Status,
            Purpose::Status,
            Purpose::Results
        ]
    );
    let submit = &run.sent[0].1;
    assert_eq!(submit.method, http::Method::POST);
    assert_eq!(
        support::header(submit, "content-type"),
        Some("application/json")
    );
    assert_eq!(
        run.requests(Purpose::Results)[0].1.url.as_str(),
        "https://api.example.com/api/v1/public/graph/codegen/job-9/results"
    );
    let expected = json!({"graph-123": {
        "node-api": ["export const api = express();", "api.listen(8080);"],
        "node-db": ["apiVersion: v1\nkind: Service"]
    }});
    assert!(run.has_event(|e| *e
        == Event::ResultsFetched {
            results: expected.clone()
        }));
    match run.outcome() {
        Outcome::Succeeded {
            results,
            results_error,
            stats,
            ..
        } => {
            assert_eq!(results.as_ref(), Some(&expected));
            assert_eq!(*results_error, None);
            assert_eq!(stats.job_id.as_deref(), Some("job-9"));
            assert_eq!(stats.attempts, 3);
            assert_eq!(stats.requests, 5);
        }
        other => panic!("expected success, got {other}"),
    }
    insta::assert_snapshot!(run.text());
}

// --- turns -----------------------------------------------------------------------------

fn turn_job() -> Job {
    let spec = JobSpec::poll(
        Profile::turn(),
        url("/api/projects/p1/sessions/s1/turns/t1"),
    );
    Job::new(spec, Config::turn(), Instant::ZERO).expect("valid job")
}

#[test]
fn turn_blocks_grow_then_complete() {
    let block = |id: &str, kind: &str| json!({"id": id, "type": kind, "content": {"text": "…"}});
    let turn = |status: &str, blocks: Vec<serde_json::Value>| {
        json!({"id": "t1", "status": status, "blocks": blocks, "started_at": "2025-01-26T10:00:00Z"})
            .to_string()
    };
    let b1 = block("b1", "thinking");
    let b2 = block("b2", "tool_use");
    let b3 = block("b3", "text");
    let final_turn = turn("completed", vec![b1.clone(), b2.clone(), b3.clone()]);
    let run = run(
        turn_job(),
        script(vec![
            Reply::ok(&turn("pending", vec![])),
            Reply::ok(&turn("running", vec![b1.clone()])),
            Reply::ok(&turn("running", vec![b1.clone()])),
            Reply::ok(&turn("running", vec![b1.clone(), b2.clone(), b3.clone()])),
            Reply::ok(&final_turn),
        ]),
        None,
    );
    let updates: Vec<(u64, bool)> = run
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Updated { revision, body } => Some((*revision, body.is_some())),
            _ => None,
        })
        .collect();
    assert_eq!(updates, vec![(1, true), (3, true)]);
    assert_eq!(run.send_times(), vec![0.0, 1.0, 2.0, 3.0, 4.0]);
    match run.outcome() {
        Outcome::Succeeded { result, .. } => {
            let expected: serde_json::Value =
                serde_json::from_str(&final_turn).expect("valid JSON");
            assert_eq!(result.as_ref(), Some(&expected));
        }
        other => panic!("expected success, got {other}"),
    }
    insta::assert_snapshot!(run.text());
}

#[test]
fn turn_errors_back_off_and_give_up_after_five() {
    let run = run(
        turn_job(),
        |_, _| Reply::status(502, "<html><body>502 Bad Gateway</body></html>"),
        None,
    );
    // 2, 4, 8, 16 s with equal jitter: each retry waits between half of that and
    // that, counted from the answer before it.
    let retries = run.retries();
    assert_eq!(retries.len(), 4, "{retries:?}");
    let times = run.send_times();
    for (n, ((at, delay, errors), top)) in retries.iter().zip([2.0, 4.0, 8.0, 16.0]).enumerate() {
        assert_eq!(*errors as usize, n + 1);
        assert!((top / 2.0..=top).contains(delay), "{retries:?}");
        assert_eq!(times[n + 1], at + delay, "{times:?}");
    }
    match run.outcome() {
        Outcome::GaveUp { last_error, stats } => {
            assert!(matches!(last_error, PollError::Status { status: 502, .. }));
            assert_eq!(stats.attempts, 5);
        }
        other => panic!("expected to give up, got {other}"),
    }
    assert_eq!(run.finished_at(), times[4]);
    assert!((15.0..=30.0).contains(&run.finished_at()));
    insta::assert_snapshot!(run.text());
}

// --- the deadline and the request time limit ----------------------------------------

#[test]
fn deadline_is_honest_and_exact() {
    let config = Config {
        poll: Schedule::fixed(5 * SECOND),
        deadline: Some(60 * SECOND),
        ..Config::standard()
    };
    let spec = JobSpec::poll(Profile::jobs(), url("/api/v1/jobs/job_slow")).with_job_id("job_slow");
    let job = Job::new(spec, config, Instant::ZERO).expect("valid job");
    let run = run(
        job,
        |_, _| {
            Reply::ok(
                r#"{"job_id":"job_slow","status":"processing","progress_data":{"current_step":"Researching"}}"#,
            )
        },
        None,
    );
    // A poll falls due exactly at the deadline; it must not go out.
    assert!(
        run.send_times().iter().all(|t| *t < 60.0),
        "{:?}",
        run.send_times()
    );
    assert_eq!(run.sent.len(), 12);
    let outcome = run.outcome();
    match outcome {
        Outcome::TimedOut {
            reason: WaitLimit::Deadline { deadline },
            stats,
        } => {
            assert_eq!(*deadline, 60 * SECOND);
            assert_eq!(stats.elapsed, 60 * SECOND);
            assert_eq!(stats.attempts, 12);
            assert_eq!(stats.last_status.as_deref(), Some("processing"));
        }
        other => panic!("expected a deadline timeout, got {other}"),
    }
    let text = outcome.to_string();
    assert!(text.contains("may still be running"), "{text}");
    assert!(text.contains("1m"), "{text}");
    assert_eq!(run.finished_at(), 60.0);
    insta::assert_snapshot!(run.text());
}

#[test]
fn retry_after_past_the_deadline_ends_at_once() {
    let spec = JobSpec::poll(Profile::jobs(), url("/api/v1/jobs/job_1"));
    let job = Job::new(spec, Config::fast(), Instant::ZERO).expect("valid job");
    let run = run(
        job,
        script(vec![
            Reply::status(503, r#"{"detail":"maintenance"}"#).header("Retry-After", "3600"),
        ]),
        None,
    );
    assert_eq!(run.sent.len(), 1);
    assert_eq!(run.finished_at(), 0.0);
    assert!(run.retries().is_empty());
    match run.outcome() {
        Outcome::TimedOut {
            reason: WaitLimit::HintPastDeadline { hint, remaining },
            ..
        } => {
            assert_eq!(hint.delay, 3600 * SECOND);
            assert_eq!(hint.source, HintSource::RetryAfterSeconds);
            assert_eq!(*remaining, 300 * SECOND);
        }
        other => panic!("expected a hint past the deadline, got {other}"),
    }
    insta::assert_snapshot!(run.text());
}

#[test]
fn absurd_retry_after_is_capped() {
    let config = Config {
        deadline: Some(2 * 3600 * SECOND),
        ..Config::fast()
    };
    assert_eq!(config.max_hint, 3600 * SECOND);
    let spec = JobSpec::poll(Profile::jobs(), url("/api/v1/jobs/job_1"));
    let job = Job::new(spec, config, Instant::ZERO).expect("valid job");
    let run = run(
        job,
        script(vec![
            Reply::status(429, r#"{"detail":"slow down"}"#).header("Retry-After", "999999999"),
            Reply::ok(r#"{"job_id":"job_1","status":"completed","result_data":{"ok":true}}"#),
        ]),
        None,
    );
    assert!(run.has_event(|e| *e
        == Event::HintCapped {
            source: HintSource::RetryAfterSeconds,
            requested: 999_999_999 * SECOND,
            used: 3600 * SECOND,
        }));
    let times = run.send_times();
    assert!(
        times.len() == 2 && within_spread(times[1], 0.0, 3600.0),
        "{times:?}"
    );
    assert!(run.outcome().is_success(), "{}", run.outcome());
    insta::assert_snapshot!(run.text());
}

#[test]
fn hanging_request_is_aborted_at_its_time_limit_and_retried() {
    let spec = JobSpec::poll(Profile::jobs(), url("/api/v1/jobs/job_1"));
    let config = Config::fast().with_retry_jitter(Jitter::None);
    assert_eq!(config.request_time_limit, 10 * SECOND);
    let job = Job::new(spec, config, Instant::ZERO).expect("valid job");
    let run = run(
        job,
        script(vec![
            Reply::Hang,
            Reply::ok(
                r#"{"job_id":"job_1","status":"completed","result_data":{"url":"https://cdn.example/v.mp4"}}"#,
            ),
        ]),
        None,
    );
    assert_eq!(run.aborted(), vec!["#0"]);
    assert_eq!(run.sent[0].1.time_limit, 10 * SECOND);
    assert_eq!(run.retries(), vec![(10.0, 2.0, 1)]);
    assert_eq!(
        run.retry_causes(),
        vec![&PollError::Transport(TransportError::NoResponseInTime)]
    );
    assert_eq!(run.send_times(), vec![0.0, 12.0]);
    assert!(run.outcome().is_success(), "{}", run.outcome());
    insta::assert_snapshot!(run.text());
}

/// A jobs-profile server whose job takes `duration` seconds, reporting progress and,
/// if `eta`, the exact remaining time.
fn timed_job(duration: f64, eta: bool) -> impl FnMut(&jobpoll_core::Transmit, Instant) -> Reply {
    move |_, now| {
        let t = now.since_epoch().as_secs_f64();
        if t >= duration {
            return Reply::ok(r#"{"job_id":"j","status":"completed","result_data":{}}"#);
        }
        let percentage = (t / duration * 100.0).floor();
        let eta = if eta {
            format!(r#","estimated_time_remaining":{}"#, duration - t)
        } else {
            String::new()
        };
        Reply::ok(&format!(
            r#"{{"job_id":"j","status":"processing","progress_data":{{"percentage":{percentage}{eta}}}}}"#
        ))
    }
}

fn adaptive_config() -> Config {
    Config {
        poll: jobpoll_core::Schedule::Adaptive(jobpoll_core::schedule::Adaptive::standard()),
        deadline: None,
        ..Config::standard()
    }
}

#[test]
fn adaptive_polls_close_in_on_the_servers_eta() {
    let spec = JobSpec::poll(Profile::jobs(), url("/api/v1/jobs/j"));
    let job = Job::new(spec, adaptive_config(), Instant::ZERO).expect("valid job");
    let run = run(job, timed_job(200.0, true), None);
    assert!(run.outcome().is_success());
    // Each wait is half the remaining time plus 5 % of the job's age: 0, 100, 155,
    // 185.25, then 201.8875 finds it done, 0.9 % of its duration late.
    assert_eq!(&run.send_times(), &[0.0, 100.0, 155.0, 185.25, 201.8875]);
    insta::assert_snapshot!(run.text());
}

#[test]
fn adaptive_uses_the_progress_slope_without_an_eta() {
    let spec = JobSpec::poll(Profile::jobs(), url("/api/v1/jobs/j"));
    let job = Job::new(spec, adaptive_config(), Instant::ZERO).expect("valid job");
    let run = run(job, timed_job(200.0, false), None);
    assert!(run.outcome().is_success());
    // Without a slope yet (one sample) it waits until the job is 9 s old; 4 % at
    // 9 s then gives a slope and the next poll jumps towards the predicted end.
    let times = run.send_times();
    assert_eq!(&times[..3], &[0.0, 9.0, 117.45]);
    assert!(
        run.sent.len() <= 8,
        "{} requests: {times:?}",
        run.sent.len()
    );
    let finished = run
        .outcome
        .as_ref()
        .expect("finished")
        .0
        .since_epoch()
        .as_secs_f64();
    assert!(
        finished - 200.0 <= 0.05 * 200.0,
        "detected at {finished} s for a 200 s job"
    );
}
