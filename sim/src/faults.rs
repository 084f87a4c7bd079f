//! Seeded fault plans, drawn swarm-style: the root seed first draws the fault
//! *rates*, then every job and request draws against them. Some seeds are calm, some
//! are storms, and every combination gets explored across seeds.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use jobpoll_core::rng::Rng;
use jobpoll_server::model::RateLimit;
use jobpoll_server::plan::{Ending, Fault, FaultWindow, JobPlan, Shape};

use crate::distributions::{chance, lognormal};

/// How hard a run is on the jobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Intensity {
    /// No faults at all (latency only).
    None,
    /// Faults at low rates.
    Light,
    /// Every kind of fault, often.
    Heavy,
}

/// The fault rates of one run, drawn from its seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultPlan {
    /// Median one-way latency.
    pub latency_median: Duration,
    /// Spread of the latency (lognormal sigma).
    pub latency_sigma: f64,
    /// Probability a request cannot connect.
    pub connect_error: f64,
    /// Probability the connection breaks after the server handled the request.
    pub reset: f64,
    /// Probability the server never answers.
    pub hang: f64,
    /// Probability a job meets a burst of 5xx answers.
    pub burst_5xx: f64,
    /// Probability a job meets a 429 storm with `Retry-After`.
    pub storm_429: f64,
    /// Probability a job's credentials are refused mid-way (401).
    pub unauthorized: f64,
    /// Probability a job is not visible (404) for a while after it starts.
    pub not_visible: f64,
    /// Probability a job meets malformed or unknown-status bodies.
    pub malformed: f64,
    /// Probability a job meets an oversized body.
    pub oversized: f64,
    /// Probability a job never finishes.
    pub never_finishes: f64,
    /// Probability a job fails.
    pub fails: f64,
    /// Probability the user cancels a job.
    pub cancel: f64,
    /// Server outages: every request in a window fails to connect.
    pub outages: Vec<(Duration, Duration)>,
    /// A server-wide rate limit shared by every job (429 with `Retry-After` and
    /// `RateLimit` headers when exhausted).
    pub rate_limit: Option<RateLimit>,
}

impl FaultPlan {
    /// Draws the rates of a run.
    pub fn draw(rng: &mut Rng, intensity: Intensity) -> FaultPlan {
        let scale = match intensity {
            Intensity::None => 0.0,
            Intensity::Light => 0.3,
            Intensity::Heavy => 1.0,
        };
        // Each rate is zero on about a third of the seeds (swarm testing: a fault
        // that is always present can hide the bugs another fault would expose).
        let mut rate = |max: f64| {
            if chance(rng, 0.33) {
                0.0
            } else {
                rng.range_f64(0.0, max) * scale
            }
        };
        let connect_error = rate(0.08);
        let reset = rate(0.05);
        let hang = rate(0.03);
        let burst_5xx = rate(0.4);
        let storm_429 = rate(0.4);
        let unauthorized = rate(0.05);
        let not_visible = rate(0.3);
        let malformed = rate(0.2);
        let oversized = rate(0.05);
        let never_finishes = rate(0.15);
        let fails = 0.1 + rate(0.2);
        let cancel = rate(0.15);
        let mut outages = Vec::new();
        if intensity != Intensity::None && chance(rng, 0.3 * scale) {
            let start = Duration::from_secs_f64(rng.range_f64(5.0, 300.0));
            let length = Duration::from_secs_f64(rng.range_f64(1.0, 60.0));
            outages.push((start, start + length));
        }
        let rate_limit =
            (intensity != Intensity::None && chance(rng, 0.3 * scale)).then(|| RateLimit {
                burst: 5 + (rng.next_u64() % 46) as u32,
                per_second: rng.range_f64(2.0, 20.0),
            });
        FaultPlan {
            rate_limit,
            latency_median: Duration::from_micros(rng.range_f64(500.0, 80_000.0) as u64),
            latency_sigma: rng.range_f64(0.1, 1.0),
            connect_error,
            reset,
            hang,
            burst_5xx,
            storm_429,
            unauthorized,
            not_visible,
            malformed,
            oversized,
            never_finishes,
            fails,
            cancel,
            outages,
        }
    }

