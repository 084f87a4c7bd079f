//! Several pages (tabs) on one storage key, under Node and Chromium against the
//! reference server: two `Jobs` on one storage object stand for two tabs of an
//! app. Ids never collide, neither tab loses what the other saved, a saved job
//! runs in one tab only (until its owner's lease runs out), and the history and
//! results of both end up in storage.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use jobpoll_wasm::Jobs;
use js_sys::{Array, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

mod common;

use common::*;

#[wasm_bindgen(inline_js = r#"
export function fake_storage() {
  const map = new Map();
  return {
    map,
    getItem(key) { return map.has(key) ? map.get(key) : null; },
    setItem(key, value) { map.set(key, String(value)); },
    removeItem(key) { map.delete(key); },
  };
}
export function stored(storage, key) { const v = storage.map.get(key); return v === undefined ? null : JSON.parse(v); }
export function age_lease(storage, key, owner, ms) {
  const value = JSON.parse(storage.map.get(key));
  value.data[owner] -= ms;
  storage.map.set(key, JSON.stringify(value));
}
export function drop_owner(storage, key) {
  const value = JSON.parse(storage.map.get(key));
  delete value.data.owner;
  storage.map.set(key, JSON.stringify(value));
}
export function put(storage, key, text) { storage.map.set(key, text); }
export function in_a_page() { return typeof window !== "undefined" && typeof PageTransitionEvent === "function"; }
export function page_hide(persisted) { window.dispatchEvent(new PageTransitionEvent("pagehide", { persisted })); }
export function has_session() { return typeof sessionStorage === "object" && sessionStorage !== null; }
export function session_set(key, value) { sessionStorage.setItem(key, value); }
export function session_get(key) { return sessionStorage.getItem(key); }
"#)]
extern "C" {
    fn fake_storage() -> JsValue;
    fn stored(storage: &JsValue, key: &str) -> JsValue;
    /// Moves `owner`'s `lastSeen` in the owners stored under `key` back `ms`.
    fn age_lease(storage: &JsValue, key: &str, owner: &str, ms: f64);
    /// Removes `owner` from the job saved under `key`, as an older build saved it.
    fn drop_owner(storage: &JsValue, key: &str);
    fn put(storage: &JsValue, key: &str, text: &str);
    fn in_a_page() -> bool;
    /// Dispatches `pagehide` on the window, as when the page is left.
    fn page_hide(persisted: bool);
    fn has_session() -> bool;
    fn session_set(key: &str, value: &str);
    fn session_get(key: &str) -> Option<String>;
}

fn tab(storage: &JsValue) -> Jobs {
    Jobs::new(options(&[("storage", storage.clone())])).unwrap()
}

fn ids(list: &JsValue) -> Vec<u32> {
    Array::from(list)
        .iter()
        .map(|entry| number_at(&entry, "id") as u32)
        .collect()
}

fn stored_ids(storage: &JsValue) -> BTreeSet<u32> {
    Array::from(&get(&stored(storage, "jobpoll/v1/jobs"), "data.ids"))
        .iter()
        .map(|id| id.as_f64().unwrap() as u32)
        .collect()
}

/// The owner saved with job `id`.
fn owner_of(storage: &JsValue, id: u32) -> String {
    text(
        &stored(storage, &format!("jobpoll/v1/jobs/{id}")),
        "data.owner",
    )
}

/// Starts a wait on a long job.
async fn start(jobs: &Jobs, base: &str) {
    let url = create(base, r#"{"duration":30000000}"#).await;
    let _ = jobs.wait(&url, options(&[("interval", 200.into())]));
}

#[wasm_bindgen_test]
async fn two_tabs_give_distinct_ids_and_keep_each_others_saved_jobs() {
    let Some(base) = server() else { return };
    let storage = fake_storage();
    let a = tab(&storage);
    let b = tab(&storage);
    for _ in 0..2 {
        start(&a, base).await;
        start(&b, base).await;
    }
    sleep(500).await;
    let (of_a, of_b) = (ids(&a.list()), ids(&b.list()));
    let all: BTreeSet<u32> = of_a.iter().chain(&of_b).copied().collect();
    assert_eq!(all.len(), 4, "ids collide: {of_a:?} {of_b:?}");
    // Every wait is saved and in the stored index.
    assert_eq!(stored_ids(&storage), all);
    let owner_a = owner_of(&storage, of_a[0]);
    let owner_b = owner_of(&storage, of_b[0]);
    assert_ne!(owner_a, owner_b);
    for id in &of_a {
        assert_eq!(owner_of(&storage, *id), owner_a);
    }
    for id in &of_b {
        assert_eq!(owner_of(&storage, *id), owner_b);
    }
    let leases = get(&stored(&storage, "jobpoll/v1/owners"), "data");
    assert!(
        number(&leases, &owner_a).is_some(),
        "{}",
        stringify(&leases)
    );
    assert!(
        number(&leases, &owner_b).is_some(),
        "{}",
        stringify(&leases)
    );
    // Tab A reloads: freed, its lease is given up, and the new page takes A's
    // jobs back, not B's (whose lease is fresh).
    drop(a);
    let leases = get(&stored(&storage, "jobpoll/v1/owners"), "data");
    assert!(
        number(&leases, &owner_a).is_none(),
        "{}",
        stringify(&leases)
    );
    let reloaded = tab(&storage);
    let restored = ids(&reloaded.restore());
    assert_eq!(restored, of_a, "only A's jobs come back");
    assert_eq!(ids(&reloaded.list()), of_a);
    assert_eq!(ids(&b.list()), of_b);
    assert_eq!(reloaded.restore().length(), 0, "B's jobs stay B's");
    // A new wait in either tab gets an id neither gave.
    start(&reloaded, base).await;
    let newest = *ids(&reloaded.list()).last().unwrap();
    assert!(!all.contains(&newest), "{newest} was given already");
    assert!(stored_ids(&storage).contains(&newest));
    reloaded.stop_all();
    b.stop_all();
    sleep(100).await;
    assert!(
        stored_ids(&storage).is_empty(),
        "ended jobs leave the index"
    );
}

#[wasm_bindgen_test]
async fn a_tab_takes_anothers_jobs_only_once_its_lease_runs_out() {
    let Some(base) = server() else { return };
    let storage = fake_storage();
    let a = tab(&storage);
    start(&a, base).await;
    sleep(300).await;
    let id = ids(&a.list())[0];
    let owner_a = owner_of(&storage, id);
    let b = tab(&storage);
    assert_eq!(b.restore().length(), 0, "A's lease is fresh");
    assert!(ids(&b.list()).is_empty());
    assert!(stored_ids(&storage).contains(&id), "still saved");
    // A stops refreshing its lease (a tab frozen or closed without freeing):
    // past the lease, B takes the job.
    age_lease(&storage, "jobpoll/v1/owners", &owner_a, 120_000.0);
    let restored = b.restore();
    assert_eq!(ids(&restored), [id], "{}", stringify(&restored));
    assert_eq!(b.restore().length(), 0, "taken once");
    b.stop_all();
    let outcome: Promise = get(&restored.get(0), "outcome").unchecked_into();
    let outcome = JsFuture::from(outcome).await.unwrap();
    assert_eq!(text(&outcome, "outcome"), "cancelled");
    a.stop_all();
}

#[wasm_bindgen_test]
async fn finished_jobs_and_results_of_two_tabs_all_end_up_in_storage() {
    let Some(base) = server() else { return };
    let storage = fake_storage();
    let a = tab(&storage);
    let b = tab(&storage);
    let codegen = |jobs: &Jobs, graph: &str| {
        jobs.submit(
            &format!("{base}/api/v1/public/graph/codegen"),
            options(&[
                ("profile", "codegen".into()),
                (
                    "body",
                    json(&format!(
                        r#"{{"graphId":"{graph}","plan":{{"duration":200000}}}}"#
                    )),
                ),
                ("interval", 100.into()),
            ]),
        )
    };
    let (from_a, from_b) = (codegen(&a, "g-a"), codegen(&b, "g-b"));
    for outcome in [from_a, from_b] {
        let outcome = JsFuture::from(outcome).await.unwrap();
        assert_eq!(text(&outcome, "outcome"), "succeeded");
    }
    let finished: BTreeSet<u32> = ids(&a.history())
        .into_iter()
        .chain(ids(&b.history()))
        .collect();
    assert_eq!(finished.len(), 2);
    let history = get(&stored(&storage, "jobpoll/v1/history"), "data");
    let kept: BTreeSet<u32> = ids(&history).into_iter().collect();
    assert_eq!(kept, finished, "{}", stringify(&history));
    let results = get(&stored(&storage, "jobpoll/v1/results"), "data.graphs");
    assert!(get(&results, "g-a").is_object(), "{}", stringify(&results));
    assert!(get(&results, "g-b").is_object(), "{}", stringify(&results));
    // A new tab sees both.
    let c = tab(&storage);
    assert_eq!(ids(&c.history()).len(), 2);
    assert!(get(&c.results(None).unwrap(), "g-a").is_object());
    // A clear in one tab is not undone by the other's next write.
    a.clear_results(Some("g-a".into())).unwrap();
    let outcome = JsFuture::from(codegen(&b, "g-b")).await.unwrap();
    assert_eq!(text(&outcome, "outcome"), "succeeded");
    let results = get(&stored(&storage, "jobpoll/v1/results"), "data.graphs");
    assert!(
        get(&results, "g-a").is_undefined(),
        "{}",
        stringify(&results)
    );
    assert!(get(&results, "g-b").is_object(), "{}", stringify(&results));
    let history = get(&stored(&storage, "jobpoll/v1/history"), "data");
    assert_eq!(Array::from(&history).length(), 3);
    assert_eq!(ids(&b.history()).len(), 3, "B's own view has A's too");
}

#[wasm_bindgen_test]
async fn a_job_saved_without_owner_or_with_unreadable_leases_is_taken_with_a_warning() {
    let Some(base) = server() else { return };
    let storage = fake_storage();
    let a = tab(&storage);
    start(&a, base).await;
    start(&a, base).await;
    sleep(300).await;
    let [first, second] = ids(&a.list())[..] else {
        panic!("two waits")
    };
    // Saved by a build that kept no owners: free to take.
    drop_owner(&storage, &format!("jobpoll/v1/jobs/{first}"));
    let b = tab(&storage);
    assert_eq!(ids(&b.restore()), [first]);
    // Leases that cannot be read are skipped, with a warning: every job is
    // then free to take, B's included (a job left unrestored would be lost to
    // the user; one run twice is only polled twice).
    put(&storage, "jobpoll/v1/owners", "{not json");
    let (events, on_event) = recorder();
    let c = Jobs::new(options(&[
        ("storage", storage.clone()),
        ("onEvent", on_event.into()),
    ]))
    .unwrap();
    assert_eq!(ids(&c.restore()), [first, second]);
    let warned = summaries(&events.borrow());
    assert!(
        warned
            .iter()
            .any(|message| message.contains("jobpoll/v1/owners is not valid JSON")),
        "{warned:?}"
    );
    for jobs in [&a, &b, &c] {
        jobs.stop_all();
    }
}

#[wasm_bindgen_test]
async fn a_page_that_closes_gives_its_lease_up_and_one_kept_for_back_does_not() {
    let Some(base) = server() else { return };
    if !in_a_page() {
        wasm_bindgen_test::console_log!("no window: pagehide is a page's, tested in Chromium");
        return;
    }
    let storage = fake_storage();
    let a = tab(&storage);
    start(&a, base).await;
    sleep(300).await;
    let id = ids(&a.list())[0];
    let owner_a = owner_of(&storage, id);
    let leases = || get(&stored(&storage, "jobpoll/v1/owners"), "data");
    assert!(
        number(&leases(), &owner_a).is_some(),
        "{}",
        stringify(&leases())
    );
    // Kept in the back-forward cache: the page may come back, the lease stays.
    page_hide(true);
    assert!(
        number(&leases(), &owner_a).is_some(),
        "{}",
        stringify(&leases())
    );
    let b = tab(&storage);
    assert_eq!(b.restore().length(), 0, "A may come back");
    // Closed: the lease goes, and the next page takes the job at once.
    page_hide(false);
    assert!(
        number(&leases(), &owner_a).is_none(),
        "{}",
        stringify(&leases())
    );
    let restored = b.restore();
    assert_eq!(ids(&restored), [id], "{}", stringify(&restored));
    a.stop_all();
    b.stop_all();
}

#[wasm_bindgen_test]
async fn a_duplicated_tab_takes_an_owner_id_of_its_own() {
    let Some(base) = server() else { return };
    if !has_session() {
        wasm_bindgen_test::console_log!(
            "no sessionStorage: the tab's owner id is a page's, tested in Chromium"
        );
        return;
    }
    const KEY: &str = "jobpoll/v1/owner";
    let storage = fake_storage();
    // A reloaded tab: its id kept, its lease given up when it closed.
    session_set(KEY, "reloaded-owner");
    let reloaded = tab(&storage);
    start(&reloaded, base).await;
    sleep(300).await;
    let id = ids(&reloaded.list())[0];
    assert_eq!(owner_of(&storage, id), "reloaded-owner");
    reloaded.stop_all();
    drop(reloaded);
    // A duplicated tab: its sessionStorage a copy of a tab that still runs.
    session_set(KEY, "copied-owner");
    let now = js_sys::Date::now();
    put(
        &storage,
        "jobpoll/v1/owners",
        &format!(r#"{{"format":1,"data":{{"copied-owner":{now}}}}}"#),
    );
    let copy = tab(&storage);
    start(&copy, base).await;
    sleep(300).await;
    let id = ids(&copy.list())[0];
    let owner = owner_of(&storage, id);
    assert_ne!(
        owner, "copied-owner",
        "the original tab's id stays the original's"
    );
    assert_eq!(
        session_get(KEY).as_deref(),
        Some(owner.as_str()),
        "kept for this tab's reloads"
    );
    copy.stop_all();
}
