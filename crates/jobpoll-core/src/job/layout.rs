//! How a job stays small: the one place where its in-memory form trades plain
//! fields for a compact layout, because a fleet keeps a million idle jobs.
//!
//! Three things live here, each read and written through the small methods
//! below, so that the state machine only ever sees plain `Option`s:
//!
//! - [`Outputs`]: the output queue, boxed and dropped when empty (8 bytes, not a
//!   `VecDeque`'s 32), so that a fleet can lend one buffer to whichever job works.
//! - [`Rare`]: what most jobs never need, out of line and allocated the first time
//!   one of its values is set.
//! - [`History`]: the optional values every polling job carries, with one byte
//!   saying which are present instead of an eight-byte flag each.
//!
//! One more choice of the same kind stands beside the type it shapes: a phase's
//! request in flight is the enum [`Request`](super::phase::Request) rather than an
//! `Option`, which keeps every phase at 24 bytes. With all of this a
//! `Job<Arc<Profile>>` is 352 bytes on a 64-bit target, 168 of them its spec (the
//! `fleet` bench prints both; a test below keeps it there).

use std::collections::VecDeque;

use core::time::Duration;
use url::Url;

use crate::hints::ServerHint;
use crate::profile::PollMode;
use crate::time::micros;

use super::estimate::{KnownReport, ProgressSample};
use super::io::Output;
use super::machine::Job;

/// Pending outputs; `None` when there are none and no buffer is kept (a fleet lends
/// its one buffer to whichever job handles an input). Equal when the outputs are.
#[derive(Clone, Debug, Default)]
#[allow(clippy::box_collection)]
pub(crate) struct Outputs(Option<Box<VecDeque<Output>>>);

impl PartialEq for Outputs {
    fn eq(&self, other: &Outputs) -> bool {
        let empty = VecDeque::new();
        self.0.as_deref().unwrap_or(&empty) == other.0.as_deref().unwrap_or(&empty)
    }
}

impl Outputs {
    /// The outputs, in order.
    pub(super) fn new(queue: VecDeque<Output>) -> Outputs {
        Outputs((!queue.is_empty()).then(|| Box::new(queue)))
    }

    /// All of them, taken.
    pub(super) fn into_queue(self) -> VecDeque<Output> {
        self.0.map(|queue| *queue).unwrap_or_default()
    }

    /// Queues one more (in the kept buffer, or a new one).
    pub(super) fn push(&mut self, output: Output) {
        self.0.get_or_insert_default().push_back(output);
    }

    /// The first waiting output, taken.
    pub(super) fn pop(&mut self) -> Option<Output> {
        self.0.as_mut()?.pop_front()
    }

    /// Keeps only the outputs `keep` accepts.
    pub(super) fn retain(&mut self, keep: impl FnMut(&Output) -> bool) {
        if let Some(queue) = self.0.as_mut() {
            queue.retain(keep);
        }
    }

    /// Whether outputs wait.
    pub(super) fn is_waiting(&self) -> bool {
        self.0.as_ref().is_some_and(|queue| !queue.is_empty())
    }

    /// Takes `spare`'s buffer when this has none.
    pub(super) fn borrow_buffer(&mut self, spare: &mut Outputs) {
        if self.0.is_none() {
            self.0 = spare.0.take();
        }
    }

    /// Gives an empty buffer back: into `spare` if that has none, else it is freed.
    pub(super) fn return_buffer(&mut self, spare: &mut Outputs) {
        if self.0.as_ref().is_some_and(|queue| queue.is_empty()) {
            let queue = self.0.take();
            if spare.0.is_none() {
                spare.0 = queue;
            }
        }
    }
}

/// What most jobs never need: kept out of line so that an idle job in a fleet of a
/// million stays small. Allocated the first time one of these is set (through
/// [`Job::rare_mut`]); read through [`Job::rare`], which gives the defaults when
/// nothing was ever set.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Rare {
    /// The status URL when it is not the spec's (learned from the submit answer).
    pub(super) status_url: Option<Box<Url>>,
    pub(super) results_url: Option<Box<Url>>,
    /// How status answers are read, as the submit answer chose.
    pub(super) mode: PollMode,
    /// When status polling began after a submit (zero for a job polled from the
    /// start): the 404 grace period counts from here.
    pub(super) polling_since: u64,
    /// No request before this (server hints), and the hint that set it.
    pub(super) not_before: u64,
    pub(super) hint: Option<ServerHint>,
    /// While an answer is being handled: when the wait that answer asked for
    /// ends, if it asked for one that sets the next request's time. Taken by the
    /// next [`Job::set_next_send`], and cleared when the job ends, so it is never
    /// set between two inputs (snapshots need not keep it).
    pub(super) answer_wait: Option<u64>,
    /// The retry schedule's state: failures in a row, how many of them were
    /// unreadable answers, and its previous delay.
    pub(super) consecutive_errors: u32,
    pub(super) consecutive_unreadable: u32,
    pub(super) previous_retry_delay: Option<Duration>,
    pub(super) revision: Option<u64>,
    /// The `ETag` of the last status answer, sent back as `If-None-Match`.
    pub(super) etag: Option<String>,
    /// What that answer reported besides its status, when it reported anything:
    /// a `304 Not Modified` says it is still current.
    pub(super) etag_report: Option<Box<KnownReport>>,
}

