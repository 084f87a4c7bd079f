//! The server as a pure state machine. See the crate docs.
//!
//! ## The request pipeline
//!
//! Every request to [`ServerModel::handle`] goes through the same steps (except
//! `GET /_jobpoll/requests`, which answers the request counts at once):
//!
//! 0. the request is counted by method and path ([`ServerModel::request_count`]);
//! 1. the rate limiter takes a token, or the answer is 429;
//! 2. the bearer token is checked, or the answer is 401;
//! 3. the path and method name an endpoint, or the answer is 404 / 405;
//! 4. the endpoint answers: a create request creates a job (its body may carry the
//!    plan, 400 if it cannot be read, or its `create_failures` answer in its
//!    place); a request about a job meets the job's faults
//!    (a `Status` or `Malformed` fault answers in its place), its visibility (404
//!    before `visible_after`), its session if its plan needs one (the first answer
//!    sets a session cookie unless the request has one, a later request without a
//!    session is 401), then the job's shape renders it;
//! 5. every answer gets a `Date` header for `now` and, with a rate limit, the
//!    `RateLimit` and `RateLimit-Policy` headers.
//!
//! ## Routes
//!
//! | shape | create | status | other |
//! |---|---|---|---|
//! | jobs | `POST /api/v1/{...}/{x}-job` → 201 | `GET /api/v1/jobs/{id}` | `POST /api/v1/jobs/{id}/cancel`, `GET /api/v1/jobs?status=&limit=` |
//! | codegen | `POST /api/v1/public/graph/codegen` → 202 | `GET .../codegen/{id}/status` | `GET .../codegen/{id}/results` |
//! | file-tasks | `POST /api/file` → 201 | `GET /api/file/{id}` | |
//! | turn | `POST /api/projects/{p}/sessions/{s}/turns` → 201 | `GET .../turns/{id}` | |
//! | google | `POST /v1/operations` → 200 | `GET /v1/{name}` (`operations/**`) | `POST /v1/{name}:cancel`, `DELETE /v1/{name}` |
//! | azure | `PUT\|PATCH\|POST\|DELETE /azure/resources/{name}`, `POST /azure/resources` → as planned | `GET /azure/operations/{id}`, `GET /azure/operation-status/{id}` | `GET /azure/operation-results/{id}[/{step}]`, `GET /azure/resources/{name}`, `GET /azure/results/{id}` |
//! | inspection | | | `GET /_jobpoll/requests[?path=]` (request counts) |
//! | documents | | `GET /api/projects/{p}/files` (ETag, 304) | `POST /api/projects/{p}/files/status` |

mod azure;
mod counts;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use http::header::{ALLOW, AUTHORIZATION, HOST};
use serde::{Deserialize, Serialize};

use jobpoll_core::Instant;
use jobpoll_core::rng::Rng;

use crate::job::{AzureMethod, Details, Job, Seen};
use crate::limiter::{Decision, Limiter};
use crate::plan::{Fault, FaultWindow, JobPlan, Shape};
use crate::reply::{Reply, quote};
use crate::routes::{Action, Endpoint, RouteError, Submit, Target};
use crate::shapes::{self, Context, StatusExtras};
use crate::{auth, documents, eta, faults, routes, session, submit};

pub use counts::{MAX_COUNTED_PATHS, RequestCount};

/// Server-wide settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
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
    /// The job's id, as the core's profile for its shape knows it: the short id
    /// (`job-1`), or for Google the operation name (`operations/op-1`), which the
    /// profile's cancel template needs.
    pub id: String,
    /// Path of its status resource (`/api/v1/jobs/{id}`, ...), to join to the
    /// server's origin.
    pub status_path: String,
}

