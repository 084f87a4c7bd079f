//! The driver against a real HTTP server on loopback: every path from bytes on the
//! wire to an outcome. Durations are tiny (50 ms polls, 500 ms request time limits), so
//! each test takes well under two seconds except the `Retry-After: 1` one.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use jobpoll_core::{
    CancelledBy, Config, Event, JobSpec, Outcome, PollError, Profile, TransportError,
};
use jobpoll_tokio::{Client, DriverError};
use serde_json::json;
use support::{JobsApi, Reply, Response, TestServer, jobs_server, quick};

const MS: Duration = Duration::from_millis(1);

fn status_spec(server: &TestServer, id: &str) -> JobSpec {
    let url = server.url(&format!("/api/v1/jobs/{id}")).parse().unwrap();
    JobSpec::poll(Profile::jobs(), url).with_job_id(id)
}

#[tokio::test]
async fn one_call_waits_queued_processing_completed() {
    let server = jobs_server(4).await;
    let started = Instant::now();
    let outcome = Client::new()
        .wait(&server.url("/api/v1/jobs/job_1"), Profile::jobs(), quick())
        .await
        .unwrap();
    let Outcome::Succeeded { result, stats, .. } = &outcome else {
        panic!("{outcome}");
    };
    assert_eq!(
        result.as_ref().unwrap(),
        &json!({"url": "https://cdn.example.com/job_1.mp4"})
    );
    assert_eq!(stats.attempts, 4);
    assert_eq!(stats.last_status.as_deref(), Some("completed"));
    // First poll at once, then three 50 ms waits.
    assert!(started.elapsed() >= 150 * MS, "{:?}", started.elapsed());
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 4);
    assert!(
        requests
            .iter()
            .all(|r| r.method == "GET" && r.path() == "/api/v1/jobs/job_1")
    );
    assert!(
        requests[0]
            .header("user-agent")
            .unwrap()
            .starts_with("jobpoll/")
    );
}

