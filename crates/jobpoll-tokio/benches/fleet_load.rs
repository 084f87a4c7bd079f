//! The fleet under load: 100 000 concurrent jobs against the reference server on
//! loopback, next to a task-per-job reqwest loop doing the same work.
//!
//! `cargo bench -p jobpoll-tokio --bench fleet_load`
//!
//! Three processes, so that each figure belongs to one side:
//!
//! - the reference server (`jobpoll_server::http`, the model behind axum) runs in a
//!   process of its own, on a multi-thread runtime, at `127.0.0.1:0`; it creates
//!   the jobs directly in its model when the client asks (one line on its standard
//!   input) and prints their status paths;
//! - each client variant runs in a fresh process of its own (so that neither
//!   inherits the other's allocator state), on one current-thread runtime on its
//!   main thread, and measures only itself;
//! - the process `cargo bench` starts runs the clients one after the other and
//!   prints the table.
//!
//! The two variants:
//!
//! - **fleet**: `Client::fleet` with `max_in_flight` (256 unless set) over the fleet
//!   and per origin, the jobs added with `FleetHandle::add_many` in batches of
//!   1 000 (the `jobs` profile, one shared `Arc<Config>` polling at a fixed
//!   interval), then every `FleetJob` awaited;
//! - **loop**: one `tokio::spawn` per job running what one would write by hand:
//!   GET, read the body, parse the JSON, look at `status`, sleep, repeat; a
//!   `tokio::sync::Semaphore` with as many permits as the fleet's `max_in_flight`
//!   bounds the requests in flight, so the server sees the same load. Same reqwest
//!   version, features and settings (the driver's `User-Agent`, no cookies), same
//!   request time limit.
//!
//! Each client first warms up (2 000 jobs that are complete at their first poll:
//! this opens the connections and grows the runtime's and the allocator's tables),
//! then asks the server for N fresh jobs (`JOBPOLL_BENCH_JOBS`, default 100 000),
//! each of which completes 1.5 poll intervals after its creation: polled at once,
//! then every interval, it answers its third poll with `completed`, as long as the
//! first round of polls takes less than half an interval. The interval is
//! `JOBPOLL_BENCH_INTERVAL_S` seconds, by default 0.3 ms per job and at least 5 s
//! (30 s for 100 000 jobs), so that every job has been polled once and waits while
//! the memory is read.
//!
//! Figures:
//!
//! - **resident bytes per waiting job**: once every job has been answered once and
//!   no request is in flight, the process's resident memory (`/proc/self/statm`)
//!   minus the figure taken after the warm-up, just before the jobs were added,
//!   divided by N. Each job's status URL is in memory (as a `String`) before the
//!   baseline in both variants; what a variant builds from it counts. The
//!   allocator reuses what the warm-up freed (a few MB), so with only a few
//!   thousand jobs the figure is too low to mean much;
//! - **CPU per request**: the client thread's CPU time (`/proc/thread-self/
//!   schedstat`) from the first add to the last outcome (adding the jobs
//!   included), divided by the requests sent in that time. The process's CPU
//!   (`/proc/self/stat`, 10 ms ticks) is printed beside it as a check that nothing
//!   ran on another thread, and the server process's CPU per request for context;
//! - **sockets** open in the client while the jobs wait: at most 256 requests in
//!   flight means at most about 256 connections, whatever the number of jobs, so
//!   the default open-file limit is enough.
//!
//! `JOBPOLL_BENCH_ROUNDS=2` runs fleet, loop, loop, fleet (ABBA) and sums CPU and
//! requests per variant; `JOBPOLL_BENCH_MAX_IN_FLIGHT` changes the concurrency
//! bound; `JOBPOLL_BENCH_SERVER_THREADS` the server's worker threads (2 unless
//! set).
//!
//! One client alone, for a profiler: run the bench binary (`cargo bench -p
//! jobpoll-tokio --bench fleet_load --no-run` prints its path) with
//! `JOBPOLL_BENCH_ROLE=fleet` (or `loop`); it prints its `RESULT` line. The
//! measured part is the function `fleet_load::measure`, e.g. `valgrind
//! --tool=callgrind --toggle-collect='fleet_load::measure'` (with a longer
//! `JOBPOLL_BENCH_INTERVAL_S`: under valgrind the first round of polls is slow).
//! Figures are in `docs/benchmarks.md`.
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

