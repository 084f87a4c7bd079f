//! The 429 storm: jobs that a server tells to wait come back when it says (not
//! after a long backoff), and a fleet lets an origin's held jobs out at a pace.

use jobpoll_sim::storm::{StormArgs, run_clients, run_fleet};

fn storm(jobs: usize, preset: &str, rate: f64, burst: u32) -> StormArgs {
    StormArgs {
        jobs,
        preset: preset.to_owned(),
        rate,
        burst,
        shortest: 30.0,
        longest: 120.0,
        seed: 1,
    }
}

#[test]
fn clients_told_to_wait_come_back_when_the_server_says() {
    // 200 jobs on the standard preset against 10 requests a second: the server
    // asks for 1 to 2 s; a retry schedule of 30 s and more would see most jobs'
    // ends minutes late.
    let args = storm(200, "standard", 10.0, 20);
    let report = run_clients(&args).unwrap();
    assert_eq!(report.succeeded, 200, "{report}");
    assert!(report.p95_delay < 120.0, "{report}");
    assert_eq!(
        run_clients(&args).unwrap(),
        report,
        "the same seed, the same run"
    );
}

#[test]
fn a_fleet_paces_an_origin_out_of_a_429_storm() {
    // 60 jobs on the fast preset against 5 requests a second: letting every held
    // job out when a hold ends meets a 429 for most of them each time.
    let args = storm(60, "fast", 5.0, 10);
    let report = run_fleet(&args).unwrap();
    assert_eq!(report.succeeded, 60, "{report}");
    let too_many_per_job = report.too_many as f64 / 60.0;
    assert!(too_many_per_job < 3.0, "{report}");
    assert_eq!(
        run_fleet(&args).unwrap(),
        report,
        "the same seed, the same run"
    );
}
