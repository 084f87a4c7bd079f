//! The time limits of the requests in flight, for the fleet: a queue that can remove
//! any entry by id.
//!
//! Every request in flight has one entry, taken out when its answer comes, so the
//! queue never holds many more than the requests in flight (at most
//! `max_in_flight`) and everything it touches stays in cache. Entries are ordered by
//! `(instant, slot, generation)`, like the fleet's other timers, so the order in
//! which timers fire is fully determined.
//!
//! A request's time limit is "now plus the configured limit", and now only grows:
//! with one limit for every job, entries arrive in rising order and the answers
//! come back in about the same order. Those entries go to a *lane*, a queue in
//! rising order: inserting is O(1), and removing an answered request marks its
//! place as a hole, O(1); holes at the front are dropped at once, and the lane is
//! compacted when its holes outnumber its entries, so it stays at most about twice
//! the requests in flight. Entries that would break the lane's order go to a
//! binary min-heap, where removal by id costs O(log k): each id's position in the
//! heap is kept beside it. The earliest entry is the lesser of the lane's front
//! and the heap's root.

use std::collections::VecDeque;

/// An entry's handle, to remove it.
pub(super) type FlightId = u32;

/// No entry.
pub(super) const NO_FLIGHT: FlightId = FlightId::MAX;

/// A position with this bit set is a number in the lane, else an index in the heap.
const IN_LANE: u32 = 1 << 31;

/// The lane is compacted when it has more holes than this and than entries.
const COMPACT_AFTER: usize = if cfg!(test) { 4 } else { 64 };

/// One entry, its key inline so that sifting compares without indirection.
#[derive(Clone, Copy, Debug)]
struct Node {
    key: (u64, u32, u32),
    /// [`NO_FLIGHT`] for a hole in the lane.
    id: FlightId,
}

#[derive(Debug, Default)]
pub(super) struct Flights {
    /// A min-heap by key.
    heap: Vec<Node>,
    /// Entries in rising order of key, holes included; never a hole at the front.
    lane: VecDeque<Node>,
    /// The number of the lane's front entry: an entry's number is its index in
    /// the lane plus this. Numbers stay below [`IN_LANE`].
    lane_start: u32,
    /// Holes in the lane.
    holes: usize,
    /// Each id's place (meaningless for a free id): its index in `heap`, or
    /// [`IN_LANE`] with its number in the lane.
    positions: Vec<u32>,
    free: Vec<FlightId>,
}

impl Flights {
    /// Adds a time limit ending at `at` for the job in `slot`; its id, to remove it.
    pub(super) fn insert(&mut self, at: u64, slot: u32, generation: u32) -> FlightId {
        let id = match self.free.pop() {
            Some(id) => id,
            None => {
                self.positions.push(0);
                u32::try_from(self.positions.len() - 1).unwrap_or(u32::MAX)
            }
        };
        let node = Node {
            key: (at, slot, generation),
            id,
        };
        if self.lane.back().is_none_or(|back| back.key <= node.key) {
            if u64::from(self.lane_start) + self.lane.len() as u64 >= u64::from(IN_LANE) {
                self.compact();
            }
            let number = self.lane_start + u32::try_from(self.lane.len()).unwrap_or(0);
            self.lane.push_back(node);
            self.positions[id as usize] = IN_LANE | number;
        } else {
            self.heap.push(node);
            self.sift_up(self.heap.len() - 1);
        }
        id
    }

    /// Removes the entry `id`. An id already removed changes nothing, unless a
    /// later insert has reused it: callers forget an id once it is removed.
    pub(super) fn remove(&mut self, id: FlightId) {
        let Some(&position) = self.positions.get(id as usize) else {
            return;
        };
        if position & IN_LANE != 0 {
            self.remove_from_lane(id, position & !IN_LANE);
        } else {
            self.remove_from_heap(id, position as usize);
        }
    }

    /// The earliest entry.
    pub(super) fn first(&self) -> Option<(u64, u32, u32)> {
        let heap = self.heap.first().map(|node| node.key);
        let lane = self.lane.front().map(|node| node.key);
        match (heap, lane) {
            (Some(heap), Some(lane)) => Some(heap.min(lane)),
            (heap, lane) => heap.or(lane),
        }
    }

