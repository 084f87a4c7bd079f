//! Azure long-running operations as a client sees them: every initial answer a
//! plan selects, and each polling URL's answers step by step in virtual time.

mod support;

use std::time::Duration;

use bytes::Bytes;
use http::Method;
use jobpoll_core::Instant;
use jobpoll_server::model::{ServerConfig, ServerModel, Truth};
use jobpoll_server::plan::{
    AzureHeader, AzurePlan, CreateFailures, Ending, FinalGetFault, JobPlan, MonitorFault,
    MonitorFaultKind, StaleLocation,
};
use serde_json::{Value, json};
use support::{ORIGIN, secs, url};

const AAO: &str = "azure-asyncoperation";
const OL: &str = "operation-location";

fn server() -> ServerModel {
    ServerModel::new(ServerConfig::default(), 1)
}

/// A plan of `secs` seconds with `azure`.
fn plan(secs: u64, azure: AzurePlan) -> JobPlan {
    JobPlan {
        duration: Duration::from_secs(secs),
        azure,
        ..JobPlan::default()
    }
}

/// An Azure plan with exactly `headers` on the initial answer.
fn with_headers(headers: &[AzureHeader]) -> AzurePlan {
    AzurePlan {
        headers: Some(headers.to_vec()),
        ..AzurePlan::default()
    }
}

fn send(
    server: &mut ServerModel,
    method: &str,
    path: &str,
    body: &str,
    now: Instant,
) -> http::Response<Bytes> {
    let method = Method::from_bytes(method.as_bytes()).expect("method");
    server.handle(&support::request(&method, &url(path), body), now)
}

/// A create request carrying `plan` (and `fields`) in its body.
fn create(
    server: &mut ServerModel,
    method: &str,
    path: &str,
    plan: &JobPlan,
    fields: Value,
    now: Instant,
) -> http::Response<Bytes> {
    let mut body = json!({ "plan": plan });
    if let (Value::Object(body), Value::Object(fields)) = (&mut body, fields) {
        body.extend(fields);
    }
    send(server, method, path, &body.to_string(), now)
}

fn get(server: &mut ServerModel, path: &str, now: Instant) -> http::Response<Bytes> {
    send(server, "GET", path, "", now)
}

fn json_of(response: &http::Response<Bytes>) -> Value {
    serde_json::from_slice(response.body())
        .unwrap_or_else(|e| panic!("{e}: {:?}", String::from_utf8_lossy(response.body())))
}

fn header<'a>(response: &'a http::Response<Bytes>, name: &str) -> Option<&'a str> {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
}

fn absolute(path: &str) -> String {
    format!("{ORIGIN}{path}")
}

#[test]
fn every_method_status_and_header_set_is_an_initial_answer() {
    use AzureHeader::{AzureAsyncOperation as A, Location as L, OperationLocation as O};
    let header_sets: [&[AzureHeader]; 7] = [&[A], &[O], &[L], &[A, L], &[O, L], &[A, O], &[]];
    let mut server = server();
    let mut n = 0;
    for method in ["PUT", "PATCH", "POST", "DELETE"] {
        for status in [200, 201, 202, 204] {
            for headers in header_sets {
                n += 1;
                let path = format!("/azure/resources/r{n}");
                let azure = AzurePlan {
                    initial_status: Some(status),
                    ..with_headers(headers)
                };
                let response = create(
                    &mut server,
                    method,
                    &path,
                    &plan(10, azure),
                    json!({}),
                    secs(0),
                );
                let case = format!("{method} {status} {headers:?}");
                assert_eq!(response.status(), status, "{case}");
                let id = format!("azop-{n}");
                let expect = |name: AzureHeader, header_name: &str, path: String| {
                    assert_eq!(
                        header(&response, header_name).map(str::to_owned),
                        headers.contains(&name).then(|| absolute(&path)),
                        "{case}: {header_name}"
                    );
                };
                expect(A, AAO, format!("/azure/operations/{id}"));
                expect(O, OL, format!("/azure/operation-status/{id}"));
                expect(L, "location", format!("/azure/operation-results/{id}"));
                assert_eq!(
                    header(&response, "retry-after"),
                    (!headers.is_empty()).then_some("1"),
                    "{case}"
                );
                if matches!(status, 202 | 204) {
                    assert!(response.body().is_empty(), "{case}");
                } else {
                    let body = json_of(&response);
                    assert_eq!(body["id"], path, "{case}");
                    assert!(
                        body["properties"]["provisioningState"].is_string(),
                        "{case}"
                    );
                }
            }
        }
    }
    // The default: 201 for PUT and POST, 202 for PATCH and DELETE.
    for (method, status) in [("PUT", 201), ("POST", 201), ("PATCH", 202), ("DELETE", 202)] {
        let response = create(
            &mut server,
            method,
            &format!("/azure/resources/d-{method}"),
            &plan(10, with_headers(&[AzureHeader::AzureAsyncOperation])),
            json!({}),
            secs(0),
        );
        assert_eq!(response.status(), status, "{method}");
    }
}

