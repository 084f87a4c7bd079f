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
    /// Jobs polled by URL are shared as [`Fleet::add`] shares them: when the
    /// fleet already runs a job with the very same spec (the same job on the
    /// server), the new subscriber joins it as it is and the snapshot is not
    /// used (a page that saved two subscriptions of one shared job gets one job
    /// back, polled once); otherwise later subscribers may join the resumed job.
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
        let share_key = share_key(job.spec());
        if let Some(subscriber) = self.join(share_key, job.spec()) {
            return Ok(subscriber);
        }
        let share_key = share_key.filter(|_| !job.is_finished());
        Ok(self.run(job, origin_name, share_key.unwrap_or(NO_SHARE)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "resumed_tests.rs"]
mod tests;
