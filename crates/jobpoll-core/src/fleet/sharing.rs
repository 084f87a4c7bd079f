//! Which running job a new subscriber may join: a hash finds the candidates,
//! an equal spec decides.

use std::hash::{DefaultHasher, Hash, Hasher};

use crate::job::{JobSpec, Start};
use crate::profile::Interpret;

use super::JobKey;
use super::slots::Slots;

/// Running jobs that can be shared, as slots, found by their entry's
/// `share_key` (a hash of profile, status URL and headers): 4 bytes a job.
#[derive(Debug, Default)]
pub(super) struct SharingIndex(hashbrown::HashTable<u32>);

impl SharingIndex {
    /// The running, shareable job with this spec, whose sharing key is `key`:
    /// the hash finds the candidates, the spec itself decides.
    pub(super) fn find<P: Interpret + PartialEq>(
        &self,
        key: u64,
        spec: &JobSpec<P>,
        slots: &Slots<P>,
    ) -> Option<JobKey> {
        let slot = *self.0.find(key, |s| {
            slots
                .get(*s)
                .and_then(|s| s.entry.as_ref())
                .is_some_and(|entry| entry.share_key == key && entry.job.spec() == spec)
        })?;
        slots.key(slot)
    }

    /// Adds the job in `slot`, whose sharing key is `key` (not [`NO_SHARE`]).
    pub(super) fn insert<P>(&mut self, key: u64, slot: u32, slots: &Slots<P>) {
        self.0
            .insert_unique(key, slot, |s| slot_share_key(slots, *s));
    }

    /// Takes the job in `slot`, whose sharing key is `key`, out of the index (a
    /// slot is in it at most once, so the slot alone finds it, even once the
    /// slot's entry is gone).
    pub(super) fn remove(&mut self, key: u64, slot: u32) {
        if key == NO_SHARE {
            return;
        }
        if let Ok(found) = self.0.find_entry(key, |s| *s == slot) {
            found.remove();
        }
    }

    /// Jobs in the index.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.0.len()
    }
}

/// No sharing key (a hash that happens to be 0 is stored as 1).
pub(super) const NO_SHARE: u64 = 0;

/// The sharing key of the job in `slot`, [`NO_SHARE`] when it has none.
fn slot_share_key<P>(slots: &Slots<P>, slot: u32) -> u64 {
    slots
        .get(slot)
        .and_then(|s| s.entry.as_ref())
        .map_or(NO_SHARE, |entry| entry.share_key)
}

/// The sharing key of a job polled by URL: a hash of what tells jobs apart
/// cheaply (profile name, status URL, job id, headers), to find candidates; only
/// an equal spec is shared. Jobs that are submitted are never shared (each submit
/// creates a job).
pub(super) fn share_key<P: Interpret>(spec: &JobSpec<P>) -> Option<u64> {
    let Start::Poll { status_url, job_id } = &spec.start else {
        return None;
    };
    let mut hasher = DefaultHasher::new();
    spec.profile.name().hash(&mut hasher);
    status_url.as_str().hash(&mut hasher);
    job_id.hash(&mut hasher);
    spec.headers.hash(&mut hasher);
    Some(hasher.finish().max(1))
}
