//! The fleet's table of origins (`scheme://host:port`).
//!
//! Origins are numbered, and a job keeps its origin's number. Status URLs come
//! from servers (`Location`, `Azure-AsyncOperation`), so a server can name a new
//! host for every job: an origin that nothing needs any more leaves the table,
//! and its number is used again. An origin is needed while a job counts against
//! it, a request of it is in flight, the user paused it, or a throttle hold on it
//! has not ended. The lowest free number is reused first and free numbers at the
//! end of the table are dropped, so the table shrinks back when the origins go.
//!
//! Heaps of the fleet refer to an origin by number and *generation*: every origin
//! put in the table gets a generation of its own, so an entry left in a heap for
//! an origin that has gone never matches the origin that later takes its number.

use std::collections::{BTreeSet, HashMap, VecDeque};

use bytes::Bytes;
use core::time::Duration;
use url::Url;

use crate::hints::{read_hints, read_rate_limit};

use super::JobKey;
use super::pace::Pace;

/// Room a table that has emptied may keep (origins, and names in the index).
const KEPT_ROOM: usize = 64;

/// What the fleet knows about one origin.
#[derive(Debug)]
pub(super) struct Origin {
    pub(super) name: String,
    pub(super) in_flight: u32,
    /// No request before this instant (µs), but a cancel request: the latest wait
    /// a rate-limit answer from this origin asked for.
    pub(super) throttled_until: u64,
    /// How fast it may be sent to since its last hold (see [`Pace`]).
    pub(super) pace: Pace,
    pub(super) paused: bool,
    /// Jobs with a request due, in arrival order; stale entries (finished or
    /// released jobs) are skipped when popped.
    pub(super) waiting: VecDeque<JobKey>,
    /// Whether the origin is in the fleet's ring.
    pub(super) in_ring: bool,
    /// When it last sent (a counter): the ring serves the origin that waited longest.
    pub(super) turn: u64,
    /// Jobs that count against this origin.
    pub(super) jobs: u32,
    /// Its own generation (see the module documentation).
    pub(super) generation: u32,
    /// In use (a free number's entry is blank).
    live: bool,
}

impl Origin {
    fn blank() -> Origin {
        Origin {
            name: String::new(),
            in_flight: 0,
            throttled_until: 0,
            pace: Pace::default(),
            paused: false,
            waiting: VecDeque::new(),
            in_ring: false,
            turn: 0,
            jobs: 0,
            generation: 0,
            live: false,
        }
    }
}

/// The origins, numbered.
#[derive(Debug, Default)]
pub(super) struct Origins {
    table: Vec<Origin>,
    index: HashMap<String, u32>,
    /// Free numbers below `table.len()`.
    free: BTreeSet<u32>,
    /// The generation the next origin gets.
    generations: u32,
}

impl Origins {
    /// Origins in the table.
    pub(super) fn len(&self) -> usize {
        self.index.len()
    }

    /// One past the highest number in use (numbers below it may be free).
    pub(super) fn end(&self) -> u32 {
        u32::try_from(self.table.len()).unwrap_or(u32::MAX)
    }

    /// Origins a throttle hold keeps back past `now`.
    pub(super) fn throttled(&self, now: u64) -> usize {
        self.table
            .iter()
            .filter(|o| o.live && o.throttled_until > now)
            .count()
    }

    /// The number of the origin called `name`, if it is in the table.
    pub(super) fn find(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }

    /// The origin `id` of generation `generation`, if it is still that one.
    pub(super) fn current(&mut self, id: u32, generation: u32) -> Option<&mut Origin> {
        self.table
            .get_mut(id as usize)
            .filter(|o| o.live && o.generation == generation)
    }

    /// The number of the origin called `name`, put in the table at `now` (µs) if
    /// it is new.
    pub(super) fn intern(&mut self, name: String, now: u64) -> u32 {
        if let Some(id) = self.index.get(&name) {
            return *id;
        }
        let generation = self.generations;
        self.generations = self.generations.wrapping_add(1);
        let origin = Origin {
            name: name.clone(),
            generation,
            live: true,
            pace: Pace::starting(now),
            ..Origin::blank()
        };
        let id = match self.free.pop_first() {
            Some(id) => {
                self.table[id as usize] = origin;
                id
            }
            None => {
                self.table.push(origin);
                self.end() - 1
            }
        };
        self.index.insert(name, id);
        id
    }

    /// Takes origin `id` out of the table if nothing needs it at `now` (see the
    /// module documentation). Once no job counts against it, whatever its queue
    /// still holds is stale, and is dropped with it.
    pub(super) fn retire_if_idle(&mut self, id: u32, now: u64) {
        let Some(o) = self.table.get_mut(id as usize) else {
            return;
        };
        if !o.live || o.jobs > 0 || o.in_flight > 0 || o.paused || o.throttled_until > now {
            return;
        }
        self.index.remove(&o.name);
        *o = Origin::blank();
        self.free.insert(id);
        // Free numbers at the end leave the table.
        while self.table.last().is_some_and(|o| !o.live) {
            self.table.pop();
            self.free.pop_last();
        }
        if self.table.capacity() > KEPT_ROOM && self.table.len() * 4 < self.table.capacity() {
            self.table.shrink_to(self.table.len() * 2);
        }
        if self.index.capacity() > KEPT_ROOM && self.index.len() * 4 < self.index.capacity() {
            self.index.shrink_to(self.index.len() * 2);
        }
    }

