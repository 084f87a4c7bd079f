//! Waits on a jobs-API job against a tiny in-memory server in virtual time,
//! printing each event: the run loop of the crate docs, with a server that takes
//! 95 seconds, reports progress, and rate-limits once.
//!
//! `cargo run -p jobpoll-core --example simulated_wait`

use std::time::Duration;

use bytes::Bytes;
use jobpoll_core::time::format_duration;
use jobpoll_core::{Config, Input, Instant, Job, JobSpec, Operation, Output, Profile};

/// The job's status at `now` (the server's side of the conversation).
fn server(now: Instant, request_number: u32) -> http::Response<Bytes> {
    if request_number == 3 {
        return http::Response::builder()
            .status(429)
            .header("retry-after", "15")
            .body(Bytes::from_static(b"slow down"))
            .unwrap_or_default();
    }
    let elapsed = now.since_epoch().as_secs_f64();
    let body = if elapsed >= 95.0 {
        r#"{"job_id":"job_42","status":"completed","result_data":{"video_url":"https://cdn.example.com/v.mp4"}}"#.to_owned()
    } else {
        let percentage = (elapsed / 95.0 * 100.0).floor();
        let remaining = 95.0 - elapsed;
        format!(
            r#"{{"job_id":"job_42","status":"processing","progress_data":{{"percentage":{percentage},"current_step":"rendering","estimated_time_remaining":{remaining}}}}}"#
        )
    };
    http::Response::new(Bytes::from(body))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = "https://api.example.com/api/v1/jobs/job_42".parse()?;
    let spec = JobSpec::poll(Profile::jobs(), url).with_job_id("job_42");
    let config = Config::operation(Operation::VideoGeneration);
    let mut now = Instant::ZERO;
    let mut job = Job::new(spec, config, now)?;
    let mut requests = 0;
    let latency = Duration::from_millis(120);
    loop {
        match job.poll_output() {
            Output::Transmit(request) => {
                requests += 1;
                now = now + latency;
                let response = server(now, requests);
                println!(
                    "{:>8}  {} {} -> {}",
                    format_duration(now.since_epoch()),
                    request.method,
                    request.url.path(),
                    response.status()
                );
                job.handle_input(Input::Response {
                    request: request.id,
                    response,
                    now,
                })?;
            }
            Output::Event(event) => println!(
                "{:>8}  {}",
                format_duration(now.since_epoch()),
                serde_json::to_string(&event)?
            ),
            Output::Abort(_) => {}
            Output::WakeAt(at) => {
                now = at;
                job.handle_input(Input::Tick { now })?;
            }
            Output::Finished(outcome) => {
                println!("{:>8}  {outcome}", format_duration(now.since_epoch()));
                return Ok(());
            }
            Output::Done => return Ok(()),
        }
    }
}
