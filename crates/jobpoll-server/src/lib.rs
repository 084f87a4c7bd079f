//! jobpoll-server: the reference job server.
//!
//! [`model::ServerModel`] is the whole server as a pure state machine: requests in,
//! responses out, time as an argument, randomness from a seed. The simulator drives
//! it in virtual time; the HTTP face drives it in real time. One model serves both,
//! so what the simulator proves is what the HTTP server does.
//!
//! ```
//! use bytes::Bytes;
//! use jobpoll_core::Instant;
//! use jobpoll_server::model::{ServerConfig, ServerModel};
//! use jobpoll_server::plan::{JobPlan, Shape};
//!
//! let mut server = ServerModel::new(ServerConfig::default(), 7);
//! let (method, path, body) = ServerModel::submit_request(Shape::Jobs, &JobPlan::default());
//! let submit = http::Request::builder()
//!     .method(method)
//!     .uri(path)
//!     .body(Bytes::from(body))
//!     .unwrap();
//! let created = server.handle(&submit, Instant::ZERO);
//! assert_eq!(created.status(), 201);
//!
//! let status = http::Request::get("/api/v1/jobs/job-1").body(Bytes::new()).unwrap();
//! let later = server.handle(&status, Instant::from_secs(31));
//! assert!(String::from_utf8_lossy(later.body()).contains(r#""status":"completed""#));
//! ```
//!
//! ## What a job does
//!
//! A job's state at any instant is a pure function of its [`plan::JobPlan`], its
//! creation time and, if someone cancelled it, the cancel time: queued for its first
//! second (or first tenth, if shorter), running until its duration has passed, then
//! succeeded or failed as the plan says (or running forever). Progress grows
//! linearly; the reported remaining time, if the plan asks for one, carries a
//! lognormal error drawn from the server's seeded generator.
//!
//! ## Azure and Google operations: every behaviour, and how a client selects it
//!
//! A job's behaviour is chosen by its [`plan::JobPlan`], sent with the create
//! request: in the JSON body as `{"plan": {...}, ...payload}`, or (for requests
//! without a body, such as an Azure `DELETE`) as the same plan JSON in a
//! `Jobpoll-Plan` request header, which then replaces the body's plan. Fields left
//! out take their defaults, and the defaults are the answers the server always
//! gave. Times are microseconds; `duration: 0` makes a job done at creation.
//!
//! ### Azure (`/azure/...`)
//!
//! | what the client meets | how to select it (plan fields) |
//! |---|---|
//! | initial method `PUT`, `PATCH`, `POST`, `DELETE` | the request's method on `/azure/resources/{name}` (`POST /azure/resources` names a new resource) |
//! | initial status 200 / 201 / 202 / 204 (any 2xx) | `azure.initial_status`; default 201 for PUT and POST, 202 for PATCH and DELETE; 200 and 201 carry the resource, 202 and 204 no body |
//! | `Azure-AsyncOperation`, `Operation-Location`, `Location`, alone or together | `azure.headers`: a list of `"azure-async-operation"`, `"operation-location"`, `"location"`; `Retry-After: 1` comes with any of them |
//! | the classic answer | `azure.headers` absent: `Azure-AsyncOperation` and a `Location` naming the resource URI |
//! | no header at all | `azure.headers: []`: a PUT or PATCH is polled at its resource URI (`properties.provisioningState`); a POST or DELETE, and any 204, is done at once (the server makes its duration zero) |
//! | an initial answer already terminal | `duration: 0` with `initial_status: 200` (the body says `Succeeded`), or `headers: []` with 204 |
//! | Location polling: 202 while running, then the result | `"location"` in `azure.headers`: `GET /azure/operation-results/{id}` answers 202 (no body, `Retry-After: 1`) while running; once succeeded, `azure.location_final_status` (200 or 201 with the resource, 204 without; default 204 for DELETE, else 200); once failed or canceled, 400 with `error{code,message}` |
//! | a moving Location | `azure.moving_location`: each 202 of the URL in force carries `Location: .../operation-results/{id}/{n}`; the URL it moved from then answers `"accepted"` (202 without `Location`, forever) or `"not_found"` (404); steps not given yet are 404 |
//! | the status monitor | `GET /azure/operations/{id}` (`Azure-AsyncOperation`) and `GET /azure/operation-status/{id}` (`Operation-Location`): `{id, name, status, percentComplete, startTime, endTime, error?}` with status `NotStarted`, `Running`, `Succeeded`, `Failed`, `Canceled` |
//! | `resourceLocation` in the Succeeded monitor body | `azure.resource_location: true`: it names `/azure/results/{id}` (404 until success, then the resource) |
//! | the final resource | PUT and PATCH: `GET /azure/resources/{name}` shows the fields the client sent (PATCH merges `properties` into the PUT's) with `provisioningState` `Accepted`, `Creating`/`Updating`/`Deleting`, then `Succeeded`; DELETE: that GET answers 404 once the delete has succeeded; POST: its Location gives the result |
//! | unreadable monitor answers | `azure.monitor_fault: {"kind": K, "polls": N}`: 200 with `K` = `missing_status`, `numeric_status` (`"status": 1`), `empty_body` (no body, no `Content-Type`) or `not_json` (`text/plain`), for the first `N` monitor requests (both monitor paths count), or always when `polls` is absent |
//! | errors in the final GET | `azure.final_get_fault: {"status": S, "times": N}`: once the operation has succeeded, a GET of its resource URI, its Location URL or its `resourceLocation` is a final GET; the first `N` (all when `times` is absent) answer `S` with `{"error":{"code","message"}}` |
//! | a failed operation | `ending: {"ending": "fail", "message": M}`: monitor `status: Failed`, `error: {code: "ProvisioningFailed", message: M}` |
//! | a canceled operation | `azure.canceled: true`: at the end of its duration, monitor `status: Canceled`, `error: {code: "Canceled", ...}` |
//! | the create request failing at first | `create_failures: {"status": 503, "times": N, "retry_after": null}`: the first `N` requests at this method and path are answered `status` and create nothing (any shape) |
//! | a session cookie | `session_cookie: true`: the first poll sets `session=...`; every later request about the job (monitor, Location, resource, result) without it is 401 |
//!
//! ### Google (`/v1/operations/...`)
//!
//! | what the client meets | how to select it |
//! |---|---|
//! | a create answer already `done: true` with `response` | `duration: 0` |
//! | a create answer already `done: true` with `error` (code 13) | `duration: 0`, `ending: {"ending": "fail", "message": M}` |
//! | `done` with `error.code == 1` after a cancel | `POST /v1/{name}:cancel` while it runs (200 `{}`; 400 once done) |
//! | `done` with `response` | the default ending, after `duration` |
//! | `metadata.progressPercent` | `progress: true` (the default); `false` leaves it out |
//! | a `name` with slashes | `google.name_prefix: "p1/locations/eu"` names it `operations/p1/locations/eu/op-1`, polled at `/v1/operations/p1/locations/eu/op-1` |
//! | the record deleted | `DELETE /v1/{name}`: 200 `{}`, then 404 (the operation is not cancelled) |
//!
//! ### Request counts
//!
//! The server counts every request it receives by method and path (the path
//! without the query, as sent), whatever the answer: creates (refused ones
//! included), polls, final GETs, cancels. Tests read them in process with
//! [`model::ServerModel::request_count`] / [`model::ServerModel::request_counts`]
//! (or the same methods of `http::SharedModel`), or over HTTP with
//! `GET /_jobpoll/requests[?path=/azure/resources/vm1]`, which answers
//! `{"requests": [{"method": "PUT", "path": "/azure/resources/vm1", "count": 2}]}`
//! and is not counted itself. A PUT that was repeated shows a count above 1 at
//! its resource path; a POST that was not, a count of 1.
//!
//! ## Map
//!
//! - [`model`]: the server: routing, jobs, the request pipeline.
//! - [`plan`]: what a job will do and the faults it meets.
//! - [`clock`]: model time as wall-clock dates (`Date` headers, JSON timestamps).
//! - `http` (feature `http`): the model served over real HTTP in real time, with
//!   axum and tokio.
//! - the private modules each own one idea: `routes` (paths to endpoints), `job`
//!   (a job's state at an instant), `shapes` (one file per API shape), `faults`,
//!   `limiter` (the token bucket), `auth`, `session` (session cookies), `eta`,
//!   `submit` (create bodies),
//!   `documents` (the document watch) and `reply` (responses).
#![forbid(unsafe_code)]

pub mod clock;
#[cfg(feature = "http")]
pub mod http;
pub mod model;
pub mod plan;

mod auth;
mod documents;
mod eta;
mod faults;
mod job;
mod limiter;
mod lro_plan;
mod reply;
mod routes;
mod session;
mod shapes;
mod submit;