#[tokio::test]
async fn the_event_stream_yields_status_and_progress_then_the_future_resolves() {
    let server = jobs_server(4).await;
    let mut handle = Client::new()
        .start(status_spec(&server, "job_1"), quick())
        .unwrap();
    let mut events = handle.events();
    let mut seen = Vec::new();
    while let Some(event) = events.recv().await {
        seen.push(event);
    }
    // The stream ended: the outcome is ready.
    let outcome = tokio::time::timeout(Duration::from_millis(100), &mut handle)
        .await
        .expect("resolves right after the stream ends")
        .unwrap();
    assert!(outcome.is_success(), "{outcome}");
    let statuses: Vec<_> = seen
        .iter()
        .filter_map(|e| match e {
            Event::StatusChanged { to, .. } => Some(to.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(statuses, ["queued", "processing", "completed"]);
    let progress: Vec<_> = seen
        .iter()
        .filter_map(|e| match e {
            Event::Progress(p) => Some((p.attempt, p.status.as_str(), p.percentage)),
            _ => None,
        })
        .collect();
    assert_eq!(
        progress,
        [
            (1, "queued", None),
            (2, "processing", Some(25.0)),
            (3, "processing", Some(50.0))
        ]
    );
    assert_eq!(events.dropped_progress(), 0);
    // A second stream is empty, and the handle does not resolve twice.
    assert!(handle.events().recv().await.is_none());
    assert!(handle.is_finished());
    assert!(matches!((&mut handle).await, Err(DriverError::Task(_))));
}

#[tokio::test]
async fn retry_after_is_a_lower_bound() {
    let api = JobsApi::new(2);
    let calls = AtomicU32::new(0);
    let server = TestServer::start(move |request| {
        if calls.fetch_add(1, Ordering::SeqCst) == 0 {
            Response::new(429, "slow down")
                .header("Retry-After", "1")
                .reply()
        } else {
            api.handle(request)
        }
    })
    .await;
    let mut handle = Client::new()
        .start(status_spec(&server, "job_1"), quick())
        .unwrap();
    let mut events = handle.events();
    let outcome = (&mut handle).await.unwrap();
    assert!(outcome.is_success(), "{outcome}");
    let requests = server.requests();
    assert_eq!(requests.len(), 3, "{requests:?}");
    let gap = requests[1].at - requests[0].at;
    assert!(
        gap >= Duration::from_secs(1),
        "the retry came after {gap:?}"
    );
    assert!(
        gap < Duration::from_millis(1300),
        "the retry came after {gap:?}"
    );
    let mut retrying = None;
    while let Some(event) = events.recv().await {
        if let Event::Retrying { cause, delay, .. } = event {
            retrying = Some((cause, delay));
        }
    }
    let (cause, delay) = retrying.expect("a retrying event");
    assert!(
        matches!(cause, PollError::Status { status: 429, .. }),
        "{cause}"
    );
    // The server's 1 s, plus the job's spread of less than a tenth of it.
    assert!(
        delay >= Duration::from_secs(1) && delay < Duration::from_millis(1100),
        "{delay:?}"
    );
}

#[tokio::test]
async fn a_request_that_never_answers_times_out_then_the_job_recovers() {
    let api = JobsApi::new(1);
    let calls = AtomicU32::new(0);
    let server = TestServer::start(move |request| {
        if calls.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::Hang
        } else {
            api.handle(request)
        }
    })
    .await;
    let config = Config {
        request_time_limit: 200 * MS,
        ..quick()
    };
    let started = Instant::now();
    let mut handle = Client::new()
        .start(status_spec(&server, "job_1"), config)
        .unwrap();
    let mut events = handle.events();
    let mut causes = Vec::new();
    while let Some(event) = events.recv().await {
        if let Event::Retrying { cause, .. } = event {
            causes.push(cause);
        }
    }
    let outcome = handle.await.unwrap();
    assert!(outcome.is_success(), "{outcome}");
    assert_eq!(
        causes,
        [PollError::Transport(TransportError::NoResponseInTime)]
    );
    let elapsed = started.elapsed();
    assert!(
        elapsed >= 250 * MS && elapsed < Duration::from_secs(1),
        "{elapsed:?}"
    );
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn an_oversized_body_is_retried_until_the_error_limit() {
    let server = TestServer::start(|_| Response::new(200, vec![b'x'; 10_000]).reply()).await;
    let config = Config {
        max_body_bytes: 1024,
        ..quick()
    };
    let outcome = Client::new()
        .wait(&server.url("/api/v1/jobs/job_1"), Profile::jobs(), config)
        .await
        .unwrap();
    let Outcome::GaveUp { last_error, stats } = &outcome else {
        panic!("{outcome}");
    };
    assert_eq!(
        last_error,
        &PollError::Transport(TransportError::BodyTooLarge(1024))
    );
    assert_eq!(stats.attempts, 3);
}

#[tokio::test]
async fn an_oversized_chunked_body_is_cut_off_while_reading_then_the_job_recovers() {
    let api = JobsApi::new(1);
    let calls = AtomicU32::new(0);
    let server = TestServer::start(move |request| {
        if calls.fetch_add(1, Ordering::SeqCst) == 0 {
            // No Content-Length: the driver must count as it reads.
            Response::new(200, vec![b' '; 64 * 1024])
                .chunked(1000)
                .reply()
        } else {
            api.handle(request)
        }
    })
    .await;
    let config = Config {
        max_body_bytes: 4096,
        ..quick()
    };
    let mut handle = Client::new()
        .start(status_spec(&server, "job_1"), config)
        .unwrap();
    let mut events = handle.events();
    let mut causes = Vec::new();
    while let Some(event) = events.recv().await {
        if let Event::Retrying { cause, .. } = event {
            causes.push(cause);
        }
    }
    let outcome = handle.await.unwrap();
    assert!(outcome.is_success(), "{outcome}");
    assert_eq!(
        causes,
        [PollError::Transport(TransportError::BodyTooLarge(4096))]
    );
}

#[tokio::test]
async fn a_large_error_body_is_cut_and_the_status_still_counts() {
    let server =
        TestServer::start(|_| Response::new(401, vec![b'e'; 50_000]).chunked(4096).reply()).await;
    let config = Config {
        max_body_bytes: 1024,
        ..quick()
    };
    let outcome = Client::new()
        .wait(&server.url("/api/v1/jobs/job_1"), Profile::jobs(), config)
        .await
        .unwrap();
    assert!(
        matches!(outcome, Outcome::Unauthorized { status: 401, .. }),
        "{outcome}"
    );
}

#[tokio::test]
async fn malformed_json_gives_up_after_the_unreadable_limit() {
    let server = TestServer::start(|_| {
        Response::new(200, "{\"status\": \"processing\"")
            .header("content-type", "application/json")
            .reply()
    })
    .await;
    let config = Config {
        max_unreadable: 2,
        max_consecutive_errors: None,
        ..quick()
    };
    let outcome = Client::new()
        .wait(&server.url("/api/v1/jobs/job_1"), Profile::jobs(), config)
        .await
        .unwrap();
    let Outcome::GaveUp { last_error, stats } = &outcome else {
        panic!("{outcome}");
    };
    assert!(
        matches!(last_error, PollError::Unreadable(_)),
        "{last_error}"
    );
    assert_eq!(stats.attempts, 2);
}

#[tokio::test]
async fn unauthorized_ends_the_job_at_once() {
    let server =
        TestServer::start(|_| Response::json(401, json!({"error": "bad token"})).reply()).await;
    let started = Instant::now();
    let spec = status_spec(&server, "job_1").with_header("Authorization", "Bearer nope");
    let outcome = Client::new().start(spec, quick()).unwrap().await.unwrap();
    let Outcome::Unauthorized { status, stats, .. } = &outcome else {
        panic!("{outcome}");
    };
    assert_eq!(*status, 401);
    assert_eq!(stats.requests, 1);
    assert!(started.elapsed() < 200 * MS, "{:?}", started.elapsed());
    assert_eq!(
        server.requests()[0].header("authorization"),
        Some("Bearer nope")
    );
}

#[tokio::test]
async fn cancel_through_the_handle_sends_the_cancel_request() {
    let server = jobs_server(1000).await;
    let mut handle = Client::new()
        .start(status_spec(&server, "job_9"), quick())
        .unwrap();
    let mut events = handle.events();
    // Cancel once the job is processing.
    while let Some(event) = events.recv().await {
        if matches!(&event, Event::StatusChanged { to, .. } if to == "processing") {
            handle.cancel();
            handle.cancel(); // idempotent
        }
    }
    let outcome = handle.await.unwrap();
    assert!(
        matches!(
            outcome,
            Outcome::Cancelled {
                by: CancelledBy::Client {
                    server_confirmed: Some(true)
                },
                ..
            }
        ),
        "{outcome}"
    );
    let cancels: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(cancels.len(), 1);
    assert_eq!(cancels[0].path(), "/api/v1/jobs/job_9/cancel");
}

#[tokio::test]
async fn cancel_interrupts_a_request_in_flight() {
    let server = TestServer::start(|request| {
        if request.method == "POST" {
            Response::json(200, json!({"status": "cancelled"})).reply()
        } else {
            Reply::Hang
        }
    })
    .await;
    let config = Config {
        request_time_limit: Duration::from_secs(10),
        ..quick()
    };
    let handle = Client::new()
        .start(status_spec(&server, "job_2"), config)
        .unwrap();
    assert!(
        server
            .wait_for(Duration::from_secs(1), |r| r.method == "GET")
            .await
    );
    let started = Instant::now();
    handle.cancel();
    let outcome = handle.await.unwrap();
    assert!(started.elapsed() < 300 * MS, "{:?}", started.elapsed());
    assert_eq!(outcome.kind(), "cancelled", "{outcome}");
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.path() == "/api/v1/jobs/job_2/cancel")
    );
}

#[tokio::test]
async fn dropping_the_handle_cancels_in_the_background() {
    let server = jobs_server(1000).await;
    let handle = Client::new()
        .start(status_spec(&server, "job_3"), quick())
        .unwrap();
    assert!(
        server
            .wait_for(Duration::from_secs(1), |r| r.method == "GET")
            .await
    );
    drop(handle);
    assert!(
        server
            .wait_for(Duration::from_secs(1), |r| {
                r.method == "POST" && r.path() == "/api/v1/jobs/job_3/cancel"
            })
            .await,
        "no cancel request: {:?}",
        server.requests()
    );
    // And polling stops.
    tokio::time::sleep(150 * MS).await;
    let count = server.requests().len();
    tokio::time::sleep(150 * MS).await;
    assert_eq!(server.requests().len(), count);
}

#[tokio::test]
async fn submit_and_wait_creates_then_polls() {
    let server = jobs_server(2).await;
    let body = json!({"prompt": "a cat"}).to_string();
    let outcome = Client::new()
        .submit_and_wait(
            &server.url("/api/v1/video-job"),
            Some(body.clone()),
            Profile::jobs(),
            quick(),
        )
        .await
        .unwrap();
    assert!(outcome.is_success(), "{outcome}");
    assert_eq!(outcome.stats().job_id.as_deref(), Some("job_1"));
    let requests = server.requests();
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].path(), "/api/v1/video-job");
    assert_eq!(requests[0].body, body);
    assert_eq!(requests[0].header("content-type"), Some("application/json"));
    assert!(
        requests[1..]
            .iter()
            .all(|r| r.path() == "/api/v1/jobs/job_1")
    );
}

