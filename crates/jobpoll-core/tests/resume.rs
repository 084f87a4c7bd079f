//! Resuming a job after a restart never creates a second job: a request that was in
//! flight when the snapshot was taken is sent again only when repeating it is safe,
//! by the same rule as after a broken connection; a submit that is not safe to
//! repeat ends the job as uncertain.

mod support;

use std::time::Duration;

use bytes::Bytes;
use jobpoll_core::{
    Config, Input, Instant, Job, JobSpec, Outcome, Output, PollError, Profile, Purpose, Snapshot,
    Transmit, TransportError,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use support::drain;

const CREATED: &str = r#"{"job_id":"j-1","status":"queued"}"#;
const RUNNING: &str = r#"{"job_id":"j-1","status":"processing"}"#;

fn submit_spec() -> JobSpec {
    JobSpec::submit(
        Profile::jobs(),
        "https://api.example.com/api/v1/video-job"
            .parse()
            .expect("valid URL"),
        Some(r#"{"prompt":"a cat"}"#.to_owned()),
    )
}

fn response(status: u16, body: &str) -> http::Response<Bytes> {
    http::Response::builder()
        .status(status)
        .body(Bytes::from(body.to_owned()))
        .expect("valid response")
}

fn transmits(outputs: &[Output]) -> Vec<&Transmit> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Transmit(t) => Some(t),
            _ => None,
        })
        .collect()
}

fn outcome(outputs: &[Output]) -> Option<&Outcome> {
    outputs.iter().find_map(|o| match o {
        Output::Finished(outcome) => Some(outcome),
        _ => None,
    })
}

/// Through JSON and back, then resumed on a new clock after two minutes.
fn resume(job: &Job) -> Job {
    let json = serde_json::to_string(&job.snapshot()).expect("serializes");
    let snapshot: Snapshot = serde_json::from_str(&json).expect("reads back");
    Job::resume(snapshot, Instant::from_secs(5), Duration::from_secs(120)).expect("resumes")
}

fn is_uncertain_because(outcome: &Outcome, cause: &TransportError) -> bool {
    matches!(
        outcome,
        Outcome::GaveUp { last_error: PollError::SubmitUncertain { cause: c }, .. }
            if **c == PollError::Transport(cause.clone())
    )
}

#[test]
fn a_post_without_a_key_in_flight_resumes_as_uncertain_and_is_never_sent_again() {
    let mut job = Job::new(submit_spec(), Config::fast(), Instant::ZERO).expect("valid");
    let sent = drain(&mut job);
    assert_eq!(transmits(&sent)[0].purpose, Purpose::Submit);

    let mut resumed = resume(&job);
    let outputs = drain(&mut resumed);
    assert!(transmits(&outputs).is_empty(), "{outputs:?}");
    let ended = outcome(&outputs).expect("the job ends at once");
    assert!(
        is_uncertain_because(ended, &TransportError::Interrupted),
        "{ended}"
    );
    assert_eq!(outputs.last(), Some(&Output::Done));

    // The same as when the connection breaks with the request in flight.
    let id = transmits(&sent)[0].id;
    job.handle_input(Input::TransportError {
        request: id,
        error: TransportError::Reset("reset".into()),
        now: Instant::from_secs(1),
    })
    .expect("in flight");
    let broken = drain(&mut job);
    assert!(transmits(&broken).is_empty());
    assert!(is_uncertain_because(
        outcome(&broken).expect("ends"),
        &TransportError::Reset("reset".into())
    ));
}

#[test]
fn a_post_still_waiting_in_the_snapshots_outputs_is_not_sent_after_a_resume() {
    // Saved before the driver took the request: the old process may still have
    // sent it after the snapshot, so the resumed job cannot send it again.
    let job = Job::new(submit_spec(), Config::fast(), Instant::ZERO).expect("valid");
    let mut resumed = resume(&job);
    let outputs = drain(&mut resumed);
    assert!(transmits(&outputs).is_empty(), "{outputs:?}");
    assert!(is_uncertain_because(
        outcome(&outputs).expect("ends"),
        &TransportError::Interrupted
    ));
}

#[test]
fn a_post_with_an_idempotency_key_in_flight_is_sent_again_with_the_same_key() {
    let spec = submit_spec().with_header("Idempotency-Key", "create-7");
    let mut job = Job::new(spec, Config::fast(), Instant::ZERO).expect("valid");
    let first = transmits(&drain(&mut job))[0].clone();

    let mut resumed = resume(&job);
    let outputs = drain(&mut resumed);
    let again = transmits(&outputs);
    assert_eq!(again.len(), 1, "{outputs:?}");
    let again = again[0].clone();
    assert_eq!(again.purpose, Purpose::Submit);
    assert_eq!(
        (&again.method, &again.url, &again.body, &again.headers),
        (&first.method, &first.url, &first.body, &first.headers)
    );
    assert!(
        again
            .headers
            .contains(&("Idempotency-Key".to_owned(), "create-7".to_owned()))
    );
    // The job goes on from the answer to the repeat.
    resumed
        .handle_input(Input::Response {
            request: again.id,
            response: response(200, CREATED),
            now: Instant::from_secs(6),
        })
        .expect("in flight");
    let outputs = drain(&mut resumed);
    assert!(outcome(&outputs).is_none(), "{outputs:?}");
    assert_eq!(resumed.job_id(), Some("j-1"));
}

