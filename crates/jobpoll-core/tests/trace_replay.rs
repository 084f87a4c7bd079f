//! Recorded traces: bit-identical replay after a JSON-lines round trip, redaction of
//! secrets, detection of tampering, typed errors for broken traces, and resuming a
//! snapshot after a restart.

mod support;

use std::time::Duration;

use bytes::Bytes;
use jobpoll_core::trace::{
    self, Divergence, REDACTED, Record, RecordedInput, RecordingJob, Redactor, TRACE_FORMAT,
    TraceError,
};
use jobpoll_core::{
    Config, Input, InputError, Instant, Job, JobSpec, Outcome, Output, Profile, Purpose, RequestId,
    Schedule, Snapshot, Transmit, TransportError,
};
use serde_json::Value;
use support::drain;

// ---------------------------------------------------------------------------------
// A small virtual-clock driver for a recording job.

/// What the scripted server does with one request.
enum Reply {
    /// Answer after a delay with a status, headers and a body.
    Respond {
        after: Duration,
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// Fail after a delay.
    Fail {
        after: Duration,
        error: TransportError,
    },
}

fn respond(status: u16, body: &str) -> Reply {
    Reply::Respond {
        after: Duration::from_millis(200),
        status,
        headers: Vec::new(),
        body: body.to_owned(),
    }
}

fn with_header(reply: Reply, name: &'static str, value: &str) -> Reply {
    match reply {
        Reply::Respond {
            after,
            status,
            mut headers,
            body,
        } => {
            headers.push((name, value.to_owned()));
            Reply::Respond {
                after,
                status,
                headers,
                body,
            }
        }
        other => other,
    }
}

/// Runs `job` from `start` to its end against `server`; returns the outcome and
/// every request sent.
fn drive(
    job: &mut RecordingJob,
    start: Instant,
    mut server: impl FnMut(&Transmit) -> Reply,
) -> (Outcome, Vec<Transmit>) {
    let mut now = start;
    let mut pending: Option<(Instant, Input)> = None;
    let mut outcome = None;
    let mut sent = Vec::new();
    for _ in 0..10_000 {
        match job.poll_output() {
            Output::Transmit(transmit) => {
                pending = Some(match server(&transmit) {
                    Reply::Respond {
                        after,
                        status,
                        headers,
                        body,
                    } => {
                        let mut builder = http::Response::builder().status(status);
                        for (name, value) in &headers {
                            builder = builder.header(*name, value.as_str());
                        }
                        let response = builder.body(Bytes::from(body)).expect("valid response");
                        let at = now + after;
                        let input = Input::Response {
                            request: transmit.id,
                            response,
                            now: at,
                        };
                        (at, input)
                    }
                    Reply::Fail { after, error } => {
                        let at = now + after;
                        let input = Input::TransportError {
                            request: transmit.id,
                            error,
                            now: at,
                        };
                        (at, input)
                    }
                });
                sent.push(transmit);
            }
            Output::Abort(id) => {
                if let Some((_, Input::Response { request, .. })) = &pending
                    && *request == id
                {
                    pending = None;
                }
            }
            Output::Event(_) => {}
            Output::Finished(done) => outcome = Some(done),
            Output::WakeAt(at) => match pending.take() {
                Some((reply_at, input)) if reply_at <= at => {
                    now = reply_at;
                    job.handle_input(input)
                        .expect("the answer is for the request in flight");
                }
                other => {
                    pending = other;
                    now = at;
                    job.handle_input(Input::Tick { now })
                        .expect("ticks are accepted");
                }
            },
            Output::Done => {
                return (outcome.expect("Finished comes before Done"), sent);
            }
        }
    }
    panic!("the job did not finish");
}

fn url(text: &str) -> url::Url {
    text.parse().expect("valid URL")
}

/// The run of (a): a codegen submit, a 429 with `Retry-After`, a transport error,
/// success, and the results fetch.
fn codegen_run(redactor: Redactor) -> (RecordingJob, Outcome, Vec<Transmit>) {
    let spec = JobSpec::submit(
        Profile::codegen(),
        url("https://api.example.com/api/v1/public/graph/codegen"),
        Some(r#"{"graphId":"g1"}"#.to_owned()),
    );
    let config = Config {
        seed: 7,
        ..Config::aggressive()
    };
    let start = Instant::from_secs(1_000);
    let mut job = RecordingJob::new(spec, config, start, redactor).expect("valid job");
    let mut status_polls = 0;
    let (outcome, sent) = drive(&mut job, start, |transmit| match transmit.purpose {
        Purpose::Submit => respond(202, r#"{"jobId":"job-1","status":"pending"}"#),
        Purpose::Status => {
            status_polls += 1;
            match status_polls {
                1 => respond(200, r#"{"jobId":"job-1","status":"running"}"#),
                2 => with_header(respond(429, "slow down"), "retry-after", "7"),
                3 => Reply::Fail {
                    after: Duration::from_millis(50),
                    error: TransportError::Reset("connection reset by peer".to_owned()),
                },
                _ => respond(200, r#"{"jobId":"job-1","status":"completed"}"#),
            }
        }
        Purpose::Results => respond(
            200,
            r#"{"graphId":"g1","jobId":"job-1","generatedCodes":[{"nodeId":"n1","code":"print(1)","language":"python"},{"nodeId":"n1","code":"print(2)","language":"python"}],"summary":"ok"}"#,
        ),
        Purpose::Cancel => respond(200, "{}"),
    });
    (job, outcome, sent)
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_owned).collect()
}

fn json(line: &str) -> Value {
    serde_json::from_str(line).expect("a JSON record")
}

fn replay_text(text: &str) -> Result<Result<trace::ReplayReport, Divergence>, TraceError> {
    let records: Vec<Record> = trace::from_json_lines(text)?;
    trace::replay(&records, &Redactor::default())
}

// ---------------------------------------------------------------------------------
// (a) Bit-identical replay.

#[test]
fn a_recorded_run_replays_bit_identically_after_a_json_lines_round_trip() {
    let (job, outcome, sent) = codegen_run(Redactor::default());

    // The run is the one described: submit, a 429 honoured, a transport error
    // retried, success and the results.
    let purposes: Vec<Purpose> = sent.iter().map(|t| t.purpose).collect();
    assert_eq!(
        purposes,
        [
            Purpose::Submit,
            Purpose::Status,
            Purpose::Status,
            Purpose::Status,
            Purpose::Status,
            Purpose::Results
        ]
    );
    let Outcome::Succeeded { results, .. } = &outcome else {
        panic!("expected success, got {outcome}");
    };
    assert_eq!(
        results,
        &Some(serde_json::json!({"g1": {"n1": ["print(1)", "print(2)"]}}))
    );
    let records = job.records();
    let inputs = records
        .iter()
        .filter(|r| matches!(r, Record::Input(_)))
        .count();
    let outputs = records
        .iter()
        .filter(|r| matches!(r, Record::Output(_)))
        .count();

    let text = trace::to_json_lines(records);
    let back: Vec<Record> = trace::from_json_lines(&text).expect("the trace reads back");
    // The round trip is lossless: the same records, the same bytes.
    assert_eq!(back, records);
    assert_eq!(trace::to_json_lines(&back), text);

    let report = trace::replay(&back, &Redactor::default())
        .expect("a usable trace")
        .expect("no divergence");
    assert_eq!((report.inputs, report.outputs), (inputs, outputs));

    // The same inputs give the same trace, byte for byte.
    let (again, _, _) = codegen_run(Redactor::default());
    assert_eq!(trace::to_json_lines(again.records()), text);

    // The 429's hint is in the trace and was honoured: the poll after it waited at
    // least 7 s.
    assert!(text.contains(r#"["retry-after","7"]"#), "{text}");
}

// ---------------------------------------------------------------------------------
// (b) Redaction.

const AZURE_OPERATION: &str = "https://management.example.com/subscriptions/s1/providers/Example/operations/op-1?api-version=2024-01-01&sig=TOPSECRETSIG";
const AZURE_RESOURCE: &str = "https://management.example.com/subscriptions/s1/resources/r1?api-version=2024-01-01&sig=OTHERSECRETSIG";

/// A `POST` operation whose final resource is the `Location`, signed like the
/// monitor URL.
fn azure_run() -> (RecordingJob, Outcome, Vec<Transmit>) {
    let spec = JobSpec::submit(
        Profile::azure_operation(),
        url("https://management.example.com/subscriptions/s1/resources/r1?api-version=2024-01-01"),
        Some(r#"{"location":"westeurope"}"#.to_owned()),
    )
    .with_header("Authorization", "Bearer sk-live-VERYSECRETTOKEN");
    let start = Instant::ZERO;
    let mut job =
        RecordingJob::new(spec, Config::fast(), start, Redactor::default()).expect("valid job");
    let mut polls = 0;
    let outcome = drive(&mut job, start, |transmit| match transmit.purpose {
        Purpose::Submit => {
            let reply = with_header(
                respond(201, r#"{"status":"Accepted"}"#),
                "azure-asyncoperation",
                AZURE_OPERATION,
            );
            let reply = with_header(reply, "location", AZURE_RESOURCE);
            with_header(reply, "retry-after", "1")
        }
        Purpose::Status => {
            polls += 1;
            if polls < 3 {
                respond(200, r#"{"status":"InProgress","percentComplete":40}"#)
            } else {
                respond(200, r#"{"status":"Succeeded"}"#)
            }
        }
        Purpose::Results => respond(
            200,
            r#"{"id":"r1","properties":{"provisioningState":"Succeeded"}}"#,
        ),
        Purpose::Cancel => respond(200, "{}"),
    });
    (job, outcome.0, outcome.1)
}

#[test]
fn secrets_never_reach_the_trace_and_the_redacted_trace_still_replays() {
    let (job, outcome, sent) = azure_run();
    assert!(outcome.is_success(), "{outcome}");
    // The job itself used the real credentials.
    assert!(
        sent.iter()
            .any(|t| t.purpose == Purpose::Status && t.url.as_str().contains("TOPSECRETSIG"))
    );
    assert!(
        sent.iter()
            .any(|t| t.purpose == Purpose::Results && t.url.as_str().contains("OTHERSECRETSIG"))
    );
    assert!(sent.iter().all(|t| {
        t.headers
            .iter()
            .any(|(n, v)| n == "Authorization" && v.contains("VERYSECRETTOKEN"))
    }));

    let text = trace::to_json_lines(job.records());
    for secret in [
        "TOPSECRETSIG",
        "OTHERSECRETSIG",
        "VERYSECRETTOKEN",
        "sk-live",
    ] {
        let leaks: Vec<&str> = text.lines().filter(|l| l.contains(secret)).collect();
        assert!(leaks.is_empty(), "{secret} reached the trace: {leaks:#?}");
    }
    // What was removed is marked, and the rest of the URL is kept.
    assert!(text.contains(REDACTED), "{text}");
    assert!(text.contains("sig=************"), "{text}");
    assert!(text.contains("api-version=2024-01-01"), "{text}");

    let report = replay_text(&text)
        .expect("a usable trace")
        .expect("the redacted trace replays without divergence");
    assert!(report.inputs > 0 && report.outputs > 0);
}

// ---------------------------------------------------------------------------------
// (c) Tampering.

/// The index of the first record whose JSON satisfies `pick`.
fn find_record(lines: &[String], pick: impl Fn(&Value) -> bool) -> usize {
    lines
        .iter()
        .position(|line| pick(&json(line)))
        .expect("such a record exists")
}

#[test]
fn a_tampered_output_is_reported_at_its_record() {
    let (job, _, _) = codegen_run(Redactor::default());
    let mut lines = lines(&trace::to_json_lines(job.records()));

    // Shorten the delay the retry event announced by one microsecond.
    let index = find_record(&lines, |r| {
        r["record"] == "output" && r["data"]["event"] == "retrying"
    });
    let mut record = json(&lines[index]);
    let delay = record["data"]["delay"].as_u64().expect("a delay");
    record["data"]["delay"] = Value::from(delay - 1);
    lines[index] = record.to_string();
    let tampered = lines.join("\n");

    match replay_text(&tampered) {
        Ok(Err(Divergence::Output {
            index: at,
            expected,
            actual,
        })) => {
            assert_eq!(at, index);
            assert!(expected.contains(&(delay - 1).to_string()), "{expected}");
            assert!(actual.contains(&delay.to_string()), "{actual}");
        }
        other => panic!("expected an output divergence at record {index}, got {other:?}"),
    }

    // A changed wake-up instant is caught the same way.
    let mut lines = self::lines(&trace::to_json_lines(job.records()));
    let index = find_record(&lines, |r| r["output"] == "wake_at");
    let mut record = json(&lines[index]);
    record["data"] = Value::from(record["data"].as_u64().expect("an instant") + 1);
    lines[index] = record.to_string();
    assert!(matches!(
        replay_text(&lines.join("\n")),
        Ok(Err(Divergence::Output { index: at, .. })) if at == index
    ));

    // Blank lines do not shift record indices.
    let spaced = lines.join("\n\n");
    assert!(matches!(
        replay_text(&spaced),
        Ok(Err(Divergence::Output { index: at, .. })) if at == index
    ));
}

// ---------------------------------------------------------------------------------
// (d) Broken traces.

#[test]
fn broken_traces_give_typed_errors_and_never_panic() {
    let (job, _, _) = codegen_run(Redactor::default());
    let good = lines(&trace::to_json_lines(job.records()));

    // A garbage line: a parse error naming its 1-based line number.
    for garbage in [
        "not json",
        "{",
        r#"{"record":"nonsense"}"#,
        "[1,2,3]",
        "\u{0}",
    ] {
        let mut lines = good.clone();
        lines.insert(2, garbage.to_owned());
        match trace::from_json_lines::<Profile>(&lines.join("\n")) {
            Err(TraceError::Parse { line, reason }) => {
                assert_eq!(line, 3, "{garbage:?}");
                assert!(!reason.is_empty());
            }
            other => panic!("{garbage:?}: expected a parse error, got {other:?}"),
        }
    }

    // No start record: an empty trace, one without its first line, one that starts
    // with an input, and one with a second start record.
    assert_eq!(replay_text(""), Err(TraceError::NoStart));
    assert_eq!(replay_text("\n\n"), Err(TraceError::NoStart));
    assert_eq!(replay_text(&good[1..].join("\n")), Err(TraceError::NoStart));
    let mut twice = good.clone();
    twice.insert(3, good[0].clone());
    assert_eq!(replay_text(&twice.join("\n")), Err(TraceError::NoStart));

    // An unknown format version.
    let mut lines = good.clone();
    let mut start = json(&lines[0]);
    start["format"] = Value::from(TRACE_FORMAT + 98);
    lines[0] = start.to_string();
    assert_eq!(
        replay_text(&lines.join("\n")),
        Err(TraceError::Format(TRACE_FORMAT + 98))
    );

    // A start record whose job cannot be built.
    let mut lines = good.clone();
    let mut start = json(&lines[0]);
    start["config"]["request_time_limit"] = Value::from(0);
    lines[0] = start.to_string();
    assert!(matches!(
        replay_text(&lines.join("\n")),
        Err(TraceError::Spec(_))
    ));

    // An input for a request that was never sent: the replayed job refuses it.
    let mut lines = good.clone();
    let index = find_record(&lines, |r| r["input"] == "response");
    let mut record = json(&lines[index]);
    record["request"] = Value::from(42);
    lines[index] = record.to_string();
    assert_eq!(
        replay_text(&lines.join("\n")),
        Ok(Err(Divergence::Input {
            index,
            error: Some(InputError::UnknownRequest(RequestId(42))),
        }))
    );

    // Impossible values inside a record.
    for (field, value) in [
        ("status", Value::from(1000)),
        ("status", Value::from(0)),
        ("body", serde_json::json!({"base64": "***not base64***"})),
        ("headers", serde_json::json!([["bad header name", "x"]])),
        ("headers", serde_json::json!([["x-ok", "line\nbreak"]])),
    ] {
        let mut lines = good.clone();
        let mut record = json(&lines[index]);
        record[field] = value.clone();
        lines[index] = record.to_string();
        assert!(
            matches!(replay_text(&lines.join("\n")), Err(TraceError::Invalid(_))),
            "{field} = {value}"
        );
    }

    // A truncated trace is not an error: it replays as far as it goes.
    let half = good.len() / 2;
    let report = replay_text(&good[..half].join("\n"))
        .expect("a usable trace")
        .expect("no divergence");
    assert_eq!(report.inputs + report.outputs, half - 1);

    // Every prefix of every line, as a whole trace: never a panic.
    for line in &good {
        for cut in (0..line.len()).step_by(7) {
            if line.is_char_boundary(cut) {
                let mut lines = good.clone();
                lines[0] = line[..cut].to_owned();
                let _ = replay_text(&lines.join("\n"));
            }
        }
    }
}

/// A driver may deliver an answer just after the job aborted its request (a
/// response racing the request time limit). The job refuses it, harmlessly; the
/// trace of that run must still replay.
#[test]
fn a_refused_late_answer_in_a_trace_still_replays() {
    let spec = JobSpec::poll(
        Profile::jobs(),
        url("https://api.example.com/api/v1/jobs/job-1"),
    );
    let config = Config {
        poll: Schedule::fixed(Duration::from_secs(1)),
        request_time_limit: Duration::from_secs(5),
        ..Config::standard()
    };
    let mut job =
        RecordingJob::new(spec, config, Instant::ZERO, Redactor::default()).expect("valid job");
    let Output::Transmit(first) = job.poll_output() else {
        panic!("the first poll goes out at once")
    };
    assert_eq!(job.poll_output(), Output::WakeAt(Instant::from_secs(5)));
    job.handle_input(Input::Tick {
        now: Instant::from_secs(5),
    })
    .expect("a tick");
    assert_eq!(job.poll_output(), Output::Abort(first.id));
    while !matches!(job.poll_output(), Output::WakeAt(_)) {}
    // The response arrives just too late.
    let late = Input::Response {
        request: first.id,
        response: http::Response::new(Bytes::from_static(br#"{"status":"processing"}"#)),
        now: Instant::from_secs(5),
    };
    assert_eq!(
        job.handle_input(late),
        Err(InputError::UnknownRequest(first.id))
    );
    while !matches!(job.poll_output(), Output::WakeAt(_)) {}

    let text = trace::to_json_lines(job.records());
    // The refused input is in the trace, and replay refuses it the same way: both
    // jobs agree, so this is not a divergence.
    assert!(
        text.lines()
            .filter(|l| l.contains(r#""input":"response""#))
            .count()
            == 1
    );
    let result = replay_text(&text).expect("a usable trace");
    assert!(
        result.is_ok(),
        "a refused input that the recorded job also refused is not a divergence: {result:?}"
    );
}

#[test]
fn recorded_inputs_convert_back_exactly() {
    // Non-UTF-8 bodies and header values survive as base64.
    let response = http::Response::builder()
        .status(503)
        .header("retry-after", "3")
        .header(
            "x-binary",
            http::HeaderValue::from_bytes(b"\xfe\xff").expect("opaque"),
        )
        .body(Bytes::from_static(b"\xff\x00\x01 not utf-8"))
        .expect("valid");
    let input = Input::Response {
        request: RequestId(3),
        response,
        now: Instant::from_millis(1500),
    };
    let recorded = Redactor::none().input(&input);
    let line = serde_json::to_string(&recorded).expect("serializes");
    let back: RecordedInput = serde_json::from_str(&line).expect("reads back");
    assert_eq!(back, recorded);
    let Input::Response {
        request,
        response,
        now,
    } = back.to_input().expect("converts")
    else {
        panic!("a response")
    };
    assert_eq!((request, now), (RequestId(3), Instant::from_millis(1500)));
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["x-binary"].as_bytes(), b"\xfe\xff");
    assert_eq!(response.body().as_ref(), b"\xff\x00\x01 not utf-8");
}

// ---------------------------------------------------------------------------------
// (e) Resume after a restart.

fn jobs_spec() -> JobSpec {
    JobSpec::poll(
        Profile::jobs(),
        url("https://api.example.com/api/v1/jobs/job-1"),
    )
    .with_job_id("job-1")
}

fn jobs_config() -> Config {
    Config {
        poll: Schedule::fixed(Duration::from_secs(10)),
        deadline: Some(Duration::from_secs(600)),
        request_time_limit: Duration::from_secs(30),
        ..Config::standard()
    }
}

fn running() -> http::Response<Bytes> {
    http::Response::new(Bytes::from_static(
        br#"{"job_id":"job-1","status":"processing"}"#,
    ))
}

/// A job at clock 1000 s: one poll answered "running", the second in flight.
/// Returns the job and the in-flight request.
fn job_with_a_request_in_flight() -> (Job, Transmit) {
    let start = Instant::from_secs(1_000);
    let mut job = Job::new(jobs_spec(), jobs_config(), start).expect("valid job");
    let Some(Output::Transmit(first)) = drain(&mut job).into_iter().next() else {
        panic!("the first poll goes out at once")
    };
    job.handle_input(Input::Response {
        request: first.id,
        response: running(),
        now: Instant::from_secs(1_001),
    })
    .expect("answer");
    let wake = drain(&mut job);
    assert_eq!(
        wake.last(),
        Some(&Output::WakeAt(Instant::from_secs(1_011)))
    );
    job.handle_input(Input::Tick {
        now: Instant::from_secs(1_011),
    })
    .expect("tick");
    let outputs = drain(&mut job);
    let Some(Output::Transmit(second)) = outputs.first().cloned() else {
        panic!("the second poll goes out at 1011 s: {outputs:?}")
    };
    (job, second)
}

#[test]
fn resume_after_a_restart_resends_the_lost_request_and_counts_the_downtime() {
    let (job, lost) = job_with_a_request_in_flight();

    // Save, as a process would before dying; the new process has a new clock.
    let json = serde_json::to_string(&job.snapshot()).expect("serializes");
    drop(job);
    let snapshot: Snapshot = serde_json::from_str(&json).expect("reads back");
    assert_eq!(snapshot.taken_at, Instant::from_secs(1_011));
    let downtime = Duration::from_secs(120);
    let new_start = Instant::from_secs(5);
    let mut job = Job::resume(snapshot, new_start, downtime).expect("resumes");

    // The lost request is sent again at once, with a new id.
    let outputs = drain(&mut job);
    let Some(Output::Transmit(again)) = outputs.first().cloned() else {
        panic!("the lost request is sent again at once: {outputs:?}")
    };
    assert_eq!(again.purpose, Purpose::Status);
    assert_eq!(again.url, lost.url);
    assert_eq!(again.method, lost.method);
    assert_ne!(again.id, lost.id);
    // Its time limit is measured on the new clock.
    assert_eq!(
        outputs.last(),
        Some(&Output::WakeAt(new_start + Duration::from_secs(30)))
    );

    // An answer to the lost request (from a confused driver) is refused.
    assert_eq!(
        job.handle_input(Input::Response {
            request: lost.id,
            response: running(),
            now: new_start,
        }),
        Err(InputError::UnknownRequest(lost.id))
    );

    // The job completes; elapsed covers the time before the restart (11 s), the
    // downtime (120 s) and the time since (1 s).
    job.handle_input(Input::Response {
        request: again.id,
        response: http::Response::new(Bytes::from_static(
            br#"{"job_id":"job-1","status":"completed","result_data":{"url":"x"}}"#,
        )),
        now: new_start + Duration::from_secs(1),
    })
    .expect("answer");
    let outputs = drain(&mut job);
    let Some(Output::Finished(outcome)) = outputs.iter().rev().nth(1).cloned() else {
        panic!("finished: {outputs:?}")
    };
    assert!(outcome.is_success(), "{outcome}");
    let stats = outcome.stats();
    assert_eq!(stats.elapsed, Duration::from_secs(11 + 120 + 1));
    // Three status polls went out: the first, the lost one, and its repeat.
    assert_eq!((stats.attempts, stats.requests), (3, 3));
    assert_eq!(outputs.last(), Some(&Output::Done));
}

#[test]
fn downtime_counts_against_the_deadline() {
    let (job, _) = job_with_a_request_in_flight();
    let snapshot = job.snapshot();
    // 11 s before the restart + 600 s of downtime: the 10-minute deadline passed
    // while the process was down. No request goes out; the outcome says so.
    let mut job = Job::resume(snapshot, Instant::ZERO, Duration::from_secs(600)).expect("resumes");
    let outputs = drain(&mut job);
    assert!(
        !outputs.iter().any(|o| matches!(o, Output::Transmit(_))),
        "{outputs:?}"
    );
    let Some(Output::Finished(outcome @ Outcome::TimedOut { .. })) = outputs
        .iter()
        .find(|o| matches!(o, Output::Finished(_)))
        .cloned()
    else {
        panic!("timed out: {outputs:?}")
    };
    assert_eq!(outcome.stats().elapsed, Duration::from_secs(611));
    assert_eq!(outputs.last(), Some(&Output::Done));
}

#[test]
fn restore_on_the_same_clock_is_exact_and_refuses_other_formats() {
    let (mut job, in_flight) = job_with_a_request_in_flight();
    let snapshot = job.snapshot();
    let json = serde_json::to_string(&snapshot).expect("serializes");
    let mut restored =
        Job::restore(serde_json::from_str(&json).expect("reads back")).expect("restores");
    assert_eq!(restored, job);
    // The request in flight stays in flight: its answer is accepted by both.
    for job in [&mut job, &mut restored] {
        job.handle_input(Input::Response {
            request: in_flight.id,
            response: running(),
            now: Instant::from_secs(1_012),
        })
        .expect("the request is still in flight");
    }
    assert_eq!(drain(&mut restored), drain(&mut job));

    // Another format version is refused with a typed error.
    let mut value: Value = serde_json::from_str(&json).expect("JSON");
    value["format"] = Value::from(Snapshot::<Profile>::FORMAT + 1);
    let other: Snapshot = serde_json::from_value(value).expect("still a snapshot");
    assert!(matches!(
        Job::restore(other),
        Err(jobpoll_core::job::RestoreError::Format { .. })
    ));
}
