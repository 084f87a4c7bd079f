//! What a waiting job of a fleet costs in resident memory. Alone in its test binary:
//! the figure is the whole process's, so nothing else may run beside it.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use jobpoll_core::{Config, JobSpec, Profile, Schedule, Start};
use jobpoll_tokio::{Client, FleetConfig};
use support::{Response, TestServer};

const MS: Duration = Duration::from_millis(1);

/// Resident memory of the process, in bytes (Linux).
fn resident() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Jobs that have polled once and wait a minute for their next poll hold well under
/// 2 KB of resident memory each, the caller's `FleetJob`s included. 5 000 jobs
/// here; `JOBPOLL_FLEET_MEMORY_JOBS=100000 cargo test --release -p jobpoll-tokio
/// --test fleet_memory -- --nocapture` measures more.
///
/// Everything runs on the test's one thread (a current-thread runtime), so that one
/// allocator arena serves it all and the figure is steady.
#[tokio::test]
async fn a_waiting_job_costs_under_two_kilobytes() {
    let jobs: usize = std::env::var("JOBPOLL_FLEET_MEMORY_JOBS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5_000);
    let server = TestServer::start_counting(|request| {
        let id = request.path().rsplit('/').next().unwrap_or("x").to_owned();
        Response::json(
            200,
            serde_json::json!({
                "job_id": id,
                "status": "processing",
                "progress_data": {"percentage": 10, "current_step": "rendering", "estimated_time_remaining": 60}
            }),
        )
        .reply()
    })
    .await;
    let profile = Arc::new(Profile::jobs());
    let config = Arc::new(Config {
        poll: Schedule::Fixed {
            interval: Duration::from_secs(60),
        },
        deadline: Some(Duration::from_secs(600)),
        ..Config::standard()
    });
    let fleet = Client::new()
        .fleet(FleetConfig {
            max_in_flight: 256,
            max_in_flight_per_origin: 256,
            seed: 1,
        })
        .unwrap();
    let add = |count: usize, prefix: &'static str| {
        let (fleet, profile, config, url) = (
            fleet.clone(),
            Arc::clone(&profile),
            config.clone(),
            server.url("/api/v1/jobs/"),
        );
        async move {
            let mut added = Vec::with_capacity(count);
            for n in 0..count {
                let spec = JobSpec {
                    profile: Arc::clone(&profile),
                    start: Start::Poll {
                        status_url: format!("{url}{prefix}_{n}").parse().unwrap(),
                        job_id: None,
                    },
                    headers: Vec::new(),
                };
                added.push(fleet.add(spec, config.clone()).await.unwrap());
            }
            added
        }
    };
    let answered = |count: usize| {
        let fleet = fleet.clone();
        async move {
            loop {
                let metrics = fleet.metrics().await.unwrap();
                if metrics.totals.requests as usize >= count && metrics.in_flight == 0 {
                    break;
                }
                tokio::time::sleep(20 * MS).await;
            }
        }
    };
    // Warm up the allocator, the connections and the fleet's tables.
    let warm = add(1000, "warm").await;
    answered(1000).await;
    let Some(before) = resident() else { return };
    let waiting = add(jobs, "job").await;
    answered(1000 + jobs).await;
    let after = resident().unwrap();
    let per_job = after.saturating_sub(before) / jobs as u64;
    eprintln!("{jobs} jobs: resident memory per waiting job: {per_job} bytes");
    assert!(per_job < 2048, "{per_job} bytes per job");
    assert_eq!(server.served(), 1000 + jobs);
    assert_eq!(fleet.metrics().await.unwrap().running, jobs + 1000);
    // Paused, the stops end the jobs at once, without cancel requests.
    fleet.pause().await.unwrap();
    drop(waiting);
    drop(warm);
    fleet.idle().await.unwrap();
}
