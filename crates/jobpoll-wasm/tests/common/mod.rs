//! What the browser driver's test files share: the reference server's address,
//! creating demo jobs on it, reading JavaScript values, and sleeping.
#![allow(dead_code, clippy::unwrap_used)]

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::JsCast as _;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// The reference server's base URL, e.g. `http://127.0.0.1:40123`.
const SERVER: Option<&str> = option_env!("JOBPOLL_TEST_SERVER");

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn fetch_with(url: &str, init: &JsValue) -> Promise;
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, millis: i32) -> JsValue;
}

/// The server, or `None` (and a line saying the test is skipped).
pub(crate) fn server() -> Option<&'static str> {
    if SERVER.is_none() {
        wasm_bindgen_test::console_log!("JOBPOLL_TEST_SERVER was not set at build time: skipped");
    }
    SERVER
}

/// A plain object from JSON text.
pub(crate) fn json(text: &str) -> JsValue {
    js_sys::JSON::parse(text).unwrap()
}

/// `value.a.b.c`, or `undefined`.
pub(crate) fn get(value: &JsValue, path: &str) -> JsValue {
    path.split('.').fold(value.clone(), |value, key| {
        Reflect::get(&value, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    })
}

/// `value.a.b.c` as a string; panics with the value when it is not one.
pub(crate) fn text(value: &JsValue, path: &str) -> String {
    get(value, path)
        .as_string()
        .unwrap_or_else(|| panic!("{path} is not a string in {}", stringify(value)))
}

/// `value.a.b.c` as a number, or `None`.
pub(crate) fn number(value: &JsValue, path: &str) -> Option<f64> {
    get(value, path).as_f64()
}

/// `value.a.b.c` as a number; panics with the value when it is not one.
pub(crate) fn number_at(value: &JsValue, path: &str) -> f64 {
    number(value, path).unwrap_or_else(|| panic!("{path} is not a number in {}", stringify(value)))
}

pub(crate) fn stringify(value: &JsValue) -> String {
    js_sys::JSON::stringify(value)
        .map(String::from)
        .unwrap_or_default()
}

/// An object with these properties.
pub(crate) fn options(pairs: &[(&str, JsValue)]) -> Option<JsValue> {
    let object = Object::new();
    for (key, value) in pairs {
        Reflect::set(&object, &JsValue::from_str(key), value).unwrap();
    }
    Some(object.into())
}

/// `fetch(url, init)`, resolved.
pub(crate) async fn fetch(url: &str, init: &JsValue) -> JsValue {
    JsFuture::from(fetch_with(url, init)).await.unwrap()
}

/// Calls `object.method()` and awaits the Promise it returns.
pub(crate) async fn call(object: &JsValue, method: &str) -> Result<JsValue, JsValue> {
    let function: Function = Reflect::get(object, &JsValue::from_str(method))
        .unwrap()
        .unchecked_into();
    let promise: Promise = function.call0(object)?.unchecked_into();
    JsFuture::from(promise).await
}

/// Creates a demo job on the server with `plan` (JSON); its status URL.
pub(crate) async fn create(base: &str, plan: &str) -> String {
    let init = options(&[
        ("method", "POST".into()),
        ("body", format!(r#"{{"plan":{plan}}}"#).into()),
        ("headers", json(r#"{"content-type":"application/json"}"#)),
    ])
    .unwrap();
    let response = fetch(&format!("{base}/api/v1/demo-job"), &init).await;
    let created = call(&response, "json").await.unwrap();
    format!("{base}/api/v1/jobs/{}", text(&created, "job_id"))
}

/// Resolves after `millis`.
pub(crate) async fn sleep(millis: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        set_timeout(&resolve, millis);
    });
    JsFuture::from(promise).await.unwrap();
}

/// A callback that keeps the events it is called with.
pub(crate) fn recorder() -> (Rc<RefCell<Vec<JsValue>>>, Function) {
    let events = Rc::new(RefCell::new(Vec::new()));
    let kept = events.clone();
    let callback = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
        kept.borrow_mut().push(event);
    });
    let function: Function = callback.as_ref().unchecked_ref::<Function>().clone();
    callback.forget();
    (events, function)
}

/// The summaries of `events`, for comparing and for messages.
pub(crate) fn summaries(events: &[JsValue]) -> Vec<String> {
    events.iter().map(|event| text(event, "summary")).collect()
}

/// Total requests the jobs sent so far.
pub(crate) fn requests(jobs: &jobpoll_wasm::Jobs) -> f64 {
    number(&jobs.metrics(), "totals.requests").unwrap()
}

/// Lets one test at a time past (the tests of a file run concurrently, and some
/// change globals); released when the guard drops.
pub(crate) struct Turn;

thread_local! {
    static TAKEN: RefCell<bool> = const { RefCell::new(false) };
}

impl Turn {
    pub(crate) async fn take() -> Turn {
        loop {
            let free = TAKEN.with(|taken| !std::mem::replace(&mut *taken.borrow_mut(), true));
            if free {
                return Turn;
            }
            sleep(10).await;
        }
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        TAKEN.with(|taken| *taken.borrow_mut() = false);
    }
}
