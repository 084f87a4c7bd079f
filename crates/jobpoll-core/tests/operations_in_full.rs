//! Long-running operations end as their own SDKs end them: any method starts a
//! job, an answer that is already final ends it at once, a moving `Location` is
//! followed, a status monitor without a status is never a success, the submit is
//! repeated only where the API allows it, and a job polled by URL alone can still
//! cancel by the id in that URL.

mod support;

use jobpoll_core::event::PollError;
use jobpoll_core::{Config, Event, Instant, Job, JobSpec, Outcome, Profile, Purpose, Start};
use serde_json::json;
use support::profile_runs::{expect_success, purposes, url};
use support::{Reply, cancelled_by_client, run, script};

const RESOURCE: &str = "https://management.example.com/things/t1?api-version=1";
const MONITOR: &str = "https://management.example.com/operations/op1";

fn started(profile: Profile, method: http::Method, target: &str) -> Job {
    let spec = JobSpec {
        profile,
        start: Start::Submit {
            method,
            url: url(target),
            body: Some("{}".to_owned()),
        },
        headers: Vec::new(),
    };
    Job::new(spec, Config::fast(), Instant::ZERO).expect("valid job")
}

fn azure(method: http::Method) -> Job {
    started(Profile::azure_operation(), method, RESOURCE)
}

