//! The model shared between the HTTP server and its owner, on a real-time clock.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use http::{Method, StatusCode};
use jobpoll_core::Instant;

use crate::model::{Created, RequestCount, ServerConfig, ServerModel, Truth};
use crate::plan::{FaultWindow, JobPlan, Shape};
use crate::reply::Reply;

/// The request log keeps this many requests, the latest; older ones are dropped.
pub const REQUEST_LOG_CAPACITY: usize = 100_000;

/// Server-wide options: the model config, the seed, and faults applied to every
/// created job (server-wide fault injection from command-line flags).
#[derive(Clone, Debug, Default)]
pub struct ServeOptions {
    /// The model's settings (rate limit, bearer token).
    pub config: ServerConfig,
    /// The seed of the model's generator (ETA errors).
    pub seed: u64,
    /// Appended to the faults of every job created on this server, after the
    /// plan's own (a job meets the first window that covers its age, so a plan's
    /// own fault wins where they overlap).
    pub default_faults: Vec<FaultWindow>,
}

/// One request the server answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedRequest {
    /// When the model answered it.
    pub at: Instant,
    /// Its method.
    pub method: Method,
    /// Its path, without the query.
    pub path: String,
    /// The status of the answer.
    pub status: u16,
}

/// A model shared between the HTTP server and its owner: tests inspect it, and a
/// restarted server keeps its jobs.
///
/// Model time is real time since [`SharedModel::new`], read from the tokio clock
/// (`tokio::time::Instant`, which is the system's monotonic clock unless a test
/// paused tokio's time). Clones share the same model, clock and log.
#[derive(Clone)]
pub struct SharedModel {
    inner: Arc<Inner>,
}

struct Inner {
    /// Real time of model [`Instant::ZERO`].
    epoch: tokio::time::Instant,
    options: ServeOptions,
    state: Mutex<State>,
}

/// Everything behind the lock: one lock, so the log is in the model's order.
struct State {
    model: ServerModel,
    log: VecDeque<LoggedRequest>,
}

impl SharedModel {
    /// A model with no jobs, built from `options`, whose clock starts now.
    pub fn new(options: ServeOptions) -> SharedModel {
        let mut model = ServerModel::new(options.config.clone(), options.seed);
        model.set_default_faults(options.default_faults.clone());
        SharedModel {
            inner: Arc::new(Inner {
                epoch: tokio::time::Instant::now(),
                options,
                state: Mutex::new(State {
                    model,
                    log: VecDeque::new(),
                }),
            }),
        }
    }

    /// The options the model was made with.
    pub fn options(&self) -> &ServeOptions {
        &self.inner.options
    }

    /// The model's time now: real time elapsed since [`SharedModel::new`].
    pub fn now(&self) -> Instant {
        let elapsed = self.inner.epoch.elapsed().as_micros();
        Instant::from_micros(u64::try_from(elapsed).unwrap_or(u64::MAX))
    }

    /// Answers one request at [`SharedModel::now`] and logs it, as the HTTP server
    /// does for every request it reads (a driver may also call this in process).
    pub fn handle(&self, request: &http::Request<Bytes>) -> http::Response<Bytes> {
        let mut state = self.lock();
        let now = self.now();
        let response = state.model.handle(request, now);
        state.record(LoggedRequest {
            at: now,
            method: request.method().clone(),
            path: request.uri().path().to_owned(),
            status: response.status().as_u16(),
        });
        response
    }

    /// A refusal the server gives before the model sees the request (a body too
    /// large, or unreadable), in the model's error format, with a `Date`, logged.
    pub(crate) fn refuse(
        &self,
        method: &Method,
        path: &str,
        status: StatusCode,
        message: String,
    ) -> http::Response<Bytes> {
        let mut state = self.lock();
        let now = self.now();
        state.record(LoggedRequest {
            at: now,
            method: method.clone(),
            path: path.to_owned(),
            status: status.as_u16(),
        });
        Reply::error(status, message).into_response(now)
    }

    /// The requests answered so far, oldest first (the latest
    /// [`REQUEST_LOG_CAPACITY`]).
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.lock().log.iter().cloned().collect()
    }

    /// Forgets the logged requests.
    pub fn clear_requests(&self) {
        self.lock().log.clear();
    }

    /// What has happened to job `id` by now (see [`ServerModel::truth`]).
    pub fn truth(&self, id: &str) -> Option<Truth> {
        let state = self.lock();
        state.model.truth(id, self.now())
    }

    /// Creates a job directly, now, with the default faults appended to `plan`'s
    /// (see [`ServerModel::create`]).
    pub fn create(&self, shape: Shape, plan: JobPlan) -> Created {
        let mut state = self.lock();
        let now = self.now();
        state.model.create(shape, plan, now)
    }

    /// The id [`SharedModel::truth`] takes for the job whose status lives at
    /// `path` (see [`ServerModel::job_id_for_path`]).
    pub fn job_id_for_path(&self, path: &str) -> Option<String> {
        self.lock().model.job_id_for_path(path)
    }

    /// How many requests with `method` at `path` the model has received (see
    /// [`ServerModel::request_count`]).
    pub fn request_count(&self, method: &Method, path: &str) -> u64 {
        self.lock().model.request_count(method, path)
    }

    /// Every request count, by path then method (see
    /// [`ServerModel::request_counts`]).
    pub fn request_counts(&self) -> Vec<RequestCount> {
        self.lock().model.request_counts()
    }

    /// Runs `f` on the model itself, under the lock (do not block in it).
    pub fn with_model<R>(&self, f: impl FnOnce(&mut ServerModel) -> R) -> R {
        f(&mut self.lock().model)
    }

    /// The state, even if a thread panicked while holding it: every change to it
    /// is a single call into the model, which never panics.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for SharedModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("SharedModel")
            .field("now", &self.now())
            .field("jobs", &state.model.job_count())
            .field("logged_requests", &state.log.len())
            .finish_non_exhaustive()
    }
}

impl State {
    fn record(&mut self, entry: LoggedRequest) {
        push_bounded(&mut self.log, entry, REQUEST_LOG_CAPACITY);
    }
}

/// Appends `entry`, dropping the oldest entries beyond `capacity`.
fn push_bounded<T>(log: &mut VecDeque<T>, entry: T, capacity: usize) {
    while log.len() >= capacity.max(1) {
        log.pop_front();
    }
    log.push_back(entry);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_keeps_the_latest_entries() {
        let mut log = VecDeque::new();
        for entry in 0..10 {
            push_bounded(&mut log, entry, 4);
        }
        assert_eq!(log, [6, 7, 8, 9]);
    }

    #[test]
    fn time_starts_at_zero_and_moves_on() {
        let model = SharedModel::new(ServeOptions::default());
        let first = model.now();
        assert!(first < Instant::from_secs(5), "{first:?}");
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(model.now() > first);
    }
}