#[test]
fn a_monitor_runs_then_succeeds_and_the_put_resource_reflects_the_request() {
    let mut server = server();
    let azure = with_headers(&[
        AzureHeader::AzureAsyncOperation,
        AzureHeader::OperationLocation,
    ]);
    let created = create(
        &mut server,
        "PUT",
        "/azure/resources/vm1",
        &plan(10, azure),
        json!({"tags": {"team": "a"}, "properties": {"size": "small"}}),
        secs(0),
    );
    assert_eq!(created.status(), 201);
    assert_eq!(
        json_of(&created)["properties"]["provisioningState"],
        "Accepted"
    );

    for path in ["/azure/operations/azop-1", "/azure/operation-status/azop-1"] {
        let queued = json_of(&get(&mut server, path, Instant::from_millis(500)));
        assert_eq!(queued["status"], "NotStarted", "{path}");
        let running = json_of(&get(&mut server, path, secs(5)));
        assert_eq!(running["status"], "Running");
        assert_eq!(running["percentComplete"], 50);
        assert_eq!(running["endTime"], Value::Null);
        assert!(running.get("resourceLocation").is_none());
        let done = get(&mut server, path, secs(10));
        assert_eq!(done.status(), 200);
        let done = json_of(&done);
        assert_eq!(done["status"], "Succeeded");
        assert_eq!(done["percentComplete"], 100);
        assert!(done.get("error").is_none());
    }
    let before = json_of(&get(&mut server, "/azure/resources/vm1", secs(5)));
    assert_eq!(before["properties"]["provisioningState"], "Creating");
    let after = json_of(&get(&mut server, "/azure/resources/vm1", secs(10)));
    assert_eq!(after["properties"]["provisioningState"], "Succeeded");
    assert_eq!(after["properties"]["size"], "small");
    assert_eq!(after["tags"], json!({"team": "a"}));

    // A PATCH updates the resource: its properties merge into the PUT's.
    let patched = create(
        &mut server,
        "PATCH",
        "/azure/resources/vm1",
        &plan(4, with_headers(&[AzureHeader::AzureAsyncOperation])),
        json!({"properties": {"color": "blue"}}),
        secs(20),
    );
    assert_eq!(patched.status(), 202);
    let updating = json_of(&get(&mut server, "/azure/resources/vm1", secs(22)));
    assert_eq!(updating["properties"]["provisioningState"], "Updating");
    let updated = json_of(&get(&mut server, "/azure/resources/vm1", secs(24)));
    assert_eq!(updated["properties"]["provisioningState"], "Succeeded");
    assert_eq!(updated["properties"]["size"], "small");
    assert_eq!(updated["properties"]["color"], "blue");
    assert_eq!(updated["tags"], json!({"team": "a"}));
}

