//! Azure long-running operations: how the submit answer chooses the way to poll,
//! when it already ends the operation, and where the final resource is.

use serde_json::json;
use url::Url;

use crate::profile::testing::*;
use crate::profile::*;

const RESOURCE: &str = "https://management.azure.com/subscriptions/s/things/t1?api-version=1";
const MONITOR: &str = "https://management.azure.com/operations/op1";
const LOCATION: &str = "https://management.azure.com/operationResults/op1";

fn submit_with(
    via: Option<FinalStateVia>,
    method: http::Method,
    code: u16,
    headers: &[(&str, &str)],
    body: &str,
) -> Submission {
    let mut profile = Profile::azure_operation();
    profile.completion = Completion::AzureOperation {
        final_state_via: via,
    };
    profile
        .read_submission_to(&response(code, headers, body), &method, &url(RESOURCE))
        .unwrap_or_else(|e| panic!("{method} {code} {headers:?}: {e}"))
}

fn submit(method: http::Method, code: u16, headers: &[(&str, &str)], body: &str) -> Submission {
    submit_with(None, method, code, headers, body)
}

fn results(sub: &Submission) -> Option<&str> {
    sub.results_url.as_ref().map(Url::as_str)
}

#[test]
fn a_monitor_header_is_polled_and_the_method_says_where_the_result_is() {
    use http::Method;
    let both = [("Azure-AsyncOperation", MONITOR), ("Location", LOCATION)];
    let monitor_only = [("Operation-Location", MONITOR)];
    for (method, headers, expected) in [
        (Method::PUT, &both[..], Some(RESOURCE)),
        (Method::PUT, &monitor_only[..], Some(RESOURCE)),
        (Method::PATCH, &both[..], Some(RESOURCE)),
        (Method::POST, &both[..], Some(LOCATION)),
        (Method::POST, &monitor_only[..], None),
        (Method::DELETE, &both[..], None),
        (Method::DELETE, &monitor_only[..], None),
    ] {
        for code in [200, 201, 202, 204] {
            let sub = submit(method.clone(), code, headers, "");
            assert_eq!(sub.status_url.as_str(), MONITOR, "{method} {code}");
            assert_eq!(sub.mode, PollMode::Body, "{method} {code}");
            assert_eq!(results(&sub), expected, "{method} {code} {headers:?}");
            assert_eq!(sub.finished, None, "a monitor is always polled");
        }
    }
    // Azure-AsyncOperation is preferred to Operation-Location.
    let sub = submit(
        Method::PUT,
        201,
        &[
            ("Operation-Location", "https://management.azure.com/other"),
            ("Azure-AsyncOperation", MONITOR),
        ],
        "",
    );
    assert_eq!(sub.status_url.as_str(), MONITOR);
}

#[test]
fn final_state_via_chooses_the_final_resource() {
    use http::Method;
    let both = [("Azure-AsyncOperation", MONITOR), ("Location", LOCATION)];
    let monitor_only = [("Azure-AsyncOperation", MONITOR)];
    for (via, method, headers, mode, expected) in [
        (
            FinalStateVia::Location,
            Method::PUT,
            &both[..],
            PollMode::Body,
            Some(LOCATION),
        ),
        (
            FinalStateVia::Location,
            Method::DELETE,
            &both[..],
            PollMode::Body,
            Some(LOCATION),
        ),
        // Without a Location the default rule applies.
        (
            FinalStateVia::Location,
            Method::PUT,
            &monitor_only[..],
            PollMode::Body,
            Some(RESOURCE),
        ),
        (
            FinalStateVia::AzureAsyncOperation,
            Method::POST,
            &both[..],
            PollMode::BodyIsResult,
            None,
        ),
        (
            FinalStateVia::OperationLocation,
            Method::POST,
            &both[..],
            PollMode::BodyIsResult,
            None,
        ),
        // After PUT the resource is still the request URL.
        (
            FinalStateVia::AzureAsyncOperation,
            Method::PUT,
            &both[..],
            PollMode::Body,
            Some(RESOURCE),
        ),
        (
            FinalStateVia::OriginalUri,
            Method::POST,
            &both[..],
            PollMode::Body,
            Some(RESOURCE),
        ),
        (
            FinalStateVia::OriginalUri,
            Method::DELETE,
            &monitor_only[..],
            PollMode::Body,
            Some(RESOURCE),
        ),
    ] {
        let sub = submit_with(Some(via), method.clone(), 202, headers, "");
        assert_eq!(sub.mode, mode, "{via:?} {method}");
        assert_eq!(results(&sub), expected, "{via:?} {method} {headers:?}");
    }
}