/// The reference server. See the crate docs.
#[derive(Clone, Debug)]
pub struct ServerModel {
    config: ServerConfig,
    /// Draws the errors of reported remaining times.
    rng: Rng,
    limiter: Option<Limiter>,
    /// Every job, in creation order.
    jobs: Vec<Job>,
    /// Job id to its index in `jobs`. Jobs are never removed, so every index
    /// here and in `resources` points into `jobs`.
    by_id: HashMap<String, usize>,
    /// Azure resource name to the index of the latest operation on it.
    resources: HashMap<String, usize>,
    /// Jobs created so far, by shape (in [`Shape::ALL`] order), for ids.
    counters: [u64; Shape::ALL.len()],
    /// Fault windows appended to the plan of every job created from now on.
    default_faults: Vec<FaultWindow>,
    /// The session cookie values handed out (see `JobPlan::session_cookie`).
    sessions: HashSet<String>,
    /// Google operation name to its job's index.
    google_names: HashMap<String, usize>,
    /// Requests received, by method and path.
    requests: counts::RequestCounts,
}

impl ServerModel {
    /// A server with no jobs, drawing its randomness (ETA errors) from `seed`.
    pub fn new(config: ServerConfig, seed: u64) -> ServerModel {
        ServerModel {
            limiter: config.rate_limit.as_ref().map(Limiter::new),
            config,
            rng: Rng::new(seed),
            jobs: Vec::new(),
            by_id: HashMap::new(),
            resources: HashMap::new(),
            counters: [0; Shape::ALL.len()],
            default_faults: Vec::new(),
            sessions: HashSet::new(),
            google_names: HashMap::new(),
            requests: counts::RequestCounts::default(),
        }
    }

    /// Server-wide fault injection: every job created from now on, through a
    /// submit request or [`ServerModel::create`], gets these windows appended to
    /// its plan's own faults. A job meets the first window that covers its age, so
    /// where a plan's own fault and a default one overlap, the plan's wins. Jobs
    /// that already exist keep their plans.
    pub fn set_default_faults(&mut self, faults: Vec<FaultWindow>) {
        self.default_faults = faults;
    }

    /// The fault windows appended to every new job's plan (see
    /// [`ServerModel::set_default_faults`]).
    pub fn default_faults(&self) -> &[FaultWindow] {
        &self.default_faults
    }

    /// The server's settings.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Creates a job directly, as if it had been submitted at `now`. Turns belong
    /// to project `p1`, session `s1`; Azure operations are PUTs of resource
    /// `res-N`; Google operations are named as the plan says. The plan's
    /// `create_failures` do not apply.
    pub fn create(&mut self, shape: Shape, mut plan: JobPlan, now: Instant) -> Created {
        let (id, number) = self.next_id(shape);
        let details = match shape {
            Shape::Jobs => Details::Jobs {
                kind: "generic".to_owned(),
            },
            Shape::Codegen => Details::Codegen {
                graph_id: format!("graph-{number}"),
            },
            Shape::FileTasks => Details::FileTasks,
            Shape::Turn => Details::Turn {
                project: DEFAULT_PROJECT.to_owned(),
                session: DEFAULT_SESSION.to_owned(),
            },
            Shape::Google => Details::Google {
                name: shapes::google::name_for(&id, plan.google.name_prefix.as_deref()),
            },
            Shape::Azure => self.azure_details(
                format!("res-{number}"),
                AzureMethod::Put,
                Default::default(),
                &mut plan,
            ),
        };
        let job = self.insert(id, details, plan, now);
        Created {
            id: shapes::client_id(job),
            status_path: shapes::status_path(job),
        }
    }

    /// The request that creates a job of `shape` with `plan` through the API (the
    /// plan travels in the body), as method, path and body.
    ///
    /// Jobs are created at `/api/v1/demo-job` (type `demo`), turns in project `p1`,
    /// session `s1`, and Azure operations with `POST /azure/resources`, which names
    /// a new resource for each.
    pub fn submit_request(shape: Shape, plan: &JobPlan) -> (http::Method, String, String) {
        let plan = serde_json::to_value(plan).unwrap_or_default();
        let body = serde_json::json!({ "plan": plan }).to_string();
        let path = match shape {
            Shape::Jobs => "/api/v1/demo-job".to_owned(),
            Shape::Codegen => "/api/v1/public/graph/codegen".to_owned(),
            Shape::FileTasks => "/api/file".to_owned(),
            Shape::Turn => {
                format!("/api/projects/{DEFAULT_PROJECT}/sessions/{DEFAULT_SESSION}/turns")
            }
            Shape::Google => "/v1/operations".to_owned(),
            Shape::Azure => "/azure/resources".to_owned(),
        };
        (http::Method::POST, path, body)
    }

