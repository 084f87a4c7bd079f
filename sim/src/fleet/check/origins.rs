//! Origins and memory: the checker's numbers for the fleet's origins (one per
//! host), and the fleet keeping state only for the origins it needs.

use std::time::Duration;

use jobpoll_core::Instant;

use super::{FleetChecker, FleetViolation, OriginWatch};

impl FleetChecker {
    /// The number of the origin `name` (`https://host`), numbered next if new.
    pub fn origin(&mut self, name: &str) -> usize {
        let host = name.split_once("://").map_or(name, |(_, host)| host);
        if let Some(origin) = self.hosts.get(host) {
            return *origin;
        }
        let origin = self.origins.len();
        self.origins.push(OriginWatch {
            host: host.to_owned(),
            name: name.to_owned(),
            in_flight: 0,
            paused: false,
            hint_until: Instant::ZERO,
            pace_bound: Duration::ZERO,
            last_sent: Instant::ZERO,
            hint_reason: String::new(),
            live_jobs: 0,
        });
        self.hosts.insert(host.to_owned(), origin);
        origin
    }

    /// The origins whose view the next [`FleetChecker::settled`] should get: those
    /// whose requests in flight or hold changed since the last one, and the first
    /// `always` origins.
    pub fn origins_to_compare(&self, always: usize) -> Vec<usize> {
        let mut origins: Vec<usize> = (0..always.min(self.origins.len())).collect();
        origins.extend(self.touched_origins.iter().filter(|o| **o >= always));
        origins
    }

    /// The origin of `job`, by the checker's number.
    pub fn origin_of(&self, job: usize) -> Option<usize> {
        self.jobs.get(job).map(|j| j.origin)
    }

    /// `https://host` of origin `origin`.
    pub fn origin_name(&self, origin: usize) -> Option<&str> {
        self.origins.get(origin).map(|o| o.name.as_str())
    }

    /// The fleet keeps `theirs` origins at `now`: no more than those with a job
    /// whose outcome has not come, a pause, or a hold still to run. (The memory an
    /// origin takes is freed once none of these needs it.)
    pub fn check_origins(&self, now: Instant, theirs: usize) -> Result<(), FleetViolation> {
        let needed = self
            .origins
            .iter()
            .filter(|o| o.live_jobs > 0 || o.in_flight > 0 || o.paused || o.hint_until > now)
            .count();
        if theirs > needed {
            return Err(self.violation(
                now,
                None,
                None,
                "the fleet keeps only the origins it needs",
                format!(
                    "the fleet keeps {theirs} origins; {needed} have a running job, a request in flight, a pause or a hold"
                ),
            ));
        }
        Ok(())
    }
}
