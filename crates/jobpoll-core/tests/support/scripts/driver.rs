//! The driver: runs a script against a job in virtual time, with a restored twin,
//! a recorded trace or stray answers as the checks ask.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use jobpoll_core::trace::{self, RecordingJob, Redactor};
use jobpoll_core::{
    Input, InputError, Instant, Job, Outcome, Output, Purpose, RequestId, Snapshot, TransportError,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::model::{Fed, Model, check_invariants};
use super::server::{AnswerKind, answer, spec, success};
use super::{CancelAt, Script};

/// Options of one run.
#[derive(Clone, Copy, Default)]
pub struct Checks {
    /// Restore a twin from a snapshot and run it in lockstep.
    pub snapshot: bool,
    /// Record the run with this redaction and replay the trace at the end.
    pub trace: Option<Redaction>,
    /// Feed answers for requests that are not in flight at random steps (to the
    /// main job only) and check they are refused without changing future outputs.
    pub stray: Option<u64>,
}

/// How a trace is redacted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Redaction {
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
pub struct Finish {
    pub outcome: Outcome,
}

pub fn run_script(script: &Script, checks: Checks) -> Result<Finish, TestCaseError> {
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
                let refused = matches!(
                    &input,
                    Input::TransportError {
                        error: TransportError::Connect(_),
                        ..
                    }
                );
                fed = Fed::Answer {
                    id,
                    hint,
                    success,
                    refused,
                };
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