#[test]
fn a_status_poll_in_flight_is_sent_again_at_once() {
    let spec = JobSpec::poll(
        Profile::jobs(),
        "https://api.example.com/api/v1/jobs/j-1"
            .parse()
            .expect("valid URL"),
    );
    let mut job = Job::new(spec, Config::fast(), Instant::ZERO).expect("valid");
    let first = transmits(&drain(&mut job))[0].clone();
    let mut resumed = resume(&job);
    let outputs = drain(&mut resumed);
    let Some(Output::Transmit(again)) = outputs.first() else {
        panic!("the poll goes out again at once: {outputs:?}")
    };
    assert_eq!(
        (again.purpose, &again.url),
        (Purpose::Status, &first.url),
        "{outputs:?}"
    );
}

#[test]
fn a_restored_post_that_is_never_answered_ends_uncertain_at_its_time_limit() {
    let config = Config::fast();
    let timeout = config.request_time_limit;
    let mut job = Job::new(submit_spec(), config, Instant::ZERO).expect("valid");
    let first = transmits(&drain(&mut job))[0].clone();
    // Restored on the same clock, but the driver lost the request: only the
    // request's own time limit ends the wait, and it is never sent twice.
    let json = serde_json::to_string(&job.snapshot()).expect("serializes");
    let mut restored: Job =
        Job::restore(serde_json::from_str(&json).expect("reads back")).expect("restores");
    let outputs = drain(&mut restored);
    assert_eq!(
        outputs,
        [Output::WakeAt(Instant::ZERO + timeout)],
        "nothing new goes out"
    );
    restored
        .handle_input(Input::Tick {
            now: Instant::ZERO + timeout,
        })
        .expect("tick");
    let outputs = drain(&mut restored);
    assert!(transmits(&outputs).is_empty(), "{outputs:?}");
    assert_eq!(outputs.first(), Some(&Output::Abort(first.id)));
    assert!(is_uncertain_because(
        outcome(&outputs).expect("ends"),
        &TransportError::NoResponseInTime
    ));
}

// ---------------------------------------------------------------------------------
// The property: snapshots taken anywhere in random runs.

/// What the server does with one request.
#[derive(Clone, Debug)]
enum Answer {
    Ok,
    Status(u16),
    Fail(u8),
    Hang,
}

fn answer() -> impl Strategy<Value = Answer> {
    prop_oneof![
        4 => Just(Answer::Ok),
        2 => prop::sample::select(vec![404u16, 429, 500, 503]).prop_map(Answer::Status),
        2 => (0u8..3).prop_map(Answer::Fail),
        1 => Just(Answer::Hang),
    ]
}

/// How the job creates its job.
#[derive(Clone, Copy, Debug)]
enum Create {
    /// `POST` without a key: never safe to repeat once it may have left.
    Post,
    /// `POST` with an `Idempotency-Key`.
    PostWithKey,
    /// `PUT`: idempotent by its method.
    Put,
}

fn spec(create: Create) -> JobSpec {
    let mut spec = submit_spec();
    match create {
        Create::Post => {}
        Create::PostWithKey => spec = spec.with_header("Idempotency-Key", "k-1"),
        Create::Put => {
            if let jobpoll_core::Start::Submit { method, .. } = &mut spec.start {
                *method = http::Method::PUT;
            }
        }
    }
    spec
}

fn input_for(transmit: &Transmit, answer: &Answer, now: Instant) -> Option<Input> {
    let body = match transmit.purpose {
        Purpose::Submit => CREATED,
        _ => RUNNING,
    };
    Some(match answer {
        Answer::Ok => Input::Response {
            request: transmit.id,
            response: response(200, body),
            now,
        },
        Answer::Status(status) => Input::Response {
            request: transmit.id,
            response: response(*status, "{}"),
            now,
        },
        Answer::Fail(kind) => Input::TransportError {
            request: transmit.id,
            error: match kind {
                0 => TransportError::Connect("refused".into()),
                1 => TransportError::NoResponseInTime,
                _ => TransportError::Reset("reset".into()),
            },
            now,
        },
        Answer::Hang => return None,
    })
}

