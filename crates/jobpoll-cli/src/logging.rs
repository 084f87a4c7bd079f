//! `-v`: the HTTP exchanges on stderr, through `tracing`.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

/// What `-v` shows: each request and answer of the driver (method, URL, status,
/// hint headers, time), secrets masked.
const VERBOSE: &str = "jobpoll_tokio=debug,jobpoll=debug";
/// What `-vv` shows: also each event of each job, and the driver's finer steps.
const VERY_VERBOSE: &str = "jobpoll_tokio=trace,jobpoll=trace,jobpoll_core=trace";

/// Sends logs to stderr: at the level `RUST_LOG` asks for when it is set (it wins
/// over `-v`), else as `verbose` asks (`-v`: the HTTP exchanges, `-vv`: more);
/// nothing without either.
pub(crate) fn init(verbose: u8) {
    let from_env = std::env::var("RUST_LOG")
        .ok()
        .filter(|value| !value.trim().is_empty());
    let filter = match (from_env, verbose) {
        (Some(directives), _) => match EnvFilter::try_new(&directives) {
            Ok(filter) => filter,
            Err(error) => {
                eprintln!("jobpoll: RUST_LOG={directives:?} is not understood ({error}); ignored");
                return;
            }
        },
        (None, 0) => return,
        (None, 1) => EnvFilter::new(VERBOSE),
        (None, _) => EnvFilter::new(VERY_VERBOSE),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
