//! `jobpoll status`: one read of a status URL with a profile, through the real
//! binary against the reference server on loopback.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use jobpoll_server::http::{ServeOptions, Server, SharedModel};
use jobpoll_server::plan::{Ending, Fault, FaultWindow, JobPlan, Shape};

fn code(output: &Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-status");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir.join(name)
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

/// The reference server, and the status URL of one running jobs-API job with
/// progress, planned as `plan` changes it.
async fn job(change: impl FnOnce(&mut JobPlan)) -> (Server, String) {
    let model = SharedModel::new(ServeOptions::default());
    let server = Server::bind_loopback(model.clone())
        .await
        .expect("loopback server");
    let mut plan = JobPlan {
        duration: Duration::from_secs(3600),
        ending: Ending::Never,
        progress: true,
        ..JobPlan::default()
    };
    change(&mut plan);
    let path = model.create(Shape::Jobs, plan).status_path;
    let url = format!("{}{path}", server.base_url());
    (server, url)
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|&a| a.to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_what_the_job_sees_and_explains_each_field() {
    let (server, url) = job(|_| {}).await;
    let output = run(args(&["status", &url, "-H", "X-Trace: 1"])).await;
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("state: running\n"), "{stdout}");
    assert!(stdout.contains("progress: "), "{stdout}");
    assert!(!stdout.contains("fields:"), "{stdout}");

    let output = run(args(&["status", &url, "--explain"])).await;
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
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
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
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
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
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
    assert_eq!(code(&output), 6, "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
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
        text(&output.stderr).contains("the jobs profile cannot read this answer"),
        "{}",
        text(&output.stderr)
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_request_exits_refused() {
    let (server, url) = job(|_| {}).await;
    let missing = format!("{url}-none");
    let output = run(args(&["status", &missing])).await;
    assert_eq!(code(&output), 5, "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("404"),
        "{}",
        text(&output.stderr)
    );
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
        let output = Command::new(env!("CARGO_BIN_EXE_jobpoll"))
            .args([command, "http://127.0.0.1:9/x", "--profile", &path])
            .output()
            .expect("the binary runs");
        assert_eq!(code(&output), 2, "{command}: {}", text(&output.stderr));
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains(
                "not a profile: unknown key `percentage_poiner` at the top level; did you mean `percentage_pointer`?"
            ),
            "{command}: {stderr}"
        );
    }
}
