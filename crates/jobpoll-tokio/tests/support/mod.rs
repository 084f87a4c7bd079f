//! A tiny HTTP/1.1 server on loopback for the driver's tests and benchmark: plain
//! `TcpListener`, hand-written responses, every request recorded with its arrival
//! time. Routing is a closure, so each test says exactly what the server does.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jobpoll_core::{Config, Schedule};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the server read it.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// When the request head was complete.
    pub at: Instant,
}

impl Request {
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the server does with a request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// Answer.
    Respond(Response),
    /// Answer after a while (the request counts as open until then).
    After(Duration, Response),
    /// Never answer; keep the connection open until the client goes away.
    Hang,
    /// Close the connection without a word.
    Close,
}

/// A response to write.
#[derive(Clone, Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Send with `Transfer-Encoding: chunked` in chunks of this size, no length.
    pub chunked: Option<usize>,
}

impl Response {
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: body.into(),
            chunked: None,
        }
    }

    pub fn json(status: u16, value: serde_json::Value) -> Response {
        Response::new(status, value.to_string()).header("content-type", "application/json")
    }

    pub fn header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn chunked(mut self, size: usize) -> Response {
        self.chunked = Some(size.max(1));
        self
    }

    pub fn reply(self) -> Reply {
        Reply::Respond(self)
    }
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// A running server; stops when dropped.
pub struct TestServer {
    addr: SocketAddr,
    /// `None` for a server that only counts.
    requests: Option<Arc<Mutex<Vec<Request>>>>,
    gauge: Arc<Gauge>,
    task: tokio::task::JoinHandle<()>,
}

/// Requests open at once: read but not yet answered.
#[derive(Default)]
struct Gauge {
    open: AtomicUsize,
    peak: AtomicUsize,
    served: AtomicUsize,
}

impl Gauge {
    fn enter(&self) {
        self.served.fetch_add(1, Ordering::SeqCst);
        let open = self.open.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(open, Ordering::SeqCst);
    }

    fn leave(&self) {
        self.open.fetch_sub(1, Ordering::SeqCst);
    }
}

impl TestServer {
    /// Serves with `handler` on the current runtime.
    pub async fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> TestServer {
        TestServer::launch(handler, true).await
    }

    /// A server that keeps no record of the requests, only counts them (for
    /// memory measurements).
    pub async fn start_counting(
        handler: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    ) -> TestServer {
        TestServer::launch(handler, false).await
    }

