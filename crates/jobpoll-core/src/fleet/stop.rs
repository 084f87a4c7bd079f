//! Stops: of one subscription, of a job once its last subscriber has stopped,
//! and of everything. A stop is the user's and is acted on at once: the cancel
//! request does not wait for the origin's queue, its hold or the limits.

use crate::event::{CancelledBy, Outcome};
use crate::job::Input;
use crate::profile::Interpret;
use crate::time::Instant;

use super::sharing::NO_SHARE;
use super::{Fleet, FleetError, FleetOutput, JobKey, Subscriber};

impl<P: Interpret> Fleet<P> {
    /// Ends one subscription (see [`FleetInput::Stop`](super::FleetInput::Stop)).
    pub(super) fn stop(&mut self, subscriber: Subscriber, now: Instant) -> Result<(), FleetError> {
        let job = subscriber.job;
        // Checked before anything changes, the clock included.
        if !self
            .entry(job)
            .is_some_and(|entry| entry.subscribers.contains(&subscriber.number))
        {
            return Err(FleetError::UnknownSubscriber(subscriber));
        }
        self.see(now);
        let Some(entry) = self.entry_mut(job) else {
            return Err(FleetError::UnknownSubscriber(subscriber));
        };
        if entry.subscribers.len() > 1 {
            entry
                .subscribers
                .retain(|number| *number != subscriber.number);
            // The list gives back its room; back to one, it is inline again.
            entry.subscribers.shrink_to_fit();
            let stats = entry.job.stats();
            self.outputs.push_back(FleetOutput::Finished {
                subscriber,
                outcome: Outcome::Cancelled {
                    by: CancelledBy::Client {
                        server_confirmed: None,
                    },
                    stats,
                },
            });
            return Ok(());
        }
        self.cancel(job, now);
        self.pump();
        Ok(())
    }

    /// Stops every job (see [`FleetInput::StopAll`](super::FleetInput::StopAll)).
    pub(super) fn stop_all(&mut self, now: Instant) {
        self.see(now);
        for slot in 0..self.slots.len() {
            if let Some(key) = self.slots.key(slot) {
                self.cancel(key, now);
            }
        }
        self.pump();
    }

    /// Cancels a job (its last subscriber stopped): with the server-side cancel when
    /// it may send, at once when its origin or the fleet is paused.
    fn cancel(&mut self, key: JobKey, now: Instant) {
        let Some(entry) = self.entry(key) else {
            return;
        };
        let (share_key, origin) = (entry.share_key, entry.origin);
        // A job on its way out is no longer shared: a later subscription to the
        // same status URL starts a job of its own.
        self.shared.remove(share_key, key.slot);
        if let Some(entry) = self.entry_mut(key) {
            entry.share_key = NO_SHARE;
            // Whatever it waited to send is no longer wanted; its place in the
            // queue goes stale.
            entry.queued = false;
        }
        let paused = self.paused || self.origins[origin].paused;
        self.with_job(key, |job| {
            if paused {
                job.cancel_locally(now);
            } else {
                // A stop is acted on at once: the cancel request (the only
                // request a cancelled job sends) goes out now, past the origin's
                // queue, its throttle and the in-flight limits.
                job.set_gated(false);
                let _ = job.handle_input(Input::Cancel { now });
                job.set_gated(true);
            }
        });
        self.settle(key);
    }
}
