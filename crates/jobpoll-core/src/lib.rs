//! jobpoll-core: the sans-IO heart of jobpoll.
#![forbid(unsafe_code)]

pub mod classify;
pub mod config;
pub mod event;
pub mod hints;
pub mod job;
pub mod profile;
pub mod rng;
pub mod schedule;
pub mod time;
pub mod trace;