    /// The client's side of [`ServerModel::submit_request`]: a job spec that creates
    /// a job of `shape` with `plan` on the server at `origin` and waits on it with the
    /// core's matching built-in profile.
    pub fn submit_spec(
        origin: &url::Url,
        shape: Shape,
        plan: &JobPlan,
    ) -> Result<jobpoll_core::JobSpec, url::ParseError> {
        let (method, path, body) = ServerModel::submit_request(shape, plan);
        let url = origin.join(&path)?;
        let profile = jobpoll_core::Profile::builtin(shape.profile_name())
            .unwrap_or_else(jobpoll_core::Profile::jobs);
        let start = jobpoll_core::Start::Submit {
            method,
            url,
            body: Some(body),
        };
        Ok(jobpoll_core::JobSpec {
            profile,
            start,
            headers: Vec::new(),
        })
    }

    /// Answers one request at `now`. Never panics, whatever the request.
    pub fn handle(
        &mut self,
        request: &http::Request<Bytes>,
        now: Instant,
    ) -> http::Response<Bytes> {
        if request.uri().path() == routes::REQUEST_COUNTS_PATH
            && request.method() == http::Method::GET
        {
            return self.inspect(request).into_response(now);
        }
        self.requests.record(request.method(), request.uri().path());
        let decision = self.limiter.as_mut().map(|limiter| limiter.take(now));
        let reply = match (&self.limiter, decision) {
            (Some(limiter), Some(Decision::Limited { retry_after })) => {
                limiter.refusal(retry_after)
            }
            _ => {
                let mut reply = self.answer(request, now);
                if let (Some(limiter), Some(decision)) = (&self.limiter, decision) {
                    limiter.annotate(&mut reply, decision);
                }
                reply
            }
        };
        reply.into_response(now)
    }

    /// What happened to job `id` by `now`; `None` for an unknown id. Google jobs
    /// answer to their operation name (`operations/op-1`) and to their short id.
    pub fn truth(&self, id: &str, now: Instant) -> Option<Truth> {
        let job = self.job(id).or_else(|| {
            let index = *self.google_names.get(id)?;
            self.jobs.get(index)
        })?;
        Some(job.truth(now))
    }

    /// How many requests with `method` at `path` (without the query, as sent)
    /// the server has received, whatever their answers: create requests (refused
    /// ones included), polls, final GETs, cancels. `GET /_jobpoll/requests` is not
    /// counted.
    pub fn request_count(&self, method: &http::Method, path: &str) -> u64 {
        self.requests.count(method, path)
    }

    /// Every request count, by path then method (see
    /// [`ServerModel::request_count`]); over HTTP, `GET /_jobpoll/requests`.
    pub fn request_counts(&self) -> Vec<RequestCount> {
        self.requests.list(None)
    }

    /// The id `truth` takes for the job whose status lives at `path` (the path of
    /// the status URL a client polls; a query is ignored), or of the latest
    /// operation on the Azure resource there. A driver that created its job through
    /// the API finds the job's truth this way whatever the shape, even Azure's,
    /// whose submit response gives the client no id.
    pub fn job_id_for_path(&self, path: &str) -> Option<String> {
        let path = path.split('?').next().unwrap_or(path);
        match routes::resolve(&http::Method::GET, path).ok()? {
            Endpoint::Job { target, .. } => {
                let index = self.find(&target)?;
                Some(shapes::client_id(&self.jobs[index]))
            }
            _ => None,
        }
    }

