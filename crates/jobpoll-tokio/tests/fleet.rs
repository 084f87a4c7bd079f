//! The fleet runner against real HTTP servers on loopback: many jobs in one task,
//! shared polls, the in-flight limit, per-origin throttling, pause, stop.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use jobpoll_core::{CancelledBy, Config, Event, JobSpec, Outcome, Profile, Start};
use jobpoll_tokio::{Client, DriverError, FleetConfig, FleetHandle, FleetJob};
use support::{JobsApi, Reply, Response, TestServer, jobs_server};

const MS: Duration = Duration::from_millis(1);

/// Fixed 50 ms polls and retries, 500 ms per request, 10 s in all.
fn quick() -> Arc<Config> {
    Arc::new(Config {
        deadline: Some(Duration::from_secs(10)),
        ..support::quick()
    })
}

/// A jobs server (see [`jobs_server`]) that takes 40 ms to answer.
async fn slow_jobs_server(polls_to_complete: u32) -> TestServer {
    let api = JobsApi::new(polls_to_complete);
    TestServer::start(move |request| match api.handle(request) {
        Reply::Respond(response) => Reply::After(40 * MS, response),
        other => other,
    })
    .await
}

/// Polls job `id` of `server` with the shared `profile`, its id known (so that it
/// can be cancelled).
fn spec(server: &TestServer, profile: &Arc<Profile>, id: &str) -> JobSpec<Arc<Profile>> {
    JobSpec {
        profile: Arc::clone(profile),
        start: Start::Poll {
            status_url: server.url(&format!("/api/v1/jobs/{id}")).parse().unwrap(),
            job_id: Some(id.to_owned()),
        },
        headers: Vec::new(),
    }
}

/// Adds job `id` of `server` to `fleet`.
async fn add_one(
    fleet: &FleetHandle,
    server: &TestServer,
    profile: &Arc<Profile>,
    id: &str,
) -> FleetJob {
    fleet.add(spec(server, profile, id), quick()).await.unwrap()
}

/// Adds the jobs `ids` of `server` to `fleet`, in order.
async fn add_all(
    fleet: &FleetHandle,
    server: &TestServer,
    profile: &Arc<Profile>,
    ids: impl IntoIterator<Item = String>,
) -> Vec<FleetJob> {
    let mut jobs = Vec::new();
    for id in ids {
        jobs.push(
            fleet
                .add(spec(server, profile, &id), quick())
                .await
                .unwrap(),
        );
    }
    jobs
}

/// Job ids `job_{n}` for `n` in `range`.
fn ids(range: std::ops::Range<usize>) -> impl Iterator<Item = String> {
    range.map(|n| format!("job_{n}"))
}

fn fleet(max_in_flight: u32, per_origin: u32) -> FleetHandle {
    Client::new()
        .fleet(FleetConfig {
            max_in_flight,
            max_in_flight_per_origin: per_origin,
            seed: 1,
        })
        .unwrap()
}

fn count(server: &TestServer, method: &str, path: &str) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.method == method && r.path() == path)
        .count()
}

#[tokio::test]
async fn many_jobs_complete_in_one_task() {
    let server = jobs_server(3).await;
    let profile = Arc::new(Profile::jobs());
    let fleet = fleet(64, 64);
    let jobs = add_all(&fleet, &server, &profile, ids(0..300)).await;
    for job in jobs {
        let outcome = job.await.unwrap();
        assert!(outcome.is_success(), "{outcome}");
        assert_eq!(outcome.stats().attempts, 3);
    }
    fleet.idle().await.unwrap();
    let metrics = fleet.metrics().await.unwrap();
    assert_eq!(metrics.totals.jobs, 300);
    assert_eq!(metrics.totals.finished, 300);
    assert_eq!(metrics.totals.requests, 900);
    assert_eq!(metrics.totals.success_rate(), Some(1.0));
    assert_eq!(
        (metrics.running, metrics.waiting, metrics.in_flight),
        (0, 0, 0)
    );
    assert_eq!(server.requests().len(), 900);
    assert!(server.peak_open() <= 64);
}

