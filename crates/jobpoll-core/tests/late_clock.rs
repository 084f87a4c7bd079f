//! A job behaves the same wherever on the driver's clock it starts or resumes: its
//! outputs are those of a job started at zero, shifted, over the whole range of
//! `Instant` (a wake-up past the end of the clock is `Instant::MAX`, "never").

mod support;

use std::time::Duration;

use bytes::Bytes;
use jobpoll_core::schedule::Adaptive;
use jobpoll_core::{
    Config, Input, Instant, Job, JobSpec, Output, Profile, Schedule, Snapshot, TransportError,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use support::drain;

fn spec() -> JobSpec {
    JobSpec::poll(
        Profile::jobs(),
        "https://api.example.com/api/v1/jobs/j-1"
            .parse()
            .expect("valid URL"),
    )
}

fn response(status: u16, headers: &[(&str, &str)], body: &str) -> http::Response<Bytes> {
    let mut builder = http::Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder
        .body(Bytes::from(body.to_owned()))
        .expect("valid response")
}

fn running() -> http::Response<Bytes> {
    response(200, &[], r#"{"status":"processing"}"#)
}

/// Lets the first poll of `job` go out at once and answers it "running" at `now`.
fn first_poll_answered_running(job: &mut Job, now: Instant) {
    let outputs = drain(job);
    let Some(Output::Transmit(poll)) = outputs.first() else {
        panic!("the first poll goes out at once at {now:?}: {outputs:?}")
    };
    job.handle_input(Input::Response {
        request: poll.id,
        response: running(),
        now,
    })
    .expect("in flight");
}

#[test]
fn a_job_started_late_on_the_clock_polls_on_its_schedule() {
    for start in [1u64 << 63, (1u64 << 63) + 1, u64::MAX - 3_600_000_000] {
        let start = Instant::from_micros(start);
        let mut job = Job::new(spec(), Config::fast(), start).expect("valid");
        first_poll_answered_running(&mut job, start);
        let outputs = drain(&mut job);
        assert!(!job.is_finished(), "at {start:?}: {outputs:?}");
        assert_eq!(
            outputs.last(),
            Some(&Output::WakeAt(start + Duration::from_secs(2))),
            "at {start:?}"
        );
    }
}

#[test]
fn a_wake_up_past_the_end_of_the_clock_is_never() {
    let start = Instant::from_micros(u64::MAX - 1_000_000);
    let mut job = Job::new(spec(), Config::fast(), start).expect("valid");
    first_poll_answered_running(&mut job, start);
    // The next poll is due 2 s after the start, past the end of the clock.
    assert_eq!(drain(&mut job).last(), Some(&Output::WakeAt(Instant::MAX)));
    assert!(!job.is_finished());
}

#[test]
fn a_job_resumed_on_a_much_younger_clock_keeps_its_times() {
    // Down for almost 2^64 microseconds (11.5 days short), resumed on a clock that
    // reads 5 s: the job is older than its new clock by more than an `i64` holds.
    let mut job = Job::new(
        spec(),
        Config {
            deadline: None,
            ..Config::fast()
        },
        Instant::ZERO,
    )
    .expect("valid");
    first_poll_answered_running(&mut job, Instant::ZERO);
    drain(&mut job);
    let now = Instant::from_secs(5);
    let mut job = Job::resume(
        job.snapshot(),
        now,
        Duration::from_micros(u64::MAX - 1_000_000_000_000),
    )
    .expect("ok");
    let outputs = drain(&mut job);
    let Some(Output::Transmit(poll)) = outputs.first() else {
        panic!("the poll that fell due while down goes out at once: {outputs:?}")
    };
    assert_eq!(
        outputs.last(),
        Some(&Output::WakeAt(now + Duration::from_secs(10)))
    );
    job.handle_input(Input::Response {
        request: poll.id,
        response: running(),
        now,
    })
    .expect("in flight");
    // 2 s, then 3 s: the third delay of the poll schedule.
    assert_eq!(
        drain(&mut job).last(),
        Some(&Output::WakeAt(now + Duration::from_secs(3)))
    );
}

// ---------------------------------------------------------------------------------
// The property.

/// What the server does with one request.
#[derive(Clone, Debug)]
enum Answer {
    Running { percentage: u8, eta: Option<u16> },
    Completed,
    RetryAfter(u16),
    Status(u16),
    NotModified,
    Reset,
    Hang,
}

fn answer() -> impl Strategy<Value = Answer> {
    prop_oneof![
        6 => (0u8..=100, prop::option::of(0u16..5_000))
            .prop_map(|(percentage, eta)| Answer::Running { percentage, eta }),
        1 => Just(Answer::Completed),
        2 => (0u16..4_000).prop_map(Answer::RetryAfter),
        1 => prop::sample::select(vec![404u16, 500, 503]).prop_map(Answer::Status),
        1 => Just(Answer::NotModified),
        1 => Just(Answer::Reset),
        1 => Just(Answer::Hang),
    ]
}

fn config() -> impl Strategy<Value = Config> {
    let deadline = prop_oneof![
        Just(None),
        Just(Some(Duration::from_secs(300))),
        Just(Some(Duration::from_secs(3_600))),
        // Past the end of the clock for any late start.
        Just(Some(Duration::from_micros(u64::MAX / 2))),
    ];
    let poll = prop_oneof![
        Just(Config::fast().poll),
        Just(Config::standard().poll),
        Just(Schedule::adaptive(Adaptive::standard())),
    ];
    (deadline, poll, any::<u64>()).prop_map(|(deadline, poll, seed)| Config {
        poll,
        deadline,
        seed,
        ..Config::standard()
    })
}

/// A start anywhere on the clock, often near the ends and near 2^63.
fn start() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        (0u64..=10_000_000_000).prop_map(|d| u64::MAX - d),
        (0u64..=10_000_000_000).prop_map(|d| (1u64 << 63) - 5_000_000_000 + d),
        Just(u64::MAX),
    ]
}