#[tokio::test]
async fn a_connection_closed_without_an_answer_is_retried() {
    let api = JobsApi::new(1);
    let calls = AtomicU32::new(0);
    let server = TestServer::start(move |request| {
        if calls.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::Close
        } else {
            api.handle(request)
        }
    })
    .await;
    let mut handle = Client::new()
        .start(status_spec(&server, "job_1"), quick())
        .unwrap();
    let mut events = handle.events();
    let mut causes = Vec::new();
    while let Some(event) = events.recv().await {
        if let Event::Retrying { cause, .. } = event {
            causes.push(cause);
        }
    }
    assert!(handle.await.unwrap().is_success());
    assert!(
        matches!(
            causes.as_slice(),
            [PollError::Transport(TransportError::Reset(_))]
        ),
        "{causes:?}"
    );
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error() {
    // Bind and drop a listener: nothing listens on that port now.
    let port = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/api/v1/jobs/job_1?token=hunter2");
    let outcome = Client::new()
        .wait(&url, Profile::jobs(), quick())
        .await
        .unwrap();
    // Nothing ever reached a server: the job says where it could not connect.
    let Outcome::GaveUp {
        last_error:
            PollError::Unreachable {
                origin,
                last: TransportError::Connect(message),
                ..
            },
        ..
    } = &outcome
    else {
        panic!("{outcome}");
    };
    assert!(!message.contains("hunter2"), "{message}");
    assert!(!message.contains("127.0.0.1"), "{message}");
    assert_eq!(*origin, format!("http://127.0.0.1:{port}"));
    assert!(!outcome.to_string().contains("hunter2"), "{outcome}");
}

