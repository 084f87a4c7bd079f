//! `Profile::explain`: the report, and each field's pointer and what it found.

use serde_json::json;

use super::testing::*;
use super::*;

fn reading<'e>(explanation: &'e Explanation, field: &str) -> &'e FieldReading {
    explanation
        .fields
        .iter()
        .find(|f| f.field == field)
        .unwrap_or_else(|| panic!("no {field} in {explanation}"))
}

#[test]
fn each_field_says_what_its_pointer_found() {
    let body = r#"{"job_id":"j-1","status":"processing","progress_data":{"percentage":45,"current_step":7},"result":{"a":1}}"#;
    let explanation = Profile::jobs().explain(&ok(body));
    assert!(explanation.is_readable());
    assert_eq!(explanation.http_status, 200);
    let report = explanation.report.as_ref().expect("report");
    assert_eq!(report.state, Some(JobState::Running));
    assert_eq!(report.percentage, Some(45.0));
    assert_eq!(
        reading(&explanation, "completion.pointer").found,
        Finding::Value {
            at: "/status".to_owned(),
            excerpt: "\"processing\"".to_owned()
        }
    );
    assert_eq!(
        reading(&explanation, "step_pointer").to_string(),
        "step_pointer: /progress_data/current_step -> wrong type: expected string, found number 7"
    );
    assert_eq!(
        reading(&explanation, "eta_pointer").to_string(),
        "eta_pointer: /progress_data/estimated_time_remaining -> nothing"
    );
    // An alternative that found the value is named.
    assert_eq!(
        reading(&explanation, "result_pointer").to_string(),
        "result_pointer: /result_data|/result -> {\"a\":1} (at /result)"
    );
    let text = explanation.to_string();
    for line in [
        "profile: jobs",
        "HTTP status: 200",
        "state: running",
        "status: processing",
        "progress: 45%",
        "job id: j-1",
        "fields:",
        "  submit_id_pointers.0: /job_id -> \"j-1\"",
        "  percentage_pointer: /progress_data/percentage -> 45",
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} in\n{text}");
    }
}

#[test]
fn an_unreadable_answer_says_why_and_what_was_looked_for() {
    let explanation = Profile::jobs().explain(&ok("<html>busy</html>"));
    assert!(!explanation.is_readable());
    assert!(matches!(
        explanation.error,
        Some(InterpretError::NotJson { .. })
    ));
    assert!(
        explanation
            .fields
            .iter()
            .all(|f| f.found == Finding::NotRead)
    );
    let text = explanation.to_string();
    assert!(
        text.contains(
            "unreadable: the server answered with an HTML page, not JSON: is the URL right, \
             or is this a login page? <html>busy</html>"
        ),
        "{text}"
    );
    assert!(
        text.contains("completion.pointer: /status -> nothing (the body is not JSON)"),
        "{text}"
    );
    let explanation = Profile::jobs().explain(&ok(r#"{"status":"exploded"}"#));
    assert!(
        explanation
            .job_view()
            .to_string()
            .starts_with("unreadable: unknown job status \"exploded\"")
    );
}

#[test]
fn the_ratio_and_the_rules_without_pointers_are_explained() {
    let mut profile = Profile::jobs();
    profile.progress_ratio = Some(ProgressRatio {
        done: "/processed".to_owned(),
        total: "/total".to_owned(),
    });
    let explanation = profile.explain(&ok(r#"{"status":"queued","processed":1,"total":"x"}"#));
    assert_eq!(
        reading(&explanation, "progress_ratio.done").to_string(),
        "progress_ratio.done: /processed -> 1"
    );
    assert!(
        reading(&explanation, "progress_ratio.total")
            .to_string()
            .contains("wrong type: expected number (or a string holding one), found string \"x\"")
    );
    let explanation = Profile::google_operation().explain(&ok(r#"{"name":"operations/1"}"#));
    assert_eq!(
        reading(&explanation, "completion (done)").found,
        Finding::Nothing
    );
    let explanation = Profile::file_tasks().explain(&ok(r#"{"id":"f","tasks":[]}"#));
    assert!(explanation.is_readable());
    assert_eq!(
        reading(&explanation, "completion.tasks_pointer").found,
        Finding::Value {
            at: "/tasks".to_owned(),
            excerpt: "[]".to_owned()
        }
    );
}

#[test]
fn an_explanation_is_json_too() {
    let explanation = Profile::jobs().explain(&response(202, &[], r#"{"status":"queued"}"#));
    let value = serde_json::to_value(&explanation).expect("writes");
    assert_eq!(value["profile"], json!("jobs"));
    assert_eq!(value["http_status"], json!(202));
    assert_eq!(value["report"]["state"], json!("running"));
    assert_eq!(
        value["fields"][0],
        json!({"field": "completion.pointer", "pointer": "/status", "expected": "string",
               "found": {"found": "value", "at": "/status", "excerpt": "\"queued\""}})
    );
    let back: Explanation = serde_json::from_value(value).expect("reads");
    assert_eq!(back, explanation);
}
