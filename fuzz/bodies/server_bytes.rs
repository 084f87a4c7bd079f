//! Arbitrary server bytes (status, header values, body) through every profile and
//! the hint parser: nothing may panic.
//!
//! Shared by the fuzz target and by the workspace test that replays the corpus.

use std::time::Duration;

use arbitrary::Arbitrary;
use bytes::Bytes;
use jobpoll_core::hints::read_hints;
use jobpoll_core::profile::{Interpret, JobRef};

use super::common;

#[derive(Arbitrary, Debug)]
struct Case {
    profile: u8,
    status: u16,
    headers: Vec<(u8, Vec<u8>)>,
    body: Vec<u8>,
    id: String,
}

const HEADER_NAMES: [&str; 10] = [
    "retry-after",
    "retry-after-ms",
    "ratelimit",
    "ratelimit-policy",
    "ratelimit-remaining",
    "ratelimit-reset",
    "date",
    "location",
    "operation-location",
    "azure-asyncoperation",
];

/// Runs one input of the corpus; panics on a broken promise.
pub fn run(data: &[u8]) {
    common::run(data, check);
}

fn check(case: Case) {
    let Some(profile) = common::builtin_profile(case.profile) else {
        return;
    };
    let mut builder = http::Response::builder()
        .status(http::StatusCode::from_u16(case.status).unwrap_or(http::StatusCode::OK));
    for (name, value) in &case.headers {
        if let Ok(value) = http::HeaderValue::from_bytes(value) {
            builder = builder.header(HEADER_NAMES[*name as usize % HEADER_NAMES.len()], value);
        }
    }
    let Ok(response) = builder.body(Bytes::from(case.body)) else {
        return;
    };
    let _ = read_hints(response.headers(), Duration::from_secs(3600));
    let base: url::Url = "https://api.example.com/api/v1/submit"
        .parse()
        .expect("static URL");
    let _ = profile.read_submission(&response, &base);
    let _ = profile.read_status(&response);
    let _ = profile.read_results(&response);
    let job = JobRef {
        job_id: Some(&case.id),
        status_url: &base,
        results_url: None,
    };
    let _ = profile.results_url(job);
    let _ = profile.cancel_request(job);
}