    /// Room held for origins: entries of the table, free ones included.
    #[cfg(test)]
    pub(super) fn room(&self) -> usize {
        self.table.capacity()
    }
}

impl std::ops::Index<u32> for Origins {
    type Output = Origin;

    fn index(&self, id: u32) -> &Origin {
        &self.table[id as usize]
    }
}

impl std::ops::IndexMut<u32> for Origins {
    fn index_mut(&mut self, id: u32) -> &mut Origin {
        &mut self.table[id as usize]
    }
}

/// The wait an answer asks of its whole origin, capped at `cap` (the receiving
/// job's `max_hint`): a rate limit, not one job's pace. That is the wait of a 429
/// or 503 (`Retry-After`, `retry-after-ms`, `RateLimit`), or on any other answer
/// the wait of an exhausted `RateLimit` budget alone. A `Retry-After` on a 2xx
/// (Azure's and Google's "poll this again in 1 s") is about that one job.
pub(super) fn origin_wait(response: &http::Response<Bytes>, cap: Duration) -> Option<Duration> {
    let hints = if matches!(response.status().as_u16(), 429 | 503) {
        read_hints(response.headers(), cap)
    } else {
        read_rate_limit(response.headers(), cap)
    };
    hints.wait.map(|hint| hint.delay)
}

/// `scheme://host:port` of a URL (the port always written).
pub(super) fn origin_name(url: &Url) -> String {
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_origin_leaves_and_its_number_is_reused_with_a_new_generation() {
        let mut origins = Origins::default();
        let a = origins.intern("https://a:443".to_owned(), 0);
        let b = origins.intern("https://b:443".to_owned(), 0);
        assert_eq!(origins.intern("https://a:443".to_owned(), 0), a);
        origins[a].jobs = 1;
        origins.retire_if_idle(a, 0);
        assert_eq!(origins.len(), 2, "a job counts against it");
        origins[a].jobs = 0;
        let old = origins[a].generation;
        origins.retire_if_idle(a, 0);
        assert_eq!(origins.len(), 1);
        assert!(origins.find("https://a:443").is_none());
        assert!(origins.current(a, old).is_none());
        let c = origins.intern("https://c:443".to_owned(), 0);
        assert_eq!(c, a, "the lowest free number first");
        assert!(
            origins.current(c, old).is_none(),
            "a stale entry never matches"
        );
        let new = origins[c].generation;
        assert!(origins.current(c, new).is_some());
        assert!(origins.current(b, origins[b].generation).is_some());
    }

    #[test]
    fn a_hold_a_pause_or_a_request_in_flight_keeps_an_origin() {
        let mut origins = Origins::default();
        let a = origins.intern("https://a:443".to_owned(), 0);
        origins[a].throttled_until = 10;
        origins.retire_if_idle(a, 9);
        assert_eq!(origins.len(), 1, "held until 10");
        origins.retire_if_idle(a, 10);
        assert_eq!(origins.len(), 0);
        let a = origins.intern("https://a:443".to_owned(), 0);
        origins[a].paused = true;
        origins.retire_if_idle(a, 0);
        assert_eq!(origins.len(), 1, "paused by the user");
        origins[a].paused = false;
        origins[a].in_flight = 1;
        origins.retire_if_idle(a, 0);
        assert_eq!(origins.len(), 1, "a request in flight");
    }

    #[test]
    fn only_origins_held_past_now_count_as_throttled() {
        let mut origins = Origins::default();
        let a = origins.intern("https://a:443".to_owned(), 0);
        let b = origins.intern("https://b:443".to_owned(), 0);
        origins.intern("https://c:443".to_owned(), 0);
        origins[a].throttled_until = 10;
        origins[b].throttled_until = 20;
        assert_eq!(origins.throttled(0), 2);
        assert_eq!(origins.throttled(10), 1, "a's hold ends at 10");
        // b leaves the table once its hold is over; its blank entry never counts.
        origins[b].throttled_until = 0;
        origins.retire_if_idle(b, 0);
        assert_eq!(origins.throttled(0), 1);
        assert_eq!(origins.throttled(20), 0);
    }

    #[test]
    fn the_table_shrinks_back_when_its_origins_go() {
        let mut origins = Origins::default();
        let ids: Vec<u32> = (0..10_000)
            .map(|n| origins.intern(format!("https://h{n}:443"), 0))
            .collect();
        assert!(origins.room() >= 10_000);
        // Out of order: numbers in the middle go to the free set first.
        for id in ids.iter().rev().step_by(2).chain(ids.iter().step_by(2)) {
            origins.retire_if_idle(*id, 0);
        }
        assert_eq!(origins.len(), 0);
        assert_eq!(origins.end(), 0);
        assert!(origins.free.is_empty());
        assert!(origins.room() <= KEPT_ROOM, "{} kept", origins.room());
        assert!(origins.index.capacity() <= 4 * KEPT_ROOM);
    }
}