/// The defaults [`Job::rare`] reads when nothing rare was ever set.
static NOTHING_RARE: Rare = Rare {
    status_url: None,
    results_url: None,
    mode: PollMode::Body,
    polling_since: 0,
    not_before: 0,
    hint: None,
    answer_wait: None,
    consecutive_errors: 0,
    consecutive_unreadable: 0,
    previous_retry_delay: None,
    revision: None,
    etag: None,
    etag_report: None,
};

impl<P> Job<P> {
    /// What is seldom needed, to read.
    pub(super) fn rare(&self) -> &Rare {
        self.rare.as_deref().unwrap_or(&NOTHING_RARE)
    }

    /// What is seldom needed, to change (allocated on first use).
    pub(super) fn rare_mut(&mut self) -> &mut Rare {
        self.rare.get_or_insert_default()
    }

    /// What is seldom needed, to change only if it was ever set (to reset it
    /// without allocating).
    pub(super) fn rare_if_set(&mut self) -> Option<&mut Rare> {
        self.rare.as_deref_mut()
    }
}

/// What the job remembers of its requests, its poll schedule and the server's
/// progress. Four of these values are optional; as four `Option`s they would take
/// 80 bytes (each flag padded to eight), so they are stored plainly with one byte
/// saying which are present: 56 bytes. Read and write them only through the
/// methods, which speak `Option`.
#[derive(Clone, Copy, Default)]
pub(super) struct History {
    /// How many delays the poll schedule has given.
    pub(super) poll_delays: u32,
    last_sent_at: u64,
    /// In whole microseconds, which is exact: schedules give nothing finer.
    previous_poll_delay: u64,
    first_sample: ProgressSample,
    last_sample: ProgressSample,
    /// Which of the four are present: the `HAS_` bits.
    present: u8,
}

const HAS_LAST_SENT_AT: u8 = 1;
const HAS_PREVIOUS_POLL_DELAY: u8 = 2;
const HAS_FIRST_SAMPLE: u8 = 4;
const HAS_LAST_SAMPLE: u8 = 8;

impl History {
    fn has(&self, bit: u8) -> bool {
        self.present & bit != 0
    }

    fn mark(&mut self, bit: u8, present: bool) {
        if present {
            self.present |= bit;
        } else {
            self.present &= !bit;
        }
    }

    /// When the last request was sent, as an age (`None` before the first).
    pub(super) fn last_sent_at(&self) -> Option<u64> {
        self.has(HAS_LAST_SENT_AT).then_some(self.last_sent_at)
    }

    /// See [`History::last_sent_at`].
    pub(super) fn set_last_sent_at(&mut self, age: Option<u64>) {
        self.last_sent_at = age.unwrap_or_default();
        self.mark(HAS_LAST_SENT_AT, age.is_some());
    }

    /// The poll schedule's previous delay (`None` before the first).
    pub(super) fn previous_poll_delay(&self) -> Option<Duration> {
        self.has(HAS_PREVIOUS_POLL_DELAY)
            .then(|| Duration::from_micros(self.previous_poll_delay))
    }

    /// See [`History::previous_poll_delay`].
    pub(super) fn set_previous_poll_delay(&mut self, delay: Option<Duration>) {
        self.previous_poll_delay = delay.map_or(0, micros);
        self.mark(HAS_PREVIOUS_POLL_DELAY, delay.is_some());
    }

    /// The first sample of the current progress slope.
    pub(super) fn first_sample(&self) -> Option<ProgressSample> {
        self.has(HAS_FIRST_SAMPLE).then_some(self.first_sample)
    }

    /// See [`History::first_sample`].
    pub(super) fn set_first_sample(&mut self, sample: Option<ProgressSample>) {
        self.first_sample = sample.unwrap_or_default();
        self.mark(HAS_FIRST_SAMPLE, sample.is_some());
    }

    /// The latest progress sample.
    pub(super) fn last_sample(&self) -> Option<ProgressSample> {
        self.has(HAS_LAST_SAMPLE).then_some(self.last_sample)
    }

    /// See [`History::last_sample`].
    pub(super) fn set_last_sample(&mut self, sample: Option<ProgressSample>) {
        self.last_sample = sample.unwrap_or_default();
        self.mark(HAS_LAST_SAMPLE, sample.is_some());
    }
}

impl PartialEq for History {
    fn eq(&self, other: &History) -> bool {
        self.poll_delays == other.poll_delays
            && self.last_sent_at() == other.last_sent_at()
            && self.previous_poll_delay() == other.previous_poll_delay()
            && self.first_sample() == other.first_sample()
            && self.last_sample() == other.last_sample()
    }
}

impl core::fmt::Debug for History {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("History")
            .field("poll_delays", &self.poll_delays)
            .field("last_sent_at", &self.last_sent_at())
            .field("previous_poll_delay", &self.previous_poll_delay())
            .field("first_sample", &self.first_sample())
            .field("last_sample", &self.last_sample())
            .finish()
    }
}

#[cfg(all(test, target_pointer_width = "64"))]
mod tests {
    use std::sync::Arc;

    use super::History;
    use crate::job::Job;
    use crate::job::phase::Phase;
    use crate::profile::Profile;

    #[test]
    fn a_job_stays_as_small_as_its_layout_promises() {
        assert_eq!(size_of::<Phase>(), 24);
        assert_eq!(size_of::<History>(), 56);
        assert!(size_of::<Job<Arc<Profile>>>() <= 352);
    }
}
