//! The model the invariants are checked against: what the test knows
//! independently of the job, and every invariant, checked after each step.

use std::time::Duration;

use jobpoll_core::event::{CancelledBy, Event};
use jobpoll_core::{Instant, Job, Outcome, Output, Purpose, RequestId, WaitLimit};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::Script;

pub fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// What the test knows independently of the job.
#[derive(Debug)]
pub struct Model {
    pub start: Instant,
    pub deadline: Option<Instant>,
    pub request_time_limit: Duration,
    pub min_interval: Duration,
    pub max_hint: u64,
    pub max_attempts: Option<u32>,
    /// The request in flight: id, purpose, when it was sent.
    pub in_flight: Option<(RequestId, Purpose, Instant)>,
    pub last_sent: Option<Instant>,
    pub last_id: Option<RequestId>,
    /// No request before this (from the hints seen), and the response that set it.
    pub not_before: Option<(Instant, RequestId)>,
    /// When the last progress or retry event said the next request goes out.
    pub announced: Option<Instant>,
    pub status_requests: u32,
    pub requests: u32,
    /// The user cancelled; a cancel request went out; how the server answered it.
    pub user_cancelled: bool,
    pub cancel_sent: bool,
    pub cancel_confirmed: Option<bool>,
    pub finished: Option<(Instant, Outcome)>,
    pub done: bool,
    /// Some request may have reached the server: it got an answer or failed in
    /// any way but a refused connection, or it was aborted in flight.
    pub may_have_arrived: bool,
}

/// The input of one step, as the test saw it.
pub enum Fed {
    None,
    Tick,
    Cancel,
    Answer {
        id: RequestId,
        /// The hint the test expects honoured, for a response.
        hint: Option<u64>,
        /// Whether the answer is a 2xx response.
        success: bool,
        /// Whether it is a refused connection (the request was never sent).
        refused: bool,
    },
}

impl Model {
    pub fn new(script: &Script) -> Model {
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
            may_have_arrived: false,
        }
    }
}

/// Every invariant, checked after each step: the input fed at `now` (if any) and
/// the outputs drained after it, up to and including `WakeAt` or `Done`.
pub fn check_invariants(
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
    if let Fed::Answer {
        id,
        hint,
        success,
        refused,
    } = fed
    {
        if !refused {
            model.may_have_arrived = true;
        }
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
                model.may_have_arrived = true;
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
                // "May still be running" only when a request may have reached the
                // server; "no request reached the server" only when none could.
                let text = outcome.to_string();
                prop_assert!(
                    model.may_have_arrived || !text.contains("may still be running"),
                    "nothing reached the server, yet: {}",
                    text
                );
                prop_assert_eq!(
                    outcome.stats().unreached,
                    !model.may_have_arrived,
                    "unreached is wrong in: {}",
                    text
                );
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
                    // Unanswered (past its time limit) counts as not confirmed.
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
