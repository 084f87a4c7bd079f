//! jobpoll-sim: a deterministic world for jobpoll jobs.
//!
//! A virtual clock that jumps to the next thing that happens, the reference
//! server's pure model on the other side, seeded fault plans, invariants checked
//! after every step, and a fault-free liveness phase at the end. One root seed
//! decides everything, so a failing run is reproduced by one command. The same
//! machinery drives a whole [`fleet`] of jobs on several origins. It also hosts the
//! policy benchmark.
#![forbid(unsafe_code)]

mod agenda;
pub mod check;
pub mod distributions;
pub mod faults;
pub mod fleet;
pub mod hash;
pub mod policy;
pub mod run;
pub mod storm;
pub mod world;
