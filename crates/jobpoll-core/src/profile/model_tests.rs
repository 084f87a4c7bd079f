//! Profiles and reports as JSON.

use core::time::Duration;

use serde_json::json;

use super::testing::*;
use super::*;

#[test]
fn profiles_round_trip_through_json() {
    for name in Profile::BUILTIN_NAMES {
        let profile = Profile::builtin(name).expect("builtin");
        let text = serde_json::to_string_pretty(&profile).expect("serialize");
        let back: Profile = serde_json::from_str(&text).expect("deserialize");
        assert_eq!(back, profile, "{name}");
    }
    assert!(Profile::builtin("nope").is_none());
    let json = serde_json::to_value(Profile::google_operation()).expect("value");
    assert_eq!(json["completion"], json!({"rule": "google_operation"}));
    assert_eq!(
        json["status_url"],
        json!({"from": "template", "template": "/v1/{id_path}"})
    );
    let json = serde_json::to_value(Profile::azure_operation()).expect("value");
    assert_eq!(json["status_url"]["from"], "headers");
    assert_eq!(json["results"], json!({"url": null, "transform": "as_is"}));
}

#[test]
fn reports_and_errors_serialize() {
    let report = status(
        &Profile::jobs(),
        r#"{"status":"processing","progress_data":{"percentage":45,"estimated_time_remaining":2}}"#,
    );
    let text = serde_json::to_string(&report).expect("serialize");
    assert_eq!(
        serde_json::from_str::<StatusReport>(&text).expect("back"),
        report
    );
    let err = InterpretError::UnknownStatus {
        value: "x".to_owned(),
    };
    assert_eq!(
        serde_json::to_value(&err).expect("err"),
        json!({"problem": "unknown_status", "value": "x"})
    );
}

#[test]
fn a_profile_described_only_as_json_works_end_to_end() {
    let profile: Profile = serde_json::from_str(
        r#"{
            "name": "tasks-v2",
            "completion": {
                "rule": "status",
                "pointer": "/state/phase",
                "values": {"running": ["Pending", "Running"], "succeeded": ["Done"], "failed": ["Error"]}
            },
            "submit_id_pointers": ["/metadata/uid"],
            "status_url": {"from": "template", "template": "/apis/tasks/v2/{id}"},
            "percentage_pointer": "/state/progress",
            "step_pointer": "/state/message",
            "eta_pointer": "/state/remainingSeconds",
            "result_pointer": "/state/output",
            "error_message_pointer": "/state/reason",
            "error_details_pointer": "/state/conditions",
            "results": {"url": "/apis/tasks/v2/{id}/output"},
            "cancel": {"method": "DELETE", "url": "/apis/tasks/v2/{id}"}
        }"#,
    )
    .expect("a CLI user's profile parses");
    assert_eq!(profile.name(), "tasks-v2");
    assert!(!profile.not_found_means_pending());

    let submit = url("https://tasks.example/apis/tasks/v2");
    let sub = profile
        .read_submission(
            &ok(r#"{"metadata":{"uid":"t-42"},"state":{"phase":"Pending"}}"#),
            &submit,
        )
        .expect("submit");
    assert_eq!(sub.job_id.as_deref(), Some("t-42"));
    assert_eq!(
        sub.status_url.as_str(),
        "https://tasks.example/apis/tasks/v2/t-42"
    );

    let r = status(
        &profile,
        r#"{"state":{"phase":"running","progress":"60","message":"copying","remainingSeconds":30}}"#,
    );
    assert_eq!(r.state, Some(JobState::Running));
    assert_eq!(r.status, "running");
    assert_eq!(r.percentage, Some(60.0));
    assert_eq!(r.step.as_deref(), Some("copying"));
    assert_eq!(r.eta, Some(Duration::from_secs(30)));

    let r = status(
        &profile,
        r#"{"state":{"phase":"Done","output":{"rows":10}}}"#,
    );
    assert_eq!(r.state, Some(JobState::Succeeded));
    assert_eq!(r.result, Some(json!({"rows": 10})));

    let r = status(
        &profile,
        r#"{"state":{"phase":"Error","reason":"disk full","conditions":[{"t":"X"}]}}"#,
    );
    assert_eq!(r.state, Some(JobState::Failed));
    assert_eq!(r.error_message.as_deref(), Some("disk full"));
    assert_eq!(r.error_details, Some(json!([{"t": "X"}])));

    assert!(matches!(
        status_err(&profile, r#"{"state":{"phase":"Exploded"}}"#),
        InterpretError::UnknownStatus { .. }
    ));

    let j = job(sub.job_id.as_deref(), &sub.status_url);
    let results = profile.results_url(j).expect("step").expect("url");
    assert_eq!(
        results.as_str(),
        "https://tasks.example/apis/tasks/v2/t-42/output"
    );
    assert_eq!(
        profile
            .read_results(&ok(r#"{"rows":[1,2]}"#))
            .expect("as is"),
        json!({"rows": [1, 2]})
    );
    let (method, cancel) = profile.cancel_request(j).expect("cancel").expect("ok");
    assert_eq!(method, http::Method::DELETE);
    assert_eq!(cancel.as_str(), "https://tasks.example/apis/tasks/v2/t-42");
}
