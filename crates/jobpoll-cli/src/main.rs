//! `jobpoll`: wait on long-running HTTP jobs from the command line.
//!
//! Exit codes: 0 succeeded, 1 the job failed, 2 usage, 3 timed out, 4 cancelled,
//! 5 unauthorized / rejected / not found, 6 gave up after errors, 7 could not
//! connect to the server at all, 8 the result could not be written. With many jobs,
//! 0 only if all succeeded, else the most severe code among them (`docs/cli.md`).

mod cancel;
mod demo;
mod display;
mod durations;
mod exit;
mod flags;
mod headers;
mod json_lines;
mod logging;
mod many;
mod net;
mod output;
mod replay;
mod report;
mod serve;
mod status;
mod wait;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "jobpoll",
    version,
    about = "Wait on long-running HTTP jobs, done right"
)]
struct Cli {
    /// Show each HTTP exchange on stderr (method, URL, status, hint headers,
    /// time; secrets masked); -vv shows more. RUST_LOG, when set, wins.
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Wait on jobs that exist: poll their status URLs until they end.
    Wait(wait::WaitArgs),
    /// Create a job (or --count N jobs) with a POST, then wait.
    Submit(wait::SubmitArgs),
    /// Read a status URL once with a profile and show what the job sees
    /// (--explain: what each field of the profile found).
    Status(status::StatusArgs),
    /// Cancel a job: send the profile's cancel request for the job at a status URL
    /// and show the server's answer.
    Cancel(cancel::CancelArgs),
    /// Run the reference job server (every API shape, with fault injection).
    Serve(serve::ServeArgs),
    /// Replay a recorded trace and report the first divergence.
    Replay(replay::ReplayArgs),
    /// Start the reference server in-process and wait on a handful of jobs and a fleet.
    Demo(demo::DemoArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("jobpoll: cannot start the async runtime: {error}");
            return ExitCode::from(exit::USAGE);
        }
    };
    runtime.block_on(async move {
        match cli.command {
            Command::Wait(args) => wait::wait(args).await,
            Command::Submit(args) => wait::submit(args).await,
            Command::Status(args) => status::status(args).await,
            Command::Cancel(args) => cancel::cancel(args).await,
            Command::Serve(args) => serve::serve(args).await,
            Command::Replay(args) => replay::replay(&args),
            Command::Demo(args) => demo::demo(args).await,
        }
    })
}
