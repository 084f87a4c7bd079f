//! Azure and Google operations through the real `jobpoll` binary against the
//! reference server on loopback: `jobpoll submit -X METHOD --profile azure` to
//! the final resource, `--final-state-via`, monitors that never say their
//! status, Google operations created done, a jobs-API POST that cannot be
//! repeated, and the usage errors of `-X` and `--final-state-via`.

mod support;

use std::path::PathBuf;
use std::process::Output;

use http::Method;
use serde_json::{Value, json};
use support::{all, args, code, jobpoll, run, serve};

const RESOURCE: &str = "/azure/resources/vm1";

fn scratch(name: &str) -> PathBuf {
    support::scratch("cli-operations", name)
}

fn read_json(path: &PathBuf) -> Value {
    let written = std::fs::read_to_string(path).expect("the output file was written");
    serde_json::from_str(&written).expect("JSON")
}

/// The last `--json` line: the outcome line.
fn last_outcome(output: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().expect("a JSON line");
    let line: Value = serde_json::from_str(last).expect("JSON");
    assert_eq!(line["type"], "outcome", "{line}");
    line
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_put_ends_with_the_final_resource_in_the_output_file() {
    let (model, server) = serve().await;
    let result = scratch("put.json");
    let body = json!({
        "plan": {"duration": 300_000, "azure": {"headers": ["azure-async-operation"]}},
        "tags": {"env": "test"},
        "properties": {"size": "S1"},
    });
    let output = run(args(&[
        "submit",
        "-X",
        "put",
        &format!("{}{RESOURCE}", server.base_url()),
        "-d",
        &body.to_string(),
        "--profile",
        "azure",
        "--interval",
        "100ms",
        "-o",
        &result.display().to_string(),
    ]))
    .await;
    assert_eq!(code(&output), 0, "{}", all(&output));
    let resource = read_json(&result);
    assert_eq!(resource["tags"]["env"], "test", "{resource}");
    assert_eq!(resource["properties"]["size"], "S1", "{resource}");
    assert_eq!(resource["properties"]["provisioningState"], "Succeeded");
    // One create, the monitor until Succeeded, one GET of the request URL.
    assert_eq!(model.request_count(&Method::PUT, RESOURCE), 1);
    assert!(model.request_count(&Method::GET, "/azure/operations/azop-1") >= 1);
    assert_eq!(model.request_count(&Method::GET, RESOURCE), 1);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_polls_its_location_and_fetches_nothing_more() {
    let (model, server) = serve().await;
    // Long enough for a 202 after the create answer's `Retry-After: 1`.
    let plan = json!({"duration": 1_200_000, "azure": {"headers": ["location"]}});
    let output = run(args(&[
        "submit",
        "-X",
        "DELETE",
        &format!("{}{RESOURCE}", server.base_url()),
        "-H",
        &format!("Jobpoll-Plan: {plan}"),
        "--profile",
        "azure",
        "--interval",
        "100ms",
        "--json",
    ]))
    .await;
    assert_eq!(code(&output), 0, "{}", all(&output));
    assert_eq!(
        last_outcome(&output)["outcome"],
        "succeeded",
        "{}",
        all(&output)
    );
    assert_eq!(model.request_count(&Method::DELETE, RESOURCE), 1);
    // 202 while deleting, then 204.
    let polls = model.request_count(&Method::GET, "/azure/operation-results/azop-1");
    assert!(polls >= 2, "{polls} Location polls");
    assert_eq!(model.request_count(&Method::GET, RESOURCE), 0);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn final_state_via_location_fetches_the_location_instead_of_the_request_url() {
    let (model, server) = serve().await;
    let result = scratch("via-location.json");
    let body = json!({
        "plan": {"duration": 300_000, "azure": {"headers": ["azure-async-operation", "location"]}},
        "tags": {"env": "via"},
    });
    let output = run(args(&[
        "submit",
        "-X",
        "PUT",
        &format!("{}{RESOURCE}", server.base_url()),
        "-d",
        &body.to_string(),
        "--profile",
        "azure",
        "--final-state-via",
        "location",
        "--interval",
        "100ms",
        "-o",
        &result.display().to_string(),
    ]))
    .await;
    assert_eq!(code(&output), 0, "{}", all(&output));
    assert_eq!(read_json(&result)["tags"]["env"], "via");
    assert_eq!(
        model.request_count(&Method::GET, "/azure/operation-results/azop-1"),
        1
    );
    assert_eq!(model.request_count(&Method::GET, RESOURCE), 0);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_monitor_that_never_says_its_status_ends_the_wait() {
    let (model, server) = serve().await;
    let body = json!({
        "plan": {"duration": 300_000, "azure": {
            "headers": ["azure-async-operation"],
            "monitor_fault": {"kind": "missing_status"},
        }},
    });
    let output = run(args(&[
        "submit",
        "-X",
        "PUT",
        &format!("{}{RESOURCE}", server.base_url()),
        "-d",
        &body.to_string(),
        "--profile",
        "azure",
        "--preset",
        "aggressive",
        "--interval",
        "100ms",
    ]))
    .await;
    assert_eq!(code(&output), 6, "{}", all(&output));
    assert!(all(&output).contains("/status"), "{}", all(&output));
    // Never taken as success: no final GET.
    assert_eq!(
        model.request_count(&Method::GET, "/azure/operations/azop-1"),
        3
    );
    assert_eq!(model.request_count(&Method::GET, RESOURCE), 0);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_google_operation_created_done_ends_at_once() {
    let (model, server) = serve().await;
    let result = scratch("google.json");
    let output = run(args(&[
        "submit",
        &format!("{}/v1/operations", server.base_url()),
        "-d",
        r#"{"plan":{"duration":0}}"#,
        "--profile",
        "google",
        "-o",
        &result.display().to_string(),
    ]))
    .await;
    assert_eq!(code(&output), 0, "{}", all(&output));
    let response = read_json(&result);
    assert!(
        response["uri"]
            .as_str()
            .is_some_and(|uri| uri.ends_with("/op-1/result.json")),
        "{response}"
    );
    assert_eq!(model.request_count(&Method::POST, "/v1/operations"), 1);
    assert_eq!(model.request_count(&Method::GET, "/v1/operations/op-1"), 0);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jobs_post_answered_500_is_not_repeated() {
    let (model, server) = serve().await;
    let url = format!("{}/api/v1/demo-job", server.base_url());
    let data = r#"{"plan":{"duration":0,"create_failures":{"status":500,"times":1}}}"#;
    let output = run(args(&["submit", &url, "-d", data])).await;
    assert_eq!(code(&output), 6, "{}", all(&output));
    assert!(all(&output).contains("Idempotency-Key"), "{}", all(&output));
    assert_eq!(model.request_count(&Method::POST, "/api/v1/demo-job"), 1);

    // The server would now create the job; the second run's one POST does.
    let output = run(args(&["submit", &url, "-d", data, "--json"])).await;
    assert_eq!(code(&output), 0, "{}", all(&output));
    assert_eq!(model.request_count(&Method::POST, "/api/v1/demo-job"), 2);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jobs_post_answered_500_reports_an_uncertain_submit_in_json() {
    let (model, server) = serve().await;
    let output = run(args(&[
        "submit",
        &format!("{}/api/v1/demo-job", server.base_url()),
        "-d",
        r#"{"plan":{"duration":0,"create_failures":{"status":500,"times":1}}}"#,
        "--json",
    ]))
    .await;
    assert_eq!(code(&output), 6, "{}", all(&output));
    let outcome = last_outcome(&output);
    assert_eq!(outcome["outcome"], "gave_up", "{outcome}");
    assert_eq!(outcome["error"]["kind"], "submit_uncertain", "{outcome}");
    assert_eq!(outcome["error"]["status"], 500, "{outcome}");
    assert_eq!(model.request_count(&Method::POST, "/api/v1/demo-job"), 1);
    server.shutdown().await;
}

#[test]
fn bad_methods_and_final_state_via_values_are_usage_errors() {
    let url = "http://127.0.0.1:9/azure/resources/vm1";
    let cases: [(&[&str], &str); 3] = [
        (
            &["submit", "-X", "NOT A METHOD", url, "--profile", "azure"],
            "is not an HTTP method",
        ),
        (
            &[
                "submit",
                "-X",
                "PUT",
                url,
                "--profile",
                "azure",
                "--final-state-via",
                "sideways",
            ],
            "azure-async-operation, operation-location, location, original-uri",
        ),
        (
            &["submit", url, "--final-state-via", "location"],
            "applies to Azure operations",
        ),
    ];
    for (list, message) in cases {
        let output = jobpoll(list);
        assert_eq!(code(&output), 2, "{list:?}: {}", all(&output));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{list:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{list:?}: {stderr}");
    }
}
