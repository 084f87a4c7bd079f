//! jobpoll-server: the reference job server.
//!
//! [`model::ServerModel`] is the whole server as a pure state machine: requests in,
//! responses out, time as an argument, randomness from a seed. The simulator drives
//! it in virtual time; the HTTP face drives it in real time. One model serves both,
//! so what the simulator proves is what the HTTP server does.
#![forbid(unsafe_code)]

pub mod model;
pub mod plan;
