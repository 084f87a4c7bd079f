//! The scripted server: the request each script starts with and the answer it
//! gives to each request, in the shape of the chosen API.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use jobpoll_core::{JobSpec, Profile, Purpose, TransportError};

use super::strategies::{MS, SEC};
use super::{Action, Api, Body, Hints, RateLimit, Reply, RetryAfter, Script, StartKind};

const ORIGIN: &str = "https://api.example.com";
const AZURE_OPERATION: &str = "https://api.example.com/subscriptions/s1/providers/Example/operations/op-1?api-version=2024-01-01";
/// A pre-signed URL carries its credential in the query.
const SIGNATURE: &str = "&sig=s3cr3t-signature";
const AZURE_RESOURCE: &str =
    "https://api.example.com/subscriptions/s1/resources/r1?api-version=2024-01-01";

fn azure_operation(signed: bool) -> String {
    if signed {
        format!("{AZURE_OPERATION}{SIGNATURE}")
    } else {
        AZURE_OPERATION.to_owned()
    }
}

fn url(text: &str) -> url::Url {
    text.parse().expect("valid URL")
}

impl Api {
    fn profile(self) -> Profile {
        match self {
            Api::Jobs => Profile::jobs(),
            Api::Codegen => Profile::codegen(),
            Api::FileTasks => Profile::file_tasks(),
            Api::Turn => Profile::turn(),
            Api::Google => Profile::google_operation(),
            Api::Azure => Profile::azure_operation(),
        }
    }

    /// Status URL and job id of an existing job.
    fn existing(self, signed: bool) -> (String, Option<&'static str>) {
        match self {
            Api::Jobs => (format!("{ORIGIN}/api/v1/jobs/job-1"), Some("job-1")),
            Api::Codegen => (
                format!("{ORIGIN}/api/v1/public/graph/codegen/job-1/status"),
                Some("job-1"),
            ),
            Api::FileTasks => (format!("{ORIGIN}/api/file/file-1"), Some("file-1")),
            Api::Turn => (
                format!("{ORIGIN}/api/projects/p1/sessions/s1/turns/t1"),
                None,
            ),
            Api::Google => (
                format!("{ORIGIN}/v1/operations/op-1"),
                Some("operations/op-1"),
            ),
            Api::Azure => (azure_operation(signed), None),
        }
    }

    fn submit_url(self) -> String {
        let path = match self {
            Api::Jobs => "/api/v1/ad-job",
            Api::Codegen => "/api/v1/public/graph/codegen",
            Api::FileTasks => "/api/file",
            Api::Turn => "/api/projects/p1/sessions/s1/turns",
            Api::Google => "/v1/projects/p1/locations/l1/things:run",
            Api::Azure => "/subscriptions/s1/resources/r1?api-version=2024-01-01",
        };
        format!("{ORIGIN}{path}")
    }

