//! Azure and Google operations over real loopback HTTP (feature `http`): the
//! answers a client sees on the wire, and the request counts the server keeps.
//! Jobs are done at once or never, so nothing here waits on the clock.

use std::time::Duration;

use http::Method;
use jobpoll_server::http::{ServeOptions, Server, SharedModel};
use jobpoll_server::plan::{
    AzureHeader, AzurePlan, CreateFailures, Ending, GooglePlan, JobPlan, StaleLocation,
};
use serde_json::json;

mod support;

use support::loopback::{plan_body, run, send};

async fn serve() -> (SharedModel, Server) {
    let model = SharedModel::new(ServeOptions::default());
    let server = Server::bind_loopback(model.clone()).await.expect("bind");
    (model, server)
}

#[test]
fn an_azure_put_is_repeated_then_monitored_then_fetched() {
    run(async {
        let (model, server) = serve().await;
        let addr = server.addr();
        let base = server.base_url();
        let plan = JobPlan {
            duration: Duration::ZERO,
            create_failures: Some(CreateFailures {
                status: 503,
                times: 1,
                retry_after: None,
            }),
            azure: AzurePlan {
                headers: Some(vec![
                    AzureHeader::AzureAsyncOperation,
                    AzureHeader::Location,
                ]),
                ..AzurePlan::default()
            },
            ..JobPlan::default()
        };
        let body = plan_body(&plan);
        let refused = send(addr, "PUT", "/azure/resources/vm1", &body).await;
        assert_eq!(refused.status, 503);
        assert_eq!(refused.json()["error"]["code"], 503);
        let created = send(addr, "PUT", "/azure/resources/vm1", &body).await;
        assert_eq!(created.status, 201);
        assert_eq!(
            created.header("azure-asyncoperation"),
            Some(format!("{base}/azure/operations/azop-1").as_str())
        );
        assert_eq!(
            created.header("location"),
            Some(format!("{base}/azure/operation-results/azop-1").as_str())
        );
        let monitor = send(addr, "GET", "/azure/operations/azop-1", "").await;
        assert_eq!(monitor.status, 200);
        assert_eq!(monitor.json()["status"], "Succeeded");
        let result = send(addr, "GET", "/azure/operation-results/azop-1", "").await;
        assert_eq!(result.status, 200);
        assert_eq!(
            result.json()["properties"]["provisioningState"],
            "Succeeded"
        );

        let counts = send(
            addr,
            "GET",
            "/_jobpoll/requests?path=/azure/resources/vm1",
            "",
        )
        .await;
        assert_eq!(
            counts.json(),
            json!({"requests": [{"method": "PUT", "path": "/azure/resources/vm1", "count": 2}]})
        );
        assert_eq!(model.request_count(&Method::PUT, "/azure/resources/vm1"), 2);
        assert_eq!(
            model.request_count(&Method::GET, "/azure/operations/azop-1"),
            1
        );
        assert_eq!(model.request_counts().len(), 3);
        server.shutdown().await;
    });
}

#[test]
fn a_moving_location_over_http() {
    run(async {
        let (_model, server) = serve().await;
        let addr = server.addr();
        let base = server.base_url();
        let plan = JobPlan {
            ending: Ending::Never,
            azure: AzurePlan {
                headers: Some(vec![AzureHeader::Location]),
                moving_location: Some(StaleLocation::Accepted),
                ..AzurePlan::default()
            },
            ..JobPlan::default()
        };
        let created = send(addr, "POST", "/azure/resources/m1", &plan_body(&plan)).await;
        assert_eq!(created.status, 201);
        let mut location = created.header("location").expect("Location").to_owned();
        for step in 1..=3 {
            let path = location.trim_start_matches(&base).to_owned();
            let answer = send(addr, "GET", &path, "").await;
            assert_eq!(answer.status, 202);
            location = answer
                .header("location")
                .expect("a new Location")
                .to_owned();
            assert_eq!(
                location,
                format!("{base}/azure/operation-results/azop-1/{step}")
            );
            let stale = send(addr, "GET", &path, "").await;
            assert_eq!((stale.status, stale.header("location")), (202, None));
        }
        server.shutdown().await;
    });
}

#[test]
fn a_google_operation_named_with_slashes_over_http() {
    run(async {
        let (model, server) = serve().await;
        let addr = server.addr();
        let plan = JobPlan {
            ending: Ending::Never,
            google: GooglePlan {
                name_prefix: Some("p1/locations/eu".to_owned()),
            },
            ..JobPlan::default()
        };
        let created = send(addr, "POST", "/v1/operations", &plan_body(&plan)).await;
        assert_eq!(created.status, 200);
        let name = created.json()["name"].as_str().expect("name").to_owned();
        assert_eq!(name, "operations/p1/locations/eu/op-1");
        let running = send(addr, "GET", &format!("/v1/{name}"), "").await;
        assert_eq!(running.json()["done"], false);
        let cancel = send(addr, "POST", &format!("/v1/{name}:cancel"), "").await;
        assert_eq!(cancel.status, 200);
        let cancelled = send(addr, "GET", &format!("/v1/{name}"), "").await.json();
        assert_eq!(cancelled["done"], true);
        assert_eq!(cancelled["error"]["code"], 1);
        assert_eq!(model.request_count(&Method::GET, &format!("/v1/{name}")), 2);
        assert_eq!(
            model.request_count(&Method::POST, &format!("/v1/{name}:cancel")),
            1
        );
        server.shutdown().await;
    });
}
