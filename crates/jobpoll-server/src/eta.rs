//! The server's estimate of a job's remaining time: the truth times a lognormal
//! error, `remaining × exp(σ·Z)` with `Z ~ N(0, 1)`, as real servers' estimates are
//! off by a factor rather than by a fixed amount.

use std::f64::consts::TAU;
use std::time::Duration;

use jobpoll_core::rng::Rng;

/// Estimates are capped here (about 31 years), so that no σ makes them infinite.
const MAX_ESTIMATE_SECS: f64 = 1e9;

/// The estimate, in seconds rounded to milliseconds, of a job with `remaining` time
/// left. Draws two numbers from `rng` every time, whatever `sigma` is, so the
/// stream does not depend on the plans of other jobs.
pub(crate) fn estimate(rng: &mut Rng, remaining: Duration, sigma: f64) -> f64 {
    let z = standard_normal(rng);
    let factor = (sigma * z).exp();
    // A NaN σ (possible only from Rust, not JSON) means no error at all.
    let factor = if factor.is_nan() { 1.0 } else { factor };
    let seconds = (remaining.as_secs_f64() * factor).min(MAX_ESTIMATE_SECS);
    let seconds = if seconds.is_nan() { 0.0 } else { seconds };
    (seconds * 1_000.0).round() / 1_000.0
}

/// One standard normal draw (Box-Muller).
fn standard_normal(rng: &mut Rng) -> f64 {
    // 1 - u lies in (0, 1], so the logarithm is finite.
    let u1 = 1.0 - rng.next_f64();
    let u2 = rng.next_f64();
    (-2.0 * u1.ln()).sqrt() * (TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigma_zero_is_exact_to_the_millisecond() {
        let mut rng = Rng::new(1);
        assert_eq!(
            estimate(&mut rng, Duration::from_micros(12_345_678), 0.0),
            12.346
        );
    }

    #[test]
    fn the_error_is_lognormal_around_the_truth() {
        let mut rng = Rng::new(42);
        let n = 20_000;
        let logs: Vec<f64> = (0..n)
            .map(|_| (estimate(&mut rng, Duration::from_secs(100), 0.5) / 100.0).ln())
            .collect();
        let mean = logs.iter().sum::<f64>() / f64::from(n);
        let variance = logs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / f64::from(n);
        assert!(mean.abs() < 0.02, "mean of log error {mean}");
        assert!(
            (variance.sqrt() - 0.5).abs() < 0.02,
            "sd {}",
            variance.sqrt()
        );
    }

    #[test]
    fn absurd_sigmas_stay_finite() {
        let mut rng = Rng::new(3);
        for sigma in [1e6, -1e6, f64::INFINITY, f64::NAN] {
            for _ in 0..100 {
                let e = estimate(&mut rng, Duration::from_secs(10), sigma);
                assert!(
                    e.is_finite() && (0.0..=MAX_ESTIMATE_SECS).contains(&e),
                    "{e}"
                );
            }
        }
    }
}
