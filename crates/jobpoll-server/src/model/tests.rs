//! The request pipeline end to end, through `handle` only.

use std::time::Duration;

use http::header::{ALLOW, DATE, RETRY_AFTER};
use serde_json::{Value, json};

use super::*;
use crate::plan::{Ending, FaultWindow};

pub(super) fn request(method: &str, path: &str, body: &str) -> http::Request<Bytes> {
    http::Request::builder()
        .method(method)
        .uri(path)
        .body(Bytes::from(body.to_owned()))
        .expect("request")
}

pub(super) fn get(path: &str) -> http::Request<Bytes> {
    request("GET", path, "")
}

pub(super) fn json_of(response: &http::Response<Bytes>) -> Value {
    serde_json::from_slice(response.body())
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(response.body())))
}

pub(super) fn secs(secs: u64) -> Instant {
    Instant::from_secs(secs)
}

pub(super) fn server() -> ServerModel {
    ServerModel::new(ServerConfig::default(), 1)
}

pub(super) fn plan(duration_secs: u64) -> JobPlan {
    JobPlan {
        duration: Duration::from_secs(duration_secs),
        ..JobPlan::default()
    }
}

pub(super) fn with_fault(from: u64, until: u64, fault: Fault) -> JobPlan {
    JobPlan {
        faults: vec![FaultWindow {
            from: Duration::from_secs(from),
            until: Duration::from_secs(until),
            fault,
        }],
        ..plan(30)
    }
}

#[test]
fn created_jobs_have_short_ids_per_shape() {
    let mut server = server();
    let expected = [
        (Shape::Jobs, "job-1", "/api/v1/jobs/job-1"),
        (
            Shape::Codegen,
            "cg-1",
            "/api/v1/public/graph/codegen/cg-1/status",
        ),
        (Shape::FileTasks, "file-1", "/api/file/file-1"),
        (
            Shape::Turn,
            "turn-1",
            "/api/projects/p1/sessions/s1/turns/turn-1",
        ),
        (Shape::Google, "operations/op-1", "/v1/operations/op-1"),
        (Shape::Azure, "azop-1", "/azure/operations/azop-1"),
    ];
    for (shape, id, path) in expected {
        let created = server.create(shape, JobPlan::default(), Instant::ZERO);
        assert_eq!(created.id, id);
        assert_eq!(created.status_path, path);
        assert_eq!(server.handle(&get(path), secs(1)).status(), 200, "{path}");
    }
    assert_eq!(
        server
            .create(Shape::Jobs, JobPlan::default(), Instant::ZERO)
            .id,
        "job-2"
    );
    assert_eq!(server.job_count(), 7);
    assert_eq!(
        server.truth("operations/op-1", secs(1)),
        Some(Truth::Running)
    );
    assert_eq!(server.truth("op-1", secs(1)), Some(Truth::Running));
    assert_eq!(server.truth("operations/job-1", secs(1)), None);
    assert_eq!(server.truth("nope", secs(1)), None);
    assert_eq!(
        server.job_id_for_path("/v1/operations/op-1?x=1").as_deref(),
        Some("operations/op-1")
    );
    assert_eq!(
        server
            .job_id_for_path("/azure/operations/azop-1")
            .as_deref(),
        Some("azop-1")
    );
    assert_eq!(
        server.job_id_for_path("/azure/resources/res-1").as_deref(),
        Some("azop-1")
    );
    assert_eq!(server.job_id_for_path("/api/v1/jobs/cg-1"), None);
    assert_eq!(server.job_id_for_path("/api/v1/jobs"), None);
    assert_eq!(server.job_id_for_path("garbage"), None);
    assert_eq!(
        server.truth("job-1", secs(60)),
        Some(Truth::Succeeded { at: secs(30) })
    );
}

#[test]
fn submit_requests_create_jobs_with_their_plan() {
    for shape in Shape::ALL {
        let mut server = server();
        let failing = JobPlan {
            ending: Ending::Fail {
                message: "out of credits".to_owned(),
            },
            ..plan(5)
        };
        let (method, path, body) = ServerModel::submit_request(shape, &failing);
        let response = server.handle(&request(method.as_str(), &path, &body), secs(10));
        assert!(response.status().is_success(), "{shape:?}: {response:?}");
        assert_eq!(server.job_count(), 1);
        let id = match shape {
            Shape::Jobs => "job-1",
            Shape::Codegen => "cg-1",
            Shape::FileTasks => "file-1",
            Shape::Turn => "turn-1",
            Shape::Google => "op-1",
            Shape::Azure => "azop-1",
        };
        assert_eq!(server.truth(id, secs(14)), Some(Truth::Running));
        assert_eq!(
            server.truth(id, secs(15)),
            Some(Truth::Failed {
                at: secs(15),
                message: "out of credits".to_owned()
            })
        );
    }
}

