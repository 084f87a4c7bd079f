//! Azure operations that go wrong, as a client sees them step by step in virtual
//! time: unreadable monitors, failing final GETs, failed and canceled operations,
//! create requests that fail at first (and the request counts), plans in a
//! header, and session cookies.

mod support;

use bytes::Bytes;
use http::Method;
use jobpoll_server::model::Truth;
use jobpoll_server::plan::{
    AzureHeader, AzurePlan, CreateFailures, Ending, FinalGetFault, JobPlan, MonitorFault,
    MonitorFaultKind,
};
use serde_json::{Value, json};
use support::azure::{AAO, absolute, create, get, header, json_of, plan, server, with_headers};
use support::{secs, url};

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