#[tokio::test]
async fn add_many_starts_every_job_with_one_message_and_refuses_only_the_bad_one() {
    let server = jobs_server(2).await;
    let profile = Arc::new(Profile::jobs());
    let fleet = fleet(16, 16);
    let mut specs: Vec<_> = ids(0..100).map(|id| spec(&server, &profile, &id)).collect();
    // A header no HTTP request can carry: refused, and only this one.
    specs[40] = spec(&server, &profile, "job_40").with_header("bad header", "x");
    // A second subscription to job 0 joins it.
    specs.push(spec(&server, &profile, "job_0"));
    let added = fleet.add_many(specs, quick()).await.unwrap();
    assert_eq!(added.len(), 101);
    let mut outcomes = 0;
    for (n, job) in added.into_iter().enumerate() {
        match job {
            Err(DriverError::Spec(_)) => assert_eq!(n, 40),
            Err(other) => panic!("job {n}: {other}"),
            Ok(job) => {
                assert_ne!(n, 40);
                let outcome = job.await.unwrap();
                assert!(outcome.is_success(), "job {n}: {outcome}");
                outcomes += 1;
            }
        }
    }
    assert_eq!(outcomes, 100);
    fleet.idle().await.unwrap();
    let metrics = fleet.metrics().await.unwrap();
    // 99 jobs (job 0 shared, job 40 refused), two polls each.
    assert_eq!(metrics.totals.jobs, 99);
    assert_eq!(metrics.totals.requests, 198);
    assert_eq!(count(&server, "GET", "/api/v1/jobs/job_0"), 2);
    assert_eq!(count(&server, "GET", "/api/v1/jobs/job_40"), 0);
}

#[tokio::test]
async fn two_subscribers_to_one_url_share_each_poll() {
    let server = jobs_server(6).await;
    let profile = Arc::new(Profile::jobs());
    let fleet = fleet(16, 16);
    // Paused while both subscribe, so that both see every event.
    fleet.pause().await.unwrap();
    let mut first = fleet
        .add_with_events(spec(&server, &profile, "job_1"), quick())
        .await
        .unwrap();
    let mut second = fleet
        .add_with_events(spec(&server, &profile, "job_1"), quick())
        .await
        .unwrap();
    assert_eq!(first.key(), second.key(), "the running job is shared");
    fleet.resume().await.unwrap();
    let (mut a, mut b) = (first.events(), second.events());
    let (a, b, x, y) = tokio::join!(
        async move {
            let mut seen = Vec::new();
            while let Some(event) = a.recv().await {
                seen.push(event);
            }
            seen
        },
        async move {
            let mut seen = Vec::new();
            while let Some(event) = b.recv().await {
                seen.push(event);
            }
            seen
        },
        &mut first,
        &mut second,
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    assert!(x.is_success() && y.is_success(), "{x} / {y}");
    assert_eq!(x, y);
    // One request per poll, not one per subscriber.
    assert_eq!(count(&server, "GET", "/api/v1/jobs/job_1"), 6);
    assert_eq!(a, b, "both see every event");
    assert!(a.iter().any(|e| matches!(e, Event::Progress(_))));
    let metrics = fleet.metrics().await.unwrap();
    assert_eq!((metrics.totals.jobs, metrics.totals.joined), (1, 1));
}

#[tokio::test]
async fn requests_in_flight_never_pass_the_limit() {
    // Every answer takes 40 ms: without a limit, 40 jobs would have 40 requests open.
    let server = slow_jobs_server(3).await;
    let profile = Arc::new(Profile::jobs());
    let fleet = fleet(5, 100);
    let jobs = add_all(&fleet, &server, &profile, ids(0..40)).await;
    for job in jobs {
        assert!(job.await.unwrap().is_success());
    }
    assert_eq!(server.requests().len(), 120);
    assert_eq!(server.peak_open(), 5, "the limit is used and never passed");
}

#[tokio::test]
async fn the_per_origin_limit_holds_one_server_while_another_proceeds() {
    let slow = slow_jobs_server(2).await;
    let other = jobs_server(2).await;
    let profile = Arc::new(Profile::jobs());
    let fleet = fleet(100, 2);
    let jobs = add_all(&fleet, &slow, &profile, ids(0..10)).await;
    let quick_one = add_one(&fleet, &other, &profile, "job_0").await;
    let started = Instant::now();
    assert!(quick_one.await.unwrap().is_success());
    assert!(
        started.elapsed() < Duration::from_millis(400),
        "not held behind the slow origin: {:?}",
        started.elapsed()
    );
    for job in jobs {
        assert!(job.await.unwrap().is_success());
    }
    assert_eq!(slow.peak_open(), 2);
}

#[tokio::test]
async fn a_retry_after_on_one_job_holds_back_its_whole_origin() {
    // job_0's first poll is refused with 429 and Retry-After: 1.
    let api = JobsApi::new(4);
    let throttled = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let once = Arc::clone(&throttled);
    let server = TestServer::start(move |request| {
        if request.path() == "/api/v1/jobs/job_0"
            && !once.swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            return Response::new(429, "slow down")
                .header("retry-after", "1")
                .reply();
        }
        api.handle(request)
    })
    .await;
    let elsewhere = jobs_server(4).await;
    let profile = Arc::new(Profile::jobs());
    let fleet = fleet(64, 64);
    let first = add_one(&fleet, &server, &profile, "job_0").await;
    assert!(server.wait_for(Duration::from_secs(2), |_| true).await);
    // The others start once the 429 has been answered (it takes a moment to reach
    // the fleet; add them a little later).
    tokio::time::sleep(20 * MS).await;
    let mut jobs = vec![first];
    jobs.extend(add_all(&fleet, &server, &profile, ids(1..5)).await);
    let unrelated = add_one(&fleet, &elsewhere, &profile, "job_9").await;
    // Held: the origin is throttled.
    let metrics = fleet.metrics().await.unwrap();
    assert_eq!(metrics.throttled_origins, 1);
    // Another origin is not.
    assert!(unrelated.await.unwrap().is_success());
    for job in jobs {
        assert!(job.await.unwrap().is_success());
    }
    let requests = server.requests();
    let refused = requests[0].at;
    assert_eq!(requests[0].path(), "/api/v1/jobs/job_0");
    let early: Vec<Duration> = requests[1..]
        .iter()
        .map(|r| r.at - refused)
        .filter(|gap| *gap < Duration::from_secs(1))
        .collect();
    assert!(early.is_empty(), "requests during the hold: {early:?}");
    assert_eq!(requests.len(), 1 + 5 * 4);
    let metrics = fleet.metrics().await.unwrap();
    assert_eq!(metrics.totals.errors["http_429"], 1);
    // The other origin finished long before the hold ended.
    let done_elsewhere = elsewhere.requests().last().unwrap().at;
    assert!(done_elsewhere < refused + Duration::from_millis(800));
}