#[tokio::test]
async fn a_slow_event_reader_loses_only_progress() {
    let server = jobs_server(12).await;
    let client = Client::builder().event_capacity(2).build().unwrap();
    let mut handle = client
        .start(status_spec(&server, "job_1"), quick())
        .unwrap();
    let mut events = handle.events();
    // Read nothing until the job is over.
    let outcome = (&mut handle).await.unwrap();
    assert!(outcome.is_success());
    let mut seen = Vec::new();
    while let Some(event) = events.recv().await {
        seen.push(event);
    }
    // Every status change arrives; the eleven progress reports did not fit.
    let statuses: Vec<_> = seen
        .iter()
        .filter_map(|e| match e {
            Event::StatusChanged { to, .. } => Some(to.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(statuses, ["queued", "processing", "completed"], "{seen:?}");
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(events.dropped_progress(), 11);
}

#[tokio::test]
async fn the_deadline_holds_against_a_server_that_never_finishes() {
    let server = jobs_server(u32::MAX).await;
    let config = Config {
        deadline: Some(300 * MS),
        ..quick()
    };
    let started = Instant::now();
    let outcome = Client::new()
        .wait(&server.url("/api/v1/jobs/job_1"), Profile::jobs(), config)
        .await
        .unwrap();
    assert_eq!(outcome.kind(), "timed_out", "{outcome}");
    let elapsed = started.elapsed();
    assert!(elapsed >= 300 * MS && elapsed < 500 * MS, "{elapsed:?}");
}

#[tokio::test]
async fn cookies_are_kept_by_default() {
    let api = JobsApi::new(3);
    let server = TestServer::start(move |request| {
        let reply = api.handle(request);
        match reply {
            Reply::Respond(response) if request.header("cookie").is_none() => {
                response.header("Set-Cookie", "op=abc; Path=/").reply()
            }
            other => other,
        }
    })
    .await;
    let outcome = Client::new()
        .wait(&server.url("/api/v1/jobs/job_1"), Profile::jobs(), quick())
        .await
        .unwrap();
    assert!(outcome.is_success());
    let requests = server.requests();
    assert_eq!(requests[0].header("cookie"), None);
    assert!(
        requests[1..]
            .iter()
            .all(|r| r.header("cookie") == Some("op=abc"))
    );
}

#[tokio::test]
async fn an_invalid_url_is_a_driver_error() {
    let result = Client::new()
        .wait("not a url", Profile::jobs(), quick())
        .await;
    assert!(matches!(result, Err(DriverError::Url(_))), "{result:?}");
    let result = Client::new()
        .wait("ftp://example.com/x", Profile::jobs(), quick())
        .await;
    assert!(matches!(result, Err(DriverError::Spec(_))), "{result:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_jobs_share_one_client() {
    let server = jobs_server(3).await;
    let client = Client::new();
    let handles: Vec<_> = (0..50)
        .map(|i| {
            client
                .start(status_spec(&server, &format!("job_{i}")), quick())
                .unwrap()
        })
        .collect();
    let done = Arc::new(AtomicU32::new(0));
    for handle in handles {
        let outcome = handle.await.unwrap();
        assert!(outcome.is_success(), "{outcome}");
        done.fetch_add(1, Ordering::SeqCst);
    }
    assert_eq!(done.load(Ordering::SeqCst), 50);
    assert_eq!(server.requests().len(), 150);
}

#[tokio::test]
async fn a_port_where_nothing_listens_ends_the_job_in_moments() {
    // A port that was free a moment ago: connections to it are refused.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let config = Config {
        max_consecutive_errors: None,
        deadline: Some(Duration::from_secs(60)),
        ..quick()
    };
    let started = Instant::now();
    let url = format!("http://127.0.0.1:{port}/api/v1/jobs/job_1");
    let outcome = Client::new()
        .wait(&url, Profile::jobs(), config)
        .await
        .unwrap();
    let Outcome::GaveUp {
        last_error:
            PollError::Unreachable {
                origin,
                failures,
                last,
            },
        stats,
    } = &outcome
    else {
        panic!("{outcome}");
    };
    assert_eq!(*origin, format!("http://127.0.0.1:{port}"));
    assert_eq!(*failures, 5);
    assert!(matches!(last, TransportError::Connect(_)), "{last:?}");
    assert!(stats.unreached);
    assert_eq!(stats.requests, 5);
    let text = outcome.to_string();
    assert!(
        text.contains(&format!("could not reach http://127.0.0.1:{port}")),
        "{text}"
    );
    assert!(!text.contains("may still be running"), "{text}");
    // Four 50 ms retries, not the 60 s deadline.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}
