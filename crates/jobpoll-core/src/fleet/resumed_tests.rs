//! Saved jobs resumed into a fleet: they go on where they were, count the time
//! away against their deadline, never repeat a submit that is not safe to
//! repeat, and obey the fleet's limits and pauses as added jobs do.

use core::time::Duration;
use std::sync::Arc;

use bytes::Bytes;

use super::super::{Fleet, FleetConfig, FleetInput, FleetOutput, JobKey, Subscriber};
use crate::config::Config;
use crate::event::{Outcome, PollError, TransportError, WaitLimit};
use crate::job::{JobSpec, Purpose, Snapshot, Transmit};
use crate::profile::Profile;
use crate::schedule::Schedule;
use crate::time::Instant;

const RUNNING: &str = r#"{"job_id":"j-1","status":"processing"}"#;
const DONE: &str = r#"{"job_id":"j-1","status":"completed","result_data":{"url":"x"}}"#;
const CREATED: &str = r#"{"job_id":"j-1","status":"queued"}"#;

fn config(deadline: Option<Duration>) -> Arc<Config> {
    Arc::new(Config {
        poll: Schedule::Fixed {
            interval: Duration::from_secs(10),
        },
        deadline,
        ..Config::standard()
    })
}

fn poll_spec(n: usize) -> JobSpec<Arc<Profile>> {
    let url = format!("https://api.example.com/api/v1/jobs/job_{n}")
        .parse()
        .unwrap();
    JobSpec::poll_shared(url)
}

fn submit_spec(headers: &[(&str, &str)]) -> JobSpec<Arc<Profile>> {
    JobSpec {
        profile: Arc::new(Profile::jobs()),
        start: crate::job::Start::Submit {
            method: http::Method::POST,
            url: "https://api.example.com/api/v1/video-job".parse().unwrap(),
            body: Some(r#"{"prompt":"a cat"}"#.to_owned()),
        },
        headers: headers
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect(),
    }
}

fn ok(body: &str) -> http::Response<Bytes> {
    http::Response::new(Bytes::from(body.to_owned()))
}

/// Every output up to the next wake-up (or the fleet's idling).
fn drain(fleet: &mut Fleet) -> Vec<FleetOutput> {
    std::iter::from_fn(|| match fleet.poll_output() {
        FleetOutput::WakeAt(_) | FleetOutput::Idle => None,
        output => Some(output),
    })
    .collect()
}

fn transmits(outputs: &[FleetOutput]) -> Vec<(JobKey, Transmit)> {
    outputs
        .iter()
        .filter_map(|output| match output {
            FleetOutput::Transmit { job, transmit } => Some((*job, transmit.clone())),
            _ => None,
        })
        .collect()
}

fn outcomes(outputs: &[FleetOutput]) -> Vec<(Subscriber, Outcome)> {
    outputs
        .iter()
        .filter_map(|output| match output {
            FleetOutput::Finished {
                subscriber,
                outcome,
            } => Some((*subscriber, outcome.clone())),
            _ => None,
        })
        .collect()
}

fn answer(fleet: &mut Fleet, job: JobKey, transmit: &Transmit, body: &str, now: Instant) {
    fleet
        .handle_input(FleetInput::Response {
            job,
            request: transmit.id,
            response: ok(body),
            now,
        })
        .unwrap();
}

/// The job's snapshot through JSON and back, as a page keeps it.
fn saved(fleet: &Fleet, job: JobKey) -> Snapshot<Arc<Profile>> {
    let json = serde_json::to_string(&fleet.job(job).unwrap().snapshot()).unwrap();
    serde_json::from_str(&json).unwrap()
}

/// A poll job that has been answered "processing" twice, saved at 10 s.
fn polled_twice(deadline: Option<Duration>) -> Snapshot<Arc<Profile>> {
    let mut fleet = Fleet::new(FleetConfig::default());
    let subscriber = fleet
        .add(poll_spec(1), config(deadline), Instant::ZERO)
        .unwrap();
    let job = subscriber.job();
    for secs in [0, 10] {
        let now = Instant::from_secs(secs);
        if secs > 0 {
            fleet.handle_input(FleetInput::Tick { now }).unwrap();
        }
        let sent = transmits(&drain(&mut fleet));
        assert_eq!(sent.len(), 1, "one poll at {secs} s");
        answer(&mut fleet, job, &sent[0].1, RUNNING, now);
        drain(&mut fleet);
    }
    saved(&fleet, job)
}

#[test]
fn a_resumed_job_goes_on_where_it_was() {
    let snapshot = polled_twice(None);
    let mut fleet = Fleet::new(FleetConfig::default());
    // A new page: its clock starts again near zero; 3 s passed away.
    let now = Instant::from_secs(1);
    let subscriber = fleet
        .add_resumed(snapshot, now, Duration::from_secs(3))
        .unwrap();
    let job = subscriber.job();
    {
        let resumed = fleet.job(job).unwrap();
        assert_eq!(resumed.job_id(), Some("j-1"));
        assert_eq!(resumed.stats().attempts, 2);
        assert_eq!(resumed.last_status(), Some("processing"));
    }
    // The next poll is due 10 s after the last, which was 3 s before the save
    // time... so 7 s from the resume, not at once and not 10 s later.
    assert!(transmits(&drain(&mut fleet)).is_empty());
    let wake = fleet.next_wake().unwrap();
    assert_eq!(wake, Instant::from_secs(8));
    fleet.handle_input(FleetInput::Tick { now: wake }).unwrap();
    let sent = transmits(&drain(&mut fleet));
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].1.url.as_str(),
        "https://api.example.com/api/v1/jobs/job_1"
    );
    answer(&mut fleet, job, &sent[0].1, DONE, wake);
    let ended = outcomes(&drain(&mut fleet));
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].0, subscriber);
    let Outcome::Succeeded { stats, .. } = &ended[0].1 else {
        panic!("{}", ended[0].1);
    };
    assert_eq!(stats.attempts, 3, "the attempts before the save count");
    assert_eq!(stats.job_id.as_deref(), Some("j-1"));
    // 10 s before the save, 3 s away, 7 s after the resume.
    assert_eq!(stats.elapsed, Duration::from_secs(20));
    assert_eq!(fleet.metrics().finished, 1);
    assert!(fleet.is_empty());
}

