//! Schedules: how long to wait before the next request.
//!
//! A job holds two: the *poll* schedule, used while the job is healthy, and the
//! *retry* schedule, used for consecutive errors and reset by the next success.
//! A schedule is pure: it maps [`ScheduleInput`] (and the job's seeded [`Rng`], for
//! jitter) to a delay. Limits (deadline, minimum interval) and server hints are applied
//! on top by the job, never here.

use core::time::Duration;

use serde::{Deserialize, Serialize};

use crate::rng::Rng;
use crate::time::{duration_from_secs_f64, micros, serde_micros, whole_micros};

/// What a schedule may look at when choosing the next delay.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScheduleInput {
    /// 1-based index of the delay being chosen: 1 for the wait after the first
    /// request of this schedule's run, 2 for the next, and so on. For the retry
    /// schedule it is the number of consecutive errors so far.
    pub attempt: u32,
    /// Time since the job started.
    pub elapsed: Duration,
    /// The delay this schedule chose last time in the current run, if any
    /// (decorrelated jitter grows from it).
    pub previous: Option<Duration>,
    /// Predicted time until the job finishes, from the server's ETA or the progress
    /// slope, when known (used by [`Schedule::Adaptive`]).
    pub remaining_estimate: Option<Duration>,
}

/// How a delay is spread at random around the exponential curve.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Jitter {
    /// Exactly the curve.
    #[default]
    None,
    /// Uniform in `[0, curve]`.
    Full,
    /// Uniform in `[curve / 2, curve]`.
    Equal,
    /// Uniform in `[initial, previous * 3]`, capped at `max`.
    Decorrelated,
}

/// One step of a [`Schedule::Stepped`] schedule: `interval`, for `count` delays.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// How many delays this step lasts.
    pub count: u32,
    /// The delay during this step.
    #[serde(with = "serde_micros")]
    pub interval: Duration,
}

/// One stage of a [`Schedule::Staged`] schedule: from `after` elapsed on, wait
/// `interval`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    /// Job age from which this stage applies.
    #[serde(with = "serde_micros")]
    pub after: Duration,
    /// The delay during this stage.
    #[serde(with = "serde_micros")]
    pub interval: Duration,
}

/// Parameters of the adaptive schedule (see [`Schedule::Adaptive`]).
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

/// A rule that picks the delay before the next request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Schedule {
    /// The same delay every time.
    Fixed {
        /// The delay.
        #[serde(with = "serde_micros")]
        interval: Duration,
    },
    /// `initial * multiplier^(attempt-1)`, capped at `max`, with optional jitter.
    Exponential {
        /// First delay.
        #[serde(with = "serde_micros")]
        initial: Duration,
        /// Growth per attempt (at least 1).
        multiplier: f64,
        /// Cap on the delay.
        #[serde(with = "serde_micros")]
        max: Duration,
        /// Random spread.
        #[serde(default)]
        jitter: Jitter,
    },
    /// A fixed list of steps by attempt count, then `then` forever (like the
    /// `progressive` preset's 1 s x5, 2 s x5, 5 s x10, then 10 s).
    Stepped {
        /// The steps, in order.
        steps: Vec<Step>,
        /// The delay after the last step.
        #[serde(with = "serde_micros")]
        then: Duration,
    },
    /// Delays by job age (like the `turn` preset's 1 s, then 5 s after 30 s).
    Staged {
        /// The delay before the first stage starts.
        #[serde(with = "serde_micros")]
        initial: Duration,
        /// Stages in increasing `after` order.
        stages: Vec<Stage>,
    },
    /// AWS SDK waiter style: a random delay in `[min_delay, min(max_delay,
    /// min_delay * 2^(attempt-1))]`.
    Waiter {
        /// Smallest delay.
        #[serde(with = "serde_micros")]
        min_delay: Duration,
        /// Largest delay.
        #[serde(with = "serde_micros")]
        max_delay: Duration,
    },
    /// Polls near the predicted end of the job: a fraction of the estimated remaining
    /// time when the server gives an ETA or progress gives a slope, otherwise a
    /// fraction of the job's age; always within `[min, max]`.
    Adaptive(Adaptive),
}

/// A schedule that cannot work as configured.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ScheduleError {
    /// A parameter is out of its valid range.
    #[error("invalid schedule: {0}")]
    Invalid(String),
}

