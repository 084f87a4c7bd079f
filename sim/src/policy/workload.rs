//! The benchmark's workload: job durations from a lognormal mixture,
//! truncated to [5 s, 90 min] by redrawing.

use jobpoll_core::rng::Rng;

use crate::distributions::lognormal;

/// One lognormal component of the duration mixture.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Component {
    /// Share of the jobs drawn from this component.
    pub weight: f64,
    /// Median duration, in seconds.
    pub median_secs: f64,
    /// Sigma of the underlying normal (of the natural logarithm of the duration).
    pub sigma: f64,
}

/// The mixture: 40 % of quick jobs (median 15 s), 35 % of medium ones (median 3 min)
/// and 25 % of long ones (median 15 min).
pub const MIXTURE: [Component; 3] = [
    Component {
        weight: 0.40,
        median_secs: 15.0,
        sigma: 0.5,
    },
    Component {
        weight: 0.35,
        median_secs: 180.0,
        sigma: 0.6,
    },
    Component {
        weight: 0.25,
        median_secs: 900.0,
        sigma: 0.7,
    },
];

/// Shortest job duration, in seconds.
pub const MIN_DURATION_SECS: f64 = 5.0;

/// Longest job duration, in seconds (90 minutes).
pub const MAX_DURATION_SECS: f64 = 90.0 * 60.0;

/// One job of the workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobCase {
    /// Position in the workload.
    pub index: usize,
    /// Which [`MIXTURE`] component the duration was drawn from.
    pub component: usize,
    /// How long the job runs, in whole microseconds (the core's resolution, so that
    /// "the job is done" is an exact integer comparison with the job's age).
    pub duration_us: u64,
    /// Seed of everything random about this job once its duration is known: the
    /// ETA noise of the responder and the job's own jitter generator. Every policy
    /// sees the same stream for the same job (common random numbers), so policies
    /// differ only by what they do.
    pub seed: u64,
}

impl JobCase {
    /// The duration in seconds.
    pub fn duration_secs(&self) -> f64 {
        self.duration_us as f64 / 1e6
    }
}

/// `jobs` jobs from the root `seed`.
///
/// For each job, in order: one uniform draw picks the component by its weight,
/// then lognormal draws are repeated until one falls in
/// [[`MIN_DURATION_SECS`], [`MAX_DURATION_SECS`]] (truncation by **redrawing**, so
/// the component's shape is kept inside the bounds and there is no point mass at
/// either bound), then one draw seeds the job's own randomness. The same seed gives
/// the same workload forever (the generator is the core's SplitMix64).
pub fn generate(jobs: usize, seed: u64) -> Vec<JobCase> {
    let mut rng = Rng::new(seed);
    (0..jobs)
        .map(|index| {
            let component = pick_component(rng.next_f64());
            let Component {
                median_secs, sigma, ..
            } = MIXTURE[component];
            let secs = loop {
                let draw = lognormal(&mut rng, median_secs, sigma);
                if (MIN_DURATION_SECS..=MAX_DURATION_SECS).contains(&draw) {
                    break draw;
                }
            };
            JobCase {
                index,
                component,
                duration_us: (secs * 1e6).round() as u64,
                seed: rng.next_u64(),
            }
        })
        .collect()
}

/// The component a uniform draw in `[0, 1)` selects (cumulative weights).
fn pick_component(u: f64) -> usize {
    let mut cumulative = 0.0;
    for (i, component) in MIXTURE.iter().enumerate() {
        cumulative += component.weight;
        if u < cumulative {
            return i;
        }
    }
    MIXTURE.len() - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_are_picked_by_cumulative_weight() {
        assert_eq!(pick_component(0.0), 0);
        assert_eq!(pick_component(0.399), 0);
        assert_eq!(pick_component(0.401), 1);
        assert_eq!(pick_component(0.749), 1);
        assert_eq!(pick_component(0.751), 2);
        assert_eq!(pick_component(0.999_999), 2);
    }
}