#[test]
fn time_away_counts_against_the_deadline() {
    // Saved at 10 s of a 60 s deadline; away for two minutes.
    let snapshot = polled_twice(Some(Duration::from_secs(60)));
    let mut fleet = Fleet::new(FleetConfig::default());
    let subscriber = fleet
        .add_resumed(snapshot, Instant::ZERO, Duration::from_secs(120))
        .unwrap();
    let outputs = drain(&mut fleet);
    assert!(transmits(&outputs).is_empty(), "{outputs:?}");
    let ended = outcomes(&outputs);
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].0, subscriber);
    assert!(
        matches!(
            ended[0].1,
            Outcome::TimedOut {
                reason: WaitLimit::Deadline { .. },
                ..
            }
        ),
        "{}",
        ended[0].1
    );
    assert!(fleet.is_empty());
    assert_eq!(fleet.origins(), 0, "an ended job leaves no origin behind");

    // Away for less than the rest of the deadline: it goes on.
    let snapshot = polled_twice(Some(Duration::from_secs(60)));
    let mut fleet = Fleet::new(FleetConfig::default());
    fleet
        .add_resumed(snapshot, Instant::ZERO, Duration::from_secs(30))
        .unwrap();
    assert!(outcomes(&drain(&mut fleet)).is_empty());
    assert_eq!(fleet.len(), 1);
}

/// A submit that went out (in flight) when the job was saved.
fn saved_mid_submit(headers: &[(&str, &str)]) -> Snapshot<Arc<Profile>> {
    let mut fleet = Fleet::new(FleetConfig::default());
    let job = fleet
        .add(submit_spec(headers), config(None), Instant::ZERO)
        .unwrap()
        .job();
    let sent = transmits(&drain(&mut fleet));
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].1.purpose, Purpose::Submit);
    saved(&fleet, job)
}

#[test]
fn a_submit_in_flight_that_cannot_be_repeated_is_never_sent_again() {
    let mut fleet = Fleet::new(FleetConfig::default());
    let subscriber = fleet
        .add_resumed(saved_mid_submit(&[]), Instant::ZERO, Duration::from_secs(1))
        .unwrap();
    let outputs = drain(&mut fleet);
    assert!(transmits(&outputs).is_empty(), "{outputs:?}");
    let ended = outcomes(&outputs);
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].0, subscriber);
    match &ended[0].1 {
        Outcome::GaveUp {
            last_error: PollError::SubmitUncertain { cause },
            ..
        } => assert_eq!(
            **cause,
            PollError::Transport(TransportError::Interrupted),
            "{cause}"
        ),
        other => panic!("expected an uncertain submit, got {other}"),
    }
    assert_eq!(fleet.metrics().requests, 0);
    assert_eq!(
        fleet.metrics().outcomes.get("gave_up").copied(),
        Some(1),
        "{:?}",
        fleet.metrics()
    );
}

