//! The polling-efficiency benchmark: its workload, its driver, its metrics, and the
//! tuning of the core's standard adaptive schedule (a reduced run must meet the
//! targets).

use std::time::Duration;

use jobpoll_core::Schedule;
use jobpoll_core::schedule::Adaptive;
use jobpoll_sim::policy::drive::{JobResult, run_job};
use jobpoll_sim::policy::metrics::{Summary, mean, quantile, summarize};
use jobpoll_sim::policy::responder::{Answer, Hints, Responder};
use jobpoll_sim::policy::workload::{self, JobCase, MAX_DURATION_SECS, MIN_DURATION_SECS};
use jobpoll_sim::policy::{self, GOALS, Policy, Row, naive_adaptive, policies, run_results};

const SECOND: Duration = Duration::from_secs(1);

fn case(duration_secs: f64) -> JobCase {
    JobCase {
        index: 0,
        component: 0,
        duration_us: (duration_secs * 1e6).round() as u64,
        seed: 42,
    }
}

fn real(schedule: &Schedule, duration_secs: f64) -> JobResult {
    run_job(schedule, &case(duration_secs), Hints::Progress).expect("job runs")
}

fn standard(duration_secs: f64, hints: Hints) -> JobResult {
    run_job(
        &Schedule::adaptive(Adaptive::standard()),
        &case(duration_secs),
        hints,
    )
    .expect("job runs")
}

/// The benchmark's policy called `name`.
fn policy_named(name: &str) -> Policy {
    policies()
        .into_iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no policy {name:?}"))
}

/// `policy` over `cases`, summarized.
fn summary_of(policy: &Policy, cases: &[JobCase]) -> Summary {
    let results: Vec<JobResult> = cases
        .iter()
        .map(|c| policy.run(c))
        .collect::<Result<_, _>>()
        .expect("jobs run");
    summarize(cases, &results)
}

fn micros(secs: f64) -> u64 {
    (secs * 1e6).round() as u64
}

// --- workload -------------------------------------------------------------------

#[test]
fn workload_follows_the_mixture_and_its_truncation() {
    let cases = workload::generate(20_000, 1);
    assert_eq!(cases.len(), 20_000);
    assert!(cases.iter().enumerate().all(|(i, c)| c.index == i));
    // Component shares: 40 / 35 / 25 % (one standard deviation is about 0.35 %).
    for (k, component) in workload::MIXTURE.iter().enumerate() {
        let share = cases.iter().filter(|c| c.component == k).count() as f64 / 20_000.0;
        assert!(
            (share - component.weight).abs() < 0.015,
            "component {k}: share {share}"
        );
        // Medians are the components' (truncation moves them by under 1 %).
        let secs: Vec<f64> = cases
            .iter()
            .filter(|c| c.component == k)
            .map(JobCase::duration_secs)
            .collect();
        let median = quantile(&secs, 0.5);
        assert!(
            (median / component.median_secs - 1.0).abs() < 0.05,
            "component {k}: median {median}"
        );
    }
    // Truncated to [5 s, 90 min] by redrawing: everything inside, the quick
    // component's lower tail reaches 5 s, and there is no point mass at a bound
    // (which clamping would make: about 0.6 % of the jobs would be exactly 5 s).
    let secs: Vec<f64> = cases.iter().map(JobCase::duration_secs).collect();
    assert!(
        secs.iter()
            .all(|s| (MIN_DURATION_SECS..=MAX_DURATION_SECS).contains(s))
    );
    let at_bounds = secs
        .iter()
        .filter(|&&s| s == MIN_DURATION_SECS || s == MAX_DURATION_SECS)
        .count();
    assert_eq!(at_bounds, 0);
    assert!(secs.iter().any(|&s| s < 5.2), "no job near 5 s");
    assert!(secs.iter().any(|&s| s > 3_600.0), "no job past an hour");
    // Deterministic by seed.
    assert_eq!(workload::generate(100, 1), cases[..100].to_vec());
    assert_ne!(workload::generate(100, 2), cases[..100].to_vec());
}

