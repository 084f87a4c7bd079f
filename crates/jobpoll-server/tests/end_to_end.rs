//! The core's job state machine against the model, in virtual time: a miniature of
//! the simulator, answering every request at once. Each shape's job is submitted
//! through the API, polled as its preset schedule says, and ends with the outcome
//! the model's truth predicts.

mod support;

use std::time::Duration;

use jobpoll_core::event::CancelledBy;
use jobpoll_core::{Config, Event, Input, Instant, Job, JobSpec, Outcome, Output};
use jobpoll_server::model::{RateLimit, ServerConfig, ServerModel, Truth};
use jobpoll_server::plan::{Ending, Fault, FaultWindow, JobPlan, Shape};
use support::{plan, secs, url};

/// What one run produced.
struct Run {
    outcome: Outcome,
    finished_at: Instant,
    events: Vec<Event>,
    requests: usize,
}

/// Drives one job to its outcome; `cancel_at` feeds `Input::Cancel` then.
fn drive(
    server: &mut ServerModel,
    spec: JobSpec,
    config: Config,
    cancel_at: Option<Instant>,
) -> Run {
    let mut now = Instant::ZERO;
    let mut job = Job::new(spec, config, now).expect("a valid job");
    let mut cancel_at = cancel_at;
    let mut events = Vec::new();
    let mut requests = 0;
    loop {
        match job.poll_output() {
            Output::Transmit(transmit) => {
                requests += 1;
                let request = transmit.to_http_request().expect("a valid request");
                let response = server.handle(&request, now);
                job.handle_input(Input::Response {
                    request: transmit.id,
                    response,
                    now,
                })
                .expect("the request is in flight");
            }
            Output::Event(event) => events.push(event),
            Output::Abort(_) => {}
            Output::WakeAt(at) => {
                if let Some(cancel) = cancel_at.take_if(|cancel| *cancel <= at) {
                    now = now.max(cancel);
                    job.handle_input(Input::Cancel { now }).expect("cancel");
                } else {
                    now = at;
                    job.handle_input(Input::Tick { now }).expect("tick");
                }
            }
            Output::Finished(outcome) => {
                return Run {
                    outcome,
                    finished_at: now,
                    events,
                    requests,
                };
            }
            Output::Done => panic!("Done before Finished"),
        }
    }
}

fn submit_spec(shape: Shape, plan: &JobPlan) -> JobSpec {
    ServerModel::submit_spec(&url("/"), shape, plan).expect("model paths are URLs")
}

fn short_id(outcome: &Outcome, shape: Shape) -> String {
    let id = outcome.stats().job_id.clone().unwrap_or_default();
    match shape {
        Shape::Google => id.trim_start_matches("operations/").to_owned(),
        _ => id,
    }
}

#[test]
fn every_shape_succeeds_when_its_truth_says_so() {
    for shape in Shape::ALL {
        let mut server = ServerModel::new(ServerConfig::default(), 11);
        let run = drive(
            &mut server,
            submit_spec(shape, &plan(20)),
            Config::fast(),
            None,
        );
        assert!(run.outcome.is_success(), "{shape:?}: {}", run.outcome);
        assert!(run.finished_at >= secs(20), "{shape:?} finished early");
        assert!(
            run.finished_at < secs(40),
            "{shape:?} took {}",
            run.finished_at
        );
        // Azure's submit response gives the client no id; its operation is azop-1.
        let id = match shape {
            Shape::Azure => "azop-1".to_owned(),
            _ => short_id(&run.outcome, shape),
        };
        assert_eq!(
            server.truth(&id, run.finished_at),
            Some(Truth::Succeeded { at: secs(20) }),
            "{shape:?}"
        );
        let Outcome::Succeeded { results, .. } = &run.outcome else {
            unreachable!()
        };
        match shape {
            Shape::Codegen => {
                let results = results.as_ref().expect("codegen results");
                assert!(results["graph-1"]["node-2"][0].is_string(), "{results}");
            }
            Shape::Azure => {
                let resource = results.as_ref().expect("the final resource");
                assert_eq!(resource["name"], "res-1");
            }
            _ => assert_eq!(results, &None, "{shape:?}"),
        }
    }
}

#[test]
fn failures_end_with_the_servers_message() {
    let failing = JobPlan {
        ending: Ending::Fail {
            message: "quota exceeded".to_owned(),
        },
        ..plan(8)
    };
    for shape in Shape::ALL {
        let mut server = ServerModel::new(ServerConfig::default(), 11);
        let run = drive(
            &mut server,
            submit_spec(shape, &failing),
            Config::fast(),
            None,
        );
        let Outcome::Failed {
            message, details, ..
        } = &run.outcome
        else {
            panic!("{shape:?}: {}", run.outcome);
        };
        let said = format!("{message} {details:?}");
        assert!(said.contains("quota exceeded"), "{shape:?}: {said}");
    }
}

