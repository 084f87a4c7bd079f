//! A job recorded in the driver (`record: true`) against the reference server,
//! replayed by the core: the trace must reproduce every output exactly, and hold
//! no secret the caller sent.
//!
//! `run-tests.sh` starts the server and passes its address in
//! `JOBPOLL_TEST_SERVER` at build time; without it these tests say so and pass.
#![cfg(all(target_arch = "wasm32", feature = "record"))]
#![allow(clippy::unwrap_used)]

use jobpoll_core::Profile;
use jobpoll_core::trace::{self, Record, RecordedInput, Redactor};
use jobpoll_wasm::Jobs;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

mod common;

use common::*;

/// The token sent with every request: it must not reach the trace.
const TOKEN: &str = "s3cret-token-9f2c";

/// `{key: value, ...}` as a JavaScript object.
fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    options(pairs).unwrap()
}

/// Submits a demo job with `plan`, recording it; the outcome.
async fn record(base: &str, plan: &str, more: &[(&str, JsValue)]) -> JsValue {
    let body = js_sys::JSON::parse(&format!(r#"{{"plan":{plan}}}"#)).unwrap();
    let headers = object(&[("Authorization", format!("Bearer {TOKEN}").into())]);
    let mut options = vec![
        ("body", body),
        ("interval", 100.into()),
        ("headers", headers),
        ("record", JsValue::TRUE),
    ];
    options.extend(more.iter().cloned());
    let jobs = Jobs::new(None).unwrap();
    let submitted = jobs.submit(&format!("{base}/api/v1/demo-job"), Some(object(&options)));
    JsFuture::from(submitted).await.unwrap()
}

#[wasm_bindgen_test]
async fn a_recorded_job_replays_exactly_without_its_secrets() {
    let Some(base) = server() else {
        return;
    };
    // Running for 1.5 s, with 429 and `Retry-After: 1` for the first 0.8 s.
    let plan = r#"{"duration":1500000,"faults":[{"from":0,"until":800000,"fault":{"fault":"status","status":429,"retry_after":1}}]}"#;
    let outcome = record(base, plan, &[]).await;
    assert_eq!(
        get(&outcome, "outcome").as_string().as_deref(),
        Some("succeeded"),
        "{}",
        stringify(&outcome)
    );
    let text = get(&outcome, "trace").as_string().expect("a trace");
    assert!(!text.contains(TOKEN), "the token is in the trace:\n{text}");

    let records: Vec<Record<Profile>> = trace::from_json_lines(&text).unwrap();
    let report = trace::replay(&records, &Redactor::default())
        .expect("a usable trace")
        .unwrap_or_else(|divergence| panic!("{divergence}\n{text}"));
    assert!(report.outputs > 10, "{report:?}");

    // What it went through: the create request, a 429 with its Retry-After, and
    // progress reported while running.
    let answers: Vec<(u16, bool)> = records
        .iter()
        .filter_map(|record| match record {
            Record::Input(RecordedInput::Response {
                status, headers, ..
            }) => Some((
                *status,
                headers
                    .iter()
                    .any(|(name, _)| name.eq_ignore_ascii_case("retry-after")),
            )),
            _ => None,
        })
        .collect();
    assert!(answers.contains(&(429, true)), "{answers:?}");
    assert!(text.contains(r#""event":"progress""#), "{text}");
    assert!(text.contains(r#""event":"submitted""#), "{text}");
}

#[wasm_bindgen_test]
async fn a_recorded_job_stopped_by_its_signal_replays_too() {
    let Some(base) = server() else { return };
    let controller = web_sys::AbortController::new().unwrap();
    let signal = controller.signal();
    let more = [("signal", JsValue::from(signal))];
    let waiting = record(base, r#"{"duration":60000000}"#, &more);
    // Abort once the job is under way: the first poll is 100 ms after the create.
    let abort = Closure::once_into_js(move || controller.abort());
    let global = js_sys::global();
    let set_timeout: js_sys::Function = get(&global, "setTimeout").into();
    set_timeout.call2(&global, &abort, &250.into()).unwrap();
    let outcome = waiting.await;
    assert_eq!(
        get(&outcome, "outcome").as_string().as_deref(),
        Some("cancelled"),
        "{}",
        stringify(&outcome)
    );
    let text = get(&outcome, "trace").as_string().expect("a trace");
    assert!(text.contains(r#""input":"cancel""#), "{text}");
    let records: Vec<Record<Profile>> = trace::from_json_lines(&text).unwrap();
    trace::replay(&records, &Redactor::default())
        .expect("a usable trace")
        .unwrap_or_else(|divergence| panic!("{divergence}\n{text}"));
}

#[wasm_bindgen_test]
async fn record_must_be_a_boolean() {
    let jobs = Jobs::new(None).unwrap();
    let options = object(&[("record", "yes".into())]);
    let error = JsFuture::from(jobs.wait("http://127.0.0.1:1/api/v1/jobs/a", Some(options)))
        .await
        .unwrap_err();
    assert_eq!(
        get(&error, "message").as_string().as_deref(),
        Some("record must be true or false")
    );
}
