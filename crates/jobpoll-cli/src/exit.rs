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
/// No connection to the server could be made (nothing listens there, or its
/// certificate is not trusted): no request reached it. As curl's exit 7.
pub(crate) const UNREACHABLE: u8 = 7;
/// The result could not be written (`-o FILE`, or standard output), whatever the
/// job's outcome.
pub(crate) const WRITE_FAILED: u8 = 8;

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
        Outcome::GaveUp { .. } if crate::net::unreachable(outcome) => UNREACHABLE,
        Outcome::GaveUp { .. } => GAVE_UP,
    }
}

/// The more severe of two exit codes, for many jobs: refused (5), then could not
/// connect (7), gave up (6), timed out (3), failed (1), cancelled (4), success (0).
/// A refusal means the request itself is wrong (a token, a URL), so it comes first;
/// a server never reached is most often a wrong address; errors in a row mean
/// the server or the network is unwell; a timeout leaves the job's fate unknown; a
/// failure is the server's clear answer; a cancel is what somebody asked for.
pub(crate) fn most_severe(a: u8, b: u8) -> u8 {
    fn rank(code: u8) -> u8 {
        match code {
            SUCCESS => 0,
            CANCELLED => 1,
            JOB_FAILED => 2,
            TIMED_OUT => 3,
            GAVE_UP => 4,
            UNREACHABLE => 5,
            REFUSED => 6,
            // Anything else (usage, a result that could not be written) outranks
            // every outcome.
            _ => 7,
        }
    }
    if rank(b) > rank(a) { b } else { a }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_severe_code_wins_whatever_the_order() {
        let order = [
            SUCCESS,
            CANCELLED,
            JOB_FAILED,
            TIMED_OUT,
            GAVE_UP,
            UNREACHABLE,
            REFUSED,
        ];
        for (i, a) in order.iter().enumerate() {
            for (j, b) in order.iter().enumerate() {
                let expected = order[i.max(j)];
                assert_eq!(most_severe(*a, *b), expected, "{a} {b}");
            }
        }
    }
}
