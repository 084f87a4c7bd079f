//! Saving running jobs, the history of finished ones and the code generation
//! results, so that they outlive the page; restoring them after a reload.
//!
//! What is kept and under which keys is [`crate::store`]'s; this is when.
//!
//! - A running job's snapshot is saved after each answer to one of its requests
//!   and when a create request (`submit`) goes out, never on a timer tick: a tick
//!   only moves the job's clock, and the time away is counted on restore from
//!   the wall clock anyway. An answer changes what matters (the server's id and
//!   status URL, the status, the counts, the next poll); a create going out must
//!   be on record before it can reach the server, so that a reload never sends
//!   it twice. A status poll going out is not saved: one lost with the page is
//!   simply sent again.
//! - The snapshot is removed when the job ends; the history and the results are
//!   saved when they change.
//! - Writes are made once the driver's state is released, like every call into
//!   JavaScript. When one throws (a full quota, storage denied), everything is
//!   kept in memory from then on, one warning event says so, and the saved
//!   snapshots this page wrote are removed, so that a reload does not resume a
//!   job from an old state.
//! - Several pages (tabs) may share one storage key: the index, the history and
//!   the results are merged into what is stored when written, new ids are taken
//!   from the stored index, and each page runs only the saved jobs it owns or
//!   whose owner's lease ran out (see [`crate::tabs`]).

use std::convert::Infallible;
use std::sync::Arc;

use jobpoll_core::fleet::{JobKey, Subscriber};
use jobpoll_core::profile::ResultsTransform;
use jobpoll_core::{Instant, Outcome, Profile, SettledState, Snapshot, Start};
use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

use super::{Driver, Effect, State, Waiter, plain, shared};
use crate::history::{Finished, History, Results, ResultsChange, Stats};
use crate::options::{Mode, OptionsError, WaitOptions};
use crate::storage::{self, Backend};
use crate::store::{self, Ids, Index, Keys, SavedJob, SavedProfile};
use crate::tabs::{self, Owners};

// Writing into storage that other pages share, and restoring from it.
#[path = "shared_store.rs"]
mod shared_store;

/// Where the constructor's `storage` option says to save.
pub(crate) enum StorageChoice {
    /// `storage: null`: nothing outlives the page.
    Memory,
    /// No `storage` option: `globalThis.localStorage`, if there is one.
    Default,
    /// The storage object given.
    Given(Backend),
}

/// A wait brought back by [`Driver::restore`].
pub(crate) struct Restored {
    pub(crate) id: u32,
    pub(crate) url: String,
    pub(crate) mode: &'static str,
    pub(crate) outcome: Promise,
}

/// One change to make in storage.
pub(super) enum Write {
    Set(String, String),
    Remove(String),
    /// The index, merged into the stored one.
    Index,
    /// The history, merged into the stored one.
    History,
    /// The results: this page's changes made on the stored ones.
    Results,
    /// This page's lease, refreshed in the stored owners.
    Lease,
    /// These ids taken out of the stored index (after a write failed).
    Unlist(Ids),
}

/// What is saved, and where.
#[derive(Default)]
pub(super) struct Store {
    keys: Option<Keys>,
    /// Where values are read from; `None`: memory only.
    backend: Option<Backend>,
    /// Whether values are still written there (false after a write failed:
    /// only removals are made then).
    writable: bool,
    /// Whether a warning about storage has been given.
    warned: bool,
    /// This page's owner id (with storage only).
    owner: Option<String>,
    /// The ids this page added to and removed from the index since it last
    /// wrote it: the changes it makes to the stored index.
    index_added: Ids,
    index_removed: Ids,
    /// The ids of the waits this page has saved.
    saved_ids: Ids,
    history: History,
    /// The entries added to the history since it was last written.
    new_history: History,
    results: Results,
    /// The changes made to the results since they were last written.
    results_changes: Vec<ResultsChange>,
    /// When the lease was last refreshed (the driver's clock).
    lease_seen: Option<Instant>,
    /// The saved subscriptions of each running job, by job (sorted lists
    /// searched by halves here and below: no hash tables of their own).
    by_job: Vec<(JobKey, Vec<Subscriber>)>,
    /// Jobs whose results are code generation results, sorted.
    codegen: Vec<JobKey>,
    /// Jobs whose snapshot is to be saved at the end of the step, in the order
    /// marked and maybe more than once (`save` sorts and dedups them, and
    /// skips those no longer saved).
    dirty: Vec<JobKey>,
    /// Storage changes to make at the end of the step.
    writes: Vec<Write>,
    index_changed: bool,
    history_changed: bool,
    results_changed: bool,
    /// Warnings to give at the end of the step.
    warnings: Vec<String>,
}

