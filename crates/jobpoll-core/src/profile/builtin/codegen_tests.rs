//! Code generation, with its results step: submit, status, results and cancel.

use serde_json::{Value, json};

use crate::profile::testing::*;
use crate::profile::*;

#[test]
fn codegen_submit_accepts_both_id_spellings() {
    let profile = Profile::codegen();
    let submit = url("https://kubegram.example/api/v1/public/graph/codegen");
    for body in [r#"{"jobId":"job-456"}"#, r#"{"job_id":"job-456"}"#] {
        let sub = profile
            .read_submission(&ok(body), &submit)
            .expect("submission");
        assert_eq!(sub.job_id.as_deref(), Some("job-456"));
        assert_eq!(
            sub.status_url.as_str(),
            "https://kubegram.example/api/v1/public/graph/codegen/job-456/status"
        );
    }
    let sub = profile
        .read_submission(&ok(r#"{"jobId": 789}"#), &submit)
        .expect("int id");
    assert_eq!(sub.job_id.as_deref(), Some("789"));
}

#[test]
fn codegen_statuses_and_failure() {
    let profile = Profile::codegen();
    for (value, state) in [
        ("pending", JobState::Running),
        ("running", JobState::Running),
        ("completed", JobState::Succeeded),
        ("failed", JobState::Failed),
    ] {
        let r = status(
            &profile,
            &format!(r#"{{"jobId":"job-456","status":"{value}"}}"#),
        );
        assert_eq!(r.state, Some(state));
        assert_eq!(r.result, None, "codegen results come from the results step");
    }
    let r = status(
        &profile,
        r#"{"jobId":"j","status":"failed","error":"LLM quota exceeded"}"#,
    );
    assert_eq!(r.error_message.as_deref(), Some("LLM quota exceeded"));
    let r = status(
        &profile,
        r#"{"jobId":"j","status":"failed","message":"graph invalid"}"#,
    );
    assert_eq!(r.error_message.as_deref(), Some("graph invalid"));
    let r = status(
        &profile,
        r#"{"jobId":"j","status":"failed","error":{"message":"nested"}}"#,
    );
    assert_eq!(r.error_message.as_deref(), Some("nested"));
    assert_eq!(r.error_details, Some(json!({"message": "nested"})));
    let r = status(&profile, r#"{"jobId":"j","status":"failed"}"#);
    assert_eq!(r.error_message.as_deref(), Some("the job failed"));
    assert!(matches!(
        status_err(&profile, r#"{"jobId":"j","status":"cancelled"}"#),
        InterpretError::UnknownStatus { ref value } if value == "cancelled"
    ));
}

#[test]
fn codegen_results_url_and_no_cancel() {
    let profile = Profile::codegen();
    let status_url = url("https://kubegram.example/api/v1/public/graph/codegen/job-456/status");
    let results = profile
        .results_url(job(Some("job-456"), &status_url))
        .expect("step")
        .expect("url");
    assert_eq!(
        results.as_str(),
        "https://kubegram.example/api/v1/public/graph/codegen/job-456/results"
    );
    assert!(
        profile
            .cancel_request(job(Some("job-456"), &status_url))
            .is_none()
    );
    // The id is read from a status URL the template made ...
    assert_eq!(
        profile
            .results_url(job(None, &status_url))
            .expect("step")
            .expect("id from the URL"),
        results
    );
    // ... and is missing from any other.
    let elsewhere = url("https://kubegram.example/api/v1/public/elsewhere/job-456");
    let err = profile
        .results_url(job(None, &elsewhere))
        .expect("step")
        .expect_err("no id");
    assert!(matches!(err, InterpretError::MissingField { ref pointer, .. } if pointer == "job id"));
}

#[test]
fn codegen_results_are_reshaped_by_graph() {
    let profile = Profile::codegen();
    let body = r#"{
        "graphId": "graph-123",
        "jobId": "job-456",
        "timestamp": "2026-02-06T12:00:00Z",
        "generatedCodes": [
            {"nodeId": "node-1", "code": "import React from 'react';", "language": "javascript", "framework": "react"},
            {"nodeId": "node-2", "code": "apiVersion: v1"},
            {"nodeId": "node-1", "code": "export default App;"}
        ],
        "summary": {"totalNodes": 2, "successfulGenerations": 2, "failedGenerations": 0}
    }"#;
    let reshaped = profile.read_results(&ok(body)).expect("results");
    assert_eq!(
        reshaped,
        json!({"graph-123": {
            "node-1": ["import React from 'react';", "export default App;"],
            "node-2": ["apiVersion: v1"]
        }})
    );
    let empty = codegen_by_graph(&json!({"graphId": "g", "generatedCodes": []})).expect("empty");
    assert_eq!(empty, json!({"g": {}}));
}

#[test]
fn codegen_by_graph_names_missing_fields() {
    let pointer_of = |value: Value| match codegen_by_graph(&value) {
        Err(InterpretError::MissingField { pointer, .. }) => pointer,
        other => panic!("expected MissingField, got {other:?}"),
    };
    assert_eq!(pointer_of(json!({"generatedCodes": []})), "/graphId");
    assert_eq!(
        pointer_of(json!({"graphId": 5, "generatedCodes": []})),
        "/graphId"
    );
    assert_eq!(pointer_of(json!({"graphId": "g"})), "/generatedCodes");
    assert_eq!(
        pointer_of(
            json!({"graphId": "g", "generatedCodes": [{"nodeId": "a", "code": "x"}, {"nodeId": "b", "code": 1}]})
        ),
        "/generatedCodes/1/code"
    );
    assert_eq!(
        pointer_of(json!({"graphId": "g", "generatedCodes": [{"code": "x"}]})),
        "/generatedCodes/0/nodeId"
    );
    assert_eq!(pointer_of(json!([1, 2])), "/graphId");
    let profile = Profile::codegen();
    assert!(matches!(
        profile.read_results(&ok("")),
        Err(InterpretError::MissingField { .. })
    ));
    assert!(matches!(
        profile.read_results(&ok("<html>")),
        Err(InterpretError::NotJson { .. })
    ));
}

#[test]
fn codegen_refuses_bodies_of_other_apis() {
    assert_refuses_other_apis(&Profile::codegen());
}