#[test]
fn location_polling_answers_202_then_the_result() {
    let mut server = server();
    let created = create(
        &mut server,
        "POST",
        "/azure/resources/job1",
        &plan(10, with_headers(&[AzureHeader::Location])),
        json!({}),
        secs(0),
    );
    assert_eq!(created.status(), 201);
    let location = "/azure/operation-results/azop-1";
    for at in [0, 3, 9] {
        let running = get(&mut server, location, secs(at));
        assert_eq!(running.status(), 202, "at {at}");
        assert!(running.body().is_empty());
        assert_eq!(header(&running, "location"), None);
        assert_eq!(header(&running, "retry-after"), Some("1"));
    }
    let done = get(&mut server, location, secs(10));
    assert_eq!(done.status(), 200);
    assert_eq!(
        json_of(&done)["properties"]["provisioningState"],
        "Succeeded"
    );
    // A Location that was never given is 404.
    assert_eq!(
        get(&mut server, &format!("{location}/1"), secs(10)).status(),
        404
    );

    // The final status the plan asks for; a DELETE's is 204 by default.
    for (method, final_status, expected) in [
        ("PUT", Some(201), 201),
        ("POST", Some(204), 204),
        ("DELETE", None, 204),
    ] {
        let azure = AzurePlan {
            location_final_status: final_status,
            ..with_headers(&[AzureHeader::Location])
        };
        let created = create(
            &mut server,
            method,
            &format!("/azure/resources/final-{method}"),
            &plan(1, azure),
            json!({}),
            secs(100),
        );
        let location = header(&created, "location").expect("Location").to_owned();
        let done = get(&mut server, location.trim_start_matches(ORIGIN), secs(101));
        assert_eq!(done.status(), expected, "{method}");
        assert_eq!(done.body().is_empty(), expected == 204, "{method}");
    }
}

#[test]
fn a_moving_location_leaves_stale_urls_that_never_finish() {
    let mut server = server();
    let azure = AzurePlan {
        moving_location: Some(StaleLocation::Accepted),
        ..with_headers(&[AzureHeader::Location])
    };
    create(
        &mut server,
        "DELETE",
        "/azure/resources/m1",
        &plan(10, azure),
        json!({}),
        secs(0),
    );
    let first = get(&mut server, "/azure/operation-results/azop-1", secs(1));
    assert_eq!(first.status(), 202);
    assert_eq!(
        header(&first, "location"),
        Some(absolute("/azure/operation-results/azop-1/1").as_str())
    );
    // The old URL now answers 202 without a Location.
    let stale = get(&mut server, "/azure/operation-results/azop-1", secs(2));
    assert_eq!(stale.status(), 202);
    assert_eq!(header(&stale, "location"), None);
    let second = get(&mut server, "/azure/operation-results/azop-1/1", secs(3));
    assert_eq!(second.status(), 202);
    assert_eq!(
        header(&second, "location"),
        Some(absolute("/azure/operation-results/azop-1/2").as_str())
    );
    // Not given yet.
    assert_eq!(
        get(&mut server, "/azure/operation-results/azop-1/3", secs(3)).status(),
        404
    );
    // Done: the URL in force answers, the stale ones stay 202 forever.
    let done = get(&mut server, "/azure/operation-results/azop-1/2", secs(10));
    assert_eq!(done.status(), 204);
    for stale in [
        "/azure/operation-results/azop-1",
        "/azure/operation-results/azop-1/1",
    ] {
        let answer = get(&mut server, stale, secs(1_000));
        assert_eq!(answer.status(), 202, "{stale}");
        assert_eq!(header(&answer, "location"), None);
    }

    // Or 404.
    let azure = AzurePlan {
        moving_location: Some(StaleLocation::NotFound),
        ..with_headers(&[AzureHeader::Location])
    };
    create(
        &mut server,
        "POST",
        "/azure/resources/m2",
        &plan(10, azure),
        json!({}),
        secs(0),
    );
    assert_eq!(
        get(&mut server, "/azure/operation-results/azop-2", secs(1)).status(),
        202
    );
    assert_eq!(
        get(&mut server, "/azure/operation-results/azop-2", secs(2)).status(),
        404
    );
    assert_eq!(
        get(&mut server, "/azure/operation-results/azop-2/1", secs(20)).status(),
        200
    );
}

