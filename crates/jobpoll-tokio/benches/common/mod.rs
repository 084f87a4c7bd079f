//! CPU measurement shared by the benchmarks (Linux `/proc`).

use std::time::Duration;

/// CPU time of the calling thread.
pub(crate) fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .map(Duration::from_nanos)
        .expect("/proc/thread-self/schedstat (Linux) is needed to measure CPU time")
}

/// User and system CPU ticks (1/100 s) from a `stat` file (`/proc/self/stat`,
/// `/proc/thread-self/stat`, `/proc/PID/stat`); zeros when it cannot be read.
pub(crate) fn stat_ticks(path: &str) -> (u64, u64) {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    // Fields after the command name (which ends with the last ')').
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| fields.get(i).and_then(|f| f.parse().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (field(11), field(12))
}
