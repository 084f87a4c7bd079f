//! # jobpoll-tokio
//!
//! The native driver of [`jobpoll_core`]: it runs [`Job`]s on tokio and sends their
//! requests with reqwest (rustls, HTTP/1.1 and HTTP/2). It is a thin layer that moves
//! bytes and time between the network and the core; every decision (when to poll,
//! how to back off, what an answer means, when to give up) is the core's.
//!
//! ## One call
//!
//! ```no_run
//! use jobpoll_core::{Config, Profile};
//!
//! # async fn example() -> Result<(), jobpoll_tokio::DriverError> {
//! let client = jobpoll_tokio::Client::new();
//! let outcome = client
//!     .wait("https://api.example.com/api/v1/jobs/job_1", Profile::jobs(), Config::fast())
//!     .await?;
//! println!("{outcome}");
//! if let jobpoll_core::Outcome::Succeeded { result, .. } = outcome {
//!     println!("{result:?}");
//! }
//! # Ok(())
//! # }
//! ```
//!
//! [`Client::submit_and_wait`] creates the job first (`POST`), then waits on it.
//! Every problem with the server or the network ends as an [`Outcome`] (failed,
//! timed out, gave up, unauthorized, ...); [`DriverError`] is only for the driver's
//! own problems (no runtime, an invalid spec, a trace file that cannot be written).
//!
//! ## A handle: events, cancel, headers, traces
//!
//! ```no_run
//! use jobpoll_core::{Config, JobSpec, Profile};
//! use jobpoll_core::trace::Redactor;
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let client = jobpoll_tokio::Client::builder()
//!     .redactor(Redactor::default())
//!     .build()?;
//! let spec = JobSpec::poll(Profile::jobs(), "https://api.example.com/api/v1/jobs/job_1".parse()?)
//!     .with_job_id("job_1") // lets the job send its cancel request
//!     .with_header("Authorization", "Bearer secret");
//! let mut handle = client.start(spec, Config::fast())?;
//! let mut events = handle.events();
//! let outcome = loop {
//!     tokio::select! {
//!         event = events.recv() => match event {
//!             Some(event) => println!("{event}"),        // status queued -> processing, progress ...
//!             None => break (&mut handle).await?,        // the job is over
//!         },
//!         _ = tokio::signal::ctrl_c() => handle.cancel(), // POST .../cancel, then Cancelled
//!     }
//! };
//! println!("{outcome}");
//! # Ok(())
//! # }
//! ```
//!
//! ## Many jobs: a fleet
//!
//! ```no_run
//! use std::sync::Arc;
//! use jobpoll_core::{Config, JobSpec, Profile, Start};
//! use jobpoll_tokio::{Client, FleetConfig};
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let fleet = Client::new().fleet(FleetConfig {
//!     max_in_flight: 64,
//!     max_in_flight_per_origin: 8,
//!     seed: 0,
//! })?;
//! let (profile, config) = (Arc::new(Profile::jobs()), Arc::new(Config::fast()));
//! let mut jobs = Vec::new();
//! for n in 0..1000 {
//!     let status_url = format!("https://api.example.com/api/v1/jobs/job_{n}").parse()?;
//!     let spec = JobSpec {
//!         profile: Arc::clone(&profile),
//!         start: Start::Poll { status_url, job_id: None },
//!         headers: Vec::new(),
//!     };
//!     jobs.push(fleet.add(spec, Arc::clone(&config)).await?); // dropping one stops it
//! }
//! for job in jobs {
//!     println!("{}", job.await?);
//! }
//! let metrics = fleet.metrics().await?;
//! println!("{} requests, success rate {:?}", metrics.totals.requests, metrics.totals.success_rate());
//! fleet.shutdown().await?;
//! # Ok(())
//! # }
//! ```
//!
//! One task drives every job of a fleet with one timer, whatever their number (see
//! [`FleetHandle`]): a second subscriber to the same status URL shares the polls of
//! the first, requests in flight stay within the limits, a `Retry-After` from one
//! job holds back every job of that origin, and the fleet (or one origin) can be
//! paused. A job waiting for its next poll costs about 1.3 KB.
//!
//! [`Client::start_recorded`] does the same and writes the job's trace (JSON lines,
//! redacted with the client's [`Redactor`]) as it goes; `jobpoll-sim replay FILE`
//! replays it.
//!
//! ## What the driver does
//!
//! - **Time.** The job's clock is the time since [`Client::start`], read from tokio's
//!   clock in whole microseconds. The driver sleeps until the instant the job asks
//!   for, unless an answer or a cancel comes first.
//! - **Requests.** Each [`Transmit`](jobpoll_core::Transmit) becomes one reqwest
//!   request with its method, URL, headers and body, bounded by its time limit from the
//!   first byte sent to the last byte of the body read. An
//!   [`Abort`](jobpoll_core::Output::Abort) drops the request.
//! - **Bodies** are read chunk by chunk up to the configuration's `max_body_bytes`.
//!   A 2xx body past it is [`TransportError::BodyTooLarge`](jobpoll_core::TransportError::BodyTooLarge); any other answer is cut
//!   at the limit and delivered (the job only quotes an excerpt of an error body, and
//!   its status and headers, such as `Retry-After`, still count).
//! - **Errors.** A failure to connect is [`TransportError::Connect`](jobpoll_core::TransportError::Connect) (the request
//!   was certainly not sent, so even a `POST` may be repeated); no answer in time is
//!   [`TransportError::NoResponseInTime`](jobpoll_core::TransportError::NoResponseInTime); a connection that broke after sending is
//!   [`TransportError::Reset`](jobpoll_core::TransportError::Reset); anything else is [`TransportError::Other`](jobpoll_core::TransportError::Other). Messages
//!   never quote the URL.
//! - **Redirects** follow reqwest's default policy (up to 10 hops; reqwest drops
//!   `Authorization` and `Cookie` headers when a redirect leaves the origin), so the
//!   job sees the final answer.
//! - **Cookies** are kept by default: each [`Client`] has one cookie store, shared
//!   by its clones, that keeps the cookies servers set and sends them back where
//!   they belong (their host or domain and path), as a browser does. An API may
//!   set a session cookie on the first answer about an operation and refuse later
//!   polls without it; a poller, like a browser or the HTTP sessions of the cloud
//!   SDKs, keeps that session. The store lives in memory for the life of the
//!   client, unless it is a [`CookieJar`] ([`ClientBuilder::cookie_jar`]), which
//!   can be loaded from a file before a run and saved to it after. Logs show no
//!   cookie values, and the default [`Redactor`] keeps `Cookie` and `Set-Cookie`
//!   values out of traces. [`ClientBuilder::cookie_store`]`(false)` turns it off.
//! - **TLS** is rustls, with the system's roots;
//!   [`ClientBuilder::add_root_certificate_pem`] trusts more (an internal CA, a
//!   self-signed server), and [`ClientBuilder::danger_accept_invalid_certs`]
//!   trusts anything (no authentication of the server at all). A certificate that
//!   is not trusted is a failure to connect.
//! - **Proxies** come from the standard environment variables (`HTTP_PROXY`,
//!   `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`), as reqwest does; the operating system's
//!   own proxy settings are not read. No automatic decompression is compiled in.
//! - **Traces** are written with blocking file writes from the job's task, one small
//!   write per step (a few hundred bytes): fine on a local disk.
//! - **Logs** (`tracing`, target `jobpoll_tokio`): each request at `debug`
//!   (method, URL with secret query values redacted by the client's [`Redactor`],
//!   purpose, id) and its answer (status, the hint headers `Retry-After`,
//!   `RateLimit*`, `Location`, `Azure-AsyncOperation`, `Operation-Location`,
//!   `ETag` and `Content-Location` with secret parts masked, body size, and the
//!   time from send to the last byte in `ms`; or the transport error), each event
//!   at `trace`, the outcome at `info`. No other header value is logged.
//!
//! The driver never panics on anything from the network.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::sync::Arc;

use jobpoll_core::trace::{RecordingJob, Redactor};
use jobpoll_core::{Config, Instant, Job, JobSpec, Outcome, Profile, SpecError};
use tokio::sync::watch;

mod clock;
mod cookies;
mod driver;
mod events;
mod fleet;
mod handle;
mod transport;

pub use cookies::{CookieJar, CookieJarError};
pub use events::{DEFAULT_EVENT_CAPACITY, EventStream};
pub use fleet::{FleetHandle, FleetJob, FleetMetrics};
pub use handle::JobHandle;
pub use jobpoll_core::fleet::FleetConfig;

use clock::Clock;
use driver::{Driver, Machine, TraceFile};

/// A problem of the driver itself. Problems with the server or the network are never
/// a `DriverError`: they end the job with an [`Outcome`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// The job cannot be built as specified.
    #[error("invalid job: {0}")]
    Spec(#[from] SpecError),
    /// A URL given to [`Client::wait`] or [`Client::submit_and_wait`] does not parse.
    /// (The URL is not quoted: it may hold a secret.)
    #[error("invalid URL: {0}")]
    Url(#[from] url::ParseError),
    /// The HTTP client cannot be built.
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
    /// A certificate given to [`ClientBuilder::add_root_certificate_pem`] cannot be
    /// read.
    #[error("not a PEM certificate: {0}")]
    Certificate(String),
    /// Jobs run on tokio: call from inside a tokio runtime.
    #[error("no tokio runtime: start jobs from inside a tokio runtime")]
    NoRuntime,
    /// The trace file could not be created or written. When the job ran on to an end
    /// anyway, its outcome is here.
    #[error("trace file {}: {source}{}", path.display(), match outcome {
        Some(outcome) => format!(" (the job ran on: {outcome})"),
        None => String::new(),
    })]
    Trace {
        /// The trace file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
        /// The outcome, when the job was started and ran to an end.
        outcome: Option<Box<Outcome>>,
    },
    /// The job's task panicked or was stopped (the runtime shut down).
    #[error("{0}")]
    Task(String),
    /// The fleet has shut down ([`FleetHandle::shutdown`]), or its task was stopped
    /// (the runtime shut down).
    #[error("the fleet has shut down")]
    FleetClosed,
}