    /// Number of jobs the server holds.
    pub fn job_count(&self) -> usize {
        self.jobs.len()
    }

    fn job(&self, id: &str) -> Option<&Job> {
        self.by_id.get(id).map(|&index| &self.jobs[index])
    }

    /// A fresh id for a job of `shape`: its prefix and a per-shape counter.
    fn next_id(&mut self, shape: Shape) -> (String, u64) {
        let slot = Shape::ALL
            .iter()
            .position(|s| *s == shape)
            .unwrap_or_default();
        let counter = &mut self.counters[slot];
        *counter += 1;
        let prefix = match shape {
            Shape::Jobs => "job",
            Shape::Codegen => "cg",
            Shape::FileTasks => "file",
            Shape::Turn => "turn",
            Shape::Google => "op",
            Shape::Azure => "azop",
        };
        (format!("{prefix}-{counter}"), *counter)
    }

    fn insert(&mut self, id: String, details: Details, mut plan: JobPlan, now: Instant) -> &Job {
        plan.faults.extend(self.default_faults.iter().cloned());
        let index = self.jobs.len();
        match &details {
            Details::Azure { resource, .. } => {
                self.resources.insert(resource.clone(), index);
            }
            Details::Google { name } => {
                self.google_names.insert(name.clone(), index);
            }
            _ => {}
        }
        self.by_id.insert(id.clone(), index);
        self.jobs.push(Job {
            id,
            details,
            plan,
            created_at: now,
            cancelled_at: None,
            session_started: false,
            seen: Seen::default(),
            deleted: false,
        });
        &self.jobs[index]
    }

    /// Steps 2 to 4 of the pipeline (see the module docs).
    fn answer(&mut self, request: &http::Request<Bytes>, now: Instant) -> Reply {
        if let Some(token) = &self.config.token
            && !auth::is_authorized(request.headers(), token)
        {
            return auth::refusal(request.headers().contains_key(AUTHORIZATION));
        }
        let path = request.uri().path();
        let endpoint = match routes::resolve(request.method(), path) {
            Ok(endpoint) => endpoint,
            Err(RouteError::NotFound) => {
                return Reply::error(
                    StatusCode::NOT_FOUND,
                    format!("nothing lives at {}", quote(path)),
                );
            }
            Err(RouteError::MethodNotAllowed { allowed }) => {
                return Reply::error(
                    StatusCode::METHOD_NOT_ALLOWED,
                    format!(
                        "{} is not allowed on {}",
                        quote(request.method().as_str()),
                        quote(path)
                    ),
                )
                .with_header(ALLOW, routes::allow_header(allowed));
            }
        };
        let origin = origin(request);
        let context = Context {
            now,
            origin: origin.as_deref(),
        };
        match endpoint {
            Endpoint::Submit(target) => self.submit(target, request, context),
            Endpoint::ListJobs => shapes::jobs::list(self.jobs.iter(), request.uri().query(), now),
            Endpoint::Job { target, action } => {
                self.job_request(&target, action, request.headers(), context)
            }
            Endpoint::ListFiles { project } => documents::list(&project, request.headers(), now),
            Endpoint::FileStatus { project } => {
                documents::batch_status(&project, request.body(), now)
            }
        }
    }

