//! `jobpoll cancel` through the real binary against the reference server on
//! loopback.

use std::process::{Command, Output};
use std::time::Duration;

use jobpoll_server::http::{ServeOptions, Server, SharedModel};
use jobpoll_server::model::{ServerConfig, Truth};
use jobpoll_server::plan::{Ending, JobPlan, Shape};

fn code(output: &Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs the blocking binary without stalling the server's runtime.
async fn run(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_jobpoll"))
            .args(&args)
            .output()
            .expect("the binary runs")
    })
    .await
    .expect("the binary ran")
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|&a| a.to_owned()).collect()
}

/// The reference server (with `config`), and one running job of `shape`: its id
/// and status URL.
async fn job(config: ServerConfig, shape: Shape) -> (SharedModel, Server, String, String) {
    let model = SharedModel::new(ServeOptions {
        config,
        ..ServeOptions::default()
    });
    let server = Server::bind_loopback(model.clone())
        .await
        .expect("loopback server");
    let plan = JobPlan {
        duration: Duration::from_secs(3600),
        ending: Ending::Never,
        ..JobPlan::default()
    };
    let created = model.create(shape, plan);
    let url = format!("{}{}", server.base_url(), created.status_path);
    (model, server, created.id, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_sends_the_profiles_cancel_request_and_shows_the_answer() {
    let (model, server, id, url) = job(ServerConfig::default(), Shape::Jobs).await;
    let output = run(args(&["cancel", &url])).await;
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains(&format!("sent: POST {url}/cancel")),
        "{stdout}"
    );
    assert!(stdout.contains("answer: 200 OK"), "{stdout}");
    assert!(matches!(model.truth(&id), Some(Truth::Cancelled { .. })));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_a_google_operation_by_its_name() {
    let (model, server, id, url) = job(ServerConfig::default(), Shape::Google).await;
    let output = run(args(&["cancel", &url, "--profile", "google"])).await;
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains(&format!("sent: POST {url}:cancel")),
        "{}",
        text(&output.stdout)
    );
    assert!(matches!(model.truth(&id), Some(Truth::Cancelled { .. })));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_sends_the_headers_and_a_refusal_exits_refused() {
    let config = ServerConfig {
        token: Some("right".into()),
        ..ServerConfig::default()
    };
    let (model, server, id, url) = job(config, Shape::Jobs).await;
    let refused = run(args(&["cancel", &url, "-H", "Authorization: Bearer wrong"])).await;
    assert_eq!(code(&refused), 5, "{}", text(&refused.stderr));
    assert!(
        text(&refused.stdout).contains("answer: 401"),
        "{}",
        text(&refused.stdout)
    );
    assert!(matches!(model.truth(&id), Some(Truth::Running)));
    let accepted = run(args(&["cancel", &url, "-H", "Authorization: Bearer right"])).await;
    assert_eq!(code(&accepted), 0, "{}", text(&accepted.stderr));
    assert!(matches!(model.truth(&id), Some(Truth::Cancelled { .. })));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_id_comes_from_job_id_when_the_url_does_not_carry_it() {
    let (model, server, id, _) = job(ServerConfig::default(), Shape::Jobs).await;
    let elsewhere = format!("{}/status-of/something", server.base_url());
    let output = run(args(&["cancel", &elsewhere])).await;
    assert_eq!(code(&output), 2, "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("give the job's id with --job-id"),
        "{}",
        text(&output.stderr)
    );
    let output = run(args(&["cancel", &elsewhere, "--job-id", &id])).await;
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    assert!(matches!(model.truth(&id), Some(Truth::Cancelled { .. })));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_job_that_does_not_exist_exits_refused() {
    let (_model, server, _, url) = job(ServerConfig::default(), Shape::Jobs).await;
    let output = run(args(&["cancel", &format!("{url}-missing")])).await;
    assert_eq!(code(&output), 5, "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("answer: 404"),
        "{}",
        text(&output.stdout)
    );
    server.shutdown().await;
}

#[test]
fn a_profile_without_a_cancel_request_is_a_usage_error_saying_so() {
    let output = Command::new(env!("CARGO_BIN_EXE_jobpoll"))
        .args([
            "cancel",
            "http://127.0.0.1:9/api/v1/codegen/job-1",
            "--profile",
            "codegen",
        ])
        .output()
        .expect("the binary runs");
    assert_eq!(code(&output), 2);
    assert!(
        text(&output.stderr).contains("the codegen profile has no cancel request"),
        "{}",
        text(&output.stderr)
    );
    for bad in [
        vec!["cancel", "not a url"],
        vec!["cancel", "http://127.0.0.1:9/x", "-H", "no colon"],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_jobpoll"))
            .args(&bad)
            .output()
            .expect("the binary runs");
        assert_eq!(code(&output), 2, "{bad:?}: {}", text(&output.stderr));
    }
}

#[test]
fn a_cancel_or_status_where_nothing_listens_says_it_could_not_connect() {
    // Nothing listens on the discard port of loopback.
    for command in ["cancel", "status"] {
        let output = Command::new(env!("CARGO_BIN_EXE_jobpoll"))
            .args([command, "http://127.0.0.1:9/api/v1/jobs/job-1"])
            .output()
            .expect("the binary runs");
        assert_eq!(code(&output), 7, "{command}: {}", text(&output.stderr));
        assert!(
            text(&output.stderr).contains("could not connect to 127.0.0.1:9"),
            "{command}: {}",
            text(&output.stderr)
        );
    }
}