    async fn launch(
        handler: impl Fn(&Request) -> Reply + Send + Sync + 'static,
        record: bool,
    ) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let requests = record.then(|| Arc::new(Mutex::new(Vec::new())));
        let gauge = Arc::new(Gauge::default());
        let handler: Arc<Handler> = Arc::new(handler);
        let recorded = requests.clone();
        let counted = Arc::clone(&gauge);
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                connections.spawn(serve(
                    stream,
                    Arc::clone(&handler),
                    recorded.clone(),
                    Arc::clone(&counted),
                ));
                // Reap finished connections so the set does not grow.
                while connections.try_join_next().is_some() {}
            }
        });
        TestServer {
            addr,
            requests,
            gauge,
            task,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        match &self.requests {
            Some(requests) => requests.lock().expect("requests").clone(),
            None => Vec::new(),
        }
    }

    /// How many requests the server has read.
    pub fn served(&self) -> usize {
        self.gauge.served.load(Ordering::SeqCst)
    }

    /// Requests open now (read, not yet answered, their connection still open).
    pub fn open(&self) -> usize {
        self.gauge.open.load(Ordering::SeqCst)
    }

    /// The most requests that were open at once (read, not yet answered).
    pub fn peak_open(&self) -> usize {
        self.gauge.peak.load(Ordering::SeqCst)
    }

    /// Waits (at most `limit`) until a request matches.
    pub async fn wait_for(&self, limit: Duration, matches: impl Fn(&Request) -> bool) -> bool {
        let until = Instant::now() + limit;
        while Instant::now() < until {
            if self.requests().iter().any(&matches) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        false
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    mut stream: TcpStream,
    handler: Arc<Handler>,
    recorded: Option<Arc<Mutex<Vec<Request>>>>,
    gauge: Arc<Gauge>,
) {
    let mut buffer: Vec<u8> = Vec::new();
    loop {
        let Some(request) = read_request(&mut stream, &mut buffer).await else {
            return;
        };
        if let Some(recorded) = &recorded {
            recorded.lock().expect("requests").push(request.clone());
        }
        gauge.enter();
        let reply = handler(&request);
        let written = match reply {
            Reply::Respond(response) => stream.write_all(&encode(&response)).await.is_ok(),
            Reply::After(delay, response) => {
                // The client may give up (and close) meanwhile.
                let mut sink = [0u8; 1024];
                tokio::select! {
                    () = tokio::time::sleep(delay) => stream.write_all(&encode(&response)).await.is_ok(),
                    _ = stream.read(&mut sink) => false,
                }
            }
            Reply::Close => false,
            Reply::Hang => {
                let mut sink = [0u8; 1024];
                while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
                false
            }
        };
        gauge.leave();
        if !written {
            return;
        }
    }
}

/// Reads one request (head and `Content-Length` body); `None` at end of stream.
async fn read_request(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<Request> {
    let head_end = loop {
        if let Some(end) = find(buffer, b"\r\n\r\n") {
            break end;
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let at = Instant::now();
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let target = first.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let body_start = head_end + 4;
    while buffer.len() < body_start + length {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buffer[body_start..body_start + length]).into_owned();
    buffer.drain(..body_start + length);
    Some(Request {
        method,
        target,
        headers,
        body,
        at,
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn encode(response: &Response) -> Vec<u8> {
    let reason = http::StatusCode::from_u16(response.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Whatever");
    let mut out = format!("HTTP/1.1 {} {reason}\r\n", response.status);
    for (name, value) in &response.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    match response.chunked {
        None => {
            out.push_str(&format!("content-length: {}\r\n\r\n", response.body.len()));
            let mut bytes = out.into_bytes();
            bytes.extend_from_slice(&response.body);
            bytes
        }
        Some(size) => {
            out.push_str("transfer-encoding: chunked\r\n\r\n");
            let mut bytes = out.into_bytes();
            for chunk in response.body.chunks(size) {
                bytes.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                bytes.extend_from_slice(chunk);
                bytes.extend_from_slice(b"\r\n");
            }
            bytes.extend_from_slice(b"0\r\n\r\n");
            bytes
        }
    }
}

/// A jobs-profile API (`/api/v1/...`) where each job goes queued → processing (with
/// progress) → completed after `polls_to_complete` status polls, and can be
/// cancelled with `POST /api/v1/jobs/{id}/cancel`. `POST /api/v1/{kind}-job`
/// creates `job_N`.
pub struct JobsApi {
    polls_to_complete: u32,
    state: Mutex<JobsState>,
}

#[derive(Default)]
struct JobsState {
    next_id: u64,
    polls: std::collections::HashMap<String, u32>,
    cancelled: std::collections::HashSet<String>,
}

impl JobsApi {
    /// Jobs that complete on their `polls_to_complete`th status poll (the first is
    /// `queued`, the ones between `processing`).
    pub fn new(polls_to_complete: u32) -> Arc<JobsApi> {
        Arc::new(JobsApi {
            polls_to_complete: polls_to_complete.max(1),
            state: Mutex::new(JobsState::default()),
        })
    }

    /// The handler.
    pub fn handle(&self, request: &Request) -> Reply {
        let path = request.path();
        let mut state = self.state.lock().expect("jobs state");
        if request.method == "POST" && path.starts_with("/api/v1/") && path.ends_with("-job") {
            state.next_id += 1;
            let id = format!("job_{}", state.next_id);
            return Response::json(201, serde_json::json!({"job_id": id, "status": "queued"}))
                .reply();
        }
        let Some(rest) = path.strip_prefix("/api/v1/jobs/") else {
            return Response::new(404, "no such route").reply();
        };
        if let Some(id) = rest.strip_suffix("/cancel") {
            if request.method != "POST" {
                return Response::new(405, "").reply();
            }
            state.cancelled.insert(id.to_owned());
            return Response::json(
                200,
                serde_json::json!({"job_id": id, "status": "cancelled"}),
            )
            .reply();
        }
        let id = rest.to_owned();
        if state.cancelled.contains(&id) {
            return Response::json(
                200,
                serde_json::json!({"job_id": id, "status": "cancelled"}),
            )
            .reply();
        }
        let polls = {
            let polls = state.polls.entry(id.clone()).or_insert(0);
            *polls += 1;
            *polls
        };
        let body = if polls >= self.polls_to_complete {
            serde_json::json!({
                "job_id": id,
                "status": "completed",
                "progress_data": {"percentage": 100},
                "result_data": {"url": format!("https://cdn.example.com/{id}.mp4")}
            })
        } else if polls == 1 {
            serde_json::json!({"job_id": id, "status": "queued"})
        } else {
            let percentage = 100 * (polls - 1) / self.polls_to_complete;
            serde_json::json!({
                "job_id": id,
                "status": "processing",
                "progress_data": {
                    "percentage": percentage,
                    "current_step": format!("step {polls}"),
                    "estimated_time_remaining": 1
                }
            })
        };
        Response::json(200, body).reply()
    }
}

/// Fixed 50 ms polls and retries, 500 ms per request, 5 s in all, 3 errors in a row.
pub fn quick() -> Config {
    let ms = Duration::from_millis(1);
    Config {
        poll: Schedule::Fixed { interval: 50 * ms },
        retry: Schedule::Fixed { interval: 50 * ms },
        request_time_limit: 500 * ms,
        deadline: Some(Duration::from_secs(5)),
        max_consecutive_errors: Some(3),
        ..Config::fast()
    }
}

/// A [`JobsApi`] server whose jobs complete on their `polls_to_complete`th poll.
pub async fn jobs_server(polls_to_complete: u32) -> TestServer {
    let api = JobsApi::new(polls_to_complete);
    TestServer::start(move |request| api.handle(request)).await
}
