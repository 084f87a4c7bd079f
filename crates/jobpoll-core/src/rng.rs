//! The job's own seeded random numbers, for jitter.
//!
//! The generator is SplitMix64 (Steele, Lea & Flood, "Fast splittable pseudorandom
//! number generators", OOPSLA 2014): one `u64` of state, serializable, and its output
//! stream is fixed by the algorithm itself. That last property is why it is written
//! out here instead of taken from a crate: a recorded trace must replay bit for bit
//! against any later build, so the stream may never change with a dependency update.

use serde::{Deserialize, Serialize};

/// A small deterministic pseudo-random generator held in the job's state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator whose whole future output is determined by `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform float in `[0, 1)` with 53 bits of precision.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform float in `[low, high)`; `low` when the range is empty.
    pub fn range_f64(&mut self, low: f64, high: f64) -> f64 {
        if high > low {
            low + (high - low) * self.next_f64()
        } else {
            low
        }
    }

    /// A child generator for a sub-component, so that adding draws in one place does
    /// not shift the stream seen by another.
    pub fn fork(&mut self) -> Rng {
        Rng::new(self.next_u64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_is_fixed_by_the_algorithm() {
        // Reference values of SplitMix64 seeded with 0 (the published test vector).
        let mut rng = Rng::new(0);
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(rng.next_u64(), 0x06C4_5D18_8009_454F);
    }

    #[test]
    fn floats_stay_in_range() {
        let mut rng = Rng::new(42);
        for _ in 0..10_000 {
            let x = rng.next_f64();
            assert!((0.0..1.0).contains(&x));
            let y = rng.range_f64(2.0, 3.0);
            assert!((2.0..3.0).contains(&y));
        }
        assert_eq!(rng.range_f64(5.0, 5.0), 5.0);
    }
}