impl ScheduleInput {
    /// Input for the `attempt`-th delay with nothing else known: job age zero, no
    /// previous delay, no estimate of the remaining time.
    pub fn attempt(attempt: u32) -> ScheduleInput {
        ScheduleInput {
            attempt,
            elapsed: Duration::ZERO,
            previous: None,
            remaining_estimate: None,
        }
    }
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

impl Schedule {
    /// The same schedule with every duration cut to whole microseconds, the
    /// resolution of all job state: a snapshot or trace then restores exactly the
    /// schedule that ran.
    pub(crate) fn normalized(mut self) -> Schedule {
        use crate::time::whole_micros as whole;
        match &mut self {
            Schedule::Fixed { interval } => *interval = whole(*interval),
            Schedule::Exponential { initial, max, .. } => {
                *initial = whole(*initial);
                *max = whole(*max);
            }
            Schedule::Stepped { steps, then } => {
                for step in steps {
                    step.interval = whole(step.interval);
                }
                *then = whole(*then);
            }
            Schedule::Staged { initial, stages } => {
                *initial = whole(*initial);
                for stage in stages {
                    stage.after = whole(stage.after);
                    stage.interval = whole(stage.interval);
                }
            }
            Schedule::Waiter {
                min_delay,
                max_delay,
            } => {
                *min_delay = whole(*min_delay);
                *max_delay = whole(*max_delay);
            }
            Schedule::Adaptive(adaptive) => {
                adaptive.min = whole(adaptive.min);
                adaptive.max = whole(adaptive.max);
                adaptive.settle = whole(adaptive.settle);
            }
        }
        self
    }

    /// The same delay every time.
    pub fn fixed(interval: Duration) -> Schedule {
        Schedule::Fixed { interval }
    }

    /// `initial * multiplier^(attempt-1)` capped at `max`, without jitter (see
    /// [`Schedule::with_jitter`]).
    pub fn exponential(initial: Duration, multiplier: f64, max: Duration) -> Schedule {
        Schedule::Exponential {
            initial,
            multiplier,
            max,
            jitter: Jitter::None,
        }
    }

    /// The same schedule with `jitter`. Only [`Schedule::Exponential`] has jitter;
    /// every other schedule is returned unchanged.
    pub fn with_jitter(self, jitter: Jitter) -> Schedule {
        match self {
            Schedule::Exponential {
                initial,
                multiplier,
                max,
                ..
            } => Schedule::Exponential {
                initial,
                multiplier,
                max,
                jitter,
            },
            other => other,
        }
    }

    /// The `standard` preset's poll schedule: 30 s growing by 1.5x per attempt up to
    /// 5 min, without jitter (30, 45, 67.5, 101.25, 151.875, 227.8125, then 300 s).
    pub fn standard() -> Schedule {
        Schedule::exponential(Duration::from_secs(30), 1.5, Duration::from_secs(300))
    }

    /// The `progressive` preset's poll schedule: 1 s for 5 delays, 2 s for 5, 5 s for
    /// 10, then 10 s forever.
    pub fn progressive() -> Schedule {
        let step = |count, secs| Step {
            count,
            interval: Duration::from_secs(secs),
        };
        Schedule::Stepped {
            steps: vec![step(5, 1), step(5, 2), step(10, 5)],
            then: Duration::from_secs(10),
        }
    }

    /// The `turn` preset's poll schedule: 1 s, then 5 s once the job is 30 s old.
    pub fn turn() -> Schedule {
        Schedule::Staged {
            initial: Duration::from_secs(1),
            stages: vec![Stage {
                after: Duration::from_secs(30),
                interval: Duration::from_secs(5),
            }],
        }
    }

    /// The `turn` preset's error retry schedule: 2 s doubling up to 16 s (2, 4, 8, 16,
    /// 16, ...).
    pub fn turn_errors() -> Schedule {
        Schedule::exponential(Duration::from_secs(2), 2.0, Duration::from_secs(16))
    }

    /// An AWS SDK waiter style schedule between `min_delay` and `max_delay`.
    pub fn waiter(min_delay: Duration, max_delay: Duration) -> Schedule {
        Schedule::Waiter {
            min_delay,
            max_delay,
        }
    }

    /// An adaptive schedule with the given parameters (see [`Adaptive::standard`]).
    pub fn adaptive(params: Adaptive) -> Schedule {
        Schedule::Adaptive(params)
    }

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