#[test]
fn without_headers_a_put_polls_its_resource_and_a_post_is_done_at_once() {
    let mut server = server();
    // PUT 201: poll the original URI's provisioningState.
    create(
        &mut server,
        "PUT",
        "/azure/resources/b1",
        &plan(10, with_headers(&[])),
        json!({}),
        secs(0),
    );
    let states: Vec<Value> = [0, 5, 10]
        .iter()
        .map(|&at| json_of(&get(&mut server, "/azure/resources/b1", secs(at)))["properties"]["provisioningState"].clone())
        .collect();
    assert_eq!(
        states,
        [json!("Accepted"), json!("Creating"), json!("Succeeded")]
    );

    // Already terminal: 200 with Succeeded (a zero duration), or 204.
    let azure = AzurePlan {
        initial_status: Some(200),
        ..with_headers(&[])
    };
    let done = create(
        &mut server,
        "PUT",
        "/azure/resources/b2",
        &plan(0, azure),
        json!({}),
        secs(0),
    );
    assert_eq!(done.status(), 200);
    assert_eq!(
        json_of(&done)["properties"]["provisioningState"],
        "Succeeded"
    );
    let azure = AzurePlan {
        initial_status: Some(204),
        ..with_headers(&[])
    };
    let done = create(
        &mut server,
        "PATCH",
        "/azure/resources/b2",
        &plan(30, azure),
        json!({}),
        secs(1),
    );
    assert_eq!(done.status(), 204);
    assert!(done.body().is_empty());
    assert_eq!(
        server.truth("azop-3", secs(1)),
        Some(Truth::Succeeded { at: secs(1) })
    );

    // POST and DELETE without a header are done at once, whatever the duration.
    for (n, method) in [(4, "POST"), (5, "DELETE")] {
        let azure = AzurePlan {
            initial_status: Some(200),
            ..with_headers(&[])
        };
        let done = create(
            &mut server,
            method,
            &format!("/azure/resources/b{n}"),
            &plan(60, azure),
            json!({}),
            secs(2),
        );
        assert_eq!(done.status(), 200, "{method}");
        assert_eq!(
            json_of(&done)["properties"]["provisioningState"],
            "Succeeded"
        );
        assert_eq!(
            server.truth(&format!("azop-{n}"), secs(2)),
            Some(Truth::Succeeded { at: secs(2) })
        );
    }
}

#[test]
fn a_deleted_resource_is_gone_once_the_delete_succeeds() {
    let mut server = server();
    create(
        &mut server,
        "PUT",
        "/azure/resources/d1",
        &plan(0, AzurePlan::default()),
        json!({}),
        secs(0),
    );
    assert_eq!(
        get(&mut server, "/azure/resources/d1", secs(1)).status(),
        200
    );
    create(
        &mut server,
        "DELETE",
        "/azure/resources/d1",
        &plan(10, with_headers(&[AzureHeader::AzureAsyncOperation])),
        json!({}),
        secs(2),
    );
    let deleting = get(&mut server, "/azure/resources/d1", secs(5));
    assert_eq!(deleting.status(), 200);
    assert_eq!(
        json_of(&deleting)["properties"]["provisioningState"],
        "Deleting"
    );
    assert_eq!(
        json_of(&get(&mut server, "/azure/operations/azop-2", secs(12)))["status"],
        "Succeeded"
    );
    let gone = get(&mut server, "/azure/resources/d1", secs(12));
    assert_eq!(gone.status(), 404);
    assert_eq!(json_of(&gone)["error"]["code"], "ResourceNotFound");
}

