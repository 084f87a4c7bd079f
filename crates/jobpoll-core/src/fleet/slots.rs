//! Where the fleet keeps its jobs: a table of slots in chunks, each holding
//! one live job's entry and its subscribers.

use crate::job::Job;

use super::flights::FlightId;

/// Subscribers of one job: nearly always one, so no allocation for that case.
/// The list is boxed to keep this 16 bytes in every job's entry.
#[derive(Debug)]
#[allow(clippy::box_collection)]
pub(super) enum Subscribers {
    One(u32),
    Many(Box<Vec<u32>>),
}

impl Subscribers {
    pub(super) fn len(&self) -> usize {
        match self {
            Subscribers::One(_) => 1,
            Subscribers::Many(list) => list.len(),
        }
    }

    pub(super) fn contains(&self, number: u32) -> bool {
        match self {
            Subscribers::One(n) => *n == number,
            Subscribers::Many(list) => list.contains(&number),
        }
    }

    pub(super) fn push(&mut self, number: u32) {
        match self {
            Subscribers::One(first) => *self = Subscribers::Many(Box::new(vec![*first, number])),
            Subscribers::Many(list) => list.push(number),
        }
    }

    pub(super) fn remove(&mut self, number: u32) {
        if let Subscribers::Many(list) = self {
            list.retain(|n| *n != number);
            if let [only] = list.as_slice() {
                *self = Subscribers::One(*only);
            }
        }
    }

    pub(super) fn numbers(&self) -> &[u32] {
        match self {
            Subscribers::One(n) => std::slice::from_ref(n),
            Subscribers::Many(list) => list,
        }
    }
}

/// One live job.
#[derive(Debug)]
pub(super) struct Entry<P> {
    pub(super) job: Job<P>,
    pub(super) origin: u32,
    /// Its key in the sharing index, when it holds one ([`NO_SHARE`](super::sharing::NO_SHARE) otherwise).
    pub(super) share_key: u64,
    /// The instant (µs) of its timer entry, `u64::MAX` for none.
    pub(super) timer_at: u64,
    /// When that entry is in `flights` (its request's time limit) rather than in
    /// `timers`: its id there, else [`NO_FLIGHT`](super::flights::NO_FLIGHT).
    pub(super) flight: FlightId,
    pub(super) subscribers: Subscribers,
    pub(super) next_subscriber: u32,
    /// A request of this job is in flight (counted against the limits).
    pub(super) in_flight: bool,
    /// In its origin's waiting queue.
    pub(super) queued: bool,
}

#[derive(Debug)]
pub(super) struct Slot<P> {
    pub(super) generation: u32,
    pub(super) entry: Option<Entry<P>>,
}

/// Slots per chunk of [`Slots`].
pub(super) const CHUNK: usize = 1024;

/// The slot table, in chunks of [`CHUNK`] slots: it grows without copying what it
/// holds (a doubling `Vec` of a million jobs would copy 400 MB and hold twice that
/// for a moment), and at most one chunk stands empty.
#[derive(Debug)]
pub(super) struct Slots<P> {
    pub(super) chunks: Vec<Box<[Slot<P>]>>,
    pub(super) len: u32,
}

impl<P> Default for Slots<P> {
    fn default() -> Slots<P> {
        Slots {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<P> Slots<P> {
    pub(super) fn len(&self) -> u32 {
        self.len
    }

    pub(super) fn get(&self, slot: u32) -> Option<&Slot<P>> {
        let slot = slot as usize;
        self.chunks.get(slot / CHUNK)?.get(slot % CHUNK)
    }

    pub(super) fn get_mut(&mut self, slot: u32) -> Option<&mut Slot<P>> {
        let slot = slot as usize;
        self.chunks.get_mut(slot / CHUNK)?.get_mut(slot % CHUNK)
    }

    /// One more slot, empty; its number.
    pub(super) fn grow(&mut self) -> u32 {
        if self.len as usize == self.chunks.len() * CHUNK {
            let chunk = (0..CHUNK)
                .map(|_| Slot {
                    generation: 0,
                    entry: None,
                })
                .collect();
            self.chunks.push(chunk);
        }
        self.len += 1;
        self.len - 1
    }
}

impl<P> std::ops::Index<u32> for Slots<P> {
    type Output = Slot<P>;

    fn index(&self, slot: u32) -> &Slot<P> {
        let slot = slot as usize;
        &self.chunks[slot / CHUNK][slot % CHUNK]
    }
}

impl<P> std::ops::IndexMut<u32> for Slots<P> {
    fn index_mut(&mut self, slot: u32) -> &mut Slot<P> {
        let slot = slot as usize;
        &mut self.chunks[slot / CHUNK][slot % CHUNK]
    }
}
