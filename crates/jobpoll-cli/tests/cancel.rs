//! `jobpoll cancel` through the real binary against the reference server on
//! loopback.

mod support;

use jobpoll_server::http::{Server, SharedModel};
use jobpoll_server::model::{ServerConfig, Truth};
use jobpoll_server::plan::Shape;
use support::{args, code, create, jobpoll, never_ends, run, serve_with, stderr, stdout};

/// The reference server (with `config`), and one running job of `shape`: its id
/// and status URL.
async fn job(config: ServerConfig, shape: Shape) -> (SharedModel, Server, String, String) {
    let (model, server) = serve_with(config).await;
    let (id, url) = create(&model, &server, shape, never_ends());
    (model, server, id, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_sends_the_profiles_cancel_request_and_shows_the_answer() {
    let (model, server, id, url) = job(ServerConfig::default(), Shape::Jobs).await;
    let output = run(args(&["cancel", &url])).await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let stdout = stdout(&output);
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
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(
        stdout(&output).contains(&format!("sent: POST {url}:cancel")),
        "{}",
        stdout(&output)
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
    assert_eq!(code(&refused), 5, "{}", stderr(&refused));
    assert!(
        stdout(&refused).contains("answer: 401"),
        "{}",
        stdout(&refused)
    );
    assert!(matches!(model.truth(&id), Some(Truth::Running)));
    let accepted = run(args(&["cancel", &url, "-H", "Authorization: Bearer right"])).await;
    assert_eq!(code(&accepted), 0, "{}", stderr(&accepted));
    assert!(matches!(model.truth(&id), Some(Truth::Cancelled { .. })));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_id_comes_from_job_id_when_the_url_does_not_carry_it() {
    let (model, server, id, _) = job(ServerConfig::default(), Shape::Jobs).await;
    let elsewhere = format!("{}/status-of/something", server.base_url());
    let output = run(args(&["cancel", &elsewhere])).await;
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("give the job's id with --job-id"),
        "{}",
        stderr(&output)
    );
    let output = run(args(&["cancel", &elsewhere, "--job-id", &id])).await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(matches!(model.truth(&id), Some(Truth::Cancelled { .. })));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_job_that_does_not_exist_exits_refused() {
    let (_model, server, _, url) = job(ServerConfig::default(), Shape::Jobs).await;
    let output = run(args(&["cancel", &format!("{url}-missing")])).await;
    assert_eq!(code(&output), 5, "{}", stderr(&output));
    assert!(
        stdout(&output).contains("answer: 404"),
        "{}",
        stdout(&output)
    );
    server.shutdown().await;
}

#[test]
fn a_profile_without_a_cancel_request_is_a_usage_error_saying_so() {
    let output = jobpoll(&[
        "cancel",
        "http://127.0.0.1:9/api/v1/codegen/job-1",
        "--profile",
        "codegen",
    ]);
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("the codegen profile has no cancel request"),
        "{}",
        stderr(&output)
    );
    for bad in [
        vec!["cancel", "not a url"],
        vec!["cancel", "http://127.0.0.1:9/x", "-H", "no colon"],
    ] {
        let output = jobpoll(&bad);
        assert_eq!(code(&output), 2, "{bad:?}: {}", stderr(&output));
    }
}

#[test]
fn a_cancel_or_status_where_nothing_listens_says_it_could_not_connect() {
    // Nothing listens on the discard port of loopback.
    for command in ["cancel", "status"] {
        let output = jobpoll(&[command, "http://127.0.0.1:9/api/v1/jobs/job-1"]);
        assert_eq!(code(&output), 7, "{command}: {}", stderr(&output));
        assert!(
            stderr(&output).contains("could not connect to 127.0.0.1:9"),
            "{command}: {}",
            stderr(&output)
        );
    }
}
