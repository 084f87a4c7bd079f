//! Turns, polled for their growing blocks: submit, status, results and cancel.

use serde_json::{Value, json};

use crate::profile::testing::*;
use crate::profile::*;

#[test]
fn turn_submit_resolves_below_the_submit_url() {
    let profile = Profile::turn();
    let submit = url("https://uspark.example/api/projects/p1/sessions/s1/turns");
    let sub = profile
        .read_submission(&ok(r#"{"id":"turn 1","status":"pending"}"#), &submit)
        .expect("sub");
    assert_eq!(sub.job_id.as_deref(), Some("turn 1"));
    assert_eq!(
        sub.status_url.as_str(),
        "https://uspark.example/api/projects/p1/sessions/s1/turns/turn%201"
    );
    let submit = url("https://uspark.example/api/projects/p1/sessions/s1/turns/?x=1");
    let sub = profile
        .read_submission(&ok(r#"{"id":"t2"}"#), &submit)
        .expect("sub");
    assert_eq!(
        sub.status_url.as_str(),
        "https://uspark.example/api/projects/p1/sessions/s1/turns/t2"
    );
}

#[test]
fn turn_revision_counts_blocks_and_carries_the_body() {
    let profile = Profile::turn();
    let r = status(&profile, r#"{"id":"t1","status":"pending","blocks":[]}"#);
    assert_eq!(r.state, Some(JobState::Running));
    assert_eq!(r.revision, Some(0));
    let body = r#"{"id":"t1","status":"running","blocks":[{"id":"b1","type":"text"},{"id":"b2","type":"tool_use"}]}"#;
    let r = status(&profile, body);
    assert_eq!(r.state, Some(JobState::Running));
    assert_eq!(r.revision, Some(2));
    assert_eq!(
        r.body,
        Some(serde_json::from_str::<Value>(body).expect("json"))
    );
    let r = status(&profile, r#"{"id":"t1","status":"running"}"#);
    assert_eq!(r.revision, None);
    assert!(r.body.is_some());
    let r = status(
        &profile,
        r#"{"id":"t1","status":"completed","blocks":[{"id":"b1"}]}"#,
    );
    assert_eq!(r.state, Some(JobState::Succeeded));
    assert_eq!(r.revision, Some(1));
    assert_eq!(
        r.result,
        Some(json!({"id": "t1", "status": "completed", "blocks": [{"id": "b1"}]}))
    );
}

#[test]
fn turn_failure_message_from_error() {
    let profile = Profile::turn();
    let r = status(
        &profile,
        r#"{"id":"t1","status":"failed","blocks":[],"error":"sandbox crashed"}"#,
    );
    assert_eq!(r.state, Some(JobState::Failed));
    assert_eq!(r.error_message.as_deref(), Some("sandbox crashed"));
    assert_eq!(r.result, None);
}

#[test]
fn turn_refuses_bodies_of_other_apis() {
    assert_refuses_other_apis(&Profile::turn());
}