#[test]
fn unknown_paths_wrong_methods_and_bad_bodies() {
    let mut server = server();
    let response = server.handle(&get("/nope"), Instant::ZERO);
    assert_eq!(response.status(), 404);
    assert_eq!(json_of(&response)["error"]["code"], 404);

    let response = server.handle(&request("DELETE", "/api/v1/jobs/job-1", ""), Instant::ZERO);
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()[ALLOW], "GET");

    let response = server.handle(&request("POST", "/api/v1/x-job", "{oops"), Instant::ZERO);
    assert_eq!(response.status(), 400);
    assert!(
        json_of(&response)["error"]["message"]
            .as_str()
            .expect("message")
            .contains("not JSON")
    );
    let response = server.handle(
        &request("POST", "/api/v1/x-job", r#"{"plan":{"duration":"soon"}}"#),
        Instant::ZERO,
    );
    assert_eq!(response.status(), 400);
    assert_eq!(server.job_count(), 0);

    // A job of another shape, or an unknown id, is not found.
    server.create(Shape::Google, JobPlan::default(), Instant::ZERO);
    assert_eq!(
        server.handle(&get("/api/v1/jobs/op-1"), secs(1)).status(),
        404
    );
    assert_eq!(
        server.handle(&get("/api/v1/jobs/job-9"), secs(1)).status(),
        404
    );
}

#[test]
fn every_response_has_a_date() {
    let mut server = ServerModel::new(
        ServerConfig {
            rate_limit: Some(RateLimit {
                burst: 1,
                per_second: 1.0,
            }),
            token: Some("t".to_owned()),
        },
        1,
    );
    let first = server.handle(&get("/nope"), secs(65));
    assert_eq!(first.status(), 401);
    assert_eq!(first.headers()[DATE], "Thu, 01 Jan 2026 00:01:05 GMT");
    let second = server.handle(&get("/nope"), secs(65));
    assert_eq!(second.status(), 429);
    assert_eq!(second.headers()[DATE], "Thu, 01 Jan 2026 00:01:05 GMT");
}

#[test]
fn bearer_token_is_required_when_configured() {
    let mut server = ServerModel::new(
        ServerConfig {
            rate_limit: None,
            token: Some("s3cret".to_owned()),
        },
        1,
    );
    let (method, path, body) = ServerModel::submit_request(Shape::Jobs, &JobPlan::default());
    let mut submit = request(method.as_str(), &path, &body);
    assert_eq!(server.handle(&submit, Instant::ZERO).status(), 401);
    submit
        .headers_mut()
        .insert(AUTHORIZATION, http::HeaderValue::from_static("Bearer nope"));
    let refused = server.handle(&submit, Instant::ZERO);
    assert_eq!(refused.status(), 401);
    assert!(
        refused
            .headers()
            .contains_key(http::header::WWW_AUTHENTICATE)
    );
    assert_eq!(server.job_count(), 0);
    submit.headers_mut().insert(
        AUTHORIZATION,
        http::HeaderValue::from_static("Bearer s3cret"),
    );
    assert_eq!(server.handle(&submit, Instant::ZERO).status(), 201);
}

/// A `GET` of `path` sending `cookie` as its `Cookie` header.
fn get_with_cookie(path: &str, cookie: &str) -> http::Request<Bytes> {
    let mut request = get(path);
    if let Ok(value) = http::HeaderValue::from_str(cookie) {
        request.headers_mut().insert(http::header::COOKIE, value);
    }
    request
}

