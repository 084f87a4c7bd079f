//! The generators of scripts: configurations, schedules, API shapes, starts and
//! server actions, mostly short so that runs see many requests.

use std::time::Duration;

use jobpoll_core::schedule::{Adaptive, Stage, Step};
use jobpoll_core::{Config, FirstPoll, Instant, Jitter, Schedule, TransportError};
use proptest::prelude::*;

use super::{Action, Api, Body, CancelAt, Hints, RateLimit, Reply, RetryAfter, Script, StartKind};

/// A duration of `lo..=hi` microseconds, sometimes with a sub-microsecond part (the
/// core works in whole microseconds and must cope).
fn duration(lo: u64, hi: u64) -> impl Strategy<Value = Duration> {
    (lo..=hi, prop::bool::weighted(0.1), 1u64..1000).prop_map(|(micros, nanos, extra)| {
        let base = Duration::from_micros(micros);
        if nanos {
            base + Duration::from_nanos(extra)
        } else {
            base
        }
    })
}

/// A schedule delay of at least 1 ms and at most `max`, mostly short (so that runs
/// see many requests before their deadline).
pub fn delay(max: u64) -> impl Strategy<Value = Duration> {
    prop_oneof![
        3 => duration(MS, SEC),
        2 => duration(SEC, (10 * SEC).min(max)),
        1 => duration(MS, max),
    ]
}

/// A duration of `lo..=hi` whole microseconds.
pub fn whole(lo: u64, hi: u64) -> impl Strategy<Value = Duration> {
    (lo..=hi).prop_map(Duration::from_micros)
}

pub const MS: u64 = 1_000;
pub const SEC: u64 = 1_000_000;

fn jitter() -> impl Strategy<Value = Jitter> {
    prop_oneof![
        Just(Jitter::None),
        Just(Jitter::Full),
        Just(Jitter::Equal),
        Just(Jitter::Decorrelated),
    ]
}

fn schedule() -> impl Strategy<Value = Schedule> {
    prop_oneof![
        delay(60 * SEC).prop_map(|interval| Schedule::Fixed { interval }),
        (delay(30 * SEC), 1.0f64..3.0, 1u32..=20, jitter()).prop_map(
            |(initial, multiplier, factor, jitter)| Schedule::Exponential {
                initial,
                multiplier,
                max: initial * factor,
                jitter,
            }
        ),
        (
            prop::collection::vec((1u32..=5, delay(30 * SEC)), 0..4),
            delay(60 * SEC)
        )
            .prop_map(|(steps, then)| Schedule::Stepped {
                steps: steps
                    .into_iter()
                    .map(|(count, interval)| Step { count, interval })
                    .collect(),
                then,
            }),
        (
            delay(30 * SEC),
            prop::collection::vec((duration(0, 600 * SEC), delay(60 * SEC)), 0..4)
        )
            .prop_map(|(initial, mut stages)| {
                stages.sort_by_key(|(after, _)| *after);
                stages.dedup_by_key(|(after, _)| *after);
                Schedule::Staged {
                    initial,
                    stages: stages
                        .into_iter()
                        .map(|(after, interval)| Stage { after, interval })
                        .collect(),
                }
            }),
        (delay(10 * SEC), 1u32..=30).prop_map(|(min_delay, factor)| Schedule::Waiter {
            min_delay,
            max_delay: min_delay * factor,
        }),
        (delay(10 * SEC), 1u32..=60, 0.01f64..=1.0, 0.01f64..=1.0).prop_map(
            |(min, factor, remaining_fraction, age_fraction)| Schedule::Adaptive(Adaptive {
                min,
                max: min * factor,
                remaining_fraction,
                approach_fraction: remaining_fraction / 10.0,
                age_fraction,
                settle: min * 3,
            })
        ),
    ]
}

