//! The timeouts of the requests in flight: a binary min-heap that can remove any
//! entry, for the fleet.
//!
//! Every request in flight has one entry, taken out when its answer comes, so the
//! heap never holds more than the requests in flight (at most `max_in_flight`) and
//! everything it touches stays in cache. Entries are ordered by `(instant, slot,
//! generation)`, like the fleet's other timers, so the order in which timers fire is
//! fully determined. Removal by id costs O(log k) with k entries: each id's
//! position in the heap is kept beside it.

/// An entry's handle, to remove it.
pub(super) type FlightId = u32;

/// No entry.
pub(super) const NO_FLIGHT: FlightId = FlightId::MAX;

/// One entry, its key inline so that sifting compares without indirection.
#[derive(Clone, Copy, Debug)]
struct Node {
    key: (u64, u32, u32),
    id: FlightId,
}

#[derive(Debug, Default)]
pub(super) struct Flights {
    /// A min-heap by key.
    heap: Vec<Node>,
    /// Each id's index in `heap` (meaningless for a free id).
    positions: Vec<u32>,
    free: Vec<FlightId>,
}

impl Flights {
    /// Adds a timeout at `at` for the job in `slot`; its id, to remove it.
    pub(super) fn insert(&mut self, at: u64, slot: u32, generation: u32) -> FlightId {
        let id = match self.free.pop() {
            Some(id) => id,
            None => {
                self.positions.push(0);
                u32::try_from(self.positions.len() - 1).unwrap_or(u32::MAX)
            }
        };
        self.heap.push(Node {
            key: (at, slot, generation),
            id,
        });
        self.sift_up(self.heap.len() - 1);
        id
    }

    /// Removes the entry `id`. An id already removed changes nothing, unless a
    /// later insert has reused it: callers forget an id once it is removed.
    pub(super) fn remove(&mut self, id: FlightId) {
        let Some(position) = self.positions.get(id as usize).map(|p| *p as usize) else {
            return;
        };
        if self.heap.get(position).is_none_or(|node| node.id != id) {
            return;
        }
        self.free.push(id);
        let Some(last) = self.heap.pop() else {
            return;
        };
        if position == self.heap.len() {
            return;
        }
        // The last node fills the hole, then finds its place.
        self.place(position, last);
        if position > 0 && last.key < self.heap[(position - 1) / 2].key {
            self.sift_up(position);
        } else {
            self.sift_down(position);
        }
    }

    /// The earliest entry.
    pub(super) fn first(&self) -> Option<(u64, u32, u32)> {
        self.heap.first().map(|node| node.key)
    }

    /// Takes the earliest entry out.
    pub(super) fn pop_first(&mut self) -> Option<(u64, u32, u32)> {
        let first = *self.heap.first()?;
        self.remove(first.id);
        Some(first.key)
    }

    /// How many entries there are.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.heap.len()
    }

    fn place(&mut self, position: usize, node: Node) {
        self.heap[position] = node;
        self.positions[node.id as usize] = u32::try_from(position).unwrap_or(u32::MAX);
    }

    fn sift_up(&mut self, mut position: usize) {
        let node = self.heap[position];
        while position > 0 {
            let parent = (position - 1) / 2;
            if node.key >= self.heap[parent].key {
                break;
            }
            self.place(position, self.heap[parent]);
            position = parent;
        }
        self.place(position, node);
    }

    fn sift_down(&mut self, mut position: usize) {
        let node = self.heap[position];
        let len = self.heap.len();
        loop {
            let left = 2 * position + 1;
            if left >= len {
                break;
            }
            let right = left + 1;
            let child = if right < len && self.heap[right].key < self.heap[left].key {
                right
            } else {
                left
            };
            if self.heap[child].key >= node.key {
                break;
            }
            self.place(position, self.heap[child]);
            position = child;
        }
        self.place(position, node);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use proptest::prelude::*;

    use super::*;

    #[derive(Clone, Debug)]
    enum Op {
        Insert(u64, u32),
        /// Removes the n-th live entry (modulo their number).
        Remove(usize),
        Pop,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0u64..50, 0u32..8).prop_map(|(at, slot)| Op::Insert(at, slot)),
            2 => any::<usize>().prop_map(Op::Remove),
            1 => Just(Op::Pop),
        ]
    }

    proptest! {
        /// The heap agrees with an ordered set after any mix of inserts, removals
        /// by id and pops; ids of removed entries are reused safely.
        #[test]
        fn agrees_with_an_ordered_set(ops in prop::collection::vec(op(), 0..200)) {
            let mut flights = Flights::default();
            let mut model = BTreeSet::new();
            let mut ids = BTreeMap::new();
            let mut generation = 0;
            for op in ops {
                match op {
                    Op::Insert(at, slot) => {
                        generation += 1;
                        let key = (at, slot, generation);
                        ids.insert(key, flights.insert(at, slot, generation));
                        model.insert(key);
                    }
                    Op::Remove(n) if !model.is_empty() => {
                        let key = *model.iter().nth(n % model.len()).unwrap();
                        flights.remove(ids.remove(&key).unwrap());
                        model.remove(&key);
                    }
                    Op::Remove(_) => {}
                    Op::Pop => {
                        let popped = flights.pop_first();
                        prop_assert_eq!(popped, model.pop_first());
                        if let Some(key) = popped {
                            ids.remove(&key);
                        }
                    }
                }
                prop_assert_eq!(flights.first(), model.first().copied());
                prop_assert_eq!(flights.len(), model.len());
            }
        }
    }

    #[test]
    fn removing_a_stale_id_changes_nothing() {
        let mut flights = Flights::default();
        let a = flights.insert(5, 1, 1);
        let b = flights.insert(3, 2, 1);
        flights.remove(a);
        // `a`'s record is free; removing it again must not touch `b`.
        flights.remove(a);
        assert_eq!(flights.first(), Some((3, 2, 1)));
        flights.remove(b);
        assert_eq!(flights.first(), None);
    }
}
