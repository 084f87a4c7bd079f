//! Random server scripts for the property tests (`tests/properties_*.rs`): a job
//! driven by a virtual clock through random server scripts that are valid by
//! construction (every answer is for the request in flight, time only moves
//! forward), with the crate's invariants checked after every step.
//!
//! A script is a random configuration, a random built-in API shape with a matching
//! start (poll or submit), and a list of server actions for successive requests;
//! when the list is used up the server answers "succeeded" at once, forever, so
//! every run must reach an outcome within a bounded number of steps.
//!
//! `JOBPOLL_PROPERTY_STATS=1 cargo test --test 'properties_*' -- --nocapture` prints
//! one line per run (outcome, requests, ...) to check what the generators cover.

use std::time::Duration;

use jobpoll_core::{Config, Instant, TransportError};

pub mod driver;
pub mod model;
pub mod server;
pub mod strategies;

/// Cases per property.
pub const CASES: u32 = 256;

/// The built-in API shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    Jobs,
    Codegen,
    FileTasks,
    Turn,
    Google,
    Azure,
}

/// How the job starts.
#[derive(Clone, Debug)]
pub enum StartKind {
    Poll,
    /// Submit with `POST` or `PUT`, with or without an `Idempotency-Key`.
    Submit {
        put: bool,
        idempotency_key: bool,
    },
}

/// What a response body says.
#[derive(Clone, Debug)]
pub enum Body {
    Running {
        percentage: Option<f64>,
        eta_secs: Option<f64>,
        blocks: u8,
    },
    Succeeded,
    Failed,
    Cancelled,
    /// Something no profile can read (or an unknown status value).
    Garbage(u8),
    /// Larger than `max_body_bytes`.
    Huge(u16),
    /// A short error text, for error statuses.
    ErrorText,
    Empty,
}

#[derive(Clone, Debug)]
pub enum RetryAfter {
    Seconds(u64),
    /// An HTTP-date this many seconds after the response's `Date`.
    Date(u64),
    Unparseable,
}

#[derive(Clone, Debug)]
pub enum RateLimit {
    /// `RateLimit: limit=10, remaining=R, reset=T`.
    Dictionary { remaining: u64, reset: u64 },
    /// `RateLimit: "default";r=R;t=T`.
    List { remaining: u64, reset: u64 },
    /// `RateLimit-Remaining: R` and `RateLimit-Reset: T`.
    Split { remaining: u64, reset: u64 },
}

/// The wait headers of one response.
#[derive(Clone, Debug, Default)]
pub struct Hints {
    pub retry_after: Option<RetryAfter>,
    pub retry_after_ms: Option<u64>,
    pub rate_limit: Option<RateLimit>,
}

#[derive(Clone, Debug)]
pub enum Reply {
    Respond {
        status: u16,
        body: Body,
        hints: Hints,
        etag: bool,
    },
    Fail(TransportError),
    Hang,
}

/// What the server does with one request.
#[derive(Clone, Debug)]
pub struct Action {
    pub reply: Reply,
    /// Latency in thousandths of the request time limit (0..=1500).
    pub latency_permille: u64,
}

#[derive(Clone, Debug)]
pub enum CancelAt {
    /// This long after the start.
    After(Duration),
    /// At the instant of the n-th wake-up, fed before its tick.
    AtWake(usize),
}

#[derive(Clone, Debug)]
pub struct Script {
    pub start_at: Instant,
    pub config: Config,
    pub api: Api,
    pub start: StartKind,
    /// An `Authorization` header on every request.
    pub auth: bool,
    /// Azure operation URLs carry a `sig=` credential.
    pub signed: bool,
    pub actions: Vec<Action>,
    pub cancel: Option<CancelAt>,
    /// Extra ticks, as offsets from the start.
    pub extra_ticks: Vec<Duration>,
    /// Snapshot and restore before the n-th `poll_output` of the m-th step: (m, n).
    pub snapshot: Option<(usize, usize)>,
    /// On equal instants, deliver an answer before the job's own wake-up.
    pub answers_first: bool,
}
