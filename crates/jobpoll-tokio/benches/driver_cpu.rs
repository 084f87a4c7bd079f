//! CPU per completed job: the driver against a hand-written reqwest polling loop.
//!
//! `cargo bench -p jobpoll-tokio --bench driver_cpu`
//!
//! Both run the same batch: 200 jobs at once, each polled every 2 ms until it
//! completes on its fifth status poll (queued, processing x3, completed), against
//! the same loopback test server. The server runs on its own runtime and threads;
//! the client side runs on a current-thread runtime on the benchmark thread, and
//! what is measured is that thread's CPU time (`/proc/thread-self/schedstat`), so
//! the figure is the client's CPU per batch: divide by 200 for one job.
//!
//! After criterion's two measurements, the benchmark runs both again interleaved
//! (driver, loop, loop, driver, ... for 50 rounds each, after a warm-up) and prints
//! the median CPU per job of each and their ratio: on a shared machine, the paired
//! comparison is steadier than two measurements taken a minute apart.
//!
//! For profilers: `JOBPOLL_BENCH_ONLY=driver` (or `loop`) runs only that side,
//! `JOBPOLL_BENCH_BATCHES` times (100 by default), after criterion's runs; pass a
//! filter that matches nothing (`nothing`) to skip those. Figures and the callgrind
//! breakdown are in `docs/benchmarks.md`.
// criterion_group! generates undocumented public items.
#![allow(missing_docs, clippy::unwrap_used)]

mod common;
#[path = "../tests/support/mod.rs"]
mod support;

use common::{stat_ticks, thread_cpu};

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group};
use jobpoll_core::{Config, JobSpec, Profile, Schedule};
use support::{JobsApi, TestServer};

const JOBS: u64 = 200;
const POLLS: u32 = 5;
const INTERVAL: Duration = Duration::from_millis(2);

static NEXT_JOB: AtomicU64 = AtomicU64::new(0);

fn config() -> Config {
    Config {
        poll: Schedule::Fixed { interval: INTERVAL },
        retry: Schedule::Fixed { interval: INTERVAL },
        request_time_limit: Duration::from_secs(5),
        deadline: Some(Duration::from_secs(60)),
        ..Config::fast()
    }
}

fn job_urls(base: &str) -> Vec<String> {
    (0..JOBS)
        .map(|_| {
            let id = NEXT_JOB.fetch_add(1, Ordering::Relaxed);
            format!("{base}/api/v1/jobs/job_{id}")
        })
        .collect()
}

/// The driver: one `Client::start` per job, then await every handle.
async fn driver_batch(client: &jobpoll_tokio::Client, base: &str) {
    let handles: Vec<_> = job_urls(base)
        .into_iter()
        .map(|url| {
            let spec = JobSpec::poll(Profile::jobs(), url.parse().unwrap());
            let mut handle = client.start(spec, config()).unwrap();
            drop(handle.events()); // nobody reads them
            handle
        })
        .collect();
    for handle in handles {
        let outcome = handle.await.unwrap();
        assert!(outcome.is_success(), "{outcome}");
        black_box(outcome);
    }
}

/// What one would write by hand: GET, read the body, parse the JSON, look at
/// `status`, sleep, repeat. A task per job, like the driver.
async fn hand_loop(http: reqwest::Client, url: String) -> serde_json::Value {
    loop {
        let answer = tokio::time::timeout(Duration::from_secs(5), async {
            let response = http.get(&url).send().await?;
            let status = response.status();
            let body = response.bytes().await?;
            Ok::<_, reqwest::Error>((status, body))
        })
        .await;
        if let Ok(Ok((status, body))) = answer
            && status.is_success()
            && let Ok(value) = serde_json::from_slice::<serde_json::Value>(&body)
        {
            match value.get("status").and_then(|s| s.as_str()) {
                Some("completed") => return value["result_data"].clone(),
                Some("failed" | "cancelled") => panic!("job ended: {value}"),
                _ => {}
            }
        }
        tokio::time::sleep(INTERVAL).await;
    }
}

async fn hand_batch(http: &reqwest::Client, base: &str) {
    let tasks: Vec<_> = job_urls(base)
        .into_iter()
        .map(|url| tokio::spawn(hand_loop(http.clone(), url)))
        .collect();
    for task in tasks {
        black_box(task.await.unwrap());
    }
}

/// The server on its own runtime and threads (not measured); the clients on a
/// current-thread runtime on the calling thread, the one whose CPU is measured.
struct Setup {
    server_runtime: tokio::runtime::Runtime,
    server: TestServer,
    base: String,
    runtime: tokio::runtime::Runtime,
    client: jobpoll_tokio::Client,
    http: reqwest::Client,
}

impl Setup {
    fn new() -> Setup {
        let server_runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let server = server_runtime.block_on(async {
            let api = JobsApi::new(POLLS);
            TestServer::start(move |request| api.handle(request)).await
        });
        let base = server.url("");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let client = runtime.block_on(async { jobpoll_tokio::Client::new() });
        let http = reqwest::Client::builder()
            .user_agent(jobpoll_tokio::DEFAULT_USER_AGENT)
            .build()
            .unwrap();
        Setup {
            server_runtime,
            server,
            base,
            runtime,
            client,
            http,
        }
    }

