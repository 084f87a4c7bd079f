//! A server that is never reached: a job whose every request so far was refused
//! before it was sent gives up after a few refused connections, and never says the
//! job may still be running there. Once any request may have reached the server,
//! the usual limits apply.

mod support;

use jobpoll_core::event::WaitLimit;
use jobpoll_core::{
    Config, Instant, Jitter, Job, Outcome, PollError, Purpose, Transmit, TransportError,
};
use support::jobs_api::{PROCESSING, jobs_job, submit_spec};
use support::{Reply, Run, run};

/// `Config::fast()` with its retries on the exact curve (no jitter).
fn exact_fast() -> Config {
    Config::fast().with_retry_jitter(Jitter::None)
}

fn refused() -> Reply {
    Reply::fail(TransportError::Connect("connection refused".into()))
}

/// A server that is never there.
fn nobody(_: &Transmit, _: Instant) -> Reply {
    refused()
}

/// Asserts that `run` gave up as unreachable after `failures` refused connections to
/// `origin`, with an honest text.
fn assert_unreachable(run: &Run, failures: u32, origin: &str) {
    let outcome = run.outcome();
    match outcome {
        Outcome::GaveUp {
            last_error:
                PollError::Unreachable {
                    origin: actual,
                    failures: actual_failures,
                    last,
                },
            stats,
        } => {
            assert_eq!(actual, origin);
            assert_eq!(*actual_failures, failures);
            assert_eq!(*last, TransportError::Connect("connection refused".into()));
            assert!(stats.unreached, "{stats:?}");
            assert_eq!(stats.requests, failures);
        }
        other => panic!("expected to give up as unreachable, got {other}"),
    }
    let text = outcome.to_string();
    assert!(
        text.contains(&format!("could not reach {origin}")),
        "{text}"
    );
    assert!(!text.contains("may still be running"), "{text}");
    assert_eq!(run.sent.len(), failures as usize);
}

#[test]
fn a_server_never_reached_ends_the_job_after_five_refused_connections() {
    // Config::fast() without jitter retries after 2, 3, 4.5, 6.75 s.
    let run = run(jobs_job(exact_fast()), nobody, None);
    assert_eq!(run.send_times(), vec![0.0, 2.0, 5.0, 9.5, 16.25]);
    assert_eq!(run.finished_at(), 16.25);
    assert_unreachable(&run, 5, "https://api.example.com:443");
    assert_eq!(
        run.outcome().to_string(),
        "gave up on job job_abc123 after 16.25s (5 attempts): could not reach \
         https://api.example.com:443: 5 connection attempts in a row failed, so no \
         request reached the server (the last: could not connect: connection refused)"
    );
}

#[test]
fn a_submit_that_never_connects_ends_the_same_way() {
    let job = Job::new(submit_spec(), exact_fast(), Instant::ZERO).expect("valid job");
    let run = run(job, nobody, None);
    // The POST was never sent, so repeating it cannot create a second job.
    assert_eq!(run.requests(Purpose::Submit).len(), 5);
    assert_eq!(run.send_times(), vec![0.0, 2.0, 5.0, 9.5, 16.25]);
    assert_unreachable(&run, 5, "https://api.example.com:443");
    assert_eq!(run.outcome().stats().attempts, 0);
}

#[test]
fn the_limit_is_configurable_and_can_be_turned_off() {
    let config = Config {
        max_connect_failures_before_contact: Some(2),
        ..exact_fast()
    };
    let two = run(jobs_job(config), nobody, None);
    assert_eq!(two.send_times(), vec![0.0, 2.0]);
    assert_unreachable(&two, 2, "https://api.example.com:443");

    // A lower limit on errors in a row ends the job first, with the same error.
    let config = Config {
        max_consecutive_errors: Some(3),
        ..Config::fast()
    };
    let three = run(jobs_job(config), nobody, None);
    assert_unreachable(&three, 3, "https://api.example.com:443");

    let config = Config {
        max_connect_failures_before_contact: None,
        ..Config::fast()
    };
    let off = run(jobs_job(config), nobody, None);
    assert!(
        matches!(
            off.outcome(),
            Outcome::TimedOut {
                reason: WaitLimit::Deadline { .. },
                ..
            }
        ),
        "{}",
        off.outcome()
    );
    // Nothing reached the server, so nothing says the job may be running there.
    let text = off.outcome().to_string();
    assert!(text.ends_with("no request reached the server"), "{text}");
    assert!(!text.contains("may still be running"), "{text}");
}

