//! How one job waits: its schedules and limits, with the built-in presets.

use core::time::Duration;

use serde::{Deserialize, Serialize};

use crate::schedule::{Jitter, Schedule, ScheduleError};
use crate::time::{serde_micros, whole_micros};

/// When the first status poll goes out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FirstPoll {
    /// At once (when waiting on an existing job, it may already be done).
    #[default]
    Immediately,
    /// After the poll schedule's first delay (right after a submit, the job has
    /// certainly not finished yet).
    AfterFirstDelay,
}

/// Schedules and limits of one job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Delays while the job is healthy.
    pub poll: Schedule,
    /// Delays after consecutive errors; restarts from its first delay after a
    /// success.
    pub retry: Schedule,
    /// When the first status poll goes out.
    pub first_poll: FirstPoll,
    /// Give up waiting this long after the start. The wait is never overshot by
    /// more than one request time limit.
    #[serde(with = "serde_micros::option")]
    pub deadline: Option<Duration>,
    /// Give up after this many status polls.
    pub max_attempts: Option<u32>,
    /// Give up after this many failed requests in a row (transport errors, retryable
    /// statuses, unreadable bodies).
    pub max_consecutive_errors: Option<u32>,
    /// Give up after this many failed connections in a row while no request has
    /// yet reached the server (every request so far was refused before it was
    /// sent, so the server cannot be running the job): the address is wrong or
    /// the server is down. `None` keeps retrying until the other limits. Once a
    /// request may have reached the server (any answer, or a failure after the
    /// request was sent), only the other limits apply.
    pub max_connect_failures_before_contact: Option<u32>,
    /// Delays between failed connections while no request has yet reached the
    /// server (see [`Config::max_connect_failures_before_contact`]); `None` uses
    /// [`Config::retry`]. A command line that should tell soon that nothing
    /// listens at an address sets a short schedule here, and keeps the preset's
    /// backoff for everything after contact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_retry: Option<Schedule>,
    /// Give up after this many unreadable bodies in a row, quoting the last one.
    pub max_unreadable: u32,
    /// Never send two requests closer together than this.
    #[serde(with = "serde_micros")]
    pub min_interval: Duration,
    /// Time allowed for one request, from send to complete body.
    #[serde(with = "serde_micros", alias = "request_timeout")]
    pub request_time_limit: Duration,
    /// How long a 404 means "not visible yet" before it means "not found".
    #[serde(with = "serde_micros")]
    pub not_found_grace: Duration,
    /// Cap on a server's wait hint; longer hints are cut to this and reported.
    #[serde(with = "serde_micros")]
    pub max_hint: Duration,
    /// Largest response body read; larger ones are an error.
    pub max_body_bytes: usize,
    /// Send the cancel request of the profile, if it has one, on `Input::Cancel`.
    pub cancel_on_server: bool,
    /// Send `If-None-Match` with the last `ETag`, so an unchanged status can be a 304.
    pub conditional_requests: bool,
    /// Seed of the job's jitter generator.
    pub seed: u64,
}

/// A configuration that cannot work.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// A schedule is invalid.
    #[error("{which} schedule: {source}")]
    Schedule {
        /// `poll` or `retry`.
        which: &'static str,
        /// What is wrong.
        source: ScheduleError,
    },
    /// A limit is out of range.
    #[error("invalid limit: {0}")]
    Limit(String),
}

impl Default for Config {
    fn default() -> Config {
        Config::standard()
    }
}

/// The per-operation presets and their poll interval and deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// Ad generation: every 6 s, 30 min.
    AdGeneration,
    /// Video generation: every 10 s, 45 min.
    VideoGeneration,
    /// Research: every 10 s, 50 min.
    Research,
    /// Strategic analysis: every 10 s, 90 min.
    StrategicAnalysis,
    /// Scraping: every 5 s, 10 min.
    Scraping,
    /// Avatar video: every 10 s, 30 min.
    AvatarVideo,
}

