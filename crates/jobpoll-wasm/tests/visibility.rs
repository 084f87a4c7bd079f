//! Pausing while the page is hidden. In headless Chromium each test overrides
//! the real document's `visibilityState` and dispatches its events; under Node
//! it installs a stand-in `globalThis.document` (an `EventTarget` with a
//! `visibilityState`). The tests take turns, since the document is global.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use jobpoll_wasm::Jobs;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen(inline_js = r#"
// In a page the real document is used: its visibilityState is overridden and
// its listeners are counted by wrapping its addEventListener. Under Node a
// stand-in EventTarget is installed as globalThis.document.
const inPage = typeof window !== "undefined" && window.document === globalThis.document;
const listeners = [];
function track(document) {
  if (document.__counted) return;
  document.__counted = true;
  const add = document.addEventListener.bind(document);
  const remove = document.removeEventListener.bind(document);
  const capture = (options) => typeof options === "boolean" ? options : !!(options && options.capture);
  document.addEventListener = (type, listener, options) => {
    listeners.push([type, listener, capture(options)]);
    add(type, listener, options);
  };
  document.removeEventListener = (type, listener, options) => {
    const at = listeners.findIndex(([t, l, c]) => t === type && l === listener && c === capture(options));
    if (at >= 0) listeners.splice(at, 1);
    remove(type, listener, options);
  };
}
export function inAPage() { return inPage; }
export function installDocument(state) {
  if (inPage) {
    track(document);
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => state });
    return document;
  }
  const stand_in = new EventTarget();
  stand_in.visibilityState = state;
  globalThis.document = stand_in;
  return stand_in;
}
// The types of the listeners registered on the document.
export function listening() {
  const types = ["focus", "keydown", "pointerdown", "visibilitychange"];
  if (inPage) {
    return types.filter((type) => listeners.some(([t]) => t === type)).join(",");
  }
  const { getEventListeners } = process.getBuiltinModule("node:events");
  return types.filter((type) => getEventListeners(globalThis.document, type).length > 0).join(",");
}
export function removeDocument() {
  if (inPage) delete document.visibilityState; else delete globalThis.document;
}
export function setVisibility(state) {
  if (inPage) {
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => state });
  } else {
    globalThis.document.visibilityState = state;
  }
  globalThis.document.dispatchEvent(new Event("visibilitychange"));
}
export function dispatch(type) { globalThis.document.dispatchEvent(new Event(type)); }
"#)]
extern "C" {
    #[wasm_bindgen(js_name = installDocument)]
    fn install_document(state: &str) -> JsValue;
    #[wasm_bindgen(js_name = removeDocument)]
    fn remove_document();
    #[wasm_bindgen(js_name = setVisibility)]
    fn set_visibility(state: &str);
    fn dispatch(kind: &str);
    fn listening() -> String;
    #[wasm_bindgen(js_name = inAPage)]
    fn in_a_page() -> bool;
}

/// The page for one test: a document in `state`, removed after the test.
struct Page {
    _turn: Turn,
}

impl Page {
    async fn new(state: &str) -> Page {
        let turn = Turn::take().await;
        install_document(state);
        Page { _turn: turn }
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        remove_document();
    }
}

fn paused_by(jobs: &Jobs) -> String {
    stringify(&get(&jobs.metrics(), "paused_by"))
}

