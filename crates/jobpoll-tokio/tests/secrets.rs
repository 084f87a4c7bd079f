//! Recorded traces replay exactly, and secrets stay out of traces and logs.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use jobpoll_core::trace::{Record, Redactor, from_json_lines, replay};
use jobpoll_core::{Config, JobSpec, Outcome, Profile};
use jobpoll_tokio::Client;
use serde_json::json;
use support::{JobsApi, Reply, Response, TestServer};

const MS: Duration = Duration::from_millis(1);
const TOKEN: &str = "Bearer sk-live-9f8e7d6c5b4a";
const QUERY_SECRET: &str = "qs-5e5e5e5e";
const COOKIE_SECRET: &str = "ck-7a7a7a7a";

fn quick() -> Config {
    Config {
        request_time_limit: 200 * MS,
        max_consecutive_errors: Some(5),
        ..support::quick()
    }
}

/// Everything logged by any test in this binary, at every level and target.
fn logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    Arc::clone(LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&buffer);
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || Capture(Arc::clone(&sink)))
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        buffer
    }))
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn trace_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("jobpoll-tokio-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// A server that goes through most of what a job can meet: a 429 with a short
/// hint, a request that never answers, progress, a secret cookie, completion.
async fn eventful_server() -> TestServer {
    let api = JobsApi::new(3);
    let calls = AtomicU32::new(0);
    TestServer::start(move |request| match calls.fetch_add(1, Ordering::SeqCst) {
        0 => Response::new(429, "busy")
            .header("retry-after-ms", "100")
            .header("Set-Cookie", &format!("session={COOKIE_SECRET}"))
            .reply(),
        1 => Reply::Hang,
        _ => api.handle(request),
    })
    .await
}

fn replays(path: &PathBuf) -> (usize, String) {
    let text = std::fs::read_to_string(path).unwrap();
    let records: Vec<Record> = from_json_lines(&text).unwrap();
    // What `jobpoll-sim replay FILE` does.
    let report = replay(&records, &Redactor::default())
        .unwrap()
        .unwrap_or_else(|divergence| panic!("{divergence}\n{text}"));
    assert!(report.inputs >= 5, "{report:?}");
    (records.len(), text)
}

#[tokio::test]
async fn a_recorded_trace_replays_exactly_without_secrets() {
    let logs = logs();
    let server = eventful_server().await;
    let url = server
        .url(&format!("/api/v1/jobs/job_1?token={QUERY_SECRET}&v=2"))
        .parse()
        .unwrap();
    let spec = JobSpec::poll(Profile::jobs(), url)
        .with_job_id("job_1")
        .with_header("Authorization", TOKEN);
    let path = trace_path("eventful.jsonl");
    let outcome = Client::new()
        .start_recorded(spec, quick(), path.clone())
        .unwrap()
        .await
        .unwrap();
    assert!(outcome.is_success(), "{outcome}");
    // The server did get the secrets.
    let requests = server.requests();
    assert_eq!(requests.len(), 5, "{requests:?}");
    assert!(
        requests
            .iter()
            .all(|r| r.header("authorization") == Some(TOKEN))
    );
    assert!(requests.iter().all(|r| r.target.contains(QUERY_SECRET)));
    // Cookies are kept by default: the session went back to the server, so the
    // checks below cover the `Cookie` header the client sent as well as the
    // `Set-Cookie` it received.
    let cookie = format!("session={COOKIE_SECRET}");
    assert!(
        requests
            .iter()
            .any(|r| r.header("cookie") == Some(cookie.as_str())),
        "{requests:?}"
    );

    let (records, text) = replays(&path);
    assert!(records > 10);
    for secret in [TOKEN, "sk-live", QUERY_SECRET, COOKIE_SECRET] {
        assert!(!text.contains(secret), "{secret} in the trace:\n{text}");
    }
    assert!(text.contains("[redacted]"));
    assert!(
        text.contains("\"kind\":\"no_response_in_time\"") || text.contains("\"output\":\"abort\""),
        "{text}"
    );
    let _ = std::fs::remove_file(&path);

    let logged = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    assert!(logged.contains("request"), "{logged}");
    assert!(logged.contains("finished"), "{logged}");
    for secret in [TOKEN, "sk-live", QUERY_SECRET, COOKIE_SECRET] {
        assert!(!logged.contains(secret), "{secret} in the logs:\n{logged}");
    }
}

#[tokio::test]
async fn a_recorded_submit_and_cancel_replays_exactly() {
    let _logs = logs();
    let server = {
        let api = JobsApi::new(1000);
        TestServer::start(move |request| api.handle(request)).await
    };
    let url = server.url("/api/v1/research-job").parse().unwrap();
    let spec = JobSpec::submit(Profile::jobs(), url, Some(json!({"q": "x"}).to_string()))
        .with_header("X-Api-Key", "key-0b0b0b0b");
    let path = trace_path("cancelled.jsonl");
    let mut handle = Client::new()
        .start_recorded(spec, quick(), path.clone())
        .unwrap();
    let mut events = handle.events();
    while let Some(event) = events.recv().await {
        if matches!(event, jobpoll_core::Event::Progress(ref p) if p.attempt == 2) {
            handle.cancel();
        }
    }
    let outcome = handle.await.unwrap();
    assert!(matches!(outcome, Outcome::Cancelled { .. }), "{outcome}");
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.path() == "/api/v1/jobs/job_1/cancel")
    );
    let (_, text) = replays(&path);
    assert!(!text.contains("key-0b0b0b0b"));
    assert!(text.contains("\"input\":\"cancel\""), "{text}");
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn a_trace_file_that_cannot_be_created_is_a_driver_error() {
    let path = PathBuf::from("/nonexistent-dir/for/sure/trace.jsonl");
    let url = "http://127.0.0.1:9/api/v1/jobs/j".parse().unwrap();
    let result = Client::new().start_recorded(JobSpec::poll(Profile::jobs(), url), quick(), path);
    assert!(
        matches!(
            result,
            Err(jobpoll_tokio::DriverError::Trace { outcome: None, .. })
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_fleet_logs_no_secret_either() {
    let logs = logs();
    let server = eventful_server().await;
    let status_url = server
        .url(&format!("/api/v1/jobs/job_1?token={QUERY_SECRET}&v=2"))
        .parse()
        .unwrap();
    let spec = jobpoll_core::JobSpec {
        profile: std::sync::Arc::new(Profile::jobs()),
        start: jobpoll_core::Start::Poll {
            status_url,
            job_id: Some("job_1".to_owned()),
        },
        headers: vec![("Authorization".to_owned(), TOKEN.to_owned())],
    };
    let fleet = Client::new()
        .fleet(jobpoll_tokio::FleetConfig::default())
        .unwrap();
    let outcome = fleet
        .add(spec, std::sync::Arc::new(quick()))
        .await
        .unwrap()
        .await
        .unwrap();
    assert!(outcome.is_success(), "{outcome}");
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.header("authorization") == Some(TOKEN))
    );
    let logged = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    assert!(logged.contains("request"), "{logged}");
    for secret in [TOKEN, "sk-live", QUERY_SECRET, COOKIE_SECRET] {
        assert!(!logged.contains(secret), "{secret} in the logs:\n{logged}");
    }
}