#[test]
fn a_session_cookie_job_sets_its_cookie_once_then_requires_it() {
    let mut server = server();
    let created = server.create(
        Shape::Jobs,
        JobPlan {
            session_cookie: true,
            ..plan(10)
        },
        secs(0),
    );
    let path = created.status_path.as_str();

    let first = server.handle(&get(path), secs(1));
    assert_eq!(first.status(), 200);
    let set_cookie: Vec<_> = first
        .headers()
        .get_all(http::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().expect("ascii").to_owned())
        .collect();
    assert_eq!(set_cookie.len(), 1, "{set_cookie:?}");
    let pair = set_cookie[0]
        .strip_suffix("; Path=/")
        .expect("the cookie covers the whole server");
    let value = pair.strip_prefix("session=").expect("named session");
    assert_eq!(value.len(), 16);

    // Without the cookie, or with a session the server never issued: 401 with an
    // error body.
    for refused in [get(path), get_with_cookie(path, "session=0000000000000000")] {
        let answer = server.handle(&refused, secs(2));
        assert_eq!(answer.status(), 401);
        assert_eq!(json_of(&answer)["error"]["code"], 401);
        assert!(!answer.headers().contains_key(http::header::SET_COOKIE));
    }

    // With it (among other cookies), the job answers and advances, without a
    // new cookie.
    let kept = get_with_cookie(path, &format!("theme=dark; {pair}"));
    let answer = server.handle(&kept, secs(2));
    assert_eq!(answer.status(), 200);
    assert!(!answer.headers().contains_key(http::header::SET_COOKIE));
    let done = server.handle(&kept, secs(11));
    assert_eq!(json_of(&done)["status"], "completed");
}

#[test]
fn a_session_is_the_clients_and_off_unless_the_plan_asks() {
    let mut server = server();
    let needs = JobPlan {
        session_cookie: true,
        ..plan(10)
    };
    let a = server.create(Shape::Jobs, needs.clone(), secs(0));
    let b = server.create(Shape::Jobs, needs.clone(), secs(0));
    let plain = server.create(Shape::Jobs, plan(10), secs(0));
    let cookie = |response: &http::Response<Bytes>| {
        response
            .headers()
            .get(http::header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::to_owned)
    };
    // The first answer about `a` starts a session; `b`, first asked with that
    // session, keeps it and sets no other.
    let session = cookie(&server.handle(&get(&a.status_path), secs(1))).expect("a cookie");
    let first_b = server.handle(&get_with_cookie(&b.status_path, &session), secs(1));
    assert_eq!(first_b.status(), 200);
    assert_eq!(cookie(&first_b), None);
    for job in [&a, &b] {
        let answer = server.handle(&get_with_cookie(&job.status_path, &session), secs(2));
        assert_eq!(answer.status(), 200);
        assert_eq!(server.handle(&get(&job.status_path), secs(2)).status(), 401);
    }
    // Two first answers without a session (a client asking about two jobs at once)
    // start two sessions, and either one opens both jobs: a cookie store keeps
    // only the latest.
    let c = server.create(Shape::Jobs, needs.clone(), secs(0));
    let d = server.create(Shape::Jobs, needs, secs(0));
    let first_c = cookie(&server.handle(&get(&c.status_path), secs(1))).expect("c's cookie");
    let first_d = cookie(&server.handle(&get(&d.status_path), secs(1))).expect("d's cookie");
    assert_ne!(first_c, first_d);
    for job in [&c, &d] {
        let answer = server.handle(&get_with_cookie(&job.status_path, &first_d), secs(2));
        assert_eq!(answer.status(), 200);
    }
    // A plain job never sets a cookie and needs none.
    for at in [1, 2] {
        let answer = server.handle(&get(&plain.status_path), secs(at));
        assert_eq!(answer.status(), 200);
        assert_eq!(cookie(&answer), None);
    }
    // The plan travels in a submit body too.
    let (method, path, body) = ServerModel::submit_request(
        Shape::Jobs,
        &JobPlan {
            session_cookie: true,
            ..JobPlan::default()
        },
    );
    let created = server.handle(&request(method.as_str(), &path, &body), secs(0));
    assert_eq!(created.status(), 201);
    assert_eq!(cookie(&created), None);
    let status_path = "/api/v1/jobs/job-6";
    assert!(server.job_id_for_path(status_path).is_some());
    assert!(cookie(&server.handle(&get(status_path), secs(1))).is_some());
    assert_eq!(server.handle(&get(status_path), secs(2)).status(), 401);
}

