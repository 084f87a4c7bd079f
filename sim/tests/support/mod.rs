//! What the simulator's test files share.

use std::path::Path;
use std::process::Command;

/// Runs the printed reproduction `command` (a `cargo run ... -- <args>` line)
/// through the built binary, writing into `trace_dir`, and checks that it fails
/// with `violation` on its standard error.
pub(crate) fn reproduces(command: &str, trace_dir: &Path, violation: &str) {
    let binary = env!("CARGO_BIN_EXE_jobpoll-sim");
    let (_, args) = command.split_once(" -- ").expect("a cargo run command");
    let output = Command::new(binary)
        .args(args.split_whitespace())
        .arg("--trace-dir")
        .arg(trace_dir)
        .output()
        .expect("the simulator runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(violation), "{stderr}");
}
