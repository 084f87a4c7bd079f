//! The real `jobpoll` binary against the reference server on loopback.

use std::path::PathBuf;
use std::process::{Command, Output};

use jobpoll_server::http::{ServeOptions, Server, SharedModel};
use jobpoll_server::model::ServerConfig;

fn jobpoll(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jobpoll"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn code(output: &Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir.join(name)
}

async fn server(config: ServerConfig) -> Server {
    let model = SharedModel::new(ServeOptions {
        config,
        ..ServeOptions::default()
    });
    Server::bind_loopback(model).await.expect("loopback server")
}

/// Runs the blocking binary without stalling the server's runtime.
async fn run(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        jobpoll(&args)
    })
    .await
    .expect("the binary ran")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_waits_writes_the_result_and_records_a_replayable_trace() {
    let server = server(ServerConfig::default()).await;
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
    let server = server(ServerConfig {
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
    assert_eq!(last["outcome"]["outcome"], "unauthorized", "{stdout}");
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_cancels_the_job_on_the_server_and_exits_cancelled() {
    let model = SharedModel::new(ServeOptions::default());
    let server = Server::bind_loopback(model.clone())
        .await
        .expect("loopback server");
    let plan = jobpoll_server::plan::JobPlan {
        duration: std::time::Duration::from_secs(60),
        ..jobpoll_server::plan::JobPlan::default()
    };
    let created = model.create(jobpoll_server::plan::Shape::Jobs, plan);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_jobpoll"))
        .args([
            "wait",
            &format!("{}{}", server.base_url(), created.status_path),
            "--interval",
            "200ms",
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary starts");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(interrupted.success());
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("joined")
        .expect("exited");
    assert_eq!(status.code(), Some(4));
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
    let model = SharedModel::new(ServeOptions::default());
    let server = Server::bind_loopback(model.clone())
        .await
        .expect("loopback server");
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
