//! `jobpoll demo`: the reference server in-process on a free loopback port, and a
//! handful of jobs of different shapes waited on at once.

use std::process::ExitCode;
use std::time::Duration;

use jobpoll_core::schedule::Adaptive;
use jobpoll_core::{Config, Instant, Jitter, Outcome, Schedule};
use jobpoll_server::http::{ServeOptions, Server, SharedModel};
use jobpoll_server::model::{ServerModel, Truth};
use jobpoll_server::plan::{Ending, Fault, FaultWindow, JobPlan, Shape};

use crate::exit;
use crate::report::Report;
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
        request_timeout: secs(5.0),
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
    let base = server.base_url();
    let client = jobpoll_tokio::Client::new();
    let mut report = Report::new(args.json);
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
    let mut tasks = Vec::new();
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
                        None => break (&mut handle).await,
                    },
                    () = cancel => {
                        handle.cancel();
                        cancel_at = None;
                    }
                    outcome = &mut handle => break outcome,
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
    let mut rows = Vec::new();
    while let Some((label, message)) = receiver.recv().await {
        match message {
            Message::Event(event) => report.event(label, &event),
            Message::Done(row) => {
                report.outcome(label, &row.outcome);
                rows.push(*row);
            }
        }
    }
    for task in tasks {
        let _ = task.await;
    }
    print_summary(&rows, &model);
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
    if as_planned {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(exit::GAVE_UP)
    }
}

enum Message {
    Event(jobpoll_core::Event),
    Done(Box<Row>),
}

fn print_summary(rows: &[Row], model: &SharedModel) {
    println!();
    println!(
        "{:<14} {:<10} {:<12} {:>9} {:>9} {:>16}",
        "job", "api", "outcome", "duration", "requests", "seen after done"
    );
    for row in rows {
        let stats = row.outcome.stats();
        let done_at = stats
            .job_id
            .as_deref()
            .and_then(|id| match model.truth(id) {
                Some(
                    Truth::Succeeded { at } | Truth::Failed { at, .. } | Truth::Cancelled { at },
                ) => Some(at),
                _ => None,
            });
        let delay = match done_at {
            Some(at) => jobpoll_core::time::format_duration(row.finished_at - at),
            None => "-".to_owned(),
        };
        println!(
            "{:<14} {:<10} {:<12} {:>9} {:>9} {:>16}",
            row.label,
            row.shape.profile_name(),
            row.outcome.kind(),
            jobpoll_core::time::format_duration(stats.elapsed),
            stats.requests,
            delay
        );
    }
}