impl Store {
    /// A saved subscription of `job` had an answer, or is sending a create.
    pub(super) fn changed(&mut self, job: JobKey) {
        if self.saved(job).is_ok() {
            self.mark(job);
        }
    }

    /// Where `job`'s saved subscriptions are in `by_job` (or would go).
    fn saved(&self, job: JobKey) -> Result<usize, usize> {
        self.by_job.binary_search_by(|(key, _)| key.cmp(&job))
    }

    /// `job`'s snapshot is to be saved at the end of the step (marked twice,
    /// it is saved once: `save` sorts and dedups, so that a step marking many
    /// jobs, a restore of thousands, is not quadratic).
    fn mark(&mut self, job: JobKey) {
        self.dirty.push(job);
    }

    /// `id` leaves the index.
    fn unsave(&mut self, id: u32) {
        self.saved_ids.remove(id);
        self.index_added.remove(id);
        self.index_removed.insert(id);
        self.index_changed = true;
    }

    /// A new id was given out: the next id is written to storage at once.
    pub(super) fn id_taken(&mut self) {
        if self.backend.is_some() {
            self.index_changed = true;
        }
    }

    /// Whether values are written to storage (and leases kept).
    fn active(&self) -> bool {
        self.backend.is_some() && self.writable && self.owner.is_some()
    }

    /// When the lease is to be refreshed, while this page runs saved jobs.
    pub(super) fn lease_due(&self) -> Option<Instant> {
        if self.active() && !self.by_job.is_empty() {
            Some(self.lease_seen.map_or(Instant::ZERO, |seen| {
                seen.saturating_add(millis(tabs::REFRESH_MS))
            }))
        } else {
            None
        }
    }

    fn warn(&mut self, message: String) {
        self.warnings.push(message);
    }

    /// Forgets the saved wait `id` (its entry in the index and its value), with
    /// a warning saying why when there is a reason to give.
    fn drop_saved(&mut self, keys: &Keys, id: u32, why: Option<String>) {
        self.unsave(id);
        self.writes.push(Write::Remove(keys.job(id)));
        if let Some(why) = why {
            self.warn(format!("{why}: the saved job {id} was dropped"));
        }
    }
}

/// `ms` milliseconds as a duration.
fn millis(ms: f64) -> std::time::Duration {
    std::time::Duration::from_micros((ms * 1000.0) as u64)
}

/// Whether a job of `profile` gives code generation results.
pub(super) fn is_codegen(profile: &Profile) -> bool {
    profile
        .results
        .as_ref()
        .is_some_and(|results| results.transform == ResultsTransform::CodegenByGraph)
}

impl State {
    /// Starts keeping `subscriber` (just added, in `waiting`): saved if it asks to
    /// be, its codes kept if `codegen`.
    pub(super) fn track(&mut self, subscriber: Subscriber, codegen: bool) {
        let job = subscriber.job();
        if codegen && let Err(at) = self.store.codegen.binary_search(&job) {
            self.store.codegen.insert(at, job);
        }
        let Some(waiter) = self.waiting.get(&subscriber) else {
            return;
        };
        if self.store.backend.is_none() {
            return;
        }
        // The next id is saved with every new wait, so that ids are not given
        // twice across a reload.
        self.store.index_changed = true;
        if waiter.saved.is_none() {
            return;
        }
        let store = &mut self.store;
        match store.saved(job) {
            Ok(at) => store.by_job[at].1.push(subscriber),
            Err(at) => store.by_job.insert(at, (job, vec![subscriber])),
        }
        store.saved_ids.insert(waiter.id);
        store.index_removed.remove(waiter.id);
        store.index_added.insert(waiter.id);
        store.mark(job);
    }

