//! What each schedule gives: the presets' exact sequences, jitter bounds and
//! determinism, the waiter and adaptive rules, and extreme parameters.

use super::*;
use crate::rng::Rng;

use proptest::prelude::{Just, Strategy, any, prop_assert, prop_assert_eq, prop_oneof, proptest};

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
fn turn_errors_double_to_sixteen_with_equal_jitter() {
    let curve = [2, 4, 8, 16, 16, 16];
    assert_eq!(
        sequence(&Schedule::turn_errors().with_jitter(Jitter::None), 6),
        curve.map(secs).to_vec()
    );
    let jittered = sequence(&Schedule::turn_errors(), 6);
    for (delay, top) in jittered.iter().zip(curve) {
        assert!(
            (secs(top) / 2..=secs(top)).contains(delay),
            "{delay:?} outside half of {top} s to {top} s"
        );
    }
    assert_ne!(jittered, curve.map(secs).to_vec());
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
