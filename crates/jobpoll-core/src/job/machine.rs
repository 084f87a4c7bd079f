//! The job itself: its state, its public calls (building it, taking inputs, giving
//! outputs, reading it), its clock, and the step that enforces limits and sends
//! what is due.

use std::sync::Arc;

use core::time::Duration;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::Config;
use crate::event::{Stats, TransportError, WaitLimit};
use crate::profile::{Interpret, Profile};
use crate::rng::Rng;
use crate::time::{Instant, micros};

use super::io::{Input, InputError, JobSpec, Output, SpecError, Start};
use super::layout::{History, Outputs, Rare};
use super::phase::Phase;
use super::snapshot::JobRepr;

/// One polling job. See the [module documentation](crate::job) for the calling contract.
///
/// All times inside are *ages*: whole microseconds since the job started, so that a
/// snapshot can be resumed on another clock. The layout is compact (a fleet keeps a
/// million of these; the `layout` module says how); its serialized form is a
/// separate type, which does not change with the layout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(
    bound(
        serialize = "P: Serialize + Clone",
        deserialize = "P: DeserializeOwned"
    ),
    from = "JobRepr<JobSpec<P>>",
    into = "JobRepr<JobSpec<P>>"
)]
pub struct Job<P = Profile> {
    pub(super) spec: JobSpec<P>,
    /// Shared by every job of a fleet that was given the same configuration.
    pub(super) config: Arc<Config>,
    /// The driver instant at age zero, in microseconds: before the driver's epoch
    /// by this much when `origin_before_epoch` is set (a job resumed on a clock
    /// that reads less than its age). Together the two hold every `now - age`
    /// exactly, over the whole range of [`Instant`]; read it with
    /// [`Job::origin`].
    pub(super) origin: u64,
    /// The latest age seen: time never runs backwards inside the job.
    pub(super) age: u64,
    /// When the next request is due.
    pub(super) next_send_at: u64,
    /// Where the job is in its life, and its request in flight.
    pub(super) phase: Phase,
    /// The last request's time, the poll schedule's memory, the progress samples.
    pub(super) history: History,
    pub(super) rng: Rng,
    pub(super) job_id: Option<Box<str>>,
    pub(super) last_status: Option<Box<str>>,
    pub(super) queue: Outputs,
    /// What is seldom needed (see [`Rare`]); read it with [`Job::rare`].
    pub(super) rare: Option<Box<Rare>>,
    /// Status requests sent.
    pub(super) attempts: u32,
    /// Requests of every kind sent.
    pub(super) requests: u32,
    /// The id of the next request.
    pub(super) next_request_id: u32,
    /// Held by a fleet: no request goes out, even when one is due, until the fleet
    /// lets it (limits, throttling, pause). Never set for a job driven on its own;
    /// see [`fleet_hooks`](super::fleet_hooks).
    pub(super) gated: bool,
    /// The sign of `origin`.
    pub(super) origin_before_epoch: bool,
    /// Some request may have reached the server: an answer came (of any status),
    /// or a request failed after it was sent. Until then every failure was a
    /// refused connection, and the job gives up sooner (see
    /// [`Config::max_connect_failures_before_contact`]).
    pub(super) contact: bool,
}

impl<P> Job<P> {
    /// Queues an output for [`Job::poll_output`].
    pub(super) fn push(&mut self, output: Output) {
        self.queue.push(output);
    }

    /// The driver instant at age zero, in microseconds (negative after a resume
    /// on a clock that reads less than the job's age).
    pub(super) fn origin(&self) -> i128 {
        let magnitude = i128::from(self.origin);
        if self.origin_before_epoch {
            -magnitude
        } else {
            magnitude
        }
    }
}

impl<P: Interpret> Job<P> {
    /// A job that starts at `now`. Its first request is ready in
    /// [`Job::poll_output`] (unless the configuration delays the first poll).
    pub fn new(spec: JobSpec<P>, config: Config, now: Instant) -> Result<Job<P>, SpecError> {
        let seed = config.seed;
        Job::new_shared(spec, Arc::new(config), seed, now)
    }

    /// As [`Job::new`], with a configuration shared with other jobs (a fleet of a
    /// million jobs keeps one copy) and this job's own random seed, which replaces
    /// `config.seed`.
    pub fn new_shared(
        spec: JobSpec<P>,
        config: Arc<Config>,
        seed: u64,
        now: Instant,
    ) -> Result<Job<P>, SpecError> {
        Job::build(spec, config, seed, now, false)
    }