#[test]
fn a_succeeded_monitor_may_name_a_resource_location() {
    let mut server = server();
    let azure = AzurePlan {
        resource_location: true,
        ..with_headers(&[AzureHeader::AzureAsyncOperation])
    };
    create(
        &mut server,
        "POST",
        "/azure/resources/rl",
        &plan(10, azure),
        json!({}),
        secs(0),
    );
    let running = json_of(&get(&mut server, "/azure/operations/azop-1", secs(5)));
    assert!(running.get("resourceLocation").is_none());
    assert_eq!(
        get(&mut server, "/azure/results/azop-1", secs(5)).status(),
        404
    );
    let done = json_of(&get(&mut server, "/azure/operations/azop-1", secs(10)));
    assert_eq!(done["resourceLocation"], absolute("/azure/results/azop-1"));
    let result = get(&mut server, "/azure/results/azop-1", secs(10));
    assert_eq!(result.status(), 200);
    assert_eq!(
        json_of(&result)["properties"]["provisioningState"],
        "Succeeded"
    );
}

#[test]
fn monitor_answers_can_be_unreadable_for_a_while_or_always() {
    let cases = [
        (MonitorFaultKind::MissingStatus, "missing"),
        (MonitorFaultKind::NumericStatus, "numeric"),
        (MonitorFaultKind::EmptyBody, "empty"),
        (MonitorFaultKind::NotJson, "text"),
    ];
    for (kind, what) in cases {
        let mut server = server();
        let azure = AzurePlan {
            monitor_fault: Some(MonitorFault {
                kind,
                polls: Some(2),
            }),
            ..with_headers(&[
                AzureHeader::AzureAsyncOperation,
                AzureHeader::OperationLocation,
            ])
        };
        create(
            &mut server,
            "PUT",
            "/azure/resources/f",
            &plan(10, azure),
            json!({}),
            secs(0),
        );
        // Both monitor paths count: the first two polls are faulty, then normal.
        for (path, at) in [
            ("/azure/operations/azop-1", 1),
            ("/azure/operation-status/azop-1", 2),
        ] {
            let answer = get(&mut server, path, secs(at));
            assert_eq!(answer.status(), 200, "{what}");
            match kind {
                MonitorFaultKind::MissingStatus => {
                    let body = json_of(&answer);
                    assert!(body.get("status").is_none());
                    assert_eq!(body["name"], "azop-1");
                }
                MonitorFaultKind::NumericStatus => assert_eq!(json_of(&answer)["status"], 1),
                MonitorFaultKind::EmptyBody => {
                    assert!(answer.body().is_empty());
                    assert_eq!(header(&answer, "content-type"), None);
                }
                MonitorFaultKind::NotJson => {
                    assert_eq!(
                        header(&answer, "content-type"),
                        Some("text/plain; charset=utf-8")
                    );
                    assert!(serde_json::from_slice::<Value>(answer.body()).is_err());
                }
            }
        }
        assert_eq!(
            json_of(&get(&mut server, "/azure/operations/azop-1", secs(3)))["status"],
            "Running"
        );
    }
    // Always.
    let mut server = server();
    let azure = AzurePlan {
        monitor_fault: Some(MonitorFault {
            kind: MonitorFaultKind::EmptyBody,
            polls: None,
        }),
        ..with_headers(&[AzureHeader::AzureAsyncOperation])
    };
    create(
        &mut server,
        "PUT",
        "/azure/resources/f",
        &plan(1, azure),
        json!({}),
        secs(0),
    );
    for at in [0, 5, 100, 10_000] {
        assert!(
            get(&mut server, "/azure/operations/azop-1", secs(at))
                .body()
                .is_empty()
        );
    }
}