/// Runs jobs. Cheap to clone: clones share the connection pool (and the cookie store).
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    redactor: Arc<Redactor>,
    event_capacity: usize,
}

/// Settings of a [`Client`]; from [`Client::builder`].
#[derive(Debug)]
#[must_use]
pub struct ClientBuilder {
    cookie_store: bool,
    cookie_jar: Option<CookieJar>,
    redactor: Redactor,
    user_agent: String,
    event_capacity: usize,
    root_certificates: Vec<reqwest::Certificate>,
    accept_invalid_certs: bool,
}

/// The `User-Agent` sent unless [`ClientBuilder::user_agent`] says otherwise.
pub const DEFAULT_USER_AGENT: &str = concat!("jobpoll/", env!("CARGO_PKG_VERSION"));

impl Default for ClientBuilder {
    fn default() -> ClientBuilder {
        ClientBuilder {
            cookie_store: true,
            cookie_jar: None,
            redactor: Redactor::default(),
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            event_capacity: DEFAULT_EVENT_CAPACITY,
            root_certificates: Vec::new(),
            accept_invalid_certs: false,
        }
    }
}

impl ClientBuilder {
    /// Keep cookies the servers set and send them back where they belong (their
    /// host or domain and path, as a browser does). On by default: some APIs keep
    /// the session of an operation in a cookie set on the first answer and refuse
    /// later polls without it, so a poller, like a browser or the HTTP sessions of
    /// the cloud SDKs, keeps it. One store per [`Client`], shared by its clones, in
    /// memory only for the client's life. `false` keeps none (a spec's own
    /// `Cookie` header is still sent).
    pub fn cookie_store(mut self, enabled: bool) -> ClientBuilder {
        self.cookie_store = enabled;
        self
    }

