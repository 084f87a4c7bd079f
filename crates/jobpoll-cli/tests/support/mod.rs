//! What the integration tests of the `jobpoll` binary share: the reference server
//! on loopback, jobs created on it, the binary run (off the server's runtime, or
//! interrupted), and what it wrote.
//!
//! Each test file uses a part of it.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use jobpoll_server::http::{ServeOptions, Server, SharedModel};
use jobpoll_server::model::ServerConfig;
use jobpoll_server::plan::{Ending, JobPlan, Shape};

/// The reference server with default options on loopback, and its model.
pub(crate) async fn serve() -> (SharedModel, Server) {
    serve_with(ServerConfig::default()).await
}

/// The reference server with the model settings `config` on loopback, and its
/// model.
pub(crate) async fn serve_with(config: ServerConfig) -> (SharedModel, Server) {
    let model = SharedModel::new(ServeOptions {
        config,
        ..ServeOptions::default()
    });
    let server = Server::bind_loopback(model.clone())
        .await
        .expect("loopback server");
    (model, server)
}

/// A job of the API `shape` created on `model` as `plan` says: its id and its
/// status URL on `server`.
pub(crate) fn create(
    model: &SharedModel,
    server: &Server,
    shape: Shape,
    plan: JobPlan,
) -> (String, String) {
    let created = model.create(shape, plan);
    let url = format!("{}{}", server.base_url(), created.status_path);
    (created.id, url)
}

/// A job of the jobs API created on `model` as `plan` says: its status URL on
/// `server`.
pub(crate) fn job_url(model: &SharedModel, server: &Server, plan: JobPlan) -> String {
    create(model, server, Shape::Jobs, plan).1
}

/// A plan that runs `duration` and ends as `ending`.
pub(crate) fn lasting(duration: Duration, ending: Ending) -> JobPlan {
    JobPlan {
        duration,
        ending,
        ..JobPlan::default()
    }
}

/// A plan that runs an hour and does not end by itself.
pub(crate) fn never_ends() -> JobPlan {
    lasting(Duration::from_secs(3600), Ending::Never)
}

/// Owned arguments for [`run`] and the like.
pub(crate) fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|&a| a.to_owned()).collect()
}

/// Runs the binary with `args` and waits for it: only where no server of this
/// test's runtime has to answer it (see [`run`]).
pub(crate) fn jobpoll<S: AsRef<OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jobpoll"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// Runs the blocking binary without stalling the server's runtime.
pub(crate) async fn run(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || jobpoll(&args))
        .await
        .expect("the binary ran")
}

/// [`run`], and how long the binary took.
pub(crate) async fn run_timed(args: Vec<String>) -> (Output, Duration) {
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let output = jobpoll(&args);
        (output, started.elapsed())
    })
    .await
    .expect("the binary ran")
}

/// [`run`] with the variables `unset` removed from the test's own environment
/// and `env` set.
pub(crate) async fn run_env(
    args: Vec<String>,
    unset: &'static [&'static str],
    env: Vec<(&'static str, String)>,
) -> Output {
    tokio::task::spawn_blocking(move || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_jobpoll"));
        command.args(&args);
        for name in unset {
            command.env_remove(name);
        }
        for (name, value) in env {
            command.env(name, value);
        }
        command.output().expect("the binary runs")
    })
    .await
    .expect("the binary ran")
}

/// Starts the binary, interrupts it (SIGINT, as Ctrl-C does) after `after`, and
/// waits for it to exit.
pub(crate) async fn interrupted(args: Vec<String>, after: Duration) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_jobpoll"))
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    tokio::time::sleep(after).await;
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(kill.success());
    tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("joined")
        .expect("exited")
}

/// The exit code (-1 for none: ended by a signal).
pub(crate) fn code(output: &Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

/// Standard output as text.
pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Standard error as text.
pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Standard output and standard error, each under its name.
pub(crate) fn all(output: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", stdout(output), stderr(output))
}

/// A path named `name` in the test folder `folder` of the target directory,
/// with nothing left there by an earlier run.
pub(crate) fn scratch(folder: &str, name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(folder);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    path
}