impl Operation {
    /// Every operation, in table order.
    pub const ALL: [Operation; 6] = [
        Operation::AdGeneration,
        Operation::VideoGeneration,
        Operation::Research,
        Operation::StrategicAnalysis,
        Operation::Scraping,
        Operation::AvatarVideo,
    ];

    /// Poll interval and deadline from the per-operation table.
    pub fn interval_and_deadline(self) -> (Duration, Duration) {
        let (interval, minutes) = match self {
            Operation::AdGeneration => (6, 30),
            Operation::VideoGeneration => (10, 45),
            Operation::Research => (10, 50),
            Operation::StrategicAnalysis => (10, 90),
            Operation::Scraping => (5, 10),
            Operation::AvatarVideo => (10, 30),
        };
        (
            Duration::from_secs(interval),
            Duration::from_secs(minutes * 60),
        )
    }
}

const SECOND: Duration = Duration::from_secs(1);

impl Config {
    /// `standard`: 30 s, x1.5, at most 5 min between polls, 30 min in all
    /// (30, 45, 67.5, 101.25, ... 300 s). Errors back off along the same curve
    /// ("continue polling with backoff") with equal jitter: each retry waits a
    /// random time between half the curve and the curve (15 to 30 s, then 22.5 to
    /// 45 s, ...). A wait the server asks for replaces the schedule's delay.
    pub fn standard() -> Config {
        let curve = Schedule::Exponential {
            initial: 30 * SECOND,
            multiplier: 1.5,
            max: 300 * SECOND,
            jitter: Jitter::None,
        };
        Config {
            retry: curve.clone().with_jitter(Jitter::Equal),
            poll: curve,
            first_poll: FirstPoll::Immediately,
            deadline: Some(30 * 60 * SECOND),
            max_attempts: None,
            max_consecutive_errors: None,
            max_connect_failures_before_contact: Some(5),
            connect_retry: None,
            max_unreadable: 3,
            min_interval: Duration::ZERO,
            request_time_limit: 30 * SECOND,
            not_found_grace: 30 * SECOND,
            max_hint: 3600 * SECOND,
            max_body_bytes: 8 << 20,
            cancel_on_server: true,
            conditional_requests: true,
            seed: 0,
        }
    }

    /// `fast`, for development and tests: 2 s, x1.5, at most 30 s between
    /// polls, 5 min in all; errors back off along the same curve with equal
    /// jitter (1 to 2 s, 1.5 to 3 s, ...).
    pub fn fast() -> Config {
        let curve = Schedule::Exponential {
            initial: 2 * SECOND,
            multiplier: 1.5,
            max: 30 * SECOND,
            jitter: Jitter::None,
        };
        Config {
            retry: curve.clone().with_jitter(Jitter::Equal),
            poll: curve,
            deadline: Some(5 * 60 * SECOND),
            request_time_limit: 10 * SECOND,
            ..Config::standard()
        }
    }

    /// `aggressive`, for urgent jobs: 5 s, x1.2, at most 60 s between polls,
    /// 30 min in all; errors retry after 1, 2, 4 ... 30 s with equal jitter.
    pub fn aggressive() -> Config {
        Config {
            poll: Schedule::Exponential {
                initial: 5 * SECOND,
                multiplier: 1.2,
                max: 60 * SECOND,
                jitter: Jitter::None,
            },
            retry: Schedule::Exponential {
                initial: SECOND,
                multiplier: 2.0,
                max: 30 * SECOND,
                jitter: Jitter::Equal,
            },
            request_time_limit: 15 * SECOND,
            ..Config::standard()
        }
    }

