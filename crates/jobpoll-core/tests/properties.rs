//! Property tests: a job driven by a virtual clock through random server scripts
//! that are valid by construction (every answer is for the request in flight, time
//! only moves forward), with the crate's invariants checked after every step.
//!
//! A script is a random configuration, a random built-in API shape with a matching
//! start (poll or submit), and a list of server actions for successive requests;
//! when the list is used up the server answers "succeeded" at once, forever, so
//! every run must reach an outcome within a bounded number of steps.
//!
//! The failing seeds proptest found are kept in `properties.proptest-regressions`
//! and replayed first on every run.
//! `JOBPOLL_PROPERTY_STATS=1 cargo test --test properties -- --nocapture` prints one
//! line per run (outcome, requests, ...) to check what the generators cover.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use jobpoll_core::event::{CancelledBy, Event};
use jobpoll_core::schedule::{Adaptive, Stage, Step};
use jobpoll_core::trace::{self, RecordingJob, Redactor};
use jobpoll_core::{
    Config, FirstPoll, Input, InputError, Instant, Jitter, Job, JobSpec, Outcome, Output, Profile,
    Purpose, RequestId, Schedule, Snapshot, TransportError, WaitLimit,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

// ---------------------------------------------------------------------------------
// The script.

/// The built-in API shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Api {
    Jobs,
    Codegen,
    FileTasks,
    Turn,
    Google,
    Azure,
}

/// How the job starts.
#[derive(Clone, Debug)]
enum StartKind {
    Poll,
    /// Submit with `POST` or `PUT`, with or without an `Idempotency-Key`.
    Submit {
        put: bool,
        idempotency_key: bool,
    },
}

/// What a response body says.
#[derive(Clone, Debug)]
enum Body {
    Running {
        percentage: Option<f64>,
        eta_secs: Option<f64>,
        blocks: u8,
    },
    Succeeded,
    Failed,
    Cancelled,
    /// Something no profile can read (or an unknown status value).
    Garbage(u8),
    /// Larger than `max_body_bytes`.
    Huge(u16),
    /// A short error text, for error statuses.
    ErrorText,
    Empty,
}

#[derive(Clone, Debug)]
enum RetryAfter {
    Seconds(u64),
    /// An HTTP-date this many seconds after the response's `Date`.
    Date(u64),
    Unparseable,
}

#[derive(Clone, Debug)]
enum RateLimit {
    /// `RateLimit: limit=10, remaining=R, reset=T`.
    Dictionary { remaining: u64, reset: u64 },
    /// `RateLimit: "default";r=R;t=T`.
    List { remaining: u64, reset: u64 },
    /// `RateLimit-Remaining: R` and `RateLimit-Reset: T`.
    Split { remaining: u64, reset: u64 },
}

/// The wait headers of one response.
#[derive(Clone, Debug, Default)]
struct Hints {
    retry_after: Option<RetryAfter>,
    retry_after_ms: Option<u64>,
    rate_limit: Option<RateLimit>,
}

#[derive(Clone, Debug)]
enum Reply {
    Respond {
        status: u16,
        body: Body,
        hints: Hints,
        etag: bool,
    },
    Fail(TransportError),
    Hang,
}

/// What the server does with one request.
#[derive(Clone, Debug)]
struct Action {
    reply: Reply,
    /// Latency in thousandths of the request time limit (0..=1500).
    latency_permille: u64,
}

#[derive(Clone, Debug)]
enum CancelAt {
    /// This long after the start.
    After(Duration),
    /// At the instant of the n-th wake-up, fed before its tick.
    AtWake(usize),
}

#[derive(Clone, Debug)]
struct Script {
    start_at: Instant,
    config: Config,
    api: Api,
    start: StartKind,
    /// An `Authorization` header on every request.
    auth: bool,
    /// Azure operation URLs carry a `sig=` credential.
    signed: bool,
    actions: Vec<Action>,
    cancel: Option<CancelAt>,
    /// Extra ticks, as offsets from the start.
    extra_ticks: Vec<Duration>,
    /// Snapshot and restore before the n-th `poll_output` of the m-th step: (m, n).
    snapshot: Option<(usize, usize)>,
    /// On equal instants, deliver an answer before the job's own wake-up.
    answers_first: bool,
}

// ---------------------------------------------------------------------------------
// Strategies.

/// A duration of `lo..=hi` microseconds, sometimes with a sub-microsecond part (the
/// core works in whole microseconds and must cope).
fn duration(lo: u64, hi: u64) -> impl Strategy<Value = Duration> {
    (lo..=hi, prop::bool::weighted(0.1), 1u64..1000).prop_map(|(micros, nanos, extra)| {
        let base = Duration::from_micros(micros);
        if nanos {
            base + Duration::from_nanos(extra)
        } else {
            base
        }
    })
}

/// A schedule delay of at least 1 ms and at most `max`, mostly short (so that runs
/// see many requests before their deadline).
fn delay(max: u64) -> impl Strategy<Value = Duration> {
    prop_oneof![
        3 => duration(MS, SEC),
        2 => duration(SEC, (10 * SEC).min(max)),
        1 => duration(MS, max),
    ]
}

/// A duration of `lo..=hi` whole microseconds.
fn whole(lo: u64, hi: u64) -> impl Strategy<Value = Duration> {
    (lo..=hi).prop_map(Duration::from_micros)
}

const MS: u64 = 1_000;
const SEC: u64 = 1_000_000;

fn jitter() -> impl Strategy<Value = Jitter> {
    prop_oneof![
        Just(Jitter::None),
        Just(Jitter::Full),
        Just(Jitter::Equal),
        Just(Jitter::Decorrelated),
    ]
}

