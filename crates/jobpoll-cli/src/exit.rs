//! Exit codes: one per kind of ending, so scripts can tell them apart.

use jobpoll_core::Outcome;

/// The job succeeded.
pub(crate) const SUCCESS: u8 = 0;
/// The job failed on the server.
pub(crate) const JOB_FAILED: u8 = 1;
/// The command line was wrong (clap uses 2 as well).
pub(crate) const USAGE: u8 = 2;
/// We stopped waiting (deadline, attempts, a hint past the deadline).
pub(crate) const TIMED_OUT: u8 = 3;
/// The job was cancelled (Ctrl-C, or by the server).
pub(crate) const CANCELLED: u8 = 4;
/// The server refused the request: unauthorized, rejected, or not found.
pub(crate) const REFUSED: u8 = 5;
/// Too many errors in a row.
pub(crate) const GAVE_UP: u8 = 6;

/// The exit code of an outcome.
pub(crate) fn of(outcome: &Outcome) -> u8 {
    match outcome {
        Outcome::Succeeded { .. } => SUCCESS,
        Outcome::Failed { .. } => JOB_FAILED,
        Outcome::TimedOut { .. } => TIMED_OUT,
        Outcome::Cancelled { .. } => CANCELLED,
        Outcome::Unauthorized { .. } | Outcome::Rejected { .. } | Outcome::NotFound { .. } => {
            REFUSED
        }
        Outcome::GaveUp { .. } => GAVE_UP,
    }
}
