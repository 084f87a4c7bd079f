//! Reading submit responses.

use serde_json::json;

use super::testing::*;
use super::*;

#[test]
fn submit_id_problems() {
    let profile = Profile::codegen();
    let submit = url("https://h.example/api/v1/public/graph/codegen");
    for body in [
        r#"{"jobId":""}"#,
        r#"{"jobId":null}"#,
        r#"{"jobId":1.5}"#,
        r#"{}"#,
        "[]",
    ] {
        let err = profile.read_submission(&ok(body), &submit).expect_err(body);
        assert!(
            matches!(err, InterpretError::MissingField { ref pointer, .. } if pointer == "/jobId or /job_id"),
            "{body}: {err:?}"
        );
    }
    assert!(matches!(
        profile.read_submission(&ok("oops"), &submit),
        Err(InterpretError::NotJson { .. })
    ));
    // The first usable pointer wins; an empty one falls through to the next.
    let sub = profile
        .read_submission(&ok(r#"{"jobId":"","job_id":"j2"}"#), &submit)
        .expect("sub");
    assert_eq!(sub.job_id.as_deref(), Some("j2"));
}

#[test]
fn headers_rule_with_an_id_pointer() {
    let profile: Profile = serde_json::from_value(json!({
        "name": "hdr",
        "completion": {"rule": "status", "pointer": "/s", "values": {"running": ["r"], "succeeded": ["ok"]}},
        "submit_id_pointers": ["/id"],
        "status_url": {"from": "headers", "names": ["Location"]}
    }))
    .expect("profile");
    let submit = url("https://h.example/jobs");
    let sub = profile
        .read_submission(
            &response(202, &[("Location", "/jobs/9/status")], r#"{"id":9}"#),
            &submit,
        )
        .expect("sub");
    assert_eq!(sub.job_id.as_deref(), Some("9"));
    assert_eq!(sub.status_url.as_str(), "https://h.example/jobs/9/status");
    let sub = profile
        .read_submission(
            &response(202, &[("Location", "/jobs/9/status")], ""),
            &submit,
        )
        .expect("id optional");
    assert_eq!(sub.job_id, None);
}

/// A job that does not know its id learns it from the id header of a status
/// answer; the header is not read when the id is not wanted, nor when the body
/// already names it.
#[test]
fn a_status_answer_gives_the_id_in_the_profiles_id_header() {
    let mut profile = Profile::jobs();
    profile.submit_id_header = Some("X-Job-Id".to_owned());
    let answer = response(200, &[("X-Job-Id", " h-9 ")], r#"{"status":"processing"}"#);
    let wanted = StatusContext::default();
    let report = profile.read_status_in(&answer, &wanted).expect("reads");
    assert_eq!(report.job_id.as_deref(), Some("h-9"));
    let unwanted = StatusContext {
        wants_id: false,
        ..StatusContext::default()
    };
    let report = profile.read_status_in(&answer, &unwanted).expect("reads");
    assert_eq!(report.job_id, None);
    let named = response(
        200,
        &[("X-Job-Id", "h-9")],
        r#"{"job_id":"b-1","status":"processing"}"#,
    );
    let report = profile.read_status_in(&named, &wanted).expect("reads");
    assert_eq!(report.job_id.as_deref(), Some("b-1"));
    let empty = response(200, &[("X-Job-Id", "  ")], r#"{"status":"processing"}"#);
    let report = profile.read_status_in(&empty, &wanted).expect("reads");
    assert_eq!(report.job_id, None, "an empty header is no id");
}
