//! `jobpoll-sim`: run seeded simulations, replay traces, benchmark policies.

use clap::{Parser, Subcommand};

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
    /// Compare polling schedules on the lognormal workload of the design brief.
    BenchPolicies(jobpoll_sim::policy::BenchArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::BenchPolicies(args) => jobpoll_sim::policy::run_command(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