/// Jobs per `add_many` call.
const ADD_BATCH: usize = 1_000;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader, BufWriter, Write as _};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use jobpoll_core::{Config, FirstPoll, JobSpec, Profile, Schedule, Start};
use jobpoll_server::http::{ServeOptions, Server, SharedModel};
use jobpoll_server::plan::{JobPlan, Shape};
use jobpoll_tokio::{FleetConfig, FleetHandle, FleetJob};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use url::Url;

use common::{stat_ticks, thread_cpu};

/// Which process this is: `server`, `fleet`, `loop`, or unset for the one that
/// runs the others.
const ROLE: &str = "JOBPOLL_BENCH_ROLE";
/// Jobs of the warm-up, complete at their first poll.
const WARM_UP_JOBS: usize = 2_000;
/// Time allowed for one request, in both variants.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Bytes per page of `/proc/self/statm`.
const PAGE: u64 = 4096;
/// Clock ticks per second of `/proc/*/stat`.
const TICKS_PER_SECOND: u64 = 100;

fn main() {
    match std::env::var(ROLE).as_deref() {
        Ok("server") => server(),
        Ok("fleet") => client(Variant::Fleet),
        Ok("loop") => client(Variant::Loop),
        _ => run_all(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variant {
    Fleet,
    Loop,
}

impl Variant {
    fn role(self) -> &'static str {
        match self {
            Variant::Fleet => "fleet",
            Variant::Loop => "loop",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Variant::Fleet => "jobpoll-tokio fleet",
            Variant::Loop => "task-per-job loop",
        }
    }
}

/// What the environment asks for.
struct Settings {
    jobs: usize,
    interval: Duration,
    max_in_flight: u32,
    rounds: usize,
    server_threads: usize,
}

impl Settings {
    fn from_env() -> Settings {
        fn number<T: std::str::FromStr>(name: &str) -> Option<T> {
            let value = std::env::var(name).ok()?;
            Some(
                value
                    .replace('_', "")
                    .parse()
                    .unwrap_or_else(|_| panic!("{name}={value:?} is not a number")),
            )
        }
        let jobs = number("JOBPOLL_BENCH_JOBS").unwrap_or(100_000usize).max(1);
        let interval = number::<f64>("JOBPOLL_BENCH_INTERVAL_S").map_or_else(
            || Duration::from_micros(300 * jobs as u64).max(Duration::from_secs(5)),
            Duration::from_secs_f64,
        );
        Settings {
            jobs,
            interval,
            max_in_flight: number("JOBPOLL_BENCH_MAX_IN_FLIGHT")
                .unwrap_or(256u32)
                .max(1),
            rounds: number("JOBPOLL_BENCH_ROUNDS").unwrap_or(1usize).max(1),
            server_threads: number("JOBPOLL_BENCH_SERVER_THREADS")
                .unwrap_or(2usize)
                .max(1),
        }
    }

    /// How long each measured job runs on the server: it completes between its
    /// second and third poll.
    fn job_length(&self) -> Duration {
        self.interval * 3 / 2
    }
}

// ---------------------------------------------------------------------------
// The server process.

/// Serves the reference model on `127.0.0.1:0`; prints `listening URL`, then
/// answers `create COUNT MICROS` on standard input with COUNT status paths of new
/// `jobs`-shape jobs that run MICROS each, then `end`. Stops at the end of input.
fn server() {
    let settings = Settings::from_env();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(settings.server_threads)
        .enable_all()
        .build()
        .unwrap();
    let (model, server) = runtime.block_on(async {
        let model = SharedModel::new(ServeOptions::default());
        let server = Server::bind_loopback(model.clone()).await.unwrap();
        (model, server)
    });
    let stdout = std::io::stdout();
    writeln!(stdout.lock(), "listening {}", server.base_url()).unwrap();
    for line in std::io::stdin().lines() {
        let line = line.unwrap();
        let words: Vec<&str> = line.split_whitespace().collect();
        let ["create", count, micros] = words[..] else {
            panic!("server: unknown command {line:?}");
        };
        let count: usize = count.parse().unwrap();
        let plan = JobPlan {
            duration: Duration::from_micros(micros.parse().unwrap()),
            ..JobPlan::default()
        };
        let mut out = BufWriter::new(stdout.lock());
        for _ in 0..count {
            writeln!(
                out,
                "{}",
                model.create(Shape::Jobs, plan.clone()).status_path
            )
            .unwrap();
        }
        writeln!(out, "end").unwrap();
        out.flush().unwrap();
    }
    runtime.block_on(server.shutdown());
}

/// The client's end of the server process.
struct ServerProcess {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
    base: String,
}

impl ServerProcess {
    fn spawn() -> ServerProcess {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env(ROLE, "server")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let input = child.stdin.take().unwrap();
        let mut output = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        output.read_line(&mut line).unwrap();
        let base = line
            .trim()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("server said {line:?}"))
            .to_owned();
        ServerProcess {
            child,
            input,
            output,
            base,
        }
    }

    /// Creates `count` jobs that run `length` each, now; their status URLs.
    fn create(&mut self, count: usize, length: Duration) -> Vec<String> {
        writeln!(self.input, "create {count} {}", length.as_micros()).unwrap();
        self.input.flush().unwrap();
        let mut urls = Vec::with_capacity(count);
        let mut line = String::new();
        loop {
            line.clear();
            assert!(self.output.read_line(&mut line).unwrap() > 0, "server gone");
            let path = line.trim_end();
            if path == "end" {
                break;
            }
            urls.push(format!("{}{path}", self.base));
        }
        assert_eq!(urls.len(), count);
        urls
    }

    /// The server process's CPU time so far.
    fn cpu(&self) -> Duration {
        process_cpu(&format!("/proc/{}/stat", self.child.id()))
    }

    fn stop(mut self) {
        drop(self.input);
        self.child.wait().unwrap();
    }
}

// ---------------------------------------------------------------------------
// Measuring.

/// User plus system CPU time of a process, from its `stat` file (10 ms ticks).
fn process_cpu(path: &str) -> Duration {
    let (user, system) = stat_ticks(path);
    Duration::from_millis((user + system) * 1000 / TICKS_PER_SECOND)
}

/// Sockets this process holds open.
fn sockets() -> u64 {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter(|target| target.to_string_lossy().starts_with("socket:"))
        .count() as u64
}

/// Resident memory of this process, in bytes.
fn resident() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * PAGE
}

