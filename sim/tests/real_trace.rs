//! A trace recorded by the real driver against the real server over loopback
//! replays bit-identically through the simulator's `replay` command.

use std::process::Command;
use std::time::Duration;

use jobpoll_core::{Config, Schedule};
use jobpoll_server::http::{ServeOptions, Server, SharedModel};
use jobpoll_server::model::ServerModel;
use jobpoll_server::plan::{Fault, FaultWindow, JobPlan, Shape};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_driver_trace_replays_in_the_simulator() {
    let server = Server::bind_loopback(SharedModel::new(ServeOptions::default()))
        .await
        .expect("server");
    let plan = JobPlan {
        duration: Duration::from_millis(1200),
        faults: vec![
            FaultWindow {
                from: Duration::from_millis(100),
                until: Duration::from_millis(400),
                fault: Fault::Status {
                    status: 429,
                    retry_after: Some(1),
                },
            },
            FaultWindow {
                from: Duration::from_millis(1400),
                until: Duration::from_millis(1500),
                fault: Fault::Status {
                    status: 503,
                    retry_after: None,
                },
            },
        ],
        ..JobPlan::default()
    };
    let origin = server.base_url().parse().expect("the server's URL");
    let spec = ServerModel::submit_spec(&origin, Shape::Codegen, &plan)
        .expect("model paths are URLs")
        .with_header("authorization", "Bearer not-in-the-trace");
    let config = Config {
        poll: Schedule::fixed(Duration::from_millis(150)),
        retry: Schedule::fixed(Duration::from_millis(150)),
        deadline: Some(Duration::from_secs(20)),
        request_time_limit: Duration::from_secs(2),
        ..Config::standard()
    };
    let trace =
        std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("real-driver-trace.jsonl");
    let outcome = jobpoll_tokio::Client::new()
        .start_recorded(spec, config, trace.clone())
        .expect("started")
        .await
        .expect("the driver ran");
    assert!(outcome.is_success(), "{outcome}");
    let text = std::fs::read_to_string(&trace).expect("trace written");
    assert!(text.contains("\"status\":429"), "the 429 is in the trace");
    assert!(!text.contains("not-in-the-trace"), "the token is redacted");
    let output = Command::new(env!("CARGO_BIN_EXE_jobpoll-sim"))
        .arg("replay")
        .arg(&trace)
        .output()
        .expect("the simulator runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("identical"));
    server.shutdown().await;
}