    /// `subscriber`'s outcome came: into the history (and the results), out of
    /// the saved waits.
    pub(super) fn finished(&mut self, subscriber: Subscriber, waiter: &Waiter, outcome: &Outcome) {
        let finished_at = js_sys::Date::now();
        let store = &mut self.store;
        let entry = Finished {
            id: waiter.id,
            url: waiter.url.clone(),
            outcome: outcome.kind().to_owned(),
            ok: outcome.is_success(),
            summary: outcome.to_string(),
            job_id: outcome.stats().job_id.clone(),
            started_at: waiter.started_at,
            finished_at,
            duration_ms: (finished_at - waiter.started_at).max(0.0),
        };
        store.history.push(entry.clone());
        store.new_history.push(entry);
        store.history_changed = true;
        let job = subscriber.job();
        if store.codegen.binary_search(&job).is_ok()
            && let Outcome::Succeeded {
                results: Some(results),
                ..
            } = outcome
            && store.results.merge(results)
        {
            store.results_changed = true;
            store
                .results_changes
                .push(ResultsChange::Merge(results.clone()));
        }
        if let Ok(at) = store.saved(job) {
            let subscribers = &mut store.by_job[at].1;
            subscribers.retain(|kept| *kept != subscriber);
            if subscribers.is_empty() {
                // Still marked, it is skipped by `save`: no longer saved.
                store.by_job.remove(at);
            }
            if store.saved_ids.contains(waiter.id) {
                store.unsave(waiter.id);
                if let Some(keys) = &store.keys {
                    store.writes.push(Write::Remove(keys.job(waiter.id)));
                }
            }
        }
        if self.fleet.job(job).is_none()
            && let Ok(at) = self.store.codegen.binary_search(&job)
        {
            self.store.codegen.remove(at);
        }
    }

    /// At the end of a step: the storage changes to make, and the warnings as
    /// calls into JavaScript.
    pub(super) fn save(&mut self, effects: &mut Vec<Effect>) -> Vec<Write> {
        for message in std::mem::take(&mut self.store.warnings) {
            self.warning(message, effects);
        }
        let store = &mut self.store;
        let mut dirty = std::mem::take(&mut store.dirty);
        dirty.sort_unstable();
        dirty.dedup();
        let (Some(keys), Some(_)) = (&store.keys, &store.backend) else {
            // Memory only: nothing to write.
            store.writes.clear();
            store.new_history = History::default();
            store.results_changes.clear();
            return Vec::new();
        };
        let now = js_sys::Date::now();
        for job in dirty {
            let (Some(running), Ok(at)) = (self.fleet.job(job), store.saved(job)) else {
                continue;
            };
            let subscribers = &store.by_job[at].1;
            let href = match &running.spec().start {
                Start::Poll { status_url, .. } => status_url.as_str(),
                Start::Submit { url, .. } => url.as_str(),
            };
            // A built-in profile is saved as its name.
            let Ok(snapshot) = running
                .snapshot()
                .map_profile(|profile| Ok::<_, Infallible>(SavedProfile::of(profile)));
            for subscriber in subscribers {
                let Some((waiter, options)) = self
                    .waiting
                    .get(subscriber)
                    .and_then(|waiter| Some((waiter, waiter.saved.as_deref()?)))
                else {
                    continue;
                };
                let key = keys.job(waiter.id);
                if !store.writable {
                    store.writes.push(Write::Remove(key));
                    continue;
                }
                let saved = SavedJob {
                    id: waiter.id,
                    url: waiter.url.as_str(),
                    href,
                    mode: waiter.mode,
                    options,
                    started_at: waiter.started_at,
                    saved_at: now,
                    snapshot: &snapshot,
                    owner: store.owner.as_deref(),
                };
                store.writes.push(Write::Set(key, store::encode(&saved)));
            }
        }
        if std::mem::take(&mut store.index_changed) {
            store.writes.push(Write::Index);
        }
        if std::mem::take(&mut store.history_changed) {
            store.writes.push(Write::History);
        }
        if std::mem::take(&mut store.results_changed) {
            store.writes.push(Write::Results);
        }
        // The lease, written first: a job saved under this page's owner id is
        // never seen without a live lease. Refreshed when saving (at most once
        // a second) and, while saved jobs run, every `REFRESH_MS` at least.
        let at = self.clock.now();
        let saving = store
            .writes
            .iter()
            .any(|write| !matches!(write, Write::Remove(_)));
        let running = !store.by_job.is_empty();
        let due = |every: f64| {
            store
                .lease_seen
                .is_none_or(|seen| at.saturating_duration_since(seen) >= millis(every))
        };
        if store.active()
            && ((saving && due(tabs::SAVE_REFRESH_MS)) || (running && due(tabs::REFRESH_MS)))
        {
            store.lease_seen = Some(at);
            store.writes.insert(0, Write::Lease);
        }
        std::mem::take(&mut store.writes)
    }

    /// A warning event to the constructor's `onEvent`.
    fn warning(&self, message: String, effects: &mut Vec<Effect>) {
        if let Some(callback) = &self.on_event {
            effects.push(Effect::Call {
                callback: callback.clone(),
                value: warning_value(&message),
            });
        }
    }

