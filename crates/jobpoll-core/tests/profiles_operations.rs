//! The built-in profiles for cloud long-running operations (Google, Azure) end to
//! end through a real `Job`, from submit (or the first poll) to the outcome, with
//! bodies shaped like the real APIs.

mod support;

use jobpoll_core::event::CancelledBy;
use jobpoll_core::{Config, Event, Instant, Job, JobSpec, Outcome, Profile, Purpose, Start};
use serde_json::{Value, json};
use support::profile_runs::{body, expect_failure, expect_success, purposes, url};
use support::{Reply, Run, cancelled_by_client, run, script, within_spread};

// --- Google long-running operations ------------------------------------------------------

const OPERATION: &str = "projects/p1/locations/global/operations/4718365372913375419";
const OPERATION_URL: &str =
    "https://speech.googleapis.com/v1/projects/p1/locations/global/operations/4718365372913375419";

fn google_submit() -> Job {
    let spec = JobSpec::submit(
        Profile::google_operation(),
        url("https://speech.googleapis.com/v1/speech:longrunningrecognize"),
        Some(
            r#"{"config":{"languageCode":"en-US"},"audio":{"uri":"gs://bucket/call.flac"}}"#
                .to_owned(),
        ),
    );
    Job::new(spec, Config::fast(), Instant::ZERO).expect("valid job")
}

fn operation(done: Option<bool>, progress: u32, tail: Value) -> Reply {
    let mut value = json!({
        "name": OPERATION,
        "metadata": {
            "@type": "type.googleapis.com/google.cloud.speech.v1.LongRunningRecognizeMetadata",
            "progressPercent": progress,
            "startTime": "2025-01-26T10:00:00Z",
        },
    });
    if let Some(done) = done {
        value["done"] = json!(done);
    }
    if let (Some(map), Some(extra)) = (value.as_object_mut(), tail.as_object()) {
        map.extend(extra.clone());
    }
    Reply::ok(&body(&value))
}

#[test]
fn google_operation_runs_then_responds() {
    let response = json!({
        "@type": "type.googleapis.com/google.cloud.speech.v1.LongRunningRecognizeResponse",
        "results": [{"alternatives": [{"transcript": "thanks for calling", "confidence": 0.93}]}],
    });
    let run = run(
        google_submit(),
        script(vec![
            Reply::ok(&body(&json!({"name": OPERATION}))),
            operation(None, 0, json!({})),
            operation(Some(false), 42, json!({})),
            operation(Some(true), 100, json!({"response": response})),
        ]),
        None,
    );
    assert_eq!(run.sent[1].1.url.as_str(), OPERATION_URL);
    let percentages: Vec<Option<f64>> = run.progress().iter().map(|p| p.percentage).collect();
    assert_eq!(percentages, vec![Some(0.0), Some(42.0)]);
    let (result, _) = expect_success(&run);
    assert_eq!(result, Some(&response));
    assert_eq!(run.outcome().stats().job_id.as_deref(), Some(OPERATION));
}

#[test]
fn google_operation_done_with_an_error_fails() {
    let run = run(
        google_submit(),
        script(vec![
            Reply::ok(&body(&json!({"name": OPERATION}))),
            operation(
                Some(true),
                100,
                json!({"error": {"code": 3, "message": "Invalid recognition 'config': bad encoding", "details": []}}),
            ),
        ]),
        None,
    );
    let (message, details) = expect_failure(&run);
    assert_eq!(message, "Invalid recognition 'config': bad encoding");
    assert_eq!(details.expect("details")["code"], 3);
}

#[test]
fn google_operation_cancelled_on_the_server() {
    let run = run(
        google_submit(),
        script(vec![
            Reply::ok(&body(&json!({"name": OPERATION}))),
            operation(
                Some(true),
                30,
                json!({"error": {"code": 1, "message": "Operation was cancelled"}}),
            ),
        ]),
        None,
    );
    assert!(
        matches!(
            run.outcome(),
            Outcome::Cancelled {
                by: CancelledBy::Server,
                ..
            }
        ),
        "{}",
        run.outcome()
    );
}