fn schedule() -> impl Strategy<Value = Schedule> {
    prop_oneof![
        delay(60 * SEC).prop_map(|interval| Schedule::Fixed { interval }),
        (delay(30 * SEC), 1.0f64..3.0, 1u32..=20, jitter()).prop_map(
            |(initial, multiplier, factor, jitter)| Schedule::Exponential {
                initial,
                multiplier,
                max: initial * factor,
                jitter,
            }
        ),
        (
            prop::collection::vec((1u32..=5, delay(30 * SEC)), 0..4),
            delay(60 * SEC)
        )
            .prop_map(|(steps, then)| Schedule::Stepped {
                steps: steps
                    .into_iter()
                    .map(|(count, interval)| Step { count, interval })
                    .collect(),
                then,
            }),
        (
            delay(30 * SEC),
            prop::collection::vec((duration(0, 600 * SEC), delay(60 * SEC)), 0..4)
        )
            .prop_map(|(initial, mut stages)| {
                stages.sort_by_key(|(after, _)| *after);
                stages.dedup_by_key(|(after, _)| *after);
                Schedule::Staged {
                    initial,
                    stages: stages
                        .into_iter()
                        .map(|(after, interval)| Stage { after, interval })
                        .collect(),
                }
            }),
        (delay(10 * SEC), 1u32..=30).prop_map(|(min_delay, factor)| Schedule::Waiter {
            min_delay,
            max_delay: min_delay * factor,
        }),
        (delay(10 * SEC), 1u32..=60, 0.01f64..=1.0, 0.01f64..=1.0).prop_map(
            |(min, factor, remaining_fraction, age_fraction)| Schedule::Adaptive(Adaptive {
                min,
                max: min * factor,
                remaining_fraction,
                approach_fraction: remaining_fraction / 10.0,
                age_fraction,
                settle: min * 3,
            })
        ),
    ]
}

fn config() -> impl Strategy<Value = Config> {
    let schedules = (schedule(), schedule(), prop::bool::ANY);
    let limits = (
        prop::option::weighted(
            0.6,
            prop_oneof![whole(SEC, 120 * SEC), whole(SEC, 2 * 3600 * SEC)],
        ),
        prop::option::weighted(0.3, 1u32..=30),
        prop::option::weighted(0.3, prop_oneof![1u32..=3, 4u32..=20]),
        prop_oneof![1 => 1u32..=3, 3 => 4u32..=20],
        prop_oneof![Just(Duration::ZERO), whole(1, 10 * SEC)],
        prop_oneof![3 => whole(100 * MS, 5 * SEC), 1 => whole(100 * MS, 60 * SEC)],
        whole(0, 120 * SEC),
        whole(SEC, 3600 * SEC),
    );
    let switches = (
        512usize..=8192,
        prop::bool::ANY,
        prop::bool::ANY,
        any::<u64>(),
    );
    (schedules, limits, switches).prop_map(
        |(
            (poll, retry, after_first_delay),
            (
                deadline,
                max_attempts,
                max_consecutive_errors,
                max_unreadable,
                min_interval,
                request_time_limit,
                not_found_grace,
                max_hint,
            ),
            (max_body_bytes, cancel_on_server, conditional_requests, seed),
        )| Config {
            poll,
            retry,
            first_poll: if after_first_delay {
                FirstPoll::AfterFirstDelay
            } else {
                FirstPoll::Immediately
            },
            deadline,
            max_attempts,
            max_consecutive_errors,
            max_unreadable,
            min_interval,
            request_time_limit,
            not_found_grace,
            max_hint,
            max_body_bytes,
            cancel_on_server,
            conditional_requests,
            seed,
        },
    )
}

fn api() -> impl Strategy<Value = Api> {
    prop_oneof![
        Just(Api::Jobs),
        Just(Api::Codegen),
        Just(Api::FileTasks),
        Just(Api::Turn),
        Just(Api::Google),
        Just(Api::Azure),
    ]
}

fn start_kind() -> impl Strategy<Value = StartKind> {
    prop_oneof![
        Just(StartKind::Poll),
        (prop::bool::ANY, prop::bool::ANY).prop_map(|(put, idempotency_key)| StartKind::Submit {
            put,
            idempotency_key
        }),
    ]
}

/// Seconds of a wait hint, 0..=600, mostly short.
fn seconds() -> impl Strategy<Value = u64> {
    prop_oneof![3 => 0u64..=10, 1 => 0u64..=600]
}

fn hints(likely: bool) -> impl Strategy<Value = Hints> {
    let retry_after = prop_oneof![
        6 => seconds().prop_map(RetryAfter::Seconds),
        2 => seconds().prop_map(RetryAfter::Date),
        1 => Just(RetryAfter::Unparseable),
    ];
    let rate_limit = (0u8..3, prop_oneof![Just(0u64), 0u64..=5], seconds()).prop_map(
        |(form, remaining, reset)| match form {
            0 => RateLimit::Dictionary { remaining, reset },
            1 => RateLimit::List { remaining, reset },
            _ => RateLimit::Split { remaining, reset },
        },
    );
    let hints = (
        prop::option::weighted(0.6, retry_after),
        prop::option::weighted(0.3, prop_oneof![0u64..=10_000, 0u64..=600_000]),
        prop::option::weighted(0.3, rate_limit),
    )
        .prop_map(|(retry_after, retry_after_ms, rate_limit)| Hints {
            retry_after,
            retry_after_ms,
            rate_limit,
        });
    let p = if likely { 0.7 } else { 0.15 };
    prop::option::weighted(p, hints).prop_map(Option::unwrap_or_default)
}

fn running_body() -> impl Strategy<Value = Body> {
    (
        prop::option::of(0.0f64..=100.0),
        prop::option::of(0.0f64..=10_000.0),
        0u8..6,
    )
        .prop_map(|(percentage, eta_secs, blocks)| Body::Running {
            percentage,
            eta_secs,
            blocks,
        })
}

