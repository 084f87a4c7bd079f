//! Writing into a storage that other pages (tabs) share, and taking saved jobs
//! back from it: the index, the history, the results and the owners' leases
//! are read again just before each write and merged (see [`crate::tabs`]);
//! `restore` takes only the jobs free to take.

use serde_json::Value;

use super::{Driver, Effect, Restored, State, Store, Write, read_saved};
use crate::history::{History, Results};
use crate::storage::{self, Backend};
use crate::store::{self, Ids, Index, Keys, Stored};
use crate::tabs::{self, Owners};

impl Driver {
    /// The next id as stored (0 when there is none, or without storage). A new
    /// wait takes the larger of it and this page's next id, and the index is
    /// written back with the next id at the end of the same synchronous step:
    /// microseconds later. Two tabs taking an id inside that window can still
    /// take the same one (`localStorage` has no compare-and-set; see
    /// `docs/decisions.md`).
    pub(in crate::driver) fn stored_next_id(&self) -> u32 {
        let (keys, backend) = {
            let state = self.state.borrow();
            let store = &state.store;
            if !store.writable {
                return 0;
            }
            (store.keys.clone(), store.backend.clone())
        };
        let (Some(keys), Some(backend)) = (keys, backend) else {
            return 0;
        };
        backend
            .get(&keys.index())
            .ok()
            .flatten()
            .and_then(|text| store::data(&keys.index(), &text).ok())
            .map_or(0, |data| tabs::next_id_of(&data))
    }

    /// Makes `writes` in storage; the first that fails turns storage off (see
    /// [`State::write_failed`]). The index, the history, the results and the
    /// owners are read again just before they are written, and merged: each
    /// read and its write are microseconds apart, on this one thread.
    pub(in crate::driver) fn flush(&self, writes: Vec<Write>, effects: &mut Vec<Effect>) {
        if writes.is_empty() {
            return;
        }
        let (backend, keys) = {
            let state = self.state.borrow();
            match (&state.store.backend, &state.store.keys) {
                (Some(backend), Some(keys)) => (backend.clone(), keys.clone()),
                _ => return,
            }
        };
        let writable = self.state.borrow().store.writable;
        for write in writes {
            let result = match write {
                Write::Set(key, value) if writable => backend.set(&key, &value),
                Write::Remove(key) => {
                    // A removal that fails leaves a value a reload skips or
                    // resumes as saved; nothing better can be done.
                    let _ = backend.remove(&key);
                    Ok(())
                }
                Write::Set(..) => Ok(()),
                shared if writable => self.merge_write(&backend, &keys, &shared),
                _ => Ok(()),
            };
            if let Err(error) = result {
                let (removals, ids, warning) = self.state.borrow_mut().write_failed(&error);
                for key in removals {
                    let _ = backend.remove(&key);
                }
                // The other pages' saved jobs stay listed; this page's go.
                let _ = self.merge_write(&backend, &keys, &Write::Unlist(ids));
                if let Some(message) = warning {
                    self.state.borrow().warning(message, effects);
                }
                return;
            }
        }
    }

    /// Reads the value `write` merges into (the index, the history, the
    /// results or the owners; `None` when there is none or it cannot be used:
    /// it is then replaced), and writes what [`State::merged`] makes of it.
    /// Not generic: one reader and writer for every shared value.
    fn merge_write(&self, backend: &Backend, keys: &Keys, write: &Write) -> Result<(), String> {
        let key = match write {
            Write::History => keys.history(),
            Write::Results => keys.results(),
            Write::Lease => keys.owners(),
            _ => keys.index(),
        };
        let stored = backend
            .get(&key)?
            .and_then(|text| store::data(&key, &text).ok());
        let text = self.state.borrow_mut().merged(write, stored.as_ref());
        backend.set(&key, &text)
    }

