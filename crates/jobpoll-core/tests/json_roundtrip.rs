//! Every value a job holds or says survives JSON exactly: a float read from a
//! response (a progress percentage, an ETA, a number inside a result) is written to
//! a trace line or a snapshot and read back as the very same `f64`, so a trace
//! replays bit for bit and a restored job computes what the original computes.
//!
//! The fixed cases use a value serde_json's fast float parser reads back as its
//! neighbour (`91.03363451581349`, the shortest form of `91.033634515813485`); the
//! properties run random jobs whose bodies carry random floats, written as JSON
//! numbers of every length and as strings, and check at random points that a
//! snapshot and, at the end, the trace survive JSON: serialize → parse → serialize
//! gives the same text, and the restored job or the replayed trace says exactly
//! what the original said for the same later inputs.

mod support;

use std::time::Duration;

use bytes::Bytes;
use jobpoll_core::schedule::Adaptive;
use jobpoll_core::trace::{self, Record, RecordingJob, Redactor};
use jobpoll_core::{
    Config, Event, Input, Instant, Job, JobSpec, Output, Profile, Schedule, Snapshot, Transmit,
    TransportError,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use support::{drain, next_input, read_trace, replay_trace};

/// A percentage whose shortest decimal form serde_json's fast parser reads back
/// one step off (as `…47`), so a trace or snapshot that holds it only replays if
/// floats are read correctly rounded.
const HARD: &str = "91.033634515813485";
/// The shortest form of [`HARD`], as a writer of JSON puts it.
const HARD_SHORTEST: &str = "91.03363451581349";

fn jobs_spec() -> JobSpec {
    JobSpec::poll(
        Profile::jobs(),
        "https://api.example.com/api/v1/jobs/job-1"
            .parse()
            .expect("valid URL"),
    )
    .with_job_id("job-1")
}

fn config() -> Config {
    Config {
        seed: 7,
        ..Config::fast()
    }
}

fn response(status: u16, body: &str) -> http::Response<Bytes> {
    http::Response::builder()
        .status(status)
        .body(Bytes::from(body.to_owned()))
        .expect("valid response")
}

fn running(percentage: &str) -> String {
    format!(
        r#"{{"job_id":"job-1","status":"processing","progress_data":{{"percentage":{percentage},"current_step":"render"}}}}"#
    )
}

fn transmit(outputs: &[Output]) -> &Transmit {
    outputs
        .iter()
        .find_map(|o| match o {
            Output::Transmit(t) => Some(t),
            _ => None,
        })
        .expect("a request went out")
}

fn wake(outputs: &[Output]) -> Instant {
    match outputs.last() {
        Some(Output::WakeAt(at)) => *at,
        other => panic!("expected a wake-up, got {other:?}"),
    }
}

/// Answers the request in `outputs` with `body` 100 ms later, then waits for the
/// next request; returns the outputs after the answer.
fn answer(
    job: &mut RecordingJob,
    outputs: &[Output],
    now: &mut Instant,
    body: &str,
) -> Vec<Output> {
    let id = transmit(outputs).id;
    *now = *now + Duration::from_millis(100);
    job.handle_input(Input::Response {
        request: id,
        response: response(200, body),
        now: *now,
    })
    .expect("the answer is for the request in flight");
    let after = drain(job);
    if !after.iter().any(|o| matches!(o, Output::Transmit(_)))
        && after.last() != Some(&Output::Done)
    {
        *now = wake(&after);
        job.handle_input(Input::Tick { now: *now }).expect("a tick");
        let mut more = after;
        more.extend(drain(job));
        return more;
    }
    after
}

#[test]
fn a_progress_value_json_reads_as_its_neighbour_replays_exactly() {
    let mut job = RecordingJob::new(jobs_spec(), config(), Instant::ZERO, Redactor::none())
        .expect("valid job");
    let mut now = Instant::ZERO;
    let first = drain(&mut job);
    let second = answer(&mut job, &first, &mut now, &running(HARD));
    let percentage = second.iter().find_map(|o| match o {
        Output::Event(Event::Progress(p)) => p.percentage,
        _ => None,
    });
    assert_eq!(percentage, Some(HARD.parse::<f64>().expect("a float")));
    let third = answer(
        &mut job,
        &second,
        &mut now,
        r#"{"status":"completed","result_data":{"score":0.30000000000000004}}"#,
    );
    assert_eq!(third.last(), Some(&Output::Done));

    let text = trace::to_json_lines(job.records());
    assert!(text.contains(HARD_SHORTEST), "{text}");
    let back: Vec<Record> = trace::from_json_lines(&text).expect("the trace reads back");
    assert_eq!(trace::to_json_lines(&back), text, "the trace text changed");
    let report = trace::replay(&back, &Redactor::none())
        .expect("a usable trace")
        .unwrap_or_else(|divergence| panic!("{divergence}"));
    assert_eq!(report.inputs, 3);
}

#[test]
fn a_percentage_reads_the_same_as_a_json_number_and_as_a_string_by_both_reads() {
    for text in [
        HARD,
        HARD_SHORTEST,
        "0.1",
        "99.99999999999999",
        "33.333333333333336",
    ] {
        let expected = text.parse::<f64>().expect("a float");
        for literal in [text.to_owned(), format!("\"{text}\"")] {
            let report = jobpoll_core::Interpret::read_status(
                &Profile::jobs(),
                &response(200, &running(&literal)),
            )
            .expect("a readable status");
            assert_eq!(
                report.percentage.map(f64::to_bits),
                Some(expected.to_bits()),
                "{literal}"
            );
            // The sparse read and the tree read read the same bits.
            let tree = Profile::jobs()
                .read_status_by_tree(&response(200, &running(&literal)))
                .expect("a readable status");
            assert_eq!(
                tree.percentage.map(f64::to_bits),
                Some(expected.to_bits()),
                "{literal}"
            );
        }
    }
}

#[test]
fn a_restored_job_computes_the_same_slope_eta() {
    // Two samples a few units in the last place apart: the progress slope, and so
    // the ETA, depends on every bit of the first one.
    let later = f64::from_bits(HARD.parse::<f64>().expect("a float").to_bits() + 70_000);
    let mut job = RecordingJob::new(jobs_spec(), config(), Instant::ZERO, Redactor::none())
        .expect("valid job");
    let mut now = Instant::ZERO;
    let first = drain(&mut job);
    let second = answer(&mut job, &first, &mut now, &running(HARD));

    let json = serde_json::to_string(&job.job().snapshot()).expect("a snapshot serializes");
    let snapshot: Snapshot = serde_json::from_str(&json).expect("a snapshot reads back");
    assert_eq!(
        serde_json::to_string(&snapshot).expect("serializes"),
        json,
        "the snapshot text changed"
    );
    let mut restored = Job::restore(snapshot).expect("restores");
    assert_eq!(&restored, job.job(), "the restored job differs");

    let id = transmit(&second).id;
    now = now + Duration::from_millis(100);
    let input = Input::Response {
        request: id,
        response: response(200, &running(&format!("{later:?}"))),
        now,
    };
    restored.handle_input(input.clone()).expect("accepted");
    job.handle_input(input).expect("accepted");
    let original = drain(&mut job);
    let eta = original.iter().find_map(|o| match o {
        Output::Event(Event::Progress(p)) => p.eta,
        _ => None,
    });
    assert!(eta.is_some(), "a slope ETA: {original:?}");
    for expected in original {
        assert_eq!(restored.poll_output(), expected);
    }
}

#[test]
fn non_finite_numbers_are_never_written_as_null() {
    // JSON has no NaN or infinity (serde_json writes `null` for them, which reads
    // back as nothing or not at all): the job keeps none. A NaN percentage is no
    // percentage, an infinite one is clamped to 0..=100, and an infinite ETA
    // saturates at the largest whole number of microseconds.
    let cases = [
        (r#""NaN""#, r#""inf""#, None, Some(u64::MAX)),
        (r#""inf""#, r#""-inf""#, Some(100.0), None),
        (r#""-Infinity""#, r#""1e400""#, Some(0.0), Some(u64::MAX)),
        (r#""1e400""#, "1e300", Some(100.0), Some(u64::MAX)),
    ];
    for (percentage, eta, expected_percentage, expected_eta) in cases {
        let body = format!(
            r#"{{"status":"processing","progress_data":{{"percentage":{percentage},"estimated_time_remaining":{eta}}}}}"#
        );
        let report = jobpoll_core::Interpret::read_status(&Profile::jobs(), &response(200, &body))
            .expect("a readable status");
        assert_eq!(report.percentage, expected_percentage, "{body}");
        assert_eq!(
            report
                .eta
                .map(|eta| u64::try_from(eta.as_micros()).unwrap_or(u64::MAX)),
            expected_eta,
            "{body}"
        );
        let json = serde_json::to_string(&report).expect("serializes");
        assert_eq!(
            serde_json::from_str::<jobpoll_core::profile::StatusReport>(&json).expect("reads back"),
            report,
            "{json}"
        );
    }
}

// ---------------------------------------------------------------------------------
// Random runs.

/// The API shapes whose bodies carry numbers the job reads or keeps.
#[derive(Clone, Copy, Debug)]
enum Api {
    Jobs,
    Google,
    Azure,
    Turn,
}

/// A number as it appears in a body.
#[derive(Clone, Debug)]
enum Number {
    /// A JSON number literal.
    Literal(String),
    /// A JSON string holding a number (or not quite).
    Text(String),
}

impl Number {
    fn json(&self) -> String {
        match self {
            Number::Literal(text) => text.clone(),
            Number::Text(text) => format!("\"{text}\""),
        }
    }
}

#[derive(Clone, Debug)]
enum Step {
    /// 200, still running, with these numbers.
    Running {
        percentage: Option<Number>,
        eta: Option<Number>,
        extra: Number,
        blocks: u8,
    },
    /// 503 with a body.
    Unavailable,
    /// A transport error.
    Fail,
}

#[derive(Clone, Debug)]
struct Script {
    api: Api,
    config: Config,
    steps: Vec<Step>,
    /// Latency of each answer in milliseconds (cycled).
    latency_ms: Vec<u64>,
    /// Numbers in the final result.
    result: Vec<Number>,
    /// Steps after which the job is saved and restored (and run in lockstep).
    snapshots: Vec<usize>,
}

/// Digits with a point somewhere: up to 22 significant digits, which is where a
/// parser that is not correctly rounded goes wrong.
fn decimal() -> impl Strategy<Value = String> {
    (0u32..3, "[0-9]{1,22}", 0usize..24, any::<bool>()).prop_map(
        |(int_digits, digits, point, negative)| {
            let (int, frac) = digits.split_at(point.min(int_digits as usize).min(digits.len()));
            let int = if int.is_empty() {
                "0"
            } else {
                int.trim_start_matches('0')
            };
            let int = if int.is_empty() { "0" } else { int };
            let sign = if negative && frac.len() % 3 == 0 {
                "-"
            } else {
                ""
            };
            if frac.is_empty() {
                format!("{sign}{int}")
            } else {
                format!("{sign}{int}.{frac}")
            }
        },
    )
}

fn number() -> impl Strategy<Value = Number> {
    prop_oneof![
        // Any percentage, in the shortest form a JSON writer gives it.
        4 => (0.0f64..=100.0).prop_map(|f| Number::Literal(format!("{f:?}"))),
        // Any finite float at all, exponents included.
        2 => any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| Number::Literal(serde_json::to_string(&f).expect("finite"))),
        4 => decimal().prop_map(Number::Literal),
        2 => decimal().prop_map(Number::Text),
        1 => prop::sample::select(vec![
            "NaN", "inf", "-inf", "Infinity", "1e400", "-0", "-0.0", "1e-400", " 42.5 ", "4.9e-324",
        ])
        .prop_map(|s| Number::Text(s.to_owned())),
        1 => prop::sample::select(vec![
            "-0", "-0.0", "1e308", "1.7976931348623157e308", "5e-324", "91.033634515813485",
            "91.03363451581349", "1E2", "0.1e1",
        ])
        .prop_map(|s| Number::Literal(s.to_owned())),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (
            prop::option::of(number()),
            prop::option::of(number()),
            number(),
            0u8..5
        )
            .prop_map(|(percentage, eta, extra, blocks)| Step::Running {
                percentage,
                eta,
                extra,
                blocks
            }),
        1 => Just(Step::Unavailable),
        1 => Just(Step::Fail),
    ]
}

fn script() -> impl Strategy<Value = Script> {
    (
        prop::sample::select(vec![Api::Jobs, Api::Google, Api::Azure, Api::Turn]),
        0usize..=Config::PRESET_NAMES.len(),
        any::<u64>(),
        prop::collection::vec(step(), 0..12),
        prop::collection::vec(0u64..4_000, 1..4),
        prop::collection::vec(number(), 0..3),
        prop::collection::vec(0usize..30, 0..4),
    )
        .prop_map(
            |(api, preset, seed, steps, latency_ms, result, snapshots)| {
                let mut config = match Config::PRESET_NAMES.get(preset) {
                    Some(name) => Config::preset(name).expect("a preset"),
                    // The adaptive schedule turns the server's ETA and the progress
                    // slope into delays.
                    None => Config {
                        poll: Schedule::adaptive(Adaptive::standard()),
                        ..Config::fast()
                    },
                };
                config.seed = seed;
                Script {
                    api,
                    config,
                    steps,
                    latency_ms,
                    result,
                    snapshots,
                }
            },
        )
}

impl Api {
    fn spec(self) -> JobSpec {
        let (profile, url, id) = match self {
            Api::Jobs => (Profile::jobs(), "/api/v1/jobs/job-1", Some("job-1")),
            Api::Google => (
                Profile::google_operation(),
                "/v1/operations/op-1",
                Some("operations/op-1"),
            ),
            Api::Azure => (Profile::azure_operation(), "/operations/op-1", None),
            Api::Turn => (
                Profile::turn(),
                "/api/projects/p1/sessions/s1/turns/t1",
                None,
            ),
        };
        let url = format!("https://api.example.com{url}")
            .parse()
            .expect("valid URL");
        let spec = JobSpec::poll(profile, url);
        match id {
            Some(id) => spec.with_job_id(id),
            None => spec,
        }
    }

    fn running(self, step: &Step) -> String {
        let Step::Running {
            percentage,
            eta,
            extra,
            blocks,
        } = step
        else {
            return r#"{"error":"busy"}"#.to_owned();
        };
        let json = |n: &Option<Number>| n.as_ref().map_or("null".to_owned(), Number::json);
        let (percentage, eta, extra) = (json(percentage), json(eta), extra.json());
        match self {
            Api::Jobs => format!(
                r#"{{"job_id":"job-1","status":"processing","progress_data":{{"percentage":{percentage},"current_step":"s","estimated_time_remaining":{eta}}},"load":{extra}}}"#
            ),
            Api::Google => format!(
                r#"{{"name":"operations/op-1","done":false,"metadata":{{"progressPercent":{percentage},"load":{extra}}}}}"#
            ),
            Api::Azure => format!(
                r#"{{"status":"InProgress","percentComplete":{percentage},"load":{extra}}}"#
            ),
            Api::Turn => {
                let blocks: Vec<String> = (0..*blocks)
                    .map(|i| format!(r#"{{"i":{i},"score":{extra},"p":{percentage}}}"#))
                    .collect();
                format!(r#"{{"status":"running","blocks":[{}]}}"#, blocks.join(","))
            }
        }
    }

    fn succeeded(self, result: &[Number]) -> String {
        let numbers: Vec<String> = result.iter().map(Number::json).collect();
        let numbers = numbers.join(",");
        match self {
            Api::Jobs => format!(
                r#"{{"job_id":"job-1","status":"completed","result_data":{{"scores":[{numbers}]}}}}"#
            ),
            Api::Google => format!(
                r#"{{"name":"operations/op-1","done":true,"response":{{"scores":[{numbers}]}}}}"#
            ),
            Api::Azure => format!(r#"{{"status":"Succeeded","properties":[{numbers}]}}"#),
            Api::Turn => format!(r#"{{"status":"completed","blocks":[{{"scores":[{numbers}]}}]}}"#),
        }
    }
}

/// `job` saved, written as JSON, read back and restored; the text must not change
/// on a second write.
fn through_json(job: &Job) -> Result<Job, TestCaseError> {
    let json = serde_json::to_string(&job.snapshot())
        .map_err(|e| TestCaseError::fail(format!("snapshot: {e}")))?;
    let snapshot: Snapshot = serde_json::from_str(&json)
        .map_err(|e| TestCaseError::fail(format!("snapshot back: {e}\n{json}")))?;
    let again = serde_json::to_string(&snapshot)
        .map_err(|e| TestCaseError::fail(format!("snapshot again: {e}")))?;
    prop_assert_eq!(&again, &json, "the snapshot text changed on a round trip");
    let restored =
        Job::restore(snapshot).map_err(|e| TestCaseError::fail(format!("restore: {e}")))?;
    let restored_json = serde_json::to_string(&restored.snapshot())
        .map_err(|e| TestCaseError::fail(format!("snapshot of the restored job: {e}")))?;
    prop_assert_eq!(&restored_json, &json, "the restored job saves differently");
    Ok(restored)
}

/// An output as JSON text: equal texts mean equal bits (`-0.0` included).
fn text(output: &Output) -> String {
    serde_json::to_string(output).unwrap_or_else(|e| e.to_string())
}

fn run(script: &Script) -> Result<(), TestCaseError> {
    let mut job = RecordingJob::new(
        script.api.spec(),
        script.config.clone(),
        Instant::from_secs(5),
        Redactor::none(),
    )
    .map_err(|e| TestCaseError::fail(format!("a valid job was refused: {e}")))?;
    let mut twins: Vec<Job> = Vec::new();
    let mut steps = script.steps.iter();
    let mut latencies = script.latency_ms.iter().cycle();
    let mut now = Instant::from_secs(5);
    let mut pending: Option<(Instant, Input)> = None;
    let mut done = false;
    for step in 0..200 {
        if script.snapshots.contains(&step) {
            twins.push(through_json(job.job())?);
        }
        loop {
            let output = job.poll_output();
            for twin in &mut twins {
                prop_assert_eq!(
                    text(&twin.poll_output()),
                    text(&output),
                    "a restored job diverged"
                );
            }
            match &output {
                Output::Transmit(t) => {
                    let at = now + Duration::from_millis(*latencies.next().unwrap_or(&0));
                    let input = match steps.next() {
                        Some(Step::Fail) => Input::TransportError {
                            request: t.id,
                            error: TransportError::Reset("reset".into()),
                            now: at,
                        },
                        Some(Step::Unavailable) => Input::Response {
                            request: t.id,
                            response: response(503, &script.api.running(&Step::Unavailable)),
                            now: at,
                        },
                        Some(running) => Input::Response {
                            request: t.id,
                            response: response(200, &script.api.running(running)),
                            now: at,
                        },
                        None => Input::Response {
                            request: t.id,
                            response: response(200, &script.api.succeeded(&script.result)),
                            now: at,
                        },
                    };
                    pending = Some((at, input));
                }
                Output::Abort(_) => pending = None,
                Output::Done => done = true,
                _ => {}
            }
            if let Output::WakeAt(_) | Output::Done = output {
                if let Output::WakeAt(at) = output {
                    let input = next_input(&mut pending, &mut now, at);
                    for twin in &mut twins {
                        prop_assert_eq!(twin.handle_input(input.clone()), Ok(()));
                    }
                    prop_assert_eq!(job.handle_input(input), Ok(()));
                }
                break;
            }
        }
        if done {
            break;
        }
    }
    prop_assert!(done, "the job did not finish");

    let text = trace::to_json_lines(job.records());
    let back = read_trace(&text)?;
    prop_assert_eq!(
        &trace::to_json_lines(&back),
        &text,
        "the trace text changed on a round trip"
    );
    replay_trace(&back, &Redactor::none(), &text)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Snapshots at random points and the whole trace survive JSON exactly, and
    /// the restored jobs and the replay say what the original said.
    #[test]
    fn snapshots_and_traces_survive_json_exactly(script in script()) {
        run(&script)?;
    }

    /// Any finite float, written in its shortest form, reads back as the same bits,
    /// and digits with any number of places read as Rust's own (correctly rounded)
    /// parser reads them.
    #[test]
    fn floats_read_back_as_the_same_bits(bits in any::<u64>(), digits in decimal()) {
        let value = f64::from_bits(bits);
        if value.is_finite() {
            let written = serde_json::to_string(&value).expect("finite");
            let back: f64 = serde_json::from_str(&written).expect("reads back");
            prop_assert_eq!(back.to_bits(), value.to_bits(), "{}", written);
        }
        let read: f64 = serde_json::from_str(&digits).expect("a JSON number");
        let exact: f64 = digits.parse().expect("a float");
        prop_assert_eq!(read.to_bits(), exact.to_bits(), "{}", digits);
    }
}
