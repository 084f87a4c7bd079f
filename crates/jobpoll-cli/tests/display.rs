//! What the `jobpoll` binary writes on stderr when it is not a terminal: colour
//! only when forced and never with `NO_COLOR`, server text on one cut line,
//! `--quiet` and `--no-progress`, and the demo's table.

mod support;

use std::process::Output;
use std::time::Duration;

use jobpoll_server::http::{Server, SharedModel};
use jobpoll_server::plan::Ending;
use support::{job_url, jobpoll, lasting, serve, stderr};

/// The width lines are cut to when stderr is not a terminal.
const FIXED_WIDTH: usize = 100;

/// Runs the binary with `args` and `env` (and neither `NO_COLOR` nor
/// `CLICOLOR_FORCE` unless given), off the server's runtime.
async fn run(args: Vec<String>, env: &'static [(&'static str, &'static str)]) -> Output {
    let env = env.iter().map(|&(name, value)| (name, value.to_owned()));
    support::run_env(args, &["NO_COLOR", "CLICOLOR_FORCE"], env.collect()).await
}

/// `wait` arguments for a job on `server` that runs 600 ms and ends as `ending`.
fn wait_on(model: &SharedModel, server: &Server, ending: Ending, more: &[&str]) -> Vec<String> {
    let url = job_url(model, server, lasting(Duration::from_millis(600), ending));
    let mut args = vec![
        "wait".to_owned(),
        url,
        "--interval".to_owned(),
        "150ms".to_owned(),
    ];
    args.extend(more.iter().map(|arg| (*arg).to_owned()));
    args
}

fn long_failure() -> Ending {
    Ending::Fail {
        message: format!(
            "out of GPU memory\r\n\ttrace:\u{1b}[2J {}",
            "frame in the allocator ".repeat(20)
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_job_is_red_when_colour_is_forced_and_plain_with_no_color() {
    let (model, server) = serve().await;
    let forced = run(
        wait_on(&model, &server, long_failure(), &[]),
        &[("CLICOLOR_FORCE", "1")],
    )
    .await;
    assert_eq!(forced.status.code(), Some(1), "{}", stderr(&forced));
    assert!(
        stderr(&forced).contains("job: \u{1b}[31mfailed\u{1b}[0m after "),
        "{}",
        stderr(&forced)
    );
    let plain = run(
        wait_on(&model, &server, long_failure(), &[]),
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
    )
    .await;
    assert_eq!(plain.status.code(), Some(1), "{}", stderr(&plain));
    assert!(!stderr(&plain).contains('\u{1b}'), "{:?}", stderr(&plain));
    assert!(
        stderr(&plain).contains("job: failed after "),
        "{}",
        stderr(&plain)
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_server_message_is_one_line_cut_to_a_fixed_width() {
    let (model, server) = serve().await;
    let output = run(wait_on(&model, &server, long_failure(), &[]), &[]).await;
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let failed = text
        .lines()
        .find(|line| line.starts_with("job: failed after "))
        .unwrap_or_else(|| panic!("no failed line in {text}"));
    assert!(
        failed.contains(": out of GPU memory trace: frame in the allocator"),
        "{failed}"
    );
    assert!(failed.ends_with('…'), "{failed}");
    for line in text.lines() {
        assert!(line.chars().count() <= FIXED_WIDTH, "{line:?}");
        assert!(!line.contains('\u{1b}') && !line.contains('\t'), "{line:?}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_says_nothing_on_success_and_only_the_failure_otherwise() {
    let (model, server) = serve().await;
    let succeeded = run(wait_on(&model, &server, Ending::Succeed, &["--quiet"]), &[]).await;
    assert_eq!(succeeded.status.code(), Some(0), "{}", stderr(&succeeded));
    assert_eq!(stderr(&succeeded), "");
    let failed = run(wait_on(&model, &server, long_failure(), &["--quiet"]), &[]).await;
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    let text = stderr(&failed);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("job: failed after "), "{lines:?}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_lines_show_durations_in_whole_units() {
    let (model, server) = serve().await;
    let output = run(
        wait_on(&model, &server, Ending::Succeed, &["--no-progress"]),
        &[],
    )
    .await;
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains(" elapsed · poll "), "{text}");
    assert!(text.contains("job: succeeded after "), "{text}");
    for word in text.split_whitespace() {
        let number = word.trim_end_matches(|c: char| c.is_ascii_alphabetic() || c == ',');
        assert!(
            !(number.contains('.') && number.starts_with(|c: char| c.is_ascii_digit())),
            "{word:?} in {text}"
        );
    }
    server.shutdown().await;
}

#[test]
fn the_demo_table_explains_its_columns_and_lists_jobs_in_the_order_of_the_bars() {
    let output = jobpoll(&["demo"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    let header = lines
        .iter()
        .position(|line| line.starts_with("job ") && line.contains("noticed after"))
        .unwrap_or_else(|| panic!("no table header in {stdout}"));
    assert!(lines[header - 3].starts_with("duration: "), "{stdout}");
    assert!(lines[header - 2].starts_with("requests: "), "{stdout}");
    assert!(lines[header - 1].starts_with("noticed after: "), "{stdout}");
    let labels: Vec<&str> = lines[header + 1..header + 7]
        .iter()
        .map(|line| line.split("  ").next().unwrap_or_default())
        .collect();
    assert_eq!(
        labels,
        [
            "video",
            "codegen",
            "image (fails)",
            "429 storm",
            "cancelled",
            "azure"
        ],
        "{stdout}"
    );
}
