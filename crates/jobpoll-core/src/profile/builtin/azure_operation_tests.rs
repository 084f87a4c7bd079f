//! Azure long-running operations: submit, status, results and cancel.

use bytes::Bytes;
use serde_json::{Value, json};
use url::Url;

use crate::profile::testing::*;
use crate::profile::*;

#[test]
fn azure_status_url_from_each_header() {
    let profile = Profile::azure_operation();
    let submit = url(
        "https://management.azure.com/subscriptions/s/resourceGroups/g/providers/P/vms/v1?api-version=2024-01-01",
    );

    let sub = profile
        .read_submission(
            &response(
                201,
                &[
                    (
                        "Azure-AsyncOperation",
                        "https://management.azure.com/operations/op1?api-version=1",
                    ),
                    (
                        "Location",
                        "/subscriptions/s/operationResults/op1?api-version=1",
                    ),
                ],
                r#"{"properties":{"provisioningState":"Creating"}}"#,
            ),
            &submit,
        )
        .expect("sub");
    assert_eq!(sub.job_id, None);
    assert_eq!(
        sub.status_url.as_str(),
        "https://management.azure.com/operations/op1?api-version=1"
    );
    assert_eq!(
        sub.results_url.as_ref().map(Url::as_str),
        Some("https://management.azure.com/subscriptions/s/operationResults/op1?api-version=1")
    );

    let sub = profile
        .read_submission(
            &response(
                202,
                &[(
                    "Operation-Location",
                    "https://eastus.api.cognitive.microsoft.com/ops/42",
                )],
                "",
            ),
            &submit,
        )
        .expect("sub");
    assert_eq!(
        sub.status_url.as_str(),
        "https://eastus.api.cognitive.microsoft.com/ops/42"
    );
    assert_eq!(sub.results_url, None);

    let sub = profile
        .read_submission(
            &response(202, &[("location", "../results/7")], "not json"),
            &submit,
        )
        .expect("sub");
    assert_eq!(
        sub.status_url.as_str(),
        "https://management.azure.com/subscriptions/s/resourceGroups/g/providers/P/results/7"
    );
    assert_eq!(
        sub.results_url, None,
        "Location polled as status is not also the results"
    );

    let status_url = sub.status_url.clone();
    assert!(profile.results_url(job(None, &status_url)).is_none());
    let results = url("https://management.azure.com/final");
    let j = JobRef {
        job_id: None,
        status_url: &status_url,
        results_url: Some(&results),
    };
    assert_eq!(profile.results_url(j).expect("step").expect("url"), results);
    assert!(profile.cancel_request(j).is_none());
}

#[test]
fn azure_submit_header_problems() {
    let profile = Profile::azure_operation();
    let submit = url("https://management.azure.com/x");
    let err = profile
        .read_submission(&response(202, &[], "{}"), &submit)
        .expect_err("no header");
    assert!(
        matches!(err, InterpretError::MissingField { ref pointer, .. } if pointer.contains("Azure-AsyncOperation"))
    );
    let err = profile
        .read_submission(
            &response(202, &[("Azure-AsyncOperation", "ftp://x/y")], ""),
            &submit,
        )
        .expect_err("ftp");
    assert!(matches!(err, InterpretError::BadUrl { .. }));
    let bad = http::Response::builder()
        .status(202)
        .header(
            "Operation-Location",
            http::HeaderValue::from_bytes(b"https://x/\xFF").expect("value"),
        )
        .body(Bytes::new())
        .expect("response");
    assert!(matches!(
        profile.read_submission(&bad, &submit),
        Err(InterpretError::BadUrl { .. })
    ));
    // A broken secondary Location does not spoil a usable status header.
    let sub = profile
        .read_submission(
            &response(
                202,
                &[
                    ("Azure-AsyncOperation", "https://x/op"),
                    ("Location", "mailto:a@b"),
                ],
                "",
            ),
            &submit,
        )
        .expect("sub");
    assert_eq!(sub.results_url, None);
}

