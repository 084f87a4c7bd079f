//! `jobpoll serve`: the reference job server over HTTP.

use std::process::ExitCode;
use std::time::Duration;

use jobpoll_server::http::{Page, ServeOptions, Server, SharedModel};
use jobpoll_server::model::{RateLimit, ServerConfig};
use jobpoll_server::plan::{Fault, FaultWindow};

use crate::exit;

/// Arguments of `jobpoll serve`.
#[derive(clap::Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8765, or a free port when 8765 is
    /// taken].
    #[arg(long, value_name = "ADDR")]
    listen: Option<std::net::SocketAddr>,
    /// Seed of the server's randomness (ETA errors).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Rate limit over all requests, as `BURST/PER_SECOND` (e.g. `20/5`).
    #[arg(long)]
    rate_limit: Option<String>,
    /// Require `Authorization: Bearer TOKEN`.
    #[arg(long)]
    token: Option<String>,
    /// A fault for every job created, by job age: `STATUS@FROM-UNTIL` (e.g.
    /// `503@2s-5s`), `429:RETRY_AFTER@FROM-UNTIL`, `malformed@FROM-UNTIL`,
    /// `unknown-status@FROM-UNTIL`, `oversized:BYTES@FROM-UNTIL`. Repeatable.
    #[arg(long = "fault")]
    faults: Vec<String>,
    /// Serve the page at `/` from DIR (`index.html`, `page.js`, `page.css`, the
    /// browser package under `pkg/`, each file read at every request) instead of
    /// the built-in copy; a file missing there comes from the built-in copy.
    #[arg(long, value_name = "DIR")]
    page_dir: Option<std::path::PathBuf>,
}

/// Runs the server until Ctrl-C.
pub(crate) async fn serve(args: ServeArgs) -> ExitCode {
    let options = match options(&args) {
        Ok(options) => options,
        Err(error) => {
            eprintln!("jobpoll serve: {error}");
            return ExitCode::from(exit::USAGE);
        }
    };
    let page = match &args.page_dir {
        Some(dir) => match Page::from_dir(dir) {
            Ok(page) => page,
            Err(error) => {
                eprintln!("jobpoll serve: --page-dir: {error}");
                return ExitCode::from(exit::USAGE);
            }
        },
        None => Page::embedded(),
    };
    let listener = match listen(args.listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("jobpoll serve: {error}");
            return ExitCode::from(exit::USAGE);
        }
    };
    let server = match Server::start_with_page(listener, SharedModel::new(options), page).await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("jobpoll serve: {error}");
            return ExitCode::from(exit::USAGE);
        }
    };
    eprintln!(
        "jobpoll serve: listening on {} (Ctrl-C to stop)",
        server.base_url()
    );
    eprintln!(
        "  try: jobpoll submit {}/api/v1/demo-job",
        server.base_url()
    );
    eprintln!("  page: {}/ (jobs in your browser)", server.base_url());
    let _ = tokio::signal::ctrl_c().await;
    server.shutdown().await;
    ExitCode::SUCCESS
}

/// The address `serve` listens on without `--listen`.
pub(crate) const DEFAULT_LISTEN: std::net::SocketAddr = std::net::SocketAddr::V4(
    std::net::SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, 8765),
);

/// A listener on `listen`; without one, on [`DEFAULT_LISTEN`], or on a free
/// loopback port (saying so) when that port is taken.
async fn listen(listen: Option<std::net::SocketAddr>) -> Result<tokio::net::TcpListener, String> {
    let address = listen.unwrap_or(DEFAULT_LISTEN);
    match tokio::net::TcpListener::bind(address).await {
        Ok(listener) => Ok(listener),
        Err(error) if listen.is_none() && error.kind() == std::io::ErrorKind::AddrInUse => {
            let free = std::net::SocketAddr::new(address.ip(), 0);
            let listener = tokio::net::TcpListener::bind(free).await.map_err(|error| {
                format!("cannot listen on a free port of {}: {error}", address.ip())
            })?;
            eprintln!(
                "jobpoll serve: {address} is in use; listening on a free port instead \
                 (--listen ADDR chooses one)"
            );
            Ok(listener)
        }
        Err(error) => Err(format!("cannot listen on {address}: {error}")),
    }
}

fn options(args: &ServeArgs) -> Result<ServeOptions, String> {
    let rate_limit = args
        .rate_limit
        .as_deref()
        .map(|text| {
            let (burst, per_second) = text
                .split_once('/')
                .ok_or_else(|| format!("rate limit {text:?} must look like BURST/PER_SECOND"))?;
            let burst = burst
                .trim()
                .parse()
                .map_err(|_| format!("bad burst in {text:?}"))?;
            let per_second: f64 = per_second
                .trim()
                .parse()
                .map_err(|_| format!("bad rate in {text:?}"))?;
            if per_second.is_finite() && per_second > 0.0 {
                Ok(RateLimit { burst, per_second })
            } else {
                Err(format!("the rate in {text:?} must be a positive number"))
            }
        })
        .transpose()?;
    let default_faults = args
        .faults
        .iter()
        .map(|text| parse_fault(text))
        .collect::<Result<_, _>>()?;
    Ok(ServeOptions {
        config: ServerConfig {
            rate_limit,
            token: args.token.clone(),
        },
        seed: args.seed,
        default_faults,
    })
}

/// Parses `KIND@FROM-UNTIL` (see `--fault`).
pub(crate) fn parse_fault(text: &str) -> Result<FaultWindow, String> {
    let bad = || format!("fault {text:?} must look like 503@2s-5s, 429:7@0s-10s, malformed@1s-2s");
    let (kind, window) = text.split_once('@').ok_or_else(bad)?;
    let (from, until) = window.split_once('-').ok_or_else(bad)?;
    let duration = |s: &str| -> Result<Duration, String> {
        humantime::parse_duration(s.trim()).map_err(|error| format!("{s:?} in {text:?}: {error}"))
    };
    let (from, until) = (duration(from)?, duration(until)?);
    let (name, argument) = match kind.split_once(':') {
        Some((name, argument)) => (name, Some(argument)),
        None => (kind, None),
    };
    let number = |a: Option<&str>| -> Result<Option<u64>, String> {
        a.map(|a| a.trim().parse::<u64>().map_err(|_| bad()))
            .transpose()
    };
    let fault = match name.trim() {
        "malformed" => Fault::Malformed,
        "unknown-status" => Fault::UnknownStatus,
        "oversized" => Fault::Oversized {
            bytes: number(argument)?.unwrap_or(16 << 20) as usize,
        },
        status => {
            let status: u16 = status.parse().map_err(|_| bad())?;
            if !(100..=599).contains(&status) {
                return Err(bad());
            }
            Fault::Status {
                status,
                retry_after: number(argument)?,
            }
        }
    };
    Ok(FaultWindow { from, until, fault })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse_from_the_command_line() {
        let fault = parse_fault("429:7@1s-5s").expect("valid");
        assert_eq!(
            fault.fault,
            Fault::Status {
                status: 429,
                retry_after: Some(7)
            }
        );
        assert_eq!(
            (fault.from, fault.until),
            (Duration::from_secs(1), Duration::from_secs(5))
        );
        assert_eq!(
            parse_fault("malformed@0s-1s").expect("valid").fault,
            Fault::Malformed
        );
        for bad in [
            "",
            "503",
            "503@2s",
            "999@1s-2s",
            "x@1s-2s",
            "429:x@1s-2s",
            "503@later-2s",
        ] {
            assert!(parse_fault(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
