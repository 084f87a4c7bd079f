//! Google long-running operations as a client sees them, step by step in virtual
//! time: create answers already done, progress, cancel, names with slashes,
//! deletes, and the request counts.

mod support;

use std::time::Duration;

use bytes::Bytes;
use http::Method;
use jobpoll_core::Instant;
use jobpoll_server::model::{ServerConfig, ServerModel, Truth};
use jobpoll_server::plan::{CreateFailures, Ending, GooglePlan, JobPlan};
use serde_json::{Value, json};
use support::{secs, url};

fn server() -> ServerModel {
    ServerModel::new(ServerConfig::default(), 1)
}

fn plan(secs: u64) -> JobPlan {
    JobPlan {
        duration: Duration::from_secs(secs),
        ..JobPlan::default()
    }
}

fn send(
    server: &mut ServerModel,
    method: Method,
    path: &str,
    body: &str,
    now: Instant,
) -> http::Response<Bytes> {
    server.handle(&support::request(&method, &url(path), body), now)
}

fn create(server: &mut ServerModel, plan: &JobPlan, now: Instant) -> http::Response<Bytes> {
    let body = json!({ "plan": plan }).to_string();
    send(server, Method::POST, "/v1/operations", &body, now)
}

fn get(server: &mut ServerModel, path: &str, now: Instant) -> Value {
    let response = send(server, Method::GET, path, "", now);
    assert_eq!(response.status(), 200, "{path}");
    json_of(&response)
}

fn json_of(response: &http::Response<Bytes>) -> Value {
    serde_json::from_slice(response.body()).expect("JSON")
}

#[test]
fn the_create_answer_may_already_be_done() {
    let mut server = server();
    let succeeded = create(&mut server, &plan(0), secs(0));
    assert_eq!(succeeded.status(), 200);
    let succeeded = json_of(&succeeded);
    assert_eq!(succeeded["name"], "operations/op-1");
    assert_eq!(succeeded["done"], true);
    assert_eq!(
        succeeded["response"]["uri"],
        "https://files.example/op-1/result.json"
    );
    assert!(succeeded.get("error").is_none());

    let failing = JobPlan {
        ending: Ending::Fail {
            message: "bad input".to_owned(),
        },
        ..plan(0)
    };
    let failed = json_of(&create(&mut server, &failing, secs(0)));
    assert_eq!(failed["done"], true);
    assert_eq!(failed["error"], json!({"code": 13, "message": "bad input"}));
    assert!(failed.get("response").is_none());
}

#[test]
fn a_running_operation_reports_progress_then_its_response() {
    let mut server = server();
    let created = json_of(&create(&mut server, &plan(10), secs(0)));
    assert_eq!(created["done"], false);
    assert_eq!(created["metadata"]["progressPercent"], 0);
    let running = get(&mut server, "/v1/operations/op-1", secs(4));
    assert_eq!(running["done"], false);
    assert_eq!(running["metadata"]["progressPercent"], 40);
    assert!(running.get("response").is_none() && running.get("error").is_none());
    let done = get(&mut server, "/v1/operations/op-1", secs(10));
    assert_eq!(done["done"], true);
    assert_eq!(done["metadata"]["progressPercent"], 100);
    assert_eq!(
        done["response"]["@type"],
        "type.googleapis.com/jobpoll.v1.Result"
    );

    let quiet = JobPlan {
        progress: false,
        ..plan(10)
    };
    let created = json_of(&create(&mut server, &quiet, secs(0)));
    assert!(created["metadata"].get("progressPercent").is_none());
}

#[test]
fn a_cancel_ends_the_operation_with_code_1() {
    let mut server = server();
    create(&mut server, &plan(30), secs(0));
    let cancel = send(
        &mut server,
        Method::POST,
        "/v1/operations/op-1:cancel",
        "",
        secs(3),
    );
    assert_eq!(cancel.status(), 200);
    assert_eq!(json_of(&cancel), json!({}));
    let cancelled = get(&mut server, "/v1/operations/op-1", secs(4));
    assert_eq!(cancelled["done"], true);
    assert_eq!(cancelled["error"]["code"], 1);
    assert_eq!(
        server.truth("operations/op-1", secs(4)),
        Some(Truth::Cancelled { at: secs(3) })
    );
    let late = send(
        &mut server,
        Method::POST,
        "/v1/operations/op-1:cancel",
        "",
        secs(5),
    );
    assert_eq!(late.status(), 400);
    assert_eq!(json_of(&late)["error"]["status"], "FAILED_PRECONDITION");
}

