//! The jobs API: submit, status, results and cancel.

use core::time::Duration;

use bytes::Bytes;
use serde_json::json;

use crate::profile::testing::*;
use crate::profile::*;

#[test]
fn jobs_submit_gives_id_and_status_url() {
    let profile = Profile::jobs();
    let submit = url("https://api.example.com/api/v1/video-generation-job");
    let sub = profile
        .read_submission(&ok(r#"{"job_id":"job_abc123","status":"queued"}"#), &submit)
        .expect("submission");
    assert_eq!(sub.job_id.as_deref(), Some("job_abc123"));
    assert_eq!(
        sub.status_url.as_str(),
        "https://api.example.com/api/v1/jobs/job_abc123"
    );
    assert_eq!(sub.results_url, None);
}

#[test]
fn jobs_submit_keeps_port_and_drops_path_and_query() {
    let profile = Profile::jobs();
    let submit = url("http://localhost:8080/prefix/api/v1/ads-job?x=1");
    let sub = profile
        .read_submission(&ok(r#"{"job_id":"j1"}"#), &submit)
        .expect("submission");
    assert_eq!(
        sub.status_url.as_str(),
        "http://localhost:8080/api/v1/jobs/j1"
    );
}

#[test]
fn jobs_each_status_value_maps_to_a_state() {
    let profile = Profile::jobs();
    for (value, state) in [
        ("queued", JobState::Running),
        ("processing", JobState::Running),
        ("completed", JobState::Succeeded),
        ("failed", JobState::Failed),
        ("cancelled", JobState::Cancelled),
        ("PROCESSING", JobState::Running),
    ] {
        let report = status(&profile, &format!(r#"{{"job_id":"j","status":"{value}"}}"#));
        assert_eq!(report.state, Some(state), "{value}");
        assert_eq!(report.status, value);
    }
}

#[test]
fn jobs_progress_step_and_eta_are_extracted() {
    let profile = Profile::jobs();
    let report = status(
        &profile,
        r#"{"job_id":"job_abc123","status":"processing","type":"video_generation",
            "created_at":"2024-01-15T10:00:00Z","completed_at":null,
            "progress_data":{"percentage":45,"current_step":"Generating scene 3 of 7",
            "estimated_time_remaining":120}}"#,
    );
    assert_eq!(report.state, Some(JobState::Running));
    assert_eq!(report.percentage, Some(45.0));
    assert_eq!(report.step.as_deref(), Some("Generating scene 3 of 7"));
    assert_eq!(report.eta, Some(Duration::from_secs(120)));
    assert_eq!(report.result, None);
    assert_eq!(report.error_message, None);
    assert_eq!(report.revision, None);
    assert_eq!(report.body, None);
}

#[test]
fn jobs_progress_is_clamped_and_lenient() {
    let profile = Profile::jobs();
    let r = status(
        &profile,
        r#"{"status":"processing","progress_data":{"percentage":250,"estimated_time_remaining":-5}}"#,
    );
    assert_eq!(r.percentage, Some(100.0));
    assert_eq!(r.eta, None);
    let r = status(
        &profile,
        r#"{"status":"processing","progress_data":{"percentage":"-3","estimated_time_remaining":"1.5"}}"#,
    );
    assert_eq!(r.percentage, Some(0.0));
    assert_eq!(r.eta, Some(Duration::from_millis(1500)));
    let r = status(
        &profile,
        r#"{"status":"processing","progress_data":{"percentage":"NaN","current_step":7,"estimated_time_remaining":"soon"}}"#,
    );
    assert_eq!(r.percentage, None);
    assert_eq!(r.step, None);
    assert_eq!(r.eta, None);
    let r = status(&profile, r#"{"status":"processing","progress_data":"45%"}"#);
    assert_eq!(r.percentage, None);
    let r = status(
        &profile,
        r#"{"status":"processing","progress_data":{"percentage":1e308,"estimated_time_remaining":1e308}}"#,
    );
    assert_eq!(r.percentage, Some(100.0));
    assert_eq!(r.eta, Some(Duration::from_micros(u64::MAX)));
}

#[test]
fn jobs_result_is_result_data_then_result() {
    let profile = Profile::jobs();
    let r = status(
        &profile,
        r#"{"status":"completed","result_data":{"ads":[1,2]},"result":"old"}"#,
    );
    assert_eq!(r.result, Some(json!({"ads": [1, 2]})));
    let r = status(
        &profile,
        r#"{"status":"completed","result_data":null,"result":{"x":1}}"#,
    );
    assert_eq!(r.result, Some(json!({"x": 1})));
    let r = status(&profile, r#"{"status":"completed"}"#);
    assert_eq!(r.state, Some(JobState::Succeeded));
    assert_eq!(r.result, None);
}

#[test]
fn jobs_failure_message_and_details() {
    let profile = Profile::jobs();
    let r = status(
        &profile,
        r#"{"status":"failed","error_data":{"message":"GPU out of memory","details":{"scene":3}}}"#,
    );
    assert_eq!(r.state, Some(JobState::Failed));
    assert_eq!(r.error_message.as_deref(), Some("GPU out of memory"));
    assert_eq!(r.error_details, Some(json!({"scene": 3})));
    assert_eq!(r.result, None);
    let r = status(
        &profile,
        r#"{"status":"failed","error_data":{"message":42}}"#,
    );
    assert_eq!(r.error_message.as_deref(), Some("the job failed"));
    assert_eq!(r.error_details, None);
    let r = status(&profile, r#"{"status":"cancelled"}"#);
    assert_eq!(r.state, Some(JobState::Cancelled));
    assert_eq!(r.error_message, None);
}

#[test]
fn jobs_cancel_request_and_no_results_step() {
    let profile = Profile::jobs();
    let status_url = url("https://api.example.com/api/v1/jobs/job_abc123");
    let (method, cancel) = profile
        .cancel_request(job(Some("job_abc123"), &status_url))
        .expect("has cancel")
        .expect("cancel builds");
    assert_eq!(method, http::Method::POST);
    assert_eq!(
        cancel.as_str(),
        "https://api.example.com/api/v1/jobs/job_abc123/cancel"
    );
    assert!(
        profile
            .results_url(job(Some("job_abc123"), &status_url))
            .is_none()
    );
    assert!(!profile.not_found_means_pending());
    assert_eq!(profile.name(), "jobs");
}

#[test]
fn invalid_utf8_in_a_string_is_not_json() {
    let body = Bytes::from_static(b"{\"status\":\"process\xffing\"}");
    let response = http::Response::new(body);
    let error = Profile::jobs().read_status(&response).unwrap_err();
    assert!(matches!(error, InterpretError::NotJson { .. }), "{error:?}");
}

#[test]
fn cancel_id_comes_from_the_status_url_or_is_missing() {
    let profile = Profile::jobs();
    // The status template `/api/v1/jobs/{id}` finds the id in the URL polled.
    let status_url = url("https://api.example.com/api/v1/jobs/j%201?x=1");
    let (_, cancel) = profile
        .cancel_request(job(None, &url("https://api.example.com/api/v1/jobs/j%201")))
        .expect("has cancel")
        .expect("id from the URL");
    assert_eq!(
        cancel.as_str(),
        "https://api.example.com/api/v1/jobs/j%201/cancel"
    );
    // A URL the template does not make has no id in it.
    for other in [
        status_url.as_str(),
        "https://api.example.com/api/v2/jobs/x",
        "https://api.example.com/api/v1/jobs/a/b",
        "https://api.example.com/api/v1/jobs/",
    ] {
        let err = profile
            .cancel_request(job(None, &url(other)))
            .expect("has cancel")
            .expect_err(other);
        assert!(
            matches!(err, InterpretError::MissingField { ref pointer, .. } if pointer == "job id"),
            "{other}: {err:?}"
        );
    }
    let status_url = url("https://api.example.com/elsewhere/x");
    let err = profile
        .cancel_request(job(None, &status_url))
        .expect("has cancel")
        .expect_err("no id");
    assert!(matches!(err, InterpretError::MissingField { ref pointer, .. } if pointer == "job id"));
}

#[test]
fn cancel_method_is_parsed() {
    let mut profile = Profile::jobs();
    let status_url = url("https://api.example.com/api/v1/jobs/x");
    profile.cancel = Some(CancelSpec {
        method: "delete".to_owned(),
        url: "/api/v1/jobs/{id}".to_owned(),
    });
    let (method, _) = profile
        .cancel_request(job(Some("x"), &status_url))
        .expect("cancel")
        .expect("ok");
    assert_eq!(method, http::Method::DELETE);
    profile.cancel = Some(CancelSpec {
        method: "PO ST".to_owned(),
        url: "/x".to_owned(),
    });
    let err = profile
        .cancel_request(job(Some("x"), &status_url))
        .expect("cancel")
        .expect_err("bad");
    assert!(matches!(err, InterpretError::BadUrl { ref reason, .. } if reason == "bad method"));
}

#[test]
fn jobs_refuses_bodies_of_other_apis() {
    assert_refuses_other_apis(&Profile::jobs());
}