#[test]
fn final_gets_can_fail_for_a_while_or_always() {
    let mut server = server();
    let azure = AzurePlan {
        final_get_fault: Some(FinalGetFault {
            status: 500,
            times: Some(2),
        }),
        ..with_headers(&[AzureHeader::AzureAsyncOperation])
    };
    create(
        &mut server,
        "PUT",
        "/azure/resources/g1",
        &plan(10, azure),
        json!({}),
        secs(0),
    );
    // Before success, a GET of the resource is no final GET.
    assert_eq!(
        get(&mut server, "/azure/resources/g1", secs(5)).status(),
        200
    );
    let first = get(&mut server, "/azure/resources/g1", secs(10));
    assert_eq!(first.status(), 500);
    assert_eq!(json_of(&first)["error"]["code"], "InternalServerError");
    assert_eq!(
        get(&mut server, "/azure/resources/g1", secs(11)).status(),
        500
    );
    assert_eq!(
        get(&mut server, "/azure/resources/g1", secs(12)).status(),
        200
    );
    assert_eq!(server.request_count(&Method::GET, "/azure/resources/g1"), 4);

    // 404 or 403 always, on the Location and on resourceLocation too.
    for (status, code) in [(404, "ResourceNotFound"), (403, "AuthorizationFailed")] {
        let mut server = self::server();
        let azure = AzurePlan {
            resource_location: true,
            final_get_fault: Some(FinalGetFault {
                status,
                times: None,
            }),
            ..with_headers(&[AzureHeader::AzureAsyncOperation, AzureHeader::Location])
        };
        create(
            &mut server,
            "POST",
            "/azure/resources/g2",
            &plan(1, azure),
            json!({}),
            secs(0),
        );
        assert_eq!(
            get(&mut server, "/azure/operations/azop-1", secs(2)).status(),
            200
        );
        for path in [
            "/azure/operation-results/azop-1",
            "/azure/results/azop-1",
            "/azure/resources/g2",
        ] {
            for at in [2, 50, 5_000] {
                let answer = get(&mut server, path, secs(at));
                assert_eq!(answer.status(), status, "{path}");
                assert_eq!(json_of(&answer)["error"]["code"], code);
            }
        }
    }
}

#[test]
fn failed_and_canceled_operations_carry_an_error() {
    let mut server = server();
    let failing = JobPlan {
        ending: Ending::Fail {
            message: "quota exceeded".to_owned(),
        },
        ..plan(
            5,
            with_headers(&[AzureHeader::AzureAsyncOperation, AzureHeader::Location]),
        )
    };
    create(
        &mut server,
        "PUT",
        "/azure/resources/x1",
        &failing,
        json!({}),
        secs(0),
    );
    let failed = json_of(&get(&mut server, "/azure/operations/azop-1", secs(5)));
    assert_eq!(failed["status"], "Failed");
    assert_eq!(
        failed["error"],
        json!({"code": "ProvisioningFailed", "message": "quota exceeded"})
    );
    let location = get(&mut server, "/azure/operation-results/azop-1", secs(5));
    assert_eq!(location.status(), 400);
    assert_eq!(json_of(&location)["error"]["message"], "quota exceeded");
    assert_eq!(
        json_of(&get(&mut server, "/azure/resources/x1", secs(5)))["properties"]["provisioningState"],
        "Failed"
    );

    let azure = AzurePlan {
        canceled: true,
        ..with_headers(&[AzureHeader::OperationLocation])
    };
    create(
        &mut server,
        "POST",
        "/azure/resources/x2",
        &plan(5, azure),
        json!({}),
        secs(0),
    );
    assert_eq!(
        json_of(&get(&mut server, "/azure/operation-status/azop-2", secs(4)))["status"],
        "Running"
    );
    let canceled = json_of(&get(&mut server, "/azure/operation-status/azop-2", secs(5)));
    assert_eq!(canceled["status"], "Canceled");
    assert_eq!(canceled["error"]["code"], "Canceled");
    assert!(canceled["error"]["message"].is_string());
    assert_eq!(
        server.truth("azop-2", secs(9)),
        Some(Truth::Cancelled { at: secs(5) })
    );
}