#[test]
fn cancel_stops_a_running_job_once() {
    let mut server = server();
    let created = server.create(Shape::Jobs, plan(30), Instant::ZERO);
    let cancel = request("POST", "/api/v1/jobs/job-1/cancel", "");
    let response = server.handle(&cancel, secs(7));
    assert_eq!(response.status(), 200);
    assert_eq!(json_of(&response)["status"], "cancelled");
    let status = json_of(&server.handle(&get(&created.status_path), secs(8)));
    assert_eq!(status["status"], "cancelled");
    assert_eq!(status["error_data"]["message"], "cancelled by request");
    assert_eq!(
        server.truth("job-1", secs(100)),
        Some(Truth::Cancelled { at: secs(7) })
    );
    assert_eq!(server.handle(&cancel, secs(9)).status(), 409);

    // Too late: already completed.
    server.create(Shape::Jobs, plan(5), Instant::ZERO);
    let late = server.handle(&request("POST", "/api/v1/jobs/job-2/cancel", ""), secs(6));
    assert_eq!(late.status(), 409);
    assert_eq!(
        server.truth("job-2", secs(6)),
        Some(Truth::Succeeded { at: secs(5) })
    );

    // Google: 200 `{}`, then done with CANCELLED; 400 once done.
    server.create(Shape::Google, plan(30), Instant::ZERO);
    let cancel = request("POST", "/v1/operations/op-1:cancel", "");
    let response = server.handle(&cancel, secs(2));
    assert_eq!(response.status(), 200);
    assert_eq!(json_of(&response), json!({}));
    let operation = json_of(&server.handle(&get("/v1/operations/op-1"), secs(3)));
    assert_eq!(operation["done"], true);
    assert_eq!(operation["error"]["code"], 1);
    assert_eq!(server.handle(&cancel, secs(4)).status(), 400);
}

#[test]
fn the_job_list_filters_and_limits() {
    let mut server = server();
    server.create(Shape::Jobs, plan(5), Instant::ZERO);
    server.create(Shape::Jobs, plan(100), Instant::ZERO);
    server.create(Shape::Jobs, plan(100), Instant::ZERO);
    server.create(Shape::Google, plan(5), Instant::ZERO);
    let ids = |value: &Value| -> Vec<String> {
        value["jobs"]
            .as_array()
            .expect("jobs")
            .iter()
            .map(|job| job["job_id"].as_str().expect("id").to_owned())
            .collect()
    };
    let all = json_of(&server.handle(&get("/api/v1/jobs?status=all&limit=50"), secs(10)));
    assert_eq!(ids(&all), ["job-3", "job-2", "job-1"]);
    assert_eq!(all["total"], 3);
    let done = json_of(&server.handle(&get("/api/v1/jobs?status=completed"), secs(10)));
    assert_eq!(ids(&done), ["job-1"]);
    let active = json_of(&server.handle(&get("/api/v1/jobs?status=active&limit=1"), secs(10)));
    assert_eq!(ids(&active), ["job-3"]);
    assert_eq!(active["total"], 2);
    for bad in [
        "/api/v1/jobs?status=weird",
        "/api/v1/jobs?limit=0",
        "/api/v1/jobs?limit=x",
    ] {
        assert_eq!(server.handle(&get(bad), secs(10)).status(), 400, "{bad}");
    }
}

#[test]
fn estimates_follow_the_plan() {
    let mut server = server();
    let exact = server.create(
        Shape::Jobs,
        JobPlan {
            eta_sigma: Some(0.0),
            ..plan(30)
        },
        Instant::ZERO,
    );
    let body = json_of(&server.handle(&get(&exact.status_path), Instant::from_millis(10_500)));
    assert_eq!(body["progress_data"]["estimated_time_remaining"], 19.5);
    assert_eq!(body["progress_data"]["percentage"], 35);
    assert_eq!(
        body["progress_data"]["current_step"],
        "Generating (step 2 of 5)"
    );
    let done = json_of(&server.handle(&get(&exact.status_path), secs(30)));
    assert_eq!(done["progress_data"].get("estimated_time_remaining"), None);
    assert_eq!(done["progress_data"]["percentage"], 100);

    let silent = server.create(Shape::Jobs, plan(30), Instant::ZERO);
    let body = json_of(&server.handle(&get(&silent.status_path), secs(5)));
    assert_eq!(body["progress_data"].get("estimated_time_remaining"), None);

    let noisy = server.create(
        Shape::Jobs,
        JobPlan {
            eta_sigma: Some(0.5),
            ..plan(100)
        },
        Instant::ZERO,
    );
    let estimates: Vec<f64> = (0..50)
        .map(|_| {
            json_of(&server.handle(&get(&noisy.status_path), secs(50)))["progress_data"]
                ["estimated_time_remaining"]
                .as_f64()
                .expect("estimate")
        })
        .collect();
    assert!(estimates.iter().all(|e| *e > 0.0));
    assert!(
        estimates.windows(2).any(|w| w[0] != w[1]),
        "a fresh draw per request"
    );
}

