//! Jobs that outlive the page, under Node against the reference server: saved
//! in a storage object, restored by a new `Jobs` after a reload, and the history
//! and results kept with them.
//!
//! Node has no `localStorage`: the storage here is a JavaScript object with
//! `getItem`, `setItem` and `removeItem` over a `Map`, which can be told to
//! throw `QuotaExceededError` past a size. `run-tests.sh` starts the server and
//! passes its address in `JOBPOLL_TEST_SERVER` at build time; without it the
//! tests that need it say so and pass.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)]

use std::cell::RefCell;
use std::rc::Rc;

use jobpoll_wasm::Jobs;
use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::JsCast as _;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

mod common;

use common::*;

#[wasm_bindgen(inline_js = r#"
export function fake_storage(quota) {
  const map = new Map();
  const size = (skip) => {
    let n = 0;
    for (const [k, v] of map) if (k !== skip) n += k.length + v.length;
    return n;
  };
  return {
    map,
    getItem(key) { return map.has(key) ? map.get(key) : null; },
    setItem(key, value) {
      value = String(value);
      if (quota != null && size(key) + key.length + value.length > quota) {
        throw new DOMException("the quota has been exceeded", "QuotaExceededError");
      }
      map.set(key, value);
    },
    removeItem(key) { map.delete(key); },
  };
}
export function stored_keys(storage) { return [...storage.map.keys()].sort(); }
export function stored(storage, key) { const v = storage.map.get(key); return v === undefined ? null : JSON.parse(v); }
export function put(storage, key, text) { storage.map.set(key, text); }
export function set_snapshot_format(storage, key, format) {
  const value = JSON.parse(storage.map.get(key));
  value.data.snapshot.format = format;
  storage.map.set(key, JSON.stringify(value));
}
export function set_saved_option(storage, key, name, option) {
  const value = JSON.parse(storage.map.get(key));
  value.data.options[name] = option;
  storage.map.set(key, JSON.stringify(value));
}
export function move_saved_at(storage, key, ms) {
  const value = JSON.parse(storage.map.get(key));
  value.data.savedAt += ms;
  storage.map.set(key, JSON.stringify(value));
}
export function slow_answers(ms) {
  const real = globalThis.fetch;
  globalThis.fetch = async (...args) => {
    const response = await real(...args);
    await new Promise((resolve) => setTimeout(resolve, ms));
    return response;
  };
  return () => { globalThis.fetch = real; };
}
"#)]
extern "C" {
    fn fake_storage(quota: JsValue) -> JsValue;
    fn stored_keys(storage: &JsValue) -> Array;
    fn stored(storage: &JsValue, key: &str) -> JsValue;
    fn put(storage: &JsValue, key: &str, text: &str);
    fn move_saved_at(storage: &JsValue, key: &str, ms: f64);
    fn set_snapshot_format(storage: &JsValue, key: &str, format: u32);
    fn set_saved_option(storage: &JsValue, key: &str, name: &str, option: JsValue);
    /// Holds every `fetch` answer back `ms`; returns the function that undoes it.
    fn slow_answers(ms: f64) -> Function;
}

/// The storage warnings among `events`.
fn warnings(events: &Rc<RefCell<Vec<JsValue>>>) -> Vec<String> {
    events
        .borrow()
        .iter()
        .filter(|event| get(event, "type").as_string().as_deref() == Some("storage_warning"))
        .map(|event| text(event, "message"))
        .collect()
}

/// How many `POST`s the server received at `path`.
async fn posts(base: &str, path: &str) -> f64 {
    let url = format!("{base}/_jobpoll/requests?path={path}");
    let response = fetch(&url, &JsValue::UNDEFINED).await;
    let counts = call(&response, "json").await.unwrap();
    Array::from(&get(&counts, "requests"))
        .iter()
        .find(|count| text(count, "method") == "POST")
        .map_or(0.0, |count| number_at(&count, "count"))
}

fn keys(storage: &JsValue) -> Vec<String> {
    stored_keys(storage)
        .iter()
        .map(|key| key.as_string().unwrap())
        .collect()
}