    fn submission(self, signed: bool) -> (&'static str, Vec<(&'static str, String)>) {
        match self {
            Api::Jobs => (r#"{"job_id":"job-1","status":"queued"}"#, vec![]),
            Api::Codegen => (r#"{"jobId":"job-1","status":"pending"}"#, vec![]),
            Api::FileTasks => (r#"{"id":"file-1","tasks":[]}"#, vec![]),
            Api::Turn => (r#"{"id":"t1","status":"pending","blocks":[]}"#, vec![]),
            Api::Google => (r#"{"name":"operations/op-1","done":false}"#, vec![]),
            Api::Azure => (
                r#"{"status":"Accepted"}"#,
                vec![
                    ("azure-asyncoperation", azure_operation(signed)),
                    ("location", AZURE_RESOURCE.to_owned()),
                ],
            ),
        }
    }

    fn status_body(self, body: &Body) -> String {
        use serde_json::json;
        let value = match (self, body) {
            (
                Api::Jobs,
                Body::Running {
                    percentage,
                    eta_secs,
                    ..
                },
            ) => json!({"job_id": "job-1", "status": "processing", "progress_data": {
                "percentage": percentage, "current_step": "rendering",
                "estimated_time_remaining": eta_secs}}),
            (Api::Jobs, Body::Succeeded) => {
                json!({"job_id": "job-1", "status": "completed", "result_data": {"url": "https://cdn/x"}})
            }
            (Api::Jobs, Body::Failed) => {
                json!({"status": "failed", "error_data": {"message": "boom", "details": {"code": 7}}})
            }
            (Api::Jobs, _) => json!({"status": "cancelled"}),
            (Api::Codegen, Body::Running { .. }) => json!({"jobId": "job-1", "status": "running"}),
            (Api::Codegen, Body::Succeeded) => json!({"jobId": "job-1", "status": "completed"}),
            (Api::Codegen, _) => json!({"status": "failed", "error": "boom"}),
            (Api::FileTasks, Body::Running { blocks, .. }) => {
                let tasks: Vec<_> = (0..=*blocks)
                    .map(|i| json!({"id": i, "status": if i == *blocks {"processing"} else {"completed"}}))
                    .collect();
                json!({"id": "file-1", "tasks": tasks})
            }
            (Api::FileTasks, Body::Succeeded) => {
                json!({"id": "file-1", "url": "https://cdn/file-1", "tasks": [{"status": "completed"}]})
            }
            (Api::FileTasks, _) => {
                json!({"id": "file-1", "tasks": [{"id": "t9", "status": "error"}]})
            }
            (Api::Turn, Body::Running { blocks, .. }) => {
                let blocks: Vec<_> = (0..*blocks).map(|i| json!({"text": i})).collect();
                json!({"status": "running", "blocks": blocks})
            }
            (Api::Turn, Body::Succeeded) => {
                json!({"status": "completed", "blocks": [{"text": "done"}]})
            }
            (Api::Turn, _) => json!({"status": "failed", "error": "boom", "blocks": []}),
            (Api::Google, Body::Running { percentage, .. }) => {
                json!({"name": "operations/op-1", "done": false, "metadata": {"progressPercent": percentage}})
            }
            (Api::Google, Body::Succeeded) => {
                json!({"name": "operations/op-1", "done": true, "response": {"ok": true}})
            }
            (Api::Google, Body::Cancelled) => {
                json!({"done": true, "error": {"code": 1, "message": "cancelled"}})
            }
            (Api::Google, _) => json!({"done": true, "error": {"code": 3, "message": "bad"}}),
            (Api::Azure, Body::Running { percentage, .. }) => {
                json!({"status": "InProgress", "percentComplete": percentage})
            }
            (Api::Azure, Body::Succeeded) => json!({"status": "Succeeded"}),
            (Api::Azure, Body::Cancelled) => json!({"status": "Canceled"}),
            (Api::Azure, _) => json!({"status": "Failed", "error": {"message": "boom"}}),
        };
        value.to_string()
    }

    fn results_body(self) -> &'static str {
        match self {
            Api::Codegen => {
                r#"{"graphId":"g1","jobId":"job-1","generatedCodes":[{"nodeId":"n1","code":"print(1)","language":"python"}],"summary":"ok"}"#
            }
            _ => r#"{"id":"r1","properties":{"provisioningState":"Succeeded"}}"#,
        }
    }
}

fn garbage(kind: u8) -> Vec<u8> {
    match kind {
        0 => b"not json {".to_vec(),
        1 => b"null".to_vec(),
        2 => b"[]".to_vec(),
        3 => br#"{"status": 42, "done": "yes", "tasks": 7}"#.to_vec(),
        4 => br#"{"status":"weird-unknown-status"}"#.to_vec(),
        5 => vec![0xff, 0xfe, 0x00, 0x7b],
        6 => b"<html><body>502 Bad Gateway</body></html>".to_vec(),
        _ => b"   ".to_vec(),
    }
}

/// The longest wait the hint headers ask for, in microseconds, before the cap:
/// computed here from what was generated, independently of the core's parser.
fn expected_hint(hints: &Hints) -> u64 {
    let mut secs = 0u64;
    match &hints.retry_after {
        Some(RetryAfter::Seconds(s) | RetryAfter::Date(s)) => secs = secs.max(*s),
        Some(RetryAfter::Unparseable) | None => {}
    }
    match &hints.rate_limit {
        Some(
            RateLimit::Dictionary { remaining, reset }
            | RateLimit::List { remaining, reset }
            | RateLimit::Split { remaining, reset },
        ) if *remaining == 0 => secs = secs.max(*reset),
        _ => {}
    }
    let ms = hints.retry_after_ms.unwrap_or(0);
    (secs * SEC).max(ms * MS)
}

fn hint_headers(hints: &Hints) -> Vec<(String, String)> {
    let mut headers = Vec::new();
    let date = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    match &hints.retry_after {
        Some(RetryAfter::Seconds(s)) => headers.push(("retry-after".into(), s.to_string())),
        Some(RetryAfter::Date(s)) => {
            headers.push(("date".into(), httpdate::fmt_http_date(date)));
            let at = date + Duration::from_secs(*s);
            headers.push(("retry-after".into(), httpdate::fmt_http_date(at)));
        }
        Some(RetryAfter::Unparseable) => headers.push(("retry-after".into(), "soon-ish".into())),
        None => {}
    }
    if let Some(ms) = hints.retry_after_ms {
        headers.push(("retry-after-ms".into(), ms.to_string()));
    }
    match &hints.rate_limit {
        Some(RateLimit::Dictionary { remaining, reset }) => headers.push((
            "ratelimit".into(),
            format!("limit=10, remaining={remaining}, reset={reset}"),
        )),
        Some(RateLimit::List { remaining, reset }) => headers.push((
            "ratelimit".into(),
            format!("\"default\";r={remaining};t={reset}"),
        )),
        Some(RateLimit::Split { remaining, reset }) => {
            headers.push(("ratelimit-remaining".into(), remaining.to_string()));
            headers.push(("ratelimit-reset".into(), reset.to_string()));
        }
        None => {}
    }
    headers
}

/// The answer the scripted server gives, and when (relative to the send).
pub struct Answer {
    pub after: Duration,
    pub input: AnswerKind,
    /// For responses: the hint in microseconds the test expects the core to honour.
    pub hint: Option<u64>,
}

pub enum AnswerKind {
    Response(http::Response<Bytes>),
    Fail(TransportError),
}

pub fn answer(script: &Script, action: &Action, purpose: Purpose) -> Option<Answer> {
    let timeout = script.config.request_time_limit.as_micros() as u64;
    let after = Duration::from_micros(timeout * action.latency_permille / 1000);
    let (status, body, hints, etag) = match &action.reply {
        Reply::Hang => return None,
        Reply::Fail(error) => {
            return Some(Answer {
                after,
                input: AnswerKind::Fail(error.clone()),
                hint: None,
            });
        }
        Reply::Respond {
            status,
            body,
            hints,
            etag,
        } => (*status, body, hints, *etag),
    };
    let api = script.api;
    let mut headers: Vec<(String, String)> = hint_headers(hints);
    let bytes: Vec<u8> = match body {
        Body::Garbage(kind) => garbage(*kind),
        Body::Huge(extra) => vec![b'x'; script.config.max_body_bytes + 1 + usize::from(*extra)],
        Body::ErrorText => br#"{"error":"nope","message":"try again later"}"#.to_vec(),
        Body::Empty => Vec::new(),
        state => match purpose {
            Purpose::Submit => {
                let (text, extra) = api.submission(script.signed);
                headers.extend(extra.into_iter().map(|(n, v)| (n.to_owned(), v)));
                text.as_bytes().to_vec()
            }
            Purpose::Status => api.status_body(state).into_bytes(),
            Purpose::Results => api.results_body().as_bytes().to_vec(),
            Purpose::Cancel => b"{}".to_vec(),
        },
    };
    if etag {
        headers.push(("etag".into(), "\"v1\"".into()));
    }
    // Every answer's hints count, even one too large to read (docs/decisions.md).
    let hint = Some(expected_hint(hints));
    let mut builder = http::Response::builder().status(status);
    for (name, value) in &headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let response = builder
        .body(Bytes::from(bytes))
        .expect("valid scripted response");
    Some(Answer {
        after,
        input: AnswerKind::Response(response),
        hint,
    })
}

/// The answer after the script is used up: success at once.
pub fn success(script: &Script, purpose: Purpose) -> Answer {
    let action = Action {
        reply: Reply::Respond {
            status: if purpose == Purpose::Submit { 202 } else { 200 },
            body: Body::Succeeded,
            hints: Hints::default(),
            etag: false,
        },
        latency_permille: 0,
    };
    answer(script, &action, purpose).expect("a response")
}

pub fn spec(script: &Script) -> JobSpec {
    let api = script.api;
    let mut spec = match &script.start {
        StartKind::Poll => {
            let (status_url, job_id) = api.existing(script.signed);
            let spec = JobSpec::poll(api.profile(), url(&status_url));
            match job_id {
                Some(id) => spec.with_job_id(id),
                None => spec,
            }
        }
        StartKind::Submit {
            put,
            idempotency_key,
        } => {
            let mut spec = JobSpec::submit(
                api.profile(),
                url(&api.submit_url()),
                Some(r#"{"prompt":"a cat"}"#.to_owned()),
            );
            if *put && let jobpoll_core::Start::Submit { method, .. } = &mut spec.start {
                *method = http::Method::PUT;
            }
            if *idempotency_key {
                spec = spec.with_header("Idempotency-Key", "key-123");
            }
            spec
        }
    };
    if script.auth {
        spec = spec.with_header("Authorization", "Bearer s3cr3t-token");
    }
    spec
}
