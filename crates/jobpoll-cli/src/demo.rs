//! `jobpoll demo`: the reference server in-process on a free loopback port, a
//! handful of jobs of different shapes waited on at once, and beside them a fleet of
//! a couple of hundred jobs in one task.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use indicatif::ProgressBar;
use jobpoll_core::schedule::Adaptive;
use jobpoll_core::{Config, Instant, Jitter, JobSpec, Outcome, Profile, Schedule, Start};
use jobpoll_server::http::{ServeOptions, Server, SharedModel};
use jobpoll_server::model::{ServerModel, Truth};
use jobpoll_server::plan::{Ending, Fault, FaultWindow, JobPlan, Shape};
use jobpoll_tokio::{FleetConfig, FleetHandle, FleetJob, FleetMetrics};

use crate::exit;
use crate::many::Summary;
use crate::report::{Report, show_fleet};
use crate::wait::next_event;

/// Arguments of `jobpoll demo`.
#[derive(clap::Args)]
pub(crate) struct DemoArgs {
    /// Print events as JSON lines instead of progress bars.
    #[arg(long)]
    json: bool,
}

/// One job of the demo.
struct DemoJob {
    label: &'static str,
    shape: Shape,
    plan: JobPlan,
    cancel_after: Option<Duration>,
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn jobs() -> Vec<DemoJob> {
    let plan = |duration: f64| JobPlan {
        duration: secs(duration),
        eta_sigma: Some(0.2),
        ..JobPlan::default()
    };
    vec![
        DemoJob {
            label: "video",
            shape: Shape::Jobs,
            plan: plan(6.0),
            cancel_after: None,
        },
        DemoJob {
            label: "codegen",
            shape: Shape::Codegen,
            plan: plan(5.0),
            cancel_after: None,
        },
        DemoJob {
            label: "image (fails)",
            shape: Shape::FileTasks,
            plan: JobPlan {
                ending: Ending::Fail {
                    message: "out of GPU memory".into(),
                },
                ..plan(4.0)
            },
            cancel_after: None,
        },
        DemoJob {
            label: "429 storm",
            shape: Shape::Jobs,
            plan: JobPlan {
                faults: vec![FaultWindow {
                    from: secs(1.0),
                    until: secs(5.0),
                    fault: Fault::Status {
                        status: 429,
                        retry_after: Some(2),
                    },
                }],
                ..plan(7.0)
            },
            cancel_after: None,
        },
        DemoJob {
            label: "cancelled",
            shape: Shape::Google,
            plan: plan(30.0),
            cancel_after: Some(secs(3.0)),
        },
        DemoJob {
            label: "azure",
            shape: Shape::Azure,
            plan: plan(5.0),
            cancel_after: None,
        },
    ]
}

/// The demo's schedule: adaptive polling (the server reports an ETA), quick retries,
/// one minute at most.
fn config() -> Config {
    Config {
        // The demo's jobs last seconds, not minutes: settle after 1 s, not 9.
        poll: Schedule::adaptive(Adaptive {
            settle: secs(1.0),
            ..Adaptive::standard()
        }),
        retry: Schedule::Exponential {
            initial: secs(0.5),
            multiplier: 2.0,
            max: secs(5.0),
            jitter: Jitter::Equal,
        },
        deadline: Some(secs(60.0)),
        request_time_limit: secs(5.0),
        ..Config::standard()
    }
}

struct Row {
    label: &'static str,
    shape: Shape,
    outcome: Outcome,
    /// Model time at which the client learned the outcome.
    finished_at: Instant,
}

/// Runs the demo; exit 0 when every job ended as planned.
pub(crate) async fn demo(args: DemoArgs) -> ExitCode {
    let model = SharedModel::new(ServeOptions {
        seed: 7,
        ..ServeOptions::default()
    });
    let server = match Server::bind_loopback(model.clone()).await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("jobpoll demo: cannot start the reference server: {error}");
            return ExitCode::from(exit::USAGE);
        }
    };
    eprintln!("jobpoll demo: reference server on {}", server.base_url());
    eprintln!(
        "  page: {}/ (jobs in your browser, while the demo runs; `jobpoll serve` keeps it up)",
        server.base_url()
    );
    let base = server.base_url();
    let client = jobpoll_tokio::Client::new();
    let mut report = Report::new(args.json);
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
    let mut tasks = Vec::new();
    report.align_labels(jobs().iter().map(|job| job.label.len()).max().unwrap_or(0));
    for (index, job) in jobs().into_iter().enumerate() {
        let Ok(spec) = base
            .parse()
            .and_then(|origin| ServerModel::submit_spec(&origin, job.shape, &job.plan))
        else {
            continue;
        };
        let mut config = config();
        config.seed = index as u64;
        let mut handle = match client.start(spec, config) {
            Ok(handle) => handle,
            Err(error) => {
                eprintln!("jobpoll demo: {error}");
                return ExitCode::from(exit::USAGE);
            }
        };
        report.add(job.label);
        let sender = sender.clone();
        let model = model.clone();
        tasks.push(tokio::spawn(async move {
            let mut events = handle.events();
            let mut cancel_at = job
                .cancel_after
                .map(|after| tokio::time::Instant::now() + after);
            let outcome = loop {
                let cancel = async {
                    match cancel_at {
                        Some(at) => tokio::time::sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    event = next_event(&mut events) => match event {
                        Some(event) => { let _ = sender.send((job.label, Message::Event(event))); }
                        // Every event is shown before the outcome: the stream
                        // ends once the job's task is over.
                        None => break (&mut handle).await,
                    },
                    () = cancel => {
                        handle.cancel();
                        cancel_at = None;
                    }
                }
            };
            if let Ok(outcome) = outcome {
                let row = Row {
                    label: job.label,
                    shape: job.shape,
                    outcome,
                    finished_at: model.now(),
                };
                let _ = sender.send((job.label, Message::Done(Box::new(row))));
            }
        }));
    }
    drop(sender);
    let fleet = match start_fleet(&client, &model, &base).await {
        Ok(fleet) => fleet,
        Err(error) => {
            eprintln!("jobpoll demo: {error}");
            return ExitCode::from(exit::USAGE);
        }
    };
    let bar = report.fleet("fleet", fleet.subscriptions.len() as u64);
    let fleet_run = tokio::spawn(run_fleet(fleet, bar));
    let mut rows = Vec::new();
    loop {
        tokio::select! {
            received = receiver.recv() => match received {
                Some((label, Message::Event(event))) => report.event(label, &event),
                Some((label, Message::Done(row))) => {
                    report.outcome(label, &row.outcome);
                    rows.push(*row);
                }
                None => break,
            },
            _ = tokio::signal::ctrl_c() => {
                // No bar is left half drawn: each ends as cancelled.
                report.interrupt();
                return ExitCode::from(exit::CANCELLED);
            }
        }
    }
    for task in tasks {
        let _ = task.await;
    }
    let fleet_result = fleet_run.await.ok();
    print_summary(&rows, &model);
    let fleet_as_planned = match &fleet_result {
        Some((outcomes, metrics)) => {
            print_fleet_summary(outcomes, metrics, args.json);
            outcomes.len() == FLEET_SUBSCRIPTIONS && outcomes.iter().all(Outcome::is_success)
        }
        None => false,
    };
    server.shutdown().await;
    let expected = [
        "succeeded",
        "succeeded",
        "failed",
        "succeeded",
        "cancelled",
        "succeeded",
    ];
    let as_planned = rows.len() == expected.len()
        && jobs().iter().zip(expected).all(|(job, kind)| {
            rows.iter()
                .any(|row| row.label == job.label && row.outcome.kind() == kind)
        });
    if as_planned && fleet_as_planned {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(exit::GAVE_UP)
    }
}

