//! Several pages (tabs) on one storage key: who runs a saved job, and how each
//! page's writes are merged into what the others wrote.
//!
//! Every `Jobs` with storage has an owner id. A saved job records its owner;
//! `<storageKey>/v1/owners` holds `{ownerId: lastSeenMs}` (`Date.now()`), which
//! each owner refreshes while it saves (its lease). A page takes a saved job
//! into its own fleet only when the job is its own, or its owner has no lease,
//! or the lease is older than [`LEASE_MS`]: a job runs in one page at a time.
//!
//! The index of saved jobs, the history and the results are written by
//! read-modify-write: the stored value is read again and only this page's own
//! changes are applied to it. `localStorage` is synchronous, so the read and the
//! write are microseconds apart; two pages writing in that window can still
//! lose one change (see `docs/decisions.md`).
//!
//! Plain Rust (no JavaScript), so that the merges are tested on every target.

use serde_json::{Map, Value};

use crate::store::{self, Ids, Index, Stored};

/// How long an owner's lease holds after it was last refreshed (ms). A page
/// refreshes its lease at least every third of this while it runs saved jobs;
/// browsers run a hidden page's timers as seldom as once a minute, which this
/// outlasts. A page that closes gives its lease up at once (`pagehide`).
pub const LEASE_MS: f64 = 90_000.0;

/// How often a page refreshes its lease while it runs saved jobs (ms).
pub const REFRESH_MS: f64 = LEASE_MS / 3.0;

/// The least time between two refreshes made because the page saved (ms): a
/// page that saves many times a second writes its lease once a second.
pub const SAVE_REFRESH_MS: f64 = 1_000.0;

/// An owner not seen for this long (ms) is removed from the owners when they
/// are written, so that they stay few.
pub const FORGET_OWNER_MS: f64 = 10.0 * LEASE_MS;

/// The owners' leases: `{ownerId: lastSeenMs}`, by owner id (a sorted list:
/// a page sees a handful of owners, and a map of its own type would be code
/// kept for this alone).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Owners(Vec<(String, f64)>);

impl Owners {
    /// No leases.
    pub fn new() -> Owners {
        Owners::default()
    }

    /// When `owner` was last seen, if it has a lease.
    pub fn get(&self, owner: &str) -> Option<f64> {
        self.0
            .iter()
            .find(|(id, _)| id == owner)
            .map(|(_, seen)| *seen)
    }

    /// `owner` seen at `seen`.
    pub fn set(&mut self, owner: &str, seen: f64) {
        match self.0.binary_search_by(|(id, _)| id.as_str().cmp(owner)) {
            Ok(at) => self.0[at].1 = seen,
            Err(at) => self.0.insert(at, (owner.to_owned(), seen)),
        }
    }

    /// Whether there are no leases.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The leases as stored, `{ownerId: lastSeenMs}`.
    pub fn to_data(&self) -> Value {
        let mut map = Map::new();
        for (owner, seen) in &self.0 {
            map.insert(owner.clone(), Value::from(*seen));
        }
        Value::Object(map)
    }
}

impl Stored for Owners {
    fn from_data(data: &Value) -> Result<Owners, String> {
        // The map's keys come sorted.
        let mut owners = Owners::new();
        for (owner, seen) in store::object(data)? {
            let seen = seen
                .as_f64()
                .ok_or_else(|| format!("the lease of `{owner}` is not a number"))?;
            owners.0.push((owner.clone(), seen));
        }
        Ok(owners)
    }
}

/// The owner a saved job's data names, when it was saved with one.
pub fn owner_of(data: &serde_json::Value) -> Option<&str> {
    data.get("owner")?.as_str()
}

/// The next id an index's data holds (0 when it holds none that fits).
pub fn next_id_of(data: &serde_json::Value) -> u32 {
    data.get("nextId").and_then(store::as_u32).unwrap_or(0)
}

/// Whether the page `me` may take a job saved by `owner` at `now`: its own, an
/// owner without a lease (a job saved before owners were kept, or by a page
/// that was freed), or a lease older than [`LEASE_MS`].
pub fn may_take(owner: Option<&str>, me: &str, owners: &Owners, now: f64) -> bool {
    let Some(owner) = owner else {
        return true;
    };
    if owner == me {
        return true;
    }
    match owners.get(owner) {
        None => true,
        Some(seen) => now - seen >= LEASE_MS,
    }
}

/// Whether another page runs as `owner` at `now`: its lease is live. A page
/// gives its lease up when it closes or reloads, so a new page that finds its
/// tab's owner id leased is a copy of another tab (a duplicated tab, whose
/// `sessionStorage` is the original's) and takes an id of its own.
pub fn leased(owners: &Owners, owner: &str, now: f64) -> bool {
    owners.get(owner).is_some_and(|seen| now - seen < LEASE_MS)
}

