//! `jobpoll status`: one read of a status URL with a profile, through the real
//! binary against the reference server on loopback.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use jobpoll_server::http::Server;
use jobpoll_server::plan::{Fault, FaultWindow, JobPlan};
use support::{args, code, job_url, jobpoll, never_ends, run, serve, stderr, stdout};

fn scratch(name: &str) -> PathBuf {
    support::scratch("cli-status", name)
}

/// The reference server, and the status URL of one running jobs-API job with
/// progress, planned as `plan` changes it.
async fn job(change: impl FnOnce(&mut JobPlan)) -> (Server, String) {
    let (model, server) = serve().await;
    let mut plan = JobPlan {
        progress: true,
        ..never_ends()
    };
    change(&mut plan);
    let url = job_url(&model, &server, plan);
    (server, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_what_the_job_sees_and_explains_each_field() {
    let (server, url) = job(|_| {}).await;
    let output = run(args(&["status", &url, "-H", "X-Trace: 1"])).await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let stdout = stdout(&output);
    assert!(stdout.contains("state: running\n"), "{stdout}");
    assert!(stdout.contains("progress: "), "{stdout}");
    assert!(!stdout.contains("fields:"), "{stdout}");

    let output = run(args(&["status", &url, "--explain"])).await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let stdout = support::stdout(&output);
    for line in [
        "profile: jobs",
        "HTTP status: 200",
        "state: running",
        "fields:",
        "  error_message_pointer: /error_data/message -> nothing",
    ] {
        assert!(stdout.lines().any(|l| l == line), "{line:?} in\n{stdout}");
    }
    for start in [
        "  completion.pointer: /status -> \"",
        "  submit_id_pointers.0: /job_id -> \"",
        "  percentage_pointer: /progress_data/percentage -> ",
    ] {
        assert!(stdout.contains(start), "{start:?} in\n{stdout}");
    }

    let output = run(args(&["status", &url, "--json"])).await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(json["profile"], "jobs");
    assert_eq!(json["report"]["state"], "running");
    assert_eq!(json["fields"][0]["field"], "completion.pointer");
    assert_eq!(json["fields"][0]["found"]["found"], "value");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_profile_file_explains_a_wrong_type() {
    let (server, url) = job(|_| {}).await;
    let mut profile = serde_json::to_value(jobpoll_core::Profile::jobs()).expect("JSON");
    profile["name"] = "mine".into();
    profile["step_pointer"] = "/progress_data/percentage".into();
    let file = scratch("mine.json");
    std::fs::write(&file, profile.to_string()).expect("written");
    let output = run(args(&[
        "status",
        &url,
        "--profile",
        &file.display().to_string(),
        "--explain",
    ]))
    .await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let stdout = stdout(&output);
    assert!(stdout.contains("profile: mine"), "{stdout}");
    assert!(
        stdout.contains(
            "  step_pointer: /progress_data/percentage -> wrong type: expected string, found number"
        ),
        "{stdout}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_json_answer_is_unreadable_and_says_so() {
    let (server, url) = job(|plan| {
        plan.faults = vec![FaultWindow {
            from: Duration::ZERO,
            until: Duration::from_secs(3600),
            fault: Fault::Malformed,
        }];
    })
    .await;
    let output = run(args(&["status", &url, "--explain"])).await;
    assert_eq!(code(&output), 6, "{}", stderr(&output));
    let stdout = stdout(&output);
    assert!(
        stdout.contains(
            "unreadable: the server answered with an HTML page, not JSON: is the URL right, \
             or is this a login page? <title>502 Bad Gateway</title>"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("completion.pointer: /status -> nothing (the body is not JSON)"),
        "{stdout}"
    );
    assert!(
        stderr(&output).contains("the jobs profile cannot read this answer"),
        "{}",
        stderr(&output)
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_request_exits_refused() {
    let (server, url) = job(|_| {}).await;
    let missing = format!("{url}-none");
    let output = run(args(&["status", &missing])).await;
    assert_eq!(code(&output), 5, "{}", stderr(&output));
    assert!(stderr(&output).contains("404"), "{}", stderr(&output));
    server.shutdown().await;
}

#[test]
fn a_profile_file_with_a_misspelt_key_is_refused_with_the_nearest_key() {
    let mut profile = serde_json::to_value(jobpoll_core::Profile::jobs()).expect("JSON");
    let object = profile.as_object_mut().expect("object");
    let value = object.remove("percentage_pointer").expect("set");
    object.insert("percentage_poiner".to_owned(), value);
    let file = scratch("misspelt.json");
    std::fs::write(&file, profile.to_string()).expect("written");
    let path = file.display().to_string();
    for command in ["status", "wait"] {
        let output = jobpoll(&[command, "http://127.0.0.1:9/x", "--profile", &path]);
        assert_eq!(code(&output), 2, "{command}: {}", stderr(&output));
        let stderr = stderr(&output);
        assert!(
            stderr.contains(
                "not a profile: unknown key `percentage_poiner` at the top level; did you mean `percentage_pointer`?"
            ),
            "{command}: {stderr}"
        );
    }
}
