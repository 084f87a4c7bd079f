//! How a job ends: the outcomes, and the texts they carry.

use bytes::Bytes;

use crate::event::{CancelledBy, Outcome, PollError, Stats, TransportError, WaitLimit};
use crate::profile::{Interpret, excerpt};

use super::io::Output;
use super::machine::Job;
use super::phase::Phase;

impl<P: Interpret> Job<P> {
    /// Decides the outcome (once: later calls change nothing), aborting the request
    /// in flight.
    pub(super) fn finish(&mut self, _now: u64, outcome: impl FnOnce(Stats) -> Outcome) {
        if self.phase.is_finished() {
            return;
        }
        if let Some((in_flight, _)) = self.phase.take_in_flight() {
            // It went out, and may have reached the server.
            self.contact = true;
            self.push(Output::Abort(in_flight.id()));
        }
        self.phase = Phase::Finished;
        if let Some(rare) = self.rare_if_set() {
            rare.answer_wait = None;
        }
        let outcome = outcome(self.stats());
        self.push(Output::Finished(outcome));
    }

    /// A limit (deadline, attempts, a hint past the deadline) is reached. A job that
    /// already succeeded keeps its success; only the results are missing.
    pub(super) fn stop_at_limit(&mut self, now: u64, reason: WaitLimit) {
        match self.phase {
            Phase::FetchingResults { .. } => {
                let result = self.phase.take_pending_result();
                let error = format!(
                    "stopped before the results were fetched: {}",
                    limit_text(&reason)
                );
                self.finish(now, succeeded(result, None, Some(error)));
            }
            Phase::Cancelling { .. } => self.finish_cancelled(now, None),
            _ => self.finish(now, |stats| Outcome::TimedOut { reason, stats }),
        }
    }

    /// The user's cancel is done; `server_confirmed` says what the server said of
    /// it, if it was asked.
    pub(super) fn finish_cancelled(&mut self, now: u64, server_confirmed: Option<bool>) {
        self.finish(now, |stats| Outcome::Cancelled {
            by: CancelledBy::Client { server_confirmed },
            stats,
        });
    }

    pub(super) fn finish_unauthorized(&mut self, now: u64, response: &http::Response<Bytes>) {
        let status = response.status().as_u16();
        let message = excerpt(response.body());
        self.finish(now, |stats| Outcome::Unauthorized {
            status,
            message,
            stats,
        });
    }

    pub(super) fn finish_rejected(&mut self, now: u64, response: &http::Response<Bytes>) {
        let status = response.status().as_u16();
        let message = excerpt(response.body());
        self.finish(now, |stats| Outcome::Rejected {
            status,
            message,
            stats,
        });
    }

    /// Only reachable through a hand-edited snapshot; ends the job instead of
    /// leaving it stuck.
    pub(super) fn give_up_inconsistent(&mut self, now: u64, what: &str) {
        let error = PollError::Transport(TransportError::Other(format!(
            "inconsistent job state: {what}"
        )));
        self.finish(now, |stats| Outcome::GaveUp {
            last_error: error,
            stats,
        });
    }
}

/// A JSON `null` result is no result: `Some(Null)` would not survive serde (it reads
/// back as `None`), and snapshots and traces must be exact.
pub(super) fn present(value: Option<serde_json::Value>) -> Option<serde_json::Value> {
    value.filter(|value| !value.is_null())
}

pub(super) fn succeeded(
    result: Option<serde_json::Value>,
    results: Option<serde_json::Value>,
    results_error: Option<String>,
) -> impl FnOnce(Stats) -> Outcome {
    let (result, results) = (present(result), present(results));
    move |stats| Outcome::Succeeded {
        result,
        results,
        results_error,
        stats,
    }
}

fn limit_text(reason: &WaitLimit) -> String {
    match reason {
        WaitLimit::Deadline { deadline } => {
            format!(
                "the deadline of {} passed",
                crate::time::format_duration(*deadline)
            )
        }
        WaitLimit::MaxAttempts { max_attempts } => {
            format!("all {max_attempts} attempts were used")
        }
        WaitLimit::HintPastDeadline { hint, .. } => format!(
            "the server asked to wait {}, past the deadline",
            crate::time::format_duration(hint.capped_from.unwrap_or(hint.delay))
        ),
    }
}

pub(super) fn status_error(response: &http::Response<Bytes>) -> PollError {
    PollError::Status {
        status: response.status().as_u16(),
        excerpt: excerpt(response.body()),
    }
}
