//! What happens next: a queue of things due at instants, in time order, and in the
//! order they were scheduled among things due at the same instant.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use jobpoll_core::Instant;

/// One thing due at an instant.
struct Due<K> {
    at: Instant,
    sequence: u64,
    kind: K,
}

impl<K> PartialEq for Due<K> {
    fn eq(&self, other: &Due<K>) -> bool {
        (self.at, self.sequence) == (other.at, other.sequence)
    }
}
impl<K> Eq for Due<K> {}
impl<K> PartialOrd for Due<K> {
    fn partial_cmp(&self, other: &Due<K>) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<K> Ord for Due<K> {
    fn cmp(&self, other: &Due<K>) -> std::cmp::Ordering {
        (self.at, self.sequence).cmp(&(other.at, other.sequence))
    }
}

/// Things due, earliest first; ties in scheduling order.
pub(crate) struct Agenda<K> {
    queue: BinaryHeap<Reverse<Due<K>>>,
    sequence: u64,
}

impl<K> Agenda<K> {
    /// An empty agenda.
    pub(crate) fn new() -> Agenda<K> {
        Agenda {
            queue: BinaryHeap::new(),
            sequence: 0,
        }
    }

    /// Schedules `kind` at `at`.
    pub(crate) fn push(&mut self, at: Instant, kind: K) {
        self.sequence += 1;
        self.queue.push(Reverse(Due {
            at,
            sequence: self.sequence,
            kind,
        }));
    }

    /// The earliest thing due, and when.
    pub(crate) fn pop(&mut self) -> Option<(Instant, K)> {
        self.queue.pop().map(|Reverse(due)| (due.at, due.kind))
    }

    /// When the earliest thing is due.
    pub(crate) fn next_at(&self) -> Option<Instant> {
        self.queue.peek().map(|Reverse(due)| due.at)
    }

    /// Forgets everything scheduled (the count of scheduled things goes on).
    pub(crate) fn clear(&mut self) {
        self.queue.clear();
    }
}