fn config() -> impl Strategy<Value = Config> {
    let schedules = (schedule(), schedule(), prop::bool::ANY);
    let limits = (
        prop::option::weighted(
            0.6,
            prop_oneof![whole(SEC, 120 * SEC), whole(SEC, 2 * 3600 * SEC)],
        ),
        prop::option::weighted(0.3, 1u32..=30),
        prop::option::weighted(0.3, prop_oneof![1u32..=3, 4u32..=20]),
        prop_oneof![1 => 1u32..=3, 3 => 4u32..=20],
        prop_oneof![Just(Duration::ZERO), whole(1, 10 * SEC)],
        prop_oneof![3 => whole(100 * MS, 5 * SEC), 1 => whole(100 * MS, 60 * SEC)],
        whole(0, 120 * SEC),
        whole(SEC, 3600 * SEC),
    );
    let switches = (
        512usize..=8192,
        prop::bool::ANY,
        prop::bool::ANY,
        any::<u64>(),
        prop::option::weighted(0.7, 1u32..=6),
    );
    (schedules, limits, switches).prop_map(
        |(
            (poll, retry, after_first_delay),
            (
                deadline,
                max_attempts,
                max_consecutive_errors,
                max_unreadable,
                min_interval,
                request_time_limit,
                not_found_grace,
                max_hint,
            ),
            (
                max_body_bytes,
                cancel_on_server,
                conditional_requests,
                seed,
                max_connect_failures_before_contact,
            ),
        )| Config {
            poll,
            retry,
            first_poll: if after_first_delay {
                FirstPoll::AfterFirstDelay
            } else {
                FirstPoll::Immediately
            },
            deadline,
            max_attempts,
            max_consecutive_errors,
            max_connect_failures_before_contact,
            connect_retry: None,
            max_unreadable,
            min_interval,
            request_time_limit,
            not_found_grace,
            max_hint,
            max_body_bytes,
            cancel_on_server,
            conditional_requests,
            seed,
        },
    )
}

fn api() -> impl Strategy<Value = Api> {
    prop_oneof![
        Just(Api::Jobs),
        Just(Api::Codegen),
        Just(Api::FileTasks),
        Just(Api::Turn),
        Just(Api::Google),
        Just(Api::Azure),
    ]
}

fn start_kind() -> impl Strategy<Value = StartKind> {
    prop_oneof![
        Just(StartKind::Poll),
        (prop::bool::ANY, prop::bool::ANY).prop_map(|(put, idempotency_key)| StartKind::Submit {
            put,
            idempotency_key
        }),
    ]
}

/// Seconds of a wait hint, 0..=600, mostly short.
fn seconds() -> impl Strategy<Value = u64> {
    prop_oneof![3 => 0u64..=10, 1 => 0u64..=600]
}

fn hints(likely: bool) -> impl Strategy<Value = Hints> {
    let retry_after = prop_oneof![
        6 => seconds().prop_map(RetryAfter::Seconds),
        2 => seconds().prop_map(RetryAfter::Date),
        1 => Just(RetryAfter::Unparseable),
    ];
    let rate_limit = (0u8..3, prop_oneof![Just(0u64), 0u64..=5], seconds()).prop_map(
        |(form, remaining, reset)| match form {
            0 => RateLimit::Dictionary { remaining, reset },
            1 => RateLimit::List { remaining, reset },
            _ => RateLimit::Split { remaining, reset },
        },
    );
    let hints = (
        prop::option::weighted(0.6, retry_after),
        prop::option::weighted(0.3, prop_oneof![0u64..=10_000, 0u64..=600_000]),
        prop::option::weighted(0.3, rate_limit),
    )
        .prop_map(|(retry_after, retry_after_ms, rate_limit)| Hints {
            retry_after,
            retry_after_ms,
            rate_limit,
        });
    let p = if likely { 0.7 } else { 0.15 };
    prop::option::weighted(p, hints).prop_map(Option::unwrap_or_default)
}

fn running_body() -> impl Strategy<Value = Body> {
    (
        prop::option::of(0.0f64..=100.0),
        prop::option::of(0.0f64..=10_000.0),
        0u8..6,
    )
        .prop_map(|(percentage, eta_secs, blocks)| Body::Running {
            percentage,
            eta_secs,
            blocks,
        })
}

