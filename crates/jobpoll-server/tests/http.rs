//! The HTTP face (feature `http`): the model served over real loopback HTTP in real
//! time, and the router called in process. Real-time jobs last 300 ms, so the whole
//! file takes well under a few seconds. A tiny HTTP/1.1 client over a tokio
//! `TcpStream` keeps the test free of client crates.

use std::future::poll_fn;
use std::time::Duration;

use axum::body::Body;
use jobpoll_server::http::{
    LoggedRequest, MAX_BODY_BYTES, ServeOptions, Server, SharedModel, router,
};
use jobpoll_server::model::{RateLimit, ServerConfig, Truth};
use jobpoll_server::plan::{Fault, FaultWindow, JobPlan, Shape};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tower_service::Service;

mod support;

use support::loopback::{Answer, exchange, parse, plan_body, run, send};

/// One request through the router, in process.
async fn call(model: &SharedModel, request: http::Request<Body>) -> Answer {
    let mut service = router(model.clone());
    poll_fn(|cx| Service::<http::Request<Body>>::poll_ready(&mut service, cx))
        .await
        .expect("ready");
    let response = service.call(request).await.expect("infallible");
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.expect("body");
    Answer {
        status: parts.status.as_u16(),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.to_vec(),
    }
}

fn request(method: &str, path: &str, body: impl Into<Body>) -> http::Request<Body> {
    http::Request::builder()
        .method(method)
        .uri(path)
        .header(http::header::HOST, "jobs.test")
        .body(body.into())
        .expect("request")
}

