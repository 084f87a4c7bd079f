//! Jobs that come back: a saved job ([`Snapshot`]) resumed into a fleet, after
//! a restart or a page reload, under the fleet's limits like any added job.

use core::time::Duration;

use crate::job::{Job, RestoreError, Snapshot, Start};
use crate::profile::Interpret;
use crate::time::Instant;

use super::{Fleet, NO_SHARE, Subscriber, origin_name, share_key};

impl<P: Interpret> Fleet<P> {
    /// Subscribes to a saved job, continued where it was: in a new process whose
    /// clock reads `now`, `downtime` after the snapshot was taken (measured on a
    /// wall clock; it counts against the job's deadline). See [`Job::resume`]:
    /// the job keeps its id, status URL, counts and random state; a request that
    /// was in flight is sent again when that is safe, and a submit that is not
    /// safe to repeat (a `POST` without an `Idempotency-Key`) is never sent again,
    /// the job ending as given up ([`PollError::SubmitUncertain`](crate::PollError::SubmitUncertain)).
    ///
    /// The job runs behind the fleet's gate, as an added one does: its requests
    /// wait for the limits, the origin's throttle and the pauses. It counts
    /// against the origin its next request goes to (its status URL once known).
    /// A job polled by URL may be joined by later subscribers with the same spec,
    /// unless the fleet already runs such a job (then the two run apart).
    ///
    /// A job whose deadline passed while away, or whose submit cannot be
    /// repeated, ends at once: its outcome is among the next outputs. Drain
    /// [`Fleet::poll_output`] afterwards.
    pub fn add_resumed(
        &mut self,
        snapshot: Snapshot<P>,
        now: Instant,
        downtime: Duration,
    ) -> Result<Subscriber, RestoreError>
    where
        P: PartialEq,
    {
        self.see(now);
        let job = Job::resume_gated(snapshot, now, downtime, true)?;
        let url = match (job.status_url(), &job.spec().start) {
            (Some(url), _) => url,
            (
                None,
                Start::Submit { url, .. }
                | Start::Poll {
                    status_url: url, ..
                },
            ) => url,
        };
        let origin_name = origin_name(url);
        let share_key = match share_key(job.spec()) {
            Some(key)
                if !job.is_finished()
                    && self.shared.find(key, job.spec(), &self.slots).is_none() =>
            {
                key
            }
            _ => NO_SHARE,
        };
        Ok(self.run(job, origin_name, share_key))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "resumed_tests.rs"]
mod tests;
