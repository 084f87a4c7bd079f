//! The compact in-memory layout of a job: what it keeps out of line, and how.

use std::collections::VecDeque;

use core::time::Duration;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::hints::ServerHint;

use super::estimate::KnownReport;
use super::io::{Output, Purpose, RequestId};

/// Where the job is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    Submitting,
    Polling,
    /// Fetching the results; the URL and the pending result are in [`Rare`].
    FetchingResults,
    Cancelling,
    Finished,
}

/// A request in flight. Times are ages: microseconds since the job started.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct InFlight {
    pub(super) id: RequestId,
    pub(super) purpose: Purpose,
    pub(super) expires_at: u64,
}

/// Sample of the server's progress, for the slope estimate.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct ProgressSample {
    pub(super) age: u64,
    pub(super) percentage: f64,
}

/// An optional progress sample in 16 bytes: a NaN percentage (which no report
/// carries) means none.
#[derive(Clone, Copy, Debug)]
pub(super) struct MaybeSample(ProgressSample);

impl PartialEq for MaybeSample {
    fn eq(&self, other: &MaybeSample) -> bool {
        self.get() == other.get()
    }
}

/// Pending outputs; `None` when there are none and no buffer is kept (a fleet lends
/// its one buffer to whichever job handles an input). Equal when the outputs are.
/// Boxed so that a job without outputs pays 8 bytes, not a `VecDeque`'s 32.
#[derive(Clone, Debug, Default)]
#[allow(clippy::box_collection)]
pub(crate) struct Outputs(pub(super) Option<Box<VecDeque<Output>>>);

impl PartialEq for Outputs {
    fn eq(&self, other: &Outputs) -> bool {
        let empty = VecDeque::new();
        self.0.as_deref().unwrap_or(&empty) == other.0.as_deref().unwrap_or(&empty)
    }
}

impl MaybeSample {
    pub(super) const NONE: MaybeSample = MaybeSample(ProgressSample {
        age: 0,
        percentage: f64::NAN,
    });

    pub(super) fn get(self) -> Option<ProgressSample> {
        (!self.0.percentage.is_nan()).then_some(self.0)
    }

    pub(super) fn from(sample: Option<ProgressSample>) -> MaybeSample {
        sample
            .filter(|s| !s.percentage.is_nan())
            .map_or(MaybeSample::NONE, MaybeSample)
    }
}

/// No value, for the `u64` fields that stand for an `Option<u64>`.
pub(super) const NONE_U64: u64 = u64::MAX;

pub(super) fn opt_u64(value: u64) -> Option<u64> {
    (value != NONE_U64).then_some(value)
}

/// An optional duration as whole nanoseconds (exact up to 584 years; longer ones
/// are held at that).
pub(super) fn pack_duration(duration: Option<Duration>) -> u64 {
    duration.map_or(NONE_U64, |d| {
        u64::try_from(d.as_nanos())
            .unwrap_or(NONE_U64 - 1)
            .min(NONE_U64 - 1)
    })
}

pub(super) fn unpack_duration(nanos: u64) -> Option<Duration> {
    (nanos != NONE_U64).then(|| Duration::from_nanos(nanos))
}

/// What most jobs never need: kept out of line so that an idle job in a fleet of a
/// million stays small. Allocated the first time one of these is set.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Rare {
    /// The status URL when it is not the spec's (learned from the submit answer).
    pub(super) status_url: Option<Box<Url>>,
    pub(super) results_url: Option<Box<Url>>,
    /// While fetching the results: where, and the result the status gave.
    pub(super) fetch_url: Option<Box<Url>>,
    pub(super) pending_result: Option<Box<serde_json::Value>>,
    /// When status polling began after a submit (zero for a job polled from the
    /// start): the 404 grace period counts from here.
    pub(super) polling_since: u64,
    /// No request before this (server hints), and the hint that set it.
    pub(super) not_before: u64,
    pub(super) hint: Option<ServerHint>,
    pub(super) previous_retry_delay: Option<Duration>,
    pub(super) consecutive_unreadable: u32,
    pub(super) revision: Option<u64>,
    /// The `ETag` of the last status answer, sent back as `If-None-Match`.
    pub(super) etag: Option<String>,
    /// What that answer reported besides its status, when it reported anything:
    /// a `304 Not Modified` says it is still current.
    pub(super) etag_report: Option<Box<KnownReport>>,
}