// ---------------------------------------------------------------------------
// The two clients.

/// Requests sent and failed by the hand-written loop.
#[derive(Default)]
struct Counts {
    requests: AtomicU64,
    errors: AtomicU64,
}

/// One client variant, ready to take jobs.
enum Side {
    Fleet {
        fleet: FleetHandle,
        profile: Arc<Profile>,
        config: Arc<Config>,
    },
    Loop {
        http: reqwest::Client,
        limit: Arc<Semaphore>,
        max_in_flight: u32,
        counts: Arc<Counts>,
        interval: Duration,
    },
}

/// The jobs a side is running.
enum Running {
    Fleet(Vec<FleetJob>),
    Loop(Vec<JoinHandle<bool>>),
}

impl Running {
    /// Jobs that have no outcome yet.
    fn waiting(&self) -> usize {
        match self {
            Running::Fleet(jobs) => jobs.iter().filter(|job| !job.is_finished()).count(),
            Running::Loop(tasks) => tasks.iter().filter(|task| !task.is_finished()).count(),
        }
    }
}

/// Requests sent so far, requests in flight now, failed requests so far.
struct Traffic {
    requests: u64,
    in_flight: u64,
    errors: u64,
}

impl Side {
    fn new(variant: Variant, settings: &Settings) -> Side {
        match variant {
            Variant::Fleet => {
                let fleet = jobpoll_tokio::Client::new()
                    .fleet(FleetConfig {
                        max_in_flight: settings.max_in_flight,
                        max_in_flight_per_origin: settings.max_in_flight,
                        seed: 1,
                    })
                    .unwrap();
                let every = Schedule::Fixed {
                    interval: settings.interval,
                };
                let config = Config {
                    poll: every.clone(),
                    retry: every,
                    first_poll: FirstPoll::Immediately,
                    request_time_limit: REQUEST_TIMEOUT,
                    deadline: Some(settings.interval * 10 + Duration::from_secs(60)),
                    ..Config::standard()
                };
                Side::Fleet {
                    fleet,
                    profile: Arc::new(Profile::jobs()),
                    config: Arc::new(config),
                }
            }
            Variant::Loop => Side::Loop {
                // What `jobpoll_tokio::Client::new()` builds.
                http: reqwest::Client::builder()
                    .user_agent(jobpoll_tokio::DEFAULT_USER_AGENT)
                    .cookie_store(false)
                    .build()
                    .unwrap(),
                limit: Arc::new(Semaphore::new(settings.max_in_flight as usize)),
                max_in_flight: settings.max_in_flight,
                counts: Arc::default(),
                interval: settings.interval,
            },
        }
    }