    /// Keep cookies in `jar` instead of a store of the client's own, so that they
    /// can be loaded before the run and saved after it ([`CookieJar::load`],
    /// [`CookieJar::save`]). Implies [`ClientBuilder::cookie_store`]`(true)`.
    pub fn cookie_jar(mut self, jar: CookieJar) -> ClientBuilder {
        self.cookie_jar = Some(jar);
        self.cookie_store = true;
        self
    }

    /// Also trust the certificates in `pem` (one or more PEM `CERTIFICATE`
    /// blocks) as roots, beside the built-in ones: for servers whose certificate
    /// is issued by an internal CA, or is self-signed. An error when `pem` holds no
    /// certificate or one that cannot be read.
    pub fn add_root_certificate_pem(mut self, pem: &[u8]) -> Result<ClientBuilder, DriverError> {
        let certificates = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|error| DriverError::Certificate(describe(&error)))?;
        if certificates.is_empty() {
            return Err(DriverError::Certificate(
                "no PEM certificate (-----BEGIN CERTIFICATE-----) in it".to_owned(),
            ));
        }
        self.root_certificates.extend(certificates);
        Ok(self)
    }

    /// Accept any certificate for any host name: expired, self-signed, issued for
    /// another name. The connection is still encrypted, but anyone on the path can
    /// pose as the server, and so read and change everything sent and received
    /// (tokens included). For tests against a server whose certificate cannot be
    /// trusted any other way; prefer [`ClientBuilder::add_root_certificate_pem`].
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> ClientBuilder {
        self.accept_invalid_certs = accept;
        self
    }

    /// How secrets are removed from traces and logs. [`Redactor::default`] unless
    /// set.
    pub fn redactor(mut self, redactor: Redactor) -> ClientBuilder {
        self.redactor = redactor;
        self
    }

    /// The `User-Agent` header; [`DEFAULT_USER_AGENT`] unless set. A spec's own
    /// `User-Agent` header wins.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> ClientBuilder {
        self.user_agent = user_agent.into();
        self
    }

    /// How many events a job's [`EventStream`] holds before it drops progress
    /// reports ([`DEFAULT_EVENT_CAPACITY`] unless set; at least 1).
    pub fn event_capacity(mut self, capacity: usize) -> ClientBuilder {
        self.event_capacity = capacity.max(1);
        self
    }

    /// The client.
    pub fn build(self) -> Result<Client, DriverError> {
        let mut http = reqwest::Client::builder().user_agent(self.user_agent);
        http = match self.cookie_jar {
            Some(jar) => http.cookie_provider(jar.store()),
            None => http.cookie_store(self.cookie_store),
        };
        if !self.root_certificates.is_empty() {
            http = http.tls_certs_merge(self.root_certificates);
        }
        if self.accept_invalid_certs {
            http = http
                .tls_danger_accept_invalid_certs(true)
                .tls_danger_accept_invalid_hostnames(true);
        }
        let http = http
            .build()
            .map_err(|error| DriverError::Build(error.without_url().to_string()))?;
        Ok(Client {
            http,
            redactor: Arc::new(self.redactor),
            event_capacity: self.event_capacity,
        })
    }
}