    /// Checks that every parameter is usable (finite multipliers of at least 1,
    /// `min <= max`, fractions in `(0, 1]`, stages in order, ...), with a message a
    /// person can act on.
    ///
    /// Every delay must be at least one microsecond, the core's time resolution.
    /// Empty step and stage lists are allowed (the schedule is then constant).
    pub fn validate(&self) -> Result<(), ScheduleError> {
        match self {
            Schedule::Fixed { interval } => positive("fixed interval", *interval),
            Schedule::Exponential {
                initial,
                multiplier,
                max,
                jitter: _,
            } => {
                if !multiplier.is_finite() {
                    return invalid(format!(
                        "exponential multiplier must be a finite number, got {multiplier}"
                    ));
                }
                if *multiplier < 1.0 {
                    return invalid(format!(
                        "exponential multiplier must be at least 1, got {multiplier}"
                    ));
                }
                positive("exponential initial delay", *initial)?;
                if whole_micros(*initial) > whole_micros(*max) {
                    return invalid(format!(
                        "exponential initial delay ({initial:?}) must not exceed max ({max:?})"
                    ));
                }
                Ok(())
            }
            Schedule::Stepped { steps, then } => {
                for (i, step) in steps.iter().enumerate() {
                    let n = i + 1;
                    if step.count == 0 {
                        return invalid(format!(
                            "stepped schedule: step {n} of {} must last at least 1 delay, \
                             got count 0",
                            steps.len()
                        ));
                    }
                    positive(
                        &format!("stepped schedule: step {n} of {} interval", steps.len()),
                        step.interval,
                    )?;
                }
                positive("stepped schedule: `then` interval", *then)
            }
            Schedule::Staged { initial, stages } => {
                positive("staged schedule: initial interval", *initial)?;
                for (i, stage) in stages.iter().enumerate() {
                    let n = i + 1;
                    positive(
                        &format!("staged schedule: stage {n} of {} interval", stages.len()),
                        stage.interval,
                    )?;
                    if i > 0 {
                        let before = &stages[i - 1];
                        if stage.after <= before.after {
                            return invalid(format!(
                                "staged schedule: stages must be in strictly increasing \
                                 `after` order, but stage {n} starts after {:?} and stage {} \
                                 after {:?}",
                                stage.after, i, before.after
                            ));
                        }
                    }
                }
                Ok(())
            }
            Schedule::Waiter {
                min_delay,
                max_delay,
            } => {
                positive("waiter min_delay", *min_delay)?;
                if whole_micros(*min_delay) > whole_micros(*max_delay) {
                    return invalid(format!(
                        "waiter min_delay ({min_delay:?}) must not exceed max_delay \
                         ({max_delay:?})"
                    ));
                }
                Ok(())
            }
            Schedule::Adaptive(params) => {
                positive("adaptive min", params.min)?;
                if whole_micros(params.min) > whole_micros(params.max) {
                    return invalid(format!(
                        "adaptive min ({:?}) must not exceed max ({:?})",
                        params.min, params.max
                    ));
                }
                fraction("adaptive remaining_fraction", params.remaining_fraction)?;
                fraction("adaptive age_fraction", params.age_fraction)?;
                if !(0.0..=1.0).contains(&params.approach_fraction) {
                    return invalid(format!(
                        "adaptive approach_fraction must be between 0 and 1, got {}",
                        params.approach_fraction
                    ));
                }
                Ok(())
            }
        }
    }
}

/// `Err(ScheduleError::Invalid(message))`.
fn invalid(message: String) -> Result<(), ScheduleError> {
    Err(ScheduleError::Invalid(message))
}

/// Checks that `value` is at least one whole microsecond.
fn positive(what: &str, value: Duration) -> Result<(), ScheduleError> {
    if value.is_zero() {
        invalid(format!("{what} must be greater than zero"))
    } else if micros(value) == 0 {
        invalid(format!(
            "{what} must be at least 1 microsecond (the core's resolution), got {value:?}"
        ))
    } else {
        Ok(())
    }
}

/// Checks that `value` is a finite number in `(0, 1]`.
fn fraction(what: &str, value: f64) -> Result<(), ScheduleError> {
    if value.is_finite() && value > 0.0 && value <= 1.0 {
        Ok(())
    } else {
        invalid(format!(
            "{what} must be greater than 0 and at most 1, got {value}"
        ))
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

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::{
        Just, Strategy, any, prop_assert, prop_assert_eq, prop_oneof, proptest,
    };

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn millis(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    /// Delays for attempts `1..=n` with no other input.
    fn sequence(schedule: &Schedule, n: u32) -> Vec<Duration> {
        let mut rng = Rng::new(7);
        (1..=n)
            .map(|a| schedule.next_delay(&ScheduleInput::attempt(a), &mut rng))
            .collect()
    }

    fn delay_at(schedule: &Schedule, attempt: u32) -> Duration {
        schedule.next_delay(&ScheduleInput::attempt(attempt), &mut Rng::new(7))
    }

    fn is_whole_micros(d: Duration) -> bool {
        d.subsec_nanos().is_multiple_of(1_000)
    }

    fn rejection(schedule: &Schedule) -> String {
        match schedule.validate() {
            Err(ScheduleError::Invalid(message)) => message,
            Ok(()) => panic!("{schedule:?} should be rejected"),
        }
    }

    #[test]
    fn standard_is_the_exact_exponential_sequence() {
        let schedule = Schedule::standard();
        assert_eq!(
            sequence(&schedule, 9),
            vec![
                secs(30),
                secs(45),
                millis(67_500),
                Duration::from_micros(101_250_000),
                Duration::from_micros(151_875_000),
                Duration::from_micros(227_812_500),
                secs(300),
                secs(300),
                secs(300),
            ]
        );
        assert_eq!(delay_at(&schedule, 1_000), secs(300));
        assert_eq!(delay_at(&schedule, u32::MAX), secs(300));
        // Attempt 0 is treated as attempt 1.
        assert_eq!(delay_at(&schedule, 0), secs(30));
    }

    #[test]
    fn progressive_walks_the_steps() {
        let schedule = Schedule::progressive();
        let mut expected = Vec::new();
        expected.extend([secs(1); 5]);
        expected.extend([secs(2); 5]);
        expected.extend([secs(5); 10]);
        expected.extend([secs(10); 5]);
        assert_eq!(sequence(&schedule, 25), expected);
        assert_eq!(delay_at(&schedule, 0), secs(1));
        assert_eq!(delay_at(&schedule, u32::MAX), secs(10));
    }

    #[test]
    fn stepped_without_steps_is_constant() {
        let schedule = Schedule::Stepped {
            steps: Vec::new(),
            then: secs(3),
        };
        assert_eq!(sequence(&schedule, 3), vec![secs(3); 3]);
    }

    #[test]
    fn turn_stages_by_elapsed() {
        let schedule = Schedule::turn();
        let at = |elapsed: Duration, attempt: u32| {
            let input = ScheduleInput {
                elapsed,
                ..ScheduleInput::attempt(attempt)
            };
            schedule.next_delay(&input, &mut Rng::new(0))
        };
        assert_eq!(at(Duration::ZERO, 1), secs(1));
        assert_eq!(at(Duration::from_micros(29_999_999), 30), secs(1));
        assert_eq!(at(secs(30), 1), secs(5));
        assert_eq!(at(secs(31), 2), secs(5));
        assert_eq!(at(secs(3_600), u32::MAX), secs(5));
        assert_eq!(at(Duration::MAX, 0), secs(5));
    }

    #[test]
    fn staged_picks_the_last_stage_reached() {
        let schedule = Schedule::Staged {
            initial: secs(1),
            stages: vec![
                Stage {
                    after: secs(10),
                    interval: secs(2),
                },
                Stage {
                    after: secs(60),
                    interval: secs(15),
                },
            ],
        };
        let at = |elapsed| {
            let input = ScheduleInput {
                elapsed,
                ..ScheduleInput::attempt(1)
            };
            schedule.next_delay(&input, &mut Rng::new(0))
        };
        assert_eq!(at(secs(9)), secs(1));
        assert_eq!(at(secs(10)), secs(2));
        assert_eq!(at(secs(59)), secs(2));
        assert_eq!(at(secs(60)), secs(15));
        assert_eq!(at(secs(1_000)), secs(15));
    }

    #[test]
    fn turn_errors_double_to_sixteen() {
        assert_eq!(
            sequence(&Schedule::turn_errors(), 6),
            vec![secs(2), secs(4), secs(8), secs(16), secs(16), secs(16)]
        );
    }

    #[test]
    fn fixed_is_constant_in_whole_microseconds() {
        assert_eq!(
            sequence(&Schedule::fixed(millis(1_500)), 3),
            vec![millis(1_500); 3]
        );
        let odd = Schedule::fixed(Duration::new(2, 1_999));
        assert_eq!(delay_at(&odd, 1), Duration::new(2, 1_000));
    }

    #[test]
    fn with_jitter_only_changes_exponential() {
        let jittered = Schedule::standard().with_jitter(Jitter::Full);
        assert_eq!(
            jittered,
            Schedule::Exponential {
                initial: secs(30),
                multiplier: 1.5,
                max: secs(300),
                jitter: Jitter::Full,
            }
        );
        let fixed = Schedule::fixed(secs(4));
        assert_eq!(fixed.clone().with_jitter(Jitter::Equal), fixed);
    }

    /// Draws many jittered delays for `attempt`, checking each is in `[low, high]`,
    /// and returns the smallest and largest seen.
    fn draws_within(
        schedule: &Schedule,
        input: &ScheduleInput,
        low: Duration,
        high: Duration,
    ) -> (Duration, Duration) {
        let mut rng = Rng::new(0x5EED);
        let (mut seen_low, mut seen_high) = (Duration::MAX, Duration::ZERO);
        for _ in 0..2_000 {
            let d = schedule.next_delay(input, &mut rng);
            assert!(
                low <= d && d <= high,
                "{d:?} outside [{low:?}, {high:?}] for {schedule:?} at {input:?}"
            );
            assert!(is_whole_micros(d));
            seen_low = seen_low.min(d);
            seen_high = seen_high.max(d);
        }
        (seen_low, seen_high)
    }

    #[test]
    fn full_jitter_is_uniform_below_the_curve() {
        let plain = Schedule::standard();
        let schedule = plain.clone().with_jitter(Jitter::Full);
        for attempt in 1..=10 {
            let curve = delay_at(&plain, attempt);
            let input = ScheduleInput::attempt(attempt);
            let (lo, hi) = draws_within(&schedule, &input, Duration::ZERO, curve);
            // The draws actually spread over the range.
            assert!(lo < curve / 10 && hi > curve * 9 / 10, "{lo:?}..{hi:?}");
        }
    }

    #[test]
    fn equal_jitter_stays_in_the_upper_half() {
        let plain = Schedule::standard();
        let schedule = plain.clone().with_jitter(Jitter::Equal);
        for attempt in 1..=10 {
            let curve = delay_at(&plain, attempt);
            let input = ScheduleInput::attempt(attempt);
            let (lo, hi) = draws_within(&schedule, &input, curve / 2, curve);
            assert!(lo < curve * 6 / 10 && hi > curve * 9 / 10, "{lo:?}..{hi:?}");
        }
    }

    #[test]
    fn decorrelated_jitter_grows_from_previous_and_is_capped() {
        let schedule = Schedule::standard().with_jitter(Jitter::Decorrelated);
        // Without a previous delay: [initial, 3 * initial].
        draws_within(&schedule, &ScheduleInput::attempt(1), secs(30), secs(90));
        // From a previous delay of 50 s: [30 s, 150 s].
        let input = ScheduleInput {
            previous: Some(secs(50)),
            ..ScheduleInput::attempt(4)
        };
        let (_, hi) = draws_within(&schedule, &input, secs(30), secs(150));
        assert!(hi > secs(140));
        // From a long previous delay the cap applies, and is often hit.
        let input = ScheduleInput {
            previous: Some(secs(250)),
            ..ScheduleInput::attempt(4)
        };
        let (_, hi) = draws_within(&schedule, &input, secs(30), secs(300));
        assert_eq!(hi, secs(300));
        // Chained as the job would chain it, it stays in [initial, max].
        let mut rng = Rng::new(3);
        let mut previous = None;
        for attempt in 1..200 {
            let input = ScheduleInput {
                previous,
                ..ScheduleInput::attempt(attempt)
            };
            let d = schedule.next_delay(&input, &mut rng);
            assert!((secs(30)..=secs(300)).contains(&d), "{d:?}");
            previous = Some(d);
        }
    }

    #[test]
    fn jitter_is_deterministic_for_a_seed() {
        for jitter in [Jitter::Full, Jitter::Equal, Jitter::Decorrelated] {
            let schedule = Schedule::standard().with_jitter(jitter);
            let run = |seed| {
                let mut rng = Rng::new(seed);
                let mut previous = None;
                (1..50)
                    .map(|attempt| {
                        let input = ScheduleInput {
                            previous,
                            ..ScheduleInput::attempt(attempt)
                        };
                        let d = schedule.next_delay(&input, &mut rng);
                        previous = Some(d);
                        d
                    })
                    .collect::<Vec<_>>()
            };
            assert_eq!(run(11), run(11), "{jitter:?}");
            assert_ne!(run(11), run(12), "{jitter:?}");
        }
    }

    #[test]
    fn no_jitter_draws_nothing() {
        let mut rng = Rng::new(9);
        Schedule::standard().next_delay(&ScheduleInput::attempt(3), &mut rng);
        Schedule::fixed(secs(1)).next_delay(&ScheduleInput::attempt(3), &mut rng);
        assert_eq!(rng, Rng::new(9));
    }

    #[test]
    fn waiter_stays_between_min_and_doubling_ceiling() {
        let schedule = Schedule::waiter(secs(2), secs(120));
        // First attempt: the range is empty, so exactly min_delay.
        assert_eq!(delay_at(&schedule, 1), secs(2));
        assert_eq!(delay_at(&schedule, 0), secs(2));
        // Third attempt: [2 s, 8 s].
        let (_, hi) = draws_within(&schedule, &ScheduleInput::attempt(3), secs(2), secs(8));
        assert!(hi > secs(7));
        // Late attempts: [2 s, 120 s], including absurdly late ones.
        for attempt in [8, 64, 65, 1_000, u32::MAX] {
            let input = ScheduleInput::attempt(attempt);
            let (lo, hi) = draws_within(&schedule, &input, secs(2), secs(120));
            assert!(lo < secs(10) && hi > secs(110), "{lo:?}..{hi:?}");
        }
    }

    #[test]
    fn adaptive_uses_the_estimate_then_the_age_within_bounds() {
        let schedule = Schedule::adaptive(Adaptive::standard());
        let at = |elapsed, remaining_estimate| {
            let input = ScheduleInput {
                elapsed,
                remaining_estimate,
                ..ScheduleInput::attempt(5)
            };
            schedule.next_delay(&input, &mut Rng::new(0))
        };
        // With an estimate: half of it plus 5 % of the age.
        assert_eq!(at(secs(1_000), Some(secs(100))), secs(100));
        assert_eq!(at(secs(100), Some(secs(40))), secs(25));
        assert_eq!(
            at(Duration::ZERO, Some(millis(12_345))),
            millis(6_172) + Duration::from_micros(500)
        );
        // Without: 11.5 % of the age, but nothing before the job is 9 s old.
        assert_eq!(at(secs(200), None), secs(23));
        assert_eq!(at(Duration::ZERO, None), secs(9));
        assert_eq!(at(secs(5), None), secs(4));
        assert_eq!(at(secs(60), None), millis(6_900));
        // Clamped to [0.5 s, 5 min].
        assert_eq!(at(Duration::ZERO, Some(Duration::ZERO)), millis(500));
        assert_eq!(at(secs(1_000), Some(secs(10_000))), secs(300));
        assert_eq!(at(millis(8_900), None), Duration::from_micros(1_023_500));
        assert_eq!(at(secs(36_000), None), secs(300));
        assert_eq!(at(Duration::MAX, Some(Duration::MAX)), secs(300));
    }

    /// Schedules with every kind of bad or extreme parameter.
    fn extreme_schedules() -> Vec<Schedule> {
        let mut out = Vec::new();
        let durations = [
            Duration::ZERO,
            Duration::from_nanos(1),
            secs(1),
            Duration::MAX,
        ];
        for &a in &durations {
            for &b in &durations {
                for multiplier in [0.0, -2.0, 0.5, 1.0, 2.0, 1e300, f64::INFINITY, f64::NAN] {
                    for jitter in [
                        Jitter::None,
                        Jitter::Full,
                        Jitter::Equal,
                        Jitter::Decorrelated,
                    ] {
                        out.push(Schedule::exponential(a, multiplier, b).with_jitter(jitter));
                    }
                }
                out.push(Schedule::waiter(a, b));
                for fraction in [0.0, -1.0, 0.5, 1.0, 7.0, f64::INFINITY, f64::NAN] {
                    out.push(Schedule::adaptive(Adaptive {
                        min: a,
                        max: b,
                        remaining_fraction: fraction,
                        approach_fraction: fraction,
                        age_fraction: fraction,
                        settle: b,
                    }));
                }
                out.push(Schedule::Stepped {
                    steps: vec![
                        Step {
                            count: 0,
                            interval: a,
                        },
                        Step {
                            count: u32::MAX,
                            interval: b,
                        },
                    ],
                    then: a,
                });
                out.push(Schedule::Staged {
                    initial: a,
                    stages: vec![
                        Stage {
                            after: b,
                            interval: a,
                        },
                        Stage {
                            after: a,
                            interval: b,
                        },
                    ],
                });
            }
            out.push(Schedule::fixed(a));
        }
        out
    }

    #[test]
    fn extreme_inputs_never_panic_and_stay_whole() {
        let durations = [
            Duration::ZERO,
            Duration::from_nanos(1_500),
            secs(1),
            Duration::MAX,
        ];
        let mut rng = Rng::new(1);
        for schedule in extreme_schedules() {
            for attempt in [0, 1, 2, 63, 64, 65, 1_000_000, u32::MAX] {
                for &elapsed in &durations {
                    for previous in [None, Some(Duration::ZERO), Some(Duration::MAX)] {
                        for remaining in [None, Some(Duration::ZERO), Some(Duration::MAX)] {
                            let input = ScheduleInput {
                                attempt,
                                elapsed,
                                previous,
                                remaining_estimate: remaining,
                            };
                            let d = schedule.next_delay(&input, &mut rng);
                            assert!(is_whole_micros(d), "{d:?} from {schedule:?}");
                            if let Schedule::Exponential { max, .. } = schedule {
                                assert!(d <= max, "{d:?} above {max:?} from {schedule:?}");
                            }
                        }
                    }
                }
            }
            let _ = schedule.validate();
        }
    }

    #[test]
    fn degenerate_exponentials_have_sensible_delays() {
        // A NaN multiplier falls back to the cap rather than to zero.
        let nan = Schedule::exponential(secs(1), f64::NAN, secs(60));
        assert_eq!(delay_at(&nan, 1), secs(1));
        assert_eq!(delay_at(&nan, 2), secs(60));
        // A multiplier below 1 shrinks, and never goes negative.
        assert_eq!(
            delay_at(&Schedule::exponential(secs(8), 0.5, secs(60)), 3),
            secs(2)
        );
        assert_eq!(
            delay_at(&Schedule::exponential(secs(8), -2.0, secs(60)), 2),
            Duration::ZERO
        );
        // The largest duration saturates at u64::MAX microseconds.
        let huge = Schedule::exponential(secs(1), 10.0, Duration::MAX);
        assert_eq!(delay_at(&huge, u32::MAX), Duration::from_micros(u64::MAX));
        // An initial delay above the cap is capped.
        assert_eq!(
            delay_at(&Schedule::exponential(secs(90), 2.0, secs(60)), 1),
            secs(60)
        );
        // Zero initial stays zero.
        let zero = Schedule::exponential(Duration::ZERO, f64::INFINITY, secs(60));
        assert_eq!(delay_at(&zero, 5), Duration::ZERO);
    }

    #[test]
    fn validate_accepts_presets() {
        for schedule in [
            Schedule::standard(),
            Schedule::standard().with_jitter(Jitter::Decorrelated),
            Schedule::progressive(),
            Schedule::turn(),
            Schedule::turn_errors(),
            Schedule::fixed(secs(5)),
            Schedule::exponential(secs(5), 1.0, secs(5)),
            Schedule::waiter(secs(2), secs(120)),
            Schedule::waiter(secs(2), secs(2)),
            Schedule::adaptive(Adaptive::standard()),
            Schedule::Stepped {
                steps: Vec::new(),
                then: secs(1),
            },
            Schedule::Staged {
                initial: secs(1),
                stages: Vec::new(),
            },
        ] {
            assert_eq!(schedule.validate(), Ok(()), "{schedule:?}");
        }
    }

    #[test]
    fn validate_rejects_each_bad_parameter() {
        let exp = |initial, multiplier, max| Schedule::exponential(initial, multiplier, max);
        let cases: Vec<(Schedule, &str)> = vec![
            (
                exp(secs(1), 0.5, secs(10)),
                "exponential multiplier must be at least 1, got 0.5",
            ),
            (
                exp(secs(1), f64::NAN, secs(10)),
                "multiplier must be a finite number, got NaN",
            ),
            (
                exp(secs(1), f64::INFINITY, secs(10)),
                "multiplier must be a finite number, got inf",
            ),
            (
                exp(Duration::ZERO, 2.0, secs(10)),
                "initial delay must be greater than zero",
            ),
            (
                exp(Duration::from_nanos(500), 2.0, secs(10)),
                "initial delay must be at least 1 microsecond",
            ),
            (
                exp(secs(20), 2.0, secs(10)),
                "initial delay (20s) must not exceed max (10s)",
            ),
            (
                Schedule::fixed(Duration::ZERO),
                "fixed interval must be greater than zero",
            ),
            (
                Schedule::Stepped {
                    steps: vec![
                        Step {
                            count: 1,
                            interval: secs(1),
                        },
                        Step {
                            count: 0,
                            interval: secs(1),
                        },
                    ],
                    then: secs(1),
                },
                "step 2 of 2 must last at least 1 delay",
            ),
            (
                Schedule::Stepped {
                    steps: vec![Step {
                        count: 3,
                        interval: Duration::ZERO,
                    }],
                    then: secs(1),
                },
                "step 1 of 1 interval must be greater than zero",
            ),
            (
                Schedule::Stepped {
                    steps: Vec::new(),
                    then: Duration::ZERO,
                },
                "`then` interval must be greater than zero",
            ),
            (
                Schedule::Staged {
                    initial: Duration::ZERO,
                    stages: Vec::new(),
                },
                "staged schedule: initial interval must be greater than zero",
            ),
            (
                Schedule::Staged {
                    initial: secs(1),
                    stages: vec![
                        Stage {
                            after: secs(30),
                            interval: secs(5),
                        },
                        Stage {
                            after: secs(30),
                            interval: secs(10),
                        },
                    ],
                },
                "strictly increasing `after` order",
            ),
            (
                Schedule::Staged {
                    initial: secs(1),
                    stages: vec![Stage {
                        after: secs(30),
                        interval: Duration::ZERO,
                    }],
                },
                "stage 1 of 1 interval must be greater than zero",
            ),
            (
                Schedule::waiter(Duration::ZERO, secs(10)),
                "waiter min_delay must be greater than zero",
            ),
            (
                Schedule::waiter(secs(11), secs(10)),
                "waiter min_delay (11s) must not exceed max_delay (10s)",
            ),
            (
                Schedule::adaptive(Adaptive {
                    min: Duration::ZERO,
                    ..Adaptive::standard()
                }),
                "adaptive min must be greater than zero",
            ),
            (
                Schedule::adaptive(Adaptive {
                    min: secs(600),
                    ..Adaptive::standard()
                }),
                "adaptive min (600s) must not exceed max (300s)",
            ),
            (
                Schedule::adaptive(Adaptive {
                    remaining_fraction: 0.0,
                    ..Adaptive::standard()
                }),
                "remaining_fraction must be greater than 0 and at most 1, got 0",
            ),
            (
                Schedule::adaptive(Adaptive {
                    remaining_fraction: 1.5,
                    ..Adaptive::standard()
                }),
                "remaining_fraction must be greater than 0 and at most 1, got 1.5",
            ),
            (
                Schedule::adaptive(Adaptive {
                    age_fraction: f64::NAN,
                    ..Adaptive::standard()
                }),
                "age_fraction must be greater than 0 and at most 1, got NaN",
            ),
        ];
        for (schedule, expected) in cases {
            let message = rejection(&schedule);
            assert!(
                message.contains(expected),
                "message {message:?} for {schedule:?} lacks {expected:?}"
            );
        }
        let error = Schedule::fixed(Duration::ZERO)
            .validate()
            .expect_err("zero interval is invalid");
        assert_eq!(
            error.to_string(),
            "invalid schedule: fixed interval must be greater than zero"
        );
    }

    fn any_jitter() -> impl Strategy<Value = Jitter> {
        prop_oneof![
            Just(Jitter::None),
            Just(Jitter::Full),
            Just(Jitter::Equal),
            Just(Jitter::Decorrelated),
        ]
    }

    proptest! {
        #[test]
        fn exponential_delays_are_bounded_and_deterministic(
            initial_us in 1u64..=3_600_000_000,
            extra_us in 0u64..=86_400_000_000,
            multiplier in 1.0f64..=100.0,
            jitter in any_jitter(),
            attempt in any::<u32>(),
            previous_us in proptest::option::of(0u64..=u64::MAX / 2),
            seed in any::<u64>(),
        ) {
            let max = Duration::from_micros(initial_us + extra_us);
            let schedule = Schedule::exponential(Duration::from_micros(initial_us), multiplier, max)
                .with_jitter(jitter);
            prop_assert_eq!(schedule.validate(), Ok(()));
            let input = ScheduleInput {
                previous: previous_us.map(Duration::from_micros),
                ..ScheduleInput::attempt(attempt)
            };
            let first = schedule.next_delay(&input, &mut Rng::new(seed));
            let again = schedule.next_delay(&input, &mut Rng::new(seed));
            prop_assert_eq!(first, again);
            prop_assert!(first <= max, "{:?} > {:?}", first, max);
            prop_assert!(is_whole_micros(first));
            if jitter == Jitter::None {
                prop_assert!(first >= Duration::from_micros(initial_us));
            }
        }
    }
}