#[test]
fn responder_says_processing_with_hints_until_the_duration_then_completed() {
    let job = case(10.0);
    let mut none = Responder::new(&job, Hints::None);
    assert_eq!(none.answer(0).body(), r#"{"status":"processing"}"#);
    let mut progress = Responder::new(&job, Hints::Progress);
    assert_eq!(
        progress.answer(micros(4.56)).body(),
        r#"{"status":"processing","progress_data":{"percentage":45}}"#
    );
    assert_eq!(progress.answer(micros(10.0)), Answer::Completed);
    assert_eq!(
        progress.answer(micros(10.0)).body(),
        r#"{"status":"completed"}"#
    );
    // An exact ETA (sigma 0) is the true remaining time, in whole milliseconds.
    let mut exact = Responder::new(&job, Hints::Eta { sigma: 0.0 });
    assert_eq!(
        exact.answer(micros(2.5)).body(),
        r#"{"status":"processing","progress_data":{"percentage":25,"estimated_time_remaining":7.500}}"#
    );
    // A noisy one is deterministic by the job's seed, and lognormal around it.
    let draws = |seed| {
        let mut r = Responder::new(&JobCase { seed, ..job }, Hints::Eta { sigma: 0.3 });
        (0..2_000)
            .map(|_| match r.answer(0) {
                Answer::Processing {
                    eta_ms: Some(ms), ..
                } => ms as f64 / 10_000.0,
                other => panic!("{other:?}"),
            })
            .collect::<Vec<f64>>()
    };
    assert_eq!(draws(5), draws(5));
    let logs: Vec<f64> = draws(5).iter().map(|x| x.ln()).collect();
    let m = mean(&logs);
    let sd = (logs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / logs.len() as f64).sqrt();
    assert!(
        m.abs() < 0.03 && (sd - 0.3).abs() < 0.02,
        "mean {m}, sd {sd}"
    );
}

// --- baselines on a known duration ----------------------------------------------

#[test]
fn baselines_cost_the_expected_requests_on_a_10_s_job() {
    // (schedule, requests, detection delay in seconds), first poll at once.
    let cases = [
        // 0, 2, 4, 6, 8, 10.
        (Schedule::fixed(2 * SECOND), 6, 0.0),
        // 0, 1, 2, 3, 4, 5 (1 s x5), 7, 9, 11 (2 s).
        (Schedule::progressive(), 9, 1.0),
        // 0, 30.
        (Schedule::standard(), 2, 20.0),
        // 0, 5, 12.5.
        (Schedule::exponential(5 * SECOND, 1.5, 45 * SECOND), 3, 2.5),
        // 0, 30.
        (Schedule::fixed(30 * SECOND), 2, 20.0),
        // The naive adaptive rule without hints: 1 s (its minimum) until 10 % of the
        // age exceeds it, so 0, 1, ..., 10.
        (Schedule::adaptive(naive_adaptive()), 11, 0.0),
        // The standard one: 0, 9 (settle), then the age grows by 11.5 %: 10.035.
        (Schedule::adaptive(Adaptive::standard()), 3, 0.035),
    ];
    for (schedule, requests, delay) in cases {
        let result = run_job(&schedule, &case(10.0), Hints::None).expect("job runs");
        assert_eq!(
            result,
            JobResult {
                requests,
                delay_us: micros(delay)
            },
            "{schedule:?}"
        );
    }
    // The waiter's first delay is exactly 2 s, later ones are random in [2 s, ...]:
    // between 0, 2, 10+ (3 requests) and 0, 2, 4, 6, 8, 10 (6).
    let waiter = real(&Schedule::waiter(2 * SECOND, 120 * SECOND), 10.0);
    assert!((3..=6).contains(&waiter.requests), "{waiter:?}");
}

// --- the standard adaptive schedule ---------------------------------------------

#[test]
fn standard_schedule_on_known_jobs() {
    // An exact ETA on a 100 s job: wait half of it plus 5 % of the age:
    // 0, 50, 77.5, 92.625, 100.94375.
    assert_eq!(
        standard(100.0, Hints::Eta { sigma: 0.0 }),
        JobResult {
            requests: 5,
            delay_us: 943_750
        }
    );
    // Progress only: one sample gives no slope, so the first wait runs to the settle
    // time (9 s); at 9 s the job is 9 % done, the slope says 91 s remain, the wait is
    // 45.5 s + 5 % of 9 s = 45.95 s; then 54 % at 54.95 s, and so on:
    // 0, 9, 54.95, 81.10213, 94.669215, 102.424034.
    assert_eq!(
        standard(100.0, Hints::Progress),
        JobResult {
            requests: 6,
            delay_us: 2_424_034
        }
    );
    // The naive rule on the same job with the exact ETA: 80 % of it each time, so
    // the remaining time shrinks by 5 each poll until the 1 s minimum takes over:
    // 0, 80, 96, 99.2, 100.2.
    assert_eq!(
        run_job(
            &Schedule::adaptive(naive_adaptive()),
            &case(100.0),
            Hints::Eta { sigma: 0.0 }
        ),
        Ok(JobResult {
            requests: 5,
            delay_us: 200_000
        })
    );
}

/// The guard of the tuning: on 2 000 jobs the core's standard adaptive schedule, run
/// through real jobs as in the benchmark, meets both targets, and the naive rule it
/// replaced misses them.
#[test]
fn reduced_run_meets_the_tuning_targets() {
    let cases = workload::generate(2_000, 1);
    for goal in GOALS {
        let ours = policy_named(goal.policy);
        assert_eq!(ours.schedule, Schedule::adaptive(Adaptive::standard()));
        let summary = summary_of(&ours, &cases);
        assert!(goal.met_by(&summary), "{}: {summary:?}", goal.policy);

        let naive = policy_named(&goal.policy.replace("(standard)", "(naive)"));
        assert_eq!(naive.hints, ours.hints);
        let before = summary_of(&naive, &cases);
        assert!(
            !goal.met_by(&before),
            "the naive rule already meets {goal:?}"
        );
    }
}

// --- metrics and running --------------------------------------------------------

#[test]
fn mean_and_nearest_rank_p95_on_a_hand_made_example() {
    let values: Vec<f64> = (1..=20).map(f64::from).collect();
    assert_eq!(mean(&values), 10.5);
    // ceil(0.95 * 20) = 19th smallest.
    assert_eq!(quantile(&values, 0.95), 19.0);
    assert_eq!(quantile(&values, 0.5), 10.0);
    assert_eq!(quantile(&values, 0.0), 1.0);
    assert_eq!(quantile(&values, 1.0), 20.0);
    // Order does not matter; ceil(0.95 * 3) = 3rd.
    assert_eq!(quantile(&[3.0, 1.0, 2.0], 0.95), 3.0);
    assert_eq!(quantile(&[], 0.95), 0.0);
    assert_eq!(mean(&[]), 0.0);

    // Two jobs of 10 s and 20 s, both seen 1 s late, with 3 and 5 requests.
    let cases = [case(10.0), case(20.0)];
    let results = [
        JobResult {
            requests: 3,
            delay_us: 1_000_000,
        },
        JobResult {
            requests: 5,
            delay_us: 1_000_000,
        },
    ];
    let summary = summarize(&cases, &results);
    assert!((summary.mean_rel_delay - 0.075).abs() < 1e-12);
    assert!((summary.p95_rel_delay - 0.1).abs() < 1e-12);
    assert_eq!(summary.mean_requests, 4.0);
    assert_eq!(summary.p95_requests, 5.0);
}

#[test]
fn results_do_not_depend_on_the_number_of_threads() {
    let cases = workload::generate(600, 9);
    // The four standard adaptive rows, the random waiter, and the naive adaptive
    // rule with an ETA.
    let chosen: Vec<_> = policies()
        .into_iter()
        .filter(|p| {
            p.name.starts_with("adaptive (standard)")
                || p.name.starts_with("AWS")
                || p.name == "adaptive (naive), ETA sigma 0.3"
        })
        .collect();
    assert_eq!(chosen.len(), 6);
    let one = run_results(&cases, &chosen, 1).expect("runs");
    let three = run_results(&cases, &chosen, 3).expect("runs");
    assert_eq!(one, three);
    assert!(one.iter().all(|per_job| per_job.len() == 600));
}

#[test]
fn table_and_csv_have_one_line_per_policy() {
    let rows: Vec<Row> = policies()
        .into_iter()
        .map(|policy| Row {
            policy,
            summary: summarize(
                &[case(10.0)],
                &[JobResult {
                    requests: 3,
                    delay_us: 500_000,
                }],
            ),
        })
        .collect();
    let table = policy::table(&rows);
    assert_eq!(table.lines().count(), rows.len() + 2);
    assert!(table.contains("fixed 2 s") && table.contains("5.00%"));
    let csv = policy::csv(&rows);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("policy,hints,first_poll,mean_rel_delay,p95_rel_delay,mean_requests,p95_requests")
    );
    assert_eq!(
        lines.next(),
        Some("fixed 2 s,progress,immediately,0.050000,0.050000,3.0000,3")
    );
    assert_eq!(csv.lines().count(), rows.len() + 1);
    assert!(csv.contains("\"adaptive (standard), no hints\",none,immediately,"));
    let svg = policy::svg(&rows, 1, 1);
    assert_eq!(svg.matches("<circle").count(), rows.len() + 3);
}
