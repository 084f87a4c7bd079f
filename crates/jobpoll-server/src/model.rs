//! The server as a pure state machine. See the crate docs.

use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use jobpoll_core::Instant;

use crate::plan::{JobPlan, Shape};

/// Server-wide settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerConfig {
    /// Token-bucket rate limit over all requests, if any: answers 429 with
    /// `Retry-After` and `RateLimit`/`RateLimit-Policy` headers when exhausted.
    pub rate_limit: Option<RateLimit>,
    /// Require `Authorization: Bearer <token>` on every request (401 otherwise).
    pub token: Option<String>,
}

/// A token bucket: `burst` requests at once, refilled at `per_second`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RateLimit {
    /// Bucket size.
    pub burst: u32,
    /// Tokens added per second.
    pub per_second: f64,
}

/// What the model knows happened to a job (the simulator checks outcomes against
/// it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "truth", rename_all = "snake_case")]
pub enum Truth {
    /// Still running at the instant asked about.
    Running,
    /// Succeeded at `at`.
    Succeeded {
        /// When.
        at: Instant,
    },
    /// Failed at `at` with `message`.
    Failed {
        /// When.
        at: Instant,
        /// The message the API reports.
        message: String,
    },
    /// Cancelled at `at` (by a cancel request).
    Cancelled {
        /// When.
        at: Instant,
    },
}

/// A job created directly in the model (not through a submit request).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Created {
    /// The job's id.
    pub id: String,
    /// Path of its status resource (`/api/v1/jobs/{id}`, ...), to join to the
    /// server's origin.
    pub status_path: String,
}

/// The reference server. See the crate docs.
#[derive(Clone, Debug)]
pub struct ServerModel {
    _private: (),
}

impl ServerModel {
    /// A server with no jobs, drawing its randomness (ETA errors) from `seed`.
    pub fn new(config: ServerConfig, seed: u64) -> ServerModel {
        let _ = (config, seed);
        todo!()
    }

    /// Creates a job directly, as if it had been submitted at `now`.
    pub fn create(&mut self, shape: Shape, plan: JobPlan, now: Instant) -> Created {
        let _ = (shape, plan, now);
        todo!()
    }

    /// The request that creates a job of `shape` with `plan` through the API (the
    /// plan travels in the body), as method, path and body.
    pub fn submit_request(shape: Shape, plan: &JobPlan) -> (http::Method, String, String) {
        let _ = (shape, plan);
        todo!()
    }

    /// Answers one request at `now`. Never panics, whatever the request.
    pub fn handle(
        &mut self,
        request: &http::Request<Bytes>,
        now: Instant,
    ) -> http::Response<Bytes> {
        let _ = (request, now);
        todo!()
    }

    /// What happened to job `id` by `now`; `None` for an unknown id.
    pub fn truth(&self, id: &str, now: Instant) -> Option<Truth> {
        let _ = (id, now);
        todo!()
    }

    /// Number of jobs the server holds.
    pub fn job_count(&self) -> usize {
        todo!()
    }
}

#[allow(dead_code)]
fn unused(_: Duration) {}