    /// Feeds one input. Call [`Job::poll_output`] until it returns
    /// [`Output::WakeAt`] or [`Output::Done`] afterwards.
    ///
    /// Never panics. An answer to a request that is not in flight is an
    /// [`InputError`] and changes nothing; anything after the outcome is ignored.
    /// An input whose `now` is earlier than a previous one is handled as if it came
    /// at the latest time seen.
    pub fn handle_input(&mut self, input: Input) -> Result<(), InputError> {
        // Check before anything changes: a refused input leaves the job as it was.
        let answered = match &input {
            Input::Response { request, .. } | Input::TransportError { request, .. } => {
                match self.phase.in_flight() {
                    Some((in_flight, purpose)) if in_flight.id() == *request => Some(purpose),
                    _ => return Err(InputError::UnknownRequest(*request)),
                }
            }
            Input::Tick { .. } | Input::Cancel { .. } => None,
        };
        let now = self.advance(input.now());
        if answered.is_some() {
            self.phase.take_in_flight();
        }
        // Matched in place: a response is about 150 bytes, and a tuple of it
        // would be a copy.
        match input {
            Input::Response { ref response, .. } => {
                if let Some(purpose) = answered {
                    self.contact = true;
                    self.on_response(now, purpose, response);
                }
            }
            Input::TransportError { error, .. } => {
                if let Some(purpose) = answered {
                    self.on_transport_error(now, purpose, error);
                }
            }
            Input::Cancel { .. } => self.on_cancel(now),
            Input::Tick { .. } => {}
        }
        self.drive(now);
        Ok(())
    }

    /// The next output. Drain until [`Output::WakeAt`] (then wait for that instant
    /// or an input) or [`Output::Done`] (the job is over).
    #[must_use]
    pub fn poll_output(&mut self) -> Output {
        if let Some(output) = self.queue.pop() {
            return output;
        }
        match self.next_wake() {
            Some(at) => Output::WakeAt(at),
            None => Output::Done,
        }
    }

    /// When the job next needs an [`Input::Tick`], or `None` once it is finished.
    #[must_use]
    pub fn next_wake(&self) -> Option<Instant> {
        if self.phase.is_finished() {
            return None;
        }
        let at = match self.phase.in_flight() {
            Some((in_flight, _)) => in_flight.expires_at,
            None => match self.deadline() {
                Some(deadline) => self.next_send_at.min(deadline),
                None => self.next_send_at,
            },
        };
        Some(self.instant(at))
    }

    /// Whether the outcome has been decided (it may still be waiting in the output
    /// queue).
    pub fn is_finished(&self) -> bool {
        self.phase.is_finished()
    }

    /// The job's id, once known.
    pub fn job_id(&self) -> Option<&str> {
        self.job_id.as_deref()
    }

    /// The status URL, once known.
    pub fn status_url(&self) -> Option<&Url> {
        match (self.rare().status_url.as_deref(), &self.spec.start) {
            (Some(url), _) => Some(url),
            (None, Start::Poll { status_url, .. }) => Some(status_url),
            (None, Start::Submit { .. }) => None,
        }
    }

    /// The server's last status value.
    pub fn last_status(&self) -> Option<&str> {
        self.last_status.as_deref()
    }

    /// The spec the job was built from.
    pub fn spec(&self) -> &JobSpec<P> {
        &self.spec
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Counts and times so far.
    pub fn stats(&self) -> Stats {
        Stats {
            job_id: self.job_id.as_deref().map(str::to_owned),
            elapsed: Duration::from_micros(self.age),
            attempts: self.attempts,
            requests: self.requests,
            last_status: self.last_status.as_deref().map(str::to_owned),
            unreached: !self.contact,
        }
    }

    // --- time -------------------------------------------------------------------

    /// Converts a driver instant into an age, never going backwards.
    pub(super) fn advance(&mut self, now: Instant) -> u64 {
        self.age = self.age_at(now);
        self.age
    }

    /// The job's age at `now`: never less than it was.
    pub(super) fn age_at(&self, now: Instant) -> u64 {
        let age = (i128::from(now.as_micros()) - self.origin()).clamp(0, i128::from(u64::MAX));
        self.age.max(age as u64)
    }

    /// The driver instant at `age`; an age past the end of the clock is
    /// [`Instant::MAX`], which the documentation of [`Instant`] calls "never".
    pub(super) fn instant(&self, age: u64) -> Instant {
        let micros = (self.origin() + i128::from(age)).clamp(0, i128::from(u64::MAX));
        Instant::from_micros(micros as u64)
    }

    /// The deadline, as an age.
    pub(super) fn deadline(&self) -> Option<u64> {
        self.config.deadline.map(micros)
    }

    // --- the main step ----------------------------------------------------------

    /// Enforces request time limits and the deadline, and sends what is due.
    pub(super) fn drive(&mut self, now: u64) {
        if self.phase.is_finished() {
            return;
        }
        if let Some((in_flight, purpose)) = self.phase.in_flight() {
            if now < in_flight.expires_at {
                return;
            }
            self.phase.take_in_flight();
            self.push(Output::Abort(in_flight.id()));
            self.on_transport_error(now, purpose, TransportError::NoResponseInTime);
            if self.phase.is_finished() || self.phase.in_flight().is_some() {
                return;
            }
        }
        if let Some(deadline) = self.deadline()
            && now >= deadline
        {
            self.on_deadline(now);
            return;
        }
        // The one place the fleet's gate counts (see `fleet_hooks`).
        if now >= self.next_send_at && !self.gated {
            self.send(now);
        }
    }

    /// The deadline has come.
    fn on_deadline(&mut self, now: u64) {
        let deadline = self.config.deadline.unwrap_or_default();
        self.stop_at_limit(now, WaitLimit::Deadline { deadline });
    }
}