/// One step of the reference run, started at zero.
#[derive(Clone, Debug)]
enum Step {
    Output(Output),
    Input(Input),
    /// Snapshot, then resume at this instant after this downtime.
    Resume(Instant, Duration),
}

fn input_for(answer: &Answer, request: jobpoll_core::RequestId, now: Instant) -> Option<Input> {
    let response = match answer {
        Answer::Running { percentage, eta } => {
            let eta = eta.map_or(String::new(), |eta| {
                format!(r#","estimated_time_remaining":{eta}"#)
            });
            let body = format!(
                r#"{{"status":"processing","progress_data":{{"percentage":{percentage}{eta}}}}}"#
            );
            response(200, &[("etag", &format!("\"{percentage}\""))], &body)
        }
        Answer::Completed => response(200, &[], r#"{"status":"completed"}"#),
        Answer::RetryAfter(secs) => response(429, &[("retry-after", &secs.to_string())], ""),
        Answer::Status(status) => response(*status, &[], "{}"),
        Answer::NotModified => response(304, &[], ""),
        Answer::Reset => {
            return Some(Input::TransportError {
                request,
                error: TransportError::Reset("reset".into()),
                now,
            });
        }
        Answer::Hang => return None,
    };
    Some(Input::Response {
        request,
        response,
        now,
    })
}

/// Runs a job started at zero against `answers` (each `latency` after its request),
/// resuming it once before input number `resume_at`; returns every step.
fn reference(
    config: &Config,
    answers: &[Answer],
    latency: Duration,
    resume: Option<(usize, Duration, Duration)>,
) -> Vec<Step> {
    let mut job = Job::new(spec(), config.clone(), Instant::ZERO).expect("valid");
    let mut steps = Vec::new();
    let mut answers = answers.iter();
    let mut pending: Option<Input> = None;
    let mut inputs = 0usize;
    let mut now = Instant::ZERO;
    for _ in 0..2_000 {
        if let Some((at, pause, downtime)) = resume
            && at == inputs
            && steps.last().is_some_and(|s| matches!(s, Step::Input(_)))
        {
            // Restart `pause` after the last input, on a clock that goes on.
            now = now + pause;
            steps.push(Step::Resume(now, downtime));
            job = Job::resume(job.snapshot(), now, downtime).expect("resumes");
            pending = None;
        }
        let output = job.poll_output();
        steps.push(Step::Output(output.clone()));
        match output {
            Output::Transmit(transmit) => {
                let answer = answers.next().cloned().unwrap_or(Answer::Completed);
                pending = input_for(&answer, transmit.id, now + latency);
            }
            Output::Abort(_) => pending = None,
            Output::Event(_) | Output::Finished(_) => {}
            Output::Done => return steps,
            Output::WakeAt(at) => {
                if inputs == 60 || at == Instant::MAX {
                    return steps;
                }
                let input = match pending.take() {
                    Some(input) if input.now() <= at => input,
                    other => {
                        pending = other;
                        Input::Tick { now: at }
                    }
                };
                now = input.now();
                inputs += 1;
                job.handle_input(input.clone()).expect("accepted");
                steps.push(Step::Input(input));
            }
        }
    }
    steps
}

fn shifted(instant: Instant, by: u64) -> Option<Instant> {
    instant
        .as_micros()
        .checked_add(by)
        .map(Instant::from_micros)
}

fn shift_input(input: &Input, by: u64) -> Option<Input> {
    let now = shifted(input.now(), by)?;
    Some(match input.clone() {
        Input::Response {
            request, response, ..
        } => Input::Response {
            request,
            response,
            now,
        },
        Input::TransportError { request, error, .. } => Input::TransportError {
            request,
            error,
            now,
        },
        Input::Tick { .. } => Input::Tick { now },
        Input::Cancel { .. } => Input::Cancel { now },
    })
}

/// The reference's steps replayed on a job started at `start`: every output must
/// be the reference's, with instants shifted (and held at `Instant::MAX`), until an
/// input would come after the end of the clock.
fn replay_shifted(config: &Config, steps: &[Step], start: u64) -> Result<(), TestCaseError> {
    let mut job = Job::new(spec(), config.clone(), Instant::from_micros(start)).expect("valid");
    for (i, step) in steps.iter().enumerate() {
        match step {
            Step::Output(expected) => {
                let expected = match expected {
                    Output::WakeAt(at) => {
                        Output::WakeAt(shifted(*at, start).unwrap_or(Instant::MAX))
                    }
                    other => other.clone(),
                };
                let got = job.poll_output();
                prop_assert_eq!(&got, &expected, "step {} of a job started at {}", i, start);
            }
            Step::Input(input) => {
                let Some(input) = shift_input(input, start) else {
                    return Ok(());
                };
                job.handle_input(input)
                    .map_err(|e| TestCaseError::fail(format!("step {i}: refused: {e}")))?;
            }
            Step::Resume(now, downtime) => {
                let Some(now) = shifted(*now, start) else {
                    return Ok(());
                };
                let json = serde_json::to_string(&job.snapshot())
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                let snapshot: Snapshot =
                    serde_json::from_str(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
                job = Job::resume(snapshot, now, *downtime)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// A job started (and resumed) anywhere on the clock says what a job started at
    /// zero says, shifted: the same requests, events and outcome, and its wake-ups
    /// shifted, held at `Instant::MAX` past the end of the clock.
    #[test]
    fn a_job_behaves_the_same_wherever_it_starts_on_the_clock(
        config in config(),
        answers in prop::collection::vec(answer(), 0..30),
        latency_ms in 1u64..20_000,
        start in start(),
        resume in prop::option::of((
            0usize..40,
            (0u64..100_000).prop_map(Duration::from_millis),
            prop_oneof![
                (0u64..1_000_000).prop_map(Duration::from_millis),
                // Older than an `i64` of microseconds on the new clock.
                ((1u64 << 63)..=u64::MAX).prop_map(Duration::from_micros),
            ],
        )),
    ) {
        let steps = reference(&config, &answers, Duration::from_millis(latency_ms), resume);
        replay_shifted(&config, &steps, start)?;
    }
}