#[test]
fn azure_operation_status_values() {
    let profile = Profile::azure_operation();
    for (value, state) in [
        ("NotStarted", JobState::Running),
        ("Running", JobState::Running),
        ("InProgress", JobState::Running),
        ("Accepted", JobState::Running),
        ("succeeded", JobState::Succeeded),
        ("Succeeded", JobState::Succeeded),
        ("Failed", JobState::Failed),
        ("Canceled", JobState::Cancelled),
        ("Cancelled", JobState::Cancelled),
    ] {
        let r = status(
            &profile,
            &format!(r#"{{"id":"op1","status":"{value}","percentComplete":12.5}}"#),
        );
        assert_eq!(r.state, Some(state), "{value}");
        assert_eq!(r.status, value);
        assert_eq!(r.percentage, Some(12.5));
    }
    let r = status(
        &profile,
        r#"{"id":"op1","status":"Failed","error":{"code":"QuotaExceeded","message":"Quota exceeded for cores"}}"#,
    );
    assert_eq!(r.error_message.as_deref(), Some("Quota exceeded for cores"));
    assert_eq!(
        r.error_details,
        Some(json!({"code": "QuotaExceeded", "message": "Quota exceeded for cores"}))
    );
    let r = status(&profile, r#"{"status":"Failed"}"#);
    assert_eq!(r.error_message.as_deref(), Some("the job failed"));
}

#[test]
fn azure_provisioning_state() {
    let profile = Profile::azure_operation();
    for (value, state) in [
        ("Creating", JobState::Running),
        ("Updating", JobState::Running),
        ("Deleting", JobState::Running),
        ("Succeeded", JobState::Succeeded),
        ("Failed", JobState::Failed),
        ("Canceled", JobState::Cancelled),
    ] {
        let body = format!(
            r#"{{"id":"/subscriptions/s/vms/v1","properties":{{"provisioningState":"{value}"}}}}"#
        );
        let r = status(&profile, &body);
        assert_eq!(r.state, Some(state), "{value}");
        assert_eq!(r.status, value);
    }
    let body = r#"{"id":"/vms/v1","properties":{"provisioningState":"Succeeded","vmSize":"B2s"}}"#;
    assert_eq!(
        status(&profile, body).result,
        Some(serde_json::from_str::<Value>(body).expect("json"))
    );
}

#[test]
fn azure_location_polling() {
    let profile = Profile::azure_operation();
    let r = profile
        .read_status(&response(202, &[("Retry-After", "5")], ""))
        .expect("202");
    assert_eq!(r.state, Some(JobState::Running));
    assert_eq!(r.status, "Accepted");
    let r = profile
        .read_status(&response(202, &[], "<html>wait</html>"))
        .expect("202 html");
    assert_eq!(r.state, Some(JobState::Running));
    let r = profile
        .read_status(&response(202, &[], "{}"))
        .expect("202 json");
    assert_eq!(r.state, Some(JobState::Running));
    let r = profile
        .read_status(&response(200, &[], r#"{"name":"vm1","size":3}"#))
        .expect("200");
    assert_eq!(r.state, Some(JobState::Succeeded));
    assert_eq!(r.result, Some(json!({"name": "vm1", "size": 3})));
    let r = profile.read_status(&response(204, &[], "")).expect("204");
    assert_eq!(r.state, Some(JobState::Succeeded));
    assert_eq!(r.result, None);
    let r = profile
        .read_status(&response(200, &[], ""))
        .expect("200 empty");
    assert_eq!(r.state, Some(JobState::Succeeded));
    assert_eq!(r.result, None);
    assert!(matches!(
        profile.read_status(&response(200, &[], "<html>")),
        Err(InterpretError::NotJson { .. })
    ));
    let final_body = profile
        .read_results(&response(200, &[], r#"{"name":"vm1"}"#))
        .expect("results");
    assert_eq!(final_body, json!({"name": "vm1"}));
    assert_eq!(
        profile
            .read_results(&response(204, &[], ""))
            .expect("empty"),
        Value::Null
    );
}

/// Azure's own rule reads any 2xx body: a 200 without a status is the final
/// resource of `Location` polling, which can be any JSON, so other APIs' bodies
/// are not refused (see the decisions, "Profiles").
#[test]
fn azure_reads_other_apis_bodies_by_its_own_rule() {
    let profile = Profile::azure_operation();
    let google = r#"{"name":"operations/1","metadata":{"progressPercent":30}}"#;
    let r = status(&profile, google);
    assert_eq!(r.state, Some(JobState::Succeeded));
    assert_eq!(
        r.result,
        Some(serde_json::from_str::<Value>(google).expect("json"))
    );
    let r = status(&profile, r#"{"job_id":"j","status":"processing"}"#);
    assert_eq!(r.state, Some(JobState::Running));
    assert_eq!(r.status, "processing");
}
