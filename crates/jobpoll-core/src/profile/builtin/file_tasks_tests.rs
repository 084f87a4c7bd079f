//! Files with tasks: submit, status, results and cancel.

use serde_json::{Value, json};

use crate::profile::testing::*;
use crate::profile::*;

#[test]
fn file_tasks_submit_and_flags() {
    let profile = Profile::file_tasks();
    assert!(profile.not_found_means_pending());
    let sub = profile
        .read_submission(
            &ok(r#"{"id":"file_9"}"#),
            &url("https://app.example/api/generate/image"),
        )
        .expect("submission");
    assert_eq!(
        sub.status_url.as_str(),
        "https://app.example/api/file/file_9"
    );
    let status_url = sub.status_url.clone();
    assert!(
        profile
            .results_url(job(Some("file_9"), &status_url))
            .is_none()
    );
    assert!(
        profile
            .cancel_request(job(Some("file_9"), &status_url))
            .is_none()
    );
}

#[test]
fn file_tasks_url_means_done_with_the_whole_body() {
    let profile = Profile::file_tasks();
    let body = r#"{"id":"f1","url":"https://cdn.example/f1.png","contentType":"image/png",
                   "tasks":[{"id":"t1","status":"in_progress"}]}"#;
    let r = status(&profile, body);
    assert_eq!(r.state, Some(JobState::Succeeded));
    assert_eq!(r.status, "ready");
    assert_eq!(
        r.result,
        Some(serde_json::from_str::<Value>(body).expect("json"))
    );
}

#[test]
fn file_tasks_all_completed_means_done() {
    let profile = Profile::file_tasks();
    let r = status(
        &profile,
        r#"{"id":"f1","tasks":[{"id":"t1","status":"completed"},{"id":"t2","status":"completed"}]}"#,
    );
    assert_eq!(r.state, Some(JobState::Succeeded));
    assert_eq!(r.status, "completed");
    assert_eq!(
        r.result.as_ref().and_then(|v| v.get("id")),
        Some(&json!("f1"))
    );
}

#[test]
fn file_tasks_latest_error_fails() {
    let profile = Profile::file_tasks();
    let r = status(
        &profile,
        r#"{"id":"f1","url":"","tasks":[{"id":"t1","status":"completed"},{"id":"t2","status":"error"}]}"#,
    );
    assert_eq!(r.state, Some(JobState::Failed));
    assert_eq!(r.status, "error");
    assert_eq!(
        r.error_message.as_deref(),
        Some("the latest task failed (task t2)")
    );
    assert_eq!(
        r.error_details,
        Some(json!({"id": "t2", "status": "error"}))
    );
    // An earlier error followed by a retry still running is not a failure.
    let r = status(
        &profile,
        r#"{"id":"f1","tasks":[{"id":"t1","status":"error"},{"id":"t2","status":"in_progress"}]}"#,
    );
    assert_eq!(r.state, Some(JobState::Running));
    assert_eq!(r.status, "in_progress");
    let r = status(&profile, r#"{"id":"f1","tasks":[{"status":"error"}]}"#);
    assert_eq!(r.error_message.as_deref(), Some("the latest task failed"));
}

#[test]
fn file_tasks_running_cases() {
    let profile = Profile::file_tasks();
    for (body, text) in [
        (r#"{"id":"f1"}"#, "pending"),
        (r#"{"id":"f1","tasks":[]}"#, "pending"),
        (r#"{"id":"f1","tasks":null,"url":null}"#, "pending"),
        (
            r#"{"id":"f1","tasks":[{"id":"t","status":"pending"}]}"#,
            "pending",
        ),
        (
            r#"{"id":"f1","tasks":[{"status":"completed"},{"status":"in_progress"}]}"#,
            "in_progress",
        ),
        (
            r#"{"id":"f1","tasks":[{"status":"completed"},{"id":"x"}]}"#,
            "pending",
        ),
    ] {
        let r = status(&profile, body);
        assert_eq!(r.state, Some(JobState::Running), "{body}");
        assert_eq!(r.status, text, "{body}");
        assert_eq!(r.result, None);
    }
    assert!(matches!(
        status_err(&profile, "[]"),
        InterpretError::NotThisApi { .. }
    ));
    assert!(matches!(
        status_err(&profile, ""),
        InterpretError::NotJson { .. }
    ));
}

#[test]
fn file_tasks_refuses_bodies_of_other_apis() {
    let profile = Profile::file_tasks();
    for body in [
        r#"{"job_id":"job_abc123","status":"processing","progress_data":{"percentage":45}}"#,
        r#"{"name":"operations/1","metadata":{"progressPercent":30}}"#,
        r#"{"jobId":"c1","status":"running"}"#,
        r#"{"status":"running","blocks":[]}"#,
        "{}",
    ] {
        let message = status_err(&profile, body).to_string();
        assert!(
            message.starts_with("this does not look like a file-tasks status"),
            "{body}: {message}"
        );
        assert!(
            message.contains("/url") && message.contains("/tasks") && message.contains("/id"),
            "{body}: {message}"
        );
    }
}
