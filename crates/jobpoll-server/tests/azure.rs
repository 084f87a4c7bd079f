//! Azure long-running operations as a client sees them: every initial answer a
//! plan selects, and each polling URL's answers step by step in virtual time.

mod support;

use jobpoll_core::Instant;
use jobpoll_server::model::Truth;
use jobpoll_server::plan::{AzureHeader, AzurePlan, StaleLocation};
use serde_json::{Value, json};
use support::azure::{AAO, OL, absolute, create, get, header, json_of, plan, server, with_headers};
use support::{ORIGIN, secs};

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
