//! Google long-running operations: submit, status, results and cancel.

use serde_json::json;

use crate::profile::testing::*;
use crate::profile::*;

#[test]
fn google_submit_status_and_cancel_urls() {
    let profile = Profile::google_operation();
    let submit = url("https://speech.googleapis.com/v1/speech:longrunningrecognize");
    let sub = profile
        .read_submission(
            &ok(r#"{"name":"projects/p1/locations/us/operations/op 7","metadata":{}}"#),
            &submit,
        )
        .expect("sub");
    assert_eq!(
        sub.job_id.as_deref(),
        Some("projects/p1/locations/us/operations/op 7")
    );
    assert_eq!(
        sub.status_url.as_str(),
        "https://speech.googleapis.com/v1/projects/p1/locations/us/operations/op%207"
    );
    let (method, cancel) = profile
        .cancel_request(job(sub.job_id.as_deref(), &sub.status_url))
        .expect("cancel")
        .expect("ok");
    assert_eq!(method, http::Method::POST);
    assert_eq!(
        cancel.as_str(),
        "https://speech.googleapis.com/v1/projects/p1/locations/us/operations/op%207:cancel"
    );
    assert!(
        profile
            .results_url(job(sub.job_id.as_deref(), &sub.status_url))
            .is_none()
    );
}

#[test]
fn google_running_and_done() {
    let profile = Profile::google_operation();
    let r = status(
        &profile,
        r#"{"name":"operations/1","metadata":{"progressPercent":30}}"#,
    );
    assert_eq!(r.state, Some(JobState::Running));
    assert_eq!(r.status, "running");
    assert_eq!(r.percentage, Some(30.0));
    let r = status(&profile, r#"{"name":"operations/1","done":false}"#);
    assert_eq!(r.state, Some(JobState::Running));
    assert_eq!(r.percentage, None);
    let r = status(
        &profile,
        r#"{"name":"operations/1","done":true,"response":{"@type":"type.googleapis.com/x","results":[1]}}"#,
    );
    assert_eq!(r.state, Some(JobState::Succeeded));
    assert_eq!(r.status, "done");
    assert_eq!(
        r.result,
        Some(json!({"@type": "type.googleapis.com/x", "results": [1]}))
    );
    let r = status(&profile, r#"{"name":"operations/1","done":true}"#);
    assert_eq!(r.state, Some(JobState::Succeeded));
    assert_eq!(r.result, None);
}

#[test]
fn google_error_and_cancelled() {
    let profile = Profile::google_operation();
    let r = status(
        &profile,
        r#"{"name":"operations/1","done":true,"error":{"code":3,"message":"Invalid audio","details":[]}}"#,
    );
    assert_eq!(r.state, Some(JobState::Failed));
    assert_eq!(r.error_message.as_deref(), Some("Invalid audio"));
    assert_eq!(
        r.error_details,
        Some(json!({"code": 3, "message": "Invalid audio", "details": []}))
    );
    let r = status(
        &profile,
        r#"{"name":"operations/1","done":true,"error":{"code":1,"message":"Operation cancelled"}}"#,
    );
    assert_eq!(r.state, Some(JobState::Cancelled));
    assert_eq!(r.error_message.as_deref(), Some("Operation cancelled"));
    assert!(matches!(
        status_err(&profile, "42"),
        InterpretError::NotThisApi { .. }
    ));
}

#[test]
fn google_id_path_rejects_dot_and_empty_segments() {
    let profile = Profile::google_operation();
    let submit = url("https://api.example/v1/things:run");
    for name in [
        "operations/../../admin",
        "operations//x",
        "/operations/x",
        "..",
        "operations/.",
    ] {
        let body = json!({ "name": name }).to_string();
        let err = profile
            .read_submission(&ok(&body), &submit)
            .expect_err(name);
        assert!(
            matches!(err, InterpretError::BadUrl { .. }),
            "{name}: {err:?}"
        );
    }
}

#[test]
fn google_refuses_bodies_of_other_apis() {
    let profile = Profile::google_operation();
    for body in [
        r#"{"job_id":"job_abc123","status":"processing","progress_data":{"percentage":45}}"#,
        r#"{"jobId":"c1","status":"running"}"#,
        r#"{"id":"op1","status":"Running","percentComplete":12.5}"#,
        r#"{"id":"f1","tasks":[{"id":"t1","status":"in_progress"}]}"#,
        r#"{"status":"running","blocks":[]}"#,
        "{}",
    ] {
        let message = status_err(&profile, body).to_string();
        assert!(
            message.starts_with("this does not look like a google status"),
            "{body}: {message}"
        );
        assert!(message.contains("/done"), "{body}: {message}");
        assert!(message.contains(&body[..body.len().min(12)]), "{message}");
    }
}

#[test]
fn google_any_operation_field_is_an_operation() {
    let profile = Profile::google_operation();
    // proto3 JSON leaves out `done` while it is false, and an operation may carry
    // only some of its fields.
    for body in [
        r#"{"name":"operations/1"}"#,
        r#"{"metadata":{"progressPercent":5}}"#,
        r#"{"done":false}"#,
        r#"{"error":{"code":3}}"#,
        r#"{"response":{}}"#,
        r#"{"name":null}"#,
    ] {
        let r = status(&profile, body);
        assert_eq!(r.state, Some(JobState::Running), "{body}");
        assert_eq!(r.status, "running");
    }
    let r = status(&profile, r#"{"done":true,"response":{"n":1}}"#);
    assert_eq!(r.state, Some(JobState::Succeeded));
    let r = status(
        &profile,
        r#"{"done":true,"error":{"code":3,"message":"bad"}}"#,
    );
    assert_eq!(r.state, Some(JobState::Failed));
}
