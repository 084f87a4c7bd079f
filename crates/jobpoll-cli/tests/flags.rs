//! The schedule and limit flags of `wait` and `submit`, their defaults, and the
//! messages of bad values, through the real binary against the reference server.

mod support;

use std::time::Duration;

use jobpoll_server::http::{Server, SharedModel};
use jobpoll_server::plan::{Fault, FaultWindow, JobPlan};
use support::{all, args, code, job_url, jobpoll, never_ends, run_timed, serve};

/// The reference server and the status URL of one jobs-API job planned by `plan`.
async fn job(plan: JobPlan) -> (SharedModel, Server, String) {
    let (model, server) = serve().await;
    let url = job_url(&model, &server, plan);
    (model, server, url)
}

#[test]
fn a_duration_without_a_unit_asks_for_one_on_every_duration_flag() {
    let url = "http://127.0.0.1:9/api/v1/jobs/job-1";
    for (command, flag) in [
        ("wait", "--timeout"),
        ("wait", "--interval"),
        ("wait", "--not-found-grace"),
        ("submit", "--timeout"),
        ("status", "--timeout"),
        ("cancel", "--timeout"),
    ] {
        let output = jobpoll(&[command, url, flag, "10"]);
        assert_eq!(code(&output), 2, "{command} {flag}: {}", all(&output));
        let text = all(&output);
        assert!(
            text.contains("add a unit, e.g. 10s"),
            "{command} {flag}: {text}"
        );
    }
    let output = jobpoll(&["wait", url, "--timeout", "soon"]);
    assert_eq!(code(&output), 2);
    assert!(all(&output).contains("write e.g. 10s"), "{}", all(&output));
}

#[test]
fn limits_of_zero_are_refused() {
    let url = "http://127.0.0.1:9/api/v1/jobs/job-1";
    for (flag, value) in [
        ("--max-attempts", "0"),
        ("--max-errors", "0"),
        ("--interval", "0s"),
        ("--timeout", "0s"),
    ] {
        let output = jobpoll(&["wait", url, flag, value]);
        assert_eq!(code(&output), 2, "{flag} {value}: {}", all(&output));
    }
    let output = jobpoll(&["wait", url, "--max-attempts", "many"]);
    assert_eq!(code(&output), 2, "{}", all(&output));
}

#[test]
fn help_says_what_each_flag_changes() {
    let help = all(&jobpoll(&["wait", "--help"]));
    for text in [
        "--max-attempts <N>",
        "--max-errors <N>",
        "--not-found-grace <D>",
        "Without --preset: standard's limits with the adaptive poll schedule",
        "After an error, retry after D, then 1.5×D",
    ] {
        assert!(help.contains(text), "{text:?} not in\n{help}");
    }
}

/// With no flag the adaptive schedule polls near the server's ETA: a 3 s job is
/// seen done within seconds, not at the standard preset's second poll 30 s out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_flag_the_wait_follows_the_eta() {
    let (model, server, url) = job(JobPlan {
        duration: Duration::from_secs(3),
        eta_sigma: Some(0.0),
        progress: true,
        ..JobPlan::default()
    })
    .await;
    let (output, took) = run_timed(args(&["wait", &url])).await;
    assert_eq!(code(&output), 0, "{}", all(&output));
    assert!(took < Duration::from_secs(12), "took {took:?}");
    let polls = model.requests().len();
    assert!((2..=8).contains(&polls), "{polls} polls");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_attempts_ends_the_wait_as_timed_out() {
    let (model, server, url) = job(never_ends()).await;
    let (output, took) = run_timed(args(&[
        "wait",
        &url,
        "--interval",
        "100ms",
        "--max-attempts",
        "3",
    ]))
    .await;
    assert_eq!(code(&output), 3, "{}", all(&output));
    assert!(
        all(&output).contains("all 3 attempts were used"),
        "{}",
        all(&output)
    );
    assert_eq!(model.requests().len(), 3);
    assert!(took < Duration::from_secs(10), "took {took:?}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_errors_gives_up_after_that_many_errors_in_a_row() {
    let (model, server, url) = job(JobPlan {
        faults: vec![FaultWindow {
            from: Duration::ZERO,
            until: Duration::from_secs(3600),
            fault: Fault::Status {
                status: 500,
                retry_after: None,
            },
        }],
        ..never_ends()
    })
    .await;
    let (output, took) = run_timed(args(&[
        "wait",
        &url,
        "--interval",
        "100ms",
        "--max-errors",
        "2",
    ]))
    .await;
    assert_eq!(code(&output), 6, "{}", all(&output));
    assert_eq!(model.requests().len(), 2, "{:?}", model.requests());
    assert!(took < Duration::from_secs(10), "took {took:?}");
    server.shutdown().await;
}

/// `--interval` sets the retry wait too: errors for the job's first second are
/// retried within a fraction of a second, not after the preset's 15 to 30 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interval_sets_the_retry_wait_too() {
    let (_model, server, url) = job(JobPlan {
        duration: Duration::from_secs(2),
        faults: vec![FaultWindow {
            from: Duration::ZERO,
            until: Duration::from_secs(1),
            fault: Fault::Status {
                status: 500,
                retry_after: None,
            },
        }],
        ..JobPlan::default()
    })
    .await;
    let (output, took) = run_timed(args(&["wait", &url, "--interval", "200ms"])).await;
    assert_eq!(code(&output), 0, "{}", all(&output));
    assert!(took < Duration::from_secs(10), "took {took:?}");
    server.shutdown().await;
}

/// A job that never appears: `--not-found-grace` bounds the wait for it, and the
/// ending says how long it was given.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_grace_bounds_the_wait_for_a_job_to_appear() {
    let (_model, server, url) = job(never_ends()).await;
    let missing = format!("{url}-missing");
    let (output, took) = run_timed(args(&[
        "wait",
        &missing,
        "--interval",
        "200ms",
        "--not-found-grace",
        "1s",
    ]))
    .await;
    assert_eq!(code(&output), 5, "{}", all(&output));
    assert!(
        all(&output).contains("not found: waited 1s for the job to appear (--not-found-grace)"),
        "{}",
        all(&output)
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
    server.shutdown().await;
}

/// A job that appears within the grace is waited on to its end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_that_appears_within_the_grace_is_waited_on() {
    let (_model, server, url) = job(JobPlan {
        duration: Duration::from_millis(1500),
        visible_after: Duration::from_millis(800),
        ..JobPlan::default()
    })
    .await;
    let (output, _) = run_timed(args(&[
        "wait",
        &url,
        "--interval",
        "200ms",
        "--not-found-grace",
        "5s",
    ]))
    .await;
    assert_eq!(code(&output), 0, "{}", all(&output));
    server.shutdown().await;
}

/// A status URL that answers with an HTML page (a proxy's error page here) ends
/// with a message that says so and names the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_html_page_instead_of_json_says_so() {
    let (_model, server, url) = job(JobPlan {
        faults: vec![FaultWindow {
            from: Duration::ZERO,
            until: Duration::from_secs(3600),
            fault: Fault::Malformed,
        }],
        ..never_ends()
    })
    .await;
    let (output, _) = run_timed(args(&["wait", &url, "--interval", "100ms"])).await;
    assert_eq!(code(&output), 6, "{}", all(&output));
    assert!(
        all(&output).contains(
            "the server answered with an HTML page, not JSON: is the URL right, or is this a \
             login page? <title>502 Bad Gateway</title>"
        ),
        "{}",
        all(&output)
    );
    server.shutdown().await;
}
