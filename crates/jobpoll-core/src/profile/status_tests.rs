//! The tree read, its rules and its pointer lookup.

use bytes::Bytes;
use serde_json::{Value, json};

use super::status::{find, json_pointer};
use super::testing::*;
use super::*;

#[test]
fn malformed_missing_and_unknown_status() {
    let profile = Profile::jobs();
    let err = status_err(&profile, r#"{"status": "processing""#);
    assert!(
        matches!(err, InterpretError::NotJson { ref excerpt, html: None } if excerpt.contains("processing"))
    );
    assert!(matches!(
        status_err(&profile, ""),
        InterpretError::NotJson { .. }
    ));
    assert!(matches!(
        status_err(&profile, "   "),
        InterpretError::NotJson { .. }
    ));
    assert!(matches!(
        status_err(&profile, r#"{"job_id":"j"}"#),
        InterpretError::NotThisApi { ref profile, ref looked_for, .. }
            if profile == "jobs" && looked_for == "/status"
    ));
    assert!(matches!(
        status_err(&profile, r#"{"job_id":"j","status":null}"#),
        InterpretError::MissingField { ref pointer, .. } if pointer == "/status"
    ));
    assert!(matches!(
        status_err(&profile, r#"{"status":3}"#),
        InterpretError::MissingField { ref pointer, .. } if pointer == "/status"
    ));
    assert!(matches!(
        status_err(&profile, "null"),
        InterpretError::NotThisApi { .. }
    ));
    assert!(matches!(
        status_err(&profile, r#"{"status":"exploded"}"#),
        InterpretError::UnknownStatus { ref value } if value == "exploded"
    ));
    let long = "x".repeat(5000);
    match status_err(&profile, &format!(r#"{{"status":"{long}"}}"#)) {
        InterpretError::UnknownStatus { value } => assert!(value.chars().count() <= 201),
        other => panic!("{other:?}"),
    }
    // A BOM and surrounding whitespace are tolerated.
    let r = status(&profile, "\u{feff}  {\"status\":\"queued\"}\n");
    assert_eq!(r.state, Some(JobState::Running));
}

#[test]
fn hostile_bodies_never_panic() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let huge = format!(
        r#"{{"status":"processing","progress_data":{{"percentage":1{}}}}}"#,
        "0".repeat(500)
    );
    let bodies: Vec<&[u8]> = vec![
        b"",
        b"\xFF\xFE\x00",
        deep.as_bytes(),
        huge.as_bytes(),
        br#"{"status":"completed","result_data":1e999}"#,
        br#"{"done":"yes","error":7,"name":[],"tasks":{"a":1},"url":5}"#,
        br#"{"tasks":[null,1,"x",{"status":null}]}"#,
        br#"{"status":{"nested":true},"properties":{"provisioningState":[]}}"#,
        b"\"just a string\"",
    ];
    for name in Profile::BUILTIN_NAMES {
        let profile = Profile::builtin(name).expect("builtin");
        let submit = url("https://h.example/a/b");
        let status_url = url("https://h.example/a/b/c");
        for body in &bodies {
            for code in [200, 202] {
                let resp = http::Response::builder()
                    .status(code)
                    .body(Bytes::copy_from_slice(body))
                    .expect("response");
                let _ = profile.read_status(&resp);
                let _ = profile.read_submission(&resp, &submit);
                let _ = profile.read_results(&resp);
            }
        }
        for id in ["", ".", "..", "a/../b", "%2e%2e", "ü/ß", "\u{0}"] {
            let j = job(Some(id), &status_url);
            let _ = profile.results_url(j);
            let _ = profile.cancel_request(j);
        }
    }
    // Beyond f64 the body is unreadable (serde_json refuses it), not a panic.
    assert!(matches!(
        Profile::jobs().read_status(&ok(&huge)),
        Err(InterpretError::NotJson { .. })
    ));
    let big = format!(
        r#"{{"status":"processing","progress_data":{{"percentage":1{}}}}}"#,
        "0".repeat(30)
    );
    let r = Profile::jobs()
        .read_status(&ok(&big))
        .expect("a big integer is still a number");
    assert_eq!(r.percentage, Some(100.0));
}

#[test]
fn pointer_alternatives() {
    let doc = json!({"a": null, "b": "x", "c|d": 5, "e": 3});
    assert_eq!(find(&doc, "/a|/b", Value::as_str), Some("x"));
    assert_eq!(find(&doc, "/c|d", Value::as_u64), Some(5));
    assert_eq!(find(&doc, "/b|/e", Value::as_u64), Some(3));
    assert_eq!(find(&doc, "", Value::as_object).map(|o| o.len()), Some(4));
    assert_eq!(find(&doc, "b", Value::as_str), None);
}

#[test]
fn json_pointer_agrees_with_serde_json() {
    let doc = json!({"a": {"b/c": [1, {"d~e": 2}], "": 3, "01": 4}, "list": [10, 20]});
    for pointer in [
        "",
        "/a",
        "/a/b~1c",
        "/a/b~1c/0",
        "/a/b~1c/1/d~0e",
        "/a/",
        "/a/01",
        "/list/1",
        "/list/01",
        "/list/+1",
        "/list/-",
        "/list/9",
        "a",
        "/missing/x",
        "/a/b~1c/x",
    ] {
        assert_eq!(
            json_pointer(&doc, pointer),
            doc.pointer(pointer),
            "{pointer:?}"
        );
    }
}

#[test]
fn an_html_page_says_so_with_its_title() {
    let page = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
                <title>\n  Sign in - Example\n</title></head><body><form>...</form></body></html>";
    let error = status_err(&Profile::jobs(), page);
    assert!(
        matches!(error, InterpretError::NotJson { html: Some(ref title), .. } if title == "Sign in - Example"),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "the server answered with an HTML page, not JSON: is the URL right, or is this a login \
         page? <title>Sign in - Example</title>"
    );
    // Without a title, the excerpt shows what the page is.
    let error = status_err(&Profile::jobs(), "<html><body>busy</body></html>");
    assert!(
        error
            .to_string()
            .ends_with("is this a login page? <html><body>busy</body></html>"),
        "{error}"
    );
}

#[test]
fn a_text_html_content_type_makes_any_body_an_html_page() {
    let profile = Profile::jobs();
    let html = response(
        200,
        &[("content-type", "Text/HTML; charset=utf-8")],
        "Please log in",
    );
    let error = profile.read_status(&html).expect_err("not JSON");
    assert!(
        matches!(error, InterpretError::NotJson { html: Some(ref title), .. } if title.is_empty()),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("an HTML page, not JSON"),
        "{error}"
    );
    // The same body as plain text is not JSON, nothing more.
    let text = response(200, &[("content-type", "text/plain")], "Please log in");
    let error = profile.read_status(&text).expect_err("not JSON");
    assert_eq!(
        error.to_string(),
        "the response body is not JSON: Please log in"
    );
    // Results and submissions read the same way.
    assert!(matches!(
        profile.read_results(&html),
        Err(InterpretError::NotJson { html: Some(_), .. })
    ));
}

#[test]
fn the_html_field_is_optional_in_json() {
    let old: InterpretError =
        serde_json::from_str(r#"{"problem":"not_json","excerpt":"oops"}"#).expect("reads");
    assert_eq!(
        old,
        InterpretError::NotJson {
            excerpt: "oops".into(),
            html: None
        }
    );
    let written = serde_json::to_value(&old).expect("writes");
    assert_eq!(written, json!({"problem": "not_json", "excerpt": "oops"}));
}
