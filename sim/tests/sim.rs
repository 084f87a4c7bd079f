//! The simulator proves the core under faults, reproduces failures from one command,
//! and is itself deterministic.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use jobpoll_core::{Config, Instant};
use jobpoll_server::plan::{Ending, Fault, FaultWindow, JobPlan, Shape};
use jobpoll_sim::faults::{FaultPlan, Intensity};
use jobpoll_sim::run::{WorldArgs, run_seed, soak};
use jobpoll_sim::world::{JobScenario, Sabotage, SimConfig, World};

mod support;

fn args(jobs: usize, sabotage: Option<Sabotage>) -> WorldArgs {
    WorldArgs {
        jobs,
        intensity: Intensity::Heavy,
        liveness_jobs: 5,
        sabotage,
        trace_dir: PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sim-failures"),
    }
}

#[test]
fn a_bounded_soak_under_heavy_faults_keeps_every_invariant() {
    let total = soak(&args(30, None), 0, 20).unwrap_or_else(|failure| panic!("{failure}"));
    assert_eq!(total.seeds, 20);
    assert_eq!(total.jobs, 20 * 35);
    // Heavy faults produce more than successes: the run must have exercised them.
    for kind in ["succeeded", "failed", "timed_out"] {
        assert!(
            total.outcomes.get(kind).copied().unwrap_or(0) > 0,
            "no {kind} outcome in {total}"
        );
    }
}

#[test]
fn the_same_seed_gives_the_same_trace_hash() {
    let config = args(40, None).config(7);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let first = run_seed(config.clone(), &dir).unwrap_or_else(|f| panic!("{f}"));
    let second = run_seed(config, &dir).unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(first.trace_hash, second.trace_hash);
    assert_eq!(first, second);
    let other = run_seed(args(40, None).config(8), &dir).unwrap_or_else(|f| panic!("{f}"));
    assert_ne!(
        first.trace_hash, other.trace_hash,
        "different seeds should differ"
    );
}

#[test]
fn every_recorded_trace_replays_identically() {
    let redactor = jobpoll_core::trace::Redactor::none();
    for seed in 0..6 {
        let world = World::new(args(25, None).config(seed));
        let traces = world
            .run_with_traces()
            .unwrap_or_else(|f| panic!("seed {seed}: {}", f.violation))
            .traces;
        for (job, trace) in traces.iter().enumerate() {
            let text = jobpoll_core::trace::to_json_lines(trace);
            let records = jobpoll_core::trace::from_json_lines::<jobpoll_core::Profile>(&text)
                .unwrap_or_else(|e| panic!("seed {seed} job {job}: {e}"));
            match jobpoll_core::trace::replay(&records, &redactor) {
                Ok(Ok(report)) => assert!(report.outputs > 0),
                other => panic!("seed {seed} job {job}: {other:?}"),
            }
        }
    }
}

/// With the client blind to `Retry-After`, the simulator must catch the early
/// request and print commands that reproduce it.
#[test]
fn a_client_that_ignores_retry_after_is_caught_and_reproduced() {
    let args = args(30, Some(Sabotage::IgnoreRetryAfter));
    let reproduction = (0..50)
        .find_map(|seed| run_seed(args.config(seed), &args.trace_dir).err())
        .expect("some seed meets a 429 storm");
    let violation = &reproduction.failure.violation;
    assert_eq!(
        violation.invariant, "no request before the server's hint allows",
        "{violation}"
    );

    // The printed command reproduces the same violation.
    support::reproduces(
        &reproduction.run_command,
        &args.trace_dir,
        &violation.to_string(),
    );
    let binary = env!("CARGO_BIN_EXE_jobpoll-sim");

    // The trace of the failing job replays exactly.
    let (_, replay_args) = reproduction
        .replay_command
        .as_deref()
        .expect("trace written")
        .split_once(" -- ")
        .expect("cargo run");
    let output = Command::new(binary)
        .args(replay_args.split_whitespace())
        .output()
        .expect("replay runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn without_sabotage_the_same_seeds_pass() {
    let args = args(30, None);
    for seed in 0..10 {
        run_seed(args.config(seed), &args.trace_dir).unwrap_or_else(|f| panic!("{f}"));
    }
}

fn scenario(shape: Shape, plan: JobPlan, config: Config, submit: bool) -> JobScenario {
    JobScenario {
        shape,
        plan,
        config,
        submit,
        cancel_after: None,
        calm: false,
        start_at: Instant::ZERO,
    }
}

fn quiet_network() -> FaultPlan {
    FaultPlan {
        latency_median: Duration::from_millis(40),
        latency_sigma: 0.0,
        ..FaultPlan::calm()
    }
}

fn narrate(jobs: Vec<JobScenario>) -> String {
    let world = World::from_scenarios(1, quiet_network(), jobs).with_log();
    world
        .run_with_traces()
        .unwrap_or_else(|f| panic!("{}", f.violation))
        .log
        .join("\n")
}

#[test]
fn codegen_submit_and_results() {
    let plan = JobPlan {
        duration: Duration::from_secs(100),
        ..JobPlan::default()
    };
    insta::assert_snapshot!(narrate(vec![scenario(
        Shape::Codegen,
        plan,
        Config::standard(),
        true
    )]));
}

#[test]
fn file_with_a_429_storm() {
    let plan = JobPlan {
        duration: Duration::from_secs(20),
        faults: vec![FaultWindow {
            from: Duration::from_secs(3),
            until: Duration::from_secs(6),
            fault: Fault::Status {
                status: 429,
                retry_after: Some(7),
            },
        }],
        ..JobPlan::default()
    };
    insta::assert_snapshot!(narrate(vec![scenario(
        Shape::FileTasks,
        plan,
        Config::progressive(),
        false
    )]));
}

#[test]
fn job_with_progress_and_eta() {
    let plan = JobPlan {
        duration: Duration::from_secs(45),
        eta_sigma: Some(0.0),
        ..JobPlan::default()
    };
    let config = Config::operation(jobpoll_core::Operation::Scraping);
    insta::assert_snapshot!(narrate(vec![scenario(Shape::Jobs, plan, config, true)]));
}

#[test]
fn turn_that_never_ends_times_out() {
    let plan = JobPlan {
        duration: Duration::from_secs(10),
        ending: Ending::Never,
        ..JobPlan::default()
    };
    insta::assert_snapshot!(narrate(vec![scenario(
        Shape::Turn,
        plan,
        Config::turn(),
        false
    )]));
}

#[test]
fn google_and_azure_operations_side_by_side() {
    let failing = JobPlan {
        duration: Duration::from_secs(12),
        ending: Ending::Fail {
            message: "quota exceeded".into(),
        },
        ..JobPlan::default()
    };
    let plan = JobPlan {
        duration: Duration::from_secs(8),
        ..JobPlan::default()
    };
    insta::assert_snapshot!(narrate(vec![
        scenario(Shape::Google, failing, Config::fast(), true),
        scenario(Shape::Azure, plan, Config::fast(), true),
    ]));
}

#[test]
fn config_command_round_trips() {
    let config: SimConfig = SimConfig {
        seed: 42,
        jobs: 7,
        intensity: Intensity::Light,
        liveness_jobs: 3,
        sabotage: None,
    };
    assert_eq!(
        config.command(),
        "cargo run --release -p jobpoll-sim -- run --seed 42 --jobs 7 --intensity light --liveness-jobs 3"
    );
}
