//! The driver reads the headers that steer polling from a server on another
//! origin: in a browser, `fetch` shows a cross-origin page only the headers the
//! server exposes (`Access-Control-Expose-Headers`), so these fail there unless
//! the reference server exposes them. Under Node they pass either way.
//!
//! `run-tests.sh` starts the server and passes its address in
//! `JOBPOLL_TEST_SERVER` at build time; without it these tests say so and pass.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)]

use jobpoll_wasm::Jobs;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

mod common;

use common::*;

/// The server's request counts, as JSON.
async fn request_counts(base: &str) -> JsValue {
    let response = fetch(&format!("{base}/_jobpoll/requests"), &JsValue::UNDEFINED).await;
    call(&response, "json").await.unwrap()
}

#[wasm_bindgen_test]
async fn an_operation_is_followed_through_its_location_header() {
    let Some(base) = server() else { return };
    let plan =
        js_sys::JSON::parse(r#"{"plan":{"duration":600000,"azure":{"headers":["location"]}}}"#)
            .unwrap();
    // A resource of its own: Node and the browser run this against one server.
    let name = format!("vm-{}", (js_sys::Math::random() * 1e9) as u64);
    let jobs = Jobs::new(None).unwrap();
    let outcome = JsFuture::from(jobs.submit(
        &format!("{base}/azure/resources/{name}"),
        options(&[
            ("method", "PUT".into()),
            ("body", plan),
            ("profile", "azure".into()),
            ("interval", 100.into()),
            ("timeout", 20_000.into()),
        ]),
    ))
    .await
    .unwrap();
    assert_eq!(
        get(&outcome, "outcome").as_string().as_deref(),
        Some("succeeded"),
        "{}",
        stringify(&outcome)
    );
    // The 202 named the poller in `Location` alone: it was polled.
    let counts = request_counts(base).await;
    let polled = js_sys::Array::from(&get(&counts, "requests"))
        .iter()
        .filter(|entry| {
            get(entry, "path")
                .as_string()
                .is_some_and(|path| path.starts_with("/azure/operation-results/"))
        })
        .count();
    assert!(polled >= 1, "{}", stringify(&counts));
}
