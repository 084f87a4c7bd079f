//! An arbitrary conversation with a job: it may end any way, but it must not panic,
//! must keep one request in flight at most, and must finish exactly once.
//!
//! Shared by the fuzz target and by the workspace test that replays the corpus.

use arbitrary::Arbitrary;
use bytes::Bytes;
use jobpoll_core::{Config, Input, Instant, Job, JobSpec, Output, RequestId, TransportError};

use super::common;

#[derive(Arbitrary, Debug)]
enum Action {
    Respond {
        status: u16,
        retry_after: Option<String>,
        body: Vec<u8>,
    },
    Fail(u8),
    Tick(u32),
    Cancel,
    Stale(u64),
}

#[derive(Arbitrary, Debug)]
struct Case {
    profile: u8,
    preset: u8,
    submit: bool,
    seed: u64,
    actions: Vec<Action>,
}

/// Runs one input of the corpus; panics on a broken promise.
pub fn run(data: &[u8]) {
    common::run(data, check);
}

fn check(case: Case) {
    let Some(profile) = common::builtin_profile(case.profile) else {
        return;
    };
    let presets = Config::PRESET_NAMES;
    let Some(mut config) = Config::preset(presets[case.preset as usize % presets.len()]) else {
        return;
    };
    config.seed = case.seed;
    let url: url::Url = "https://api.example.com/api/v1/jobs/j1"
        .parse()
        .expect("static URL");
    let spec = if case.submit {
        JobSpec::submit(profile, url, Some("{}".into()))
    } else {
        JobSpec::poll(profile, url)
    };
    let Ok(mut job) = Job::new(spec, config, Instant::ZERO) else {
        return;
    };
    let mut now = Instant::ZERO;
    let mut in_flight: Option<RequestId> = None;
    let mut finished = 0;
    let drain = |job: &mut Job, in_flight: &mut Option<RequestId>, finished: &mut u32| loop {
        match job.poll_output() {
            Output::Transmit(t) => {
                assert!(in_flight.is_none(), "two requests in flight");
                *in_flight = Some(t.id);
            }
            Output::Abort(id) => {
                if *in_flight == Some(id) {
                    *in_flight = None;
                }
            }
            Output::Finished(_) => *finished += 1,
            Output::Event(_) => {}
            Output::WakeAt(_) | Output::Done => break,
        }
    };
    drain(&mut job, &mut in_flight, &mut finished);
    for action in case.actions {
        let input = match action {
            Action::Respond {
                status,
                retry_after,
                body,
            } => {
                let Some(id) = in_flight.take() else { continue };
                let mut builder = http::Response::builder()
                    .status(http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK));
                if let Some(value) = retry_after.and_then(|v| http::HeaderValue::from_str(&v).ok())
                {
                    builder = builder.header("retry-after", value);
                }
                let Ok(response) = builder.body(Bytes::from(body)) else {
                    continue;
                };
                Input::Response {
                    request: id,
                    response,
                    now,
                }
            }
            Action::Fail(kind) => {
                let Some(id) = in_flight.take() else { continue };
                let error = match kind % 3 {
                    0 => TransportError::Connect("refused".into()),
                    1 => TransportError::NoResponseInTime,
                    _ => TransportError::Reset("reset".into()),
                };
                Input::TransportError {
                    request: id,
                    error,
                    now,
                }
            }
            Action::Tick(millis) => {
                now = now + std::time::Duration::from_micros(u64::from(millis) * 1000);
                Input::Tick { now }
            }
            Action::Cancel => Input::Cancel { now },
            Action::Stale(id) => {
                let request = RequestId(id);
                if in_flight == Some(request) {
                    continue;
                }
                let response = http::Response::new(Bytes::new());
                assert!(
                    job.handle_input(Input::Response {
                        request,
                        response,
                        now
                    })
                    .is_err()
                );
                continue;
            }
        };
        let _ = job.handle_input(input);
        drain(&mut job, &mut in_flight, &mut finished);
        assert!(finished <= 1, "finished twice");
    }
}
