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

/// Reads `response` as the answer of a job polled in `mode` at `status_url`.
fn read_in(
    profile: &Profile,
    mode: PollMode,
    status_url: &Url,
    response: &http::Response<Bytes>,
) -> Result<StatusReport, InterpretError> {
    let context = StatusContext {
        wants_id: true,
        mode,
        status_url: Some(status_url),
    };
    profile.read_status_in(response, &context)
}

#[test]
fn azure_provisioning_state() {
    let profile = Profile::azure_operation();
    let at = url("https://management.azure.com/vms/v1?api-version=1");
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
        let r = read_in(&profile, PollMode::Resource, &at, &ok(&body)).expect(value);
        assert_eq!(r.state, Some(state), "{value}");
        assert_eq!(r.status, value);
    }
    let body = r#"{"id":"/vms/v1","properties":{"provisioningState":"Succeeded","vmSize":"B2s"}}"#;
    let r = read_in(&profile, PollMode::Resource, &at, &ok(body)).expect("body");
    assert_eq!(
        r.result,
        Some(serde_json::from_str::<Value>(body).expect("json"))
    );
    // A resource without a state is there: done.
    let r = read_in(&profile, PollMode::Resource, &at, &ok(r#"{"id":"v1"}"#)).expect("done");
    assert_eq!(r.state, Some(JobState::Succeeded));
    assert_eq!(r.result, Some(json!({"id": "v1"})));
    // ... but a resource answer must have a body.
    assert!(matches!(
        read_in(&profile, PollMode::Resource, &at, &ok("")),
        Err(InterpretError::MissingField { ref pointer, .. }) if pointer == "/properties/provisioningState"
    ));
    // A monitor's body is not read for a provisioning state.
    let monitor = read_in(
        &profile,
        PollMode::Body,
        &at,
        &ok(r#"{"properties":{"provisioningState":"Succeeded"}}"#),
    );
    assert!(
        matches!(monitor, Err(InterpretError::MissingField { ref pointer, .. }) if pointer == "/status")
    );
}

#[test]
fn azure_location_polling() {
    let profile = Profile::azure_operation();
    let at = url("https://management.azure.com/results/7?api-version=1");
    let read =
        |response: &http::Response<Bytes>| read_in(&profile, PollMode::Location, &at, response);
    let r = read(&response(202, &[("Retry-After", "5")], "")).expect("202");
    assert_eq!(r.state, Some(JobState::Running));
    assert_eq!(r.status, "Accepted");
    assert_eq!(r.moved_to, None);
    let r = read(&response(202, &[], "<html>wait</html>")).expect("202 html");
    assert_eq!(r.state, Some(JobState::Running));
    // A 202 with a status in its body is still a 202: running.
    let r = read(&response(202, &[], r#"{"status":"Succeeded"}"#)).expect("202 json");
    assert_eq!(r.state, Some(JobState::Running));
    // A 202 may move the polling, relative to where it was.
    let r = read(&response(
        202,
        &[("Location", "/results/8?api-version=1")],
        "",
    ))
    .expect("moved");
    assert_eq!(
        r.moved_to.as_ref().map(Url::as_str),
        Some("https://management.azure.com/results/8?api-version=1")
    );
    let r = read(&response(202, &[("Location", at.as_str())], "")).expect("same");
    assert_eq!(r.moved_to, None, "the same URL is not a move");
    let r = read(&response(202, &[("Location", "mailto:a@b")], "")).expect("bad move");
    assert_eq!(
        r.moved_to, None,
        "a Location that is no http(s) URL is not followed"
    );
    let r = read(&response(200, &[], r#"{"name":"vm1","size":3}"#)).expect("200");
    assert_eq!(r.state, Some(JobState::Succeeded));
    assert_eq!(r.result, Some(json!({"name": "vm1", "size": 3})));
    // Done whatever the body says: the HTTP status decides.
    let r = read(&response(201, &[], r#"{"status":"Running"}"#)).expect("201");
    assert_eq!(r.state, Some(JobState::Succeeded));
    let r = read(&response(204, &[], "")).expect("204");
    assert_eq!(r.state, Some(JobState::Succeeded));
    assert_eq!(r.result, None);
    let r = read(&response(200, &[], "")).expect("200 empty");
    assert_eq!(r.state, Some(JobState::Succeeded));
    assert_eq!(r.result, None);
    assert!(matches!(
        read(&response(200, &[], "<html>")),
        Err(InterpretError::NotJson { .. })
    ));
    // An error status says the operation failed, with the Azure error.
    let r = read(&response(
        400,
        &[],
        r#"{"error":{"code":"ProvisioningFailed","message":"quota"}}"#,
    ))
    .expect("400");
    assert_eq!(r.state, Some(JobState::Failed));
    assert_eq!(r.error_message.as_deref(), Some("quota"));
    assert_eq!(
        r.error_details,
        Some(json!({"code": "ProvisioningFailed", "message": "quota"}))
    );
    // Without an Azure error body, it failed all the same.
    let r = read(&response(409, &[], "conflict")).expect("409 text");
    assert_eq!(r.state, Some(JobState::Failed));
    assert_eq!(r.error_message, None);
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

/// A status monitor must say where the operation stands: a 2xx without a
/// `status` (another API's body, an empty body, a status that is not text) is an
/// answer the job cannot read, never a success.
#[test]
fn an_azure_monitor_without_a_status_is_unreadable() {
    let profile = Profile::azure_operation();
    for body in [
        r#"{"name":"operations/1","metadata":{"progressPercent":30}}"#,
        r#"{"id":"vm1","properties":{"provisioningState":"Succeeded"}}"#,
        r#"{"status":7}"#,
        r#"{"status":null}"#,
        "{}",
        "",
    ] {
        for code in [200, 201] {
            let error = profile
                .read_status(&response(code, &[], body))
                .expect_err(body);
            assert!(
                matches!(error, InterpretError::MissingField { ref pointer, .. } if pointer == "/status"),
                "{code} {body}: {error:?}"
            );
        }
    }
    assert!(matches!(
        profile.read_status(&ok("<html>")),
        Err(InterpretError::NotJson { .. })
    ));
    // A 202 from a monitor says "not yet", even without a status.
    let r = profile.read_status(&response(202, &[], "")).expect("202");
    assert_eq!(r.state, Some(JobState::Running));
    let r = status(&profile, r#"{"job_id":"j","status":"processing"}"#);
    assert_eq!(r.state, Some(JobState::Running));
    assert_eq!(r.status, "processing");
}

/// A succeeded monitor may name the final resource in `resourceLocation`; it is
/// followed unless the API says the final state is elsewhere.
#[test]
fn a_succeeded_monitor_may_name_the_final_resource() {
    let monitor = url("https://management.azure.com/operations/op1?api-version=1");
    let body = r#"{"status":"Succeeded","resourceLocation":"/subscriptions/s/things/t1"}"#;
    let profile = Profile::azure_operation();
    let r = read_in(&profile, PollMode::Body, &monitor, &ok(body)).expect("read");
    assert_eq!(
        r.results_url.as_ref().map(Url::as_str),
        Some("https://management.azure.com/subscriptions/s/things/t1")
    );
    let r = read_in(&profile, PollMode::BodyIsResult, &monitor, &ok(body)).expect("read");
    assert_eq!(r.results_url, None, "the monitor's body is the result");
    let running = r#"{"status":"Running","resourceLocation":"/x"}"#;
    let r = read_in(&profile, PollMode::Body, &monitor, &ok(running)).expect("read");
    assert_eq!(r.results_url, None, "only a success names it");
    for via in [FinalStateVia::Location, FinalStateVia::OriginalUri] {
        let mut profile = Profile::azure_operation();
        profile.completion = Completion::AzureOperation {
            final_state_via: Some(via),
        };
        let r = read_in(&profile, PollMode::Body, &monitor, &ok(body)).expect("read");
        assert_eq!(r.results_url, None, "{via:?} chooses the final resource");
    }
    let bad = r#"{"status":"Succeeded","resourceLocation":"mailto:a@b"}"#;
    assert!(matches!(
        read_in(&profile, PollMode::Body, &monitor, &ok(bad)),
        Err(InterpretError::BadUrl { .. })
    ));
}
