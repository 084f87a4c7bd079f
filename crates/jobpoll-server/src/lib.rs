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
