//! A jobs-profile job and realistic bodies of that API, for the classification
//! and limits tests.

use jobpoll_core::{Config, Instant, Jitter, Job, JobSpec, Profile};

use super::{Reply, Run, api, run, script};

pub const PROCESSING: &str = r#"{"job_id":"job_abc123","status":"processing","type":"video_generation","created_at":"2024-01-15T10:00:00Z","progress_data":{"percentage":45,"current_step":"Generating scene 3 of 7","estimated_time_remaining":120}}"#;
pub const COMPLETED: &str = r#"{"job_id":"job_abc123","status":"completed","type":"video_generation","completed_at":"2024-01-15T10:04:00Z","result_data":{"video_url":"https://cdn.example/v/abc123.mp4","duration":30}}"#;

/// A jobs-profile job polling `/api/v1/jobs/job_abc123`.
pub fn jobs_job(config: Config) -> Job {
    let spec =
        JobSpec::poll(Profile::jobs(), api("/api/v1/jobs/job_abc123")).with_job_id("job_abc123");
    Job::new(spec, config, Instant::ZERO).expect("valid job")
}

/// Runs a jobs-profile job with `Config::fast()` without retry jitter (polls 2,
/// 3, 4.5 s; retries 2, 3, 4.5 s) against `replies`.
pub fn fast_run(replies: Vec<Reply>) -> Run {
    let config = Config::fast().with_retry_jitter(Jitter::None);
    run(jobs_job(config), script(replies), None)
}

pub fn submit_spec() -> JobSpec {
    JobSpec::submit(
        Profile::jobs(),
        api("/api/v1/video-generation-job"),
        Some(r#"{"prompt":"a cat surfing at sunset","duration":30}"#.to_owned()),
    )
}

pub const QUEUED: &str = r#"{"job_id":"job_abc123","status":"queued","type":"video_generation","created_at":"2024-01-15T10:00:00Z"}"#;
