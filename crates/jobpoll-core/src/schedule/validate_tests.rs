//! Schedule validation: the presets pass, each bad parameter is named.

use super::*;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn rejection(schedule: &Schedule) -> String {
    match schedule.validate() {
        Err(ScheduleError::Invalid(message)) => message,
        Ok(()) => panic!("{schedule:?} should be rejected"),
    }
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
