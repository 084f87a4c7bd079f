//! Mean and 95th percentile of what the benchmark measures.

use super::drive::JobResult;
use super::workload::JobCase;

/// The figures of one policy over the whole workload.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// Mean of detection delay / job duration.
    pub mean_rel_delay: f64,
    /// 95th percentile (nearest rank) of detection delay / job duration.
    pub p95_rel_delay: f64,
    /// Mean status requests per job.
    pub mean_requests: f64,
    /// 95th percentile (nearest rank) of status requests per job.
    pub p95_requests: f64,
}

/// Arithmetic mean; 0 for no values.
pub fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

/// The `q`-quantile (`q` in `[0, 1]`) by the nearest-rank method: the smallest value
/// with at least `q` of the values at or below it, i.e. `sorted[ceil(q * n) - 1]`
/// (the smallest for `q = 0`); 0 for no values. Always one of the values, so
/// "p95 at most 8 %" means at least 95 % of the jobs were seen within 8 %.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = (q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The summary of `results`, one per job of `cases` in the same order.
pub fn summarize(cases: &[JobCase], results: &[JobResult]) -> Summary {
    let rel: Vec<f64> = cases
        .iter()
        .zip(results)
        .map(|(case, result)| result.delay_us as f64 / case.duration_us as f64)
        .collect();
    let requests: Vec<f64> = results.iter().map(|r| f64::from(r.requests)).collect();
    Summary {
        mean_rel_delay: mean(&rel),
        p95_rel_delay: quantile(&rel, 0.95),
        mean_requests: mean(&requests),
        p95_requests: quantile(&requests, 0.95),
    }
}