    /// A create request. Faults do not apply to it: they are windows of the life
    /// of a job, and the job does not exist until this answer.
    fn submit(
        &mut self,
        target: Submit,
        request: &http::Request<Bytes>,
        context: Context<'_>,
    ) -> Reply {
        let mut body = match submit::parse(request.body()) {
            Ok(body) => body,
            Err(message) => return Reply::bad_request(message),
        };
        match submit::header_plan(request.headers()) {
            Ok(Some(plan)) => body.plan = plan,
            Ok(None) => {}
            Err(message) => return Reply::bad_request(message),
        }
        if let Some(failures) = &body.plan.create_failures {
            let count = self.requests.count(request.method(), request.uri().path());
            if count <= u64::from(failures.times) {
                return faults::status_reply(failures.status, failures.retry_after);
            }
        }
        if let Err(message) = submit::check_plan(&body.plan) {
            return Reply::bad_request(message);
        }
        let (id, number) = self.next_id(target.shape());
        let details = match target {
            Submit::Jobs { kind } => Details::Jobs { kind },
            Submit::Codegen => Details::Codegen {
                graph_id: body
                    .name("graphId")
                    .unwrap_or_else(|| format!("graph-{number}")),
            },
            Submit::FileTasks => Details::FileTasks,
            Submit::Turn { project, session } => Details::Turn { project, session },
            Submit::Google => Details::Google {
                name: shapes::google::name_for(&id, body.plan.google.name_prefix.as_deref()),
            },
            Submit::Azure { resource, method } => {
                let resource = resource.unwrap_or_else(|| format!("res-{number}"));
                let fields = std::mem::take(&mut body.fields);
                self.azure_details(resource, method, fields, &mut body.plan)
            }
        };
        let job = self.insert(id, details, body.plan, context.now);
        shapes::submitted(job, context)
    }

    /// A request about one job (step 4 of the pipeline).
    fn job_request(
        &mut self,
        target: &Target,
        action: Action,
        headers: &http::HeaderMap,
        context: Context<'_>,
    ) -> Reply {
        let now = context.now;
        let Some(index) = self.find(target) else {
            return Reply::not_found(target.name());
        };
        let fault = self.jobs[index].fault(now).cloned();
        if let Some(reply) = fault.as_ref().and_then(faults::gateway_reply) {
            return reply;
        }
        if !self.jobs[index].is_visible(now) {
            return Reply::not_found(target.name());
        }
        let job = &self.jobs[index];
        let new_session = match (job.plan.session_cookie, job.session_started) {
            (false, _) => None,
            _ if session::is_valid(headers, &self.sessions) => None,
            (true, false) => Some(session::new_value(&mut self.rng)),
            (true, true) => return session::refusal(headers),
        };
        let unknown_status = fault == Some(Fault::UnknownStatus);
        let is_azure = self.jobs[index].shape() == Shape::Azure;
        let mut reply = match action {
            Action::Status if is_azure => {
                azure::monitor(&mut self.jobs[index], context, unknown_status)
            }
            Action::Resource if is_azure => {
                azure::resource(&mut self.jobs[index], context, unknown_status)
            }
            Action::Location { step } if is_azure => {
                azure::location(&mut self.jobs[index], step, context)
            }
            Action::FinalResult if is_azure => azure::final_result(&mut self.jobs[index], context),
            Action::Location { .. } | Action::FinalResult => Reply::not_found(target.name()),
            Action::Delete => {
                self.jobs[index].deleted = true;
                Reply::ok(serde_json::json!({}))
            }
            Action::Status => {
                let eta_seconds = self.estimate(index, now);
                let extras = StatusExtras {
                    eta_seconds,
                    unknown_status,
                };
                shapes::status(&self.jobs[index], context, extras)
            }
            Action::Results => shapes::results(&self.jobs[index], context),
            Action::Resource => shapes::resource(&self.jobs[index], context, unknown_status),
            Action::Cancel => self.cancel(index, context),
        };
        if let Some(Fault::Oversized { bytes }) = fault {
            faults::pad(&mut reply, bytes);
        }
        if self.jobs[index].plan.session_cookie {
            self.jobs[index].session_started = true;
        }
        if let Some(value) = new_session {
            session::set_cookie(&mut reply, &value);
            self.sessions.insert(value);
        }
        reply
    }