#[tokio::test]
async fn a_paused_fleet_sends_nothing_and_resume_continues() {
    let server = jobs_server(8).await;
    let profile = Arc::new(Profile::jobs());
    let fleet = fleet(64, 64);
    let jobs = add_all(&fleet, &server, &profile, ids(0..5)).await;
    tokio::time::sleep(120 * MS).await;
    fleet.pause().await.unwrap();
    assert!(fleet.metrics().await.unwrap().paused);
    // What was in flight when the pause came lands; nothing goes out after that.
    tokio::time::sleep(50 * MS).await;
    let before = server.requests().len();
    tokio::time::sleep(400 * MS).await;
    assert_eq!(
        server.requests().len(),
        before,
        "a paused fleet sent a request"
    );
    assert!(jobs.iter().all(|job| !job.is_finished()));
    fleet.resume().await.unwrap();
    for job in jobs {
        assert!(job.await.unwrap().is_success());
    }
    assert_eq!(server.requests().len(), 40);
}

#[tokio::test]
async fn a_paused_origin_waits_while_others_run() {
    let held = jobs_server(3).await;
    let free = jobs_server(3).await;
    let profile = Arc::new(Profile::jobs());
    let fleet = fleet(64, 64);
    let held_url = held.url("/").parse().unwrap();
    fleet.pause_origin(&held_url).await.unwrap();
    let waiting = add_one(&fleet, &held, &profile, "job_1").await;
    let running = add_one(&fleet, &free, &profile, "job_1").await;
    assert!(running.await.unwrap().is_success());
    assert!(held.requests().is_empty());
    fleet.resume_origin(&held_url).await.unwrap();
    assert!(waiting.await.unwrap().is_success());
}

#[tokio::test]
async fn dropping_a_fleet_job_stops_it_and_cancels_on_the_server() {
    let server = jobs_server(1000).await;
    let profile = Arc::new(Profile::jobs());
    let fleet = fleet(64, 64);
    let job = add_one(&fleet, &server, &profile, "job_1").await;
    assert!(
        server
            .wait_for(Duration::from_secs(2), |r| r.path() == "/api/v1/jobs/job_1")
            .await
    );
    drop(job);
    assert!(
        server
            .wait_for(Duration::from_secs(2), |r| r.method == "POST"
                && r.path() == "/api/v1/jobs/job_1/cancel")
            .await,
        "the cancel request was sent"
    );
    fleet.idle().await.unwrap();
    let polls = count(&server, "GET", "/api/v1/jobs/job_1");
    tokio::time::sleep(200 * MS).await;
    assert_eq!(
        count(&server, "GET", "/api/v1/jobs/job_1"),
        polls,
        "stopped"
    );
    let metrics = fleet.metrics().await.unwrap();
    assert_eq!(metrics.totals.outcomes["cancelled"], 1);
}

