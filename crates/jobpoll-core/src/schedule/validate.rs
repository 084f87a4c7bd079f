//! [`Schedule::validate`]: the checks that a schedule can work as configured.

use core::time::Duration;

use crate::time::{micros, whole_micros};

use super::{Schedule, ScheduleError};

impl Schedule {
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