#[test]
fn google_operation_cancel_posts_name_cancel() {
    let run = run(
        google_submit(),
        script(vec![
            Reply::ok(&body(&json!({"name": OPERATION}))),
            operation(Some(false), 10, json!({})),
            Reply::ok("{}"),
        ]),
        Some(Instant::from_secs(1)),
    );
    let cancels = run.requests(Purpose::Cancel);
    assert_eq!(cancels.len(), 1);
    assert_eq!(cancels[0].1.method, http::Method::POST);
    assert_eq!(cancels[0].1.url.as_str(), format!("{OPERATION_URL}:cancel"));
    assert!(
        cancelled_by_client(run.outcome(), Some(true)),
        "{}",
        run.outcome()
    );
}

// --- Azure long-running operations -------------------------------------------------------

const VM: &str = "https://management.azure.com/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/vm1?api-version=2024-03-01";
const ASYNC_OP: &str = "https://management.azure.com/subscriptions/sub1/providers/Microsoft.Compute/locations/eastus/operations/op-1?api-version=2024-03-01";
const OP_RESULT: &str = "https://management.azure.com/subscriptions/sub1/providers/Microsoft.Compute/locations/eastus/operationResults/op-1?api-version=2024-03-01";

fn azure_job(method: http::Method, target: &str, body: Option<&str>) -> Job {
    let spec = JobSpec {
        profile: Profile::azure_operation(),
        start: Start::Submit {
            method,
            url: url(target),
            body: body.map(str::to_owned),
        },
        headers: vec![("Authorization".into(), "Bearer eyJ0eXAi.test".into())],
    };
    Job::new(spec, Config::fast(), Instant::ZERO).expect("valid job")
}

fn azure_operation(status: &str, percent: Option<f64>) -> Reply {
    let mut value = json!({
        "id": "/subscriptions/sub1/providers/Microsoft.Compute/locations/eastus/operations/op-1",
        "name": "op-1",
        "status": status,
        "startTime": "2025-01-26T10:00:00Z",
    });
    if let Some(percent) = percent {
        value["percentComplete"] = json!(percent);
    }
    Reply::ok(&body(&value))
}

/// The flow of an operation monitor: two polls, then the final GET at
/// `final_url`.
fn assert_azure_async_operation_flow(run: &Run, final_body: &Value, final_url: &str) {
    assert_eq!(
        purposes(run),
        vec![
            Purpose::Submit,
            Purpose::Status,
            Purpose::Status,
            Purpose::Results
        ]
    );
    assert_eq!(run.sent[1].1.url.as_str(), ASYNC_OP);
    assert_eq!(run.sent[2].1.url.as_str(), ASYNC_OP);
    assert_eq!(run.sent[3].1.url.as_str(), final_url);
    assert_eq!(run.sent[3].1.method, http::Method::GET);
    // The submit's Retry-After sets the first poll: 2 s, plus a spread under 0.2 s.
    let first_poll = run.send_times()[1];
    assert!(within_spread(first_poll, 0.0, 2.0), "{first_poll}");
    assert_eq!(run.progress()[0].percentage, Some(30.0));
    let (result, results) = expect_success(run);
    assert_eq!(
        result.and_then(|r| r.get("status")),
        Some(&json!("Succeeded"))
    );
    assert_eq!(results, Some(final_body));
}

