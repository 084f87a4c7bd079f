//! `jobpoll-sim`: run seeded simulations, replay traces, benchmark policies.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use jobpoll_sim::fleet::{
    FleetArgs, fleet_check_determinism, fleet_soak, run_fleet_logged, run_fleet_seed_in,
};
use jobpoll_sim::run::{WorldArgs, check_determinism, run_seed, soak};

#[derive(Parser)]
#[command(
    name = "jobpoll-sim",
    version,
    about = "Deterministic simulator for jobpoll"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one seed: jobs against the model server under its fault plan, checking
    /// every invariant after every step.
    Run {
        /// The root seed.
        #[arg(long)]
        seed: u64,
        #[command(flatten)]
        world: WorldArgs,
    },
    /// Run many seeds; stop at the first failure and print how to reproduce it.
    Soak {
        /// Number of seeds.
        #[arg(long, default_value_t = 200)]
        seeds: u64,
        /// The first seed (the default picks one from the clock and prints it).
        #[arg(long)]
        first_seed: Option<u64>,
        #[command(flatten)]
        world: WorldArgs,
    },
    /// Run a seed twice and compare a hash of the whole trace.
    CheckDeterminism {
        /// The root seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[command(flatten)]
        world: WorldArgs,
    },
    /// Replay a recorded trace (from the simulator or a real run) and report the
    /// first divergence.
    Replay {
        /// The JSON-lines trace file.
        trace: std::path::PathBuf,
    },
    /// Compare polling schedules on a lognormal mixture of job durations.
    BenchPolicies(jobpoll_sim::policy::BenchArgs),
    /// Many jobs on one rate-limited origin that answers 429 with Retry-After:
    /// requests and 429s per job, as separate clients and as one fleet.
    Storm(jobpoll_sim::storm::StormArgs),
    /// Run many fleet seeds (one fleet runs every job of a seed, on several
    /// origins), or with `--check-determinism` one seed twice.
    Fleet {
        /// Number of seeds.
        #[arg(long, default_value_t = 100)]
        seeds: u64,
        /// The first seed (the default picks one from the clock and prints it).
        #[arg(long)]
        first_seed: Option<u64>,
        /// Run `--seed` twice and compare a hash of every fleet output instead.
        #[arg(long)]
        check_determinism: bool,
        /// The seed of `--check-determinism`.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[command(flatten)]
        fleet: FleetArgs,
    },
    /// Run one fleet seed and print what it did.
    FleetRun {
        /// The root seed.
        #[arg(long)]
        seed: u64,
        /// Print one line per fleet call and output.
        #[arg(long)]
        log: bool,
        #[command(flatten)]
        fleet: FleetArgs,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Run { seed, world } => match run_seed(world.config(seed), &world.trace_dir) {
            Ok(summary) => {
                println!(
                    "seed {seed}: {} jobs, {} requests, outcomes {:?}",
                    summary.jobs, summary.requests, summary.outcomes
                );
                ExitCode::SUCCESS
            }
            Err(reproduction) => {
                eprint!("seed {seed}: {reproduction}");
                ExitCode::FAILURE
            }
        },
        Command::Soak {
            seeds,
            first_seed,
            world,
        } => {
            let first = first_seed.unwrap_or_else(clock_seed);
            println!(
                "soak: seeds {first}..{} ({} jobs each, {:?} faults)",
                first + seeds,
                world.jobs,
                world.intensity
            );
            match soak(&world, first, seeds) {
                Ok(total) => {
                    print!("{total}");
                    ExitCode::SUCCESS
                }
                Err(reproduction) => {
                    eprint!("{reproduction}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::CheckDeterminism { seed, world } => determinism(
            &format!("seed {seed}"),
            "trace",
            check_determinism(&world.config(seed), &world.trace_dir),
        ),
        Command::Replay { trace } => replay(&trace),
        Command::Fleet {
            seeds,
            first_seed,
            check_determinism,
            seed,
            fleet,
        } => {
            if check_determinism {
                return determinism(
                    &format!("fleet seed {seed}"),
                    "output",
                    fleet_check_determinism(&fleet.config(seed)),
                );
            }
            let first = first_seed.unwrap_or_else(clock_seed);
            println!(
                "fleet soak: seeds {first}..{} ({} jobs each, {:?} faults)",
                first + seeds,
                fleet.jobs,
                fleet.intensity
            );
            let started = std::time::Instant::now();
            match fleet_soak(&fleet, first, seeds) {
                Ok(total) => {
                    print!("{total}");
                    println!("elapsed {:.2} s", started.elapsed().as_secs_f64());
                    ExitCode::SUCCESS
                }
                Err(failure) => {
                    eprint!("{failure}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::FleetRun { seed, log, fleet } => {
            let config = fleet.config(seed);
            let (result, lines) = if log {
                run_fleet_logged(config, true)
            } else {
                (run_fleet_seed_in(config, &fleet.trace_dir), Vec::new())
            };
            for line in &lines {
                println!("{line}");
            }
            match result {
                Ok(summary) => {
                    print!("fleet seed {seed}: {summary}");
                    ExitCode::SUCCESS
                }
                Err(failure) => {
                    eprint!("fleet seed {seed}: {}{failure}", failure.summary);
                    ExitCode::FAILURE
                }
            }
        }
        Command::Storm(args) => match jobpoll_sim::storm::run_command(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::FAILURE
            }
        },
        Command::BenchPolicies(args) => match jobpoll_sim::policy::run_command(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::FAILURE
            }
        },
    }
}

/// Reports a determinism check: the two hashes of one seed's runs (`what` names
/// the seed, `hashed` what the hash covers), or the failure of a run.
fn determinism<E: std::fmt::Display>(
    what: &str,
    hashed: &str,
    result: Result<(u64, u64), E>,
) -> ExitCode {
    match result {
        Ok((a, b)) if a == b => {
            println!("{what}: deterministic ({hashed} hash {a:016x} twice)");
            ExitCode::SUCCESS
        }
        Ok((a, b)) => {
            eprintln!("{what}: NOT deterministic: {hashed} hash {a:016x} then {b:016x}");
            ExitCode::FAILURE
        }
        Err(failure) => {
            eprint!("{failure}");
            ExitCode::FAILURE
        }
    }
}

fn replay(path: &std::path::Path) -> ExitCode {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("cannot read {}: {error}", path.display());
            return ExitCode::from(2);
        }
    };
    let records = match jobpoll_core::trace::from_json_lines::<jobpoll_core::Profile>(&text) {
        Ok(records) => records,
        Err(error) => {
            eprintln!("{}: {error}", path.display());
            return ExitCode::from(2);
        }
    };
    match jobpoll_core::trace::replay(&records, &jobpoll_core::trace::Redactor::default()) {
        Ok(Ok(report)) => {
            println!(
                "{}: replayed {} inputs, {} outputs identical",
                path.display(),
                report.inputs,
                report.outputs
            );
            ExitCode::SUCCESS
        }
        Ok(Err(divergence)) => {
            eprintln!("{}: {divergence}", path.display());
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("{}: {error}", path.display());
            ExitCode::from(2)
        }
    }
}

/// A seed for a soak that was not given one: from the clock, printed so that the
/// run can be repeated.
fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
