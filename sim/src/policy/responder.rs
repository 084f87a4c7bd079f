//! The tiny deterministic status endpoint every benchmarked job talks to.

use jobpoll_core::rng::Rng;

use super::workload::JobCase;
use crate::distributions::standard_normal;

/// What the status bodies tell the client besides "processing".
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Hints {
    /// Nothing: `{"status":"processing"}`. The client knows only the job's age.
    None,
    /// `progress_data.percentage` = floor(age / duration * 100), so the core can
    /// estimate the remaining time from the progress slope.
    Progress,
    /// The percentage and `progress_data.estimated_time_remaining` = the true
    /// remaining time x exp(`sigma` x N(0,1)), a fresh draw on every response.
    Eta {
        /// Sigma of the lognormal error of the ETA.
        sigma: f64,
    },
}

impl Hints {
    /// Short name for tables: `none`, `progress`, `eta s=0.3`.
    pub fn label(&self) -> String {
        match self {
            Hints::None => "none".to_owned(),
            Hints::Progress => "progress".to_owned(),
            Hints::Eta { sigma } => format!("eta s={sigma}"),
        }
    }
}

/// One answer of the responder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// `{"status":"completed"}`: the job's age has reached its duration.
    Completed,
    /// Still running.
    Processing {
        /// Whole percent done, when the hints include it.
        percentage: Option<u32>,
        /// The server's ETA in whole milliseconds, when the hints include it. Whole
        /// milliseconds are written as an exact decimal (`12.345`), so the core's
        /// reading of it (seconds as a float, rounded to microseconds) is exactly
        /// `eta_ms * 1000` microseconds.
        eta_ms: Option<u64>,
    },
}

impl Answer {
    /// The JSON body in the `jobs` profile's shape.
    pub fn body(&self) -> String {
        match self {
            Answer::Completed => r#"{"status":"completed"}"#.to_owned(),
            Answer::Processing {
                percentage: None,
                eta_ms: None,
            } => r#"{"status":"processing"}"#.to_owned(),
            Answer::Processing { percentage, eta_ms } => {
                let mut fields = Vec::new();
                if let Some(p) = percentage {
                    fields.push(format!(r#""percentage":{p}"#));
                }
                if let Some(ms) = eta_ms {
                    fields.push(format!(
                        r#""estimated_time_remaining":{}.{:03}"#,
                        ms / 1000,
                        ms % 1000
                    ));
                }
                format!(
                    r#"{{"status":"processing","progress_data":{{{}}}}}"#,
                    fields.join(",")
                )
            }
        }
    }
}

/// The status endpoint of one job: "processing" until the job's age reaches its
/// duration, then "completed". Deterministic: the ETA noise comes from a generator
/// seeded with the job's seed, one normal draw per "processing" answer that carries
/// an ETA.
#[derive(Clone, Debug)]
pub struct Responder {
    duration_us: u64,
    hints: Hints,
    noise: Rng,
}

impl Responder {
    /// The endpoint of `case`, speaking with `hints`.
    pub fn new(case: &JobCase, hints: Hints) -> Responder {
        Responder {
            duration_us: case.duration_us,
            hints,
            noise: Rng::new(case.seed),
        }
    }

    /// The answer to a status request at job age `age_us` (microseconds).
    pub fn answer(&mut self, age_us: u64) -> Answer {
        if age_us >= self.duration_us {
            return Answer::Completed;
        }
        let percentage = || (age_us as f64 / self.duration_us as f64 * 100.0).floor() as u32;
        match self.hints {
            Hints::None => Answer::Processing {
                percentage: None,
                eta_ms: None,
            },
            Hints::Progress => Answer::Processing {
                percentage: Some(percentage()),
                eta_ms: None,
            },
            Hints::Eta { sigma } => {
                let remaining_secs = (self.duration_us - age_us) as f64 / 1e6;
                let eta = remaining_secs * (sigma * standard_normal(&mut self.noise)).exp();
                Answer::Processing {
                    percentage: Some(percentage()),
                    eta_ms: Some((eta * 1000.0).round() as u64),
                }
            }
        }
    }
}