impl Default for Client {
    fn default() -> Client {
        Client::new()
    }
}

impl Client {
    /// A client with the default settings.
    ///
    /// # Panics
    ///
    /// When the TLS backend cannot be initialised, as `reqwest::Client::new` does;
    /// [`Client::builder`] returns that as an error instead.
    pub fn new() -> Client {
        match Client::builder().build() {
            Ok(client) => client,
            Err(error) => panic!("{error}"),
        }
    }

    /// Settings for a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The redactor used for traces and logs.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Starts waiting and returns at once; the job runs in a tokio task. Await the
    /// handle for the outcome.
    ///
    /// Call from inside a tokio runtime ([`DriverError::NoRuntime`] otherwise).
    pub fn start(&self, spec: JobSpec, config: Config) -> Result<JobHandle, DriverError> {
        let job = Job::new(spec, config, Instant::ZERO)?;
        self.launch(Machine::Plain(Box::new(job)), true)
    }

    /// [`Client::start`], recording the job's trace to `trace` as JSON lines (created
    /// or truncated), redacted with the client's [`Redactor`]. Each step is written
    /// as it happens, so the file holds the job so far even if the process dies.
    ///
    /// `jobpoll-sim replay FILE` (which redacts with [`Redactor::default`]) or
    /// [`jobpoll_core::trace::replay`] with the same redactor reproduce it exactly.
    /// If the file cannot be written part way, recording stops, the job runs on, and
    /// the handle resolves with [`DriverError::Trace`] carrying the outcome.
    pub fn start_recorded(
        &self,
        spec: JobSpec,
        config: Config,
        trace: PathBuf,
    ) -> Result<JobHandle, DriverError> {
        let job = RecordingJob::new(spec, config, Instant::ZERO, (*self.redactor).clone())?;
        let trace = TraceFile::create(trace)?;
        let mut machine = Machine::Recording {
            job: Box::new(job),
            trace,
        };
        // The start record goes to the file at once.
        machine.flush_trace();
        self.launch(machine, true)
    }