    /// `progressive` (file tasks): 1 s x5, 2 s x5, 5 s x10, then 10 s while healthy;
    /// errors 1, 2, 4 ... 30 s with equal jitter (each between half that and
    /// that); a strict 7-minute deadline.
    pub fn progressive() -> Config {
        Config {
            poll: Schedule::Stepped {
                steps: vec![
                    crate::schedule::Step {
                        count: 5,
                        interval: SECOND,
                    },
                    crate::schedule::Step {
                        count: 5,
                        interval: 2 * SECOND,
                    },
                    crate::schedule::Step {
                        count: 10,
                        interval: 5 * SECOND,
                    },
                ],
                then: 10 * SECOND,
            },
            retry: Schedule::Exponential {
                initial: SECOND,
                multiplier: 2.0,
                max: 30 * SECOND,
                jitter: Jitter::Equal,
            },
            deadline: Some(7 * 60 * SECOND),
            max_consecutive_errors: Some(20),
            request_time_limit: 15 * SECOND,
            ..Config::standard()
        }
    }

    /// A per-operation preset: the operation's interval and deadline; errors retry
    /// after 2, 4, 8 ... up to the operation's interval x6, with equal jitter
    /// (each between half that and that).
    pub fn operation(operation: Operation) -> Config {
        let (interval, deadline) = operation.interval_and_deadline();
        Config {
            poll: Schedule::Fixed { interval },
            retry: Schedule::Exponential {
                initial: 2 * SECOND,
                multiplier: 2.0,
                max: interval * 6,
                jitter: Jitter::Equal,
            },
            deadline: Some(deadline),
            request_time_limit: 30 * SECOND,
            ..Config::standard()
        }
    }

    /// `turn` polling: 1 s, 5 s once the turn is 30 s old, stop after 2 min;
    /// errors 2, 4, 8, 16 s with equal jitter (each between half that and that),
    /// at most 5 in a row.
    pub fn turn() -> Config {
        Config {
            poll: Schedule::Staged {
                initial: SECOND,
                stages: vec![crate::schedule::Stage {
                    after: 30 * SECOND,
                    interval: 5 * SECOND,
                }],
            },
            retry: Schedule::Exponential {
                initial: 2 * SECOND,
                multiplier: 2.0,
                max: 16 * SECOND,
                jitter: Jitter::Equal,
            },
            deadline: Some(120 * SECOND),
            max_consecutive_errors: Some(5),
            request_time_limit: 10 * SECOND,
            ..Config::standard()
        }
    }

    /// A preset by name: `standard`, `fast`, `aggressive`, `progressive`, `turn`, or an
    /// operation (`ad-generation`, `video-generation`, `research`,
    /// `strategic-analysis`, `scraping`, `avatar-video`).
    pub fn preset(name: &str) -> Option<Config> {
        Some(match name {
            "standard" => Config::standard(),
            "fast" => Config::fast(),
            "aggressive" => Config::aggressive(),
            "progressive" => Config::progressive(),
            "turn" => Config::turn(),
            "ad-generation" => Config::operation(Operation::AdGeneration),
            "video-generation" => Config::operation(Operation::VideoGeneration),
            "research" => Config::operation(Operation::Research),
            "strategic-analysis" => Config::operation(Operation::StrategicAnalysis),
            "scraping" => Config::operation(Operation::Scraping),
            "avatar-video" => Config::operation(Operation::AvatarVideo),
            _ => return None,
        })
    }