    /// A plan with no faults and a fixed small latency (the liveness phase).
    pub fn calm() -> FaultPlan {
        FaultPlan {
            latency_median: Duration::from_millis(5),
            latency_sigma: 0.3,
            connect_error: 0.0,
            reset: 0.0,
            hang: 0.0,
            burst_5xx: 0.0,
            storm_429: 0.0,
            unauthorized: 0.0,
            not_visible: 0.0,
            malformed: 0.0,
            oversized: 0.0,
            never_finishes: 0.0,
            fails: 0.1,
            cancel: 0.0,
            outages: Vec::new(),
            rate_limit: None,
        }
    }

    /// One request's one-way latency.
    pub fn latency(&self, rng: &mut Rng) -> Duration {
        let median = self.latency_median.as_secs_f64();
        Duration::from_micros((lognormal(rng, median, self.latency_sigma).min(30.0) * 1e6) as u64)
    }

    /// Whether `at` (time since the run started) is inside an outage.
    pub fn in_outage(&self, at: Duration) -> bool {
        self.outages
            .iter()
            .any(|(from, until)| *from <= at && at < *until)
    }

    /// A job for this plan: its shape, what it does, and its faults.
    pub fn job(&self, rng: &mut Rng, max_body_bytes: usize) -> (Shape, JobPlan) {
        let shape = Shape::ALL[(rng.next_u64() % Shape::ALL.len() as u64) as usize];
        let duration = Duration::from_secs_f64(lognormal(rng, 40.0, 0.9).clamp(1.0, 600.0));
        let ending = if chance(rng, self.never_finishes) {
            Ending::Never
        } else if chance(rng, self.fails) {
            Ending::Fail {
                message: format!("render failed on frame {}", rng.next_u64() % 1000),
            }
        } else {
            Ending::Succeed
        };
        let mut faults = Vec::new();
        let window = |rng: &mut Rng, fault: Fault, max_length: f64| {
            let from = Duration::from_secs_f64(rng.range_f64(0.0, duration.as_secs_f64()));
            let until = from + Duration::from_secs_f64(rng.range_f64(0.5, max_length));
            FaultWindow { from, until, fault }
        };
        if chance(rng, self.burst_5xx) {
            let status = [500, 502, 503, 504][(rng.next_u64() % 4) as usize];
            faults.push(window(
                rng,
                Fault::Status {
                    status,
                    retry_after: None,
                },
                30.0,
            ));
        }
        if chance(rng, self.storm_429) {
            let retry_after = Some(1 + rng.next_u64() % 20);
            faults.push(window(
                rng,
                Fault::Status {
                    status: 429,
                    retry_after,
                },
                60.0,
            ));
        }
        if chance(rng, self.unauthorized) {
            faults.push(window(
                rng,
                Fault::Status {
                    status: 401,
                    retry_after: None,
                },
                5.0,
            ));
        }
        if chance(rng, self.malformed) {
            let fault = if chance(rng, 0.5) {
                Fault::Malformed
            } else {
                Fault::UnknownStatus
            };
            faults.push(window(rng, fault, 5.0));
        }
        if chance(rng, self.oversized) {
            faults.push(window(
                rng,
                Fault::Oversized {
                    bytes: max_body_bytes + 1,
                },
                3.0,
            ));
        }
        let visible_after = if chance(rng, self.not_visible) {
            Duration::from_secs_f64(rng.range_f64(0.5, 20.0))
        } else {
            Duration::ZERO
        };
        let eta_sigma = if chance(rng, 0.5) {
            Some(rng.range_f64(0.0, 0.5))
        } else {
            None
        };
        let plan = JobPlan {
            duration,
            ending,
            progress: chance(rng, 0.8),
            eta_sigma,
            visible_after,
            faults,
            // The simulator's client keeps no cookies.
            session_cookie: false,
            // Every shape as it answers by default.
            ..JobPlan::default()
        };
        (shape, plan)
    }
}