    /// Resumes the waits saved under this storage key that run here no more
    /// and are free to take: saved by this page (before a reload), by a page
    /// without a lease (freed, or saved before leases were kept), or by one
    /// whose lease ran out ([`tabs::LEASE_MS`]). The others stay saved, for a
    /// later call to take once their owner is gone. The time since a wait was
    /// saved (`Date.now()`) counts against its deadline. A wait that cannot be
    /// resumed is dropped with a warning.
    // Not inlined: the restore path is smaller split (see docs/decisions.md).
    #[inline(never)]
    pub(crate) fn restore(&self) -> Vec<Restored> {
        let (keys, backend, owner, here) = {
            let state = self.state.borrow();
            let store = &state.store;
            let mut here: Vec<u32> = state.waiting.values().map(|waiter| waiter.id).collect();
            // Searched once per saved id: sorted, so that restoring many saved
            // waits while many run is not quadratic.
            here.sort_unstable();
            (
                store.keys.clone(),
                store.backend.clone(),
                store.owner.clone(),
                here,
            )
        };
        let (Some(keys), Some(backend), Some(owner)) = (keys, backend, owner) else {
            return Vec::new();
        };
        // Read outside the state: storage is JavaScript.
        let mut warnings = Vec::new();
        let mut read = |key: &str| match backend.get(key) {
            Ok(text) => text,
            Err(error) => {
                warnings.push(format!("{key} cannot be read ({error})"));
                None
            }
        };
        let index: Index = read(&keys.index())
            .and_then(|text| store::decode::<Index>(&keys.index(), &text).ok())
            .unwrap_or_default();
        let owners: Owners =
            match read(&keys.owners()).map(|text| store::decode::<Owners>(&keys.owners(), &text)) {
                Some(Ok(owners)) => owners,
                Some(Err(error)) => {
                    warnings.push(format!(
                        "{error}: skipped, so every saved job counts as free to take"
                    ));
                    Owners::new()
                }
                None => Owners::new(),
            };
        let now = js_sys::Date::now();
        let mut saved = Vec::new();
        let mut dropped = Vec::new();
        for id in index
            .ids
            .iter()
            .filter(|id| here.binary_search(id).is_err())
        {
            let key = keys.job(id);
            match backend.get(&key) {
                // Gone (ended in another page, or removed): nothing to resume.
                Ok(None) => dropped.push((id, None)),
                Ok(Some(text)) => match store::data(&key, &text) {
                    Ok(data) => {
                        if !tabs::may_take(tabs::owner_of(&data), &owner, &owners, now) {
                            // Another page runs it.
                            continue;
                        }
                        match read_saved(&key, data, id) {
                            Ok(job) => saved.push(job),
                            Err(error) => dropped.push((id, Some(error))),
                        }
                    }
                    Err(error) => dropped.push((id, Some(error.to_string()))),
                },
                Err(error) => dropped.push((id, Some(format!("{key} cannot be read ({error})")))),
            }
        }
        self.step(|state| {
            state.store.warnings.extend(warnings);
            for (id, why) in dropped {
                state.store.drop_saved(&keys, id, why);
            }
            state.next_id = state.next_id.max(index.next_id);
            saved
                .into_iter()
                .filter_map(|job| state.resume(&keys, job))
                .collect()
        })
    }
}

impl State {
    /// The text to write for `write`, made from `stored`, the data under its
    /// key now (`None`: none, or unreadable): this page's changes made on it.
    fn merged(&mut self, write: &Write, stored: Option<&Value>) -> String {
        fn read<T: Stored>(stored: Option<&Value>) -> Option<T> {
            stored.and_then(|data| T::from_data(data).ok())
        }
        let store = &mut self.store;
        match write {
            Write::History => {
                let new = std::mem::take(&mut store.new_history);
                if let Some(mut stored) = read::<History>(stored) {
                    stored = stored.bounded();
                    stored.merge(&new);
                    store.history = stored;
                }
                store::encode(&store.history)
            }
            Write::Results => {
                let changes = std::mem::take(&mut store.results_changes);
                if let Some(mut stored) = read::<Results>(stored) {
                    stored = stored.bounded();
                    for change in &changes {
                        change.apply(&mut stored);
                    }
                    store.results = stored;
                }
                store::encode(&store.results.to_data())
            }
            Write::Lease => {
                let owner = store.owner.as_deref().unwrap_or_default();
                let owners = read(stored).unwrap_or_default();
                let owners = tabs::refreshed(owners, owner, js_sys::Date::now());
                store::encode(&owners.to_data())
            }
            Write::Unlist(ids) => {
                let index = tabs::merged_index(read(stored), &Ids::default(), ids, 0);
                store::encode(&index)
            }
            // The index.
            _ => {
                let index = tabs::merged_index(
                    read(stored),
                    &std::mem::take(&mut store.index_added),
                    &std::mem::take(&mut store.index_removed),
                    self.next_id,
                );
                store::encode(&index)
            }
        }
    }
}

impl Driver {
    /// The page is going away for good (`pagehide`, not kept in the
    /// back-forward cache): its lease is given up, so that a page opened next
    /// takes its saved jobs at once rather than after the lease.
    pub(crate) fn leave(&self) {
        let state = self.state.borrow();
        if let Some(owner) = &state.store.owner {
            state.store.give_up_lease(owner);
        }
    }
}

impl Store {
    /// Removes `owner`'s lease from the stored owners.
    fn give_up_lease(&self, owner: &str) {
        if let (Some(keys), Some(backend), true) = (&self.keys, &self.backend, self.writable) {
            let key = keys.owners();
            if let Ok(Some(text)) = backend.get(&key)
                && let Ok(owners) = store::decode::<Owners>(&key, &text)
            {
                let owners = tabs::released(owners, owner, js_sys::Date::now());
                let _ = backend.set(&key, &store::encode(&owners.to_data()));
            }
        }
    }
}

impl Drop for Store {
    /// A freed `Jobs` gives its lease up, so that another page (or this one
    /// after a reload) takes its saved jobs at once.
    fn drop(&mut self) {
        let Some(owner) = self.owner.take() else {
            return;
        };
        storage::release_owner(&owner);
        self.give_up_lease(&owner);
    }
}