fn millis(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

fn short_plan() -> JobPlan {
    JobPlan {
        duration: millis(300),
        ..JobPlan::default()
    }
}

#[test]
fn a_jobs_job_runs_to_completion_over_real_http() {
    run(async {
        let model = SharedModel::new(ServeOptions::default());
        let server = Server::bind_loopback(model.clone()).await.expect("bind");
        assert_eq!(
            server.base_url(),
            format!("http://127.0.0.1:{}", server.addr().port())
        );
        let addr = server.addr();

        let created = send(addr, "POST", "/api/v1/demo-job", &plan_body(&short_plan())).await;
        assert_eq!(created.status, 201, "{created:?}");
        let id = created.json()["job_id"]
            .as_str()
            .expect("job_id")
            .to_owned();
        let location = created.header("location").expect("Location").to_owned();
        assert_eq!(location, format!("/api/v1/jobs/{id}"));

        let mut seen = Vec::new();
        let completed = loop {
            let answer = send(addr, "GET", &location, "").await;
            assert_eq!(answer.status, 200, "{answer:?}");
            // The model's Date: its epoch (2026-01-01) plus real time elapsed.
            let date = answer.header("date").expect("Date");
            assert!(date.starts_with("Thu, 01 Jan 2026 00:00:0"), "{date}");
            let status = answer.json()["status"].as_str().expect("status").to_owned();
            seen.push(status.clone());
            if status == "completed" {
                break answer;
            }
            assert!(seen.len() < 60, "never completed: {seen:?}");
            tokio::time::sleep(millis(40)).await;
        };
        assert_ne!(seen[0], "completed", "{seen:?}");
        assert!(seen.iter().any(|s| s == "processing"), "{seen:?}");
        assert_eq!(completed.json()["progress_data"]["percentage"], 100);
        match model.truth(&id) {
            Some(Truth::Succeeded { at }) => {
                let created_at = model.requests()[0].at;
                assert_eq!(at.saturating_duration_since(created_at), millis(300));
            }
            other => panic!("{other:?}"),
        }
        server.shutdown().await;
    });
}

#[test]
fn absolute_urls_name_the_host_the_client_used() {
    run(async {
        let model = SharedModel::new(ServeOptions::default());
        let server = Server::bind_loopback(model.clone()).await.expect("bind");
        let created = send(server.addr(), "POST", "/azure/resources", "").await;
        assert_eq!(created.status, 201, "{created:?}");
        let operation = created.header("azure-asyncoperation").expect("header");
        assert_eq!(
            operation,
            format!("{}/azure/operations/azop-1", server.base_url())
        );
        let path = operation
            .strip_prefix(&server.base_url())
            .expect("same origin");
        assert_eq!(model.job_id_for_path(path).as_deref(), Some("azop-1"));
        let status = send(server.addr(), "GET", path, "").await;
        assert_eq!(status.status, 200, "{status:?}");
        server.shutdown().await;
    });
}

#[test]
fn unknown_paths_and_wrong_methods_pass_through() {
    run(async {
        let model = SharedModel::new(ServeOptions::default());
        let missing = call(&model, request("GET", "/no/such/thing", Body::empty())).await;
        assert_eq!(missing.status, 404);
        assert_eq!(missing.json()["error"]["code"], 404);
        assert!(missing.header("date").is_some());
        assert_eq!(missing.header("content-type"), Some("application/json"));

        let job = model.create(Shape::Jobs, short_plan());
        let wrong = call(&model, request("DELETE", &job.status_path, Body::empty())).await;
        assert_eq!(wrong.status, 405);
        assert_eq!(wrong.header("allow"), Some("GET"));
        assert_eq!(wrong.json()["error"]["status"], "METHOD_NOT_ALLOWED");

        let unknown_job = call(&model, request("GET", "/api/v1/jobs/job-99", Body::empty())).await;
        assert_eq!(unknown_job.status, 404);
    });
}

#[test]
fn the_request_log_records_times_methods_paths_and_statuses() {
    run(async {
        let model = SharedModel::new(ServeOptions::default());
        let (method, path, body) =
            jobpoll_server::model::ServerModel::submit_request(Shape::Jobs, &short_plan());
        let created = call(&model, request(method.as_str(), &path, body)).await;
        assert_eq!(created.status, 201);
        tokio::time::sleep(millis(30)).await;
        call(
            &model,
            request("GET", "/api/v1/jobs/job-1?verbose=1", Body::empty()),
        )
        .await;
        call(
            &model,
            request("PATCH", "/api/v1/jobs/job-1", Body::empty()),
        )
        .await;
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        call(&model, request("POST", "/api/v1/demo-job", big)).await;

        let log = model.requests();
        let summary: Vec<_> = log
            .iter()
            .map(|r| (r.method.as_str(), r.path.as_str(), r.status))
            .collect();
        assert_eq!(
            summary,
            [
                ("POST", "/api/v1/demo-job", 201),
                ("GET", "/api/v1/jobs/job-1", 200),
                ("PATCH", "/api/v1/jobs/job-1", 405),
                ("POST", "/api/v1/demo-job", 413),
            ]
        );
        assert!(log.windows(2).all(|w| w[0].at <= w[1].at), "{log:?}");
        let gap = log[1].at.saturating_duration_since(log[0].at);
        assert!(gap >= millis(30), "{gap:?}");
        assert!(log[3].at <= model.now());

        model.clear_requests();
        assert_eq!(model.requests(), Vec::<LoggedRequest>::new());
    });
}

#[test]
fn a_rate_limited_server_answers_429_with_retry_after() {
    run(async {
        let options = ServeOptions {
            config: ServerConfig {
                rate_limit: Some(RateLimit {
                    burst: 2,
                    per_second: 0.5,
                }),
                token: None,
            },
            ..ServeOptions::default()
        };
        let model = SharedModel::new(options);
        let server = Server::bind_loopback(model.clone()).await.expect("bind");
        let statuses = [
            send(server.addr(), "GET", "/api/v1/jobs", "").await,
            send(server.addr(), "GET", "/api/v1/jobs", "").await,
            send(server.addr(), "GET", "/api/v1/jobs", "").await,
        ];
        assert_eq!(statuses[0].status, 200);
        assert!(
            statuses[0].header("ratelimit").is_some(),
            "{:?}",
            statuses[0]
        );
        let refused = &statuses[2];
        assert_eq!(refused.status, 429, "{refused:?}");
        let retry_after: u64 = refused
            .header("retry-after")
            .and_then(|v| v.parse().ok())
            .expect("Retry-After seconds");
        assert!((1..=2).contains(&retry_after), "{retry_after}");
        assert!(refused.header("ratelimit-policy").is_some());
        let logged: Vec<u16> = model.requests().iter().map(|r| r.status).collect();
        assert_eq!(logged, [200, 200, 429]);
        server.shutdown().await;
    });
}

#[test]
fn default_faults_apply_to_created_jobs() {
    run(async {
        let options = ServeOptions {
            default_faults: vec![FaultWindow {
                from: Duration::ZERO,
                until: Duration::from_secs(60),
                fault: Fault::Status {
                    status: 503,
                    retry_after: Some(1),
                },
            }],
            ..ServeOptions::default()
        };
        let model = SharedModel::new(options);

        // Through the API.
        let created = call(
            &model,
            request("POST", "/api/v1/demo-job", plan_body(&short_plan())),
        )
        .await;
        assert_eq!(
            created.status, 201,
            "faults do not apply to create requests"
        );
        let status = call(&model, request("GET", "/api/v1/jobs/job-1", Body::empty())).await;
        assert_eq!(status.status, 503, "{status:?}");
        assert_eq!(status.header("retry-after"), Some("1"));

        // Directly.
        let direct = model.create(Shape::Google, short_plan());
        let status = call(&model, request("GET", &direct.status_path, Body::empty())).await;
        assert_eq!(status.status, 503);

        // A plan's own fault comes first.
        let own = JobPlan {
            faults: vec![FaultWindow {
                from: Duration::ZERO,
                until: Duration::from_secs(60),
                fault: Fault::Malformed,
            }],
            ..short_plan()
        };
        let created = call(&model, request("POST", "/api/v1/x-job", plan_body(&own))).await;
        assert_eq!(created.status, 201);
        let status = call(&model, request("GET", "/api/v1/jobs/job-2", Body::empty())).await;
        assert_eq!(status.status, 200);
        assert!(serde_json::from_slice::<Value>(&status.body).is_err());
        assert_eq!(model.with_model(|m| m.default_faults().len()), 1);
    });
}

#[test]
fn a_restarted_server_on_the_same_port_keeps_its_jobs() {
    run(async {
        let model = SharedModel::new(ServeOptions::default());
        let server = Server::bind_loopback(model.clone()).await.expect("bind");
        let addr = server.addr();
        let created = send(addr, "POST", "/api/v1/demo-job", &plan_body(&short_plan())).await;
        assert_eq!(created.status, 201);
        let before = send(addr, "GET", "/api/v1/jobs/job-1", "").await;
        assert_ne!(before.json()["status"], "completed");

        server.shutdown().await;
        assert!(
            TcpStream::connect(addr).await.is_err(),
            "nothing listens after shutdown"
        );

        // Down past the job's end; then back on the same port.
        tokio::time::sleep(millis(350)).await;
        let listener = TcpListener::bind(addr).await.expect("the same port again");
        let server = Server::start(listener, model.clone()).await.expect("start");
        assert_eq!(server.addr(), addr);
        let after = send(addr, "GET", "/api/v1/jobs/job-1", "").await;
        assert_eq!(after.status, 200, "{after:?}");
        assert_eq!(after.json()["status"], "completed");
        assert_eq!(model.with_model(|m| m.job_count()), 1);
        assert_eq!(model.requests().len(), 3);
        server.shutdown().await;
    });
}

#[test]
fn oversized_bodies_are_refused_with_413() {
    run(async {
        let model = SharedModel::new(ServeOptions::default());

        // Exactly the limit is read (blank space is an empty create body).
        let at_limit = vec![b' '; MAX_BODY_BYTES];
        let created = call(&model, request("POST", "/api/v1/demo-job", at_limit)).await;
        assert_eq!(created.status, 201, "{created:?}");

        // One byte more, found while reading (no Content-Length in process).
        let over = vec![b' '; MAX_BODY_BYTES + 1];
        let refused = call(&model, request("POST", "/api/v1/demo-job", over)).await;
        assert_eq!(refused.status, 413);
        assert_eq!(refused.json()["error"]["code"], 413);
        assert!(refused.header("date").is_some());

        // Declared too large: refused before any of it is read.
        let declared = http::Request::builder()
            .method("POST")
            .uri("/api/v1/demo-job")
            .header(http::header::CONTENT_LENGTH, "99999999999")
            .body(Body::empty())
            .expect("request");
        assert_eq!(call(&model, declared).await.status, 413);

        // Over a real connection, by the Content-Length alone.
        let server = Server::bind_loopback(model.clone()).await.expect("bind");
        let raw = format!(
            "POST /api/v1/demo-job HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n\r\n",
            server.addr(),
            MAX_BODY_BYTES + 1
        );
        let answer = parse(&exchange(server.addr(), raw.as_bytes()).await.expect("io"));
        assert_eq!(answer.status, 413, "{answer:?}");
        assert_eq!(answer.json()["error"]["status"], "PAYLOAD_TOO_LARGE");
        assert_eq!(
            model.with_model(|m| m.job_count()),
            1,
            "no job from a refusal"
        );
        server.shutdown().await;
    });
}

#[test]
fn garbage_never_panics() {
    run(async {
        let options = ServeOptions {
            config: ServerConfig {
                rate_limit: None,
                token: Some("secret".to_owned()),
            },
            ..ServeOptions::default()
        };
        let model = SharedModel::new(options);
        let long_path = format!("/{}", "a/".repeat(4_000));
        let cases: Vec<(&str, &str, Vec<u8>)> = vec![
            ("GET", "/", Vec::new()),
            ("FROBNICATE", "/api/v1/jobs", Vec::new()),
            ("GET", "/%ff%00/..%2f..", Vec::new()),
            (
                "GET",
                "http://elsewhere.example/api/v1/jobs/job-1",
                Vec::new(),
            ),
            ("POST", "/api/v1/demo-job", b"\xff\xfe\x00{".to_vec()),
            (
                "POST",
                "/api/v1/demo-job",
                br#"{"plan":{"duration":-5}}"#.to_vec(),
            ),
            ("POST", "/api/v1/demo-job", b"[[[[[[[[[[[[[[".to_vec()),
            ("POST", "/v1/operations/op-1:cancel", b"null".to_vec()),
            ("GET", long_path.as_str(), Vec::new()),
            ("OPTIONS", "*", Vec::new()),
        ];
        for (method, path, body) in cases {
            for authorized in [false, true] {
                let mut builder = http::Request::builder()
                    .method(method)
                    .uri(path)
                    .header(http::header::HOST, "[::1");
                if authorized {
                    builder = builder.header(http::header::AUTHORIZATION, "Bearer secret");
                }
                let request = builder.body(Body::from(body.clone())).expect(path);
                let answer = call(&model, request).await;
                assert!((200..600).contains(&answer.status), "{method} {path}");
                assert!(answer.header("date").is_some(), "{method} {path}");
                // The page at `/` is public: a browser cannot send the token
                // when it opens it.
                if !authorized && path != "/" {
                    assert_eq!(answer.status, 401, "{method} {path}");
                }
            }
        }

        // Bytes that are not HTTP at all, over a real connection: the connection
        // is answered or closed, and the server goes on serving.
        let server = Server::bind_loopback(model.clone()).await.expect("bind");
        model.clear_requests();
        let junk: [&[u8]; 4] = [
            b"\x00\x01\x02\xff\xfe garbage\r\n\r\n",
            b"GET /api/v1/jobs HTTP/9.9\r\n\r\n",
            b"GET /api/v1/jobs HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            b"POST /api/v1/demo-job HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        ];
        for raw in junk {
            let received = exchange(server.addr(), raw).await.unwrap_or_default();
            if !received.is_empty() {
                let answer = parse(&received);
                assert!((400..600).contains(&answer.status), "{answer:?}");
            }
        }
        let raw = format!(
            "GET /api/v1/jobs HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer secret\r\n\
             Connection: close\r\n\r\n",
            server.addr()
        );
        let answer = parse(&exchange(server.addr(), raw.as_bytes()).await.expect("io"));
        assert_eq!(answer.status, 200, "{answer:?}");
        // Hyper refuses what is not HTTP before the router; a body that breaks
        // off mid-request reaches the handler and is answered 400.
        let logged: Vec<_> = model
            .requests()
            .iter()
            .map(|r| (r.method.to_string(), r.path.clone(), r.status))
            .collect();
        assert_eq!(
            logged,
            [
                ("POST".to_owned(), "/api/v1/demo-job".to_owned(), 400),
                ("GET".to_owned(), "/api/v1/jobs".to_owned(), 200),
            ]
        );
        server.shutdown().await;
    });
}

#[test]
fn shutdown_frees_the_port_despite_idle_and_stalled_clients() {
    run(async {
        let model = SharedModel::new(ServeOptions::default());
        let server = Server::bind_loopback(model.clone()).await.expect("bind");
        let addr = server.addr();

        // A keep-alive connection, idle after one answer.
        let mut idle = TcpStream::connect(addr).await.expect("connect");
        let raw = format!("GET /api/v1/jobs HTTP/1.1\r\nHost: {addr}\r\n\r\n");
        idle.write_all(raw.as_bytes()).await.expect("write");
        let mut first = [0u8; 512];
        let read = idle.read(&mut first).await.expect("read");
        assert!(first[..read].starts_with(b"HTTP/1.1 200"));
        // A client that stops in the middle of its headers.
        let mut stalled = TcpStream::connect(addr).await.expect("connect");
        stalled
            .write_all(b"GET /api/v1/jobs HTTP/1.1\r\nHost: x\r\n")
            .await
            .expect("write");
        tokio::time::sleep(millis(20)).await;

        let started = std::time::Instant::now();
        server.shutdown().await;
        assert!(started.elapsed() < millis(1_500), "{:?}", started.elapsed());
        // The idle connection is closed.
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(millis(500), idle.read_to_end(&mut rest)).await;
        assert!(matches!(closed, Ok(Ok(0)) | Ok(Err(_))), "{closed:?}");

        let server = Server::start(TcpListener::bind(addr).await.expect("rebind"), model)
            .await
            .expect("start");
        assert_eq!(send(addr, "GET", "/api/v1/jobs", "").await.status, 200);
        server.shutdown().await;
        drop(stalled);
    });
}

#[test]
fn a_page_on_another_origin_may_call_the_server_and_read_every_header() {
    run(async {
        let model = SharedModel::new(ServeOptions::default());
        let from_page = |method: &str, path: &str, body: &str| {
            http::Request::builder()
                .method(method)
                .uri(path)
                .header(http::header::HOST, "jobs.test")
                .header(http::header::ORIGIN, "http://127.0.0.1:9000")
                .body(Body::from(body.to_owned()))
                .expect("request")
        };

        // The preflight is answered before the model: it is not counted.
        let mut preflight = from_page("OPTIONS", "/azure/resources/vm1", "");
        let headers = preflight.headers_mut();
        headers.insert(
            "access-control-request-method",
            "PUT".parse().expect("value"),
        );
        headers.insert(
            "access-control-request-headers",
            "authorization, content-type".parse().expect("value"),
        );
        let answer = call(&model, preflight).await;
        assert_eq!(answer.status, 204);
        assert_eq!(answer.header("access-control-allow-origin"), Some("*"));
        assert_eq!(answer.header("access-control-allow-methods"), Some("PUT"));
        assert_eq!(
            answer.header("access-control-allow-headers"),
            Some("authorization, content-type")
        );
        assert!(answer.header("date").is_some());
        assert!(
            model.request_counts().is_empty(),
            "{:?}",
            model.request_counts()
        );

        // An answer that names its poller in `Location` exposes it, and
        // `Retry-After` with it.
        let body = r#"{"plan":{"duration":1000000,"azure":{"headers":["location"]}}}"#;
        let answer = call(&model, from_page("PUT", "/azure/resources/vm1", body)).await;
        assert!(answer.header("location").is_some(), "{:?}", answer.headers);
        let exposed = answer
            .header("access-control-expose-headers")
            .expect("exposed headers")
            .to_owned();
        for name in ["location", "retry-after", "date"] {
            assert!(
                exposed.split(", ").any(|exposed| exposed == name),
                "{name} in {exposed}"
            );
        }
        assert_eq!(answer.header("access-control-allow-origin"), Some("*"));

        // A request without `Origin` (not from a page) gets no CORS headers.
        let answer = call(&model, request("GET", "/api/v1/jobs", Body::empty())).await;
        assert!(answer.header("access-control-allow-origin").is_none());
    });
}
