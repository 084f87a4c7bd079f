//! When a due request may go: the in-flight limits, the pauses and the throttle
//! holds of origins, the per-origin queues of the requests that wait, and the
//! pump that releases them fairly.
//!
//! A job whose request falls due sends at once when its origin may send and
//! nobody waits there before it; else it joins its origin's queue (first come,
//! first served). Origins with waiting jobs are in the *ring*, a heap ordered by
//! when each origin last sent, so that across origins the one that waited
//! longest goes next. An origin that may not send leaves the ring; whatever
//! lifts its block (an answer, a hold's end, a resume) puts it back, and the pump
//! releases what the limits then allow.

use core::time::Duration;
use std::cmp::Reverse;
use std::collections::VecDeque;

use crate::job::Input;
use crate::profile::Interpret;
use crate::time::Instant;

use super::{Fleet, JobKey};

/// Entries an empty origin queue may keep room for; a queue that grew past this
/// for a burst gives its memory back once it is empty.
pub(super) const KEPT_QUEUE: usize = 1024;

impl<P: Interpret> Fleet<P> {
    /// The job may want to send: it sends now when its origin may send and nobody
    /// waits there before it, else it joins its origin's queue.
    pub(super) fn admit(&mut self, key: JobKey) {
        let now = self.now;
        let Some(entry) = self.entry_mut(key) else {
            return;
        };
        if !entry.job.wants_to_send() || entry.queued {
            return;
        }
        let origin = entry.origin;
        let nobody_ahead = self.origins[origin].waiting.is_empty();
        if nobody_ahead && self.permitted(origin, now) {
            self.release(key);
        } else {
            if let Some(entry) = self.entry_mut(key) {
                entry.queued = true;
            }
            self.origins[origin].waiting.push_back(key);
            self.enter_ring(origin);
        }
    }

    /// An answer from `origin` asked every job there to wait `wait` from `now`
    /// (µs): no request of it goes before then, but a cancel request. The answer
    /// that starts a hold also sets the pace at which the origin's requests go
    /// out once it ends ([`Pace`](super::pace::Pace)).
    pub(super) fn hold(&mut self, origin: u32, wait: Duration, now: u64) {
        let until = now.saturating_add(u64::try_from(wait.as_micros()).unwrap_or(u64::MAX));
        let o = &mut self.origins[origin];
        // The answer that starts a hold sets the pace after it; the answers to
        // requests sent before it only extend the hold.
        if until > now && o.throttled_until <= now {
            o.pace.limited(now, until);
        }
        if until > now && until > o.throttled_until {
            o.throttled_until = until;
            self.throttle_ends
                .push(Reverse((until, origin, o.generation)));
        }
    }

    /// Ends the holds and the pace's gaps due by `now` (µs): their origins may
    /// send again, or leave the table when nothing else needs them.
    pub(super) fn end_holds(&mut self, now: u64) {
        while let Some(Reverse((at, origin, generation))) = self.throttle_ends.peek().copied() {
            if at > now {
                break;
            }
            self.throttle_ends.pop();
            if self.origins.current(origin, generation).is_some() {
                self.enter_ring(origin);
                self.origins.retire_if_idle(origin, now);
            }
        }
    }

    /// The fleet may send again: every origin with waiting jobs goes back in the
    /// ring, and the pump releases what the limits allow.
    pub(super) fn reopen_all(&mut self) {
        for origin in 0..self.origins.end() {
            self.enter_ring(origin);
        }
        self.pump();
    }

    /// Lets the job send its due request now.
    fn release(&mut self, key: JobKey) {
        let now = Instant::from_micros(self.now);
        if let Some(entry) = self.entry_mut(key) {
            entry.queued = false;
        }
        self.with_job(key, |job| {
            job.set_gated(false);
            let _ = job.handle_input(Input::Tick { now });
            job.set_gated(true);
        });
        self.drain(key);
        self.set_timer(key);
    }

    /// A request of `origin` is no longer in flight.
    pub(super) fn release_slot(&mut self, origin: u32) {
        self.in_flight = self.in_flight.saturating_sub(1);
        let o = &mut self.origins[origin];
        o.in_flight = o.in_flight.saturating_sub(1);
        self.enter_ring(origin);
    }

    /// Puts an origin with waiting jobs in the ring (once).
    pub(super) fn enter_ring(&mut self, origin: u32) {
        let o = &mut self.origins[origin];
        if !o.waiting.is_empty() && !o.in_ring {
            o.in_ring = true;
            self.ring.push(Reverse((o.turn, origin, o.generation)));
        }
    }

    /// Whether a request may go to `origin` now (global limit included).
    pub(super) fn permitted(&self, origin: u32, now: u64) -> bool {
        let o = &self.origins[origin];
        !self.paused
            && !o.paused
            && o.throttled_until <= now
            && o.pace.permits(now)
            && o.in_flight < self.config.max_in_flight_per_origin
            && self.in_flight < self.config.max_in_flight
    }

    /// Releases waiting jobs while the limits allow, one at a time from the origin
    /// that has waited longest since it last sent.
    /// An origin that may not send leaves the ring; what lifts its block (a
    /// response, the throttle's end, a resume) puts it back.
    pub(super) fn pump(&mut self) {
        let now = self.now;
        while !self.paused && self.in_flight < self.config.max_in_flight {
            let Some(Reverse((turn, origin, generation))) = self.ring.pop() else {
                break;
            };
            let Some(o) = self.origins.current(origin, generation) else {
                // The origin has left the table (and its number may be another's).
                continue;
            };
            if o.turn != turn {
                // It sent since it joined the ring: its place is further back.
                self.ring.push(Reverse((o.turn, origin, generation)));
                continue;
            }
            o.in_ring = false;
            if !self.permitted(origin, now) {
                continue;
            }
            let Some(key) = self.next_waiting(origin) else {
                continue;
            };
            self.release(key);
            self.enter_ring(origin);
        }
    }

    /// The first job of the origin's queue that still has a request due.
    fn next_waiting(&mut self, origin: u32) -> Option<JobKey> {
        loop {
            let waiting = &mut self.origins[origin].waiting;
            let key = waiting.pop_front()?;
            // A burst is over: a queue that grew for it does not keep its room.
            if waiting.is_empty() && waiting.capacity() > KEPT_QUEUE {
                *waiting = VecDeque::new();
            }
            let Some(entry) = self.entry_mut(key) else {
                continue;
            };
            if !entry.queued {
                continue;
            }
            entry.queued = false;
            if entry.job.wants_to_send() {
                return Some(key);
            }
        }
    }
}