#[tokio::test]
async fn stopping_a_job_drops_its_request_in_flight_and_only_that_one() {
    // No poll ever gets an answer; a request reaches its time limit only after 5 s.
    let server = TestServer::start(|_| Reply::Hang).await;
    let config = Arc::new(Config {
        request_time_limit: Duration::from_secs(5),
        ..(*quick()).clone()
    });
    let profile = Arc::new(Profile::jobs());
    let fleet = fleet(64, 64);
    let untracked = |id: &str| JobSpec {
        // No job id, and none in a URL the profile's template did not make: no
        // cancel request, the stop ends the job at once.
        start: Start::Poll {
            status_url: server.url(&format!("/untracked/{id}")).parse().unwrap(),
            job_id: None,
        },
        ..spec(&server, &profile, id)
    };
    let first = fleet.add(untracked("job_1"), config.clone()).await.unwrap();
    let second = fleet.add(untracked("job_2"), config).await.unwrap();
    let open_within = |open: usize, limit: Duration| {
        let server = &server;
        async move {
            let until = Instant::now() + limit;
            while server.open() != open && Instant::now() < until {
                tokio::time::sleep(2 * MS).await;
            }
            server.open() == open
        }
    };
    assert!(
        open_within(2, Duration::from_secs(2)).await,
        "both polls in flight"
    );
    first.stop();
    let outcome = first.await.unwrap();
    assert_eq!(outcome.kind(), "cancelled", "{outcome}");
    // Its request is dropped (the connection closes) long before its time limit;
    // the other job's request stays.
    assert!(
        open_within(1, Duration::from_secs(1)).await,
        "the request was dropped"
    );
    tokio::time::sleep(100 * MS).await;
    assert_eq!(server.open(), 1, "the other request is still in flight");
    second.stop();
    assert_eq!(second.await.unwrap().kind(), "cancelled");
    assert!(open_within(0, Duration::from_secs(1)).await);
    fleet.idle().await.unwrap();
    assert_eq!(server.served(), 2, "one poll each, none repeated");
}

#[tokio::test]
async fn stopping_one_of_two_subscribers_leaves_the_job_running() {
    let server = jobs_server(8).await;
    let profile = Arc::new(Profile::jobs());
    let fleet = fleet(64, 64);
    let first = add_one(&fleet, &server, &profile, "job_1").await;
    let second = add_one(&fleet, &server, &profile, "job_1").await;
    first.stop();
    let stopped = first.await.unwrap();
    assert!(
        matches!(
            stopped,
            Outcome::Cancelled {
                by: CancelledBy::Client {
                    server_confirmed: None
                },
                ..
            }
        ),
        "{stopped}"
    );
    assert!(second.await.unwrap().is_success());
    assert_eq!(count(&server, "POST", "/api/v1/jobs/job_1/cancel"), 0);
}

#[tokio::test]
async fn stop_all_gives_every_job_an_outcome() {
    let server = jobs_server(1000).await;
    let profile = Arc::new(Profile::jobs());
    let fleet = fleet(8, 8);
    // 25 jobs, five of them followed twice.
    let jobs = add_all(&fleet, &server, &profile, ids(0..25).chain(ids(0..5))).await;
    tokio::time::sleep(150 * MS).await;
    fleet.stop_all().await.unwrap();
    for job in jobs {
        let outcome = job.await.unwrap();
        assert_eq!(outcome.kind(), "cancelled", "{outcome}");
    }
    fleet.idle().await.unwrap();
    let cancels = server
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path().ends_with("/cancel"))
        .count();
    assert_eq!(cancels, 25, "one cancel per job, shared ones once");
    // The fleet takes new jobs after a stop_all.
    let server = jobs_server(2).await;
    let again = add_one(&fleet, &server, &profile, "job_1").await;
    assert!(again.await.unwrap().is_success());
}