    /// Starts a job for every URL.
    async fn add(&self, urls: &[String]) -> Running {
        match self {
            Side::Fleet {
                fleet,
                profile,
                config,
            } => {
                let mut jobs = Vec::with_capacity(urls.len());
                for batch in urls.chunks(ADD_BATCH) {
                    let specs = batch.iter().map(|url| JobSpec {
                        profile: Arc::clone(profile),
                        start: Start::Poll {
                            status_url: url.parse().unwrap(),
                            job_id: None,
                        },
                        headers: Vec::new(),
                    });
                    let added = fleet.add_many(specs, Arc::clone(config)).await.unwrap();
                    jobs.extend(added.into_iter().map(Result::unwrap));
                }
                Running::Fleet(jobs)
            }
            Side::Loop {
                http,
                limit,
                counts,
                interval,
                ..
            } => Running::Loop(
                urls.iter()
                    .map(|url| {
                        tokio::spawn(hand_loop(
                            http.clone(),
                            url.parse().unwrap(),
                            Arc::clone(limit),
                            Arc::clone(counts),
                            *interval,
                        ))
                    })
                    .collect(),
            ),
        }
    }

    async fn traffic(&self) -> Traffic {
        match self {
            Side::Fleet { fleet, .. } => {
                let metrics = fleet.metrics().await.unwrap();
                Traffic {
                    requests: metrics.totals.requests,
                    in_flight: u64::from(metrics.in_flight),
                    errors: metrics.totals.errors.values().sum(),
                }
            }
            Side::Loop {
                limit,
                max_in_flight,
                counts,
                ..
            } => Traffic {
                requests: counts.requests.load(Ordering::Relaxed),
                in_flight: u64::from(*max_in_flight) - limit.available_permits() as u64,
                errors: counts.errors.load(Ordering::Relaxed),
            },
        }
    }