    fn finish(self) {
        drop(self.server);
        self.server_runtime.shutdown_timeout(Duration::from_secs(1));
    }
}

/// This thread's CPU time over `iters` runs of `batch`.
fn cpu_of<F: std::future::Future>(
    runtime: &tokio::runtime::Runtime,
    iters: u64,
    batch: impl Fn() -> F,
) -> Duration {
    let mut cpu = Duration::ZERO;
    for _ in 0..iters {
        let before = thread_cpu();
        runtime.block_on(batch());
        cpu += thread_cpu() - before;
    }
    cpu
}

fn driver_cpu(c: &mut Criterion) {
    let setup = Setup::new();
    let Setup {
        runtime,
        client,
        http,
        base,
        ..
    } = &setup;
    let mut group = c.benchmark_group(format!("cpu per batch of {JOBS} jobs x {POLLS} polls"));
    group.throughput(Throughput::Elements(JOBS));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(15));
    group.bench_function("jobpoll-tokio driver", |b| {
        b.iter_custom(|iters| cpu_of(runtime, iters, || driver_batch(client, base)));
    });
    group.bench_function("hand-written reqwest loop", |b| {
        b.iter_custom(|iters| cpu_of(runtime, iters, || hand_batch(http, base)));
    });
    group.finish();
    setup.finish();
}

/// Both variants in alternation (ABBA), same process, same warm connections.
fn interleaved() {
    const ROUNDS: usize = 50;
    let setup = Setup::new();
    let Setup {
        runtime,
        client,
        http,
        base,
        ..
    } = &setup;
    let ticks = std::cell::Cell::new([(0u64, 0u64); 2]);
    let add_ticks = |which: usize, before: (u64, u64)| {
        let after = stat_ticks("/proc/thread-self/stat");
        let mut all = ticks.get();
        all[which].0 += after.0 - before.0;
        all[which].1 += after.1 - before.1;
        ticks.set(all);
    };
    let driver = |runtime: &tokio::runtime::Runtime| {
        let (before, before_ticks) = (thread_cpu(), stat_ticks("/proc/thread-self/stat"));
        runtime.block_on(driver_batch(client, base));
        let cpu = thread_cpu() - before;
        add_ticks(0, before_ticks);
        cpu
    };
    let hand = |runtime: &tokio::runtime::Runtime| {
        let (before, before_ticks) = (thread_cpu(), stat_ticks("/proc/thread-self/stat"));
        runtime.block_on(hand_batch(http, base));
        let cpu = thread_cpu() - before;
        add_ticks(1, before_ticks);
        cpu
    };
    // For profiling one side: JOBPOLL_BENCH_ONLY=driver|loop runs just that,
    // JOBPOLL_BENCH_BATCHES times (100 unless set).
    let batches = std::env::var("JOBPOLL_BENCH_BATCHES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    match std::env::var("JOBPOLL_BENCH_ONLY").as_deref() {
        Ok("driver") => {
            return (0..batches).for_each(|_| {
                driver(runtime);
            });
        }
        Ok("loop") => {
            return (0..batches).for_each(|_| {
                hand(runtime);
            });
        }
        _ => {}
    }
    for _ in 0..5 {
        driver(runtime);
        hand(runtime);
    }
    ticks.set([(0, 0); 2]);
    let mut driver_cpu = Vec::new();
    let mut hand_cpu = Vec::new();
    for round in 0..ROUNDS {
        if round % 2 == 0 {
            driver_cpu.push(driver(runtime));
            hand_cpu.push(hand(runtime));
        } else {
            hand_cpu.push(hand(runtime));
            driver_cpu.push(driver(runtime));
        }
    }
    let per_job = |cpu: &mut Vec<Duration>| {
        cpu.sort();
        let median = cpu[cpu.len() / 2];
        let mean = cpu.iter().sum::<Duration>() / cpu.len() as u32;
        (median / JOBS as u32, mean / JOBS as u32)
    };
    let (driver_median, driver_mean) = per_job(&mut driver_cpu);
    let (hand_median, hand_mean) = per_job(&mut hand_cpu);
    println!();
    println!(
        "interleaved, {ROUNDS} batches each of {JOBS} jobs x {POLLS} polls, client CPU per completed job:"
    );
    println!(
        "  jobpoll-tokio driver      median {driver_median:>10.1?}  mean {driver_mean:>10.1?}"
    );
    println!("  hand-written reqwest loop median {hand_median:>10.1?}  mean {hand_mean:>10.1?}");
    println!(
        "  driver / loop: median {:+.1} %, mean {:+.1} %",
        (driver_median.as_secs_f64() / hand_median.as_secs_f64() - 1.0) * 100.0,
        (driver_mean.as_secs_f64() / hand_mean.as_secs_f64() - 1.0) * 100.0
    );
    let [(driver_user, driver_system), (hand_user, hand_system)] = ticks.get();
    println!(
        "  user/system split (ticks of 10 ms, all rounds): driver {driver_user}/{driver_system}, loop {hand_user}/{hand_system}"
    );
    setup.finish();
}

criterion_group!(benches, driver_cpu);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // `cargo bench -- NAME` filters criterion's runs; the paired run always comes.
    interleaved();
}