#[test]
fn create_requests_fail_at_first_and_are_counted_per_resource() {
    let mut server = server();
    let failing = |status| JobPlan {
        create_failures: Some(CreateFailures {
            status,
            times: 2,
            retry_after: Some(3),
        }),
        ..plan(10, with_headers(&[AzureHeader::AzureAsyncOperation]))
    };
    for at in [0, 1] {
        let refused = create(
            &mut server,
            "PUT",
            "/azure/resources/c1",
            &failing(503),
            json!({}),
            secs(at),
        );
        assert_eq!(refused.status(), 503);
        assert_eq!(header(&refused, "retry-after"), Some("3"));
    }
    let created = create(
        &mut server,
        "PUT",
        "/azure/resources/c1",
        &failing(503),
        json!({}),
        secs(2),
    );
    assert_eq!(created.status(), 201);
    assert_eq!(
        header(&created, AAO),
        Some(absolute("/azure/operations/azop-1").as_str())
    );
    assert_eq!(server.job_count(), 1);
    assert_eq!(server.request_count(&Method::PUT, "/azure/resources/c1"), 3);

    let refused = create(
        &mut server,
        "POST",
        "/azure/resources/c2",
        &failing(500),
        json!({}),
        secs(3),
    );
    assert_eq!(refused.status(), 500);
    assert_eq!(
        server.request_count(&Method::POST, "/azure/resources/c2"),
        1
    );
    assert_eq!(server.request_count(&Method::PUT, "/azure/resources/c2"), 0);

    // Over HTTP: the counts of one path, or all.
    let counts = json_of(&get(
        &mut server,
        "/_jobpoll/requests?path=/azure/resources/c1",
        secs(4),
    ));
    assert_eq!(
        counts,
        json!({"requests": [{"method": "PUT", "path": "/azure/resources/c1", "count": 3}]})
    );
    let all = json_of(&get(&mut server, "/_jobpoll/requests", secs(4)));
    assert_eq!(all["requests"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        server.request_counts().len(),
        2,
        "inspection is not counted"
    );
}

#[test]
fn the_plan_may_travel_in_a_header_and_bad_plans_are_refused() {
    let mut server = server();
    let plan = plan(0, with_headers(&[]));
    let request = http::Request::builder()
        .method(Method::DELETE)
        .uri(url("/azure/resources/h1").as_str())
        .header("jobpoll-plan", serde_json::to_string(&plan).expect("plan"))
        .body(Bytes::new())
        .expect("request");
    let response = server.handle(&request, secs(0));
    assert_eq!(response.status(), 202);
    assert_eq!(response.headers().get("location"), None);

    let bad = AzurePlan {
        initial_status: Some(404),
        ..AzurePlan::default()
    };
    let refused = create(
        &mut server,
        "PUT",
        "/azure/resources/h2",
        &self::plan(1, bad),
        json!({}),
        secs(0),
    );
    assert_eq!(refused.status(), 400);
    let request = http::Request::builder()
        .method(Method::PUT)
        .uri("/azure/resources/h3")
        .header("jobpoll-plan", "{not json")
        .body(Bytes::new())
        .expect("request");
    assert_eq!(server.handle(&request, secs(0)).status(), 400);
    assert_eq!(server.job_count(), 1);
}

#[test]
fn a_session_cookie_guards_every_azure_url() {
    let mut server = server();
    let plan = JobPlan {
        session_cookie: true,
        ..plan(
            2,
            AzurePlan {
                resource_location: true,
                ..with_headers(&[AzureHeader::AzureAsyncOperation, AzureHeader::Location])
            },
        )
    };
    let created = create(
        &mut server,
        "PUT",
        "/azure/resources/s1",
        &plan,
        json!({}),
        secs(0),
    );
    assert_eq!(
        header(&created, "set-cookie"),
        None,
        "the first poll sets it"
    );
    let first = get(&mut server, "/azure/operations/azop-1", secs(1));
    assert_eq!(first.status(), 200);
    let cookie = header(&first, "set-cookie").expect("Set-Cookie").to_owned();
    let value = cookie.split(';').next().expect("pair").to_owned();
    for path in [
        "/azure/operations/azop-1",
        "/azure/operation-results/azop-1",
        "/azure/resources/s1",
        "/azure/results/azop-1",
    ] {
        assert_eq!(get(&mut server, path, secs(3)).status(), 401, "{path}");
        let request = http::Request::builder()
            .uri(url(path).as_str())
            .header("cookie", &value)
            .body(Bytes::new())
            .expect("request");
        let answer = server.handle(&request, secs(3));
        assert_eq!(answer.status(), 200, "{path}");
        assert_eq!(header(&answer, "set-cookie"), None);
    }
}