    /// Writing failed with `error`: memory only from now on. The removals that
    /// keep storage from holding old snapshots of this page's jobs, and the
    /// warning, if none was given yet.
    /// Also the ids to take out of the stored index (which the other pages
    /// sharing it keep writing).
    fn write_failed(&mut self, error: &str) -> (Vec<String>, Ids, Option<String>) {
        let store = &mut self.store;
        store.writable = false;
        store.new_history = History::default();
        store.results_changes.clear();
        let Some(keys) = &store.keys else {
            return (Vec::new(), Ids::default(), None);
        };
        let ids = std::mem::take(&mut store.saved_ids);
        let removals: Vec<String> = ids.iter().map(|id| keys.job(id)).collect();
        let warning = (!std::mem::replace(&mut store.warned, true)).then(|| {
            format!(
                "saving to storage failed ({error}): running jobs, the history and the results are kept in memory only from now on, and a reload will not bring back what changes after this; the jobs saved by this page were removed from storage so that a reload does not resume them from an old state"
            )
        });
        (removals, ids, warning)
    }
}

impl Driver {
    /// Opens the storage the constructor's options name under `storage_key`:
    /// reads the history, the results and the saved waits' ids (new ids start
    /// after them). Problems are warning events, never errors.
    pub(crate) fn open_store(&self, choice: StorageChoice, storage_key: &str) {
        let keys = Keys::new(storage_key);
        let mut warnings = Vec::new();
        let backend = match choice {
            StorageChoice::Memory => None,
            StorageChoice::Given(backend) => Some(backend),
            StorageChoice::Default => match Backend::local_storage() {
                Ok(Some(backend)) => Some(backend),
                Ok(None) => {
                    warnings.push("there is no localStorage here: running jobs, the history and the results are kept in memory only and do not survive a reload (pass a storage object, or storage: null to say memory is meant)".to_owned());
                    None
                }
                Err(error) => {
                    warnings.push(format!("{error}: running jobs, the history and the results are kept in memory only and do not survive a reload"));
                    None
                }
            },
        };
        let mut index = Index::default();
        let mut history = History::default();
        let mut results = Results::default();
        let mut backend = backend;
        if let Some(storage) = &backend {
            let read = (|| -> Result<(), String> {
                if let Some(text) = storage.get(&keys.index())? {
                    match store::decode::<Index>(&keys.index(), &text) {
                        Ok(read) => index = read,
                        Err(error) => warnings.push(format!(
                            "{error}: skipped, so saved jobs cannot be restored"
                        )),
                    }
                }
                if let Some(text) = storage.get(&keys.history())? {
                    match store::decode::<History>(&keys.history(), &text) {
                        Ok(read) => history = read.bounded(),
                        Err(error) => warnings.push(format!("{error}: skipped")),
                    }
                }
                if let Some(text) = storage.get(&keys.results())? {
                    match store::decode::<Results>(&keys.results(), &text) {
                        Ok(read) => results = read.bounded(),
                        Err(error) => warnings.push(format!("{error}: skipped")),
                    }
                }
                Ok(())
            })();
            if let Err(error) = read {
                warnings.push(format!("reading storage failed ({error}): running jobs, the history and the results are kept in memory only and do not survive a reload"));
                backend = None;
            }
        }
        // Claimed outside the state: sessionStorage is JavaScript. The leases
        // tell a reloaded tab (its lease given up) from a duplicated one.
        let owner = backend.as_ref().map(|backend| {
            let owners = backend
                .get(&keys.owners())
                .ok()
                .flatten()
                .and_then(|text| store::decode::<Owners>(&keys.owners(), &text).ok())
                .unwrap_or_default();
            let now = js_sys::Date::now();
            storage::claim_owner(&keys.owner(), |id| tabs::leased(&owners, id, now))
        });
        self.step(|state| {
            let after = index
                .ids
                .iter()
                .chain(history.max_id())
                .max()
                .map_or(1, |id| id.saturating_add(1));
            state.next_id = state.next_id.max(index.next_id).max(after);
            let warned = !warnings.is_empty() && backend.is_none();
            // Opened once, on a new driver: the rest of the store is empty.
            let store = &mut state.store;
            store.keys = Some(keys);
            store.writable = backend.is_some();
            store.backend = backend;
            store.warned = warned;
            store.owner = owner;
            store.history = history;
            store.results = results;
            store.warnings = warnings;
        });
    }

    /// The finished jobs, newest first.
    pub(crate) fn history(&self) -> JsValue {
        plain(&self.state.borrow().store.history)
    }

    /// The counts over the history.
    pub(crate) fn stats(&self) -> Stats {
        self.state.borrow().store.history.stats()
    }

    /// `{graphId: {nodeId: [code, ...]}}`, for every graph or one.
    pub(crate) fn results(&self, graph_id: Option<&str>) -> JsValue {
        let view = self.state.borrow().store.results.view(graph_id);
        plain(&serde_json::Value::Object(view))
    }

