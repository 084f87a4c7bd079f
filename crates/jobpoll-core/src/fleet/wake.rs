//! When the fleet wakes, and what a tick does.
//!
//! Each job has at most one timer entry, at its next wake-up: in [`Timers`] while
//! it has nothing in flight, in [`Flights`] (its request's time limit) while it
//! has. The job's entry remembers which, so that an entry the job has moved away
//! from is skipped when it comes up. Beside them, the throttle holds end on their
//! own heap. The fleet's next wake-up is the earliest of the three.
//!
//! [`Timers`]: super::timers::Timers
//! [`Flights`]: super::flights::Flights

use std::cmp::Reverse;

use crate::job::Input;
use crate::profile::Interpret;
use crate::time::Instant;

use super::flights::NO_FLIGHT;
use super::timers::Timer;
use super::{Fleet, JobKey};

/// No timer entry: the job waits on nothing but an answer or its turn.
pub(super) const NO_TIMER: u64 = u64::MAX;

impl<P: Interpret> Fleet<P> {
    /// Time has come to `now`: ends the holds due and fires every timer due.
    pub(super) fn tick(&mut self, now: Instant) {
        let now = self.see(now);
        self.end_holds(now);
        while let Some((_, slot, generation)) = self.next_due(now) {
            let key = JobKey { slot, generation };
            let Some(entry) = self.entry_mut(key) else {
                continue;
            };
            entry.timer_at = NO_TIMER;
            entry.flight = NO_FLIGHT;
            // A job with nothing in flight and no place in a queue, on an origin
            // that may send with nobody waiting, would be released at once: let
            // this tick send (one tick instead of a held one and a release).
            let origin = entry.origin;
            let open = !entry.in_flight
                && !entry.queued
                && self.origins[origin].waiting.is_empty()
                && self.permitted(origin, now);
            let now = Instant::from_micros(now);
            // A held job with nothing else due only waits for its turn.
            let held = !open && self.entry_mut(key).is_some_and(|e| e.job.tick_held(now));
            if !held {
                self.with_job(key, |job| {
                    job.set_gated(!open);
                    let _ = job.handle_input(Input::Tick { now });
                    job.set_gated(true);
                });
            }
            self.settle(key);
        }
        self.pump();
    }

    /// The earliest instant (µs) at which something is due: a job's wake-up, a
    /// request's time limit or a hold's end; `None` when nothing waits on time.
    /// Drops the stale entries at the front of the timers on the way.
    pub(super) fn earliest_wake(&mut self) -> Option<u64> {
        while let Some(timer) = self.timers.peek() {
            if self.is_live_timer(timer) {
                break;
            }
            self.timers.pop();
        }
        let timer = self.timers.peek().map(|(at, _, _)| at);
        let flight = self.flights.first().map(|(at, _, _)| at);
        let throttle = self.throttle_ends.peek().map(|Reverse((at, _, _))| *at);
        [timer, flight, throttle].into_iter().flatten().min()
    }

    /// Files the job's next wake-up where it belongs, after anything that may have
    /// moved it; a job without one keeps no entry.
    pub(super) fn set_timer(&mut self, key: JobKey) {
        let Some(entry) = self.entry_mut(key) else {
            return;
        };
        let at = entry.job.wake_at().map_or(NO_TIMER, Instant::as_micros);
        let in_flights = entry.in_flight;
        if at == entry.timer_at && in_flights == (entry.flight != NO_FLIGHT) {
            return;
        }
        let old_flight = entry.flight;
        entry.timer_at = at;
        entry.flight = NO_FLIGHT;
        if old_flight != NO_FLIGHT {
            self.flights.remove(old_flight);
        }
        if at == NO_TIMER {
            return;
        }
        if in_flights {
            let id = self.flights.insert(at, key.slot, key.generation);
            if let Some(entry) = self.entry_mut(key) {
                entry.flight = id;
            }
        } else {
            self.timers.push((at, key.slot, key.generation));
        }
    }

    /// Takes the earliest timer due at `now` from either queue, skipping stale
    /// entries of `timers`.
    fn next_due(&mut self, now: u64) -> Option<Timer> {
        loop {
            let timer = self.timers.peek().filter(|t| t.0 <= now);
            let flight = self.flights.first().filter(|t| t.0 <= now);
            let (t, from_timers) = match (timer, flight) {
                (Some(t), Some(f)) if t < f => (t, true),
                (_, Some(f)) => (f, false),
                (Some(t), None) => (t, true),
                (None, None) => return None,
            };
            if !from_timers {
                self.flights.pop_first();
                return Some(t);
            }
            self.timers.pop();
            if self.is_live_timer(t) {
                return Some(t);
            }
        }
    }

    /// Whether a `timers` entry is the job's current timer (not one it moved, nor
    /// one of a job that ended).
    fn is_live_timer(&self, (at, slot, generation): Timer) -> bool {
        self.entry(JobKey { slot, generation })
            .is_some_and(|entry| entry.timer_at == at && entry.flight == NO_FLIGHT)
    }
}