fn respond(status: u16, body: impl Strategy<Value = Body>) -> impl Strategy<Value = Reply> {
    let likely = matches!(status, 429 | 503);
    (body, hints(likely), prop::bool::weighted(0.3)).prop_map(move |(body, hints, etag)| {
        Reply::Respond {
            status,
            body,
            hints,
            etag,
        }
    })
}

fn error_body() -> impl Strategy<Value = Body> {
    prop_oneof![4 => Just(Body::ErrorText), 1 => Just(Body::Empty), 1 => (0u16..2000).prop_map(Body::Huge)]
}

fn transport_error() -> impl Strategy<Value = TransportError> {
    prop_oneof![
        Just(TransportError::Connect("connection refused".to_owned())),
        Just(TransportError::NoResponseInTime),
        Just(TransportError::Reset("connection reset by peer".to_owned())),
        Just(TransportError::BodyTooLarge(1 << 20)),
        Just(TransportError::Other("tls handshake failed".to_owned())),
    ]
}

fn reply() -> impl Strategy<Value = Reply> {
    prop_oneof![
        // Answers that end the job are rare, so that runs are long.
        80 => respond(200, running_body()),
        3 => respond(200, Just(Body::Succeeded)),
        1 => respond(200, Just(Body::Failed)),
        1 => respond(200, Just(Body::Cancelled)),
        8 => respond(202, prop_oneof![4 => running_body(), 1 => Just(Body::Succeeded)]),
        8 => respond(304, Just(Body::Empty)),
        1 => respond(401, error_body()),
        1 => respond(403, error_body()),
        4 => respond(404, error_body()),
        4 => respond(408, error_body()),
        12 => respond(429, error_body()),
        6 => respond(500, error_body()),
        8 => respond(503, error_body()),
        1 => (prop_oneof![Just(400u16), Just(409), Just(410), Just(422)], error_body(), hints(false))
            .prop_map(|(status, body, hints)| Reply::Respond { status, body, hints, etag: false }),
        6 => respond(200, (0u8..8).prop_map(Body::Garbage)),
        3 => respond(200, (0u16..2000).prop_map(Body::Huge)),
        12 => transport_error().prop_map(Reply::Fail),
        4 => Just(Reply::Hang),
    ]
}

fn action() -> impl Strategy<Value = Action> {
    let latency = prop_oneof![
        2 => Just(0u64),
        1 => Just(1000u64),
        8 => 0u64..=1500,
    ];
    (reply(), latency).prop_map(|(reply, latency_permille)| Action {
        reply,
        latency_permille,
    })
}

fn script() -> impl Strategy<Value = Script> {
    let setup = (
        prop_oneof![Just(0u64), 0u64..=1_000_000_000_000].prop_map(Instant::from_micros),
        config(),
        api(),
        start_kind(),
        prop::bool::ANY,
        prop::bool::ANY,
    );
    let run = (
        prop::collection::vec(action(), 0..48),
        prop::option::weighted(
            0.3,
            prop_oneof![
                whole(0, 30 * SEC).prop_map(CancelAt::After),
                whole(0, 3600 * SEC).prop_map(CancelAt::After),
                (0usize..30).prop_map(CancelAt::AtWake),
            ],
        ),
        prop::collection::vec(prop_oneof![whole(0, 10 * SEC), whole(0, 3600 * SEC)], 0..5),
        prop::option::weighted(0.9, (0usize..12, 0usize..4)),
        prop::bool::ANY,
    );
    (setup, run).prop_map(
        |(
            (start_at, config, api, start, auth, signed),
            (actions, cancel, mut extra_ticks, snapshot, answers_first),
        )| {
            extra_ticks.sort();
            Script {
                start_at,
                config,
                api,
                start,
                auth,
                signed,
                actions,
                cancel,
                extra_ticks,
                snapshot,
                answers_first,
            }
        },
    )
}

// ---------------------------------------------------------------------------------
// The scripted server.

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
struct Answer {
    after: Duration,
    input: AnswerKind,
    /// For responses: the hint in microseconds the test expects the core to honour.
    hint: Option<u64>,
}

enum AnswerKind {
    Response(http::Response<Bytes>),
    Fail(TransportError),
}