    /// Forgets the results of every graph, or of one.
    pub(crate) fn clear_results(&self, graph_id: Option<&str>) {
        self.step(|state| {
            if state.store.results.clear(graph_id) {
                state.store.results_changed = true;
                let change = ResultsChange::Clear(graph_id.map(str::to_owned));
                state.store.results_changes.push(change);
            }
        });
    }
}

/// The wait saved under `key` (its stored `data`), or why it cannot be read: its state,
/// going on with the spec and configuration its URL, mode and options make (as
/// when it started). Whether the fleet can resume it is its own check, when it
/// is added. Read by hand, but for the job's state (see `docs/decisions.md`,
/// "Reading stored values by hand").
// Not inlined: the restore path is smaller split (see docs/decisions.md).
#[inline(never)]
fn read_saved(
    key: &str,
    data: serde_json::Value,
    id: u32,
) -> Result<SavedJob<Snapshot<Arc<Profile>>>, String> {
    let saved = saved_job(data).map_err(|why| store::unreadable(key, &why).0)?;
    if saved.id != id {
        return Err(format!("{key} holds the job {}", saved.id));
    }
    let mode = Mode::named(&saved.mode);
    let refused = |error: OptionsError| format!("{key}: the saved options are refused ({error})");
    let options = WaitOptions::from_json(&saved.options).map_err(refused)?;
    let spec = options.spec(&saved.href, mode).map_err(refused)?;
    let config = options.config().map_err(refused)?;
    Ok(saved.map_snapshot(|state| state.into_snapshot(spec, Arc::new(config))))
}

/// A saved wait's fields, its job's state read by the core's `Deserialize`.
// Not inlined: the restore path is smaller split (see docs/decisions.md).
#[inline(never)]
fn saved_job(mut data: serde_json::Value) -> Result<SavedJob<SettledState>, String> {
    let object = store::object(&data)?;
    let id = store::u32_field(object, "id")?;
    let url = store::string_field(object, "url")?;
    let href = store::string_field(object, "href")?;
    let mode = store::string_field(object, "mode")?;
    let started_at = store::f64_field(object, "startedAt")?;
    let saved_at = store::f64_field(object, "savedAt")?;
    let owner = store::optional_string_field(object, "owner")?;
    let mut take = |name: &str| {
        data.get_mut(name)
            .map(serde_json::Value::take)
            .ok_or_else(|| format!("missing field `{name}`"))
    };
    let options = take("options")?;
    let snapshot = serde_json::from_value(take("snapshot")?)
        .map_err(|error| format!("`snapshot`: {error}"))?;
    Ok(SavedJob {
        id,
        url,
        href,
        mode,
        options,
        started_at,
        saved_at,
        snapshot,
        owner,
    })
}

impl State {
    /// Puts one saved wait back into the fleet; `None` (with a warning) when the
    /// fleet refuses it.
    // Not inlined: the restore path is smaller split (see docs/decisions.md).
    #[inline(never)]
    fn resume(&mut self, keys: &Keys, saved: SavedJob<Snapshot<Arc<Profile>>>) -> Option<Restored> {
        let id = saved.id;
        let codegen = is_codegen(saved.snapshot.profile());
        let now = self.now();
        let away_ms = (js_sys::Date::now() - saved.saved_at).max(0.0);
        let away = std::time::Duration::from_micros((away_ms * 1000.0) as u64);
        let subscriber = match self.fleet.add_resumed(saved.snapshot, now, away) {
            Ok(subscriber) => subscriber,
            Err(error) => {
                let why = format!("{}: {error}", keys.job(id));
                self.store.drop_saved(keys, id, Some(why));
                return None;
            }
        };
        let mut resolve: Option<Function> = None;
        let outcome = Promise::new(&mut |yes, _no| resolve = Some(yes));
        let mode = Mode::named(&saved.mode).name();
        self.waiting.insert(
            subscriber,
            Waiter {
                id,
                url: saved.url.clone(),
                mode,
                status: None,
                resolve: resolve.unwrap_or_else(|| Function::new_no_args("")),
                on_event: None,
                started_at: saved.started_at,
                saved: Some(shared(&mut self.options, Arc::new(saved.options))),
            },
        );
        self.track(subscriber, codegen);
        Some(Restored {
            id,
            url: saved.url,
            mode,
            outcome,
        })
    }
}

/// A warning as the `onEvent` callbacks see it.
fn warning_value(message: &str) -> JsValue {
    plain(&serde_json::json!({
        "type": "storage_warning",
        "event": "storage_warning",
        "message": message,
        "summary": message,
    }))
}
