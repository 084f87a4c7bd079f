//! The counts of fleet runs: one seed's [`FleetSummary`], a [`FleetFailure`] with
//! the command that runs it again, and a soak's [`FleetSoakSummary`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::fleet::check::FleetViolation;
use crate::run::{SoakSummary, write_outcomes};

/// Counts of one fleet run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetSummary {
    /// The fleet's limits: requests in flight at once, and to one origin.
    pub limits: (u32, u32),
    /// Jobs the fleet ran.
    pub jobs: usize,
    /// Subscriptions.
    pub subscribers: usize,
    /// Subscriptions that joined a running job.
    pub joined: usize,
    /// Subscribers stopped (one by one or all at once).
    pub stopped: usize,
    /// Pauses and resumes, of the fleet and of origins.
    pub pauses: usize,
    /// Answers delivered with a hint that held back their origin.
    pub hints: usize,
    /// Jobs on a host of their own.
    pub own_hosts: usize,
    /// 2xx answers delivered with a `Retry-After` (a pace for their job).
    pub paced: usize,
    /// Stops of a subscriber whose job's origin a rate limit held back then.
    pub stops_in_holds: usize,
    /// 429 and 503 answers delivered while their job still kept a longer wait
    /// from an earlier 2xx (which must not hold the origin).
    pub inside_pace: usize,
    /// Requests sent.
    pub requests: u64,
    /// The most requests in flight at once.
    pub peak_in_flight: u32,
    /// Steps: fleet calls.
    pub steps: u64,
    /// Virtual time the run covered.
    pub virtual_seconds: u64,
    /// Outcomes by kind, one per subscriber.
    pub outcomes: BTreeMap<String, usize>,
    /// Hash of every fleet output with its time (FNV-1a 64).
    pub hash: u64,
}

impl std::fmt::Display for FleetSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "limits {} in flight, {} per origin; {} jobs, {} subscribers ({} joined a running job, {} stopped)",
            self.limits.0, self.limits.1, self.jobs, self.subscribers, self.joined, self.stopped
        )?;
        writeln!(
            f,
            "{} requests (at most {} in flight), {} throttling hints, {} pauses and resumes, {} steps, {} s of virtual time",
            self.requests,
            self.peak_in_flight,
            self.hints,
            self.pauses,
            self.steps,
            self.virtual_seconds
        )?;
        writeln!(
            f,
            "{} jobs on a host of their own, {} paced 2xx answers, {} stops while the origin was held, {} 429/503 answers inside a longer pace",
            self.own_hosts, self.paced, self.stops_in_holds, self.inside_pace
        )?;
        write_outcomes(f, &self.outcomes)?;
        writeln!(f, "output hash {:016x}", self.hash)
    }
}

/// A fleet run that broke an invariant.
#[derive(Debug)]
pub struct FleetFailure {
    /// What broke.
    pub violation: FleetViolation,
    /// The counts up to the failure.
    pub summary: FleetSummary,
    /// The command that runs the same seed again.
    pub command: String,
    /// Where the log of the run (one line per fleet call and output) was written,
    /// if it was.
    pub log_file: Option<PathBuf>,
}

impl std::fmt::Display for FleetFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "invariant broken: {}", self.violation)?;
        writeln!(f, "reproduce the run:   {}", self.command)?;
        if let Some(file) = &self.log_file {
            writeln!(f, "the run's log:       {}", file.display())?;
        }
        Ok(())
    }
}

/// Totals of a fleet soak.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FleetSoakSummary {
    /// Seeds, jobs the fleets ran, requests, steps (fleet calls) and outcomes by
    /// kind (one per subscriber).
    pub totals: SoakSummary,
    /// Subscriptions.
    pub subscribers: usize,
    /// Subscriptions that joined a running job.
    pub joined: usize,
    /// Subscribers stopped.
    pub stopped: usize,
    /// Answers with a hint that held back their origin.
    pub hints: usize,
    /// Jobs on a host of their own.
    pub own_hosts: usize,
    /// 2xx answers with a `Retry-After`.
    pub paced: usize,
    /// Stops while the subscriber's origin was held.
    pub stops_in_holds: usize,
    /// 429 and 503 answers while their job kept a longer pace.
    pub inside_pace: usize,
}

impl FleetSoakSummary {
    pub(super) fn add(&mut self, summary: &FleetSummary) {
        self.totals.count(
            summary.jobs,
            summary.requests,
            summary.steps,
            &summary.outcomes,
        );
        self.subscribers += summary.subscribers;
        self.joined += summary.joined;
        self.stopped += summary.stopped;
        self.hints += summary.hints;
        self.own_hosts += summary.own_hosts;
        self.paced += summary.paced;
        self.stops_in_holds += summary.stops_in_holds;
        self.inside_pace += summary.inside_pace;
    }
}

impl std::fmt::Display for FleetSoakSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let totals = &self.totals;
        writeln!(
            f,
            "{} seeds, {} jobs, {} subscribers ({} joined a running job, {} stopped), {} requests, {} throttling hints, {} steps",
            totals.seeds,
            totals.jobs,
            self.subscribers,
            self.joined,
            self.stopped,
            totals.requests,
            self.hints,
            totals.steps
        )?;
        writeln!(
            f,
            "{} jobs on a host of their own, {} paced 2xx answers, {} stops while the origin was held, {} 429/503 answers inside a longer pace",
            self.own_hosts, self.paced, self.stops_in_holds, self.inside_pace
        )?;
        write_outcomes(f, &totals.outcomes)
    }
}
