//! Cookies against the real reference server on loopback: a job whose session
//! lives in a cookie set on the first answer advances with the default client and
//! is refused without a cookie store.
#![allow(missing_docs, clippy::unwrap_used)]

use std::time::Duration;

use jobpoll_core::{Config, JobSpec, Outcome, Profile, Schedule};
use jobpoll_server::http::{ServeOptions, Server, SharedModel};
use jobpoll_server::model::ServerModel;
use jobpoll_server::plan::{JobPlan, Shape};
use jobpoll_tokio::Client;

fn quick() -> Config {
    Config {
        poll: Schedule::fixed(Duration::from_millis(50)),
        retry: Schedule::fixed(Duration::from_millis(50)),
        deadline: Some(Duration::from_secs(10)),
        request_time_limit: Duration::from_secs(2),
        ..Config::standard()
    }
}

/// A job that keeps its session in a cookie and runs for 400 ms.
fn session_plan() -> JobPlan {
    JobPlan {
        duration: Duration::from_millis(400),
        session_cookie: true,
        ..JobPlan::default()
    }
}

async fn server() -> (SharedModel, Server) {
    let model = SharedModel::new(ServeOptions::default());
    let server = Server::bind_loopback(model.clone()).await.unwrap();
    (model, server)
}

fn status_spec(server: &Server, model: &SharedModel) -> JobSpec {
    let created = model.create(Shape::Jobs, session_plan());
    let url = format!("{}{}", server.base_url(), created.status_path);
    JobSpec::poll(Profile::jobs(), url.parse().unwrap()).with_job_id(created.id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cookie_session_job_succeeds_with_the_default_client() {
    let (model, server) = server().await;
    let client = Client::new();
    let outcome = client
        .start(status_spec(&server, &model), quick())
        .unwrap()
        .await
        .unwrap();
    assert!(
        matches!(outcome, Outcome::Succeeded { .. }),
        "the job should advance with the session cookie kept: {outcome}"
    );
    // Every answer was a 200: the cookie went back on every poll after the first.
    let log = model.requests();
    assert!(log.len() >= 3, "{log:?}");
    assert!(log.iter().all(|r| r.status == 200), "{log:?}");

    // Submitted through the API too: the create answer sets no cookie, the first
    // status answer does.
    let origin = server.base_url().parse().unwrap();
    let spec = ServerModel::submit_spec(&origin, Shape::Jobs, &session_plan()).unwrap();
    let outcome = client.start(spec, quick()).unwrap().await.unwrap();
    assert!(matches!(outcome, Outcome::Succeeded { .. }), "{outcome}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_cookie_store_the_job_is_refused() {
    let (model, server) = server().await;
    let client = Client::builder().cookie_store(false).build().unwrap();
    let outcome = client
        .start(status_spec(&server, &model), quick())
        .unwrap()
        .await
        .unwrap();
    assert!(
        matches!(outcome, Outcome::Unauthorized { .. }),
        "without cookies the second poll should be refused: {outcome}"
    );
    let statuses: Vec<u16> = model.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 401]);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clones_share_the_store_and_other_clients_do_not() {
    let (model, server) = server().await;
    let client = Client::new();
    let spec = status_spec(&server, &model);
    let outcome = client.start(spec.clone(), quick()).unwrap().await.unwrap();
    assert!(matches!(outcome, Outcome::Succeeded { .. }), "{outcome}");

    // A clone polls the same finished job with the session the first one got.
    let outcome = client
        .clone()
        .start(spec.clone(), quick())
        .unwrap()
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Succeeded { .. }), "{outcome}");

    // Another client has its own, empty store.
    let outcome = Client::new().start(spec, quick()).unwrap().await.unwrap();
    assert!(matches!(outcome, Outcome::Unauthorized { .. }), "{outcome}");
    server.shutdown().await;
}