#[tokio::test]
async fn shutdown_stops_everything_and_closes_the_fleet() {
    let server = jobs_server(1000).await;
    let profile = Arc::new(Profile::jobs());
    let fleet = fleet(8, 8);
    let job = add_one(&fleet, &server, &profile, "job_1").await;
    fleet.shutdown().await.unwrap();
    assert_eq!(job.await.unwrap().kind(), "cancelled");
    let late = fleet.add(spec(&server, &profile, "job_2"), quick()).await;
    assert!(matches!(late, Err(DriverError::FleetClosed)), "{late:?}");
    assert!(matches!(
        fleet.metrics().await,
        Err(DriverError::FleetClosed)
    ));
    fleet.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_invalid_spec_is_refused_at_once() {
    let server = jobs_server(2).await;
    let profile = Arc::new(Profile::jobs());
    let fleet = fleet(8, 8);
    let bad = spec(&server, &profile, "job_1").with_header("bad header", "x");
    let refused = fleet.add(bad, quick()).await;
    assert!(matches!(refused, Err(DriverError::Spec(_))), "{refused:?}");
    fleet.idle().await.unwrap();
}

#[tokio::test]
async fn events_taken_later_start_then() {
    let server = jobs_server(4).await;
    let profile = Arc::new(Profile::jobs());
    let fleet = fleet(8, 8);
    let mut job = add_one(&fleet, &server, &profile, "job_1").await;
    let mut events = job.events();
    let mut statuses = Vec::new();
    while let Some(event) = events.recv().await {
        if let Event::StatusChanged { to, .. } = event {
            statuses.push(to);
        }
    }
    assert_eq!(statuses, ["queued", "processing", "completed"]);
    assert!(job.is_finished());
    assert!(job.await.unwrap().is_success());
}

/// A loopback server for Azure-style status URLs: `GET /ops/{n}` has succeeded,
/// except that with `throttle_first`, the first poll is refused with a 429 and
/// `Retry-After: 1`.
async fn operations_server(throttle_first: bool) -> TestServer {
    let refused = std::sync::atomic::AtomicBool::new(!throttle_first);
    TestServer::start(move |_| {
        if !refused.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return Response::new(429, "slow down")
                .header("retry-after", "1")
                .reply();
        }
        Response::json(200, serde_json::json!({"status": "Succeeded"})).reply()
    })
    .await
}

#[tokio::test]
async fn jobs_on_many_origins_leave_no_origin_behind_and_the_throttled_count_follows_them() {
    // 48 origins (loopback ports): 24 polled where the caller says, 24 named by
    // the front server's `Azure-AsyncOperation` answers; the first of those holds
    // back its first poll.
    let direct = futures_util::future::join_all((0..24).map(|_| operations_server(false))).await;
    let mut named = vec![operations_server(true).await];
    named.extend(futures_util::future::join_all((1..24).map(|_| operations_server(false))).await);
    let named_urls: Vec<String> = named.iter().map(|s| s.url("/ops/")).collect();
    let front = TestServer::start(move |request| {
        let n: usize = request.target.rsplit('?').next().unwrap().parse().unwrap();
        Response::new(202, "")
            .header("azure-asyncoperation", &format!("{}{n}", named_urls[n]))
            .reply()
    })
    .await;
    let profile = Arc::new(Profile::azure_operation());
    let specs = direct
        .iter()
        .enumerate()
        .map(|(n, server)| JobSpec {
            profile: Arc::clone(&profile),
            start: Start::Poll {
                status_url: server.url(&format!("/ops/{n}")).parse().unwrap(),
                job_id: None,
            },
            headers: Vec::new(),
        })
        .chain((0..named.len()).map(|n| JobSpec {
            profile: Arc::clone(&profile),
            start: Start::Submit {
                method: http::Method::POST,
                url: front.url(&format!("/ops?{n}")).parse().unwrap(),
                body: None,
            },
            headers: Vec::new(),
        }))
        .collect::<Vec<_>>();
    let jobs = specs.len();
    let fleet = fleet(64, 4);
    let added = fleet.add_many(specs, quick()).await.unwrap();
    // The held origin is one only a server's answer named.
    let mut held = fleet.metrics().await.unwrap();
    let until = Instant::now() + Duration::from_secs(2);
    while held.throttled_origins == 0 && Instant::now() < until {
        tokio::time::sleep(5 * MS).await;
        held = fleet.metrics().await.unwrap();
    }
    assert_eq!(held.throttled_origins, 1, "{held:?}");
    for job in added {
        assert!(job.unwrap().await.unwrap().is_success());
    }
    fleet.idle().await.unwrap();
    let done = fleet.metrics().await.unwrap();
    assert_eq!(done.totals.outcomes["succeeded"], jobs as u64);
    assert_eq!(done.totals.errors["http_429"], 1);
    assert_eq!(
        (
            done.running,
            done.waiting,
            done.in_flight,
            done.throttled_origins,
            done.origins
        ),
        (0, 0, 0, 0, 0),
        "{done:?}"
    );
}
