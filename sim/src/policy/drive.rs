//! Runs one job of the workload through a real [`jobpoll_core::Job`] against the
//! [`Responder`], with zero latency.

use bytes::Bytes;
use jobpoll_core::{Config, FirstPoll, Input, Instant, Job, JobSpec, Output, Profile, Schedule};

use super::responder::{Hints, Responder};
use super::workload::JobCase;

/// What one job cost and how late its completion was seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobResult {
    /// Status requests sent, the one that saw "completed" included.
    pub requests: u32,
    /// Time from the job's completion to the response that said so, in microseconds.
    pub delay_us: u64,
}

/// A run that cannot finish (a schedule that never lets the job's age reach its
/// duration); never happens with valid schedules, reported instead of looping.
const MAX_REQUESTS: u32 = 10_000_000;

/// The configuration every benchmarked job runs with: `poll` as the poll schedule,
/// the first poll at once, no deadline, the job's own jitter seed; everything else
/// is the `standard` preset's configuration (no minimum interval).
pub fn config(poll: Schedule, case: &JobCase) -> Config {
    Config {
        poll,
        first_poll: FirstPoll::Immediately,
        deadline: None,
        seed: case.seed,
        ..Config::standard()
    }
}

/// Runs `case` through a real [`Job`] with the `jobs` profile and `poll` schedule,
/// answering at once (zero latency) with the [`Responder`].
pub fn run_job(poll: &Schedule, case: &JobCase, hints: Hints) -> Result<JobResult, String> {
    let url = "https://api.example.com/api/v1/jobs/j"
        .parse()
        .map_err(|e| format!("{e}"))?;
    let spec = JobSpec::poll(Profile::jobs(), url);
    let mut job =
        Job::new(spec, config(poll.clone(), case), Instant::ZERO).map_err(|e| e.to_string())?;
    let mut responder = Responder::new(case, hints);
    let mut now = Instant::ZERO;
    let mut sent: u32 = 0;
    loop {
        match job.poll_output() {
            Output::Transmit(transmit) => {
                sent += 1;
                if sent > MAX_REQUESTS {
                    return Err(format!("job {} never finished", case.index));
                }
                let body = responder.answer(now.as_micros()).body();
                let response = http::Response::new(Bytes::from(body));
                job.handle_input(Input::Response {
                    request: transmit.id,
                    response,
                    now,
                })
                .map_err(|e| e.to_string())?;
            }
            Output::WakeAt(at) => {
                now = at;
                job.handle_input(Input::Tick { now })
                    .map_err(|e| e.to_string())?;
            }
            Output::Finished(outcome) => {
                if !outcome.is_success() {
                    return Err(format!("job {} did not succeed: {outcome}", case.index));
                }
                let requests = outcome.stats().requests;
                let delay_us = now.as_micros().saturating_sub(case.duration_us);
                return Ok(JobResult { requests, delay_us });
            }
            Output::Event(_) | Output::Abort(_) => {}
            Output::Done => return Err("the job ended without an outcome".to_owned()),
        }
    }
}
