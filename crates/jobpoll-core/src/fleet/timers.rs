//! The fleet's timer queue: an eight-ary min-heap of `(instant, slot, generation)`,
//! beside a few lanes of entries pushed in rising order.
//!
//! It holds one entry per waiting job, so with a million jobs it is 16 MB and
//! mostly out of cache.
//!
//! Most timers are pushed in rising order: jobs that poll at a fixed interval
//! (or retry after a fixed delay) set theirs to "now plus the same delay", and now
//! only grows. Such a run needs no heap: a lane is a queue of entries, each no
//! earlier than the one before, so its front is its earliest. A push that is not
//! earlier than some lane's last entry joins that lane in O(1), and the earliest
//! entry overall is the least of the lanes' fronts and the heap's root. Entries
//! out of order go to the heap. With a fixed interval a poll cycle's timer costs
//! about a tenth of a heap's (see `fleet_speed` in `docs/benchmarks.md`), and its
//! memory is read front to back.
//!
//! The heap has eight children per node: next to each other (128 bytes, two
//! memory lines the processor fetches together), so that taking the root walks 7
//! levels at a million entries instead of a binary heap's 20. At a million jobs
//! that walk is bound by memory: 4 children measured about 4 % slower than 8, 16
//! about 3 %, and the binary heap 25 %.
//!
//! The order is the plain order of the entries, so timers fire exactly as from
//! any other min-heap, whichever lane or heap holds them.

use std::collections::VecDeque;

/// A timer: the instant (µs), the job's slot and the slot's generation.
pub(super) type Timer = (u64, u32, u32);

/// Children per node.
const ARITY: usize = 8;

/// Lanes of entries in rising order: enough for a few interleaved runs (say polls
/// every 10 s and retries after 1 s); each costs a comparison per pop.
const LANES: usize = 2;

/// A min-heap of timers.
#[derive(Debug, Default)]
pub(super) struct Timers {
    heap: Vec<Timer>,
    /// Each in rising order, earliest first.
    lanes: [VecDeque<Timer>; LANES],
}

/// Where the earliest entry is.
#[derive(Clone, Copy)]
enum Source {
    Heap,
    Lane(usize),
}

impl Timers {
    /// The entries held, stale ones included.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.heap.len() + self.lanes.iter().map(VecDeque::len).sum::<usize>()
    }

    /// The earliest entry, and where it is.
    #[inline]
    fn earliest(&self) -> Option<(Timer, Source)> {
        let mut least = self.heap.first().map(|&timer| (timer, Source::Heap));
        for (index, lane) in self.lanes.iter().enumerate() {
            if let Some(&front) = lane.front()
                && least.is_none_or(|(timer, _)| front < timer)
            {
                least = Some((front, Source::Lane(index)));
            }
        }
        least
    }

    /// The earliest entry.
    pub(super) fn peek(&self) -> Option<Timer> {
        self.earliest().map(|(timer, _)| timer)
    }

    /// Adds an entry.
    pub(super) fn push(&mut self, timer: Timer) {
        // The lane whose last entry is the latest not after `timer`, so that the
        // others stay free for runs that are lower; else an empty lane.
        let mut best = None;
        let mut best_back = None;
        for (index, lane) in self.lanes.iter().enumerate() {
            match lane.back() {
                Some(&back) if back <= timer && best_back.is_none_or(|other| back > other) => {
                    best = Some(index);
                    best_back = Some(back);
                }
                Some(_) => {}
                None if best.is_none() => best = Some(index),
                None => {}
            }
        }
        match best {
            Some(index) => self.lanes[index].push_back(timer),
            None => self.push_heap(timer),
        }
    }

    /// Takes the earliest entry out.
    pub(super) fn pop(&mut self) -> Option<Timer> {
        match self.earliest()? {
            (_, Source::Heap) => self.pop_heap(),
            (_, Source::Lane(index)) => self.lanes[index].pop_front(),
        }
    }

    fn push_heap(&mut self, timer: Timer) {
        self.heap.push(timer);
        let mut at = self.heap.len() - 1;
        while at > 0 {
            let parent = (at - 1) / ARITY;
            if self.heap[parent] <= timer {
                break;
            }
            self.heap[at] = self.heap[parent];
            at = parent;
        }
        self.heap[at] = timer;
    }

    fn pop_heap(&mut self) -> Option<Timer> {
        let last = self.heap.pop()?;
        let Some(root) = self.heap.first_mut() else {
            return Some(last);
        };
        let earliest = std::mem::replace(root, last);
        // The last entry sinks from the root to its place.
        let len = self.heap.len();
        let mut at = 0;
        loop {
            let first = ARITY * at + 1;
            if first >= len {
                break;
            }
            let mut least = first;
            for child in first + 1..(first + ARITY).min(len) {
                if self.heap[child] < self.heap[least] {
                    least = child;
                }
            }
            if self.heap[least] >= last {
                break;
            }
            self.heap[at] = self.heap[least];
            at = least;
        }
        self.heap[at] = last;
        Some(earliest)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::TestCaseError;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    /// Runs `ops` (a push, or a pop for `None`) on the timers and on std's binary
    /// heap, checking after each that both agree, then empties both.
    fn agrees_with_a_binary_heap(
        ops: impl IntoIterator<Item = Option<Timer>>,
    ) -> Result<(), TestCaseError> {
        let mut timers = Timers::default();
        let mut model = BinaryHeap::new();
        for op in ops {
            match op {
                Some(timer) => {
                    timers.push(timer);
                    model.push(Reverse(timer));
                }
                None => {
                    prop_assert_eq!(timers.pop(), model.pop().map(|Reverse(t)| t));
                }
            }
            prop_assert_eq!(timers.peek(), model.peek().map(|Reverse(t)| *t));
            prop_assert_eq!(timers.len(), model.len());
        }
        while let Some(Reverse(timer)) = model.pop() {
            prop_assert_eq!(timers.pop(), Some(timer));
        }
        prop_assert_eq!(timers.pop(), None);
        Ok(())
    }

    proptest! {
        /// Any mix of pushes and pops gives what a binary heap gives.
        #[test]
        fn pops_in_the_order_of_a_binary_heap(
            ops in proptest::collection::vec(
                prop_oneof![
                    3 => (0_u64..50, 0_u32..20, 0_u32..3).prop_map(Some),
                    2 => Just(None),
                ],
                0..400,
            )
        ) {
            agrees_with_a_binary_heap(ops)?;
        }

        /// Interleaved rising runs (as from jobs on a few fixed intervals), with
        /// some entries out of order, also pop as from a binary heap.
        #[test]
        fn rising_runs_pop_in_the_order_of_a_binary_heap(
            ops in proptest::collection::vec(
                prop_oneof![
                    4 => (0_usize..3, 0_u64..4, 0_u32..1000).prop_map(Some),
                    1 => Just(None),
                ],
                0..600,
            )
        ) {
            // Each run's instant rises by `step`; run 2 sometimes goes back.
            let mut instants = [0_u64, 100, 1000];
            let timers = ops.into_iter().map(|op| {
                op.map(|(run, step, slot)| {
                    instants[run] = if run == 2 && step == 0 {
                        instants[run].saturating_sub(50)
                    } else {
                        instants[run] + step
                    };
                    (instants[run], slot, 0)
                })
            });
            agrees_with_a_binary_heap(timers)?;
        }
    }
}
