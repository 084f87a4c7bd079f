//! The polling-efficiency benchmark (`jobpoll-sim bench-policies`).
//!
//! 20 000 jobs (by default) with durations from a lognormal mixture
//! ([`workload`]), each run once per policy against a tiny deterministic status
//! endpoint ([`responder`]) with zero latency, no deadline, and the first poll at
//! once (`FirstPoll::Immediately`, for every policy). Every policy runs through a
//! real [`jobpoll_core::Job`] with the `jobs` profile ([`drive::run_job`]): the
//! baselines, the core's adaptive schedule with [`Adaptive::standard`] (the tuned
//! one, `docs/adaptive.md`), and the same schedule with the [`naive_adaptive`]
//! parameters it had before tuning, kept as a reference point.
//!
//! Per policy: mean and p95 of the detection delay (time of the first response that
//! says "completed", minus the job's duration) divided by the job's duration, and
//! mean and p95 of the status requests per job. The table goes to stdout, the same
//! figures to a CSV file, and an SVG chart of requests against p95 delay.
//!
//! Everything is determined by `--jobs` and `--seed`: the work is split across
//! threads in fixed blocks whose results are put back in job order, so the figures
//! do not depend on the number of threads or on their scheduling.

pub mod chart;
pub mod drive;
pub mod metrics;
pub mod responder;
pub mod workload;

use core::time::Duration;
use std::sync::atomic::{AtomicUsize, Ordering};

use jobpoll_core::Schedule;
use jobpoll_core::schedule::Adaptive;

use self::chart::{Group, Point, Target};
use self::drive::JobResult;
use self::metrics::Summary;
use self::responder::Hints;
use self::workload::JobCase;

/// Arguments of `jobpoll-sim bench-policies`.
#[derive(Clone, Debug, clap::Args)]
pub struct BenchArgs {
    /// Number of jobs.
    #[arg(long, default_value_t = 20_000)]
    pub jobs: usize,
    /// Root seed of the workload.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where to write the CSV table.
    #[arg(long, default_value = "target/policy-bench.csv")]
    pub csv: std::path::PathBuf,
    /// Where to write the SVG chart.
    #[arg(long, default_value = "target/policy-bench.svg")]
    pub svg: std::path::PathBuf,
}

/// One benchmarked policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// Name in the table and the CSV.
    pub name: &'static str,
    /// Label on the chart.
    pub short: &'static str,
    /// Colour on the chart.
    pub group: Group,
    /// What the status bodies tell the client.
    pub hints: Hints,
    /// The job's poll schedule.
    pub schedule: Schedule,
}

impl Policy {
    /// Runs one job under this policy, through a real [`jobpoll_core::Job`].
    pub fn run(&self, case: &JobCase) -> Result<JobResult, String> {
        drive::run_job(&self.schedule, case, self.hints)
    }
}

/// A p95 target on this workload: at most `max_requests` per job (mean) at a p95
/// relative delay of at most `max_p95_rel_delay`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Goal {
    /// The policy it applies to.
    pub policy: &'static str,
    /// Most requests per job (mean).
    pub max_requests: f64,
    /// Largest p95 relative delay (fraction).
    pub max_p95_rel_delay: f64,
}

impl Goal {
    /// Whether `summary` meets the goal.
    pub fn met_by(&self, summary: &Summary) -> bool {
        summary.mean_requests <= self.max_requests
            && summary.p95_rel_delay <= self.max_p95_rel_delay
    }
}

/// Name of the standard adaptive schedule without hints.
pub const STANDARD_NO_HINTS: &str = "adaptive (standard), no hints";
/// Name of the standard adaptive schedule with an ETA of sigma 0.3.
pub const STANDARD_ETA_03: &str = "adaptive (standard), ETA sigma 0.3";

/// The targets [`Adaptive::standard`] was tuned to.
pub const GOALS: [Goal; 2] = [
    Goal {
        policy: STANDARD_ETA_03,
        max_requests: 6.0,
        max_p95_rel_delay: 0.08,
    },
    Goal {
        policy: STANDARD_NO_HINTS,
        max_requests: 25.0,
        max_p95_rel_delay: 0.12,
    },
];

const SECOND: Duration = Duration::from_secs(1);

/// The adaptive rule as the core first had it, before tuning: between 1 s and
/// 5 min, 80 % of the estimated remaining time, else 10 % of the job's age, with no
/// approach term and no settle time. A reference point that shows what the tuning
/// of [`Adaptive::standard`] gained.
pub fn naive_adaptive() -> Adaptive {
    Adaptive {
        min: SECOND,
        max: 300 * SECOND,
        remaining_fraction: 0.8,
        approach_fraction: 0.0,
        age_fraction: 0.1,
        settle: Duration::ZERO,
    }
}

