//! The real `jobpoll` binary against the reference server on loopback.

mod support;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use jobpoll_server::http::SharedModel;
use jobpoll_server::model::ServerConfig;
use support::{code, interrupted, jobpoll, run, serve, serve_with};

fn scratch(name: &str) -> PathBuf {
    support::scratch("cli", name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_waits_writes_the_result_and_records_a_replayable_trace() {
    let (_, server) = serve().await;
    let (result, trace) = (scratch("result.json"), scratch("trace.jsonl"));
    let output = run(vec![
        "submit".into(),
        format!("{}/api/v1/demo-job", server.base_url()),
        "--data".into(),
        r#"{"plan":{"duration":300000}}"#.into(),
        "--interval".into(),
        "100ms".into(),
        "-H".into(),
        "Authorization: Bearer secret-token-123".into(),
        "-o".into(),
        result.display().to_string(),
        "--trace".into(),
        trace.display().to_string(),
    ])
    .await;
    assert_eq!(
        code(&output),
        0,
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&result).expect("result written"))
            .expect("JSON");
    assert!(written.is_object(), "{written}");
    let recorded = std::fs::read_to_string(&trace).expect("trace written");
    assert!(
        !recorded.contains("secret-token-123"),
        "the token leaked into the trace"
    );
    let replayed = run(vec!["replay".into(), trace.display().to_string()]).await;
    assert_eq!(
        code(&replayed),
        0,
        "{}",
        String::from_utf8_lossy(&replayed.stderr)
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthorized_ends_promptly_with_its_exit_code() {
    let (_, server) = serve_with(ServerConfig {
        token: Some("right".into()),
        ..ServerConfig::default()
    })
    .await;
    let started = std::time::Instant::now();
    let output = run(vec![
        "wait".into(),
        format!("{}/api/v1/jobs/job-1", server.base_url()),
        "-H".into(),
        "Authorization: Bearer wrong".into(),
        "--json".into(),
    ])
    .await;
    assert_eq!(
        code(&output),
        5,
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last: serde_json::Value =
        serde_json::from_str(stdout.lines().last().expect("a line")).expect("JSON");
    assert_eq!(last["type"], "outcome", "{stdout}");
    assert_eq!(last["outcome"], "unauthorized", "{stdout}");
    server.shutdown().await;
}

#[test]
fn bad_input_is_a_usage_error_not_a_panic() {
    for args in [
        &["wait", "not a url"][..],
        &["wait", "ftp://example.com/x"],
        &["wait", "http://127.0.0.1:9/x", "--preset", "nope"],
        &[
            "wait",
            "http://127.0.0.1:9/x",
            "--profile",
            "/does/not/exist.json",
        ],
        &["wait", "http://127.0.0.1:9/x", "-H", "no colon"],
        &["replay", "/does/not/exist.jsonl"],
        &["serve", "--fault", "nonsense"],
    ] {
        let output = jobpoll(args);
        assert_eq!(
            code(&output),
            2,
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            !String::from_utf8_lossy(&output.stderr).contains("panicked"),
            "{args:?}"
        );
    }
}

#[test]
fn the_demo_runs_every_job_to_its_planned_end() {
    let output = jobpoll(&["demo"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        code(&output),
        0,
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for kind in ["succeeded", "failed", "cancelled"] {
        assert!(stdout.contains(kind), "{stdout}");
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("reference server on http://127.0.0.1:"),
        "the demo names its address: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_cancels_the_job_on_the_server_and_exits_cancelled() {
    let (model, server) = serve().await;
    let plan = jobpoll_server::plan::JobPlan {
        duration: std::time::Duration::from_secs(60),
        ..jobpoll_server::plan::JobPlan::default()
    };
    let created = model.create(jobpoll_server::plan::Shape::Jobs, plan);
    let output = interrupted(
        vec![
            "wait".into(),
            format!("{}{}", server.base_url(), created.status_path),
            "--interval".into(),
            "200ms".into(),
        ],
        Duration::from_millis(1500),
    )
    .await;
    assert_eq!(output.status.code(), Some(4));
    let cancel_sent = model
        .requests()
        .iter()
        .any(|r| r.method == "POST" && r.path.ends_with("/cancel") && r.status == 200);
    assert!(cancel_sent, "{:?}", model.requests());
    assert!(matches!(
        model.truth(&created.id),
        Some(jobpoll_server::model::Truth::Cancelled { .. })
    ));
    server.shutdown().await;
}

/// A 429 storm on the real server: the binary's requests, as the server logged them,
/// never come before the `Retry-After` of the 429 before them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_is_waited_out_without_an_early_request() {
    use jobpoll_server::plan::{Fault, FaultWindow, JobPlan, Shape};
    let (model, server) = serve().await;
    let plan = JobPlan {
        duration: std::time::Duration::from_millis(3500),
        faults: vec![FaultWindow {
            from: std::time::Duration::from_millis(200),
            until: std::time::Duration::from_millis(2500),
            fault: Fault::Status {
                status: 429,
                retry_after: Some(1),
            },
        }],
        ..JobPlan::default()
    };
    let created = model.create(Shape::Jobs, plan);
    let output = run(vec![
        "wait".into(),
        format!("{}{}", server.base_url(), created.status_path),
        // Retries after 1, 2, 4 ... s with equal jitter: the hint is what holds them.
        "--preset".into(),
        "aggressive".into(),
        "--interval".into(),
        "100ms".into(),
    ])
    .await;
    assert_eq!(
        code(&output),
        0,
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let log = model.requests();
    let throttled: Vec<_> = log.iter().filter(|r| r.status == 429).collect();
    assert!(!throttled.is_empty(), "the storm was met: {log:?}");
    for pair in log.windows(2) {
        if pair[0].status == 429 {
            let gap = pair[1].at - pair[0].at;
            assert!(
                gap >= std::time::Duration::from_secs(1),
                "a request {gap:?} after a 429: {log:?}"
            );
        }
    }
    server.shutdown().await;
}

/// Jobs created directly on the server, `duration` long, ending as `ending` says.
fn create_jobs(
    model: &SharedModel,
    count: usize,
    duration: std::time::Duration,
    ending: jobpoll_server::plan::Ending,
) -> Vec<String> {
    use jobpoll_server::plan::{JobPlan, Shape};
    (0..count)
        .map(|_| {
            let plan = JobPlan {
                duration,
                ending: ending.clone(),
                ..JobPlan::default()
            };
            model.create(Shape::Jobs, plan).status_path
        })
        .collect()
}

/// Runs the binary with `stdin` as its standard input.
async fn run_with_input(args: Vec<String>, stdin: String) -> Output {
    tokio::task::spawn_blocking(move || {
        use std::io::Write as _;
        let mut child = Command::new(env!("CARGO_BIN_EXE_jobpoll"))
            .args(&args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the binary starts");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("written");
        child.wait_with_output().expect("the binary ran")
    })
    .await
    .expect("joined")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_urls_run_through_one_fleet_with_a_summary() {
    let (model, server) = serve().await;
    let base = server.base_url();
    let paths = create_jobs(
        &model,
        12,
        std::time::Duration::from_millis(600),
        jobpoll_server::plan::Ending::Succeed,
    );
    // Four URLs on the command line (one of them twice), the rest from standard
    // input with a comment and blank lines.
    let mut args: Vec<String> = vec!["wait".into()];
    args.extend(paths[..3].iter().map(|p| format!("{base}{p}")));
    args.push(format!("{base}{}", paths[0]));
    args.extend(
        [
            "--urls-from",
            "-",
            "--interval",
            "100ms",
            "--max-in-flight",
            "4",
        ]
        .map(String::from),
    );
    let mut input = String::from("# the rest\n\n");
    for path in &paths[3..] {
        input.push_str(&format!("  {base}{path}\n\n"));
    }
    let output = run_with_input(args, input).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(code(&output), 0, "{stdout}\n{stderr}");
    // The summary and the readable lines on stderr, one outcome line a job on stdout.
    assert!(
        stderr.contains("summary: 13 jobs: 13 succeeded"),
        "{stderr}"
    );
    assert!(stderr.contains("success rate 100.0%"), "{stderr}");
    assert!(stderr.contains("1 duplicate shared"), "{stderr}");
    let finished = stderr
        .lines()
        .filter(|l| l.contains("succeeded after"))
        .count();
    assert_eq!(finished, 13, "{stderr}");
    let outcomes: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("every line is JSON"))
        .collect();
    assert_eq!(outcomes.len(), 13, "{stdout}");
    assert!(
        outcomes
            .iter()
            .all(|l| l["type"] == "outcome" && l["outcome"] == "succeeded"),
        "{stdout}"
    );
    // The duplicate shared its polls: the server saw each job polled by one client.
    let log = model.requests();
    let polls_of_first = log.iter().filter(|r| r.path == paths[0]).count();
    let polls_of_second = log.iter().filter(|r| r.path == paths[1]).count();
    assert!(
        polls_of_first <= polls_of_second + 1,
        "{polls_of_first} polls of the shared job, {polls_of_second} of another"
    );
    server.shutdown().await;
}

#[test]
fn a_bad_line_in_the_url_file_is_a_usage_error_with_its_number() {
    let file = scratch("urls-bad.txt");
    std::fs::write(
        &file,
        "# jobs\nhttp://127.0.0.1:9/api/v1/jobs/a\n\nnot a url\nhttp://127.0.0.1:9/api/v1/jobs/b\n",
    )
    .expect("written");
    let output = jobpoll(&["wait", "--urls-from", &file.display().to_string()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(code(&output), 2, "{stderr}");
    assert!(stderr.contains("line 4"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let missing = jobpoll(&["wait", "--urls-from", "/does/not/exist.txt"]);
    assert_eq!(code(&missing), 2);
    let empty = scratch("urls-empty.txt");
    std::fs::write(&empty, "# nothing\n").expect("written");
    let output = jobpoll(&["wait", "--urls-from", &empty.display().to_string()]);
    assert_eq!(code(&output), 2);
    // Options for one job only.
    let output = jobpoll(&[
        "wait",
        "http://127.0.0.1:9/a",
        "http://127.0.0.1:9/b",
        "--trace",
        "/tmp/x.jsonl",
    ]);
    assert_eq!(code(&output), 2);
    let output = jobpoll(&["submit", "http://127.0.0.1:9/a", "--count", "0"]);
    assert_eq!(code(&output), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_count_creates_that_many_jobs_and_waits_for_all() {
    let (model, server) = serve().await;
    let results = scratch("results-many.json");
    let output = run(vec![
        "submit".into(),
        format!("{}/api/v1/demo-job", server.base_url()),
        "--data".into(),
        r#"{"plan":{"duration":500000}}"#.into(),
        "--count".into(),
        "5".into(),
        "--interval".into(),
        "100ms".into(),
        "-o".into(),
        results.display().to_string(),
    ])
    .await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(code(&output), 0, "{stdout}\n{stderr}");
    assert!(stderr.contains("summary: 5 jobs: 5 succeeded"), "{stderr}");
    // With -o FILE the outcome lines go to the file, not to stdout.
    assert!(stdout.is_empty(), "{stdout}");
    assert_eq!(model.with_model(|m| m.job_count()), 5);
    let creates = model
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/api/v1/demo-job")
        .count();
    assert_eq!(creates, 5);
    let written = std::fs::read_to_string(&results).expect("results written");
    let entries: Vec<serde_json::Value> = written
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON lines"))
        .collect();
    assert_eq!(entries.len(), 5);
    // In the order given, each with its result.
    for (n, entry) in entries.iter().enumerate() {
        assert_eq!(entry["job"], n + 1, "{written}");
        assert_eq!(entry["outcome"], "succeeded", "{written}");
        assert!(entry["result"].is_object(), "{written}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_job_among_many_sets_the_exit_code() {
    let (model, server) = serve().await;
    let base = server.base_url();
    let mut paths = create_jobs(
        &model,
        3,
        std::time::Duration::from_millis(400),
        jobpoll_server::plan::Ending::Succeed,
    );
    paths.extend(create_jobs(
        &model,
        1,
        std::time::Duration::from_millis(400),
        jobpoll_server::plan::Ending::Fail {
            message: "out of memory".into(),
        },
    ));
    let mut args: Vec<String> = vec!["wait".into(), "--json".into()];
    args.extend(paths.iter().map(|p| format!("{base}{p}")));
    args.extend(["--interval", "100ms"].map(String::from));
    let output = run(args).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        code(&output),
        1,
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("every line is JSON"))
        .collect();
    let outcomes: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l["type"] == "outcome").collect();
    assert_eq!(outcomes.len(), 4);
    assert!(
        outcomes
            .iter()
            .all(|l| l["url"].as_str().is_some_and(|u| u.starts_with(&base)))
    );
    assert!(
        lines
            .iter()
            .any(|l| l["type"] == "status_changed" && l["url"].is_string())
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("summary: 4 jobs: 1 failed, 3 succeeded"),
        "{stderr}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_cancels_every_job_of_many_and_exits_cancelled() {
    let (model, server) = serve().await;
    let base = server.base_url();
    let plan = || jobpoll_server::plan::JobPlan {
        duration: std::time::Duration::from_secs(60),
        ..jobpoll_server::plan::JobPlan::default()
    };
    let jobs: Vec<_> = (0..3)
        .map(|_| model.create(jobpoll_server::plan::Shape::Jobs, plan()))
        .collect();
    let mut args = vec![
        "wait".to_owned(),
        "--interval".to_owned(),
        "200ms".to_owned(),
    ];
    args.extend(jobs.iter().map(|job| format!("{base}{}", job.status_path)));
    let output = interrupted(args, Duration::from_millis(1500)).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("summary: 3 jobs: 3 cancelled"), "{stderr}");
    for job in &jobs {
        assert!(
            matches!(
                model.truth(&job.id),
                Some(jobpoll_server::model::Truth::Cancelled { .. })
            ),
            "{} was not cancelled on the server",
            job.id
        );
    }
    server.shutdown().await;
}

/// Jobs whose session lives in a cookie set on their first answer: the binary keeps
/// the cookie for the run, one job alone or many through the fleet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_that_keep_a_session_in_a_cookie_advance() {
    use jobpoll_server::plan::{JobPlan, Shape};
    let (model, server) = serve().await;
    let base = server.base_url();
    let mut urls = (0..3).map(|_| {
        let plan = JobPlan {
            duration: std::time::Duration::from_millis(500),
            session_cookie: true,
            ..JobPlan::default()
        };
        format!("{base}{}", model.create(Shape::Jobs, plan).status_path)
    });
    let one = urls.next().expect("a job");
    let output = run(vec![
        "wait".into(),
        one,
        "--interval".into(),
        "100ms".into(),
        "--timeout".into(),
        "20s".into(),
    ])
    .await;
    assert_eq!(
        code(&output),
        0,
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let mut args = vec!["wait".to_owned()];
    args.extend(urls);
    args.extend(["--interval", "100ms", "--timeout", "20s"].map(str::to_owned));
    let output = run(args).await;
    assert_eq!(
        code(&output),
        0,
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );

    // Every job was polled more than once, and never refused.
    let log = model.requests();
    assert!(log.len() >= 6, "{log:?}");
    assert!(log.iter().all(|r| r.status == 200), "{log:?}");
    server.shutdown().await;
}