#[test]
fn names_may_hold_slashes() {
    let mut server = server();
    let named = JobPlan {
        google: GooglePlan {
            name_prefix: Some("p1/locations/eu".to_owned()),
        },
        ..plan(10)
    };
    let created = json_of(&create(&mut server, &named, secs(0)));
    let name = "operations/p1/locations/eu/op-1";
    assert_eq!(created["name"], name);
    assert_eq!(
        get(&mut server, &format!("/v1/{name}"), secs(2))["name"],
        name
    );
    assert_eq!(
        send(&mut server, Method::GET, "/v1/operations/op-1", "", secs(2)).status(),
        404
    );
    assert_eq!(
        send(
            &mut server,
            Method::GET,
            "/v1/operations/p1/op-1",
            "",
            secs(2)
        )
        .status(),
        404
    );
    let cancel = send(
        &mut server,
        Method::POST,
        &format!("/v1/{name}:cancel"),
        "",
        secs(3),
    );
    assert_eq!(cancel.status(), 200);
    assert_eq!(
        get(&mut server, &format!("/v1/{name}"), secs(4))["error"]["code"],
        1
    );
    assert_eq!(
        server.truth(name, secs(4)),
        Some(Truth::Cancelled { at: secs(3) })
    );
    assert_eq!(
        server.job_id_for_path(&format!("/v1/{name}")).as_deref(),
        Some(name)
    );

    for bad in ["", "a//b", "/a", "a/", "a b", "a/%2F"] {
        let plan = JobPlan {
            google: GooglePlan {
                name_prefix: Some(bad.to_owned()),
            },
            ..plan(1)
        };
        assert_eq!(create(&mut server, &plan, secs(0)).status(), 400, "{bad:?}");
    }
}

#[test]
fn a_delete_removes_the_record_without_cancelling() {
    let mut server = server();
    create(&mut server, &plan(10), secs(0));
    let deleted = send(
        &mut server,
        Method::DELETE,
        "/v1/operations/op-1",
        "",
        secs(2),
    );
    assert_eq!(deleted.status(), 200);
    assert_eq!(json_of(&deleted), json!({}));
    assert_eq!(
        send(&mut server, Method::GET, "/v1/operations/op-1", "", secs(3)).status(),
        404
    );
    assert_eq!(
        send(
            &mut server,
            Method::DELETE,
            "/v1/operations/op-1",
            "",
            secs(3)
        )
        .status(),
        404
    );
    assert_eq!(
        server.truth("operations/op-1", secs(10)),
        Some(Truth::Succeeded { at: secs(10) })
    );
    let wrong = send(&mut server, Method::PUT, "/v1/operations/op-1", "", secs(3));
    assert_eq!(wrong.status(), 405);
    assert_eq!(wrong.headers()["allow"], "GET, DELETE");
}

#[test]
fn creates_polls_and_cancels_are_counted() {
    let mut server = server();
    let failing = JobPlan {
        create_failures: Some(CreateFailures {
            status: 503,
            times: 1,
            retry_after: None,
        }),
        ..plan(10)
    };
    assert_eq!(create(&mut server, &failing, secs(0)).status(), 503);
    assert_eq!(create(&mut server, &failing, secs(1)).status(), 200);
    for at in [2, 3, 4] {
        get(&mut server, "/v1/operations/op-1", secs(at));
    }
    send(
        &mut server,
        Method::POST,
        "/v1/operations/op-1:cancel",
        "",
        secs(5),
    );
    assert_eq!(server.request_count(&Method::POST, "/v1/operations"), 2);
    assert_eq!(server.request_count(&Method::GET, "/v1/operations/op-1"), 3);
    assert_eq!(
        server.request_count(&Method::POST, "/v1/operations/op-1:cancel"),
        1
    );
    let counts = json_of(&send(
        &mut server,
        Method::GET,
        "/_jobpoll/requests",
        "",
        secs(6),
    ));
    assert_eq!(
        counts,
        json!({"requests": [
            {"method": "POST", "path": "/v1/operations", "count": 2},
            {"method": "GET", "path": "/v1/operations/op-1", "count": 3},
            {"method": "POST", "path": "/v1/operations/op-1:cancel", "count": 1},
        ]})
    );
}

#[test]
fn a_session_cookie_is_set_on_the_first_poll() {
    let mut server = server();
    let plan = JobPlan {
        session_cookie: true,
        ..plan(10)
    };
    let created = create(&mut server, &plan, secs(0));
    assert!(created.headers().get("set-cookie").is_none());
    let first = send(&mut server, Method::GET, "/v1/operations/op-1", "", secs(1));
    let cookie = first.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        cookie.starts_with("session=") && cookie.ends_with("; Path=/"),
        "{cookie}"
    );
    assert_eq!(
        send(&mut server, Method::GET, "/v1/operations/op-1", "", secs(2)).status(),
        401
    );
    let pair = cookie.split(';').next().expect("pair");
    let with_cookie = |path: &str, method: Method| {
        http::Request::builder()
            .method(method)
            .uri(url(path).as_str())
            .header("cookie", pair)
            .body(Bytes::new())
            .expect("request")
    };
    assert_eq!(
        server
            .handle(&with_cookie("/v1/operations/op-1", Method::GET), secs(2))
            .status(),
        200
    );
    let cancel = with_cookie("/v1/operations/op-1:cancel", Method::POST);
    assert_eq!(server.handle(&cancel, secs(3)).status(), 200);
}