/// A response as compared across runs: status, headers, body.
type Seen = (u16, Vec<(String, String)>, Bytes);

#[test]
fn same_seed_same_requests_same_responses() {
    let run = |seed: u64| -> Vec<Seen> {
        let mut server = ServerModel::new(
            ServerConfig {
                rate_limit: Some(RateLimit {
                    burst: 5,
                    per_second: 2.0,
                }),
                token: None,
            },
            seed,
        );
        let noisy = JobPlan {
            eta_sigma: Some(0.4),
            ..plan(20)
        };
        let mut out = Vec::new();
        for shape in Shape::ALL {
            let (method, path, body) = ServerModel::submit_request(shape, &noisy);
            let mut request = request(method.as_str(), &path, &body);
            request
                .headers_mut()
                .insert(HOST, http::HeaderValue::from_static("jobs.test"));
            out.push(server.handle(&request, Instant::ZERO));
        }
        for t in 0..30 {
            for path in ["/api/v1/jobs/job-1", "/v1/operations/op-1", "/api/v1/jobs"] {
                out.push(server.handle(&get(path), Instant::from_millis(t * 700)));
            }
        }
        out.into_iter()
            .map(|r| {
                let headers = r
                    .headers()
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.to_string(),
                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                        )
                    })
                    .collect();
                (r.status().as_u16(), headers, r.body().clone())
            })
            .collect()
    };
    assert_eq!(run(9), run(9));
    assert_ne!(run(9), run(10), "the seed drives the estimates");
}

#[test]
fn azure_urls_are_absolute_when_the_request_says_where_it_went() {
    let mut server = server();
    let mut put = request("PUT", "/azure/resources/vm1", "");
    put.headers_mut()
        .insert(HOST, http::HeaderValue::from_static("api.test:8080"));
    let response = server.handle(&put, Instant::ZERO);
    assert_eq!(response.status(), 201);
    assert_eq!(
        response.headers()["azure-asyncoperation"],
        "http://api.test:8080/azure/operations/azop-1"
    );
    assert_eq!(
        response.headers()["location"],
        "http://api.test:8080/azure/resources/vm1"
    );
    assert_eq!(response.headers()[RETRY_AFTER], "1");

    let absolute = request(
        "POST",
        "https://user@example.com:8443/azure/resources/vm2",
        "",
    );
    let response = server.handle(&absolute, Instant::ZERO);
    assert_eq!(
        response.headers()["location"],
        "https://example.com:8443/azure/resources/vm2"
    );

    let mut bad_host = request("PUT", "/azure/resources/vm3", "");
    bad_host
        .headers_mut()
        .insert(HOST, http::HeaderValue::from_static("evil.test/x?y"));
    let response = server.handle(&bad_host, Instant::ZERO);
    assert_eq!(response.headers()["location"], "/azure/resources/vm3");

    // The resource follows its latest operation.
    let resource = json_of(&server.handle(&get("/azure/resources/vm1"), secs(5)));
    assert_eq!(resource["properties"]["provisioningState"], "Creating");
    let resource = json_of(&server.handle(&get("/azure/resources/vm1"), secs(30)));
    assert_eq!(resource["properties"]["provisioningState"], "Succeeded");
    assert_eq!(
        server
            .handle(&get("/azure/resources/none"), secs(5))
            .status(),
        404
    );
}

#[test]
fn turns_belong_to_their_session() {
    let mut server = server();
    let response = server.handle(
        &request("POST", "/api/projects/acme/sessions/chat-9/turns", ""),
        Instant::ZERO,
    );
    assert_eq!(response.status(), 201);
    assert_eq!(json_of(&response)["id"], "turn-1");
    let ok = server.handle(
        &get("/api/projects/acme/sessions/chat-9/turns/turn-1"),
        secs(7),
    );
    let body = json_of(&ok);
    assert_eq!(body["status"], "running");
    assert_eq!(body["blocks"].as_array().map(Vec::len), Some(1));
    let elsewhere = server.handle(
        &get("/api/projects/acme/sessions/other/turns/turn-1"),
        secs(7),
    );
    assert_eq!(elsewhere.status(), 404);
}