enum Message {
    Event(jobpoll_core::Event),
    Done(Box<Row>),
}

/// The table of the six jobs, in the order their bars were shown, after lines
/// saying what the columns mean.
fn print_summary(rows: &[Row], model: &SharedModel) {
    println!();
    println!("{}", summary_table(rows, &|id| done_at(model, id)));
}

/// When the job `id` ended on the server, if it has.
fn done_at(model: &SharedModel, id: &str) -> Option<Instant> {
    match model.truth(id) {
        Some(Truth::Succeeded { at } | Truth::Failed { at, .. } | Truth::Cancelled { at }) => {
            Some(at)
        }
        _ => None,
    }
}

/// What the columns of the summary table mean.
const COLUMNS: &str = "\
duration: from the start until the client knew the outcome
requests: HTTP requests the client sent for the job
noticed after: how long after the job ended on the server the client knew";

/// The summary table: what its columns mean, a header, then one line per
/// row in the order of the demo's jobs (the order of the bars), whatever order they
/// finished in. `done_at` tells when a job ended on the server.
fn summary_table(rows: &[Row], done_at: &dyn Fn(&str) -> Option<Instant>) -> String {
    let order = jobs();
    let position = |label: &str| order.iter().position(|job| job.label == label);
    let mut sorted: Vec<&Row> = rows.iter().collect();
    sorted.sort_by_key(|row| position(row.label));
    let mut table = format!(
        "{COLUMNS}\n{:<14} {:<10} {:<12} {:>9} {:>9} {:>15}",
        "job", "api", "outcome", "duration", "requests", "noticed after"
    );
    for row in sorted {
        let stats = row.outcome.stats();
        let delay = match stats.job_id.as_deref().and_then(done_at) {
            Some(at) => crate::display::duration(row.finished_at - at),
            None => "-".to_owned(),
        };
        table.push_str(&format!(
            "\n{:<14} {:<10} {:<12} {:>9} {:>9} {:>15}",
            row.label,
            row.shape.profile_name(),
            crate::display::ending(&row.outcome).0,
            crate::display::duration(stats.elapsed),
            stats.requests,
            delay
        ));
    }
    table
}

