//! What the real `jobpoll` binary writes, against the reference server on loopback:
//! the result on stdout (or in the `-o` file), the server's error on stderr, every
//! event before the outcome, and every `--json` line in the shape `docs/cli.md`
//! documents ("JSON output"), checked with strict structs.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use jobpoll_server::plan::Ending;
use serde::Deserialize;
use serde_json::Value;
use support::{all, args, code, interrupted, job_url, lasting, run, serve};

fn scratch(name: &str) -> PathBuf {
    support::scratch("cli-output", name)
}

fn failing() -> Ending {
    Ending::Fail {
        message: "out of memory".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_result_goes_to_stdout_or_to_the_output_file() {
    let (model, server) = serve().await;
    let url = job_url(
        &model,
        &server,
        lasting(Duration::from_millis(200), Ending::Succeed),
    );
    let expected = serde_json::json!({
        "type": "generic",
        "url": "https://files.example/job-1/result.json",
    });
    // Not a terminal: the result on one line, and nothing else on stdout.
    for extra in [&[][..], &["-o", "-"]] {
        let mut list = args(&["wait", &url, "--interval", "100ms"]);
        list.extend(args(extra));
        let output = run(list).await;
        assert_eq!(code(&output), 0, "{}", all(&output));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(stdout.lines().count(), 1, "{}", all(&output));
        let result: Value = serde_json::from_str(&stdout).expect("JSON");
        assert_eq!(result, expected, "{}", all(&output));
    }
    // -o FILE: the file instead of stdout.
    let file = scratch("result.json");
    let output = run(args(&["wait", &url, "-o", &file.display().to_string()])).await;
    assert_eq!(code(&output), 0, "{}", all(&output));
    assert!(output.stdout.is_empty(), "{}", all(&output));
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("written")).expect("JSON");
    assert_eq!(written, expected);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_that_cannot_be_written_is_an_error_naming_the_path() {
    let (model, server) = serve().await;
    let done = || lasting(Duration::ZERO, Ending::Succeed);
    let one = job_url(&model, &server, done());
    let output = run(args(&["wait", &one, "-o", "/nonexistent/dir/x"])).await;
    assert_eq!(code(&output), 8, "{}", all(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("/nonexistent/dir/x"), "{stderr}");
    // Many jobs: the outcome lines cannot be written either.
    let two = job_url(&model, &server, done());
    let output = run(args(&["wait", &one, &two, "-o", "/nonexistent/dir/x"])).await;
    assert_eq!(code(&output), 8, "{}", all(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("/nonexistent/dir/x"),
        "{}",
        all(&output)
    );
    // -o - with --json would mix the result into the JSON lines.
    let output = run(args(&["wait", &one, "--json", "-o", "-"])).await;
    assert_eq!(code(&output), 2, "{}", all(&output));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_job_prints_the_server_error_and_details_on_stderr() {
    let (model, server) = serve().await;
    let url = job_url(
        &model,
        &server,
        lasting(Duration::from_millis(100), failing()),
    );
    let output = run(args(&["wait", &url, "--interval", "100ms"])).await;
    assert_eq!(code(&output), 1, "{}", all(&output));
    assert!(output.stdout.is_empty(), "{}", all(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr
            .lines()
            .any(|line| line.starts_with("job: failed after ") && line.ends_with(": out of memory")),
        "{stderr}"
    );
    // The error body's details, as the server gave them.
    assert!(stderr.contains("\"failed_at_percentage\""), "{stderr}");
    server.shutdown().await;
}

/// The lines of `stdout`, every one JSON.
fn json_lines(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?}: {e}\n{}", all(output)))
        })
        .collect()
}

/// A hundred runs of the binary on one job: every run prints the same events in
/// the same order, the outcome last.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_comes_before_the_outcome_in_every_run() {
    let (model, server) = serve().await;
    let url = job_url(&model, &server, lasting(Duration::ZERO, Ending::Succeed));
    let runs = 100;
    let mut seen: BTreeMap<Vec<String>, usize> = BTreeMap::new();
    // Four at a time.
    for _ in 0..runs / 4 {
        let batch: Vec<_> = (0..4)
            .map(|_| tokio::spawn(run(args(&["wait", &url, "--json"]))))
            .collect();
        for run in batch {
            let output = run.await.expect("joined");
            assert_eq!(code(&output), 0, "{}", all(&output));
            let kinds: Vec<String> = json_lines(&output)
                .iter()
                .map(|line| match line["type"].as_str() {
                    Some("status_changed") => format!("status_changed {}", line["to"]),
                    Some(kind) => kind.to_owned(),
                    None => panic!("no type: {line}"),
                })
                .collect();
            *seen.entry(kinds).or_default() += 1;
        }
    }
    let expected = vec![
        "status_changed \"completed\"".to_owned(),
        "outcome".to_owned(),
    ];
    assert_eq!(
        seen,
        BTreeMap::from([(expected, runs)]),
        "the lines of {runs} runs"
    );
    server.shutdown().await;
}

// The documented shape of every `--json` line (docs/cli.md, "JSON output"). A field
// shown as `T or null` must be present; `nullable` makes serde require it.

fn nullable<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    Option::<T>::deserialize(deserializer)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Submitted {
    r#type: String,
    job: u64,
    url: String,
    #[serde(deserialize_with = "nullable")]
    job_id: Option<String>,
    status_url: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct StatusChanged {
    r#type: String,
    job: u64,
    url: String,
    #[serde(deserialize_with = "nullable")]
    from: Option<String>,
    to: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ProgressLine {
    r#type: String,
    job: u64,
    url: String,
    attempt: u32,
    #[serde(deserialize_with = "nullable")]
    max_attempts: Option<u32>,
    status: String,
    #[serde(deserialize_with = "nullable")]
    percentage: Option<f64>,
    #[serde(deserialize_with = "nullable")]
    step: Option<String>,
    next_poll_in_ms: u64,
    elapsed_ms: u64,
    #[serde(deserialize_with = "nullable")]
    eta_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ErrorObject {
    kind: String,
    message: String,
    #[serde(deserialize_with = "nullable")]
    status: Option<u16>,
    #[serde(deserialize_with = "nullable")]
    details: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Retrying {
    r#type: String,
    job: u64,
    url: String,
    error: ErrorObject,
    consecutive_errors: u32,
    delay_ms: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct HintCapped {
    r#type: String,
    job: u64,
    url: String,
    source: String,
    requested_ms: u64,
    used_ms: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct HintIgnored {
    r#type: String,
    job: u64,
    url: String,
    problem: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Updated {
    r#type: String,
    job: u64,
    url: String,
    revision: u64,
    #[serde(deserialize_with = "nullable")]
    body: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ResultsFetched {
    r#type: String,
    job: u64,
    url: String,
    results: Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct CancelRequested {
    r#type: String,
    job: u64,
    url: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct OutcomeLine {
    r#type: String,
    job: u64,
    url: String,
    outcome: String,
    message: String,
    result: Value,
    #[serde(deserialize_with = "nullable")]
    results_error: Option<String>,
    #[serde(deserialize_with = "nullable")]
    error: Option<ErrorObject>,
    #[serde(deserialize_with = "nullable")]
    job_id: Option<String>,
    #[serde(deserialize_with = "nullable")]
    last_status: Option<String>,
    elapsed_ms: u64,
    attempts: u32,
    requests: u32,
}

const OUTCOMES: [&str; 8] = [
    "succeeded",
    "failed",
    "cancelled",
    "timed_out",
    "gave_up",
    "unauthorized",
    "rejected",
    "not_found",
];

/// Checks every line against the schema; returns the outcome lines by job and the
/// line types in order.
fn validate(output: &Output) -> (BTreeMap<u64, OutcomeLine>, Vec<String>) {
    fn strict<T: for<'de> Deserialize<'de>>(line: &Value) -> T {
        serde_json::from_value(line.clone()).unwrap_or_else(|e| panic!("{line}: {e}"))
    }
    let mut outcomes = BTreeMap::new();
    let mut kinds = Vec::new();
    for line in json_lines(output) {
        let kind = line["type"].as_str().expect("a type").to_owned();
        let job = line["job"].as_u64().expect("a job number");
        assert!(job >= 1, "{line}");
        assert!(
            line["url"].as_str().is_some_and(|u| u.starts_with("http")),
            "{line}"
        );
        assert!(
            !outcomes.contains_key(&job),
            "a line after the outcome: {line}"
        );
        match kind.as_str() {
            "submitted" => drop(strict::<Submitted>(&line)),
            "status_changed" => drop(strict::<StatusChanged>(&line)),
            "progress" => drop(strict::<ProgressLine>(&line)),
            "retrying" => drop(strict::<Retrying>(&line)),
            "hint_capped" => drop(strict::<HintCapped>(&line)),
            "hint_ignored" => drop(strict::<HintIgnored>(&line)),
            "updated" => drop(strict::<Updated>(&line)),
            "results_fetched" => drop(strict::<ResultsFetched>(&line)),
            "cancel_requested" => drop(strict::<CancelRequested>(&line)),
            "outcome" => {
                let outcome: OutcomeLine = strict(&line);
                assert!(OUTCOMES.contains(&outcome.outcome.as_str()), "{line}");
                assert_eq!(
                    outcome.error.is_none(),
                    outcome.outcome == "succeeded",
                    "{line}"
                );
                outcomes.insert(job, outcome);
            }
            other => panic!("an undocumented line type {other:?}: {line}"),
        }
        kinds.push(kind);
    }
    (outcomes, kinds)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_json_line_has_the_documented_shape() {
    let (model, server) = serve().await;

    // A success through a 503 window: submitted, retrying, status and progress.
    let plan = r#"{"plan":{"duration":600000,"faults":[{"from":100000,"until":300000,"fault":{"fault":"status","status":503}}]}}"#;
    let submit = format!("{}/api/v1/demo-job", server.base_url());
    let output = run(args(&[
        "submit",
        &submit,
        "-d",
        plan,
        "--json",
        "--preset",
        "fast",
        "--interval",
        "100ms",
    ]))
    .await;
    assert_eq!(code(&output), 0, "{}", all(&output));
    let (outcomes, kinds) = validate(&output);
    for kind in ["submitted", "status_changed", "progress", "retrying"] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "no {kind}: {}",
            all(&output)
        );
    }
    assert_eq!(kinds.last().map(String::as_str), Some("outcome"));
    let success = &outcomes[&1];
    assert_eq!(success.outcome, "succeeded");
    assert!(success.result.is_object(), "{}", all(&output));
    assert_eq!(success.url, submit);

    // A failure: the server's message and details in the error.
    let failed = job_url(
        &model,
        &server,
        lasting(Duration::from_millis(100), failing()),
    );
    let output = run(args(&["wait", &failed, "--json", "--interval", "100ms"])).await;
    assert_eq!(code(&output), 1, "{}", all(&output));
    let (outcomes, _) = validate(&output);
    let error = outcomes[&1].error.as_ref().expect("an error");
    assert_eq!(error.message, "out of memory");
    assert!(error.details.is_some(), "{}", all(&output));
    assert_eq!(outcomes[&1].url, failed);

    // A cancel (Ctrl-C): the cancel request, then the outcome.
    let long = job_url(
        &model,
        &server,
        lasting(Duration::from_secs(60), Ending::Succeed),
    );
    let output = interrupted(
        args(&["wait", &long, "--json", "--interval", "200ms"]),
        Duration::from_millis(1500),
    )
    .await;
    assert_eq!(code(&output), 4, "{}", all(&output));
    let (outcomes, kinds) = validate(&output);
    assert_eq!(outcomes[&1].outcome, "cancelled");
    assert_eq!(
        kinds[kinds.len() - 2..],
        ["cancel_requested", "outcome"],
        "{}",
        all(&output)
    );

    // Many jobs: one outcome line per job, numbered in the order given.
    let quick = || lasting(Duration::from_millis(300), Ending::Succeed);
    let many = [
        job_url(&model, &server, quick()),
        job_url(&model, &server, quick()),
        job_url(
            &model,
            &server,
            lasting(Duration::from_millis(300), failing()),
        ),
    ];
    let mut list = args(&["wait", "--json", "--interval", "100ms"]);
    list.extend(many.iter().cloned());
    let output = run(list).await;
    assert_eq!(code(&output), 1, "{}", all(&output));
    let (outcomes, kinds) = validate(&output);
    assert_eq!(outcomes.len(), 3, "{}", all(&output));
    for (n, url) in many.iter().enumerate() {
        let outcome = &outcomes[&(n as u64 + 1)];
        assert_eq!(&outcome.url, url);
        let expected = if n == 2 { "failed" } else { "succeeded" };
        assert_eq!(outcome.outcome, expected, "{}", all(&output));
    }
    assert!(kinds.iter().filter(|k| *k == "status_changed").count() >= 3);
    server.shutdown().await;
}
