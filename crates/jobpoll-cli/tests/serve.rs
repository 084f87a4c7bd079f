//! `jobpoll serve`'s address, through the real binary.

mod support;

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

use support::{jobpoll, stdout};

/// `serve` without `--listen` takes 127.0.0.1:8765, and when something else holds
/// that port, a free port, saying so.
#[test]
fn serve_moves_to_a_free_port_when_its_default_is_taken() {
    // Hold the port (if another process already holds it, it is taken all the same).
    let _held = std::net::TcpListener::bind("127.0.0.1:8765");
    let said = serve_until(&["serve"], "listening on http");
    assert!(
        said.contains("127.0.0.1:8765 is in use; listening on a free port instead"),
        "{said}"
    );
    assert!(said.contains("listening on http://127.0.0.1:"), "{said}");
    assert!(
        !said.contains("listening on http://127.0.0.1:8765"),
        "{said}"
    );
}

#[test]
fn serve_help_names_the_default_address() {
    let output = jobpoll(&["serve", "--help"]);
    assert!(
        stdout(&output).contains("127.0.0.1:8765"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn serve_prints_the_page_address_and_refuses_a_missing_page_dir() {
    let said = serve_until(&["serve", "--listen", "127.0.0.1:0"], "page: http");
    let address = said
        .lines()
        .find_map(|line| line.strip_prefix("jobpoll serve: listening on "))
        .and_then(|rest| rest.split(' ').next())
        .expect("the address");
    assert!(said.contains(&format!("page: {address}/")), "{said}");

    let output = jobpoll(&["serve", "--page-dir", "/nonexistent/page"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--page-dir") && stderr.contains("/nonexistent/page"),
        "{stderr}"
    );
}

/// Starts `jobpoll ARGS`, reads its stderr up to the line holding `until`, stops
/// it, and returns what it said.
fn serve_until(args: &[&str], until: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_jobpoll"))
        .args(args)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = Vec::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("a line");
        let done = line.contains(until);
        lines.push(line);
        if done {
            break;
        }
    }
    child.kill().expect("the server stops");
    child.wait().expect("the server exits");
    lines.join("\n")
}