/// Jobs in the demo's fleet, and how many more subscriptions join one of them
/// (shared polls).
const FLEET_JOBS: usize = 180;
/// Subscriptions in all: every job once, and some twice.
const FLEET_SUBSCRIPTIONS: usize = 200;
/// Requests the fleet has in flight at most.
const FLEET_IN_FLIGHT: u32 = 32;

/// The demo's fleet: jobs created on the server, one subscription each and a second
/// one for some.
struct DemoFleet {
    handle: FleetHandle,
    subscriptions: Vec<FleetJob>,
}

/// Creates the fleet's jobs on the server (1 to 4 s long; the first meets a 429
/// storm with `Retry-After: 1` from 0.5 to 2.5 s, which holds back the whole origin)
/// and subscribes to them.
async fn start_fleet(
    client: &jobpoll_tokio::Client,
    model: &SharedModel,
    base: &str,
) -> Result<DemoFleet, String> {
    let origin: url::Url = base.parse().map_err(|error| format!("{base}: {error}"))?;
    let handle = client
        .fleet(FleetConfig {
            max_in_flight: FLEET_IN_FLIGHT,
            max_in_flight_per_origin: FLEET_IN_FLIGHT,
            seed: 7,
        })
        .map_err(|error| error.to_string())?;
    let profile = Arc::new(Profile::jobs());
    let config = Arc::new(Config {
        poll: Schedule::fixed(secs(0.5)),
        ..config()
    });
    let mut status_urls = Vec::with_capacity(FLEET_JOBS);
    for n in 0..FLEET_JOBS {
        let faults = if n == 0 {
            vec![FaultWindow {
                from: secs(0.5),
                until: secs(2.5),
                fault: Fault::Status {
                    status: 429,
                    retry_after: Some(1),
                },
            }]
        } else {
            Vec::new()
        };
        let plan = JobPlan {
            duration: secs(1.0 + (n % 31) as f64 * 0.1),
            faults,
            ..JobPlan::default()
        };
        let created = model.create(Shape::Jobs, plan);
        let url = origin
            .join(&created.status_path)
            .map_err(|error| format!("{}: {error}", created.status_path))?;
        status_urls.push(url);
    }
    // Every ninth job is followed twice: the second subscription shares its polls.
    let duplicates = status_urls
        .iter()
        .step_by(9)
        .take(FLEET_SUBSCRIPTIONS - FLEET_JOBS)
        .cloned()
        .collect::<Vec<_>>();
    let mut subscriptions = Vec::with_capacity(FLEET_SUBSCRIPTIONS);
    for status_url in status_urls.into_iter().chain(duplicates) {
        let spec = JobSpec {
            profile: Arc::clone(&profile),
            start: Start::Poll {
                status_url,
                job_id: None,
            },
            headers: Vec::new(),
        };
        let job = handle
            .add(spec, config.clone())
            .await
            .map_err(|error| error.to_string())?;
        subscriptions.push(job);
    }
    Ok(DemoFleet {
        handle,
        subscriptions,
    })
}

