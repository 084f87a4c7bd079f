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
