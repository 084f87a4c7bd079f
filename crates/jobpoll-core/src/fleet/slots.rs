//! Where the fleet keeps its jobs: a table of slots in chunks, each holding
//! one live job's entry and its subscribers.
//!
//! A slot is used again once its job has ended, under a new generation, so that
//! a [`JobKey`] is never reused: a key of a finished job finds nothing. (A
//! `slab::Slab` would reuse its keys and forget the generation of a free slot,
//! and its one `Vec` would copy the whole table, and hold it twice for a moment,
//! each time it grows.)

use smallvec::SmallVec;

use crate::job::Job;

use super::JobKey;
use super::flights::FlightId;

/// Subscribers of one job, by number: nearly always one, kept inline (no
/// allocation for that case).
pub(super) type Subscribers = SmallVec<[u32; 1]>;

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
    len: u32,
    /// Empty slots below `len`, the last one emptied first.
    free: Vec<u32>,
    /// Slots that hold a job.
    live: usize,
}

impl<P> Default for Slots<P> {
    fn default() -> Slots<P> {
        Slots {
            chunks: Vec::new(),
            len: 0,
            free: Vec::new(),
            live: 0,
        }
    }
}

impl<P> Slots<P> {
    /// Slots in the table, empty ones included.
    pub(super) fn len(&self) -> u32 {
        self.len
    }

    /// Slots that hold a job.
    pub(super) fn live(&self) -> usize {
        self.live
    }

    /// Puts a new job in an empty slot; its key.
    pub(super) fn insert(&mut self, entry: Entry<P>) -> JobKey {
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => self.grow(),
        };
        self.live += 1;
        let place = &mut self[slot];
        place.entry = Some(entry);
        JobKey {
            slot,
            generation: place.generation,
        }
    }

    /// Takes the job behind `key` out; its slot takes a new generation.
    pub(super) fn remove(&mut self, key: JobKey) -> Option<Entry<P>> {
        let place = self
            .get_mut(key.slot)
            .filter(|place| place.generation == key.generation)?;
        let entry = place.entry.take()?;
        place.generation = place.generation.wrapping_add(1);
        self.free.push(key.slot);
        self.live -= 1;
        Some(entry)
    }

    /// The key of the job in `slot`, if one is there.
    pub(super) fn key(&self, slot: u32) -> Option<JobKey> {
        let place = self.get(slot)?;
        place.entry.as_ref().map(|_| JobKey {
            slot,
            generation: place.generation,
        })
    }

    /// The job behind `key`, while it runs.
    pub(super) fn entry(&self, key: JobKey) -> Option<&Entry<P>> {
        let place = self.get(key.slot)?;
        if place.generation != key.generation {
            return None;
        }
        place.entry.as_ref()
    }

    /// The job behind `key`, while it runs.
    pub(super) fn entry_mut(&mut self, key: JobKey) -> Option<&mut Entry<P>> {
        let place = self.get_mut(key.slot)?;
        if place.generation != key.generation {
            return None;
        }
        place.entry.as_mut()
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
    fn grow(&mut self) -> u32 {
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
