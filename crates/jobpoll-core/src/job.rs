//! One polling job as a deterministic state machine.
//!
//! See the crate documentation for the run loop. The contract, in short:
//!
//! 1. Build the job with [`Job::new`], then drain [`Job::poll_output`] until it
//!    returns [`Output::WakeAt`] (or [`Output::Done`]).
//! 2. Carry out each [`Output::Transmit`] and report what happened with exactly one
//!    [`Input::Response`] or [`Input::TransportError`] carrying the same
//!    [`RequestId`] — unless an [`Output::Abort`] for that id came first.
//! 3. When the clock reaches the instant of the last [`Output::WakeAt`], feed
//!    [`Input::Tick`]. Feed [`Input::Cancel`] when the user cancels.
//! 4. After every input, drain [`Job::poll_output`] again.
//!
//! Inputs never panic: a response the server should not have sent is an error the
//! job handles (it retries or finishes with a typed [`Outcome`](crate::event::Outcome)), and a call that
//! breaks the contract is an [`InputError`] that leaves the job unchanged.
//!
//! # Where things are
//!
//! - `io`: the inputs and outputs and their wire types, the spec, the errors.
//! - `machine`: the [`Job`] itself, its public calls, its clock, and the step that
//!   enforces time limits and the deadline and sends what is due.
//! - `phase`: where the job is in its life; each phase carries what only it holds,
//!   including its request in flight.
//! - `sending`: the next request, and when it may go out.
//! - `answers`: reacting to responses, transport errors, retries and cancels.
//! - `endings`: the outcomes.
//! - `estimate`: progress samples and the remaining-time estimates.
//! - `snapshot`: the snapshot format and saving, restoring and resuming.
//! - `fleet_hooks`: what only a fleet needs of a job.
//! - `layout`: the one place where the in-memory form is made compact.

mod answers;
mod endings;
mod estimate;
mod fleet_hooks;
mod io;
mod layout;
mod machine;
mod phase;
mod sending;
mod snapshot;

pub use io::{
    Input, InputError, JobSpec, Output, Purpose, RequestId, RestoreError, SpecError, Start,
    Transmit,
};
pub(crate) use layout::Outputs;
pub use machine::Job;
pub use snapshot::{SettledSnapshot, SettledState, Snapshot};