#[test]
fn a_location_alone_is_polled_by_http_status() {
    for method in [http::Method::PUT, http::Method::POST, http::Method::DELETE] {
        let sub = submit(
            method.clone(),
            202,
            &[("Location", "/operationResults/op1")],
            "",
        );
        assert_eq!(sub.status_url.as_str(), LOCATION, "{method}");
        assert_eq!(sub.mode, PollMode::Location, "{method}");
        assert_eq!(
            sub.results_url, None,
            "the last Location answer is the result"
        );
        assert_eq!(sub.finished, None);
    }
}

#[test]
fn put_or_patch_without_a_header_polls_the_resource_unless_it_is_done() {
    use http::Method;
    let creating = r#"{"id":"t1","properties":{"provisioningState":"Creating"}}"#;
    let succeeded = r#"{"id":"t1","properties":{"provisioningState":"Succeeded"}}"#;
    let failed = r#"{"id":"t1","properties":{"provisioningState":"Failed"}}"#;
    let plain = r#"{"id":"t1"}"#;
    for method in [Method::PUT, Method::PATCH] {
        for (code, body, ended) in [
            (202, "", None),
            (201, creating, None),
            (201, plain, None),
            (200, creating, None),
            (201, succeeded, Some(JobState::Succeeded)),
            (200, succeeded, Some(JobState::Succeeded)),
            (200, plain, Some(JobState::Succeeded)),
            (200, failed, Some(JobState::Failed)),
            (204, "", Some(JobState::Succeeded)),
        ] {
            let sub = submit(method.clone(), code, &[], body);
            assert_eq!(sub.status_url.as_str(), RESOURCE, "{method} {code}");
            assert_eq!(sub.mode, PollMode::Resource, "{method} {code}");
            let state = sub.finished.as_ref().and_then(|report| report.state);
            assert_eq!(state, ended, "{method} {code} {body}");
        }
    }
    let sub = submit(Method::PUT, 200, &[], succeeded);
    let report = sub.finished.expect("done");
    assert_eq!(
        report.result,
        Some(serde_json::from_str(succeeded).expect("json"))
    );
    let sub = submit(Method::PUT, 200, &[], failed);
    assert_eq!(
        sub.finished.expect("done").error_message.as_deref(),
        Some("the job failed")
    );
}

#[test]
fn post_or_delete_without_a_header_is_done_at_once_with_its_body() {
    for method in [http::Method::POST, http::Method::DELETE] {
        let sub = submit(method.clone(), 200, &[], r#"{"answer":42}"#);
        let report = sub.finished.expect("done");
        assert_eq!(report.state, Some(JobState::Succeeded), "{method}");
        assert_eq!(report.result, Some(json!({"answer": 42})));
        let sub = submit(method.clone(), 204, &[], "");
        assert_eq!(sub.finished.expect("done").result, None, "{method}");
    }
    let profile = Profile::azure_operation();
    assert!(matches!(
        profile.read_submission(&response(200, &[], "<html>"), &url(RESOURCE)),
        Err(InterpretError::NotJson { .. })
    ));
}

#[test]
fn azure_repeats_a_submit_after_500_503_504_whatever_the_method() {
    let profile = Profile::azure_operation();
    let post = http::Method::POST;
    for (answer, repeat) in [
        (Some(500), true),
        (Some(503), true),
        (Some(504), true),
        (Some(502), false),
        (Some(408), false),
        (None, false),
    ] {
        let answer = answer.map(|code| http::StatusCode::from_u16(code).expect("code"));
        assert_eq!(
            profile.submit_repeatable(&post, answer),
            repeat,
            "{answer:?}"
        );
    }
    let jobs = Profile::jobs();
    let error = Some(http::StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!jobs.submit_repeatable(&post, error), "nothing by default");
    let mut patchable = Profile::jobs();
    patchable.repeat_submit.methods = vec!["patch".to_owned()];
    assert!(patchable.submit_repeatable(&http::Method::PATCH, None));
    assert!(!patchable.submit_repeatable(&post, None));
}