fn respond(status: u16, body: impl Strategy<Value = Body>) -> impl Strategy<Value = Reply> {
    let likely = matches!(status, 429 | 503);
    (body, hints(likely), prop::bool::weighted(0.3)).prop_map(move |(body, hints, etag)| {
        Reply::Respond {
            status,
            body,
            hints,
            etag,
        }
    })
}

fn error_body() -> impl Strategy<Value = Body> {
    prop_oneof![4 => Just(Body::ErrorText), 1 => Just(Body::Empty), 1 => (0u16..2000).prop_map(Body::Huge)]
}

fn transport_error() -> impl Strategy<Value = TransportError> {
    prop_oneof![
        Just(TransportError::Connect("connection refused".to_owned())),
        Just(TransportError::NoResponseInTime),
        Just(TransportError::Reset("connection reset by peer".to_owned())),
        Just(TransportError::BodyTooLarge(1 << 20)),
        Just(TransportError::Other("tls handshake failed".to_owned())),
    ]
}

fn reply() -> impl Strategy<Value = Reply> {
    prop_oneof![
        // Answers that end the job are rare, so that runs are long.
        80 => respond(200, running_body()),
        3 => respond(200, Just(Body::Succeeded)),
        1 => respond(200, Just(Body::Failed)),
        1 => respond(200, Just(Body::Cancelled)),
        8 => respond(202, prop_oneof![4 => running_body(), 1 => Just(Body::Succeeded)]),
        8 => respond(304, Just(Body::Empty)),
        1 => respond(401, error_body()),
        1 => respond(403, error_body()),
        4 => respond(404, error_body()),
        4 => respond(408, error_body()),
        12 => respond(429, error_body()),
        6 => respond(500, error_body()),
        8 => respond(503, error_body()),
        1 => (prop_oneof![Just(400u16), Just(409), Just(410), Just(422)], error_body(), hints(false))
            .prop_map(|(status, body, hints)| Reply::Respond { status, body, hints, etag: false }),
        6 => respond(200, (0u8..8).prop_map(Body::Garbage)),
        3 => respond(200, (0u16..2000).prop_map(Body::Huge)),
        12 => transport_error().prop_map(Reply::Fail),
        4 => Just(Reply::Hang),
    ]
}

fn action() -> impl Strategy<Value = Action> {
    let latency = prop_oneof![
        2 => Just(0u64),
        1 => Just(1000u64),
        8 => 0u64..=1500,
    ];
    (reply(), latency).prop_map(|(reply, latency_permille)| Action {
        reply,
        latency_permille,
    })
}

pub fn script() -> impl Strategy<Value = Script> {
    let setup = (
        prop_oneof![Just(0u64), 0u64..=1_000_000_000_000].prop_map(Instant::from_micros),
        config(),
        api(),
        start_kind(),
        prop::bool::ANY,
        prop::bool::ANY,
    );
    let run = (
        prop::collection::vec(action(), 0..48),
        prop::option::weighted(
            0.3,
            prop_oneof![
                whole(0, 30 * SEC).prop_map(CancelAt::After),
                whole(0, 3600 * SEC).prop_map(CancelAt::After),
                (0usize..30).prop_map(CancelAt::AtWake),
            ],
        ),
        prop::collection::vec(prop_oneof![whole(0, 10 * SEC), whole(0, 3600 * SEC)], 0..5),
        prop::option::weighted(0.9, (0usize..12, 0usize..4)),
        prop::bool::ANY,
    );
    (setup, run).prop_map(
        |(
            (start_at, config, api, start, auth, signed),
            (actions, cancel, mut extra_ticks, snapshot, answers_first),
        )| {
            extra_ticks.sort();
            Script {
                start_at,
                config,
                api,
                start,
                auth,
                signed,
                actions,
                cancel,
                extra_ticks,
                snapshot,
                answers_first,
            }
        },
    )
}
