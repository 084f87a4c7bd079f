//! The timeouts of the requests in flight: a binary min-heap that can remove any
//! entry, for the fleet.
//!
//! Every request in flight has one entry, taken out when its answer comes, so the
//! heap never holds more than the requests in flight (at most `max_in_flight`) and
//! everything it touches stays in cache. Entries are ordered by `(instant, slot,
//! generation)`, like the fleet's other timers, so the order in which timers fire is
//! fully determined. Removal by id costs O(log k) with k entries: each entry's
//! position in the heap is kept in its record.

/// An entry's handle, to remove it.
pub(super) type FlightId = u32;

/// No entry.
pub(super) const NO_FLIGHT: FlightId = FlightId::MAX;

#[derive(Clone, Copy, Debug)]
struct Record {
    key: (u64, u32, u32),
    /// Its index in `heap`.
    position: u32,
}

#[derive(Debug, Default)]
pub(super) struct Flights {
    /// Ids, as a min-heap by their record's key.
    heap: Vec<FlightId>,
    records: Vec<Record>,
    free: Vec<FlightId>,
}

impl Flights {
    /// Adds a timeout at `at` for the job in `slot`; its id, to remove it.
    pub(super) fn insert(&mut self, at: u64, slot: u32, generation: u32) -> FlightId {
        let position = u32::try_from(self.heap.len()).unwrap_or(u32::MAX);
        let record = Record {
            key: (at, slot, generation),
            position,
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.records[id as usize] = record;
                id
            }
            None => {
                self.records.push(record);
                u32::try_from(self.records.len() - 1).unwrap_or(u32::MAX)
            }
        };
        self.heap.push(id);
        self.sift_up(self.heap.len() - 1);
        id
    }

    /// Removes the entry `id`. An id already removed changes nothing, unless a
    /// later insert has reused it: callers forget an id once it is removed.
    pub(super) fn remove(&mut self, id: FlightId) {
        let Some(record) = self.records.get(id as usize) else {
            return;
        };
        let position = record.position as usize;
        if self.heap.get(position) != Some(&id) {
            return;
        }
        let last = self.heap.len() - 1;
        self.swap(position, last);
        self.heap.pop();
        self.free.push(id);
        if position < self.heap.len() {
            self.sift_down(position);
            self.sift_up(position);
        }
    }

    /// The earliest entry.
    pub(super) fn first(&self) -> Option<(u64, u32, u32)> {
        self.heap.first().map(|id| self.key(*id))
    }

    /// Takes the earliest entry out.
    pub(super) fn pop_first(&mut self) -> Option<(u64, u32, u32)> {
        let id = *self.heap.first()?;
        let key = self.key(id);
        self.remove(id);
        Some(key)
    }

    /// How many entries there are.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.heap.len()
    }

    fn key(&self, id: FlightId) -> (u64, u32, u32) {
        self.records[id as usize].key
    }

    fn less(&self, a: usize, b: usize) -> bool {
        self.records[self.heap[a] as usize].key < self.records[self.heap[b] as usize].key
    }

    fn swap(&mut self, a: usize, b: usize) {
        self.heap.swap(a, b);
        for position in [a, b] {
            let id = self.heap[position] as usize;
            self.records[id].position = u32::try_from(position).unwrap_or(u32::MAX);
        }
    }

    fn sift_up(&mut self, mut position: usize) {
        while position > 0 {
            let parent = (position - 1) / 2;
            if !self.less(position, parent) {
                break;
            }
            self.swap(position, parent);
            position = parent;
        }
    }

    fn sift_down(&mut self, mut position: usize) {
        loop {
            let left = 2 * position + 1;
            if left >= self.heap.len() {
                break;
            }
            let right = left + 1;
            let child = if right < self.heap.len() && self.less(right, left) {
                right
            } else {
                left
            };
            if !self.less(child, position) {
                break;
            }
            self.swap(position, child);
            position = child;
        }
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
