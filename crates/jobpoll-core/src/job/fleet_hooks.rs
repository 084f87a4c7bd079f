//! What a fleet needs of a job, and nothing else does: building it behind a gate,
//! holding and releasing its requests, lending it an output buffer, ending it
//! without a word to the server.
//!
//! The gate is the job's `gated` flag. The state machine looks at it in one place
//! only, where a due request would go out ([`Job::drive`]); everything else about
//! it is here.

use std::sync::Arc;

use crate::config::{Config, FirstPoll};
use crate::profile::Interpret;
use crate::rng::Rng;
use crate::time::Instant;

use super::io::{JobSpec, SpecError, Start, validate};
use super::layout::{History, Outputs};
use super::machine::Job;
use super::phase::Phase;

impl<P: Interpret> Job<P> {
    /// A job that starts at `now`: one whose requests a fleet lets out (`gated`:
    /// none goes out until the fleet opens the gate), or one on its own (every
    /// constructor comes here).
    pub(crate) fn build(
        spec: JobSpec<P>,
        config: Arc<Config>,
        seed: u64,
        now: Instant,
        gated: bool,
    ) -> Result<Job<P>, SpecError> {
        validate(&spec, &config)?;
        let normalized = Config::clone(&config).normalized();
        let config = if normalized == *config {
            config
        } else {
            Arc::new(normalized)
        };
        let (phase, job_id) = match &spec.start {
            Start::Poll { job_id, .. } => (Phase::POLLING, job_id.as_deref().map(Box::from)),
            Start::Submit { .. } => (Phase::SUBMITTING, None),
        };
        let mut job = Job {
            rng: Rng::new(seed),
            spec,
            config,
            origin: now.as_micros(),
            age: 0,
            next_send_at: 0,
            phase,
            history: History::default(),
            job_id,
            last_status: None,
            queue: Outputs::default(),
            rare: None,
            attempts: 0,
            requests: 0,
            next_request_id: 0,
            gated,
            origin_before_epoch: false,
            contact: false,
        };
        if job.phase == Phase::POLLING && job.config.first_poll == FirstPoll::AfterFirstDelay {
            job.schedule_poll(0, None);
        }
        job.drive(0);
        Ok(job)
    }

    /// Holds back (`true`) or lets out the job's requests.
    pub(crate) fn set_gated(&mut self, gated: bool) {
        self.gated = gated;
    }

    /// A tick while the gate is shut, when it can only move the job's clock on:
    /// the job is not finished, has nothing in flight and its deadline has not
    /// come, so [`Job::handle_input`] with [`Input::Tick`](super::Input::Tick)
    /// would change nothing else and emit nothing (a due request stays behind the
    /// gate). Then the clock moves and this returns true; otherwise nothing changes
    /// and it returns false.
    pub(crate) fn tick_held(&mut self, now: Instant) -> bool {
        if !self.gated || self.phase.is_finished() || self.phase.in_flight().is_some() {
            return false;
        }
        let age = self.age_at(now);
        if self.deadline().is_some_and(|deadline| age >= deadline) {
            return false;
        }
        self.age = age;
        true
    }

    /// Whether a request is due now (the gate may be holding it back).
    pub(crate) fn wants_to_send(&self) -> bool {
        !self.phase.is_finished()
            && self.phase.in_flight().is_none()
            && self.age >= self.next_send_at
    }

    /// When the job needs a tick, not counting a request that is due but held back
    /// by the gate (the fleet releases that one itself).
    pub(crate) fn wake_at(&self) -> Option<Instant> {
        if self.gated && self.wants_to_send() {
            return self.deadline().map(|deadline| self.instant(deadline));
        }
        self.next_wake()
    }

    /// Lends the job an empty output buffer that already has capacity, so that a
    /// fleet of idle jobs does not keep one allocated buffer each.
    pub(crate) fn lend_buffer(&mut self, spare: &mut Outputs) {
        self.queue.borrow_buffer(spare);
    }

    /// Whether outputs wait in the job's queue (not counting the wake-up or
    /// `Done` that [`Job::poll_output`] gives when it is empty).
    pub(crate) fn has_outputs(&self) -> bool {
        self.queue.is_waiting()
    }

    /// Takes back the (drained) output buffer: into `spare` if that has none, else
    /// it is freed.
    pub(crate) fn reclaim_buffer(&mut self, spare: &mut Outputs) {
        self.queue.return_buffer(spare);
    }

    /// Ends the job as cancelled without telling the server (the fleet is paused and
    /// may send nothing).
    pub(crate) fn cancel_locally(&mut self, now: Instant) {
        let now = self.advance(now);
        match self.phase {
            Phase::Polling { .. } | Phase::Cancelling { .. } => self.finish_cancelled(now, None),
            _ => self.on_cancel(now),
        }
    }
}