#[test]
fn faults_are_retried_through() {
    let rough = JobPlan {
        faults: vec![
            FaultWindow {
                from: Duration::from_secs(1),
                until: Duration::from_secs(6),
                fault: Fault::Status {
                    status: 503,
                    retry_after: Some(1),
                },
            },
            FaultWindow {
                from: Duration::from_secs(6),
                until: Duration::from_secs(8),
                fault: Fault::Malformed,
            },
            FaultWindow {
                from: Duration::from_secs(8),
                until: Duration::from_secs(12),
                fault: Fault::Oversized { bytes: 20_000 },
            },
        ],
        visible_after: Duration::from_secs(1),
        ..plan(15)
    };
    for shape in Shape::ALL {
        let mut server = ServerModel::new(ServerConfig::default(), 11);
        let run = drive(
            &mut server,
            submit_spec(shape, &rough),
            Config::fast(),
            None,
        );
        assert!(run.outcome.is_success(), "{shape:?}: {}", run.outcome);
        assert!(
            run.events
                .iter()
                .any(|event| matches!(event, Event::Retrying { .. })),
            "{shape:?} met no fault"
        );
    }
}

#[test]
fn rate_limits_and_tokens_are_honoured() {
    let config = ServerConfig {
        rate_limit: Some(RateLimit {
            burst: 2,
            per_second: 0.5,
        }),
        token: Some("s3cret".to_owned()),
    };
    let mut server = ServerModel::new(config.clone(), 11);
    let spec = submit_spec(Shape::Jobs, &plan(20)).with_header("Authorization", "Bearer s3cret");
    let mut fast = Config::fast();
    fast.poll = jobpoll_core::Schedule::Fixed {
        interval: Duration::from_millis(500),
    };
    let run = drive(&mut server, spec, fast, None);
    assert!(run.outcome.is_success(), "{}", run.outcome);
    // Polling every 0.5 s would take 40 requests; the bucket allows one per 2 s.
    assert!(run.requests <= 13, "{} requests", run.requests);

    let mut server = ServerModel::new(config, 11);
    let spec = submit_spec(Shape::Jobs, &plan(20)).with_header("Authorization", "Bearer nope");
    let run = drive(&mut server, spec, Config::fast(), None);
    assert!(
        matches!(run.outcome, Outcome::Unauthorized { status: 401, .. }),
        "{}",
        run.outcome
    );
    assert_eq!(server.job_count(), 0);
}

#[test]
fn a_cancel_reaches_the_server() {
    for shape in [Shape::Jobs, Shape::Google] {
        let mut server = ServerModel::new(ServerConfig::default(), 11);
        let run = drive(
            &mut server,
            submit_spec(shape, &plan(60)),
            Config::fast(),
            Some(secs(5)),
        );
        assert!(
            matches!(
                run.outcome,
                Outcome::Cancelled {
                    by: CancelledBy::Client {
                        server_confirmed: Some(true)
                    },
                    ..
                }
            ),
            "{shape:?}: {}",
            run.outcome
        );
        let id = short_id(&run.outcome, shape);
        assert_eq!(
            server.truth(&id, secs(100)),
            Some(Truth::Cancelled { at: secs(5) })
        );
    }
}

#[test]
fn turns_stream_blocks_as_updates() {
    let mut server = ServerModel::new(ServerConfig::default(), 11);
    let run = drive(
        &mut server,
        submit_spec(Shape::Turn, &plan(10)),
        Config::turn(),
        None,
    );
    assert!(run.outcome.is_success(), "{}", run.outcome);
    let updates = run
        .events
        .iter()
        .filter(|event| matches!(event, Event::Updated { .. }))
        .count();
    assert!(updates >= 4, "{updates} updates");
}

#[test]
fn never_ending_jobs_time_out_and_may_still_run() {
    let mut server = ServerModel::new(ServerConfig::default(), 11);
    let endless = JobPlan {
        ending: Ending::Never,
        eta_sigma: Some(0.5),
        ..plan(10)
    };
    let run = drive(
        &mut server,
        submit_spec(Shape::Jobs, &endless),
        Config::fast(),
        None,
    );
    assert!(
        matches!(run.outcome, Outcome::TimedOut { .. }),
        "{}",
        run.outcome
    );
    assert_eq!(server.truth("job-1", run.finished_at), Some(Truth::Running));
}
