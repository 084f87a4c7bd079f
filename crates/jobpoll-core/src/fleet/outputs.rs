//! How a job's outputs become the fleet's: a request counts against the limits
//! as it goes out, a withdrawn one frees its place, events and the outcome go to
//! every subscriber, the metrics count what happened, and a finished job leaves
//! the fleet.

use std::cmp::Reverse;
use std::collections::VecDeque;

use url::Url;

use crate::event::Event;
use crate::job::Output;
use crate::profile::Interpret;

use super::flights::NO_FLIGHT;
use super::origins::origin_name;
use super::slots::Subscribers;
use super::{Fleet, FleetOutput, JobKey, Subscriber};

impl<P: Interpret> Fleet<P> {
    /// Moves the job's outputs to the fleet's, fanning events out to subscribers;
    /// removes the job once it has finished.
    pub(super) fn drain(&mut self, key: JobKey) {
        let Some(entry) = self.slots.entry_mut(key) else {
            return;
        };
        // Most inputs of a waiting job leave nothing to forward.
        if !entry.job.has_outputs() {
            return;
        }
        entry.job.lend_buffer(&mut self.spare);
        let mut finished = false;
        // The origin of a request the job withdrew: its slot is free again.
        let mut withdrawn_from = None;
        // The origin the job left for the one its polls go to.
        let mut moved_from = None;
        loop {
            let output = match entry.job.poll_output() {
                Output::WakeAt(_) | Output::Done => break,
                output => output,
            };
            match output {
                Output::Transmit(transmit) => {
                    entry.in_flight = true;
                    self.in_flight += 1;
                    let origin = &mut self.origins[entry.origin];
                    origin.in_flight += 1;
                    self.turns += 1;
                    origin.turn = self.turns;
                    // While the origin is paced, the next request waits a gap:
                    // the fleet wakes then to let it out.
                    if let Some(next) = origin.pace.sent(self.now) {
                        let generation = origin.generation;
                        self.throttle_ends
                            .push(Reverse((next, entry.origin, generation)));
                    }
                    self.metrics.requests += 1;
                    self.outputs
                        .push_back(FleetOutput::Transmit { job: key, transmit });
                }
                Output::Abort(request) => {
                    if entry.in_flight {
                        entry.in_flight = false;
                        withdrawn_from = Some(entry.origin);
                    }
                    self.outputs
                        .push_back(FleetOutput::Abort { job: key, request });
                }
                Output::Event(event) => {
                    if let Event::Retrying { cause, .. } = &event {
                        self.metrics.count_error(cause.kind());
                    }
                    if let Event::Submitted { status_url, .. } = &event
                        && let Ok(url) = status_url.parse::<Url>()
                    {
                        // Polls go where the submit answer says; count them there.
                        let name = origin_name(&url);
                        if name != self.origins[entry.origin].name {
                            let left = &mut self.origins[entry.origin];
                            left.jobs = left.jobs.saturating_sub(1);
                            moved_from = Some(entry.origin);
                            entry.origin = self.origins.intern(name, self.now);
                            let joined = &mut self.origins[entry.origin];
                            joined.jobs = joined.jobs.saturating_add(1);
                        }
                    }
                    fan_out(
                        &mut self.outputs,
                        key,
                        &entry.subscribers,
                        event,
                        |subscriber, event| FleetOutput::Event { subscriber, event },
                    );
                }
                Output::Finished(outcome) => {
                    finished = true;
                    self.metrics.count_outcome(&outcome);
                    fan_out(
                        &mut self.outputs,
                        key,
                        &entry.subscribers,
                        outcome,
                        |subscriber, outcome| FleetOutput::Finished {
                            subscriber,
                            outcome,
                        },
                    );
                }
                Output::WakeAt(_) | Output::Done => {}
            }
        }
        entry.job.reclaim_buffer(&mut self.spare);
        if let Some(origin) = moved_from {
            self.origins.retire_if_idle(origin, self.now);
        }
        if let Some(origin) = withdrawn_from {
            self.release_slot(origin);
        }
        if finished {
            self.remove(key);
        }
    }

    /// Takes a finished job out of the fleet, with what it held: its request's
    /// time limit, its place in the sharing index and in flight, and its count
    /// against its origin.
    fn remove(&mut self, key: JobKey) {
        let Some(entry) = self.slots.remove(key) else {
            return;
        };
        if entry.flight != NO_FLIGHT {
            self.flights.remove(entry.flight);
        }
        self.shared.remove(entry.share_key, key.slot);
        if entry.in_flight {
            self.release_slot(entry.origin);
        }
        let o = &mut self.origins[entry.origin];
        o.jobs = o.jobs.saturating_sub(1);
        self.origins.retire_if_idle(entry.origin, self.now);
    }
}

/// Sends one copy of `item` to each subscriber (the last gets the original).
fn fan_out<T: Clone>(
    outputs: &mut VecDeque<FleetOutput>,
    job: JobKey,
    subscribers: &Subscribers,
    item: T,
    wrap: impl Fn(Subscriber, T) -> FleetOutput,
) {
    let Some((last, others)) = subscribers.split_last() else {
        return;
    };
    for number in others {
        let subscriber = Subscriber {
            job,
            number: *number,
        };
        outputs.push_back(wrap(subscriber, item.clone()));
    }
    outputs.push_back(wrap(Subscriber { job, number: *last }, item));
}