/// The benchmarked policies, in table order. Every policy polls first at once.
/// Baselines get status bodies with the progress percentage (which they ignore).
pub fn policies() -> Vec<Policy> {
    let baseline = |name, short, schedule| Policy {
        name,
        short,
        group: Group::Baseline,
        hints: Hints::Progress,
        schedule,
    };
    let eta3 = Hints::Eta { sigma: 0.3 };
    let eta5 = Hints::Eta { sigma: 0.5 };
    let naive = |name, short, hints| Policy {
        name,
        short,
        group: Group::NaiveAdaptive,
        hints,
        schedule: Schedule::adaptive(naive_adaptive()),
    };
    let standard = |name, short, hints| Policy {
        name,
        short,
        group: Group::Standard,
        hints,
        schedule: Schedule::adaptive(Adaptive::standard()),
    };
    vec![
        baseline("fixed 2 s", "fixed 2 s", Schedule::fixed(2 * SECOND)),
        baseline(
            "progressive 1/2/5/10 s",
            "progressive 1/2/5/10 s",
            Schedule::progressive(),
        ),
        baseline(
            "exponential 30 s x1.5 cap 5 min",
            "exponential 30 s x1.5",
            Schedule::standard(),
        ),
        baseline(
            "AWS waiter 2-120 s",
            "AWS waiter 2-120 s",
            Schedule::waiter(2 * SECOND, 120 * SECOND),
        ),
        baseline(
            "Google 5 s x1.5 cap 45 s",
            "Google 5 s x1.5 cap 45 s",
            Schedule::exponential(5 * SECOND, 1.5, 45 * SECOND),
        ),
        baseline(
            "Azure fixed 30 s",
            "Azure 30 s",
            Schedule::fixed(30 * SECOND),
        ),
        naive("adaptive (naive), no hints", "naive: no hints", Hints::None),
        naive(
            "adaptive (naive), progress slope",
            "naive: slope",
            Hints::Progress,
        ),
        naive("adaptive (naive), ETA sigma 0.3", "naive: ETA 0.3", eta3),
        naive("adaptive (naive), ETA sigma 0.5", "naive: ETA 0.5", eta5),
        standard(STANDARD_NO_HINTS, "standard: no hints", Hints::None),
        standard(
            "adaptive (standard), progress slope",
            "standard: slope",
            Hints::Progress,
        ),
        standard(STANDARD_ETA_03, "standard: ETA 0.3", eta3),
        standard(
            "adaptive (standard), ETA sigma 0.5",
            "standard: ETA 0.5",
            eta5,
        ),
    ]
}

/// Jobs per unit of work handed to a thread.
const BLOCK: usize = 250;

/// Runs every case under every policy on `threads` threads and summarizes each
/// policy. The result does not depend on `threads`: each (policy, block of jobs)
/// unit is computed independently and put back in place.
pub fn run_policies(
    cases: &[JobCase],
    policies: &[Policy],
    threads: usize,
) -> Result<Vec<Summary>, String> {
    let results = run_results(cases, policies, threads)?;
    Ok(results
        .iter()
        .map(|per_job| metrics::summarize(cases, per_job))
        .collect())
}

/// Per policy, the result of every case in order.
pub fn run_results(
    cases: &[JobCase],
    policies: &[Policy],
    threads: usize,
) -> Result<Vec<Vec<JobResult>>, String> {
    let blocks = cases.len().div_ceil(BLOCK);
    let units = policies.len() * blocks;
    let next = AtomicUsize::new(0);
    let work = || -> Result<Vec<(usize, usize, Vec<JobResult>)>, String> {
        let mut done = Vec::new();
        loop {
            let unit = next.fetch_add(1, Ordering::Relaxed);
            if unit >= units {
                return Ok(done);
            }
            let (policy, block) = (unit / blocks, unit % blocks);
            let end = ((block + 1) * BLOCK).min(cases.len());
            let results = cases[block * BLOCK..end]
                .iter()
                .map(|case| policies[policy].run(case))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("{}: {e}", policies[policy].name))?;
            done.push((policy, block, results));
        }
    };
    let finished: Vec<Result<_, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads.max(1)).map(|_| scope.spawn(work)).collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a benchmark thread panicked".to_owned()))
            })
            .collect()
    });
    let mut slots: Vec<Vec<Option<Vec<JobResult>>>> = vec![vec![None; blocks]; policies.len()];
    for part in finished {
        for (policy, block, results) in part? {
            slots[policy][block] = Some(results);
        }
    }
    slots
        .into_iter()
        .map(|blocks| {
            blocks
                .into_iter()
                .map(|b| b.ok_or_else(|| "a block of jobs was not run".to_owned()))
                .collect::<Result<Vec<_>, _>>()
                .map(|b| b.concat())
        })
        .collect()
}

/// One line of the table.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The policy.
    pub policy: Policy,
    /// Its figures.
    pub summary: Summary,
}

