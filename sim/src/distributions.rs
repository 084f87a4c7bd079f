//! Random draws the simulator and the benchmarks need, from the core's seeded
//! [`Rng`] so that a seed means the same thing forever.

use jobpoll_core::rng::Rng;

/// A standard normal draw (Box-Muller; one of the pair is discarded to keep the
/// generator's state the only state).
pub fn standard_normal(rng: &mut Rng) -> f64 {
    // 1 - u is in (0, 1], so the logarithm is finite.
    let u1 = 1.0 - rng.next_f64();
    let u2 = rng.next_f64();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// A lognormal draw with the given median and sigma (of the underlying normal).
pub fn lognormal(rng: &mut Rng, median: f64, sigma: f64) -> f64 {
    median * (sigma * standard_normal(rng)).exp()
}

/// `true` with probability `p`.
pub fn chance(rng: &mut Rng, p: f64) -> bool {
    rng.next_f64() < p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lognormal_median_is_the_median() {
        let mut rng = Rng::new(7);
        let mut draws: Vec<f64> = (0..20_001)
            .map(|_| lognormal(&mut rng, 15.0, 0.5))
            .collect();
        draws.sort_by(f64::total_cmp);
        let median = draws[10_000];
        assert!((median - 15.0).abs() < 0.5, "median {median}");
        let mut rng = Rng::new(7);
        let normals: Vec<f64> = (0..20_000).map(|_| standard_normal(&mut rng)).collect();
        let mean = normals.iter().sum::<f64>() / 20_000.0;
        let var = normals.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 20_000.0;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "mean {mean} var {var}"
        );
    }
}