/// Waits for every job of the fleet, showing its progress on `bar` (on a
/// terminal); the outcomes and the fleet's figures at the end.
async fn run_fleet(fleet: DemoFleet, bar: Option<ProgressBar>) -> (Vec<Outcome>, FleetMetrics) {
    let DemoFleet {
        handle,
        subscriptions,
    } = fleet;
    let mut pending: FuturesUnordered<FleetJob> = subscriptions.into_iter().collect();
    let mut outcomes = Vec::with_capacity(pending.len());
    let mut ticker = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            next = pending.next() => match next {
                Some(Ok(outcome)) => {
                    if let Some(bar) = &bar {
                        bar.inc(1);
                    }
                    outcomes.push(outcome);
                }
                Some(Err(error)) => eprintln!("jobpoll demo: fleet: {error}"),
                None => break,
            },
            _ = ticker.tick(), if bar.is_some() => {
                if let (Some(bar), Ok(metrics)) = (&bar, handle.metrics().await) {
                    show_fleet(bar, &metrics);
                }
            }
        }
    }
    let metrics = handle.metrics().await.unwrap_or_default();
    let _ = handle.shutdown().await;
    if let Some(bar) = &bar {
        bar.finish_with_message(format!("· {} requests", metrics.totals.requests));
    }
    (outcomes, metrics)
}

fn print_fleet_summary(outcomes: &[Outcome], metrics: &FleetMetrics, json: bool) {
    let summary = Summary::new(outcomes.iter(), metrics);
    let throttled = metrics.totals.errors.get("http_429").copied().unwrap_or(0);
    if json {
        let line = serde_json::json!({ "fleet": summary.json(), "throttled_by_429": throttled });
        println!("{line}");
        return;
    }
    println!();
    println!(
        "fleet: {} subscriptions to {} jobs in one task, {FLEET_IN_FLIGHT} requests in flight at most",
        outcomes.len(),
        metrics.totals.jobs,
    );
    println!("{}", summary.text());
    println!(
        "a 429 on one job held back its whole origin {throttled} time{}",
        if throttled == 1 { "" } else { "s" }
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(label: &'static str, outcome: Outcome, finished_at: u64) -> Row {
        Row {
            label,
            shape: Shape::Jobs,
            outcome,
            finished_at: Instant::from_millis(finished_at),
        }
    }

    fn stats(id: &str, millis: u64) -> jobpoll_core::event::Stats {
        jobpoll_core::event::Stats {
            job_id: Some(id.to_owned()),
            elapsed: Duration::from_micros(millis * 1_000 + 547),
            attempts: 3,
            requests: 4,
            ..Default::default()
        }
    }

    #[test]
    fn the_summary_table_explains_its_columns_and_keeps_the_order_of_the_bars() {
        let succeeded = |id: &str, millis| Outcome::Succeeded {
            result: None,
            results: None,
            results_error: None,
            stats: stats(id, millis),
        };
        // In the order they finished: the failing image first.
        let rows = [
            row(
                "image (fails)",
                Outcome::Failed {
                    message: "out of GPU memory".into(),
                    details: None,
                    stats: stats("i", 4_100),
                },
                4_300,
            ),
            row("codegen", succeeded("c", 5_200), 5_450),
            row("video", succeeded("v", 65_000), 65_100),
        ];
        let table = summary_table(&rows, &|id| match id {
            "v" => Some(Instant::from_millis(65_000)),
            "i" => Some(Instant::from_millis(4_000)),
            _ => None,
        });
        assert!(table.starts_with("duration: "), "{table}");
        assert!(table.contains("\nrequests: "), "{table}");
        assert!(table.contains("\nnoticed after: "), "{table}");
        let lines: Vec<&str> = table.lines().skip(2).collect();
        assert!(lines[1].starts_with("job "), "{table}");
        let labels: Vec<&str> = lines[2..]
            .iter()
            .map(|line| line.split("  ").next().unwrap_or_default())
            .collect();
        assert_eq!(labels, ["video", "codegen", "image (fails)"], "{table}");
        assert!(
            lines[2].contains(" 1m 05s ") && lines[2].ends_with("100ms"),
            "{table}"
        );
        assert!(lines[3].ends_with(" -"), "{table}");
        assert!(
            lines[4].contains(" failed ") && lines[4].contains(" 4s "),
            "{table}"
        );
        assert!(!table.contains(".547"), "{table}");
    }
}