#[test]
fn a_submit_in_flight_with_an_idempotency_key_is_sent_again() {
    let mut fleet = Fleet::new(FleetConfig::default());
    let subscriber = fleet
        .add_resumed(
            saved_mid_submit(&[("Idempotency-Key", "k-1")]),
            Instant::ZERO,
            Duration::from_secs(1),
        )
        .unwrap();
    let sent = transmits(&drain(&mut fleet));
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].1.purpose, Purpose::Submit);
    assert!(
        sent[0]
            .1
            .headers
            .iter()
            .any(|(name, value)| name == "Idempotency-Key" && value == "k-1")
    );
    answer(
        &mut fleet,
        subscriber.job(),
        &sent[0].1,
        CREATED,
        Instant::ZERO,
    );
    drain(&mut fleet);
    assert_eq!(fleet.job(subscriber.job()).unwrap().job_id(), Some("j-1"));
}

#[test]
fn resumed_jobs_wait_for_the_limits_and_the_pause() {
    // Two jobs saved with a poll due at once (the first poll not answered).
    let mut old = Fleet::new(FleetConfig::default());
    let saved_jobs: Vec<Snapshot<Arc<Profile>>> = (1..=2)
        .map(|n| {
            let job = old
                .add(poll_spec(n), config(None), Instant::ZERO)
                .unwrap()
                .job();
            saved(&old, job)
        })
        .collect();
    let mut fleet = Fleet::new(FleetConfig {
        max_in_flight: 1,
        ..FleetConfig::default()
    });
    fleet.pause();
    let keys: Vec<JobKey> = saved_jobs
        .into_iter()
        .map(|snapshot| {
            fleet
                .add_resumed(snapshot, Instant::ZERO, Duration::ZERO)
                .unwrap()
                .job()
        })
        .collect();
    assert!(transmits(&drain(&mut fleet)).is_empty(), "paused");
    fleet.resume(Instant::ZERO);
    let sent = transmits(&drain(&mut fleet));
    assert_eq!(sent.len(), 1, "one request in flight at most");
    let first = sent[0].0;
    answer(&mut fleet, first, &sent[0].1, RUNNING, Instant::ZERO);
    let sent = transmits(&drain(&mut fleet));
    assert_eq!(sent.len(), 1);
    assert_ne!(sent[0].0, first, "the other job goes next");
    assert!(keys.contains(&sent[0].0));
}

#[test]
fn a_resumed_poll_job_is_shared_as_an_added_one_is() {
    let snapshot = polled_twice(None);
    let mut fleet = Fleet::new(FleetConfig::default());
    let resumed = fleet
        .add_resumed(snapshot, Instant::ZERO, Duration::ZERO)
        .unwrap();
    let joined = fleet
        .add(poll_spec(1), config(None), Instant::ZERO)
        .unwrap();
    assert_eq!(joined.job(), resumed.job());
    assert_eq!(fleet.subscribers(resumed.job()), 2);
    // Saved twice (two subscriptions of one shared job): one job comes back.
    let again = fleet
        .add_resumed(polled_twice(None), Instant::ZERO, Duration::ZERO)
        .unwrap();
    assert_eq!(again.job(), resumed.job());
    assert_eq!(fleet.len(), 1);
    assert_eq!(fleet.subscribers(resumed.job()), 3);
    assert_eq!(fleet.metrics().jobs, 1);
    assert_eq!(fleet.metrics().joined, 2);
    // One poll serves all three.
    let now = fleet.next_wake().unwrap();
    fleet.handle_input(FleetInput::Tick { now }).unwrap();
    let sent = transmits(&drain(&mut fleet));
    assert_eq!(sent.len(), 1);
    answer(&mut fleet, resumed.job(), &sent[0].1, DONE, now);
    assert_eq!(outcomes(&drain(&mut fleet)).len(), 3);
}

#[test]
fn a_snapshot_of_another_format_is_refused() {
    let mut snapshot = polled_twice(None);
    snapshot.format = 99;
    let mut fleet = Fleet::new(FleetConfig::default());
    let error = fleet
        .add_resumed(snapshot, Instant::ZERO, Duration::ZERO)
        .unwrap_err();
    assert!(error.to_string().contains("format 99"), "{error}");
    assert!(fleet.is_empty());
    assert_eq!(fleet.origins(), 0);
}