    /// Waits on the existing job at `status_url` and returns its outcome.
    ///
    /// Dropping the future cancels the job (in the background, like dropping a
    /// [`JobHandle`]).
    pub async fn wait(
        &self,
        status_url: &str,
        profile: Profile,
        config: Config,
    ) -> Result<Outcome, DriverError> {
        let spec = JobSpec::poll(profile, status_url.parse()?);
        let job = Job::new(spec, config, Instant::ZERO)?;
        self.launch(Machine::Plain(Box::new(job)), false)?.await
    }

    /// Creates a job with `POST url` and `body` (sent as `application/json`), then
    /// waits on it and returns its outcome.
    ///
    /// Dropping the future cancels the job (in the background, like dropping a
    /// [`JobHandle`]).
    pub async fn submit_and_wait(
        &self,
        url: &str,
        body: Option<String>,
        profile: Profile,
        config: Config,
    ) -> Result<Outcome, DriverError> {
        let spec = JobSpec::submit(profile, url.parse()?, body);
        let job = Job::new(spec, config, Instant::ZERO)?;
        self.launch(Machine::Plain(Box::new(job)), false)?.await
    }

    /// Starts a fleet: many jobs driven by one task with one timer, sharing polls
    /// of the same job, within `config`'s limits on requests in flight, holding
    /// back an origin that a server throttles (see [`FleetHandle`]). The fleet uses
    /// this client's connection pool, redactor and event capacity.
    ///
    /// Call from inside a tokio runtime ([`DriverError::NoRuntime`] otherwise).
    pub fn fleet(&self, config: FleetConfig) -> Result<FleetHandle, DriverError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| DriverError::NoRuntime)?;
        Ok(fleet::spawn(
            &runtime,
            config,
            self.http.clone(),
            Arc::clone(&self.redactor),
            self.event_capacity,
        ))
    }

    /// Spawns the driver task. The job's epoch is now: it was built at
    /// `Instant::ZERO`, and nothing has been sent yet.
    fn launch(&self, machine: Machine, events_read: bool) -> Result<JobHandle, DriverError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| DriverError::NoRuntime)?;
        let (cancel_sender, cancel) = watch::channel(false);
        let (sink, stream) = events::channel(self.event_capacity, !events_read);
        let driver = Driver {
            machine,
            http: self.http.clone(),
            redactor: Arc::clone(&self.redactor),
            clock: Clock::start(),
            cancel,
            events: sink,
        };
        let task = runtime.spawn(driver.run());
        Ok(JobHandle::new(task, cancel_sender, stream))
    }
}

/// An error and its causes as one line.
fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_types_move_between_tasks() {
        fn send_sync<T: Send + Sync + 'static>() {}
        fn send_unpin<T: Send + Unpin + 'static>() {}
        send_sync::<Client>();
        send_sync::<DriverError>();
        send_unpin::<JobHandle>();
        send_unpin::<EventStream>();
        send_sync::<FleetHandle>();
        send_sync::<FleetMetrics>();
        send_unpin::<FleetJob>();
    }

    #[test]
    fn a_root_certificate_must_be_pem() {
        for text in [
            "",
            "not a certificate",
            "-----BEGIN CERTIFICATE-----\n%%%\n",
        ] {
            let result = Client::builder().add_root_certificate_pem(text.as_bytes());
            assert!(
                matches!(result, Err(DriverError::Certificate(_))),
                "{text:?}: {result:?}"
            );
        }
    }

    #[test]
    fn starting_outside_a_runtime_is_an_error() {
        let url = "http://127.0.0.1:9/api/v1/jobs/j".parse().expect("url");
        let result = Client::new().start(JobSpec::poll(Profile::jobs(), url), Config::fast());
        assert!(matches!(result, Err(DriverError::NoRuntime)), "{result:?}");
    }
}
