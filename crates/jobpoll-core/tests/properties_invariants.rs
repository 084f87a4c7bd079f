//! Property tests of the invariants: over random scripts, after every step, one
//! request at a time, the lower bounds, the deadline, one outcome and nothing
//! after it, liveness; answers for requests not in flight change nothing.
//! `tests/support/scripts.rs` describes the scripts.
//!
//! The failing seeds proptest found are kept in
//! `properties_invariants.proptest-regressions` and replayed first on every run.

mod support;

use jobpoll_core::{Config, Instant, Outcome};
use proptest::prelude::*;
use support::scripts::driver::{Checks, Redaction, run_script};
use support::scripts::strategies::script;
use support::scripts::{Action, Api, Body, CASES, Hints, Reply, Script, StartKind};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// One request at a time, lower bounds (min interval, server hints, announced
    /// delays), the deadline, max attempts, one outcome and nothing after it, and
    /// liveness once the server says "succeeded".
    #[test]
    fn every_run_keeps_the_invariants(script in script()) {
        run_script(&script, Checks::default())?;
    }

    /// Answers for requests that are not in flight are refused with
    /// `UnknownRequest` and change nothing.
    #[test]
    fn stray_answers_are_refused_and_change_nothing(script in script(), seed in any::<u64>()) {
        run_script(&script, Checks { stray: Some(seed), ..Checks::default() })?;
    }
}

/// The status URL of every start kind is polled; a sanity check of the script
/// builder itself, so that the properties above test the core rather than a
/// broken harness.
#[test]
fn every_api_shape_succeeds_with_a_cooperative_server() {
    for api in [
        Api::Jobs,
        Api::Codegen,
        Api::FileTasks,
        Api::Turn,
        Api::Google,
        Api::Azure,
    ] {
        for start in [
            StartKind::Poll,
            StartKind::Submit {
                put: false,
                idempotency_key: false,
            },
        ] {
            let script = Script {
                start_at: Instant::from_secs(10),
                config: Config::fast(),
                api,
                start,
                auth: true,
                signed: false,
                actions: vec![Action {
                    reply: Reply::Respond {
                        status: 200,
                        body: Body::Running {
                            percentage: Some(10.0),
                            eta_secs: Some(30.0),
                            blocks: 1,
                        },
                        hints: Hints::default(),
                        etag: false,
                    },
                    latency_permille: 10,
                }],
                cancel: None,
                extra_ticks: Vec::new(),
                snapshot: None,
                answers_first: true,
            };
            let finish = run_script(
                &script,
                Checks {
                    trace: Some(Redaction::Secrets),
                    ..Checks::default()
                },
            )
            .unwrap_or_else(|e| panic!("{api:?}: {e}"));
            assert!(
                finish.outcome.is_success(),
                "{api:?} {:?}: {}",
                script.start,
                finish.outcome
            );
            let submitted = matches!(script.start, StartKind::Submit { .. });
            // Azure names the final resource only in the submit response.
            if api == Api::Codegen || (api == Api::Azure && submitted) {
                let Outcome::Succeeded { results, .. } = &finish.outcome else {
                    unreachable!()
                };
                assert!(results.is_some(), "{api:?}: results were fetched");
            }
        }
    }
}
