//! Property tests of snapshots and traces: a job restored from a snapshot at a
//! random point continues in lockstep, recorded runs replay (redacted or not),
//! and JSON `null` results and sub-microsecond stage boundaries survive both.
//! `tests/support/scripts.rs` describes the scripts.
//!
//! The failing seeds proptest found are kept in
//! `properties_snapshots_traces.proptest-regressions` and replayed first on every run.

mod support;

use std::time::Duration;

use jobpoll_core::schedule::Stage;
use jobpoll_core::{FirstPoll, Schedule};
use proptest::prelude::*;
use support::scripts::driver::{Checks, Redaction, run_script};
use support::scripts::strategies::{SEC, delay, script};
use support::scripts::{Action, Api, Body, CASES, Hints, Reply, Script, StartKind};

/// Scripts whose poll schedule changes stage at a sub-microsecond boundary that a
/// poll reaches exactly: `initial` I (whole milliseconds), a stage after `n * I`
/// plus some nanoseconds, and a server that answers "running" at once.
fn staged_boundary() -> impl Strategy<Value = Script> {
    (
        script(),
        1u64..=1000,
        1u32..=6,
        1u64..1000,
        delay(60 * SEC),
        0usize..14,
    )
        .prop_map(
            |(mut script, initial_ms, n, nanos, interval, snapshot_step)| {
                let initial = Duration::from_millis(initial_ms);
                script.config.poll = Schedule::Staged {
                    initial,
                    stages: vec![Stage {
                        after: initial * n + Duration::from_nanos(nanos),
                        interval,
                    }],
                };
                script.config.first_poll = FirstPoll::Immediately;
                script.config.deadline = None;
                script.config.max_attempts = None;
                script.config.min_interval = Duration::ZERO;
                script.start = StartKind::Poll;
                script.cancel = None;
                script.extra_ticks.clear();
                script.snapshot = Some((snapshot_step, 0));
                let running = Action {
                    reply: Reply::Respond {
                        status: 200,
                        body: Body::Running {
                            percentage: None,
                            eta_secs: None,
                            blocks: 0,
                        },
                        hints: Hints::default(),
                        etag: false,
                    },
                    latency_permille: 0,
                };
                script.actions = vec![running; 2 * n as usize + 2];
                script
            },
        )
}

/// Azure scripts where some answers are JSON `null`.
fn azure_with_json_null() -> impl Strategy<Value = Script> {
    (
        script(),
        prop::collection::vec((prop::bool::ANY, prop::bool::ANY), 1..4),
    )
        .prop_map(|(mut script, nulls)| {
            script.api = Api::Azure;
            for (i, (blank, early)) in nulls.into_iter().enumerate() {
                let action = Action {
                    reply: Reply::Respond {
                        status: 200,
                        body: Body::Garbage(if blank { 7 } else { 1 }),
                        hints: Hints::default(),
                        etag: false,
                    },
                    latency_permille: 0,
                };
                let at = if early { i } else { script.actions.len() };
                script.actions.insert(at.min(script.actions.len()), action);
            }
            script
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// A job restored from a JSON snapshot taken at a random point (even with
    /// outputs still queued) says exactly what the original says, given the same
    /// inputs.
    #[test]
    fn a_restored_snapshot_continues_in_lockstep(script in script()) {
        run_script(&script, Checks { snapshot: true, ..Checks::default() })?;
    }

    /// A recorded run replays with no divergence after a JSON-lines round trip, and
    /// its secrets never reach the trace.
    #[test]
    fn a_recorded_trace_replays_without_divergence(script in script()) {
        run_script(&script, Checks { trace: Some(Redaction::Keep), ..Checks::default() })?;
    }

    /// The same with the default redactor and an `Authorization` header and
    /// pre-signed Azure operation URLs (`sig=` in the query): secrets never reach
    /// the trace, and the redacted trace still replays.
    #[test]
    fn a_redacted_trace_holds_no_secret_and_replays(
        script in script()
    ) {
        run_script(&script, Checks { trace: Some(Redaction::Secrets), ..Checks::default() })?;
    }

    /// Azure reads a `null` status body as success with the result `Some(null)`, and
    /// a blank results body as `Some(null)` results; both must survive a snapshot
    /// and a trace.
    #[test]
    fn json_null_results_survive_snapshots_and_traces(script in azure_with_json_null()) {
        run_script(&script, Checks { snapshot: true, trace: Some(Redaction::Keep), ..Checks::default() })?;
    }

    /// Durations are kept in whole microseconds, so a schedule whose stage boundary
    /// has a sub-microsecond part must behave the same before and after a snapshot
    /// (and in a trace replay).
    #[test]
    fn sub_microsecond_stage_boundaries_survive_snapshots(script in staged_boundary()) {
        run_script(&script, Checks { snapshot: true, trace: Some(Redaction::Keep), ..Checks::default() })?;
    }

}
