//! [`Schedule::next_delay`]: the delay each kind of schedule chooses, and the
//! float arithmetic in microseconds it is computed with.

use core::time::Duration;

use crate::rng::Rng;
use crate::time::{duration_from_secs_f64, micros, whole_micros};

use super::{Jitter, Schedule, ScheduleInput};

impl Schedule {
    /// The delay before the next request. Deterministic given `input` and the state
    /// of `rng`; the result is in whole microseconds.
    ///
    /// Never panics and never overflows, whatever the parameters (even ones
    /// [`Schedule::validate`] rejects) and inputs; `attempt` 0 is treated as 1. Only
    /// jittered exponential and waiter schedules draw from `rng`, at most once per
    /// call (no draw when the random range is empty).
    ///
    /// - `Fixed`: `interval`.
    /// - `Exponential`: the curve `min(max, initial * multiplier^(attempt-1))`, then
    ///   jitter: `None` gives the curve, `Full` a uniform draw in `[0, curve]`,
    ///   `Equal` in `[curve / 2, curve]`, `Decorrelated` in `[initial,
    ///   3 * previous]` (previous defaulting to `initial`) capped at `max`. The result
    ///   never exceeds `max`.
    /// - `Stepped`: the steps in order, each for `count` delays, then `then`.
    /// - `Staged`: the interval of the last stage whose `after <= elapsed`, else
    ///   `initial`.
    /// - `Waiter`: uniform in `[min_delay, min(max_delay, min_delay * 2^(attempt-1))]`,
    ///   or `min_delay` when that range is empty.
    /// - `Adaptive`: with a remaining estimate, `remaining_fraction` of it plus
    ///   `approach_fraction` of the job's age; without one, the larger of
    ///   `age_fraction` of the age and `settle - age`; clamped to `[min, max]` (`min`
    ///   wins if the two are inverted; a NaN or negative value gives `min`).
    pub fn next_delay(&self, input: &ScheduleInput, rng: &mut Rng) -> Duration {
        let attempt = input.attempt.max(1);
        match self {
            Schedule::Fixed { interval } => whole_micros(*interval),
            Schedule::Exponential {
                initial,
                multiplier,
                max,
                jitter,
            } => {
                let cap = whole_micros(*max);
                let cap_f = micros_f64(cap);
                let initial_f = micros_f64(*initial);
                let chosen = match jitter {
                    Jitter::None => exponential_curve(initial_f, *multiplier, cap_f, attempt),
                    Jitter::Full => {
                        let curve = exponential_curve(initial_f, *multiplier, cap_f, attempt);
                        rng.range_f64(0.0, curve)
                    }
                    Jitter::Equal => {
                        let curve = exponential_curve(initial_f, *multiplier, cap_f, attempt);
                        rng.range_f64(curve / 2.0, curve)
                    }
                    Jitter::Decorrelated => {
                        let previous = input.previous.map_or(initial_f, micros_f64);
                        rng.range_f64(initial_f, previous * 3.0).min(cap_f)
                    }
                };
                duration_from_micros_f64(chosen).min(cap)
            }
            Schedule::Stepped { steps, then } => {
                // 0-based index of this delay; walk through the steps' counts.
                let mut index = attempt - 1;
                for step in steps {
                    if index < step.count {
                        return whole_micros(step.interval);
                    }
                    index -= step.count;
                }
                whole_micros(*then)
            }
            Schedule::Staged { initial, stages } => {
                let interval = stages
                    .iter()
                    .rev()
                    .find(|stage| stage.after <= input.elapsed)
                    .map_or(*initial, |stage| stage.interval);
                whole_micros(interval)
            }
            Schedule::Waiter {
                min_delay,
                max_delay,
            } => {
                let low = whole_micros(*min_delay);
                let high = whole_micros(*max_delay);
                let low_f = micros_f64(low);
                // 2^64 times any non-zero delay already exceeds every `max_delay`, so
                // the exponent is capped there; `0 * 2^64` stays 0 (no `0 * inf`).
                let exponent = (attempt - 1).min(64) as i32;
                let ceiling = (low_f * 2f64.powi(exponent)).min(micros_f64(high));
                let chosen = duration_from_micros_f64(rng.range_f64(low_f, ceiling));
                chosen.min(high).max(low)
            }
            Schedule::Adaptive(params) => {
                let age = input.elapsed.as_secs_f64();
                let seconds = match input.remaining_estimate {
                    Some(remaining) => {
                        remaining.as_secs_f64() * params.remaining_fraction
                            + age * params.approach_fraction
                    }
                    None => (age * params.age_fraction).max(params.settle.as_secs_f64() - age),
                };
                duration_from_secs_f64(seconds)
                    .min(whole_micros(params.max))
                    .max(whole_micros(params.min))
            }
        }
    }
}

/// Whole microseconds of `duration`, as a float.
fn micros_f64(duration: Duration) -> f64 {
    micros(duration) as f64
}

/// `value` microseconds rounded to a whole number; NaN and negative values become
/// zero, values beyond `u64::MAX` saturate.
fn duration_from_micros_f64(value: f64) -> Duration {
    if value.is_nan() || value <= 0.0 {
        Duration::ZERO
    } else if value >= u64::MAX as f64 {
        Duration::from_micros(u64::MAX)
    } else {
        Duration::from_micros(value.round() as u64)
    }
}

/// `min(cap, initial * multiplier^(attempt-1))` in microseconds, in `[0, cap]` for
/// every input: an infinite power is capped, a NaN one (from a NaN multiplier, or
/// `0 * inf`) gives `cap` (the cautious choice), and a negative one gives 0.
fn exponential_curve(initial: f64, multiplier: f64, cap: f64, attempt: u32) -> f64 {
    if initial <= 0.0 {
        return 0.0;
    }
    let exponent = attempt.max(1) - 1;
    let growth = if exponent == 0 {
        1.0
    } else {
        multiplier.powf(f64::from(exponent))
    };
    let curve = initial * growth;
    if curve.is_nan() {
        cap
    } else {
        curve.max(0.0).min(cap)
    }
}