    /// Takes the earliest entry out.
    pub(super) fn pop_first(&mut self) -> Option<(u64, u32, u32)> {
        let heap = self.heap.first().copied();
        let lane = self.lane.front().copied();
        let first = match (heap, lane) {
            (Some(heap), Some(lane)) if heap.key < lane.key => heap,
            (_, Some(lane)) => lane,
            (heap, None) => heap?,
        };
        self.remove(first.id);
        Some(first.key)
    }

    /// How many entries there are.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.heap.len() + self.lane.len() - self.holes
    }

    /// Turns the lane entry `id`, numbered `number`, into a hole.
    fn remove_from_lane(&mut self, id: FlightId, number: u32) {
        let Some(index) = number.checked_sub(self.lane_start) else {
            return;
        };
        let Some(node) = self.lane.get_mut(index as usize) else {
            return;
        };
        if node.id != id {
            return;
        }
        node.id = NO_FLIGHT;
        self.holes += 1;
        self.free.push(id);
        while self.lane.front().is_some_and(|node| node.id == NO_FLIGHT) {
            self.lane.pop_front();
            self.lane_start += 1;
            self.holes -= 1;
        }
        if self.lane.is_empty() {
            self.lane_start = 0;
        } else if self.holes > COMPACT_AFTER && 2 * self.holes > self.lane.len() {
            self.compact();
        }
    }

    /// Drops the lane's holes and numbers its entries from 0.
    fn compact(&mut self) {
        self.lane.retain(|node| node.id != NO_FLIGHT);
        self.holes = 0;
        self.lane_start = 0;
        for (number, node) in self.lane.iter().enumerate() {
            self.positions[node.id as usize] = IN_LANE | u32::try_from(number).unwrap_or(0);
        }
    }

    fn remove_from_heap(&mut self, id: FlightId, position: usize) {
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
    use proptest::test_runner::TestCaseError;

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

    /// Runs `ops` on the queue and on an ordered set, checking after each that
    /// both agree and that the lane holds at most about twice the entries. An
    /// insert's instant is `instant` of its number.
    fn agrees_with_an_ordered_set(
        ops: Vec<Op>,
        mut instant: impl FnMut(u64) -> u64,
    ) -> Result<(), TestCaseError> {
        let mut flights = Flights::default();
        let mut model = BTreeSet::new();
        let mut ids = BTreeMap::new();
        let mut generation = 0;
        for op in ops {
            match op {
                Op::Insert(at, slot) => {
                    generation += 1;
                    let at = instant(at);
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
            prop_assert!(flights.lane.len() <= 2 * model.len() + COMPACT_AFTER + 1);
        }
        Ok(())
    }

    fn rising_op() -> impl Strategy<Value = Op> {
        prop_oneof![
            // Mostly later than the last, sometimes earlier (to the heap).
            4 => (0u64..3, 0u32..8).prop_map(|(step, slot)| Op::Insert(step, slot)),
            3 => any::<usize>().prop_map(Op::Remove),
            1 => Just(Op::Pop),
        ]
    }

    proptest! {
        /// The queue agrees with an ordered set after any mix of inserts,
        /// removals by id and pops; ids of removed entries are reused safely.
        #[test]
        fn any_inserts_agree_with_an_ordered_set(ops in prop::collection::vec(op(), 0..200)) {
            agrees_with_an_ordered_set(ops, |at| at)?;
        }

        /// Rising inserts (time limits of one length) fill the lane; removals in the
        /// middle leave holes that compaction clears.
        #[test]
        fn rising_inserts_agree_with_an_ordered_set(ops in prop::collection::vec(rising_op(), 0..400)) {
            let mut now = 100;
            // A step of 0 goes back in time: out of the lane's order.
            agrees_with_an_ordered_set(ops, |step| {
                now = if step == 0 { now - 1 } else { now + step - 1 };
                now
            })?;
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

    #[test]
    fn a_stale_id_in_the_lane_changes_nothing_after_compaction() {
        let mut flights = Flights::default();
        let ids: Vec<_> = (0..20).map(|n| flights.insert(n, 0, 1)).collect();
        // Holes in the middle, enough to compact.
        for &id in &ids[1..15] {
            flights.remove(id);
        }
        assert!(flights.lane.len() < 20, "compacted");
        // Stale ids, some now numbering live entries' places.
        for &id in &ids[1..15] {
            flights.remove(id);
        }
        assert_eq!(flights.len(), 6);
        assert_eq!(flights.pop_first(), Some((0, 0, 1)));
        assert_eq!(flights.pop_first(), Some((15, 0, 1)));
    }
}
