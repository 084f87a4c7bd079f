//! # jobpoll-core
//!
//! The sans-IO heart of jobpoll: one job that waits on a long-running HTTP
//! operation is a pure state machine. It never does I/O, never reads a clock and
//! never uses global randomness; its driver (tokio, the browser, the simulator, a
//! test) moves bytes and time in and out. The same inputs give the same outputs, bit
//! for bit, which is what makes traces replayable and simulations reproducible.
//!
//! ## The run loop
//!
//! Feed [`Input`]s with [`Job::handle_input`], then drain [`Job::poll_output`] until it
//! answers [`Output::WakeAt`] ("wake me at T") or [`Output::Done`]:
//!
//! ```
//! use bytes::Bytes;
//! use jobpoll_core::{Config, Input, Instant, Job, JobSpec, Output, Profile};
//!
//! let url = "https://api.example.com/api/v1/jobs/job_1".parse().unwrap();
//! let spec = JobSpec::poll(Profile::jobs(), url);
//! let mut now = Instant::ZERO;
//! let mut job = Job::new(spec, Config::standard(), now).unwrap();
//! let outcome = loop {
//!     match job.poll_output() {
//!         // A real driver sends the request; here the server answers at once.
//!         Output::Transmit(request) => {
//!             let body = r#"{"job_id":"job_1","status":"completed","result_data":{"url":"x"}}"#;
//!             let response = http::Response::new(Bytes::from(body));
//!             job.handle_input(Input::Response { request: request.id, response, now }).unwrap();
//!         }
//!         Output::Event(event) => println!("{event:?}"),
//!         Output::Abort(_) => {} // drop the request with that id
//!         Output::WakeAt(at) => {
//!             now = at; // a real driver sleeps until `at`
//!             job.handle_input(Input::Tick { now }).unwrap();
//!         }
//!         Output::Finished(outcome) => break outcome,
//!         Output::Done => unreachable!("Finished comes first"),
//!     }
//! };
//! assert!(outcome.is_success(), "{outcome}");
//! ```
//!
//! ## Many jobs, the same loop
//!
//! A [`Fleet`](fleet::Fleet) runs any number of jobs on one timer and is driven the
//! same way: feed [`FleetInput`](fleet::FleetInput)s with
//! [`Fleet::handle_input`](fleet::Fleet::handle_input), then drain
//! [`Fleet::poll_output`](fleet::Fleet::poll_output) until it answers
//! [`FleetOutput::WakeAt`](fleet::FleetOutput::WakeAt) or
//! [`FleetOutput::Idle`](fleet::FleetOutput::Idle) (no job waits on time). A
//! job's [`Output::Done`] is the fleet's `Idle`: with no job left, nothing
//! happens until the next [`Fleet::add`](fleet::Fleet::add).
//!
//! ```
//! use std::sync::Arc;
//! use bytes::Bytes;
//! use jobpoll_core::fleet::{Fleet, FleetConfig, FleetInput, FleetOutput};
//! use jobpoll_core::{Config, Instant, JobSpec};
//!
//! let url = "https://api.example.com/api/v1/jobs/job_1".parse().unwrap();
//! let mut now = Instant::ZERO;
//! let mut fleet = Fleet::new(FleetConfig::default());
//! fleet.add(JobSpec::poll_shared(url), Arc::new(Config::standard()), now).unwrap();
//! loop {
//!     match fleet.poll_output() {
//!         FleetOutput::Transmit { job, transmit } => {
//!             let body = r#"{"job_id":"job_1","status":"completed","result_data":{"url":"x"}}"#;
//!             let (request, response) = (transmit.id, http::Response::new(Bytes::from(body)));
//!             fleet.handle_input(FleetInput::Response { job, request, response, now }).unwrap();
//!         }
//!         FleetOutput::Event { event, .. } => println!("{event:?}"),
//!         FleetOutput::Abort { .. } => {} // drop the request with that id
//!         FleetOutput::WakeAt(at) => {
//!             now = at; // a real driver sleeps until `at`, or until an answer comes
//!             fleet.handle_input(FleetInput::Tick { now }).unwrap();
//!         }
//!         FleetOutput::Finished { outcome, .. } => assert!(outcome.is_success(), "{outcome}"),
//!         FleetOutput::Idle => break, // no job left
//!     }
//! }
//! ```
//!
//! ## Invariants
//!
//! - **Time is an input.** Every input carries `now`; [`Job::next_wake`] is the
//!   only deadline the driver needs.
//! - **One request at a time.** A job never has two requests in flight; every
//!   [`Output::Transmit`] is answered by exactly one response or transport error, or
//!   withdrawn by [`Output::Abort`].
//! - **Lower bounds hold.** No request goes out before the minimum interval or the
//!   server's `Retry-After`/`RateLimit` hint allows, nor before the schedule's
//!   delay unless the answer said how long to wait: then that wait, plus a small
//!   spread from the job's seeded generator, replaces the delay. Jitter never
//!   shortens a hint. (The one exception is the cancel request, which goes out at
//!   once because the user asked for it.)
//! - **The deadline holds.** The job ends within one request time limit of its
//!   deadline, and at once if the server asks to wait past it.
//! - **One outcome.** [`Output::Finished`] comes exactly once, last.
//! - **Bad input never panics.** A server's bytes become a typed [`PollError`] the job
//!   retries or an [`Outcome`]; a driver's contract breach is an [`InputError`].
//!   A panic is a bug in this crate.
//!
//! ## Map
//!
//! - [`job`]: the state machine, its inputs and outputs, snapshots.
//! - [`schedule`] and [`config`]: how long to wait, the limits, the presets.
//! - [`hints`]: `Retry-After`, `retry-after-ms`, `RateLimit` headers.
//! - [`classify`]: what a status code means.
//! - [`profile`]: how a job API speaks (built-ins and data-driven custom ones).
//! - [`event`]: events, outcomes and errors.
//! - [`fleet`]: many jobs on one timer queue, with shared polls, limits, throttling
//!   and pause, driven by the same loop as one job.
//! - [`trace`]: recording and bit-identical replay.
#![forbid(unsafe_code)]

pub mod classify;
pub mod config;
pub mod event;
pub mod fleet;
pub mod hints;
pub mod job;
pub mod profile;
pub mod rng;
pub mod schedule;
pub mod time;
pub mod trace;

pub use config::{Config, FirstPoll, Operation};
pub use event::{
    CancelledBy, Event, Outcome, PollError, Progress, Stats, TransportError, WaitLimit,
};
pub use job::{
    Input, InputError, Job, JobSpec, Output, Purpose, RequestId, SettledSnapshot, SettledState,
    Snapshot, SpecError, Start, Transmit,
};
pub use profile::{Interpret, Profile};
pub use schedule::{Jitter, Schedule};
pub use time::Instant;
