//! Running seeds: one, many (a soak), or one twice (the determinism check), and
//! writing what a person needs to reproduce a failure.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::faults::Intensity;
use crate::world::{Failure, Sabotage, SimConfig, Summary, World};

/// Arguments shared by `run` and `soak` (and with
/// [`FleetSabotage`](crate::fleet::FleetSabotage) by the fleet commands).
#[derive(Clone, Debug, clap::Args)]
pub struct WorldArgs<S: clap::ValueEnum + Clone + Send + Sync + 'static = Sabotage> {
    /// Jobs started in the fault phase.
    #[arg(long, default_value_t = 100)]
    pub jobs: usize,
    /// How hard the fault phase is.
    #[arg(long, value_enum, default_value_t = Intensity::Heavy)]
    pub intensity: Intensity,
    /// Jobs started in the fault-free liveness phase.
    #[arg(long, default_value_t = 10)]
    pub liveness_jobs: usize,
    /// A deliberate bug, to check that the invariants catch it.
    #[arg(long, value_enum)]
    pub sabotage: Option<S>,
    /// Where to write what reproduces a failure: the trace of a failing job, the
    /// log of a failing fleet run.
    #[arg(long, default_value = "target/sim-failures")]
    pub trace_dir: PathBuf,
}

impl<S: clap::ValueEnum + Clone + Send + Sync + 'static> WorldArgs<S> {
    /// The configuration of seed `seed`.
    pub fn config(&self, seed: u64) -> SimConfig<S> {
        SimConfig {
            seed,
            jobs: self.jobs,
            intensity: self.intensity,
            liveness_jobs: self.liveness_jobs,
            sabotage: self.sabotage.clone(),
        }
    }
}

/// A failed seed, with the commands that reproduce it.
#[derive(Debug)]
pub struct Reproduction {
    /// The failure.
    pub failure: Box<Failure>,
    /// The command that runs the same seed again.
    pub run_command: String,
    /// Where the failing job's trace was written, if it could be.
    pub trace_file: Option<PathBuf>,
    /// The command that replays that trace.
    pub replay_command: Option<String>,
}

impl std::fmt::Display for Reproduction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "invariant broken: {}", self.failure.violation)?;
        writeln!(f, "reproduce the run:   {}", self.run_command)?;
        if let Some(command) = &self.replay_command {
            writeln!(f, "replay the job:      {command}")?;
        }
        Ok(())
    }
}

/// Runs one seed; on failure, writes the failing job's trace into `trace_dir`.
pub fn run_seed(config: SimConfig, trace_dir: &Path) -> Result<Summary, Box<Reproduction>> {
    let run_command = config.command();
    let seed = config.seed;
    World::new(config).run().map_err(|failure| {
        let file = trace_dir.join(format!("seed-{seed}-job-{}.jsonl", failure.violation.job));
        let written = std::fs::create_dir_all(trace_dir).and_then(|()| {
            std::fs::write(&file, jobpoll_core::trace::to_json_lines(&failure.trace))
        });
        let (trace_file, replay_command) = match written {
            Ok(()) => {
                let command = format!(
                    "cargo run --release -p jobpoll-sim -- replay {}",
                    file.display()
                );
                (Some(file), Some(command))
            }
            Err(_) => (None, None),
        };
        Box::new(Reproduction {
            failure,
            run_command,
            trace_file,
            replay_command,
        })
    })
}

/// Totals of a soak.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SoakSummary {
    /// Seeds run.
    pub seeds: u64,
    /// Jobs run.
    pub jobs: usize,
    /// Requests sent.
    pub requests: u64,
    /// Steps (events) processed.
    pub steps: u64,
    /// Outcomes by kind.
    pub outcomes: BTreeMap<String, usize>,
}

impl SoakSummary {
    fn add(&mut self, summary: &Summary) {
        self.count(
            summary.jobs,
            summary.requests,
            summary.steps,
            &summary.outcomes,
        );
    }

    /// Adds one seed's counts.
    pub(crate) fn count(
        &mut self,
        jobs: usize,
        requests: u64,
        steps: u64,
        outcomes: &BTreeMap<String, usize>,
    ) {
        self.seeds += 1;
        self.jobs += jobs;
        self.requests += requests;
        self.steps += steps;
        for (kind, count) in outcomes {
            *self.outcomes.entry(kind.clone()).or_default() += count;
        }
    }
}

/// One indented line per kind of outcome, with its count.
pub(crate) fn write_outcomes(
    f: &mut std::fmt::Formatter<'_>,
    outcomes: &BTreeMap<String, usize>,
) -> std::fmt::Result {
    for (kind, count) in outcomes {
        writeln!(f, "  {kind:<13} {count}")?;
    }
    Ok(())
}

impl std::fmt::Display for SoakSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} seeds, {} jobs, {} requests, {} steps",
            self.seeds, self.jobs, self.requests, self.steps
        )?;
        write_outcomes(f, &self.outcomes)
    }
}

/// Runs seeds `first..first + count`, stopping at the first failure.
pub fn soak(args: &WorldArgs, first: u64, count: u64) -> Result<SoakSummary, Box<Reproduction>> {
    let mut total = SoakSummary::default();
    for seed in first..first.saturating_add(count) {
        let summary = run_seed(args.config(seed), &args.trace_dir)?;
        total.add(&summary);
    }
    Ok(total)
}

/// Runs `seed` twice and compares the hash of every trace record.
pub fn check_determinism(
    config: &SimConfig,
    trace_dir: &Path,
) -> Result<(u64, u64), Box<Reproduction>> {
    let first = run_seed(config.clone(), trace_dir)?;
    let second = run_seed(config.clone(), trace_dir)?;
    Ok((first.trace_hash, second.trace_hash))
}