fn answer(script: &Script, action: &Action, purpose: Purpose) -> Option<Answer> {
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
fn success(script: &Script, purpose: Purpose) -> Answer {
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

fn spec(script: &Script) -> JobSpec {
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

// ---------------------------------------------------------------------------------
// The model the invariants are checked against.

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// What the test knows independently of the job.
#[derive(Debug)]
struct Model {
    start: Instant,
    deadline: Option<Instant>,
    request_time_limit: Duration,
    min_interval: Duration,
    max_hint: u64,
    max_attempts: Option<u32>,
    /// The request in flight: id, purpose, when it was sent.
    in_flight: Option<(RequestId, Purpose, Instant)>,
    last_sent: Option<Instant>,
    last_id: Option<RequestId>,
    /// No request before this (from the hints seen), and the response that set it.
    not_before: Option<(Instant, RequestId)>,
    /// When the last progress or retry event said the next request goes out.
    announced: Option<Instant>,
    status_requests: u32,
    requests: u32,
    /// The user cancelled; a cancel request went out; how the server answered it.
    user_cancelled: bool,
    cancel_sent: bool,
    cancel_confirmed: Option<bool>,
    finished: Option<(Instant, Outcome)>,
    done: bool,
}

/// The input of one step, as the test saw it.
enum Fed {
    None,
    Tick,
    Cancel,
    Answer {
        id: RequestId,
        /// The hint the test expects honoured, for a response.
        hint: Option<u64>,
        /// Whether the answer is a 2xx response.
        success: bool,
    },
}

impl Model {
    fn new(script: &Script) -> Model {
        let c = &script.config;
        let whole = |d: Duration| Duration::from_micros(micros(d));
        Model {
            start: script.start_at,
            deadline: c.deadline.map(|d| script.start_at + whole(d)),
            request_time_limit: whole(c.request_time_limit),
            min_interval: whole(c.min_interval),
            max_hint: micros(c.max_hint),
            max_attempts: c.max_attempts,
            in_flight: None,
            last_sent: None,
            last_id: None,
            not_before: None,
            announced: None,
            status_requests: 0,
            requests: 0,
            user_cancelled: false,
            cancel_sent: false,
            cancel_confirmed: None,
            finished: None,
            done: false,
        }
    }
}

/// Every invariant, checked after each step: the input fed at `now` (if any) and
/// the outputs drained after it, up to and including `WakeAt` or `Done`.
fn check_invariants(
    model: &mut Model,
    now: Instant,
    fed: &Fed,
    outputs: &[Output],
    job: &Job,
) -> Result<(), TestCaseError> {
    // The input.
    if matches!(fed, Fed::Cancel) {
        model.user_cancelled = true;
    }
    if let Fed::Answer { id, hint, success } = fed {
        prop_assert!(
            model.finished.is_none(),
            "an answer was fed after the outcome"
        );
        let Some((in_flight, _, _)) = model.in_flight.take() else {
            return Err(TestCaseError::fail(format!(
                "answer for {id} with nothing in flight"
            )));
        };
        prop_assert_eq!(in_flight, *id, "answer for a request not in flight");
        if model.cancel_sent {
            model.cancel_confirmed = Some(*success);
        }
        if let Some(hint) = hint {
            let until = now + Duration::from_micros((*hint).min(model.max_hint));
            if model.not_before.is_none_or(|(t, _)| until > t) {
                model.not_before = Some((until, *id));
            }
        }
    }
    // The outputs.
    prop_assert!(!outputs.is_empty(), "poll_output returned nothing");
    let last = outputs.len() - 1;
    for (index, output) in outputs.iter().enumerate() {
        if index < last {
            prop_assert!(
                !matches!(output, Output::WakeAt(_) | Output::Done),
                "{:?} before the end of the drain",
                output
            );
        }
        if model.finished.is_some() {
            prop_assert_eq!(
                output,
                &Output::Done,
                "output after the outcome (finished at {:?})",
                model.finished.as_ref().map(|f| f.0)
            );
        }
        match output {
            Output::Transmit(transmit) => {
                prop_assert!(!model.cancel_sent, "a request after the cancel request");
                if transmit.purpose == Purpose::Cancel {
                    prop_assert!(
                        model.user_cancelled,
                        "a cancel request the user did not ask for"
                    );
                    model.cancel_sent = true;
                }
                prop_assert!(
                    model.in_flight.is_none(),
                    "{} sent while {:?} is in flight",
                    transmit.id,
                    model.in_flight
                );
                prop_assert!(
                    model.last_id.is_none_or(|last| transmit.id > last),
                    "request ids must grow: {} after {:?}",
                    transmit.id,
                    model.last_id
                );
                if let Some(deadline) = model.deadline {
                    prop_assert!(
                        now < deadline,
                        "{:?} request sent at {:?} at or after the deadline {:?}",
                        transmit.purpose,
                        now - model.start,
                        deadline - model.start
                    );
                }
                // docs/decisions.md: "Cancel goes out at once, ignoring the schedule
                // and hints: the user asked." Every other request keeps the bounds.
                let bounded = transmit.purpose != Purpose::Cancel;
                if bounded && let Some(last) = model.last_sent {
                    prop_assert!(
                        now - last >= model.min_interval,
                        "{:?} request {} after the previous one, min interval {:?}",
                        transmit.purpose,
                        format_gap(now - last),
                        model.min_interval
                    );
                }
                if bounded && let Some((not_before, from)) = model.not_before {
                    prop_assert!(
                        now >= not_before,
                        "{:?} request at {:?} before the hint of the answer to {} allows ({:?})",
                        transmit.purpose,
                        now - model.start,
                        from,
                        not_before - model.start
                    );
                }
                if bounded && let Some(announced) = model.announced {
                    prop_assert_eq!(
                        now,
                        announced,
                        "{:?} request not at the announced instant",
                        transmit.purpose
                    );
                }
                prop_assert_eq!(transmit.time_limit, model.request_time_limit);
                prop_assert!(matches!(transmit.url.scheme(), "http" | "https"));
                prop_assert!(transmit.to_http_request().is_ok(), "not a valid request");
                model.requests += 1;
                if transmit.purpose == Purpose::Status {
                    model.status_requests += 1;
                    if let Some(max) = model.max_attempts {
                        prop_assert!(
                            model.status_requests <= max,
                            "{} status requests, max_attempts {}",
                            model.status_requests,
                            max
                        );
                    }
                }
                model.in_flight = Some((transmit.id, transmit.purpose, now));
                model.last_sent = Some(now);
                model.last_id = Some(transmit.id);
                model.announced = None;
            }
            Output::Abort(id) => {
                let in_flight = model.in_flight.take().map(|(id, _, _)| id);
                prop_assert_eq!(in_flight, Some(*id), "abort of a request not in flight");
            }
            Output::Event(event) => match event {
                Event::Progress(progress) => {
                    prop_assert_eq!(progress.attempt, model.status_requests);
                    prop_assert_eq!(progress.max_attempts, model.max_attempts);
                    prop_assert_eq!(progress.elapsed, now - model.start);
                    model.announced = Some(now + progress.next_poll_in);
                }
                Event::Retrying { delay, .. } => model.announced = Some(now + *delay),
                Event::HintCapped {
                    requested, used, ..
                } => {
                    prop_assert_eq!(micros(*used), model.max_hint);
                    prop_assert!(micros(*requested) > model.max_hint);
                }
                _ => {}
            },
            Output::Finished(outcome) => {
                prop_assert!(
                    model.finished.is_none(),
                    "a second outcome: {:?} after {:?}",
                    outcome,
                    model.finished
                );
                prop_assert!(
                    model.in_flight.is_none(),
                    "finished with {:?} in flight and not aborted",
                    model.in_flight
                );
                if let Some(deadline) = model.deadline {
                    prop_assert!(
                        now <= deadline + model.request_time_limit,
                        "outcome at {:?}, deadline {:?} + request time limit {:?}",
                        now - model.start,
                        deadline - model.start,
                        model.request_time_limit
                    );
                }
                let stats = outcome.stats();
                prop_assert_eq!(stats.attempts, model.status_requests);
                prop_assert_eq!(stats.requests, model.requests);
                prop_assert_eq!(stats.elapsed, now - model.start);
                if let Outcome::TimedOut {
                    reason: WaitLimit::MaxAttempts { max_attempts },
                    ..
                } = outcome
                {
                    prop_assert_eq!(Some(*max_attempts), model.max_attempts);
                }
                if model.cancel_sent {
                    // Unanswered (timed out) counts as not confirmed.
                    let confirmed = Some(model.cancel_confirmed.unwrap_or(false));
                    prop_assert!(
                        matches!(
                            outcome,
                            Outcome::Cancelled { by: CancelledBy::Client { server_confirmed }, .. }
                                if *server_confirmed == confirmed
                        ),
                        "after a cancel request answered {:?}: {:?}",
                        model.cancel_confirmed,
                        outcome
                    );
                }
                if matches!(
                    outcome,
                    Outcome::Cancelled {
                        by: CancelledBy::Client { .. },
                        ..
                    }
                ) {
                    prop_assert!(model.user_cancelled, "cancelled by the client unasked");
                }
                model.finished = Some((now, outcome.clone()));
            }
            Output::WakeAt(at) => {
                prop_assert!(
                    *at > now,
                    "wake-up at {:?} is not after now {:?}",
                    *at - model.start,
                    now - model.start
                );
                if let Some((_, _, sent)) = model.in_flight {
                    prop_assert!(*at <= sent + model.request_time_limit);
                }
                prop_assert_eq!(job.next_wake(), Some(*at));
            }
            Output::Done => {
                prop_assert!(model.finished.is_some(), "Done without an outcome");
                model.done = true;
            }
        }
    }
    prop_assert!(
        matches!(outputs[last], Output::WakeAt(_) | Output::Done),
        "the drain did not end with WakeAt or Done"
    );
    prop_assert_eq!(job.is_finished(), model.finished.is_some());
    Ok(())
}

fn format_gap(d: Duration) -> String {
    format!("{d:?}")
}

// ---------------------------------------------------------------------------------
// The driver.

/// Options of one run.
#[derive(Clone, Copy, Default)]
struct Checks {
    /// Restore a twin from a snapshot and run it in lockstep.
    snapshot: bool,
    /// Record the run with this redaction and replay the trace at the end.
    trace: Option<Redaction>,
    /// Feed answers for requests that are not in flight at random steps (to the
    /// main job only) and check they are refused without changing future outputs.
    stray: Option<u64>,
}

/// How a trace is redacted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Redaction {
    /// `Redactor::none()`: the trace keeps everything.
    Keep,
    /// `Redactor::default()`: secrets never reach the trace.
    Secrets,
}

impl Redaction {
    fn redactor(self) -> Redactor {
        match self {
            Redaction::Keep => Redactor::none(),
            Redaction::Secrets => Redactor::default(),
        }
    }
}

/// Everything a run produced.
#[derive(Debug)]
struct Finish {
    outcome: Outcome,
}

fn run_script(script: &Script, checks: Checks) -> Result<Finish, TestCaseError> {
    let mut job = RecordingJob::new(
        spec(script),
        script.config.clone(),
        script.start_at,
        checks.trace.unwrap_or(Redaction::Keep).redactor(),
    )
    .map_err(|e| TestCaseError::fail(format!("a valid script was refused: {e}")))?;
    // Restored from a snapshot at the script's point, then run to the end.
    let mut twin: Option<Job> = None;
    // Restored from a snapshot every other step, compared for two steps.
    let mut rolling: Option<Job> = None;
    let mut model = Model::new(script);
    let mut now = script.start_at;
    let mut actions = script.actions.iter();
    let mut pending: Option<(Instant, RequestId, Option<u64>, Input)> = None;
    let mut cancel = script.cancel.clone();
    let mut extra_ticks: VecDeque<Instant> = script
        .extra_ticks
        .iter()
        .map(|d| script.start_at + *d)
        .collect();
    let mut wakes = 0usize;
    let mut fed = Fed::None;
    let mut inputs = 0usize;
    let mut polled = 0usize;
    let mut stray_rng = checks.stray.unwrap_or(0);
    let max_steps = 12 * (script.actions.len() + 8) + script.extra_ticks.len() + 8;

    for step in 0..max_steps {
        // Drain.
        let mut outputs = Vec::new();
        loop {
            if checks.snapshot {
                if twin.is_none() && script.snapshot == Some((step, outputs.len())) {
                    twin = Some(through_json(job.job())?);
                }
                if step % 2 == 0 && outputs.is_empty() {
                    rolling = Some(through_json(job.job())?);
                }
            }
            let output = job.poll_output();
            polled += 1;
            if let Some(twin) = &mut twin {
                prop_assert_eq!(&twin.poll_output(), &output, "the restored job diverged");
            }
            if let Some(rolling) = &mut rolling {
                prop_assert_eq!(
                    &rolling.poll_output(),
                    &output,
                    "the job restored at step {} diverged",
                    step - step % 2
                );
            }
            match &output {
                Output::Transmit(transmit) => {
                    let answer = match actions.next() {
                        Some(action) => answer(script, action, transmit.purpose),
                        None => Some(success(script, transmit.purpose)),
                    };
                    pending = answer.map(|a| {
                        let at = now + a.after;
                        let input = match a.input {
                            AnswerKind::Response(response) => Input::Response {
                                request: transmit.id,
                                response,
                                now: at,
                            },
                            AnswerKind::Fail(error) => Input::TransportError {
                                request: transmit.id,
                                error,
                                now: at,
                            },
                        };
                        (at, transmit.id, a.hint, input)
                    });
                }
                Output::Abort(id) if pending.as_ref().is_some_and(|p| p.1 == *id) => {
                    pending = None;
                }
                _ => {}
            }
            let end = matches!(output, Output::WakeAt(_) | Output::Done);
            outputs.push(output);
            if end {
                break;
            }
            prop_assert!(outputs.len() < 1000, "the job produced endless outputs");
        }
        check_invariants(&mut model, now, &fed, &outputs, job.job())?;
        let wake_at = match outputs.last() {
            Some(Output::WakeAt(at)) => *at,
            _ => break,
        };

        // Stray answers (not in flight): refused, and nothing changes.
        if checks.stray.is_some() {
            stray_rng = splitmix(stray_rng);
            if stray_rng.is_multiple_of(3) {
                check_stray(&job, &model, now, stray_rng)?;
            }
        }

        // The next input: the earliest of the pending answer, the cancel, an extra
        // tick and the job's own wake-up.
        let answer_at = pending.as_ref().map(|p| p.0);
        let cancel_at = match &cancel {
            Some(CancelAt::After(d)) => Some((script.start_at + *d).max(now)),
            Some(CancelAt::AtWake(n)) if *n == wakes => Some(wake_at),
            _ => None,
        };
        let tick_at = extra_ticks.front().map(|t| (*t).max(now));
        // (instant, priority): lower wins on equal instants.
        let answer_rank = if script.answers_first { 0 } else { 4 };
        let mut choices = vec![(wake_at, 3, 'w')];
        if let Some(t) = answer_at {
            choices.push((t, answer_rank, 'a'));
        }
        if let Some(t) = cancel_at {
            choices.push((t, 1, 'c'));
        }
        if let Some(t) = tick_at {
            choices.push((t, 2, 't'));
        }
        choices.sort();
        let (at, _, which) = choices[0];
        prop_assert!(at >= now, "time ran backwards in the driver");
        now = at;
        let input = match which {
            'a' => {
                let (_, id, hint, input) = pending.take().expect("chosen above");
                let success = matches!(&input, Input::Response { response, .. } if response.status().is_success());
                fed = Fed::Answer { id, hint, success };
                input
            }
            'c' => {
                cancel = None;
                fed = Fed::Cancel;
                Input::Cancel { now }
            }
            't' => {
                extra_ticks.pop_front();
                fed = Fed::Tick;
                Input::Tick { now }
            }
            _ => {
                wakes += 1;
                fed = Fed::Tick;
                Input::Tick { now }
            }
        };
        inputs += 1;
        for twin in twin.iter_mut().chain(rolling.iter_mut()) {
            prop_assert_eq!(
                twin.handle_input(input.clone()),
                Ok(()),
                "the restored job refused an input"
            );
        }
        prop_assert_eq!(job.handle_input(input), Ok(()), "a valid input was refused");
    }

    // Liveness: the script ends with "succeeded" forever, so the job must be done.
    let Some((_, outcome)) = model.finished.clone() else {
        return Err(TestCaseError::fail(format!(
            "no outcome after {max_steps} steps"
        )));
    };
    prop_assert!(model.done, "no Done after the outcome");

    // Nothing after the outcome: later inputs are refused or ignored.
    let mut after = job.job().clone();
    let last_id = model.last_id.unwrap_or(RequestId(0));
    let late = [
        Input::Tick {
            now: now + Duration::from_secs(1),
        },
        Input::Cancel {
            now: now + Duration::from_secs(2),
        },
        Input::Response {
            request: last_id,
            response: http::Response::new(Bytes::from_static(b"{}")),
            now: now + Duration::from_secs(3),
        },
        Input::TransportError {
            request: RequestId(last_id.0 + 1),
            error: TransportError::NoResponseInTime,
            now: now + Duration::from_secs(4),
        },
    ];
    for input in late {
        let answer = matches!(input, Input::Response { .. } | Input::TransportError { .. });
        let result = after.handle_input(input);
        if answer {
            prop_assert!(
                matches!(result, Err(InputError::UnknownRequest(_))),
                "a late answer was not refused: {:?}",
                result
            );
        } else {
            prop_assert_eq!(result, Ok(()));
        }
        prop_assert_eq!(after.poll_output(), Output::Done);
        prop_assert_eq!(after.poll_output(), Output::Done);
        prop_assert_eq!(after.next_wake(), None);
    }

    // The trace replays, after a JSON-lines round trip.
    if let Some(redaction) = checks.trace {
        let records = job.records();
        prop_assert_eq!(records.len(), 1 + inputs + polled);
        let text = trace::to_json_lines(records);
        let back: Vec<trace::Record> = trace::from_json_lines(&text)
            .map_err(|e| TestCaseError::fail(format!("the trace does not read back: {e}")))?;
        prop_assert_eq!(back.len(), records.len());
        if redaction == Redaction::Secrets {
            let leak = text.lines().find(|line| line.contains("s3cr3t"));
            prop_assert!(
                leak.is_none(),
                "a secret reached the trace: {}",
                leak.unwrap_or("")
            );
        }
        match trace::replay(&back, &redaction.redactor()) {
            Ok(Ok(report)) => {
                prop_assert_eq!(report.inputs, inputs);
                prop_assert_eq!(report.outputs, polled);
            }
            Ok(Err(divergence)) => {
                return Err(TestCaseError::fail(format!(
                    "replay diverged: {divergence}"
                )));
            }
            Err(error) => return Err(TestCaseError::fail(format!("replay failed: {error}"))),
        }
    }
    if std::env::var_os("JOBPOLL_PROPERTY_STATS").is_some() {
        eprintln!(
            "STATS outcome={} requests={} status={} cancel_sent={} twin={} hint={} steps={} actions={} detail={}",
            outcome.kind(),
            model.requests,
            model.status_requests,
            job.records().iter().any(|r| matches!(r, trace::Record::Output(Output::Transmit(t)) if t.purpose == Purpose::Cancel)),
            twin.is_some(),
            model.not_before.is_some(),
            wakes,
            script.actions.len(),
            outcome.to_string().chars().take(90).collect::<String>(),
        );
    }
    Ok(Finish { outcome })
}

/// `job` saved, written as JSON, read back and restored.
fn through_json(job: &Job) -> Result<Job, TestCaseError> {
    let json = serde_json::to_string(&job.snapshot())
        .map_err(|e| TestCaseError::fail(format!("snapshot: {e}")))?;
    let snapshot: Snapshot = serde_json::from_str(&json)
        .map_err(|e| TestCaseError::fail(format!("snapshot back: {e}")))?;
    Job::restore(snapshot).map_err(|e| TestCaseError::fail(format!("restore: {e}")))
}

fn splitmix(state: u64) -> u64 {
    let mut z = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// An answer for a request that is not in flight is refused with
/// `UnknownRequest`, and the job then says exactly what an untouched copy says.
fn check_stray(
    job: &RecordingJob,
    model: &Model,
    now: Instant,
    choice: u64,
) -> Result<(), TestCaseError> {
    let in_flight = model.in_flight.map(|(id, _, _)| id);
    let next = model.last_id.map_or(0, |id| id.0 + 1);
    let candidates = [
        RequestId(next),
        RequestId(next + 7),
        RequestId(next.saturating_sub(1)),
        RequestId(u64::MAX),
    ];
    let Some(id) = candidates
        .iter()
        .copied()
        .cycle()
        .skip((choice >> 8) as usize % candidates.len())
        .take(candidates.len())
        .find(|id| Some(*id) != in_flight)
    else {
        return Ok(());
    };
    let mut touched = job.job().clone();
    let mut untouched = job.job().clone();
    let input = if choice & 16 == 0 {
        Input::Response {
            request: id,
            response: http::Response::new(Bytes::from_static(br#"{"status":"completed"}"#)),
            now,
        }
    } else {
        Input::TransportError {
            request: id,
            error: TransportError::Reset("late".to_owned()),
            now,
        }
    };
    prop_assert_eq!(
        touched.handle_input(input),
        Err(InputError::UnknownRequest(id))
    );
    prop_assert_eq!(&touched, &untouched, "a refused input changed the job");
    // The same future: a tick at the wake-up instant, if any, on both.
    if let Some(at) = untouched.next_wake() {
        prop_assert_eq!(touched.handle_input(Input::Tick { now: at }), Ok(()));
        prop_assert_eq!(untouched.handle_input(Input::Tick { now: at }), Ok(()));
    }
    for _ in 0..8 {
        let (a, b) = (touched.poll_output(), untouched.poll_output());
        prop_assert_eq!(&a, &b);
        if matches!(a, Output::WakeAt(_) | Output::Done) {
            break;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// The properties.

/// Scripts whose poll schedule changes stage at a sub-microsecond boundary that a
/// poll reaches exactly: `initial` I (whole milliseconds), a stage after `n * I`
/// plus some nanoseconds, and a server that answers "running" at once.
fn staged_boundary() -> impl Strategy<Value = Script> {
    (
        script(),
        1u64..=1000,
        1u32..=6,
        1u64..1000,
        delay(60 * SEC),
        0usize..14,
    )
        .prop_map(
            |(mut script, initial_ms, n, nanos, interval, snapshot_step)| {
                let initial = Duration::from_millis(initial_ms);
                script.config.poll = Schedule::Staged {
                    initial,
                    stages: vec![Stage {
                        after: initial * n + Duration::from_nanos(nanos),
                        interval,
                    }],
                };
                script.config.first_poll = FirstPoll::Immediately;
                script.config.deadline = None;
                script.config.max_attempts = None;
                script.config.min_interval = Duration::ZERO;
                script.start = StartKind::Poll;
                script.cancel = None;
                script.extra_ticks.clear();
                script.snapshot = Some((snapshot_step, 0));
                let running = Action {
                    reply: Reply::Respond {
                        status: 200,
                        body: Body::Running {
                            percentage: None,
                            eta_secs: None,
                            blocks: 0,
                        },
                        hints: Hints::default(),
                        etag: false,
                    },
                    latency_permille: 0,
                };
                script.actions = vec![running; 2 * n as usize + 2];
                script
            },
        )
}

/// Scripts for an API with a server-side cancel that the user cancels.
fn cancelled() -> impl Strategy<Value = Script> {
    (
        script(),
        prop_oneof![Just(Api::Jobs), Just(Api::Google)],
        prop_oneof![
            whole(0, 30 * SEC).prop_map(CancelAt::After),
            (0usize..20).prop_map(CancelAt::AtWake),
        ],
    )
        .prop_map(|(mut script, api, cancel)| {
            script.api = api;
            script.config.cancel_on_server = true;
            script.cancel = Some(cancel);
            script
        })
}

/// Scripts for an API with a server-side cancel, a deadline, and a user's cancel at
/// or after the deadline.
fn late_cancel() -> impl Strategy<Value = Script> {
    (
        script(),
        prop_oneof![Just(Api::Jobs), Just(Api::Google)],
        whole(SEC, 60 * SEC),
        prop_oneof![(0u64..=2000).prop_map(Some), Just(None),],
        0usize..6,
    )
        .prop_map(|(mut script, api, deadline, after, wake)| {
            script.api = api;
            script.start = StartKind::Poll;
            script.config.deadline = Some(deadline);
            script.config.cancel_on_server = true;
            let timeout = micros(script.config.request_time_limit);
            script.cancel = Some(match after {
                Some(permille) => {
                    CancelAt::After(deadline + Duration::from_micros(timeout * permille / 1000))
                }
                None => CancelAt::AtWake(wake),
            });
            script
        })
}

/// Azure scripts where some answers are JSON `null`.
fn azure_with_json_null() -> impl Strategy<Value = Script> {
    (
        script(),
        prop::collection::vec((prop::bool::ANY, prop::bool::ANY), 1..4),
    )
        .prop_map(|(mut script, nulls)| {
            script.api = Api::Azure;
            for (i, (blank, early)) in nulls.into_iter().enumerate() {
                let action = Action {
                    reply: Reply::Respond {
                        status: 200,
                        body: Body::Garbage(if blank { 7 } else { 1 }),
                        hints: Hints::default(),
                        etag: false,
                    },
                    latency_permille: 0,
                };
                let at = if early { i } else { script.actions.len() };
                script.actions.insert(at.min(script.actions.len()), action);
            }
            script
        })
}

const CASES: u32 = 256;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// One request at a time, lower bounds (min interval, server hints, announced
    /// delays), the deadline, max attempts, one outcome and nothing after it, and
    /// liveness once the server says "succeeded".
    #[test]
    fn every_run_keeps_the_invariants(script in script()) {
        run_script(&script, Checks::default())?;
    }

    /// The same for runs the user cancels, on APIs with a server-side cancel: the
    /// cancel request goes out at once (docs/decisions.md) and is the last one.
    #[test]
    fn cancelled_runs_keep_the_invariants(script in cancelled()) {
        run_script(&script, Checks { snapshot: true, ..Checks::default() })?;
    }

    /// A job restored from a JSON snapshot taken at a random point (even with
    /// outputs still queued) says exactly what the original says, given the same
    /// inputs.
    #[test]
    fn a_restored_snapshot_continues_in_lockstep(script in script()) {
        run_script(&script, Checks { snapshot: true, ..Checks::default() })?;
    }

    /// A recorded run replays with no divergence after a JSON-lines round trip, and
    /// its secrets never reach the trace.
    #[test]
    fn a_recorded_trace_replays_without_divergence(script in script()) {
        run_script(&script, Checks { trace: Some(Redaction::Keep), ..Checks::default() })?;
    }

    /// The same with the default redactor and an `Authorization` header and
    /// pre-signed Azure operation URLs (`sig=` in the query): secrets never reach
    /// the trace, and the redacted trace still replays.
    #[test]
    fn a_redacted_trace_holds_no_secret_and_replays(
        script in script()
    ) {
        run_script(&script, Checks { trace: Some(Redaction::Secrets), ..Checks::default() })?;
    }

    /// Azure reads a `null` status body as success with the result `Some(null)`, and
    /// a blank results body as `Some(null)` results; both must survive a snapshot
    /// and a trace.
    #[test]
    fn json_null_results_survive_snapshots_and_traces(script in azure_with_json_null()) {
        run_script(&script, Checks { snapshot: true, trace: Some(Redaction::Keep), ..Checks::default() })?;
    }

    /// A user's cancel that arrives at or after the deadline (while the job waits at
    /// the deadline, or while a request sent before it may still finish) must not
    /// start a request past the deadline or end the job later than
    /// `deadline + request_time_limit`.
    #[test]
    fn a_cancel_at_or_after_the_deadline_keeps_the_deadline(script in late_cancel()) {
        run_script(&script, Checks::default())?;
    }

    /// Durations are kept in whole microseconds, so a schedule whose stage boundary
    /// has a sub-microsecond part must behave the same before and after a snapshot
    /// (and in a trace replay).
    #[test]
    fn sub_microsecond_stage_boundaries_survive_snapshots(script in staged_boundary()) {
        run_script(&script, Checks { snapshot: true, trace: Some(Redaction::Keep), ..Checks::default() })?;
    }

    /// Answers for requests that are not in flight are refused with
    /// `UnknownRequest` and change nothing.
    #[test]
    fn stray_answers_are_refused_and_change_nothing(script in script(), seed in any::<u64>()) {
        run_script(&script, Checks { stray: Some(seed), ..Checks::default() })?;
    }
}

/// The status URL of every start kind is polled; a sanity check of the script
/// builder itself, so that the properties above test the core rather than a
/// broken harness.
#[test]
fn every_api_shape_succeeds_with_a_cooperative_server() {
    for api in [
        Api::Jobs,
        Api::Codegen,
        Api::FileTasks,
        Api::Turn,
        Api::Google,
        Api::Azure,
    ] {
        for start in [
            StartKind::Poll,
            StartKind::Submit {
                put: false,
                idempotency_key: false,
            },
        ] {
            let script = Script {
                start_at: Instant::from_secs(10),
                config: Config::fast(),
                api,
                start,
                auth: true,
                signed: false,
                actions: vec![Action {
                    reply: Reply::Respond {
                        status: 200,
                        body: Body::Running {
                            percentage: Some(10.0),
                            eta_secs: Some(30.0),
                            blocks: 1,
                        },
                        hints: Hints::default(),
                        etag: false,
                    },
                    latency_permille: 10,
                }],
                cancel: None,
                extra_ticks: Vec::new(),
                snapshot: None,
                answers_first: true,
            };
            let finish = run_script(
                &script,
                Checks {
                    trace: Some(Redaction::Secrets),
                    ..Checks::default()
                },
            )
            .unwrap_or_else(|e| panic!("{api:?}: {e}"));
            assert!(
                finish.outcome.is_success(),
                "{api:?} {:?}: {}",
                script.start,
                finish.outcome
            );
            let submitted = matches!(script.start, StartKind::Submit { .. });
            // Azure names the final resource only in the submit response.
            if api == Api::Codegen || (api == Api::Azure && submitted) {
                let Outcome::Succeeded { results, .. } = &finish.outcome else {
                    unreachable!()
                };
                assert!(results.is_some(), "{api:?}: results were fetched");
            }
        }
    }
}
