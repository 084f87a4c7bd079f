//! Progress and remaining-time estimates: the slope of the server's progress, and
//! the report a `304 Not Modified` repeats.

use core::time::Duration;
use serde::{Deserialize, Serialize};

use crate::profile::{Interpret, StatusReport};
use crate::time::micros;

use super::machine::Job;

/// A sample of the server's progress, for the slope estimate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct ProgressSample {
    /// When it was reported, as an age.
    pub(super) age: u64,
    pub(super) percentage: f64,
}

/// What a status answer reported besides its status: kept with its `ETag`, so that
/// a `304 Not Modified` (the answer to a request that named that tag) repeats it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct KnownReport {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) percentage: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) step: Option<String>,
    /// When the server's estimate of the remaining time runs out, as an age: the
    /// estimate counts down from the answer that gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) eta_until: Option<u64>,
}

impl KnownReport {
    /// What `report`, answered at `now`, said besides its status; `None` if nothing.
    pub(super) fn of(report: &StatusReport, now: u64) -> Option<KnownReport> {
        let known = KnownReport {
            percentage: report.percentage,
            step: report.step.clone(),
            eta_until: report.eta.map(|eta| now.saturating_add(micros(eta))),
        };
        (known != KnownReport::default()).then_some(known)
    }

    /// The server's estimate at `now`, counted down from when it was given (zero
    /// once it has run out).
    pub(super) fn eta_at(&self, now: u64) -> Option<Duration> {
        self.eta_until
            .map(|until| Duration::from_micros(until.saturating_sub(now)))
    }
}

impl<P: Interpret> Job<P> {
    /// Notes the progress a running job reported at `now`, if it reported any.
    pub(super) fn record_progress(&mut self, now: u64, percentage: Option<f64>) {
        let Some(percentage) = percentage else {
            return;
        };
        // A NaN percentage is no sample: no built-in profile reports one.
        let sample = (!percentage.is_nan()).then_some(ProgressSample {
            age: now,
            percentage,
        });
        let history = &mut self.history;
        // Progress that goes backwards starts a new slope (a new phase of the job).
        if history.first_sample().is_none()
            || history
                .last_sample()
                .is_some_and(|last| percentage < last.percentage)
        {
            history.set_first_sample(sample);
        }
        history.set_last_sample(sample);
    }

    /// Remaining time predicted from the average progress rate since the first
    /// sample.
    pub(super) fn slope_estimate(&self, now: u64) -> Option<Duration> {
        let (first, last) = (self.history.first_sample()?, self.history.last_sample()?);
        if last.percentage <= first.percentage || last.age <= first.age {
            return None;
        }
        let rate = (last.percentage - first.percentage) / (last.age - first.age) as f64;
        let remaining_after_last = (100.0 - last.percentage).max(0.0) / rate;
        let remaining = remaining_after_last - now.saturating_sub(last.age) as f64;
        Some(crate::time::duration_from_secs_f64(remaining / 1e6))
    }
}