#[test]
fn codegen_results_wait_for_completion() {
    let mut server = server();
    let response = server.handle(
        &request(
            "POST",
            "/api/v1/public/graph/codegen",
            r#"{"graphId":"g-42"}"#,
        ),
        Instant::ZERO,
    );
    assert_eq!(response.status(), 202);
    let results = get("/api/v1/public/graph/codegen/cg-1/results");
    assert_eq!(server.handle(&results, secs(29)).status(), 404);
    let body = json_of(&server.handle(&results, secs(30)));
    assert_eq!(body["graphId"], "g-42");
    assert_eq!(body["summary"]["totalNodes"], 3);
    assert_eq!(body["generatedCodes"][0]["nodeId"], "node-1");
}

#[test]
fn documents_answer_through_the_pipeline() {
    let mut server = server();
    let first = server.handle(&get("/api/projects/p/files"), secs(21));
    assert_eq!(first.status(), 200);
    let tag = first.headers()[http::header::ETAG].clone();
    let mut again = get("/api/projects/p/files");
    again.headers_mut().insert(http::header::IF_NONE_MATCH, tag);
    let unchanged = server.handle(&again, secs(22));
    assert_eq!(unchanged.status(), 304);
    assert!(unchanged.body().is_empty());
    let changes = server.handle(
        &request(
            "POST",
            "/api/projects/p/files/status",
            r#"{"paths":["src/app.ts"]}"#,
        ),
        secs(22),
    );
    assert_eq!(json_of(&changes)["changes"][0]["version"], 2);
}

#[test]
fn garbage_never_panics() {
    // No rate limit: a request at `Instant::MAX` would drain the bucket for good.
    let mut server = ServerModel::new(ServerConfig::default(), 3);
    let bodies: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"\xff\xfe\x00".to_vec(),
        b"null".to_vec(),
        br#"{"plan":{"duration":18446744073709551615,"eta_sigma":1e308,"faults":[{"from":0,"until":18446744073709551615,"fault":{"fault":"oversized","bytes":18446744073709551615}}]}}"#.to_vec(),
        br#"{"plan":{"faults":[{"from":5,"until":1,"fault":{"fault":"status","status":0}}]}}"#.to_vec(),
        br#"{"plan":{"visible_after":18446744073709551615}}"#.to_vec(),
        br#"{"paths":[null],"since":{}}"#.to_vec(),
        format!("{}{}", "[".repeat(50_000), "]".repeat(50_000)).into_bytes(),
    ];
    let paths = [
        "/",
        "/api",
        "/api/v1/jobs/../jobs/job-1",
        "/api/v1/jobs/job-1/cancel/",
        "/api/v1/jobs?status=&limit=99999999999999999999999",
        "/api/v1/jobs?%ff=%00&&&=",
        "/api/v1/x-job",
        "/api/v1/public/graph/codegen/cg-1/results",
        "/api/file/file-1",
        "/api/projects/p1/sessions/s1/turns",
        "/api/projects/p1/sessions/s1/turns/turn-1",
        "/api/projects/%00/files",
        "/api/projects/p/files/status",
        "/v1/operations",
        "/v1/operations/op-1",
        "/v1/operations/op-1:cancel",
        "/v1/operations/:cancel:cancel",
        "/azure/resources",
        "/azure/resources/res-1",
        "/azure/operations/azop-1",
        "http://h/%2e%2e/azure/resources/x",
        "*",
    ];
    let methods = [
        "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "BREW",
    ];
    let times = [Instant::ZERO, secs(1), secs(100), Instant::MAX];
    for path in paths {
        for method in methods {
            for body in &bodies {
                for now in times {
                    let Ok(mut request) = http::Request::builder()
                        .method(method)
                        .uri(path)
                        .body(Bytes::from(body.clone()))
                    else {
                        continue;
                    };
                    let headers = request.headers_mut();
                    headers.insert(HOST, http::HeaderValue::from_static("[::1]:x"));
                    if let Ok(value) = http::HeaderValue::from_bytes(b"\"\xff\", W/, *,,") {
                        headers.insert(http::header::IF_NONE_MATCH, value);
                    }
                    let response = server.handle(&request, now);
                    assert!(response.headers().contains_key(DATE));
                }
            }
        }
    }
    assert!(server.job_count() > 0);
}
