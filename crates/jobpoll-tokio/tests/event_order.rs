//! The driver against the reference server over loopback: read to its end, a job's
//! event stream holds every event, in order, before the handle gives the outcome.

use std::time::Duration;

use jobpoll_core::{Config, Event, JobSpec, Profile, Schedule};
use jobpoll_server::http::{ServeOptions, Server, SharedModel};
use jobpoll_server::plan::{JobPlan, Shape};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_runs_of_one_job_see_the_same_events_then_the_outcome() {
    let model = SharedModel::new(ServeOptions::default());
    let server = Server::bind_loopback(model.clone())
        .await
        .expect("loopback server");
    let created = model.create(
        Shape::Jobs,
        JobPlan {
            duration: Duration::ZERO,
            ..JobPlan::default()
        },
    );
    let url: url::Url = format!("{}{}", server.base_url(), created.status_path)
        .parse()
        .expect("a URL");
    let client = jobpoll_tokio::Client::new();
    let config = Config {
        poll: Schedule::fixed(Duration::from_millis(50)),
        ..Config::standard()
    };
    for run in 0..100 {
        let spec = JobSpec::poll(Profile::jobs(), url.clone());
        let mut handle = client.start(spec, config.clone()).expect("started");
        let mut events = handle.events();
        let mut seen = Vec::new();
        while let Some(event) = events.recv().await {
            seen.push(event);
        }
        let outcome = handle.await.expect("the driver ran");
        assert!(outcome.is_success(), "run {run}: {outcome}");
        assert_eq!(
            seen,
            vec![Event::StatusChanged {
                from: None,
                to: "completed".to_owned(),
            }],
            "run {run}"
        );
    }
    server.shutdown().await;
}
