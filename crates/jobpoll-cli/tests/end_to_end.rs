//! The real driver against the real reference server over loopback: every API
//! shape to its outcome, and a server restarted in the middle of polling.

mod support;

use std::time::Duration;

use jobpoll_core::{Config, JobSpec, Outcome, Schedule};
use jobpoll_server::http::Server;
use jobpoll_server::model::ServerModel;
use jobpoll_server::plan::{Ending, JobPlan, Shape};
use support::serve;

fn quick() -> Config {
    Config {
        poll: Schedule::fixed(Duration::from_millis(100)),
        retry: Schedule::fixed(Duration::from_millis(100)),
        deadline: Some(Duration::from_secs(20)),
        request_time_limit: Duration::from_secs(2),
        ..Config::standard()
    }
}

fn spec(base: &str, shape: Shape, plan: &JobPlan) -> JobSpec {
    let origin = base.parse().expect("the server's URL");
    ServerModel::submit_spec(&origin, shape, plan).expect("model paths are URLs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_api_shape_reaches_the_outcome_the_server_decided() {
    let (_, server) = serve().await;
    let client = jobpoll_tokio::Client::new();
    let mut handles = Vec::new();
    for shape in Shape::ALL {
        for fails in [false, true] {
            let ending = if fails {
                Ending::Fail {
                    message: "boom".into(),
                }
            } else {
                Ending::Succeed
            };
            let plan = JobPlan {
                duration: Duration::from_millis(400),
                ending,
                ..JobPlan::default()
            };
            let handle = client
                .start(spec(&server.base_url(), shape, &plan), quick())
                .expect("started");
            handles.push((shape, fails, handle));
        }
    }
    for (shape, fails, handle) in handles {
        let outcome = handle.await.expect("the driver ran");
        match (&outcome, fails) {
            (
                Outcome::Succeeded {
                    results_error: None,
                    ..
                },
                false,
            ) => {}
            (Outcome::Failed { .. }, true) => {}
            _ => panic!("{shape:?} (fails: {fails}): {outcome}"),
        }
        if shape == Shape::Codegen && !fails {
            let Outcome::Succeeded { results, .. } = &outcome else {
                unreachable!()
            };
            let results = results.as_ref().expect("codegen fetches its results");
            // `{graphId: {nodeId: [code]}}`, the code-generation storage shape.
            let graphs = results.as_object().expect("an object of graphs");
            assert_eq!(graphs.len(), 1, "{results}");
            let nodes = graphs
                .values()
                .next()
                .and_then(|n| n.as_object())
                .expect("nodes");
            assert!(
                nodes
                    .values()
                    .all(|codes| codes.as_array().is_some_and(|c| !c.is_empty())),
                "{results}"
            );
        }
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restarted_mid_polling_is_waited_out() {
    let (model, server) = serve().await;
    let address = server.addr();
    let plan = JobPlan {
        duration: Duration::from_millis(1500),
        ..JobPlan::default()
    };
    let handle = jobpoll_tokio::Client::new()
        .start(spec(&server.base_url(), Shape::Jobs, &plan), quick())
        .expect("started");
    tokio::time::sleep(Duration::from_millis(400)).await;
    server.shutdown().await;
    // Down for a second: the polls in between fail to connect and are retried.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .expect("the port is free again");
    let server = Server::start(listener, model.clone())
        .await
        .expect("restarted");
    let outcome = handle.await.expect("the driver ran");
    assert!(outcome.is_success(), "{outcome}");
    let statuses: Vec<u16> = model.requests().iter().map(|r| r.status).collect();
    assert!(statuses.len() >= 3, "{statuses:?}");
    server.shutdown().await;
}
