//! Every built-in profile for a product API (jobs, codegen, file tasks, turn) end
//! to end through a real `Job`, from submit (or the first poll) to the outcome,
//! with bodies shaped like the real APIs; then a custom profile written as JSON.
//! The cloud operations (Google, Azure) are in `profiles_operations.rs`.

mod support;

use std::time::Duration;

use jobpoll_core::{
    Config, Event, Instant, Job, JobSpec, Outcome, Profile, Purpose, TransportError,
};
use serde_json::{Value, json};
use support::profile_runs::{body, expect_failure, expect_success, purposes, url};
use support::{Reply, Run, cancelled_by_client, header, run, script};

const SECOND: Duration = Duration::from_secs(1);

fn urls(run: &Run) -> Vec<String> {
    run.sent
        .iter()
        .map(|(_, t)| format!("{} {}", t.method, t.url))
        .collect()
}

// --- jobs -------------------------------------------------------------------------------

fn jobs_submit() -> JobSpec {
    JobSpec::submit(
        Profile::jobs(),
        url("https://api.adgen.example/api/v1/video-generation-job"),
        Some(r#"{"prompt":"30 s spot for a coffee brand","aspect_ratio":"16:9"}"#.to_owned()),
    )
    .with_header("Authorization", "Bearer sk-live-123")
}

fn jobs_status(status: &str, progress: Value) -> Reply {
    Reply::ok(&body(&json!({
        "job_id": "job_abc123",
        "status": status,
        "type": "video_generation",
        "created_at": "2024-01-15T10:00:00Z",
        "completed_at": null,
        "progress_data": progress,
    })))
}

#[test]
fn jobs_submit_poll_progress_and_result() {
    let job = Job::new(jobs_submit(), Config::fast(), Instant::ZERO).expect("valid job");
    let run = run(
        job,
        script(vec![
            Reply::status(
                201,
                r#"{"job_id":"job_abc123","status":"queued","type":"video_generation"}"#,
            ),
            jobs_status("queued", json!(null)),
            jobs_status(
                "processing",
                json!({"percentage": 20, "current_step": "Writing the script", "estimated_time_remaining": 240}),
            ),
            jobs_status(
                "processing",
                json!({"percentage": 65.5, "current_step": "Generating scene 3 of 7", "estimated_time_remaining": 90}),
            ),
            Reply::ok(&body(&json!({
                "job_id": "job_abc123",
                "status": "completed",
                "type": "video_generation",
                "completed_at": "2024-01-15T10:04:00Z",
                "progress_data": {"percentage": 100, "current_step": "Done"},
                "result_data": {"video_url": "https://cdn.adgen.example/v/abc123.mp4", "duration": 30},
            }))),
        ]),
        None,
    );
    assert_eq!(
        urls(&run)[..2],
        [
            "POST https://api.adgen.example/api/v1/video-generation-job",
            "GET https://api.adgen.example/api/v1/jobs/job_abc123",
        ]
    );
    assert!(
        run.sent
            .iter()
            .all(|(_, t)| header(t, "authorization") == Some("Bearer sk-live-123"))
    );
    let progress: Vec<(Option<f64>, Option<&str>, Option<Duration>)> = run
        .progress()
        .iter()
        .map(|p| (p.percentage, p.step.as_deref(), p.eta))
        .collect();
    assert_eq!(
        progress,
        vec![
            (None, None, None),
            (Some(20.0), Some("Writing the script"), Some(240 * SECOND)),
            (
                Some(65.5),
                Some("Generating scene 3 of 7"),
                Some(90 * SECOND)
            ),
        ]
    );
    let (result, results) = expect_success(&run);
    assert_eq!(
        result,
        Some(&json!({"video_url": "https://cdn.adgen.example/v/abc123.mp4", "duration": 30}))
    );
    assert_eq!(results, None);
    assert_eq!(run.outcome().stats().job_id.as_deref(), Some("job_abc123"));
}

#[test]
fn jobs_failure_carries_the_error_data() {
    let job = Job::new(jobs_submit(), Config::fast(), Instant::ZERO).expect("valid job");
    let run = run(
        job,
        script(vec![
            Reply::status(201, r#"{"job_id":"job_abc123","status":"queued"}"#),
            jobs_status("processing", json!({"percentage": 10})),
            Reply::ok(&body(&json!({
                "job_id": "job_abc123",
                "status": "failed",
                "error_data": {"message": "Content policy violation", "details": {"category": "brand_safety"}},
            }))),
        ]),
        None,
    );
    let (message, details) = expect_failure(&run);
    assert_eq!(message, "Content policy violation");
    assert_eq!(details, Some(&json!({"category": "brand_safety"})));
}

#[test]
fn jobs_cancel_uses_the_id_from_the_submit() {
    let job = Job::new(jobs_submit(), Config::fast(), Instant::ZERO).expect("valid job");
    let run = run(
        job,
        script(vec![
            Reply::status(201, r#"{"job_id":"job_abc123","status":"queued"}"#),
            jobs_status("processing", json!({"percentage": 10})),
            Reply::ok(r#"{"job_id":"job_abc123","status":"cancelled"}"#),
        ]),
        Some(Instant::from_secs(1)),
    );
    assert_eq!(
        urls(&run)[2],
        "POST https://api.adgen.example/api/v1/jobs/job_abc123/cancel"
    );
    assert!(run.has_event(|e| *e == Event::CancelRequested));
    assert!(
        cancelled_by_client(run.outcome(), Some(true)),
        "{}",
        run.outcome()
    );
}

// --- codegen ---------------------------------------------------------------------------

fn codegen_poll() -> Job {
    let spec = JobSpec::poll(
        Profile::codegen(),
        url("https://kubegram.example/api/v1/public/graph/codegen/job-456/status"),
    )
    .with_job_id("job-456");
    Job::new(spec, Config::fast(), Instant::ZERO).expect("valid job")
}

const CODEGEN_RESULTS: &str = r#"{
    "graphId": "graph-123",
    "jobId": "job-456",
    "timestamp": "2026-02-06T12:00:00Z",
    "generatedCodes": [
        {"nodeId": "node-1", "code": "import React from 'react';", "language": "javascript", "framework": "react"},
        {"nodeId": "node-2", "code": "apiVersion: apps/v1\nkind: Deployment", "language": "yaml"},
        {"nodeId": "node-1", "code": "export default App;", "language": "javascript"}
    ],
    "summary": {"totalNodes": 2, "successfulGenerations": 3, "failedGenerations": 0}
}"#;

#[test]
fn codegen_results_are_fetched_after_a_retry_and_reshaped() {
    let run = run(
        codegen_poll(),
        script(vec![
            Reply::ok(r#"{"jobId":"job-456","status":"running"}"#),
            Reply::ok(r#"{"jobId":"job-456","status":"completed"}"#),
            Reply::status(503, "upstream busy").header("Retry-After", "1"),
            Reply::ok(CODEGEN_RESULTS),
        ]),
        None,
    );
    assert_eq!(
        purposes(&run),
        vec![
            Purpose::Status,
            Purpose::Status,
            Purpose::Results,
            Purpose::Results
        ]
    );
    assert_eq!(
        run.sent[2].1.url.as_str(),
        "https://kubegram.example/api/v1/public/graph/codegen/job-456/results"
    );
    let (_, results) = expect_success(&run);
    assert_eq!(
        results,
        Some(&json!({"graph-123": {
            "node-1": ["import React from 'react';", "export default App;"],
            "node-2": ["apiVersion: apps/v1\nkind: Deployment"]
        }}))
    );
}

#[test]
fn codegen_results_that_cannot_be_fetched_keep_the_success() {
    let config = Config {
        max_consecutive_errors: Some(3),
        ..Config::fast()
    };
    let spec = JobSpec::poll(
        Profile::codegen(),
        url("https://kubegram.example/api/v1/public/graph/codegen/job-456/status"),
    )
    .with_job_id("job-456");
    let job = Job::new(spec, config, Instant::ZERO).expect("valid job");
    let run = run(
        job,
        |t, _| match t.purpose {
            Purpose::Status => Reply::ok(r#"{"jobId":"job-456","status":"completed"}"#),
            _ => Reply::status(500, r#"{"error":"results store unavailable"}"#),
        },
        None,
    );
    assert_eq!(run.requests(Purpose::Results).len(), 3);
    match run.outcome() {
        Outcome::Succeeded {
            results: None,
            results_error: Some(error),
            ..
        } => assert!(error.contains("results store unavailable"), "{error}"),
        other => panic!("expected success without results, got {other}"),
    }
    assert!(run.outcome().to_string().contains("could not be fetched"));
}

#[test]
fn codegen_success_survives_a_hint_past_the_deadline_before_the_results() {
    let run = run(
        codegen_poll(),
        script(vec![
            Reply::ok(r#"{"jobId":"job-456","status":"completed"}"#).header("Retry-After", "3600"),
        ]),
        None,
    );
    assert!(run.requests(Purpose::Results).is_empty());
    match run.outcome() {
        Outcome::Succeeded {
            results: None,
            results_error: Some(error),
            ..
        } => assert!(error.contains("past the deadline"), "{error}"),
        other => panic!("expected success without results, got {other}"),
    }
}

#[test]
fn codegen_failure_reads_the_error_message() {
    let run = run(
        codegen_poll(),
        script(vec![
            Reply::ok(r#"{"jobId":"job-456","status":"pending"}"#),
            Reply::ok(r#"{"jobId":"job-456","status":"failed","error":"LLM quota exceeded"}"#),
        ]),
        None,
    );
    assert_eq!(expect_failure(&run).0, "LLM quota exceeded");
    assert!(run.requests(Purpose::Results).is_empty());
}

// --- file tasks ------------------------------------------------------------------------

fn file_job() -> Job {
    let spec = JobSpec::submit(
        Profile::file_tasks(),
        url("https://super.example/api/generate/image"),
        Some(r#"{"prompt":"a lighthouse in a storm","style":"oil painting"}"#.to_owned()),
    );
    Job::new(spec, Config::progressive(), Instant::ZERO).expect("valid job")
}

fn file(url: Option<&str>, tasks: Value) -> Reply {
    Reply::ok(&body(&json!({
        "id": "file_9",
        "url": url,
        "contentType": "image/png",
        "createdAt": "2025-01-26T10:00:00Z",
        "tasks": tasks,
    })))
}

#[test]
fn file_tasks_done_when_the_url_is_set() {
    let run = run(
        file_job(),
        script(vec![
            Reply::status(201, r#"{"id":"file_9","tasks":[]}"#),
            Reply::status(404, r#"{"detail":"File not found"}"#),
            file(None, json!([{"id": "t1", "status": "pending"}])),
            file(None, json!([{"id": "t1", "status": "in_progress"}])),
            file(
                Some("https://cdn.super.example/file_9.png"),
                json!([{"id": "t1", "status": "in_progress"}]),
            ),
        ]),
        None,
    );
    assert_eq!(
        run.sent[1].1.url.as_str(),
        "https://super.example/api/file/file_9"
    );
    let statuses: Vec<&str> = run.progress().iter().map(|p| p.status.as_str()).collect();
    assert_eq!(statuses, vec!["not found yet", "pending", "in_progress"]);
    let (result, _) = expect_success(&run);
    let result = result.expect("the file is the result");
    assert_eq!(result["url"], "https://cdn.super.example/file_9.png");
    assert_eq!(run.outcome().stats().last_status.as_deref(), Some("ready"));
}

#[test]
fn file_tasks_done_when_every_task_completed() {
    let run = run(
        file_job(),
        script(vec![
            Reply::status(201, r#"{"id":"file_9"}"#),
            file(
                None,
                json!([{"id": "t1", "status": "completed"}, {"id": "t2", "status": "in_progress"}]),
            ),
            file(
                None,
                json!([{"id": "t1", "status": "completed"}, {"id": "t2", "status": "completed"}]),
            ),
        ]),
        None,
    );
    let (result, _) = expect_success(&run);
    assert_eq!(result.expect("the file is the result")["id"], "file_9");
}

#[test]
fn file_tasks_fail_when_the_latest_task_errs() {
    let run = run(
        file_job(),
        script(vec![
            Reply::status(201, r#"{"id":"file_9"}"#),
            // An earlier error with a retry running is not a failure ...
            file(
                None,
                json!([{"id": "t1", "status": "error"}, {"id": "t2", "status": "in_progress"}]),
            ),
            // ... but an error in the latest task is.
            file(
                None,
                json!([{"id": "t1", "status": "error"}, {"id": "t2", "status": "error", "error": "NSFW filter"}]),
            ),
        ]),
        None,
    );
    let (message, details) = expect_failure(&run);
    assert_eq!(message, "the latest task failed (task t2)");
    assert_eq!(
        details,
        Some(&json!({"id": "t2", "status": "error", "error": "NSFW filter"}))
    );
}

// --- turn ------------------------------------------------------------------------------

fn turn_submit() -> Job {
    let spec = JobSpec::submit(
        Profile::turn(),
        url("https://uspark.example/api/projects/p1/sessions/s1/turns"),
        Some(r#"{"user_message":"Refactor the billing module"}"#.to_owned()),
    );
    Job::new(spec, Config::turn(), Instant::ZERO).expect("valid job")
}

fn turn(status: &str, blocks: usize, error: Option<&str>) -> Reply {
    let blocks: Vec<Value> = (1..=blocks)
        .map(|i| json!({"id": format!("b{i}"), "type": "text", "content": {"text": format!("part {i}")}}))
        .collect();
    let mut value = json!({"id": "turn_1", "status": status, "blocks": blocks});
    if let Some(error) = error {
        value["error"] = json!(error);
    }
    Reply::ok(&body(&value))
}

#[test]
fn turn_submit_streams_blocks_then_completes() {
    let run = run(
        turn_submit(),
        script(vec![
            Reply::status(201, r#"{"id":"turn_1","status":"pending"}"#),
            turn("pending", 0, None),
            turn("running", 2, None),
            turn("running", 2, None),
            turn("completed", 4, None),
        ]),
        None,
    );
    assert_eq!(
        run.sent[1].1.url.as_str(),
        "https://uspark.example/api/projects/p1/sessions/s1/turns/turn_1"
    );
    let revisions: Vec<u64> = run
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Updated { revision, .. } => Some(*revision),
            _ => None,
        })
        .collect();
    assert_eq!(revisions, vec![2, 4]);
    let (result, _) = expect_success(&run);
    let blocks = result.expect("the turn is the result")["blocks"]
        .as_array()
        .expect("blocks")
        .len();
    assert_eq!(blocks, 4);
}

#[test]
fn turn_failure_reads_the_error() {
    let run = run(
        turn_submit(),
        script(vec![
            Reply::status(201, r#"{"id":"turn_1","status":"pending"}"#),
            turn("running", 1, None),
            turn("failed", 1, Some("E2B sandbox crashed")),
        ]),
        None,
    );
    assert_eq!(expect_failure(&run).0, "E2B sandbox crashed");
}

// --- a custom profile written as JSON ---------------------------------------------------

const RENDER_FARM: &str = r#"{
    "name": "render-farm",
    "completion": {
        "rule": "status",
        "pointer": "/render/state",
        "values": {
            "running": ["QUEUED", "RENDERING", "ENCODING"],
            "succeeded": ["DONE"],
            "failed": ["ERROR"],
            "cancelled": ["ABORTED"]
        }
    },
    "submit_id_pointers": ["/render/id"],
    "status_url": {"from": "template", "template": "/v2/renders/{id}"},
    "percentage_pointer": "/render/progress",
    "step_pointer": "/render/stage",
    "eta_pointer": "/render/eta_seconds",
    "result_pointer": "/render/output",
    "error_message_pointer": "/render/error/reason",
    "error_details_pointer": "/render/error",
    "results": {"url": "/v2/renders/{id}/frames"},
    "cancel": {"method": "DELETE", "url": "/v2/renders/{id}"}
}"#;

fn render_job() -> Job {
    let profile: Profile = serde_json::from_str(RENDER_FARM).expect("the profile parses");
    let spec = JobSpec::submit(
        profile,
        url("https://farm.example/v2/renders"),
        Some(r#"{"scene":"s3://scenes/intro.blend","frames":[1,240]}"#.to_owned()),
    )
    .with_header("X-Api-Key", "farm-key-1");
    Job::new(spec, Config::fast(), Instant::ZERO).expect("valid job")
}

fn render(state: &str, extra: Value) -> Reply {
    let mut render = json!({"id": "r-77", "state": state});
    if let (Some(map), Some(extra)) = (render.as_object_mut(), extra.as_object()) {
        map.extend(extra.clone());
    }
    Reply::ok(&body(&json!({ "render": render })))
}

#[test]
fn custom_json_profile_end_to_end() {
    let frames = json!({"frames": [{"n": 1, "url": "https://farm.example/out/r-77/0001.exr"}], "count": 240});
    let run = run(
        render_job(),
        script(vec![
            Reply::status(202, r#"{"render":{"id":"r-77","state":"QUEUED"}}"#),
            render("QUEUED", json!({})),
            render(
                "RENDERING",
                json!({"progress": "37.5", "stage": "frame 90 of 240", "eta_seconds": 300}),
            ),
            render(
                "DONE",
                json!({"progress": 100, "output": {"video": "https://farm.example/out/r-77.mp4"}}),
            ),
            Reply::ok(&body(&frames)),
        ]),
        None,
    );
    assert_eq!(
        urls(&run),
        vec![
            "POST https://farm.example/v2/renders",
            "GET https://farm.example/v2/renders/r-77",
            "GET https://farm.example/v2/renders/r-77",
            "GET https://farm.example/v2/renders/r-77",
            "GET https://farm.example/v2/renders/r-77/frames",
        ]
    );
    let progress = &run.progress()[1];
    assert_eq!(progress.status, "RENDERING");
    assert_eq!(progress.percentage, Some(37.5));
    assert_eq!(progress.step.as_deref(), Some("frame 90 of 240"));
    assert_eq!(progress.eta, Some(300 * SECOND));
    let (result, results) = expect_success(&run);
    assert_eq!(
        result,
        Some(&json!({"video": "https://farm.example/out/r-77.mp4"}))
    );
    assert_eq!(results, Some(&frames));
}

#[test]
fn custom_json_profile_failure_and_cancel() {
    let run = run(
        render_job(),
        script(vec![
            Reply::status(202, r#"{"render":{"id":"r-77","state":"QUEUED"}}"#),
            render(
                "ERROR",
                json!({"error": {"reason": "missing texture wood.png", "frame": 12}}),
            ),
        ]),
        None,
    );
    let (message, details) = expect_failure(&run);
    assert_eq!(message, "missing texture wood.png");
    assert_eq!(details.expect("details")["frame"], 12);

    let run = support::run(
        render_job(),
        script(vec![
            Reply::status(202, r#"{"render":{"id":"r-77","state":"QUEUED"}}"#),
            render("RENDERING", json!({"progress": 5})),
            Reply::status(204, ""),
        ]),
        Some(Instant::from_secs(1)),
    );
    let cancel = &run.requests(Purpose::Cancel)[0].1;
    assert_eq!(cancel.method, http::Method::DELETE);
    assert_eq!(cancel.url.as_str(), "https://farm.example/v2/renders/r-77");
    assert_eq!(header(cancel, "x-api-key"), Some("farm-key-1"));
    assert!(
        cancelled_by_client(run.outcome(), Some(true)),
        "{}",
        run.outcome()
    );

    // A connection that breaks before the cancel is answered is not a confirmation.
    let run = support::run(
        render_job(),
        script(vec![
            Reply::status(202, r#"{"render":{"id":"r-77","state":"QUEUED"}}"#),
            render("RENDERING", json!({"progress": 5})),
            Reply::fail(TransportError::Reset("broken pipe".into())),
        ]),
        Some(Instant::from_secs(1)),
    );
    assert!(
        cancelled_by_client(run.outcome(), Some(false)),
        "{}",
        run.outcome()
    );
}
