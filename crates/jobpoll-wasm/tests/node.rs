//! The driver against the reference server, under Node.
//!
//! `run-tests.sh` starts the server and passes its address in
//! `JOBPOLL_TEST_SERVER` at build time; without it these tests say so and pass.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)]

use jobpoll_wasm::Jobs;
use js_sys::Array;
use wasm_bindgen::JsCast as _;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

mod common;

use common::*;

#[wasm_bindgen_test]
async fn a_job_that_succeeds_resolves_with_its_result_and_reports_events() {
    let Some(base) = server() else { return };
    let url = create(base, r#"{"duration":300000}"#).await;
    let (all_events, on_all) = recorder();
    let (own_events, on_own) = recorder();
    // Memory only: no storage warning among the events.
    let jobs = Jobs::new(options(&[
        ("onEvent", on_all.into()),
        ("storage", JsValue::NULL),
    ]))
    .unwrap();
    let waiting = jobs.wait(
        &url,
        options(&[("interval", 100.into()), ("onEvent", on_own.into())]),
    );
    let listed = jobs.list();
    assert_eq!(Array::from(&listed).length(), 1, "{}", stringify(&listed));
    assert_eq!(text(&Array::from(&listed).get(0), "url"), url);
    let outcome = JsFuture::from(waiting).await.unwrap();
    assert_eq!(
        text(&outcome, "outcome"),
        "succeeded",
        "{}",
        stringify(&outcome)
    );
    assert_eq!(get(&outcome, "ok"), JsValue::TRUE);
    assert!(
        get(&outcome, "result").is_object(),
        "{}",
        stringify(&outcome)
    );
    assert!(!text(&outcome, "summary").is_empty());
    assert!(get(&outcome, "stats.attempts").as_f64().unwrap() >= 2.0);
    let own = own_events.borrow();
    assert!(
        own.iter()
            .any(|event| text(event, "event") == "status_changed"),
        "{:?}",
        own.iter().map(stringify).collect::<Vec<_>>()
    );
    assert_eq!(own.len(), all_events.borrow().len());
    assert_eq!(text(&own[0], "url"), url);
    assert_eq!(Array::from(&jobs.list()).length(), 0);
    assert_eq!(
        get(&jobs.metrics(), "totals.outcomes.succeeded").as_f64(),
        Some(1.0)
    );
}

#[wasm_bindgen_test]
async fn a_job_that_fails_resolves_with_the_servers_message() {
    let Some(base) = server() else { return };
    let jobs = Jobs::new(None).unwrap();
    let plan = json(
        r#"{"plan":{"duration":200000,"ending":{"ending":"fail","message":"the render farm is on fire"}}}"#,
    );
    let outcome = JsFuture::from(jobs.submit(
        &format!("{base}/api/v1/demo-job"),
        options(&[("body", plan), ("interval", 100.into())]),
    ))
    .await
    .unwrap();
    assert_eq!(
        text(&outcome, "outcome"),
        "failed",
        "{}",
        stringify(&outcome)
    );
    assert_eq!(get(&outcome, "ok"), JsValue::FALSE);
    assert!(
        text(&outcome, "message").contains("the render farm is on fire"),
        "{}",
        stringify(&outcome)
    );
    assert!(text(&outcome, "summary").contains("the render farm is on fire"));
}

#[wasm_bindgen_test]
async fn a_429_with_retry_after_holds_the_next_poll_back() {
    let Some(base) = server() else { return };
    let plan = r#"{"duration":1500000,"faults":[{"from":0,"until":800000,"fault":{"fault":"status","status":429,"retry_after":1}}]}"#;
    let url = create(base, plan).await;
    let (events, on_event) = recorder();
    let jobs = Jobs::new(options(&[("onEvent", on_event.into())])).unwrap();
    let outcome = JsFuture::from(jobs.wait(&url, options(&[("interval", 100.into())])))
        .await
        .unwrap();
    assert_eq!(
        text(&outcome, "outcome"),
        "succeeded",
        "{}",
        stringify(&outcome)
    );
    let events = events.borrow();
    let retrying: Vec<&JsValue> = events
        .iter()
        .filter(|event| text(event, "event") == "retrying")
        .collect();
    assert!(
        !retrying.is_empty(),
        "{:?}",
        events.iter().map(stringify).collect::<Vec<_>>()
    );
    for event in &retrying {
        assert_eq!(
            get(event, "cause.status").as_f64(),
            Some(429.0),
            "{}",
            stringify(event)
        );
        // The server's second, not the 100 ms interval.
        let delay = get(event, "delay").as_f64().unwrap();
        assert!(delay >= 1_000_000.0, "{}", stringify(event));
    }
    // The 429 came once: the next request waited the second out.
    assert_eq!(retrying.len(), 1);
    assert!(get(&outcome, "stats.elapsed").as_f64().unwrap() >= 1_000_000.0);
}

#[wasm_bindgen_test]
async fn a_body_over_the_limit_is_retried_not_read() {
    let Some(base) = server() else { return };
    let plan = r#"{"duration":600000,"faults":[{"from":0,"until":300000,"fault":{"fault":"oversized","bytes":5000}}]}"#;
    let url = create(base, plan).await;
    let (events, on_event) = recorder();
    let jobs = Jobs::new(None).unwrap();
    let outcome = JsFuture::from(jobs.wait(
        &url,
        options(&[
            ("interval", 100.into()),
            ("maxBodyBytes", 2000.into()),
            ("onEvent", on_event.into()),
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
    let events = events.borrow();
    assert!(
        events.iter().any(|event| text(event, "event") == "retrying"
            && text(event, "summary").contains("2000 bytes")),
        "{:?}",
        events.iter().map(stringify).collect::<Vec<_>>()
    );
}

#[wasm_bindgen_test]
async fn an_aborted_signal_cancels_the_job_on_the_server() {
    let Some(base) = server() else { return };
    let url = create(base, r#"{"duration":1000000,"ending":{"ending":"never"}}"#).await;
    let jobs = Jobs::new(None).unwrap();
    let controller = web_sys::AbortController::new().unwrap();
    let waiting = jobs.wait(
        &url,
        options(&[
            ("interval", 100.into()),
            ("signal", controller.signal().into()),
        ]),
    );
    sleep(300).await;
    controller.abort();
    let outcome = JsFuture::from(waiting).await.unwrap();
    assert_eq!(
        text(&outcome, "outcome"),
        "cancelled",
        "{}",
        stringify(&outcome)
    );
    assert_eq!(text(&outcome, "by.by"), "client", "{}", stringify(&outcome));
    assert_eq!(
        get(&outcome, "by.server_confirmed"),
        JsValue::TRUE,
        "{}",
        stringify(&outcome)
    );
}

#[wasm_bindgen_test]
async fn arguments_that_cannot_work_reject_with_an_error() {
    let jobs = Jobs::new(None).unwrap();
    let error = JsFuture::from(jobs.wait("http://no such host/", None))
        .await
        .unwrap_err();
    assert!(error.is_instance_of::<js_sys::Error>());
    assert!(text(&error, "message").starts_with("bad URL"), "{error:?}");
    let error = JsFuture::from(jobs.wait(
        "http://127.0.0.1:1/api/v1/jobs/x",
        options(&[("preset", "slow".into())]),
    ))
    .await
    .unwrap_err();
    assert!(
        text(&error, "message").starts_with("unknown preset \"slow\""),
        "{error:?}"
    );
}

#[wasm_bindgen_test]
async fn an_unreachable_server_is_a_connection_failure() {
    let jobs = Jobs::new(None).unwrap();
    // Port 9 on loopback: nothing listens there.
    let outcome = JsFuture::from(jobs.wait(
        "http://127.0.0.1:9/api/v1/jobs/x",
        options(&[("interval", 50.into()), ("maxErrors", 2.into())]),
    ))
    .await
    .unwrap();
    assert_eq!(
        text(&outcome, "outcome"),
        "gave_up",
        "{}",
        stringify(&outcome)
    );
    let error = text(&outcome, "last_error.error");
    assert!(
        error == "transport" || error == "unreachable",
        "{}",
        stringify(&outcome)
    );
}

#[wasm_bindgen_test]
async fn pause_holds_requests_until_resume() {
    let Some(base) = server() else { return };
    let url = create(base, r#"{"duration":100000}"#).await;
    let jobs = Jobs::new(None).unwrap();
    jobs.pause();
    let waiting = jobs.wait(&url, options(&[("interval", 50.into())]));
    sleep(300).await;
    let metrics = jobs.metrics();
    assert_eq!(get(&metrics, "paused"), JsValue::TRUE);
    assert_eq!(
        get(&metrics, "totals.requests").as_f64(),
        Some(0.0),
        "{}",
        stringify(&metrics)
    );
    jobs.resume();
    let outcome = JsFuture::from(waiting).await.unwrap();
    assert_eq!(
        text(&outcome, "outcome"),
        "succeeded",
        "{}",
        stringify(&outcome)
    );
    // The job was done by the time the first poll went out.
    assert_eq!(
        get(&outcome, "stats.attempts").as_f64(),
        Some(1.0),
        "{}",
        stringify(&outcome)
    );
}