/// Runs `job` from `now` for at most `steps` inputs; the answers come from
/// `answers` in turn (then success), `latency` after each request. Before the
/// `snapshot_at`-th output it calls `at_snapshot` with the job and whether a submit
/// the driver was handed is still unanswered.
fn run(
    job: &mut Job,
    mut now: Instant,
    answers: &mut impl Iterator<Item = Answer>,
    latency: Duration,
    mut at_snapshot: impl FnMut(&Job, bool) -> Result<(), TestCaseError>,
    snapshot_at: Option<usize>,
) -> Result<Vec<Transmit>, TestCaseError> {
    let mut sent = Vec::new();
    let mut pending: Option<(Transmit, Option<Input>)> = None;
    for outputs in 0..400 {
        if snapshot_at == Some(outputs) {
            let submit_unanswered = pending
                .as_ref()
                .is_some_and(|(t, _)| t.purpose == Purpose::Submit);
            at_snapshot(job, submit_unanswered)?;
        }
        match job.poll_output() {
            Output::Transmit(transmit) => {
                let answer = answers.next().unwrap_or(Answer::Ok);
                let input = input_for(&transmit, &answer, now + latency);
                sent.push(transmit.clone());
                pending = Some((transmit, input));
            }
            Output::Abort(id) => {
                if pending.as_ref().is_some_and(|(t, _)| t.id == id) {
                    pending = None;
                }
            }
            Output::Event(_) | Output::Finished(_) => {}
            Output::Done => return Ok(sent),
            Output::WakeAt(at) => {
                let answer_at = pending
                    .as_ref()
                    .and_then(|(_, input)| input.as_ref())
                    .map(Input::now);
                match answer_at {
                    Some(t) if t <= at => {
                        now = now.max(t);
                        let (_, input) = pending.take().expect("checked");
                        job.handle_input(input.expect("checked"))
                            .map_err(|e| TestCaseError::fail(format!("refused: {e}")))?;
                    }
                    _ => {
                        now = now.max(at);
                        job.handle_input(Input::Tick { now })
                            .map_err(|e| TestCaseError::fail(format!("refused: {e}")))?;
                    }
                }
            }
        }
    }
    Ok(sent)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// For a snapshot taken at any point of a random run, the resumed job never
    /// sends again a submit that is not safe to repeat and whose fate was unknown
    /// when the snapshot was taken (handed to the driver and not answered, or
    /// still waiting in the outputs); a submit that is safe to repeat is sent again
    /// at once.
    #[test]
    fn resume_never_repeats_a_submit_that_is_not_safe_to_repeat(
        create in prop_oneof![Just(Create::Post), Just(Create::PostWithKey), Just(Create::Put)],
        answers in prop::collection::vec(answer(), 0..12),
        latency_ms in 1u64..3_000,
        snapshot_at in prop_oneof![3 => 0usize..8, 1 => 0usize..40],
        downtime_s in 0u64..400,
        later in prop::collection::vec(answer(), 0..8),
    ) {
        let mut job = Job::new(spec(create), Config::fast(), Instant::ZERO).expect("valid");
        let latency = Duration::from_millis(latency_ms);
        let mut snapshot: Option<(Snapshot, bool, bool)> = None;
        run(
            &mut job,
            Instant::ZERO,
            &mut answers.into_iter(),
            latency,
            |job, submit_unanswered| {
                // What waits in the outputs, not yet handed over: a submit, or the
                // abort of the one the driver has (the job already gave up on it).
                let mut peek = job.clone();
                let waiting: Vec<Output> = std::iter::from_fn(|| Some(peek.poll_output()))
                    .take_while(|o| !matches!(o, Output::WakeAt(_) | Output::Done))
                    .collect();
                let queued = waiting
                    .iter()
                    .any(|o| matches!(o, Output::Transmit(t) if t.purpose == Purpose::Submit));
                let aborted = waiting.iter().any(|o| matches!(o, Output::Abort(_)));
                let submit_unanswered = submit_unanswered && !aborted;
                let json = serde_json::to_string(&job.snapshot())
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                let read: Snapshot = serde_json::from_str(&json)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                snapshot = Some((read, submit_unanswered, queued));
                Ok(())
            },
            Some(snapshot_at),
        )?;
        let Some((snapshot, submit_unanswered, queued)) = snapshot else {
            return Ok(());
        };
        let finished = snapshot.taken_at;
        let restart = Instant::from_secs(3);
        let mut resumed = Job::resume(snapshot, restart, Duration::from_secs(downtime_s))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let first = resumed.clone().poll_output();
        let sent = run(&mut resumed, restart, &mut later.into_iter(), latency, |_, _| Ok(()), None)?;
        let submits = sent.iter().filter(|t| t.purpose == Purpose::Submit).count();
        let unknown_fate = submit_unanswered || queued;
        match create {
            Create::Post if unknown_fate => {
                prop_assert_eq!(submits, 0, "a POST whose fate was unknown at {} was sent again", finished);
                prop_assert!(sent.is_empty(), "nothing goes out: {:?}", sent);
                prop_assert!(
                    matches!(
                        &first,
                        Output::Finished(outcome) if is_uncertain_because(outcome, &TransportError::Interrupted)
                    ),
                    "the job ends as uncertain at once: {:?}",
                    first
                );
            }
            Create::PostWithKey | Create::Put if unknown_fate => {
                // Sent again, unless the deadline passed while the process was down.
                let age = Duration::from_micros(finished.as_micros()) + Duration::from_secs(downtime_s);
                if age < Duration::from_secs(300) {
                    prop_assert!(
                        matches!(&first, Output::Transmit(t) if t.purpose == Purpose::Submit),
                        "the submit goes out again at once: {:?}",
                        first
                    );
                }
            }
            _ => {}
        }
    }
}