/// The wall time each preset takes to give up on a server that refuses every
/// connection, as `docs/decisions.md` states it: every preset jitters its retries
/// (equal jitter: each between half the curve and the curve), so the sum of the
/// first four delays lies between half of the curve's and the curve's.
#[test]
fn each_preset_gives_up_on_an_unreachable_server_in_seconds() {
    for (name, seconds) in [
        ("standard", 243.75),
        ("fast", 16.25),
        ("aggressive", 15.0),
        ("progressive", 15.0),
        ("turn", 30.0),
        ("ad-generation", 30.0),
        ("video-generation", 30.0),
        ("research", 30.0),
        ("strategic-analysis", 30.0),
        ("scraping", 30.0),
        ("avatar-video", 30.0),
    ] {
        let exact = Config::preset(name)
            .expect("listed preset")
            .with_retry_jitter(Jitter::None);
        let run_exact = run(jobs_job(exact), nobody, None);
        assert_eq!(run_exact.finished_at(), seconds, "{name} without jitter");
        assert_unreachable(&run_exact, 5, "https://api.example.com:443");
        for seed in 0..20 {
            let config = Config {
                seed,
                ..Config::preset(name).expect("listed preset")
            };
            let run = run(jobs_job(config), nobody, None);
            let at = run.finished_at();
            assert!(
                (seconds / 2.0..=seconds).contains(&at),
                "{name}, seed {seed}: {at}"
            );
            assert_unreachable(&run, 5, "https://api.example.com:443");
        }
    }
}

#[test]
fn after_one_answer_refused_connections_are_retried_until_the_deadline() {
    let mut first = true;
    let server = move |_: &Transmit, _: Instant| {
        if std::mem::take(&mut first) {
            Reply::ok(PROCESSING)
        } else {
            refused()
        }
    };
    let run = run(jobs_job(Config::fast()), server, None);
    let outcome = run.outcome();
    assert!(
        matches!(
            outcome,
            Outcome::TimedOut {
                reason: WaitLimit::Deadline { .. },
                ..
            }
        ),
        "{outcome}"
    );
    assert_eq!(run.finished_at(), 300.0);
    assert!(run.sent.len() > 5, "{}", run.sent.len());
    assert!(!outcome.stats().unreached);
    let text = outcome.to_string();
    assert!(text.contains("may still be running"), "{text}");
}

#[test]
fn a_request_that_may_have_arrived_keeps_the_usual_limits() {
    // A request that got no answer in time may have reached the server: refused
    // connections after it are retried until the deadline, as before.
    for maybe_arrived in [
        TransportError::NoResponseInTime,
        TransportError::Reset("connection reset by peer".into()),
    ] {
        let mut first = true;
        let server = move |_: &Transmit, _: Instant| {
            if std::mem::take(&mut first) {
                Reply::fail(maybe_arrived.clone())
            } else {
                refused()
            }
        };
        let run = run(jobs_job(Config::fast()), server, None);
        let outcome = run.outcome();
        assert!(matches!(outcome, Outcome::TimedOut { .. }), "{outcome}");
        assert!(!outcome.stats().unreached);
        assert!(outcome.to_string().contains("may still be running"));
    }
}

#[test]
fn a_cancel_before_any_contact_does_not_say_the_job_may_be_running() {
    let run = run(
        jobs_job(Config::fast()),
        nobody,
        Some(Instant::from_micros(3_000_000)),
    );
    let outcome = run.outcome();
    assert!(matches!(outcome, Outcome::Cancelled { .. }), "{outcome}");
    assert!(outcome.stats().unreached);
    let text = outcome.to_string();
    assert!(text.ends_with("no request reached the server"), "{text}");
    assert!(!text.contains("may still be running"), "{text}");
}

#[test]
fn the_count_survives_a_snapshot_and_old_snapshots_keep_the_old_rules() {
    // Two refused connections, then a save and a restore: three more end the job.
    let mut job = jobs_job(Config::fast());
    let mut now = Instant::ZERO;
    for _ in 0..2 {
        let transmit = loop {
            match job.poll_output() {
                jobpoll_core::Output::Transmit(transmit) => break transmit,
                jobpoll_core::Output::WakeAt(at) => {
                    now = at;
                    job.handle_input(jobpoll_core::Input::Tick { now })
                        .expect("tick");
                }
                jobpoll_core::Output::Event(_) => {}
                other => panic!("unexpected {other:?}"),
            }
        };
        job.handle_input(jobpoll_core::Input::TransportError {
            request: transmit.id,
            error: TransportError::Connect("connection refused".into()),
            now,
        })
        .expect("answer to the request in flight");
    }
    let json = serde_json::to_value(job.snapshot()).expect("serializes");
    assert_eq!(json["job"]["unreached"], serde_json::Value::Bool(true));
    let restored =
        Job::restore(serde_json::from_value(json.clone()).expect("reads")).expect("restores");
    assert_eq!(restored, job);
    let resumed = run(restored, nobody, None);
    assert_eq!(resumed.sent.len(), 3);
    assert!(matches!(
        resumed.outcome(),
        Outcome::GaveUp {
            last_error: PollError::Unreachable { failures: 5, .. },
            ..
        }
    ));

    // A snapshot written before the rule existed has no such field: the job keeps
    // the rules it was saved under and retries until the deadline.
    let mut old = json;
    old["job"]
        .as_object_mut()
        .expect("a job object")
        .remove("unreached");
    let restored: Job =
        Job::restore(serde_json::from_value(old).expect("reads")).expect("restores");
    let old_rules = run(restored, nobody, None);
    assert!(
        matches!(old_rules.outcome(), Outcome::TimedOut { .. }),
        "{}",
        old_rules.outcome()
    );
}
