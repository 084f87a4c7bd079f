//! Which running job a new subscriber may join: a hash finds the candidates,
//! an equal spec decides.

use std::hash::{DefaultHasher, Hash, Hasher};

use crate::job::{JobSpec, Start};
use crate::profile::Interpret;

use super::slots::Slots;

/// No sharing key (a hash that happens to be 0 is stored as 1).
pub(super) const NO_SHARE: u64 = 0;

/// The sharing key of the job in `slot`, [`NO_SHARE`] when it has none.
pub(super) fn slot_share_key<P>(slots: &Slots<P>, slot: u32) -> u64 {
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
