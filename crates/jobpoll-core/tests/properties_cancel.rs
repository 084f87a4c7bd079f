//! Property tests of cancelling: runs the user cancels on APIs with a server-side
//! cancel, and cancels that arrive at or after the deadline.
//! `tests/support/scripts.rs` describes the scripts.
//!
//! The failing seeds proptest found are kept in
//! `properties_cancel.proptest-regressions` and replayed first on every run.

mod support;

use std::time::Duration;

use proptest::prelude::*;
use support::scripts::driver::{Checks, run_script};
use support::scripts::model::micros;
use support::scripts::strategies::{SEC, script, whole};
use support::scripts::{Api, CASES, CancelAt, Script, StartKind};

/// Scripts for an API with a server-side cancel that the user cancels.
fn cancelled() -> impl Strategy<Value = Script> {
    (
        script(),
        prop_oneof![Just(Api::Jobs), Just(Api::Google)],
        prop_oneof![
            whole(0, 30 * SEC).prop_map(CancelAt::After),
            (0usize..20).prop_map(CancelAt::AtWake),
        ],
    )
        .prop_map(|(mut script, api, cancel)| {
            script.api = api;
            script.config.cancel_on_server = true;
            script.cancel = Some(cancel);
            script
        })
}

/// Scripts for an API with a server-side cancel, a deadline, and a user's cancel at
/// or after the deadline.
fn late_cancel() -> impl Strategy<Value = Script> {
    (
        script(),
        prop_oneof![Just(Api::Jobs), Just(Api::Google)],
        whole(SEC, 60 * SEC),
        prop_oneof![(0u64..=2000).prop_map(Some), Just(None),],
        0usize..6,
    )
        .prop_map(|(mut script, api, deadline, after, wake)| {
            script.api = api;
            script.start = StartKind::Poll;
            script.config.deadline = Some(deadline);
            script.config.cancel_on_server = true;
            let timeout = micros(script.config.request_time_limit);
            script.cancel = Some(match after {
                Some(permille) => {
                    CancelAt::After(deadline + Duration::from_micros(timeout * permille / 1000))
                }
                None => CancelAt::AtWake(wake),
            });
            script
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// The same for runs the user cancels, on APIs with a server-side cancel: the
    /// cancel request goes out at once (docs/decisions.md) and is the last one.
    #[test]
    fn cancelled_runs_keep_the_invariants(script in cancelled()) {
        run_script(&script, Checks { snapshot: true, ..Checks::default() })?;
    }

    /// A user's cancel that arrives at or after the deadline (while the job waits at
    /// the deadline, or while a request sent before it may still finish) must not
    /// start a request past the deadline or end the job later than
    /// `deadline + request_time_limit`.
    #[test]
    fn a_cancel_at_or_after_the_deadline_keeps_the_deadline(script in late_cancel()) {
        run_script(&script, Checks::default())?;
    }
}
