//! The model's rate limit, injected faults and late visibility.

use http::header::RETRY_AFTER;

use super::tests::{get, json_of, plan, request, secs, server, with_fault};
use super::*;
use crate::plan::FaultWindow;
use serde_json::Value;

#[test]
fn rate_limit_refuses_with_retry_after_and_refills() {
    let mut server = ServerModel::new(
        ServerConfig {
            rate_limit: Some(RateLimit {
                burst: 2,
                per_second: 0.5,
            }),
            token: None,
        },
        1,
    );
    let first = server.handle(&get("/api/v1/jobs"), Instant::ZERO);
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["ratelimit"], "\"default\";r=1;t=2");
    assert_eq!(first.headers()["ratelimit-policy"], "\"default\";q=2;w=4");
    let second = server.handle(&get("/api/v1/jobs"), Instant::ZERO);
    assert_eq!(second.headers()["ratelimit"], "\"default\";r=0;t=2");
    let refused = server.handle(&get("/api/v1/jobs"), secs(1));
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()[RETRY_AFTER], "1");
    assert_eq!(refused.headers()["ratelimit"], "\"default\";r=0;t=1");
    assert_eq!(server.handle(&get("/api/v1/jobs"), secs(2)).status(), 200);
}

#[test]
fn status_faults_replace_the_answer_and_retry_after_is_sent() {
    let mut server = server();
    let created = server.create(
        Shape::Jobs,
        with_fault(
            2,
            4,
            Fault::Status {
                status: 503,
                retry_after: Some(3),
            },
        ),
        Instant::ZERO,
    );
    let path = created.status_path;
    assert_eq!(server.handle(&get(&path), secs(1)).status(), 200);
    let faulty = server.handle(&get(&path), secs(2));
    assert_eq!(faulty.status(), 503);
    assert_eq!(faulty.headers()[RETRY_AFTER], "3");
    assert_eq!(json_of(&faulty)["error"]["code"], 503);
    // A cancel the gateway answers does not reach the job.
    let cancel = server.handle(&request("POST", "/api/v1/jobs/job-1/cancel", ""), secs(3));
    assert_eq!(cancel.status(), 503);
    assert_eq!(server.truth("job-1", secs(5)), Some(Truth::Running));
    assert_eq!(server.handle(&get(&path), secs(4)).status(), 200);
}

#[test]
fn default_faults_follow_the_plans_own_faults_in_new_jobs() {
    let mut server = server();
    let before = server.create(Shape::Jobs, plan(30), Instant::ZERO);
    let window = FaultWindow {
        from: Duration::from_secs(1),
        until: Duration::from_secs(3),
        fault: Fault::Status {
            status: 502,
            retry_after: None,
        },
    };
    server.set_default_faults(vec![window.clone()]);
    assert_eq!(server.default_faults(), [window]);
    // Created directly, with a plan fault that overlaps the default one.
    let direct = server.create(
        Shape::Jobs,
        with_fault(2, 4, Fault::Malformed),
        Instant::ZERO,
    );
    // Submitted through the API.
    let (method, path, body) = ServerModel::submit_request(Shape::Jobs, &plan(30));
    let submitted = server.handle(&request(method.as_str(), &path, &body), Instant::ZERO);
    assert_eq!(submitted.status(), 201);
    let status = |server: &mut ServerModel, id: &str, at: u64| {
        server
            .handle(&get(&format!("/api/v1/jobs/{id}")), secs(at))
            .status()
            .as_u16()
    };
    assert_eq!(status(&mut server, "job-3", 1), 502);
    assert_eq!(status(&mut server, "job-3", 3), 200);
    assert_eq!(status(&mut server, &direct.id, 1), 502);
    // The plan's own window comes first.
    let malformed = server.handle(&get(&direct.status_path), secs(2));
    assert_eq!(malformed.status(), 200);
    assert!(serde_json::from_slice::<Value>(malformed.body()).is_err());
    // Jobs created before keep their plans.
    assert_eq!(status(&mut server, &before.id, 1), 200);
}

#[test]
fn malformed_unknown_status_and_oversized_faults() {
    let mut server = server();
    let malformed = server.create(
        Shape::Codegen,
        with_fault(0, 10, Fault::Malformed),
        Instant::ZERO,
    );
    let response = server.handle(&get(&malformed.status_path), secs(1));
    assert_eq!(response.status(), 200);
    assert!(serde_json::from_slice::<Value>(response.body()).is_err());

    let unknown = server.create(
        Shape::Jobs,
        with_fault(0, 10, Fault::UnknownStatus),
        Instant::ZERO,
    );
    let body = json_of(&server.handle(&get(&unknown.status_path), secs(1)));
    assert_eq!(body["status"], "on_hold");

    let big = server.create(
        Shape::Turn,
        with_fault(0, 10, Fault::Oversized { bytes: 100_000 }),
        Instant::ZERO,
    );
    let response = server.handle(&get(&big.status_path), secs(1));
    assert_eq!(response.body().len(), 100_000);
    assert_eq!(json_of(&response)["status"], "running");
}

#[test]
fn jobs_are_invisible_until_visible_after() {
    let mut server = server();
    let created = server.create(
        Shape::FileTasks,
        JobPlan {
            visible_after: Duration::from_secs(3),
            ..plan(10)
        },
        Instant::ZERO,
    );
    for t in 0..3 {
        let response = server.handle(&get(&created.status_path), secs(t));
        assert_eq!(response.status(), 404, "at {t} s");
    }
    assert_eq!(
        server.handle(&get(&created.status_path), secs(3)).status(),
        200
    );
    // Hidden from the list as well.
    let hidden = server.create(
        Shape::Jobs,
        JobPlan {
            visible_after: Duration::from_secs(3),
            ..plan(10)
        },
        secs(10),
    );
    let list = json_of(&server.handle(&get("/api/v1/jobs"), secs(11)));
    assert_eq!(list["total"], 0);
    assert_eq!(server.truth(&hidden.id, secs(11)), Some(Truth::Running));
}
