//! Canonical runs, snapshotted one line per input and output (read the `.snap`
//! files in `snapshots/` as the specification of each scenario).

mod support;

use std::time::Duration;

use jobpoll_core::{Config, Instant, Job, JobSpec, Profile};
use support::{Reply, run};

fn url(path: &str) -> url::Url {
    format!("https://api.example.com{path}").parse().expect("valid URL")
}

#[test]
fn seed_000_standard_backoff_until_timeout() {
    let spec = JobSpec::poll(Profile::codegen(), url("/api/v1/public/graph/codegen/job-1/status"))
        .with_job_id("job-1");
    let job = Job::new(spec, Config::standard(), Instant::ZERO).expect("valid job");
    let run = run(job, |_, _| Reply::ok(r#"{"jobId":"job-1","status":"running"}"#), None);
    let gaps: Vec<f64> = run.send_times().windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(&gaps[..7], &[30.0, 45.0, 67.5, 101.25, 151.875, 227.8125, 300.0]);
    insta::assert_snapshot!(run.text());
}
