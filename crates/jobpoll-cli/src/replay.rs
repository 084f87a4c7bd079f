//! `jobpoll replay`: feed a recorded trace's inputs to a fresh job and compare.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::exit;

/// Arguments of `jobpoll replay`.
#[derive(clap::Args)]
pub(crate) struct ReplayArgs {
    /// The JSON-lines trace (from `jobpoll wait --trace`, the simulator, or a driver).
    trace: PathBuf,
}

/// Replays the trace; exit 0 when every output matches.
pub(crate) fn replay(args: &ReplayArgs) -> ExitCode {
    let text = match std::fs::read_to_string(&args.trace) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("jobpoll: cannot read {}: {error}", args.trace.display());
            return ExitCode::from(exit::USAGE);
        }
    };
    let records = match jobpoll_core::trace::from_json_lines::<jobpoll_core::Profile>(&text) {
        Ok(records) => records,
        Err(error) => {
            eprintln!("jobpoll: {}: {error}", args.trace.display());
            return ExitCode::from(exit::USAGE);
        }
    };
    match jobpoll_core::trace::replay(&records, &jobpoll_core::trace::Redactor::default()) {
        Ok(Ok(report)) => {
            println!(
                "{}: replayed {} inputs; all {} outputs identical",
                args.trace.display(),
                report.inputs,
                report.outputs
            );
            ExitCode::SUCCESS
        }
        Ok(Err(divergence)) => {
            eprintln!("{}: {divergence}", args.trace.display());
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("jobpoll: {}: {error}", args.trace.display());
            ExitCode::from(exit::USAGE)
        }
    }
}