/// `owners` with `me` seen at `now`, and the owners not seen for
/// [`FORGET_OWNER_MS`] removed.
pub fn refreshed(mut owners: Owners, me: &str, now: f64) -> Owners {
    owners.0.retain(|(_, seen)| now - *seen < FORGET_OWNER_MS);
    owners.set(me, now);
    owners
}

/// `owners` without `me`, and without the owners not seen for
/// [`FORGET_OWNER_MS`].
pub fn released(mut owners: Owners, me: &str, now: f64) -> Owners {
    owners
        .0
        .retain(|(owner, seen)| owner != me && now - *seen < FORGET_OWNER_MS);
    owners
}

/// The index to write: the stored one (if any) with this page's own additions
/// and removals applied, and the next id the larger of the two.
pub fn merged_index(stored: Option<Index>, added: &Ids, removed: &Ids, next_id: u32) -> Index {
    let mut index = stored.unwrap_or_default();
    for id in added.iter() {
        index.ids.insert(id);
    }
    index.ids.retain(|id| !removed.contains(*id));
    let after = index.ids.last().map_or(1, |id| id.saturating_add(1));
    index.next_id = index.next_id.max(next_id).max(after);
    index
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn leases<const N: usize>(leases: [(&str, f64); N]) -> Owners {
        let mut owners = Owners::new();
        for (owner, seen) in leases {
            owners.set(owner, seen);
        }
        owners
    }

    #[test]
    fn a_job_is_taken_when_its_owner_is_this_page_or_gone_or_late() {
        let now = 1_000_000.0;
        let owners = leases([("fresh", now - 1_000.0), ("late", now - LEASE_MS - 1.0)]);
        assert!(may_take(None, "me", &owners, now), "saved without owner");
        assert!(may_take(Some("me"), "me", &owners, now), "its own");
        assert!(!may_take(Some("fresh"), "me", &owners, now), "a live lease");
        assert!(may_take(Some("late"), "me", &owners, now), "a lapsed lease");
        assert!(may_take(Some("freed"), "me", &owners, now), "no lease");
        // A lease exactly LEASE_MS old has run out.
        let edge = leases([("x", now - LEASE_MS)]);
        assert!(may_take(Some("x"), "me", &edge, now));
    }

    #[test]
    fn leases_are_refreshed_released_and_bounded() {
        let now = 5_000_000.0;
        let owners = leases([
            ("other", now - 2_000.0),
            ("ancient", now - FORGET_OWNER_MS - 1.0),
        ]);
        let after = refreshed(owners.clone(), "me", now);
        assert_eq!(after, leases([("me", now), ("other", now - 2_000.0)]));
        assert_eq!(
            store::encode(&after.to_data()),
            format!(
                r#"{{"format":1,"data":{{"me":{now:?},"other":{:?}}}}}"#,
                now - 2_000.0
            )
        );
        let read = store::decode::<Owners>("k", &store::encode(&after.to_data())).unwrap();
        assert_eq!(read, after);
        let after = released(after, "me", now);
        assert_eq!(after, leases([("other", now - 2_000.0)]));
        assert!(released(Owners::new(), "me", now).is_empty());
    }

    #[test]
    fn the_index_keeps_what_other_pages_saved() {
        // Another page saved 1 and 4 and moved the next id to 5.
        let stored = Index {
            ids: [1, 4].into(),
            next_id: 5,
        };
        // This page saved 2 (then 3, which ended) and knows only up to 4.
        let merged = merged_index(Some(stored), &[2, 3].into(), &[3].into(), 4);
        assert_eq!(merged.ids, [1, 2, 4].into());
        assert_eq!(merged.next_id, 5);
        // This page removes the other page's 1 (it took it and it ended).
        let merged = merged_index(Some(merged), &Ids::default(), &[1].into(), 9);
        assert_eq!(merged.ids, [2, 4].into());
        assert_eq!(merged.next_id, 9);
        // Nothing stored: this page's own, and the next id past them.
        let merged = merged_index(None, &[7].into(), &Ids::default(), 1);
        assert_eq!((merged.ids, merged.next_id), ([7].into(), 8));
    }

    #[test]
    fn the_owner_and_next_id_are_read_on_their_own() {
        let job = r#"{"format":1,"data":{"id":3,"owner":"abc","snapshot":{"big":[1,2,3]}}}"#;
        assert_eq!(owner_of(&store::data("k", job).unwrap()), Some("abc"));
        let old = r#"{"format":1,"data":{"id":3}}"#;
        assert_eq!(owner_of(&store::data("k", old).unwrap()), None);
        let index = store::encode(&Index {
            ids: [1, 2].into(),
            next_id: 12,
        });
        assert_eq!(next_id_of(&store::data("k", &index).unwrap()), 12);
        let huge = r#"{"format":1,"data":{"nextId":5000000000}}"#;
        assert_eq!(next_id_of(&store::data("k", huge).unwrap()), 0);
    }
}
