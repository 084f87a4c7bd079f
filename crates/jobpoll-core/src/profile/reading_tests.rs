//! Status reads a custom profile may ask for: any other status value meaning
//! running, and progress as a ratio of two counts. Each is checked on the tree
//! read (the reference) and on `read_status` (the sparse read where it applies).

use serde_json::json;

use super::testing::*;
use super::*;

/// Reads `body` both ways; they must agree.
fn both(profile: &Profile, body: &str) -> Result<StatusReport, InterpretError> {
    let fast = profile.read_status(&ok(body));
    assert_eq!(fast, profile.read_status_by_tree(&ok(body)), "{body}");
    fast
}

fn queue(unknown_means_running: bool) -> Profile {
    let mut profile = Profile::jobs();
    if let Completion::Status { values, .. } = &mut profile.completion {
        values.unknown_means_running = unknown_means_running;
    }
    profile
}

#[test]
fn any_other_status_value_may_mean_running() {
    let body = r#"{"status":"warming_up","progress_data":{"percentage":5}}"#;
    assert!(matches!(
        both(&queue(false), body),
        Err(InterpretError::UnknownStatus { .. })
    ));
    let report = both(&queue(true), body).expect("reads");
    assert_eq!(report.state, Some(JobState::Running));
    assert_eq!(report.status, "warming_up");
    assert_eq!(report.percentage, Some(5.0));
    // The sets still win; a status that is missing or not a string still is not
    // a status.
    let report = both(&queue(true), r#"{"status":"FAILED"}"#).expect("reads");
    assert_eq!(report.state, Some(JobState::Failed));
    assert!(matches!(
        both(&queue(true), r#"{"status":7}"#),
        Err(InterpretError::MissingField { .. })
    ));
    assert!(matches!(
        both(&queue(true), r#"{"state":"x"}"#),
        Err(InterpretError::NotThisApi { .. })
    ));
}

#[test]
fn unknown_means_running_is_written_in_json_only_when_set() {
    let text = r#"{
        "name": "q",
        "completion": {"rule": "status", "pointer": "/state",
            "values": {"succeeded": ["done"], "failed": ["error"], "unknown_means_running": true}},
        "status_url": {"from": "template", "template": "{id}"}
    }"#;
    let profile = Profile::from_json(text).expect("reads");
    assert_eq!(
        both(&profile, r#"{"state":"anything"}"#)
            .expect("reads")
            .state,
        Some(JobState::Running)
    );
    let json = serde_json::to_value(&profile).expect("writes");
    assert_eq!(
        json["completion"]["values"]["unknown_means_running"],
        json!(true)
    );
    let json = serde_json::to_value(Profile::jobs()).expect("writes");
    assert!(
        json["completion"]["values"]
            .get("unknown_means_running")
            .is_none()
    );
}

fn counted() -> Profile {
    let mut profile = Profile::jobs();
    profile.percentage_pointer = None;
    profile.progress_ratio = Some(ProgressRatio {
        done: "/processed|/counts/done".to_owned(),
        total: "/total|/counts/total".to_owned(),
    });
    profile
}

#[test]
fn progress_may_be_a_ratio_of_two_counts() {
    let percent = |body: &str| both(&counted(), body).expect("reads").percentage;
    assert_eq!(
        percent(r#"{"status":"processing","processed":3,"total":12}"#),
        Some(25.0)
    );
    // Alternatives, numbers as strings.
    assert_eq!(
        percent(r#"{"status":"processing","counts":{"done":"1","total":"4"}}"#),
        Some(25.0)
    );
    // Clamped to 0..=100.
    assert_eq!(
        percent(r#"{"status":"processing","processed":15,"total":12}"#),
        Some(100.0)
    );
    assert_eq!(
        percent(r#"{"status":"processing","processed":-3,"total":12}"#),
        Some(0.0)
    );
    // No total, a zero total, no count done, or counts of the wrong type: no
    // progress.
    for body in [
        r#"{"status":"processing","processed":3}"#,
        r#"{"status":"processing","processed":3,"total":0}"#,
        r#"{"status":"processing","processed":3,"total":-0.0}"#,
        r#"{"status":"processing","total":12}"#,
        r#"{"status":"processing","processed":3,"total":"many"}"#,
        r#"{"status":"processing","processed":[3],"total":12}"#,
        r#"{"status":"processing","processed":"inf","total":"inf"}"#,
    ] {
        assert_eq!(percent(body), None, "{body}");
    }
}

#[test]
fn a_percentage_wins_over_the_ratio() {
    let mut profile = counted();
    profile.percentage_pointer = Some("/pct".to_owned());
    let body = r#"{"status":"processing","pct":40,"processed":1,"total":2}"#;
    assert_eq!(both(&profile, body).expect("reads").percentage, Some(40.0));
    let body = r#"{"status":"processing","pct":"n/a","processed":1,"total":2}"#;
    assert_eq!(both(&profile, body).expect("reads").percentage, Some(50.0));
}

#[test]
fn the_ratio_is_read_by_the_sparse_read() {
    let profile = counted();
    let body = br#"{"status":"processing","processed":3,"total":12}"#;
    let sparse = profile
        .read_status_sparse(body)
        .expect("the sparse read answers");
    assert_eq!(sparse.expect("reads").percentage, Some(25.0));
}

#[test]
fn a_ratio_reads_from_json() {
    let mut doc = serde_json::to_value(Profile::jobs()).expect("writes");
    doc["percentage_pointer"] = json!(null);
    doc["progress_ratio"] = json!({"done": "/processed", "total": "/total"});
    let profile = Profile::from_json(&doc.to_string()).expect("reads");
    let report = both(&profile, r#"{"status":"queued","processed":1,"total":8}"#).expect("reads");
    assert_eq!(report.percentage, Some(12.5));
}
