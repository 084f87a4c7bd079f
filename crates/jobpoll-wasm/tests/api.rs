//! The JavaScript API beyond waiting: events as an async iterator, stop by id,
//! the signal's listener, headers in every form, profile objects and the error
//! classes. Under Node against the reference server (see `run-tests.sh`).
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use jobpoll_wasm::{JobpollError, Jobs, OptionsError};
use js_sys::{Array, Promise};
use wasm_bindgen::JsCast as _;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen(inline_js = r#"
export function watchAbortListeners(signal) {
  const live = new Set();
  const counts = { added: 0, get live() { return live.size; } };
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = (type, listener, options) => {
    if (type === "abort") { counts.added += 1; live.add(listener); }
    add(type, listener, options);
  };
  signal.removeEventListener = (type, listener, options) => {
    if (type === "abort") live.delete(listener);
    remove(type, listener, options);
  };
  return counts;
}
export function isAsyncIterable(value) {
  return typeof value[Symbol.asyncIterator] === "function" && value[Symbol.asyncIterator]() === value;
}
export function newHeaders(pairs) { return new Headers(pairs); }
"#)]
extern "C" {
    #[wasm_bindgen(js_name = watchAbortListeners)]
    fn watch_abort_listeners(signal: &web_sys::AbortSignal) -> JsValue;
    #[wasm_bindgen(js_name = isAsyncIterable)]
    fn is_async_iterable(value: &JsValue) -> bool;
    #[wasm_bindgen(js_name = newHeaders)]
    fn new_headers(pairs: &JsValue) -> JsValue;
}

/// Reads an iterator to its end: the events, and whether it ended (false: it
/// was still open after `max` events).
async fn read(stream: &JsValue, max: usize) -> (Vec<JsValue>, bool) {
    let mut events = Vec::new();
    while events.len() < max {
        let step = call(stream, "next").await.unwrap();
        if get(&step, "done") == JsValue::TRUE {
            return (events, true);
        }
        events.push(get(&step, "value"));
    }
    (events, false)
}

fn id_of(promise: &Promise) -> JsValue {
    get(promise, "id")
}

#[wasm_bindgen_test]
async fn the_events_of_one_wait_come_in_order_and_end_with_it() {
    let Some(base) = server() else { return };
    let url = create(base, r#"{"duration":300000,"progress":true}"#).await;
    let (recorded, on_event) = recorder();
    let jobs = Jobs::new(None).unwrap();
    let waiting = jobs.wait(
        &url,
        options(&[("interval", 50.into()), ("onEvent", on_event.into())]),
    );
    let id = id_of(&waiting);
    assert_eq!(id.as_f64(), number(&Array::from(&jobs.list()).get(0), "id"));
    let stream = jobs.events(Some(id), None).unwrap();
    assert!(is_async_iterable(&stream));
    let (events, ended) = read(&stream, 1000).await;
    assert!(ended, "the iterator ends after the outcome");
    let outcome = JsFuture::from(waiting).await.unwrap();
    assert_eq!(text(&outcome, "outcome"), "succeeded");
    let recorded = summaries(&recorded.borrow());
    assert!(events.len() >= 3, "{:?}", summaries(&events));
    assert_eq!(summaries(&events), recorded);
    assert_eq!(text(&events[0], "event"), "status_changed");
    assert!(get(&events[0], "dropped").is_undefined());
    // Read again: it stays ended.
    let step = call(&stream, "next").await.unwrap();
    assert_eq!(get(&step, "done"), JsValue::TRUE);
}

#[wasm_bindgen_test]
async fn an_unread_iterator_keeps_only_its_newest_events() {
    let Some(base) = server() else { return };
    let url = create(base, r#"{"duration":400000,"progress":true}"#).await;
    let (recorded, on_event) = recorder();
    // Memory only: no storage warning among the recorded events.
    let jobs = Jobs::new(Some(
        options(&[("onEvent", on_event.into()), ("storage", JsValue::NULL)]).unwrap(),
    ))
    .unwrap();
    // Every wait's events, at most 2 kept, not read while the job runs.
    let stream = jobs.events(None, options(&[("limit", 2.into())])).unwrap();
    let outcome = JsFuture::from(jobs.wait(&url, options(&[("interval", 40.into())])))
        .await
        .unwrap();
    assert_eq!(text(&outcome, "outcome"), "succeeded");
    let recorded = summaries(&recorded.borrow());
    assert!(recorded.len() >= 5, "{recorded:?}");
    let lost = recorded.len() - 2;
    assert_eq!(number(&stream, "dropped"), Some(lost as f64));
    // The iterator of every wait stays open: read what it kept, then leave.
    let (kept, ended) = read(&stream, 2).await;
    assert!(!ended);
    assert_eq!(summaries(&kept), recorded[lost..]);
    assert_eq!(number(&kept[0], "dropped"), Some(lost as f64));
    assert!(get(&kept[1], "dropped").is_undefined());
    let step = call(&stream, "return").await.unwrap();
    assert_eq!(get(&step, "done"), JsValue::TRUE);
    // Left: later events do not reach it.
    let url = create(base, r#"{"duration":100000}"#).await;
    JsFuture::from(jobs.wait(&url, options(&[("interval", 40.into())])))
        .await
        .unwrap();
    let step = call(&stream, "next").await.unwrap();
    assert_eq!(get(&step, "done"), JsValue::TRUE);
    assert_eq!(number(&stream, "dropped"), Some(lost as f64));
}

#[wasm_bindgen_test]
async fn the_iterator_of_a_wait_that_does_not_run_ends_at_once() {
    let jobs = Jobs::new(None).unwrap();
    let stream = jobs.events(Some(41.into()), None).unwrap();
    let (events, ended) = read(&stream, 10).await;
    assert!(ended && events.is_empty());
    let error = jobs.events(Some("first".into()), None).unwrap_err();
    assert!(error.is_instance_of::<OptionsError>());
    assert_eq!(text(&error, "option"), "id");
    let error = jobs
        .events(None, options(&[("limit", 0.into())]))
        .unwrap_err();
    assert_eq!(text(&error, "option"), "limit");
}

#[wasm_bindgen_test]
async fn stop_by_id_cancels_that_wait_alone() {
    let Some(base) = server() else { return };
    let forever = r#"{"duration":1000000,"ending":{"ending":"never"}}"#;
    let first_url = create(base, forever).await;
    let second_url = create(base, forever).await;
    let jobs = Jobs::new(None).unwrap();
    let first = jobs.wait(&first_url, options(&[("interval", 50.into())]));
    let second = jobs.wait(&second_url, options(&[("interval", 50.into())]));
    let first_id = id_of(&first);
    let second_id = id_of(&second);
    assert_ne!(first_id, second_id);
    let events = jobs.events(Some(first_id.clone()), None).unwrap();
    sleep(200).await;
    assert!(jobs.stop(first_id.clone()).unwrap());
    let outcome = JsFuture::from(first).await.unwrap();
    assert_eq!(
        text(&outcome, "outcome"),
        "cancelled",
        "{}",
        stringify(&outcome)
    );
    assert_eq!(text(&outcome, "by.by"), "client");
    // Nobody else waited on it: the server was asked to cancel it.
    assert_eq!(get(&outcome, "by.server_confirmed"), JsValue::TRUE);
    let (_, ended) = read(&events, 1000).await;
    assert!(ended, "the stopped wait's iterator ends");
    let listed = Array::from(&jobs.list());
    assert_eq!(listed.length(), 1);
    assert_eq!(get(&listed.get(0), "id"), second_id);
    // Once ended, or never started: false.
    assert!(!jobs.stop(first_id).unwrap());
    assert!(!jobs.stop(9999.into()).unwrap());
    let error = jobs.stop("all".into()).unwrap_err();
    assert!(error.is_instance_of::<OptionsError>(), "{error:?}");
    jobs.stop_all();
    let outcome = JsFuture::from(second).await.unwrap();
    assert_eq!(text(&outcome, "outcome"), "cancelled");
}

#[wasm_bindgen_test]
async fn the_abort_listener_goes_when_the_wait_ends() {
    let Some(base) = server() else { return };
    let jobs = Jobs::new(None).unwrap();
    let controller = web_sys::AbortController::new().unwrap();
    let signal = controller.signal();
    let counts = watch_abort_listeners(&signal);
    // The jobs first, then the waits together, so that none ends before the
    // last starts.
    let mut urls = Vec::new();
    for _ in 0..3 {
        urls.push(create(base, r#"{"duration":100000}"#).await);
    }
    let forever = create(base, r#"{"duration":1000000,"ending":{"ending":"never"}}"#).await;
    let with_signal = || options(&[("interval", 50.into()), ("signal", signal.clone().into())]);
    let waits: Vec<Promise> = urls
        .iter()
        .map(|url| jobs.wait(url, with_signal()))
        .collect();
    let stopped = jobs.wait(&forever, with_signal());
    assert_eq!(number(&counts, "live"), Some(4.0));
    assert!(jobs.stop(id_of(&stopped)).unwrap());
    for waiting in waits {
        let outcome = JsFuture::from(waiting).await.unwrap();
        assert_eq!(text(&outcome, "outcome"), "succeeded");
    }
    let outcome = JsFuture::from(stopped).await.unwrap();
    assert_eq!(text(&outcome, "outcome"), "cancelled");
    assert_eq!(number(&counts, "added"), Some(4.0));
    assert_eq!(number(&counts, "live"), Some(0.0), "every listener removed");
    // The signal still stops a wait that starts later.
    let url = create(base, r#"{"duration":1000000,"ending":{"ending":"never"}}"#).await;
    let later = jobs.wait(
        &url,
        options(&[("interval", 50.into()), ("signal", signal.clone().into())]),
    );
    controller.abort();
    let outcome = JsFuture::from(later).await.unwrap();
    assert_eq!(text(&outcome, "outcome"), "cancelled");
}

/// A job that needs the session cookie the server hands out, and that cookie.
async fn session_job(base: &str) -> (String, String) {
    let url = create(base, r#"{"duration":200000,"session_cookie":true}"#).await;
    let response = fetch(&url, &JsValue::UNDEFINED).await;
    let headers = get(&response, "headers");
    let get_header: js_sys::Function = get(&headers, "get").unchecked_into();
    let cookie = get_header
        .call1(&headers, &"set-cookie".into())
        .unwrap()
        .as_string()
        .unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    (url, cookie)
}

#[wasm_bindgen_test]
async fn headers_go_out_from_an_object_a_headers_or_pairs() {
    let Some(base) = server() else { return };
    // A page can neither read `Set-Cookie` nor send `Cookie` (forbidden header
    // names): the browser keeps cookies itself. This runs under Node only.
    if js_sys::Reflect::has(&js_sys::global(), &"document".into()).unwrap_or(false) {
        wasm_bindgen_test::console_log!("a page cannot send Cookie: runs under Node only");
        return;
    }
    let jobs = Jobs::new(None).unwrap();
    let (url, cookie) = session_job(base).await;
    let outcome = JsFuture::from(jobs.wait(&url, options(&[("interval", 50.into())])))
        .await
        .unwrap();
    assert_eq!(
        text(&outcome, "outcome"),
        "unauthorized",
        "without the session"
    );
    let pairs = || -> JsValue {
        Array::of1(&Array::of2(&"Cookie".into(), &JsValue::from_str(&cookie))).into()
    };
    let forms = [
        ("object", json(&format!(r#"{{"Cookie":"{cookie}"}}"#))),
        ("Headers", new_headers(&pairs())),
        ("pairs", pairs()),
    ];
    for (form, headers) in forms {
        let (url, fresh) = session_job(base).await;
        let headers = js_sys::JSON::parse(&stringify(&headers).replace(&cookie, &fresh))
            .ok()
            .filter(|_| form != "Headers")
            .unwrap_or_else(|| {
                new_headers(&Array::of1(&Array::of2(
                    &"Cookie".into(),
                    &fresh.clone().into(),
                )))
            });
        let outcome = JsFuture::from(jobs.wait(
            &url,
            options(&[("interval", 50.into()), ("headers", headers)]),
        ))
        .await
        .unwrap();
        assert_eq!(
            text(&outcome, "outcome"),
            "succeeded",
            "{form}: {}",
            stringify(&outcome)
        );
    }
}

#[wasm_bindgen_test]
async fn a_bad_header_is_an_options_error_naming_it() {
    let jobs = Jobs::new(None).unwrap();
    let url = "http://127.0.0.1:9/api/v1/jobs/x";
    for (headers, named) in [
        (json(r#"{"X Token":"1"}"#), "\"X Token\""),
        (json(r#"[["X-Token","a\nb"]]"#), "\"X-Token\""),
        (json(r#"{"X-Token":{"nested":true}}"#), "\"X-Token\""),
        (json(r#"[["X-Token"]]"#), "headers"),
    ] {
        let error = JsFuture::from(jobs.wait(url, options(&[("headers", headers)])))
            .await
            .unwrap_err();
        assert!(error.is_instance_of::<OptionsError>(), "{error:?}");
        assert_eq!(text(&error, "option"), "headers");
        assert!(text(&error, "message").contains(named), "{error:?}");
    }
}

#[wasm_bindgen_test]
#[cfg(feature = "profile-objects")]
async fn a_profile_object_waits_as_its_builtin_twin() {
    let Some(base) = server() else { return };
    let url = create(base, r#"{"duration":150000}"#).await;
    let profile = json(&serde_json::to_string(&jobpoll_core::Profile::jobs()).unwrap());
    let jobs = Jobs::new(None).unwrap();
    let outcome = JsFuture::from(jobs.wait(
        &url,
        options(&[("interval", 50.into()), ("profile", profile)]),
    ))
    .await
    .unwrap();
    assert_eq!(
        text(&outcome, "outcome"),
        "succeeded",
        "{}",
        stringify(&outcome)
    );
}

#[wasm_bindgen_test]
#[cfg(feature = "profile-objects")]
async fn a_misspelt_profile_is_a_profile_error_with_the_cores_message() {
    let mut written = serde_json::to_value(jobpoll_core::Profile::jobs()).unwrap();
    let object = written.as_object_mut().unwrap();
    let completion = object.remove("completion").unwrap();
    object.insert("completoin".to_owned(), completion);
    let core = jobpoll_core::Profile::from_json(&written.to_string()).unwrap_err();
    let jobs = Jobs::new(None).unwrap();
    let error = JsFuture::from(jobs.wait(
        "http://127.0.0.1:9/api/v1/jobs/x",
        options(&[("profile", json(&written.to_string()))]),
    ))
    .await
    .unwrap_err();
    assert!(
        error.is_instance_of::<jobpoll_wasm::ProfileError>(),
        "{error:?}"
    );
    assert!(error.is_instance_of::<OptionsError>());
    assert!(error.is_instance_of::<JobpollError>());
    assert!(error.is_instance_of::<js_sys::Error>());
    assert_eq!(text(&error, "message"), core.to_string());
    assert_eq!(text(&error, "name"), "ProfileError");
    assert_eq!(text(&error, "option"), "profile");
    assert_eq!(text(&error, "key"), "completoin");
    assert_eq!(text(&error, "suggestion"), "completion");
    // An unknown built-in name says which exist.
    let error = JsFuture::from(jobs.wait(
        "http://127.0.0.1:9/api/v1/jobs/x",
        options(&[("profile", "job".into())]),
    ))
    .await
    .unwrap_err();
    assert!(error.is_instance_of::<OptionsError>());
    assert!(!error.is_instance_of::<jobpoll_wasm::ProfileError>());
    assert!(text(&error, "message").contains("choose one of jobs, codegen"));
}

#[wasm_bindgen_test]
async fn bad_arguments_are_options_errors_naming_the_option() {
    let jobs = Jobs::new(None).unwrap();
    let url = "http://127.0.0.1:9/api/v1/jobs/x";
    let cases: [(&str, JsValue, &str); 5] = [
        ("interval", (-5).into(), "interval"),
        ("maxAttempts", 1.5.into(), "maxAttempts"),
        ("preset", "slow".into(), "preset"),
        ("signal", "abort".into(), "signal"),
        ("onEvent", 7.into(), "onEvent"),
    ];
    for (key, value, option) in cases {
        let error = JsFuture::from(jobs.wait(url, options(&[(key, value)])))
            .await
            .unwrap_err();
        assert!(error.is_instance_of::<OptionsError>(), "{key}: {error:?}");
        assert!(error.is_instance_of::<JobpollError>());
        assert_eq!(text(&error, "name"), "OptionsError");
        assert_eq!(text(&error, "option"), option, "{error:?}");
    }
    let error = JsFuture::from(jobs.wait("http://no such host/", None))
        .await
        .unwrap_err();
    assert_eq!(text(&error, "option"), "url");
    let error = Jobs::new(options(&[("maxConcurrent", 0.into())]))
        .err()
        .unwrap();
    assert!(error.is_instance_of::<OptionsError>());
    assert_eq!(text(&error, "option"), "maxConcurrent");
    let error = Jobs::new(options(&[("pauseWhenHidden", "no".into())]))
        .err()
        .unwrap();
    assert_eq!(text(&error, "option"), "pauseWhenHidden");
    // A refused call has no id.
    let refused = jobs.wait("http://no such host/", None);
    assert!(id_of(&refused).is_undefined());
    assert!(JsFuture::from(refused).await.is_err());
}

#[wasm_bindgen_test]
async fn values_json_cannot_hold_and_unknown_options_are_refused() {
    let jobs = Jobs::new(None).unwrap();
    let url = "http://127.0.0.1:9/api/v1/jobs/x";
    let function: JsValue = js_sys::Function::new_no_args("return 1").into();
    let cases: [(&str, JsValue, &str, &str); 5] = [
        (
            "timeout",
            f64::NAN.into(),
            "timeout",
            "timeout must be a number of milliseconds, not NaN",
        ),
        (
            "interval",
            f64::INFINITY.into(),
            "interval",
            "interval must be a number of milliseconds, not Infinity",
        ),
        (
            "maxAttempts",
            function,
            "maxAttempts",
            "maxAttempts must be a whole number from 0 to 4294967295, not a function",
        ),
        (
            "timout",
            5000.into(),
            "timout",
            "unknown option \"timout\"; did you mean timeout?",
        ),
        (
            "maxErrors",
            (-1).into(),
            "maxErrors",
            "maxErrors must be a whole number from 0 to 4294967295, not -1",
        ),
    ];
    for (key, value, option, message) in cases {
        let error = JsFuture::from(jobs.wait(url, options(&[(key, value)])))
            .await
            .unwrap_err();
        assert!(error.is_instance_of::<OptionsError>(), "{key}: {error:?}");
        assert_eq!(text(&error, "option"), option, "{error:?}");
        assert_eq!(text(&error, "message"), message, "{error:?}");
    }
}

#[wasm_bindgen_test]
async fn null_options_mean_not_given() {
    let jobs = Jobs::new(Some(json(
        r#"{"onEvent":null,"maxConcurrent":null,"seed":null,"pauseWhenHidden":null}"#,
    )))
    .unwrap();
    let given = json(
        r#"{"profile":null,"preset":null,"timeout":null,"headers":null,"signal":null,"onEvent":null,"maxBodyBytes":null}"#,
    );
    for (key, value) in [("interval", 20), ("maxErrors", 1)] {
        js_sys::Reflect::set(&given, &key.into(), &value.into()).unwrap();
    }
    let outcome = JsFuture::from(jobs.wait("http://127.0.0.1:9/api/v1/jobs/x", Some(given)))
        .await
        .unwrap();
    assert_eq!(
        text(&outcome, "outcome"),
        "gave_up",
        "{}",
        stringify(&outcome)
    );
}

#[wasm_bindgen_test]
#[cfg(not(feature = "profile-objects"))]
async fn without_profile_objects_a_profile_object_is_refused() {
    let jobs = Jobs::new(None).unwrap();
    let error = JsFuture::from(jobs.wait(
        "http://127.0.0.1:9/api/v1/jobs/x",
        options(&[("profile", json("{}"))]),
    ))
    .await
    .unwrap_err();
    assert!(error.is_instance_of::<OptionsError>());
    assert!(text(&error, "message").contains("profile-objects"));
}

#[wasm_bindgen_test]
async fn freeing_the_jobs_ends_the_waits_still_running() {
    let Some(base) = server() else { return };
    let jobs = Jobs::new(None).unwrap();
    let controller = web_sys::AbortController::new().unwrap();
    let signal = controller.signal();
    let counts = watch_abort_listeners(&signal);
    let url = create(base, r#"{"duration":1000000,"ending":{"ending":"never"}}"#).await;
    let running = jobs.wait(
        &url,
        options(&[("interval", 50.into()), ("signal", signal.into())]),
    );
    sleep(200).await;
    assert_eq!(number(&counts, "live"), Some(1.0));
    drop(jobs);
    // Not pending for ever: cancelled on this side, no cancel request sent.
    let outcome = JsFuture::from(running).await.unwrap();
    assert_eq!(
        text(&outcome, "outcome"),
        "cancelled",
        "{}",
        stringify(&outcome)
    );
    assert_eq!(get(&outcome, "by.server_confirmed"), JsValue::NULL);
    assert!(
        text(&outcome, "summary").contains("may still be running"),
        "{}",
        stringify(&outcome)
    );
    assert!(number_at(&outcome, "stats.attempts") >= 1.0);
    assert_eq!(
        number(&counts, "live"),
        Some(0.0),
        "the signal's listener removed"
    );
}

#[wasm_bindgen_test]
async fn freeing_the_jobs_ends_their_iterators() {
    let jobs = Jobs::new(None).unwrap();
    let every = jobs.events(None, None).unwrap();
    let next: js_sys::Function = get(&every, "next").unchecked_into();
    let pending: Promise = next.call0(&every).unwrap().unchecked_into();
    drop(jobs);
    let step = JsFuture::from(pending).await.unwrap();
    assert_eq!(
        get(&step, "done"),
        JsValue::TRUE,
        "a reader waiting is let go"
    );
}