    /// The job a request names, if it exists and has the shape (and, for a turn,
    /// the session) the path says.
    fn find(&self, target: &Target) -> Option<usize> {
        match target {
            Target::Id {
                shape: Shape::Google,
                id,
                ..
            } => {
                let index = *self.google_names.get(&format!("operations/{id}"))?;
                (!self.jobs.get(index)?.deleted).then_some(index)
            }
            Target::Id { shape, id, session } => {
                let index = *self.by_id.get(id)?;
                let job = self.jobs.get(index)?;
                let same_session = match (session, &job.details) {
                    (None, _) => true,
                    (Some((p, s)), Details::Turn { project, session }) => {
                        p == project && s == session
                    }
                    (Some(_), _) => false,
                };
                (job.shape() == *shape && same_session).then_some(index)
            }
            Target::AzureResource { name } => self.resources.get(name).copied(),
        }
    }

    /// The reported remaining time of a running job whose shape reports one and
    /// whose plan asks for one, drawn from the server's generator.
    fn estimate(&mut self, index: usize, now: Instant) -> Option<f64> {
        let job = &self.jobs[index];
        let sigma = job.plan.eta_sigma?;
        if !shapes::reports_eta(job.shape()) || job.phase(now).is_finished() {
            return None;
        }
        Some(eta::estimate(&mut self.rng, job.remaining(now), sigma))
    }

    /// The details of an Azure operation of `method` on `resource` with the
    /// request's `fields`; an operation the initial answer ends at once (see
    /// `shapes::azure::done_at_once`) gets a zero duration, so that the server's
    /// truth agrees with what a client sees.
    fn azure_details(
        &self,
        resource: String,
        method: AzureMethod,
        fields: serde_json::Map<String, serde_json::Value>,
        plan: &mut JobPlan,
    ) -> Details {
        let previous =
            self.resources
                .get(&resource)
                .and_then(|&index| match &self.jobs.get(index)?.details {
                    Details::Azure { payload, .. } => Some(payload),
                    _ => None,
                });
        let payload = shapes::azure::payload_after(method, previous, fields);
        if shapes::azure::done_at_once(&plan.azure, method) {
            plan.duration = Duration::ZERO;
        }
        Details::Azure {
            resource,
            method,
            payload,
        }
    }

    /// `GET /_jobpoll/requests`: the request counts, if the bearer token (when
    /// the server requires one) is right.
    fn inspect(&self, request: &http::Request<Bytes>) -> Reply {
        if let Some(token) = &self.config.token
            && !auth::is_authorized(request.headers(), token)
        {
            return auth::refusal(request.headers().contains_key(AUTHORIZATION));
        }
        self.requests.reply(request.uri().query())
    }

    /// Cancels a running job; a finished one refuses.
    fn cancel(&mut self, index: usize, context: Context<'_>) -> Reply {
        let job = &mut self.jobs[index];
        if job.phase(context.now).is_finished() {
            return shapes::cancel_refused(job, context);
        }
        job.cancelled_at = Some(context.now);
        shapes::cancelled(job, context)
    }
}

/// The project and session of turns created without a path that names them.
const DEFAULT_PROJECT: &str = "p1";
const DEFAULT_SESSION: &str = "s1";

impl Target {
    /// The id or name the client used, for 404 messages.
    fn name(&self) -> &str {
        match self {
            Target::Id { id, .. } => id,
            Target::AzureResource { name } => name,
        }
    }
}

/// `scheme://host[:port]` as the client addressed the server: from an
/// absolute-form request target, else `http://` and a well-formed `Host` header.
fn origin(request: &http::Request<Bytes>) -> Option<String> {
    let uri = request.uri();
    if let (Some(scheme @ ("http" | "https")), Some(authority)) =
        (uri.scheme_str(), uri.authority())
    {
        let host = authority.host();
        return Some(match authority.port_u16() {
            Some(port) => format!("{scheme}://{host}:{port}"),
            None => format!("{scheme}://{host}"),
        });
    }
    let host = request.headers().get(HOST)?.to_str().ok()?.trim();
    let well_formed = !host.is_empty()
        && host.len() <= 255
        && host.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'[' | b']')
        });
    well_formed.then(|| format!("http://{host}"))
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_faults;
