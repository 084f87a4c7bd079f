//! The network options of `wait`, `submit` and `status`: which certificates to
//! trust, a cookie jar kept between runs, and how soon an address where nothing
//! listens ends the wait; the HTTP client they make, and what a failure to connect
//! tells the user.

use std::path::PathBuf;
use std::time::Duration;

use jobpoll_core::trace::Redactor;
use jobpoll_core::{Config, Outcome, PollError, Schedule, TransportError};
use jobpoll_tokio::{Client, CookieJar};

use crate::wait::Common;

/// What `--insecure` does, for its warning.
const INSECURE_WARNING: &str = "jobpoll: warning: --insecure: any certificate and any host name \
     are accepted, so the server is not authenticated: anyone on the path can pose as it, and \
     read and change everything sent and received, tokens included";

/// Which certificates to trust.
#[derive(clap::Args, Clone, Debug, Default)]
pub(crate) struct TlsArgs {
    /// Also trust the CA certificates in FILE (PEM), beside the system's: for a
    /// server whose certificate an internal CA issued, or a self-signed one.
    #[arg(long, value_name = "FILE")]
    pub(crate) cacert: Option<PathBuf>,
    /// Accept any certificate for any host name (expired, self-signed, another
    /// name's). The server is then not authenticated: anyone on the path can read
    /// and change the connection, tokens included. Prefer --cacert.
    #[arg(long)]
    pub(crate) insecure: bool,
}

/// The network options of `wait` and `submit`.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct NetArgs {
    #[command(flatten)]
    pub(crate) tls: TlsArgs,
    /// Load cookies from FILE at the start when it exists, and save them to it at
    /// the end (JSON; session cookies too), so that a session lasts across runs.
    #[arg(long, value_name = "FILE")]
    pub(crate) cookie_jar: Option<PathBuf>,
    /// When nothing answers at the server's address, try to connect this many more
    /// times (0.5 s, 1 s, then 2 s apart) before giving up with exit code 7.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub(crate) connect_retries: u32,
}

impl TlsArgs {
    /// The PEM text of `--cacert`, read and checked: a file that cannot be read or
    /// holds no certificate is a usage error naming it.
    fn pem(&self) -> Result<Option<Vec<u8>>, String> {
        let Some(path) = &self.cacert else {
            return Ok(None);
        };
        let pem = std::fs::read(path)
            .map_err(|error| format!("--cacert {}: cannot read it: {error}", path.display()))?;
        match reqwest::Certificate::from_pem_bundle(&pem) {
            Ok(certificates) if !certificates.is_empty() => Ok(Some(pem)),
            Ok(_) => Err(format!(
                "--cacert {}: no PEM certificate (-----BEGIN CERTIFICATE-----) in it",
                path.display()
            )),
            Err(error) => Err(format!(
                "--cacert {}: not a PEM certificate: {error}",
                path.display()
            )),
        }
    }

    /// `builder` with these options, for `jobpoll status`.
    pub(crate) fn reqwest(
        &self,
        mut builder: reqwest::ClientBuilder,
    ) -> Result<reqwest::ClientBuilder, String> {
        if let Some(pem) = self.pem()? {
            let certificates = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|error| format!("--cacert: {error}"))?;
            builder = builder.tls_certs_merge(certificates);
        }
        if self.insecure {
            eprintln!("{INSECURE_WARNING}");
            builder = builder
                .tls_danger_accept_invalid_certs(true)
                .tls_danger_accept_invalid_hostnames(true);
        }
        Ok(builder)
    }
}

/// The client of a run, and the cookie jar to save when it is over.
pub(crate) struct Session {
    /// The client every job of the run uses.
    pub(crate) client: Client,
    jar: Option<(CookieJar, PathBuf)>,
}

impl Session {
    /// The client the options ask for. Secret header values in `headers` are also
    /// masked wherever they appear in traces and logs. A bad `--cacert` or
    /// `--cookie-jar` file is an error naming it (a usage error).
    pub(crate) fn new(common: &Common, headers: &[(String, String)]) -> Result<Session, String> {
        let net = &common.net;
        let redactor = Redactor::default().with_header_secrets(headers);
        let mut builder = Client::builder().redactor(redactor);
        if let Some(pem) = net.tls.pem()? {
            builder = builder
                .add_root_certificate_pem(&pem)
                .map_err(|error| error.to_string())?;
        }
        if net.tls.insecure {
            eprintln!("{INSECURE_WARNING}");
            builder = builder.danger_accept_invalid_certs(true);
        }
        let jar = match &net.cookie_jar {
            Some(path) => {
                let jar = CookieJar::load(path).map_err(|error| error.to_string())?;
                builder = builder.cookie_jar(jar.clone());
                Some((jar, path.clone()))
            }
            None => None,
        };
        let client = builder.build().map_err(|error| error.to_string())?;
        Ok(Session { client, jar })
    }

    /// Saves the cookie jar, if there is one; a failure is reported, not fatal.
    pub(crate) fn finish(&self) {
        if let Some((jar, path)) = &self.jar
            && let Err(error) = jar.save(path)
        {
            eprintln!("jobpoll: cannot save the cookies: {error}");
        }
    }
}

/// Sets how soon a server that cannot be reached at all ends the wait: after
/// `--connect-retries` more attempts, 0.5 s, 1 s, then 2 s apart. Once any request
/// may have reached the server, the preset's retries apply.
pub(crate) fn connect_limits(config: &mut Config, net: &NetArgs) {
    config.max_connect_failures_before_contact = Some(net.connect_retries.saturating_add(1));
    config.connect_retry = Some(Schedule::Exponential {
        initial: Duration::from_millis(500),
        multiplier: 2.0,
        max: Duration::from_secs(2),
        jitter: jobpoll_core::Jitter::None,
    });
}

/// Whether `outcome` is a server that was never reached.
pub(crate) fn unreachable(outcome: &Outcome) -> bool {
    matches!(
        outcome,
        Outcome::GaveUp {
            last_error: PollError::Unreachable { .. },
            ..
        }
    )
}

/// What a person can do about an outcome where the server was never reached: a
/// line for stderr, or `None` for any other outcome.
pub(crate) fn advice(outcome: &Outcome) -> Option<String> {
    let Outcome::GaveUp {
        last_error:
            PollError::Unreachable {
                origin,
                failures,
                last,
            },
        ..
    } = outcome
    else {
        return None;
    };
    let message = match last {
        TransportError::Connect(message) => message.as_str(),
        _ => "",
    };
    let address = origin.split_once("://").map_or(origin.as_str(), |(_, a)| a);
    let lower = message.to_ascii_lowercase();
    if lower.contains("certificate") || lower.contains("tls") && lower.contains("handshake") {
        return Some(format!(
            "jobpoll: the server's certificate is not trusted ({}); pass --cacert FILE with the \
             certificate (PEM) of the CA that issued it, or the server's own when it is \
             self-signed; --insecure accepts any certificate, unsafely",
            message
                .find("invalid peer certificate")
                .map_or_else(|| short_cause(message), |at| &message[at..])
        ));
    }
    let attempts = if *failures == 1 {
        "1 attempt".to_owned()
    } else {
        format!("{failures} attempts")
    };
    Some(format!(
        "jobpoll: could not connect to {address} ({attempts}: {}); check the address and that \
         the server is running (--connect-retries N tries longer)",
        short_cause(message)
    ))
}

/// The most specific cause of a connection error (the last of its `: ` parts).
fn short_cause(message: &str) -> &str {
    message
        .rsplit(": ")
        .find(|part| !part.trim().is_empty())
        .unwrap_or(message)
}