#[wasm_bindgen_test]
async fn a_hidden_page_holds_requests_and_showing_it_sends_them_at_once() {
    let Some(base) = server() else { return };
    let page = Page::new("visible").await;
    let url = create(base, r#"{"duration":100000}"#).await;
    let jobs = Jobs::new(None).unwrap();
    set_visibility("hidden");
    assert_eq!(paused_by(&jobs), r#"["hidden"]"#);
    let waiting = jobs.wait(&url, options(&[("interval", 50.into())]));
    sleep(300).await;
    assert_eq!(requests(&jobs), 0.0, "no request while hidden");
    assert_eq!(get(&jobs.metrics(), "paused"), JsValue::TRUE);
    set_visibility("visible");
    // The poll that fell due went out as the page showed, not at a later tick.
    assert_eq!(requests(&jobs), 1.0);
    assert_eq!(paused_by(&jobs), "[]");
    let outcome = JsFuture::from(waiting).await.unwrap();
    assert_eq!(text(&outcome, "outcome"), "succeeded");
    assert_eq!(number(&outcome, "stats.attempts"), Some(1.0));
    drop(page);
}

#[wasm_bindgen_test]
async fn a_page_hidden_from_the_start_pauses_at_once_and_activity_resumes_it() {
    let Some(base) = server() else { return };
    let page = Page::new("hidden").await;
    for activity in ["pointerdown", "keydown", "focus"] {
        let url = create(base, r#"{"duration":100000}"#).await;
        let jobs = Jobs::new(None).unwrap();
        assert_eq!(paused_by(&jobs), r#"["hidden"]"#, "{activity}");
        let waiting = jobs.wait(&url, options(&[("interval", 50.into())]));
        sleep(150).await;
        assert_eq!(requests(&jobs), 0.0, "{activity}");
        dispatch(activity);
        assert_eq!(requests(&jobs), 1.0, "{activity} resumes at once");
        assert_eq!(paused_by(&jobs), "[]", "{activity}");
        let outcome = JsFuture::from(waiting).await.unwrap();
        assert_eq!(text(&outcome, "outcome"), "succeeded", "{activity}");
    }
    drop(page);
}

#[wasm_bindgen_test]
async fn the_callers_pause_holds_whatever_the_page_does() {
    let Some(base) = server() else { return };
    let page = Page::new("visible").await;
    let url = create(base, r#"{"duration":100000}"#).await;
    let jobs = Jobs::new(None).unwrap();
    jobs.pause();
    let waiting = jobs.wait(&url, options(&[("interval", 50.into())]));
    set_visibility("hidden");
    assert_eq!(paused_by(&jobs), r#"["user","hidden"]"#);
    set_visibility("visible");
    dispatch("pointerdown");
    dispatch("keydown");
    sleep(150).await;
    assert_eq!(paused_by(&jobs), r#"["user"]"#);
    assert_eq!(
        requests(&jobs),
        0.0,
        "visibility and activity do not undo pause()"
    );
    // resume() while hidden: the page's reason still holds.
    set_visibility("hidden");
    jobs.resume();
    assert_eq!(paused_by(&jobs), r#"["hidden"]"#);
    assert_eq!(requests(&jobs), 0.0);
    set_visibility("visible");
    assert_eq!(requests(&jobs), 1.0);
    let outcome = JsFuture::from(waiting).await.unwrap();
    assert_eq!(text(&outcome, "outcome"), "succeeded");
    drop(page);
}

#[wasm_bindgen_test]
async fn pause_when_hidden_false_leaves_the_page_alone() {
    let Some(base) = server() else { return };
    let page = Page::new("hidden").await;
    let url = create(base, r#"{"duration":100000}"#).await;
    let jobs = Jobs::new(options(&[("pauseWhenHidden", false.into())])).unwrap();
    assert_eq!(listening(), "");
    assert_eq!(get(&jobs.metrics(), "paused"), JsValue::FALSE);
    let outcome = JsFuture::from(jobs.wait(&url, options(&[("interval", 50.into())])))
        .await
        .unwrap();
    assert_eq!(text(&outcome, "outcome"), "succeeded");
    drop(page);
}

#[wasm_bindgen_test]
async fn the_listeners_go_when_the_jobs_are_freed() {
    let page = Page::new("visible").await;
    let jobs = Jobs::new(None).unwrap();
    assert_eq!(listening(), "focus,keydown,pointerdown,visibilitychange");
    drop(jobs);
    assert_eq!(listening(), "", "every listener removed");
    // Events after that reach nothing and break nothing.
    set_visibility("hidden");
    dispatch("pointerdown");
    drop(page);
}

#[wasm_bindgen_test]
async fn without_a_document_nothing_is_watched() {
    if in_a_page() {
        // A page always has a document.
        return;
    }
    let turn = Turn::take().await;
    let jobs = Jobs::new(None).unwrap();
    assert_eq!(get(&jobs.metrics(), "paused"), JsValue::FALSE);
    jobs.pause();
    assert_eq!(paused_by(&jobs), r#"["user"]"#);
    jobs.resume();
    assert_eq!(paused_by(&jobs), "[]");
    drop(turn);
}
