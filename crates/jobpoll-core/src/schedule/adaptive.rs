//! The adaptive schedule's parameters and their tuned values.

use core::time::Duration;

use serde::{Deserialize, Serialize};

use crate::time::serde_micros;

/// Parameters of the adaptive schedule (see [`Schedule::Adaptive`](super::Schedule::Adaptive)).
///
/// With `age` the job's age and `estimate` the predicted remaining time (the
/// server's ETA, else the progress slope), the delay is
///
/// ```text
/// with an estimate:  remaining_fraction * estimate + approach_fraction * age
/// without one:       max(age_fraction * age, settle - age)
/// ```
///
/// clamped to `[min, max]`. `docs/adaptive.md` explains the rule and how
/// [`Adaptive::standard`] was tuned.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Adaptive {
    /// Never wait less than this.
    #[serde(with = "serde_micros")]
    pub min: Duration,
    /// Never wait more than this (bounds the absolute delay of very long jobs).
    #[serde(with = "serde_micros")]
    pub max: Duration,
    /// With an estimate of the remaining time, wait this fraction of it: a low
    /// quantile of the true remaining time, so the poll rarely lands after the end.
    pub remaining_fraction: f64,
    /// With an estimate, also wait this fraction of the job's age: the lateness
    /// accepted near the predicted end, which makes the final approach grow
    /// geometrically instead of creeping in `min` steps.
    #[serde(default)]
    pub approach_fraction: f64,
    /// Without an estimate, wait this fraction of the job's age: every job is then
    /// seen at most this fraction of its duration late.
    pub age_fraction: f64,
    /// Without an estimate, no poll before the job is this old (jobs that end
    /// sooner are the few the p95 budget is spent on).
    #[serde(default, with = "serde_micros")]
    pub settle: Duration,
}

impl Adaptive {
    /// The tuned parameters: between 0.5 s and 5 min; with an estimate, half of it
    /// plus 5 % of the job's age; without one, 11.5 % of the age and no poll before
    /// 9 s. On the benchmark's workload (`jobpoll-sim bench-policies`) this gives
    /// 5.4 requests per job at a p95 relative delay of 5 % with an ETA of lognormal
    /// error sigma 0.3, and 24.8 requests at 11.3 % with no hints at all.
    pub fn standard() -> Adaptive {
        Adaptive {
            min: Duration::from_millis(500),
            max: Duration::from_secs(5 * 60),
            remaining_fraction: 0.5,
            approach_fraction: 0.05,
            age_fraction: 0.115,
            settle: Duration::from_secs(9),
        }
    }
}