    /// Waits until `requests` requests have been sent and none is in flight.
    async fn settle(&self, requests: u64) {
        loop {
            let traffic = self.traffic().await;
            if traffic.requests >= requests && traffic.in_flight == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Awaits every job; how many succeeded.
    async fn finish(running: Running) -> usize {
        let mut succeeded = 0;
        match running {
            Running::Fleet(jobs) => {
                for job in jobs {
                    succeeded += usize::from(job.await.unwrap().is_success());
                }
            }
            Running::Loop(tasks) => {
                for task in tasks {
                    succeeded += usize::from(task.await.unwrap());
                }
            }
        }
        succeeded
    }
}

/// What one would write by hand: GET, read the body, parse the JSON, look at
/// `status`, sleep, repeat; at most as many requests in flight as `limit` has
/// permits. Whether the job succeeded.
async fn hand_loop(
    http: reqwest::Client,
    url: Url,
    limit: Arc<Semaphore>,
    counts: Arc<Counts>,
    interval: Duration,
) -> bool {
    loop {
        let answer = {
            let _permit = limit.acquire().await.unwrap();
            counts.requests.fetch_add(1, Ordering::Relaxed);
            tokio::time::timeout(REQUEST_TIMEOUT, async {
                let response = http.get(url.clone()).send().await?;
                let status = response.status();
                let body = response.bytes().await?;
                Ok::<_, reqwest::Error>((status, body))
            })
            .await
        };
        match answer {
            Ok(Ok((status, body))) if status.is_success() => {
                match serde_json::from_slice::<serde_json::Value>(&body) {
                    Ok(value) => match value.get("status").and_then(|s| s.as_str()) {
                        Some("completed") => return true,
                        Some("failed" | "cancelled") => return false,
                        _ => {}
                    },
                    Err(_) => {
                        counts.errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            _ => {
                counts.errors.fetch_add(1, Ordering::Relaxed);
            }
        }
        tokio::time::sleep(interval).await;
    }
}

/// A client process: warm up, then N jobs, measured; prints one `RESULT` line.
fn client(variant: Variant) {
    let settings = Settings::from_env();
    let mut server = ServerProcess::spawn();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let side = runtime.block_on(async {
        let side = Side::new(variant, &settings);
        let warm_up = server.create(WARM_UP_JOBS, Duration::ZERO);
        let running = side.add(&warm_up).await;
        assert_eq!(Side::finish(running).await, WARM_UP_JOBS);
        side
    });
    // The measured jobs start on the server now.
    let urls = server.create(settings.jobs, settings.job_length());
    let result = measure(&runtime, &side, &server, &urls);
    println!("{result}");
    drop(side);
    drop(runtime);
    server.stop();
}

/// The measured part of a client's run: every job in `urls`, from the first add to
/// the last outcome. Its own function, so that a profiler can be pointed at it
/// (`valgrind --tool=callgrind --toggle-collect='fleet_load::measure'`).
#[inline(never)]
fn measure(
    runtime: &tokio::runtime::Runtime,
    side: &Side,
    server: &ServerProcess,
    urls: &[String],
) -> String {
    let jobs = urls.len() as u64;
    let base = resident();
    let (cpu, process, server_cpu) = (thread_cpu(), process_cpu("/proc/self/stat"), server.cpu());
    let start = Instant::now();
    let mut figures = runtime.block_on(async {
        let before = side.traffic().await;
        let running = side.add(urls).await;
        let added = start.elapsed();
        side.settle(before.requests + jobs).await;
        let first_round = start.elapsed();
        let waiting_resident = resident();
        let waiting = running.waiting();
        let sockets = sockets();
        let succeeded = Side::finish(running).await;
        let wall = start.elapsed();
        let after = side.traffic().await;
        vec![
            ("jobs", jobs),
            ("succeeded", succeeded as u64),
            ("waiting", waiting as u64),
            ("sockets", sockets),
            ("requests", after.requests - before.requests),
            ("errors", after.errors - before.errors),
            ("added_us", added.as_micros() as u64),
            ("first_round_us", first_round.as_micros() as u64),
            ("wall_us", wall.as_micros() as u64),
            ("resident_base", base),
            ("resident_waiting", waiting_resident),
        ]
    });
    figures.extend([
        ("cpu_ns", (thread_cpu() - cpu).as_nanos() as u64),
        (
            "process_cpu_ns",
            (process_cpu("/proc/self/stat") - process).as_nanos() as u64,
        ),
        (
            "server_cpu_ns",
            (server.cpu() - server_cpu).as_nanos() as u64,
        ),
    ]);
    let mut line = String::from("RESULT");
    for (key, value) in figures {
        write!(line, " {key}={value}").unwrap();
    }
    line
}

// ---------------------------------------------------------------------------
// The process `cargo bench` starts.

/// One client run's figures.
struct Run {
    variant: Variant,
    values: BTreeMap<String, u64>,
}

impl Run {
    fn get(&self, key: &str) -> u64 {
        self.values[key]
    }

    fn per_request(&self, key: &str) -> Duration {
        Duration::from_nanos(self.get(key) / self.get("requests").max(1))
    }

    fn resident_per_job(&self) -> i64 {
        (self.get("resident_waiting") as i64 - self.get("resident_base") as i64)
            / self.get("jobs") as i64
    }
}

fn run_client(variant: Variant) -> Run {
    eprintln!("fleet_load: running the {} ...", variant.label());
    let output = Command::new(std::env::current_exe().unwrap())
        .env(ROLE, variant.role())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(output.status.success(), "the {variant:?} client failed");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix("RESULT "))
        .unwrap_or_else(|| panic!("no result from the {variant:?} client: {stdout}"));
    let values = line
        .split_whitespace()
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap();
            (key.to_owned(), value.parse().unwrap())
        })
        .collect();
    Run { variant, values }
}

fn run_all() {
    let settings = Settings::from_env();
    let order: Vec<Variant> = (0..settings.rounds)
        .flat_map(|round| {
            if round % 2 == 0 {
                [Variant::Fleet, Variant::Loop]
            } else {
                [Variant::Loop, Variant::Fleet]
            }
        })
        .collect();
    let runs: Vec<Run> = order.into_iter().map(run_client).collect();

    let seconds = |micros: u64| Duration::from_micros(micros).as_secs_f64();
    println!();
    println!(
        "fleet_load: {} jobs on the reference server (own process, {} threads) at 127.0.0.1, \
         polled every {:.1} s, each completing {:.1} s after its creation (3 polls); \
         at most {} requests in flight; client on one current-thread runtime",
        settings.jobs,
        settings.server_threads,
        settings.interval.as_secs_f64(),
        settings.job_length().as_secs_f64(),
        settings.max_in_flight,
    );
    println!();
    println!(
        "{:<21} {:>7} {:>8} {:>6} {:>7} {:>7} {:>8} {:>8} {:>8} {:>9} {:>9} {:>9} {:>10}",
        "variant",
        "jobs",
        "requests",
        "errors",
        "sockets",
        "added",
        "1st poll",
        "wall",
        "client",
        "CPU/req",
        "proc/req",
        "resident",
        "server/req",
    );
    println!(
        "{:<21} {:>7} {:>8} {:>6} {:>7} {:>7} {:>8} {:>8} {:>8} {:>9} {:>9} {:>9} {:>10}",
        "", "", "", "", "", "s", "all, s", "s", "CPU, s", "µs", "µs", "B/job", "µs",
    );
    for run in &runs {
        println!(
            "{:<21} {:>7} {:>8} {:>6} {:>7} {:>7.2} {:>8.2} {:>8.2} {:>8.2} {:>9.2} {:>9.2} {:>9} {:>10.2}",
            run.variant.label(),
            run.get("jobs"),
            run.get("requests"),
            run.get("errors"),
            run.get("sockets"),
            seconds(run.get("added_us")),
            seconds(run.get("first_round_us")),
            seconds(run.get("wall_us")),
            Duration::from_nanos(run.get("cpu_ns")).as_secs_f64(),
            run.per_request("cpu_ns").as_secs_f64() * 1e6,
            run.per_request("process_cpu_ns").as_secs_f64() * 1e6,
            run.resident_per_job(),
            run.per_request("server_cpu_ns").as_secs_f64() * 1e6,
        );
        if run.get("succeeded") != run.get("jobs") || run.get("waiting") != run.get("jobs") {
            println!(
                "  ! {} of {} jobs succeeded; {} were waiting when the memory was read",
                run.get("succeeded"),
                run.get("jobs"),
                run.get("waiting"),
            );
        }
        if run.get("requests") != 3 * run.get("jobs") {
            println!(
                "  ! {} requests for {} jobs, not 3 each: the first round of polls took \
                 more than half an interval (raise JOBPOLL_BENCH_INTERVAL_S)",
                run.get("requests"),
                run.get("jobs"),
            );
        }
    }
    println!(
        "added: time to add every job; 1st poll: until every job had its first answer; \
         client CPU: the client thread's, first add to last outcome; CPU/req: that per request; \
         proc/req: the client process's (10 ms ticks) per request; resident: bytes per waiting \
         job; server/req: the server process's CPU per request; sockets: open in the client \
         while the jobs wait"
    );
    // Per variant: CPU and requests summed over its runs, resident bytes averaged.
    let total = |variant: Variant| {
        let mine: Vec<&Run> = runs.iter().filter(|run| run.variant == variant).collect();
        let cpu: u64 = mine.iter().map(|run| run.get("cpu_ns")).sum();
        let requests: u64 = mine.iter().map(|run| run.get("requests")).sum();
        let resident: i64 =
            mine.iter().map(|run| run.resident_per_job()).sum::<i64>() / mine.len() as i64;
        (cpu as f64 / requests as f64 / 1e3, resident)
    };
    let (fleet_cpu, fleet_resident) = total(Variant::Fleet);
    let (loop_cpu, loop_resident) = total(Variant::Loop);
    println!();
    println!(
        "fleet / loop: client CPU per request {fleet_cpu:.2} / {loop_cpu:.2} µs = {:.3} ({:+.1} %); \
         resident per waiting job {fleet_resident} / {loop_resident} B = {:.3}",
        fleet_cpu / loop_cpu,
        (fleet_cpu / loop_cpu - 1.0) * 100.0,
        fleet_resident as f64 / loop_resident as f64,
    );
    println!(
        "targets: fleet resident per waiting job at most 2048 B: {}; fleet CPU per request \
         no worse than the loop's: {}",
        if fleet_resident <= 2048 {
            "met"
        } else {
            "MISSED"
        },
        if fleet_cpu <= loop_cpu {
            "met"
        } else {
            "MISSED"
        },
    );
}