    /// Names accepted by [`Config::preset`].
    pub const PRESET_NAMES: &'static [&'static str] = &[
        "standard",
        "fast",
        "aggressive",
        "progressive",
        "turn",
        "ad-generation",
        "video-generation",
        "research",
        "strategic-analysis",
        "scraping",
        "avatar-video",
    ];

    /// The same configuration with `jitter` on its retry schedule. Every preset's
    /// retries use [`Jitter::Equal`]; `with_retry_jitter(Jitter::None)` gives the
    /// exact curve. Only an exponential retry schedule has jitter (see
    /// [`Schedule::with_jitter`]).
    pub fn with_retry_jitter(mut self, jitter: Jitter) -> Config {
        self.retry = self.retry.with_jitter(jitter);
        self
    }

    /// Checks that the configuration can work, with a message a person can act on.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.poll
            .validate()
            .map_err(|source| ConfigError::Schedule {
                which: "poll",
                source,
            })?;
        self.retry
            .validate()
            .map_err(|source| ConfigError::Schedule {
                which: "retry",
                source,
            })?;
        if let Some(connect_retry) = &self.connect_retry {
            connect_retry
                .validate()
                .map_err(|source| ConfigError::Schedule {
                    which: "connect_retry",
                    source,
                })?;
        }
        if self.request_time_limit.is_zero() {
            return Err(ConfigError::Limit(
                "request_time_limit must be more than zero".into(),
            ));
        }
        if self.deadline.is_some_and(|d| d.is_zero()) {
            return Err(ConfigError::Limit("deadline must be more than zero".into()));
        }
        if self.max_attempts == Some(0) {
            return Err(ConfigError::Limit("max_attempts must be at least 1".into()));
        }
        if self.max_consecutive_errors == Some(0) {
            return Err(ConfigError::Limit(
                "max_consecutive_errors must be at least 1".into(),
            ));
        }
        if self.max_connect_failures_before_contact == Some(0) {
            return Err(ConfigError::Limit(
                "max_connect_failures_before_contact must be at least 1".into(),
            ));
        }
        if self.max_unreadable == 0 {
            return Err(ConfigError::Limit(
                "max_unreadable must be at least 1".into(),
            ));
        }
        if self.max_body_bytes == 0 {
            return Err(ConfigError::Limit(
                "max_body_bytes must be more than zero".into(),
            ));
        }
        Ok(())
    }

    /// The same configuration with every duration cut to whole microseconds, the
    /// resolution of all job state (so snapshots and traces are exact).
    pub(crate) fn normalized(mut self) -> Config {
        for d in [
            &mut self.min_interval,
            &mut self.request_time_limit,
            &mut self.not_found_grace,
            &mut self.max_hint,
        ] {
            *d = whole_micros(*d);
        }
        self.deadline = self.deadline.map(whole_micros);
        self.poll = self.poll.normalized();
        self.retry = self.retry.normalized();
        self.connect_retry = self.connect_retry.map(Schedule::normalized);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_valid() {
        for name in Config::PRESET_NAMES {
            let config = Config::preset(name).expect("listed preset exists");
            config
                .validate()
                .unwrap_or_else(|e| panic!("preset {name}: {e}"));
        }
        assert!(Config::preset("nope").is_none());
    }

    #[test]
    fn operation_table_matches_the_presets() {
        let table: Vec<(u64, u64)> = Operation::ALL
            .iter()
            .map(|op| {
                let (interval, deadline) = op.interval_and_deadline();
                (interval.as_secs(), deadline.as_secs() / 60)
            })
            .collect();
        assert_eq!(
            table,
            vec![(6, 30), (10, 45), (10, 50), (10, 90), (5, 10), (10, 30)]
        );
        let research = Config::operation(Operation::Research);
        assert_eq!(
            research.poll,
            Schedule::Fixed {
                interval: Duration::from_secs(10)
            }
        );
        assert_eq!(research.deadline, Some(Duration::from_secs(50 * 60)));
    }

    #[test]
    fn invalid_limits_are_refused_with_a_reason() {
        let mut config = Config::standard();
        config.request_time_limit = Duration::ZERO;
        assert!(
            config
                .validate()
                .unwrap_err()
                .to_string()
                .contains("request_time_limit")
        );
        let config = Config {
            max_attempts: Some(0),
            ..Config::standard()
        };
        assert!(
            config
                .validate()
                .unwrap_err()
                .to_string()
                .contains("max_attempts")
        );
    }

    #[test]
    fn configs_round_trip_through_json() {
        for name in Config::PRESET_NAMES {
            let config = Config::preset(name).expect("listed preset exists");
            let json = serde_json::to_string(&config).expect("serializes");
            let back: Config = serde_json::from_str(&json).expect("deserializes");
            assert_eq!(back, config);
        }
        // A partial config fills the rest from the standard preset.
        let partial: Config = serde_json::from_str(r#"{"max_attempts": 20}"#).expect("parses");
        assert_eq!(partial.max_attempts, Some(20));
        assert_eq!(partial.poll, Config::standard().poll);
    }
}
