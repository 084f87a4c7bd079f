//! Schedules: how long to wait before the next request.
//!
//! A job holds two: the *poll* schedule, used while the job is healthy, and the
//! *retry* schedule, used for consecutive errors and reset by the next success.
//! A schedule is pure: it maps [`ScheduleInput`] (and the job's seeded [`Rng`](crate::rng::Rng), for
//! jitter) to a delay. Limits (deadline, minimum interval) and server hints are applied
//! on top by the job, never here.

use core::time::Duration;

use serde::{Deserialize, Serialize};

use crate::time::serde_micros;

mod adaptive;
mod delay;
mod validate;

#[cfg(test)]
mod delay_tests;
#[cfg(test)]
mod validate_tests;

pub use adaptive::Adaptive;

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
    /// 16, ...) with equal jitter: each delay is drawn between half of that and
    /// that (1 to 2 s, 2 to 4 s, ...).
    pub fn turn_errors() -> Schedule {
        Schedule::exponential(Duration::from_secs(2), 2.0, Duration::from_secs(16))
            .with_jitter(Jitter::Equal)
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
}
