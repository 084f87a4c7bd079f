//! Core cost of the fleet in memory: bytes per idle job with a million jobs.
//!
//! `cargo bench -p jobpoll-core --bench fleet`
//!
//! `JOBPOLL_FLEET_JOBS` (default 1 000 000) sets the number of jobs and
//! `JOBPOLL_FLEET_CYCLES` (default 3 000 000) the poll cycles run afterwards.
//!
//! The jobs are added (one shared `Config`, one shared `Profile`, a distinct status
//! URL each), their first poll is answered with a running status, and then every
//! job is idle, waiting for its next poll. A counting allocator reports the heap
//! bytes the fleet holds, divided by the number of jobs: everything the fleet keeps
//! per job (the job, its URL, id and status, its timer entry, the sharing index,
//! its slot, the containers' spare capacity), not the size of a struct. The
//! cycles then run (see `fleet_setup`) and the heap is counted again. Their speed
//! is printed too, but the counting allocator slows every allocation: the speed
//! figure is `fleet_speed`'s, which runs the same cycles on the plain allocator.
#![allow(missing_docs)]

mod fleet_setup;

use std::alloc::System;
use std::sync::Arc;

use jobpoll_core::Profile;
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

use fleet_setup::{body, env, idle_fleet, report_cycles, run_cycles};

/// The system allocator, counting what it hands out.
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Bytes currently allocated.
fn allocated() -> usize {
    let stats = GLOBAL.stats();
    // `realloc` is already counted in both (as growth or shrinkage).
    stats
        .bytes_allocated
        .saturating_sub(stats.bytes_deallocated)
}

fn main() {
    // `cargo bench` passes `--bench`; filters are not used here.
    let jobs = env("JOBPOLL_FLEET_JOBS", 1_000_000);
    let cycles = env("JOBPOLL_FLEET_CYCLES", 3_000_000);
    let body = body();
    println!("status body: {} bytes", body.len());
    let before = allocated();
    let started = std::time::Instant::now();
    let mut fleet = idle_fleet(jobs, &body);
    let added = started.elapsed();
    let held = allocated() - before;
    println!("jobs: {jobs}");
    println!(
        "size of one job: {} bytes (of which its spec {} bytes)",
        std::mem::size_of::<jobpoll_core::Job<Arc<Profile>>>(),
        std::mem::size_of::<jobpoll_core::JobSpec<Arc<Profile>>>()
    );
    println!(
        "added and first poll answered in {:.2} s ({:.2} µs per job)",
        added.as_secs_f64(),
        added.as_secs_f64() * 1e6 / jobs as f64
    );
    println!(
        "heap held by the fleet: {:.1} MiB = {} bytes per idle job",
        held as f64 / (1024.0 * 1024.0),
        held / jobs
    );
    let (done, elapsed) = run_cycles(&mut fleet, cycles, &body);
    print!("with the counting allocator: ");
    report_cycles(done, elapsed);
    let held = allocated() - before;
    println!("heap held after the cycles: {} bytes per job", held / jobs);
    println!("requests: {}", fleet.metrics().requests);
}