#[test]
fn azure_put_polls_the_async_operation_then_gets_the_resource_itself() {
    let resource = json!({
        "name": "vm1",
        "id": "/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/vm1",
        "location": "eastus",
        "properties": {"provisioningState": "Succeeded", "hardwareProfile": {"vmSize": "Standard_B2s"}},
    });
    let job = azure_job(
        http::Method::PUT,
        VM,
        Some(r#"{"location":"eastus","properties":{"hardwareProfile":{"vmSize":"Standard_B2s"}}}"#),
    );
    let run = run(
        job,
        script(vec![
            Reply::status(
                201,
                r#"{"name":"vm1","properties":{"provisioningState":"Creating"}}"#,
            )
            .header("Azure-AsyncOperation", ASYNC_OP)
            .header("Location", OP_RESULT)
            .header("Retry-After", "2"),
            azure_operation("InProgress", Some(30.0)),
            azure_operation("Succeeded", Some(100.0)),
            Reply::ok(&body(&resource)),
        ]),
        None,
    );
    assert_eq!(run.sent[0].1.method, http::Method::PUT);
    // After PUT the final resource is the request URL, not the Location.
    assert_azure_async_operation_flow(&run, &resource, VM);
    assert!(run.has_event(|e| matches!(e, Event::ResultsFetched { .. })));
}

#[test]
fn azure_post_polls_the_async_operation_then_gets_the_location() {
    let output =
        json!({"value": [{"code": "ComponentStatus/StdOut/succeeded", "message": "restarted"}]});
    let job = azure_job(
        http::Method::POST,
        VM.replace("vm1?", "vm1/runCommand?").as_str(),
        Some(r#"{"commandId":"RunShellScript","script":["systemctl restart app"]}"#),
    );
    let run = run(
        job,
        script(vec![
            Reply::status(202, "")
                .header("Azure-AsyncOperation", ASYNC_OP)
                .header("Location", OP_RESULT)
                .header("Retry-After", "2"),
            azure_operation("InProgress", Some(30.0)),
            azure_operation("Succeeded", None),
            Reply::ok(&body(&output)),
        ]),
        None,
    );
    assert_eq!(run.sent[0].1.method, http::Method::POST);
    assert_azure_async_operation_flow(&run, &output, OP_RESULT);
}

#[test]
fn azure_async_operation_failure_reads_the_error() {
    let job = azure_job(http::Method::PUT, VM, Some("{}"));
    let run = run(
        job,
        script(vec![
            Reply::status(201, "").header("Azure-AsyncOperation", ASYNC_OP),
            Reply::ok(&body(&json!({
                "name": "op-1",
                "status": "Failed",
                "error": {"code": "OperationNotAllowed", "message": "Operation could not be completed as it results in exceeding approved Total Regional Cores quota."},
            }))),
        ]),
        None,
    );
    let (message, details) = expect_failure(&run);
    assert!(message.starts_with("Operation could not be completed"));
    assert_eq!(details.expect("details")["code"], "OperationNotAllowed");
}

const EXPORT: &str = "https://management.azure.com/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.Sql/servers/sql1/databases/db1/export?api-version=2021-11-01";
const EXPORT_RESULT: &str = "https://management.azure.com/subscriptions/sub1/providers/Microsoft.Sql/locations/eastus/importExportOperationResults/op-7?api-version=2021-11-01";

#[test]
fn azure_location_only_polls_202_until_200() {
    let exported = json!({
        "id": "/subscriptions/sub1/providers/Microsoft.Sql/locations/eastus/importExportOperationResults/op-7",
        "name": "op-7",
        "properties": {"requestType": "Export", "status": "Completed", "blobUri": "https://acct.blob.core.windows.net/bak/db1.bacpac"},
    });
    let job = azure_job(
        http::Method::POST,
        EXPORT,
        Some(
            r#"{"storageKeyType":"StorageAccessKey","storageUri":"https://acct.blob.core.windows.net/bak/db1.bacpac"}"#,
        ),
    );
    let run = run(
        job,
        script(vec![
            Reply::status(202, "")
                .header("Location", EXPORT_RESULT)
                .header("Retry-After", "3"),
            Reply::status(202, "").header("Retry-After", "3"),
            Reply::status(202, ""),
            Reply::ok(&body(&exported)),
        ]),
        None,
    );
    assert_eq!(
        purposes(&run),
        vec![
            Purpose::Submit,
            Purpose::Status,
            Purpose::Status,
            Purpose::Status
        ]
    );
    assert!(
        run.sent[1..]
            .iter()
            .all(|(_, t)| t.url.as_str() == EXPORT_RESULT)
    );
    // Each Retry-After of 3 s is the wait (plus a spread under 0.3 s), in place of
    // the fast schedule's 2 s; the last answer has none: 3 s is the schedule's own.
    let times = run.send_times();
    assert_eq!(times.len(), 4, "{times:?}");
    assert!(within_spread(times[1], 0.0, 3.0), "{times:?}");
    assert!(within_spread(times[2], times[1], 3.0), "{times:?}");
    assert!((times[3] - times[2] - 3.0).abs() < 1e-9, "{times:?}");
    let statuses: Vec<&str> = run.progress().iter().map(|p| p.status.as_str()).collect();
    assert_eq!(statuses, vec!["Accepted", "Accepted"]);
    let (result, results) = expect_success(&run);
    assert_eq!(result, Some(&exported));
    assert_eq!(
        results, None,
        "the Location was the status URL: no results step"
    );
}

/// A Location poller answers an error status when the operation failed: the
/// operation failed (azure-core raises on it, core-lro reads it as failed), with
/// the Azure error as the message and details, not a refused request.
#[test]
fn azure_location_polling_error_status_is_a_failed_operation() {
    let error = json!({"error": {"code": "ProvisioningFailed", "message": "quota"}});
    let run = run(
        azure_job(http::Method::POST, EXPORT, Some("{}")),
        script(vec![
            Reply::status(202, "").header("Location", EXPORT_RESULT),
            Reply::status(202, ""),
            Reply::status(400, &body(&error)),
        ]),
        None,
    );
    assert_eq!(
        purposes(&run),
        vec![Purpose::Submit, Purpose::Status, Purpose::Status]
    );
    let (message, details) = expect_failure(&run);
    assert_eq!(message, "quota");
    assert_eq!(details, Some(&error["error"]));
}

#[test]
fn azure_location_polling_200_is_done_whatever_its_status_field() {
    let restore = json!({"status": "Complete", "restoreId": "r-1", "parameters": {"timeToRestore": "2025-01-26T09:00:00Z"}});
    let job = azure_job(
        http::Method::POST,
        "https://management.azure.com/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.Storage/storageAccounts/acct1/restoreBlobRanges?api-version=2023-05-01",
        Some(
            r#"{"timeToRestore":"2025-01-26T09:00:00Z","blobRanges":[{"startRange":"","endRange":""}]}"#,
        ),
    );
    let run = run(
        job,
        |t, _| {
            match t.purpose {
            Purpose::Submit => Reply::status(202, "").header(
                "Location",
                "https://management.azure.com/subscriptions/sub1/providers/Microsoft.Storage/locations/eastus/asyncoperations/r-1?monitor=true&api-version=2023-05-01",
            ),
            _ => Reply::ok(&body(&restore)),
        }
        },
        None,
    );
    let (result, _) = expect_success(&run);
    assert_eq!(result, Some(&restore));
}

// --- A profile that does not fit the API ---------------------------------------------

#[test]
fn google_profile_against_a_jobs_api_gives_up_after_a_few_answers() {
    let spec = JobSpec::poll(
        Profile::google_operation(),
        url("https://api.example/api/v1/jobs/job_abc123"),
    );
    let config = Config::fast();
    assert_eq!(config.max_unreadable, 3);
    let job = Job::new(spec, config, Instant::ZERO).expect("valid job");
    let running = r#"{"job_id":"job_abc123","status":"processing","progress_data":{"percentage":45,"current_step":"Generating scene 3 of 7"}}"#;
    let run = run(job, |_, _| Reply::ok(running), None);
    let outcome = run.outcome();
    assert!(
        matches!(outcome, Outcome::GaveUp { .. }),
        "expected to give up, got {outcome}"
    );
    assert_eq!(
        run.sent.len(),
        3,
        "one status request per unreadable answer"
    );
    assert!(run.progress().is_empty(), "never reported as running");
    let text = outcome.to_string();
    assert!(
        text.contains("this does not look like a google status"),
        "{text}"
    );
    assert!(text.contains("/done"), "{text}");
    assert!(text.contains("job_abc123"), "quotes the body: {text}");
}