#[test]
fn an_initial_answer_that_is_already_final_ends_the_job_at_once() {
    let thing = json!({"id": "t1", "properties": {"provisioningState": "Succeeded"}});
    for (method, reply, result) in [
        (
            http::Method::PUT,
            Reply::ok(&thing.to_string()),
            Some(&thing),
        ),
        (http::Method::PATCH, Reply::status(204, ""), None),
        (http::Method::DELETE, Reply::status(204, ""), None),
        (
            http::Method::POST,
            Reply::ok(r#"{"n":1}"#),
            Some(&json!({"n": 1})),
        ),
    ] {
        let run = run(azure(method.clone()), script(vec![reply]), None);
        assert_eq!(purposes(&run), vec![Purpose::Submit], "{method}");
        let (got, results) = expect_success(&run);
        assert_eq!(got, result, "{method}");
        assert_eq!(results, None, "{method}");
        assert_eq!(run.sent[0].1.method, method);
    }
    // A resource that failed in its first answer has failed.
    let failed = json!({"id": "t1", "properties": {"provisioningState": "Failed"}});
    let run = run(
        azure(http::Method::PUT),
        script(vec![Reply::ok(&failed.to_string())]),
        None,
    );
    assert!(
        matches!(run.outcome(), Outcome::Failed { .. }),
        "{}",
        run.outcome()
    );
}

#[test]
fn a_google_operation_created_done_ends_without_a_poll() {
    let done = json!({"name": "operations/o1", "done": true, "response": {"words": 3}});
    let job = started(
        Profile::google_operation(),
        http::Method::POST,
        "https://speech.example.com/v1/speech:recognize",
    );
    let run = run(job, script(vec![Reply::ok(&done.to_string())]), None);
    assert_eq!(purposes(&run), vec![Purpose::Submit]);
    assert_eq!(expect_success(&run).0, Some(&json!({"words": 3})));
}

#[test]
fn put_without_a_header_polls_the_resource_until_its_state_is_final() {
    let state = |s: &str| {
        Reply::ok(&json!({"id": "t1", "properties": {"provisioningState": s}}).to_string())
    };
    let run = run(
        azure(http::Method::PUT),
        script(vec![
            state("Creating"),
            state("Updating"),
            state("Succeeded"),
        ]),
        None,
    );
    assert_eq!(
        purposes(&run),
        vec![Purpose::Submit, Purpose::Status, Purpose::Status]
    );
    assert!(
        run.sent[1..]
            .iter()
            .all(|(_, t)| t.url.as_str() == RESOURCE)
    );
    assert!(
        run.sent[1..]
            .iter()
            .all(|(_, t)| t.method == http::Method::GET)
    );
    let (result, results) = expect_success(&run);
    assert_eq!(
        result.expect("the resource")["properties"]["provisioningState"],
        "Succeeded"
    );
    assert_eq!(results, None, "the resource was polled: no final GET");
}

#[test]
fn a_moving_location_is_followed() {
    let first = "https://management.example.com/results/1";
    let second = "https://management.example.com/results/2";
    let third = "https://management.example.com/results/3";
    let run = run(
        azure(http::Method::POST),
        script(vec![
            Reply::status(202, "").header("Location", first),
            Reply::status(202, "").header("Location", second),
            Reply::status(202, "").header("Location", "/results/3"),
            Reply::status(202, ""),
            Reply::ok(r#"{"exported":true}"#),
        ]),
        None,
    );
    let polled: Vec<&str> = run.sent[1..].iter().map(|(_, t)| t.url.as_str()).collect();
    assert_eq!(polled, vec![first, second, third, third]);
    assert_eq!(expect_success(&run).0, Some(&json!({"exported": true})));
}

#[test]
fn a_monitor_that_never_says_its_status_is_not_a_success() {
    let run = run(
        azure(http::Method::PUT),
        script(vec![
            Reply::status(201, "").header("Azure-AsyncOperation", MONITOR),
            Reply::ok(r#"{"id":"op1"}"#),
            Reply::ok(""),
            Reply::ok(r#"{"status":3}"#),
        ]),
        None,
    );
    match run.outcome() {
        Outcome::GaveUp {
            last_error: PollError::Unreadable(error),
            ..
        } => assert!(error.to_string().contains("/status"), "{error}"),
        other => panic!("expected an unreadable monitor to give up, got {other}"),
    }
    assert!(!run.sent.iter().any(|(_, t)| t.purpose == Purpose::Results));
}

#[test]
fn a_monitor_without_a_status_once_is_retried() {
    let run = run(
        azure(http::Method::PUT),
        script(vec![
            Reply::status(201, "").header("Azure-AsyncOperation", MONITOR),
            Reply::ok("{}"),
            Reply::ok(r#"{"status":"Succeeded"}"#),
            Reply::ok(r#"{"id":"t1"}"#),
        ]),
        None,
    );
    assert!(run.has_event(|e| matches!(e, Event::Retrying { .. })));
    let results = run.requests(Purpose::Results);
    assert_eq!(
        results[0].1.url.as_str(),
        RESOURCE,
        "PUT: the final GET is the request URL"
    );
    assert_eq!(expect_success(&run).1, Some(&json!({"id": "t1"})));
}

#[test]
fn a_succeeded_monitor_naming_the_resource_is_fetched_there() {
    let run = run(
        azure(http::Method::POST),
        script(vec![
            Reply::status(202, "").header("Operation-Location", MONITOR),
            Reply::ok(r#"{"status":"Succeeded","resourceLocation":"/made/m1"}"#),
            Reply::ok(r#"{"id":"m1"}"#),
        ]),
        None,
    );
    let results = run.requests(Purpose::Results);
    assert_eq!(
        results[0].1.url.as_str(),
        "https://management.example.com/made/m1"
    );
    assert_eq!(expect_success(&run).1, Some(&json!({"id": "m1"})));
}

#[test]
fn delete_ends_with_the_monitor_and_fetches_nothing() {
    let run = run(
        azure(http::Method::DELETE),
        script(vec![
            Reply::status(202, "")
                .header("Azure-AsyncOperation", MONITOR)
                .header("Location", "https://management.example.com/results/9"),
            Reply::ok(r#"{"status":"Succeeded"}"#),
        ]),
        None,
    );
    assert_eq!(
        purposes(&run),
        vec![Purpose::Submit, Purpose::Status],
        "no final GET after DELETE"
    );
    assert!(run.outcome().is_success());
}

#[test]
fn azure_repeats_a_post_after_a_500_and_a_plain_api_does_not() {
    let replies = || {
        vec![
            Reply::status(500, "busy"),
            Reply::status(202, "").header("Operation-Location", MONITOR),
            Reply::ok(r#"{"status":"Succeeded"}"#),
        ]
    };
    let azure_run = run(azure(http::Method::POST), script(replies()), None);
    assert_eq!(azure_run.requests(Purpose::Submit).len(), 2);
    assert!(azure_run.outcome().is_success(), "{}", azure_run.outcome());

    let jobs = started(
        Profile::jobs(),
        http::Method::POST,
        "https://api.example.com/api/v1/x-job",
    );
    let run = run(jobs, script(replies()), None);
    assert_eq!(run.requests(Purpose::Submit).len(), 1);
    let text = run.outcome().to_string();
    assert!(
        matches!(
            run.outcome(),
            Outcome::GaveUp {
                last_error: PollError::SubmitUncertain { .. },
                ..
            }
        ),
        "{text}"
    );
    assert!(
        text.contains("Idempotency-Key"),
        "the outcome says what to do: {text}"
    );
}

#[test]
fn a_job_polled_by_url_alone_cancels_with_the_id_in_that_url() {
    let spec = JobSpec::poll(
        Profile::jobs(),
        url("https://api.example.com/api/v1/jobs/j-77"),
    );
    let job = Job::new(spec, Config::fast(), Instant::ZERO).expect("valid job");
    let running = r#"{"status":"processing"}"#;
    let run = run(
        job,
        script(vec![
            Reply::ok(running),
            Reply::ok(running),
            Reply::ok("{}"),
        ]),
        Some(Instant::from_secs(1)),
    );
    let cancels = run.requests(Purpose::Cancel);
    assert_eq!(cancels.len(), 1, "{}", run.text());
    assert_eq!(
        cancels[0].1.url.as_str(),
        "https://api.example.com/api/v1/jobs/j-77/cancel"
    );
    assert!(
        cancelled_by_client(run.outcome(), Some(true)),
        "{}",
        run.outcome()
    );
}

#[test]
fn a_job_id_in_a_response_header_is_used() {
    let mut profile = Profile::jobs();
    profile.submit_id_pointers.clear();
    profile.submit_id_header = Some("X-Job-Id".to_owned());
    let job = started(
        profile,
        http::Method::POST,
        "https://api.example.com/api/v1/x-job",
    );
    let run = run(
        job,
        script(vec![
            Reply::status(202, "").header("X-Job-Id", "h-5"),
            Reply::ok(r#"{"status":"completed","result":{"ok":true}}"#),
        ]),
        None,
    );
    assert_eq!(
        run.sent[1].1.url.as_str(),
        "https://api.example.com/api/v1/jobs/h-5"
    );
    assert!(run.outcome().is_success(), "{}", run.outcome());
}