/// The table printed on stdout.
pub fn table(rows: &[Row]) -> String {
    let width = rows
        .iter()
        .map(|r| r.policy.name.len())
        .max()
        .unwrap_or(0)
        .max(6);
    let mut out = format!(
        "{:<width$}  {:<12}  {:>9}  {:>9}  {:>9}  {:>8}\n",
        "policy", "hints", "mean rel", "p95 rel", "mean req", "p95 req"
    );
    out.push_str(&"-".repeat(width + 2 + 12 + 2 + 9 + 2 + 9 + 2 + 9 + 2 + 8));
    out.push('\n');
    for row in rows {
        let s = &row.summary;
        out.push_str(&format!(
            "{:<width$}  {:<12}  {:>8.2}%  {:>8.2}%  {:>9.2}  {:>8.0}\n",
            row.policy.name,
            row.policy.hints.label(),
            s.mean_rel_delay * 100.0,
            s.p95_rel_delay * 100.0,
            s.mean_requests,
            s.p95_requests,
        ));
    }
    out
}

/// The same figures as CSV (relative delays as fractions, not percent).
pub fn csv(rows: &[Row]) -> String {
    let mut out = String::from(
        "policy,hints,first_poll,mean_rel_delay,p95_rel_delay,mean_requests,p95_requests\n",
    );
    for row in rows {
        let s = &row.summary;
        out.push_str(&format!(
            "{},{},immediately,{:.6},{:.6},{:.4},{}\n",
            csv_field(row.policy.name),
            csv_field(&row.policy.hints.label()),
            s.mean_rel_delay,
            s.p95_rel_delay,
            s.mean_requests,
            s.p95_requests,
        ));
    }
    out
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// The chart of the rows.
pub fn svg(rows: &[Row], jobs: usize, seed: u64) -> String {
    let points: Vec<Point> = rows
        .iter()
        .map(|row| Point {
            label: row.policy.short.to_owned(),
            group: row.policy.group,
            requests: row.summary.mean_requests,
            p95_rel_delay: row.summary.p95_rel_delay,
        })
        .collect();
    let targets: Vec<Target> = GOALS
        .iter()
        .map(|goal| Target {
            label: format!(
                "{} target: {} req, p95 {} %",
                if goal.policy == STANDARD_NO_HINTS {
                    "no-hint"
                } else {
                    "ETA 0.3"
                },
                goal.max_requests,
                goal.max_p95_rel_delay * 100.0
            ),
            requests: goal.max_requests,
            p95_rel_delay: goal.max_p95_rel_delay,
        })
        .collect();
    let subtitle = format!(
        "{jobs} jobs, lognormal mixture 40 % 15 s / 35 % 180 s / 25 % 900 s, 5 s - 90 min, seed {seed}; first poll at once, zero latency"
    );
    chart::render(
        "Polling policies: requests per job against p95 relative detection delay",
        &subtitle,
        &points,
        &targets,
    )
}

/// Runs the benchmark and prints the table.
pub fn run_command(args: &BenchArgs) -> Result<(), Box<dyn std::error::Error>> {
    let started = std::time::Instant::now();
    let cases = workload::generate(args.jobs, args.seed);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let policies = policies();
    let summaries = run_policies(&cases, &policies, threads)?;
    let rows: Vec<Row> = policies
        .into_iter()
        .zip(summaries)
        .map(|(policy, summary)| Row { policy, summary })
        .collect();
    let elapsed = started.elapsed();

    println!("{}", workload_line(&cases));
    println!();
    print!("{}", table(&rows));
    println!();
    for goal in GOALS {
        if let Some(row) = rows.iter().find(|r| r.policy.name == goal.policy) {
            println!(
                "target {}: <= {} requests at p95 <= {} %: {} ({:.2} requests, p95 {:.2} %)",
                goal.policy,
                goal.max_requests,
                goal.max_p95_rel_delay * 100.0,
                if goal.met_by(&row.summary) {
                    "met"
                } else {
                    "MISSED"
                },
                row.summary.mean_requests,
                row.summary.p95_rel_delay * 100.0
            );
        }
    }
    for (path, text) in [
        (&args.csv, csv(&rows)),
        (&args.svg, svg(&rows, args.jobs, args.seed)),
    ] {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    println!(
        "wrote {} and {}; {} jobs x {} policies in {:.1} s on {threads} threads",
        args.csv.display(),
        args.svg.display(),
        cases.len(),
        rows.len(),
        elapsed.as_secs_f64()
    );
    Ok(())
}

/// One line describing the workload that was drawn.
fn workload_line(cases: &[JobCase]) -> String {
    let mut counts = [0usize; workload::MIXTURE.len()];
    for case in cases {
        counts[case.component] += 1;
    }
    let secs: Vec<f64> = cases.iter().map(JobCase::duration_secs).collect();
    let (min, max) = secs.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &s| {
        (lo.min(s), hi.max(s))
    });
    format!(
        "workload: {} jobs ({} / {} / {} from the 15 s / 180 s / 900 s components), durations {:.1} s to {:.1} s, mean {:.1} s, median {:.1} s (truncated to 5 s - 90 min by redrawing)",
        cases.len(),
        counts[0],
        counts[1],
        counts[2],
        if cases.is_empty() { 0.0 } else { min },
        max,
        metrics::mean(&secs),
        metrics::quantile(&secs, 0.5),
    )
}