fn jobs_with(storage: &JsValue, on_event: Option<&Function>) -> Jobs {
    let mut pairs = vec![("storage", storage.clone())];
    if let Some(on_event) = on_event {
        pairs.push(("onEvent", on_event.clone().into()));
    }
    Jobs::new(options(&pairs)).unwrap()
}

async fn outcome_of(restored: &JsValue) -> JsValue {
    let promise: Promise = get(restored, "outcome").unchecked_into();
    JsFuture::from(promise).await.unwrap()
}

#[wasm_bindgen_test]
async fn a_reload_in_the_middle_resumes_the_job_where_it_was() {
    let Some(base) = server() else { return };
    let storage = fake_storage(JsValue::NULL);
    let creates = posts(base, "/api/v1/demo-job").await;
    let before = jobs_with(&storage, None);
    let create_url = format!("{base}/api/v1/demo-job");
    let _first = before.submit(
        &create_url,
        options(&[
            ("body", json(r#"{"plan":{"duration":2500000}}"#)),
            ("interval", 200.into()),
        ]),
    );
    // A wait kept out of storage.
    let _private = before.wait(
        &create(base, r#"{"duration":2500000}"#).await,
        options(&[("persist", false.into()), ("interval", 200.into())]),
    );
    sleep(700).await;
    assert_eq!(
        keys(&storage),
        ["jobpoll/v1/jobs", "jobpoll/v1/jobs/1", "jobpoll/v1/owners"],
        "only the first wait is saved (and the page's lease)"
    );
    let saved = stored(&storage, "jobpoll/v1/jobs/1");
    assert_eq!(number_at(&saved, "format"), 1.0);
    let job_id = text(&saved, "data.snapshot.job.job_id");
    let attempts = number_at(&saved, "data.snapshot.job.attempts");
    assert!(attempts >= 2.0, "{}", stringify(&saved));
    // A built-in profile is saved as its name, and rebuilt from it.
    assert_eq!(
        text(&saved, "data.snapshot.job.spec.profile.builtin"),
        "jobs",
        "{}",
        stringify(&saved)
    );
    // The page goes away, and a new one comes.
    drop(before);
    sleep(300).await;
    let after = jobs_with(&storage, None);
    assert_eq!(Array::from(&after.list()).length(), 0);
    let restored = after.restore();
    assert_eq!(restored.length(), 1, "{}", stringify(&restored));
    let job = restored.get(0);
    assert_eq!(number_at(&job, "id"), 1.0);
    assert_eq!(text(&job, "url"), create_url);
    assert_eq!(text(&job, "mode"), "submit");
    assert_eq!(after.restore().length(), 0, "a second restore adds nothing");
    // New waits are numbered after the saved ones.
    let _next = after.wait(
        &create(base, r#"{"duration":100000}"#).await,
        options(&[("interval", 100.into())]),
    );
    let ids: Vec<f64> = Array::from(&after.list())
        .iter()
        .map(|listed| number_at(&listed, "id"))
        .collect();
    assert_eq!(ids, [1.0, 3.0]);
    let outcome = outcome_of(&job).await;
    assert_eq!(
        text(&outcome, "outcome"),
        "succeeded",
        "{}",
        stringify(&outcome)
    );
    assert_eq!(text(&outcome, "stats.job_id"), job_id);
    assert!(
        get(&outcome, "result").is_object(),
        "{}",
        stringify(&outcome)
    );
    // The polls before the reload count.
    assert!(
        number_at(&outcome, "stats.attempts") > attempts,
        "{}",
        stringify(&outcome)
    );
    assert_eq!(
        posts(base, "/api/v1/demo-job").await - creates,
        3.0,
        "the submit and the two creates here: no second submit"
    );
    assert!(!keys(&storage).contains(&"jobpoll/v1/jobs/1".to_owned()));
    // It ended last, so it is the newest in the history.
    let newest = Array::from(&after.history()).get(0);
    assert_eq!(number_at(&newest, "id"), 1.0, "{}", stringify(&newest));
    assert_eq!(get(&newest, "ok"), JsValue::TRUE);
    assert_eq!(text(&newest, "jobId"), job_id);
    after.stop_all();
}

#[wasm_bindgen_test]
async fn a_saved_job_the_fleet_refuses_is_dropped_with_a_warning() {
    let Some(base) = server() else { return };
    let storage = fake_storage(JsValue::NULL);
    let url = create(base, r#"{"duration":1000000,"ending":{"ending":"never"}}"#).await;
    let before = jobs_with(&storage, None);
    let _waiting = before.wait(&url, options(&[("interval", 200.into())]));
    sleep(500).await;
    drop(before);
    // A snapshot that reads, in a format this build does not resume.
    set_snapshot_format(&storage, "jobpoll/v1/jobs/1", 2);
    let (events, on_event) = recorder();
    let after = jobs_with(&storage, Some(&on_event));
    assert_eq!(after.restore().length(), 0);
    let warned = warnings(&events);
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert!(
        warned[0].contains("jobpoll/v1/jobs/1")
            && warned[0].contains("the saved job 1 was dropped"),
        "{}",
        warned[0]
    );
    assert!(
        warned[0].contains("snapshot format 2 is not supported"),
        "{}",
        warned[0]
    );
    assert_eq!(Array::from(&after.list()).length(), 0);
    assert!(!keys(&storage).contains(&"jobpoll/v1/jobs/1".to_owned()));
}

#[wasm_bindgen_test]
async fn a_saved_job_is_made_again_from_its_options_and_dropped_when_they_are_refused() {
    let Some(base) = server() else { return };
    let storage = fake_storage(JsValue::NULL);
    let url = create(base, r#"{"duration":1000000,"ending":{"ending":"never"}}"#).await;
    let before = jobs_with(&storage, None);
    let _waiting = before.wait(
        &url,
        options(&[("interval", 200.into()), ("preset", "fast".into())]),
    );
    sleep(500).await;
    drop(before);
    // What the wait was given is saved with it, and the URL it used.
    let saved = stored(&storage, "jobpoll/v1/jobs/1");
    assert_eq!(
        stringify(&get(&saved, "data.options")),
        r#"{"interval":200,"preset":"fast"}"#
    );
    assert_eq!(text(&saved, "data.href"), url);
    // Options this build refuses: the job cannot be made again.
    set_saved_option(&storage, "jobpoll/v1/jobs/1", "preset", "warp".into());
    let (events, on_event) = recorder();
    let after = jobs_with(&storage, Some(&on_event));
    assert_eq!(after.restore().length(), 0);
    let warned = warnings(&events);
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert!(
        warned[0].contains("jobpoll/v1/jobs/1: the saved options are refused")
            && warned[0].contains("unknown preset \"warp\""),
        "{}",
        warned[0]
    );
    assert!(!keys(&storage).contains(&"jobpoll/v1/jobs/1".to_owned()));
}

#[wasm_bindgen_test]
async fn time_away_counts_against_the_timeout() {
    let Some(base) = server() else { return };
    let storage = fake_storage(JsValue::NULL);
    let url = create(base, r#"{"duration":1000000,"ending":{"ending":"never"}}"#).await;
    let before = jobs_with(&storage, None);
    let _waiting = before.wait(
        &url,
        options(&[("interval", 200.into()), ("timeout", 60_000.into())]),
    );
    sleep(500).await;
    drop(before);
    // Saved a minute and a half ago, as if the page had been closed since.
    move_saved_at(&storage, "jobpoll/v1/jobs/1", -90_000.0);
    let after = jobs_with(&storage, None);
    let started = js_sys::Date::now();
    let restored = after.restore();
    assert_eq!(restored.length(), 1);
    let outcome = outcome_of(&restored.get(0)).await;
    assert_eq!(
        text(&outcome, "outcome"),
        "timed_out",
        "{}",
        stringify(&outcome)
    );
    assert_eq!(
        text(&outcome, "reason.limit"),
        "deadline",
        "{}",
        stringify(&outcome)
    );
    assert!(js_sys::Date::now() - started < 1000.0, "at once");
    assert!(number_at(&outcome, "stats.elapsed") >= 90_000_000.0);
}

#[wasm_bindgen_test]
async fn a_create_in_flight_at_a_reload_is_not_sent_again() {
    let Some(base) = server() else { return };
    let storage = fake_storage(JsValue::NULL);
    let creates = posts(base, "/api/v1/demo-job").await;
    let undo = slow_answers(1500.0);
    let before = jobs_with(&storage, None);
    // Saved first while held back by the pause (not sent: a reload would send
    // it), then sent: the saved job must say so before it can reach the server.
    before.pause();
    let _waiting = before.submit(
        &format!("{base}/api/v1/demo-job"),
        options(&[
            ("body", json(r#"{"plan":{"duration":300000}}"#)),
            ("interval", 100.into()),
        ]),
    );
    sleep(100).await;
    before.resume();
    // The create reached the server; its answer is held back.
    sleep(400).await;
    drop(before);
    undo.call0(&JsValue::UNDEFINED).unwrap();
    assert_eq!(posts(base, "/api/v1/demo-job").await - creates, 1.0);
    let after = jobs_with(&storage, None);
    let restored = after.restore();
    assert_eq!(restored.length(), 1);
    let outcome = outcome_of(&restored.get(0)).await;
    assert_eq!(
        text(&outcome, "outcome"),
        "gave_up",
        "{}",
        stringify(&outcome)
    );
    assert_eq!(
        text(&outcome, "last_error.error"),
        "submit_uncertain",
        "{}",
        stringify(&outcome)
    );
    assert!(text(&outcome, "summary").contains("Idempotency-Key"));
    sleep(200).await;
    assert_eq!(
        posts(base, "/api/v1/demo-job").await - creates,
        1.0,
        "the create was not sent again"
    );
    assert_eq!(
        keys(&storage),
        ["jobpoll/v1/history", "jobpoll/v1/jobs", "jobpoll/v1/owners"]
    );
}

#[wasm_bindgen_test]
async fn a_full_storage_falls_back_to_memory_with_one_warning() {
    let Some(base) = server() else { return };
    // Room for small values, not for a job's snapshot.
    let storage = fake_storage(400.into());
    let (events, on_event) = recorder();
    let jobs = jobs_with(&storage, Some(&on_event));
    let mut waits = Vec::new();
    for _ in 0..3 {
        let url = create(base, r#"{"duration":300000}"#).await;
        waits.push(jobs.wait(&url, options(&[("interval", 100.into())])));
    }
    for wait in waits {
        let outcome = JsFuture::from(wait).await.unwrap();
        assert_eq!(
            text(&outcome, "outcome"),
            "succeeded",
            "{}",
            stringify(&outcome)
        );
    }
    let warned = warnings(&events);
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert!(warned[0].contains("QuotaExceededError"), "{}", warned[0]);
    assert!(warned[0].contains("in memory"), "{}", warned[0]);
    // Kept in memory all the same.
    assert_eq!(Array::from(&jobs.history()).length(), 3);
    assert_eq!(number_at(&jobs.stats(), "succeeded"), 3.0);
    // Nothing half-saved is left for a reload to resume.
    assert!(
        keys(&storage)
            .iter()
            .all(|key| !key.starts_with("jobpoll/v1/jobs/")),
        "{:?}",
        keys(&storage)
    );
}

#[wasm_bindgen_test]
async fn memory_only_keeps_nothing_across_jobs_and_warns_of_nothing() {
    let Some(base) = server() else { return };
    let (events, on_event) = recorder();
    let jobs = jobs_with(&JsValue::NULL, Some(&on_event));
    let url = create(base, r#"{"duration":100000}"#).await;
    let outcome = JsFuture::from(jobs.wait(&url, options(&[("interval", 100.into())])))
        .await
        .unwrap();
    assert_eq!(text(&outcome, "outcome"), "succeeded");
    assert_eq!(Array::from(&jobs.history()).length(), 1);
    assert_eq!(jobs.restore().length(), 0);
    assert!(warnings(&events).is_empty(), "{:?}", warnings(&events));
    let again = jobs_with(&JsValue::NULL, None);
    assert_eq!(Array::from(&again.history()).length(), 0);
    let (events, on_event) = recorder();
    let global = js_sys::global();
    let local = Reflect::get(&global, &"localStorage".into()).unwrap_or(JsValue::UNDEFINED);
    if local.is_undefined() {
        // Without a storage object (Node has no localStorage): one warning.
        let _default = Jobs::new(options(&[("onEvent", on_event.into())])).unwrap();
        let warned = warnings(&events);
        assert_eq!(warned.len(), 1, "{warned:?}");
        assert!(warned[0].contains("no localStorage"), "{}", warned[0]);
    } else {
        // In a page the default is the real localStorage: no warning, and a
        // finished job's history is there.
        let default = Jobs::new(options(&[
            ("onEvent", on_event.into()),
            ("storageKey", "default-storage-test".into()),
        ]))
        .unwrap();
        let url = create(base, r#"{"duration":100000}"#).await;
        let outcome = JsFuture::from(default.wait(&url, options(&[("interval", 100.into())])))
            .await
            .unwrap();
        assert_eq!(text(&outcome, "outcome"), "succeeded");
        assert!(warnings(&events).is_empty(), "{:?}", warnings(&events));
        let get_item: Function = Reflect::get(&local, &"getItem".into())
            .unwrap()
            .unchecked_into();
        let saved = get_item
            .call1(&local, &"default-storage-test/v1/history".into())
            .unwrap();
        assert!(
            saved.as_string().is_some_and(|text| text.contains(&url)),
            "{saved:?}"
        );
    }
}

#[wasm_bindgen_test]
async fn unreadable_saved_values_are_skipped_with_a_warning() {
    let storage = fake_storage(JsValue::NULL);
    put(
        &storage,
        "app/v1/jobs",
        r#"{"format":1,"data":{"ids":[4,5,6,7],"nextId":8}}"#,
    );
    put(&storage, "app/v1/jobs/4", "{not json");
    put(&storage, "app/v1/jobs/5", r#"{"format":2,"data":{}}"#);
    put(
        &storage,
        "app/v1/jobs/6",
        r#"{"format":1,"data":{"id":6,"url":"http://x/","mode":"wait","startedAt":0,"savedAt":0,"snapshot":{"format":7}}}"#,
    );
    put(&storage, "app/v1/history", r#"{"format":1,"data":"nope"}"#);
    let (events, on_event) = recorder();
    let jobs = Jobs::new(options(&[
        ("storage", storage.clone()),
        ("storageKey", "app".into()),
        ("onEvent", on_event.into()),
    ]))
    .unwrap();
    let warned = warnings(&events);
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert!(warned[0].contains("app/v1/history"), "{}", warned[0]);
    assert_eq!(Array::from(&jobs.history()).length(), 0);
    assert_eq!(jobs.restore().length(), 0);
    let warned = warnings(&events);
    assert_eq!(warned.len(), 4, "{warned:?}");
    assert!(
        warned[1].contains("app/v1/jobs/4 is not valid JSON"),
        "{}",
        warned[1]
    );
    assert!(warned[2].contains("format version 2"), "{}", warned[2]);
    assert!(warned[3].contains("app/v1/jobs/6"), "{}", warned[3]);
    // 7 was never there: nothing to say. The bad values are gone.
    assert_eq!(
        keys(&storage),
        ["app/v1/history", "app/v1/jobs", "app/v1/owners"]
    );
    assert_eq!(
        stringify(&stored(&storage, "app/v1/jobs")),
        r#"{"format":1,"data":{"ids":[],"nextId":8}}"#
    );
    // Bad arguments are errors.
    let error = Jobs::new(options(&[("storage", json(r#"{"getItem":1}"#))]))
        .err()
        .unwrap();
    assert!(text(&error, "message").contains("getItem, setItem and removeItem"));
    assert_eq!(text(&error, "name"), "OptionsError");
    assert_eq!(text(&error, "option"), "storage");
    let error = jobs.results(Some(7.into())).err().unwrap();
    assert_eq!(text(&error, "option"), "graphId");
    assert!(text(&error, "message").contains("graphId must be a string"));
}

#[wasm_bindgen_test]
async fn codegen_results_history_and_stats_survive_a_reload() {
    let Some(base) = server() else { return };
    let storage = fake_storage(JsValue::NULL);
    let before = jobs_with(&storage, None);
    let mut codes = Vec::new();
    for _ in 0..2 {
        let outcome = JsFuture::from(before.submit(
            &format!("{base}/api/v1/public/graph/codegen"),
            options(&[
                ("profile", "codegen".into()),
                (
                    "body",
                    json(r#"{"graphId":"g-store","plan":{"duration":200000}}"#),
                ),
                ("interval", 100.into()),
            ]),
        ))
        .await
        .unwrap();
        assert_eq!(
            text(&outcome, "outcome"),
            "succeeded",
            "{}",
            stringify(&outcome)
        );
        codes.push(get(&outcome, "results.g-store"));
    }
    let failed = JsFuture::from(before.submit(
        &format!("{base}/api/v1/demo-job"),
        options(&[
            (
                "body",
                json(r#"{"plan":{"duration":100000,"ending":{"ending":"fail","message":"no"}}}"#),
            ),
            ("interval", 100.into()),
        ]),
    ))
    .await
    .unwrap();
    assert_eq!(text(&failed, "outcome"), "failed");
    drop(before);
    let after = jobs_with(&storage, None);
    let results = after.results(None).unwrap();
    let graph = get(&results, "g-store");
    let nodes = Object::keys(graph.unchecked_ref::<Object>());
    assert!(nodes.length() > 0, "{}", stringify(&results));
    for node in nodes.iter() {
        let node = node.as_string().unwrap();
        let versions = Array::from(&Reflect::get(&graph, &node.as_str().into()).unwrap());
        assert_eq!(versions.length(), 2, "{}", stringify(&results));
        // Oldest first, newest last.
        for (n, outcome_codes) in codes.iter().enumerate() {
            let code =
                Array::from(&Reflect::get(outcome_codes, &node.as_str().into()).unwrap()).get(0);
            assert_eq!(versions.get(n as u32), code);
        }
    }
    assert_eq!(
        stringify(&after.results(Some("g-store".into())).unwrap()),
        stringify(&results)
    );
    assert_eq!(
        stringify(&after.results(Some("other".into())).unwrap()),
        "{}"
    );
    let history = Array::from(&after.history());
    let ids: Vec<f64> = history
        .iter()
        .map(|entry| number_at(&entry, "id"))
        .collect();
    assert_eq!(ids, [3.0, 2.0, 1.0], "newest first");
    let newest = history.get(0);
    assert_eq!(text(&newest, "outcome"), "failed");
    assert_eq!(get(&newest, "ok"), JsValue::FALSE);
    assert!(number_at(&newest, "finishedAt") >= number_at(&newest, "startedAt"));
    let stats = after.stats();
    assert_eq!(number_at(&stats, "count"), 3.0);
    assert_eq!(number_at(&stats, "succeeded"), 2.0);
    assert_eq!(number_at(&stats, "failed"), 1.0);
    assert!((number_at(&stats, "successRate") - 2.0 / 3.0).abs() < 1e-9);
    assert!(
        number_at(&stats, "averageCompletionMs") >= 100.0,
        "{}",
        stringify(&stats)
    );
    after.clear_results(Some("g-store".into())).unwrap();
    assert_eq!(stringify(&after.results(None).unwrap()), "{}");
    drop(after);
    let later = jobs_with(&storage, None);
    assert_eq!(stringify(&later.results(None).unwrap()), "{}");
    assert_eq!(Array::from(&later.history()).length(), 3);
}
