//! Core cost of the fleet in time: poll cycles per second on one thread, with a
//! million jobs, on the plain system allocator.
//!
//! `cargo bench -p jobpoll-core --bench fleet_speed`
//!
//! `JOBPOLL_FLEET_JOBS` (default 1 000 000) sets the number of jobs,
//! `JOBPOLL_FLEET_CYCLES` (default 3 000 000) the cycles timed, and
//! `JOBPOLL_FLEET_BODY=minimal` answers a 23-byte body instead of the 233-byte one.
//! The fleet is the `fleet` bench's (see `fleet_setup`): every job idle after its
//! first poll; then the clock jumps from one wake-up to the next, each due job gets
//! its tick and sends its status request, and the request is answered at once
//! (body parsed, progress event, next wake-up). Cycles per second is answered
//! requests over wall time.
#![allow(missing_docs)]

mod fleet_setup;

use fleet_setup::{body, env, idle_fleet, report_cycles, run_cycles};

fn main() {
    let jobs = env("JOBPOLL_FLEET_JOBS", 1_000_000);
    let cycles = env("JOBPOLL_FLEET_CYCLES", 3_000_000);
    let body = body();
    println!("status body: {} bytes, jobs: {jobs}", body.len());
    let mut fleet = idle_fleet(jobs, &body);
    let (done, elapsed) = run_cycles(&mut fleet, cycles, &body);
    report_cycles(done, elapsed);
    println!("requests: {}", fleet.metrics().requests);
}
