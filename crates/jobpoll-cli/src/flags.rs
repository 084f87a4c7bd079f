//! How long and how often `wait` and `submit` poll: the preset, the poll schedule
//! and the limits, and how the defaults combine with the flags.
//!
//! With no flag a job gets the `standard` preset's limits (a 30 min deadline,
//! 30 s request time limit, 30 s for a job to appear) with the adaptive poll
//! schedule, which polls near the end the server's ETA (or the progress slope)
//! predicts: the schedule the polling benchmark measured best. `--preset NAME`
//! takes that preset whole, its poll schedule included; `--interval D` polls
//! every D; `--adaptive` puts the adaptive schedule on any preset.

use std::time::Duration;

use jobpoll_core::schedule::Adaptive;
use jobpoll_core::{Config, Jitter, Schedule};

use crate::durations;

/// The preset used when `--preset` is not given (with the adaptive poll schedule).
pub(crate) const DEFAULT_PRESET: &str = "standard";

/// After errors in a row, `--interval D` retries after D, then 1.5 D, 2.25 D, ...
/// up to this many times D.
const RETRY_CAP: u32 = 10;

/// The schedule and limit flags of `wait` and `submit`.
#[derive(clap::Args)]
pub(crate) struct Waiting {
    /// Schedule and limits: standard, fast, aggressive, progressive, turn,
    /// ad-generation, video-generation, research, strategic-analysis, scraping,
    /// avatar-video. Without --preset: standard's limits with the adaptive poll
    /// schedule (polls near the server's ETA).
    #[arg(long, value_name = "NAME")]
    pub(crate) preset: Option<String>,
    /// Poll every D (e.g. 5s) instead of the schedule. After an error, retry after
    /// D, then 1.5×D, 2.25×D, ... at most 10×D, each cut at random by up to half.
    /// A wait the server asks for (Retry-After) still wins.
    #[arg(long, value_name = "D", conflicts_with = "adaptive", value_parser = durations::parse)]
    pub(crate) interval: Option<Duration>,
    /// Use the adaptive poll schedule (polls near the server's ETA or the progress
    /// slope) with the preset's limits; the default without --preset.
    #[arg(long)]
    pub(crate) adaptive: bool,
    /// Give up waiting after this long (e.g. 30m; default: the preset's, 30m for
    /// standard). Exit 3.
    #[arg(long, value_name = "D", value_parser = durations::parse)]
    pub(crate) timeout: Option<Duration>,
    /// Give up after N status polls. Exit 3.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) max_attempts: Option<u32>,
    /// Give up after N failed requests in a row (connection errors, 5xx, 429 without
    /// a usable wait, unreadable answers). Exit 6.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) max_errors: Option<u32>,
    /// How long a 404 means the job is not visible yet, counted from the first
    /// poll; a 404 after that ends the wait as not found (exit 5). Default: the
    /// preset's, 30s.
    #[arg(long, value_name = "D", value_parser = durations::parse)]
    pub(crate) not_found_grace: Option<Duration>,
}

impl Waiting {
    /// The schedule and limits these flags ask for.
    pub(crate) fn config(&self) -> Result<Config, String> {
        let name = self.preset.as_deref().unwrap_or(DEFAULT_PRESET);
        let mut config = Config::preset(name).ok_or_else(|| {
            format!(
                "unknown preset {name:?}; choose one of {}",
                Config::PRESET_NAMES.join(", ")
            )
        })?;
        if let Some(interval) = self.interval {
            if interval.is_zero() {
                return Err("--interval must be more than zero, e.g. 5s".to_owned());
            }
            config.poll = Schedule::fixed(interval);
            config.retry = Schedule::exponential(interval, 1.5, interval.saturating_mul(RETRY_CAP))
                .with_jitter(Jitter::Equal);
        } else if self.adaptive || self.preset.is_none() {
            config.poll = Schedule::adaptive(Adaptive::standard());
        }
        if let Some(timeout) = self.timeout {
            if timeout.is_zero() {
                return Err("--timeout must be more than zero, e.g. 30m".to_owned());
            }
            config.deadline = Some(timeout);
        }
        if let Some(attempts) = self.max_attempts {
            config.max_attempts = Some(attempts);
        }
        if let Some(errors) = self.max_errors {
            config.max_consecutive_errors = Some(errors);
        }
        if let Some(grace) = self.not_found_grace {
            config.not_found_grace = grace;
        }
        config.validate().map_err(|error| error.to_string())?;
        Ok(config)
    }
}

/// What to add to a "not found" ending: how long the job was given to appear.
pub(crate) fn not_found_advice(config: &Config) -> String {
    format!(
        "not found: waited {} for the job to appear (--not-found-grace)",
        durations::show(config.not_found_grace)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiting() -> Waiting {
        Waiting {
            preset: None,
            interval: None,
            adaptive: false,
            timeout: None,
            max_attempts: None,
            max_errors: None,
            not_found_grace: None,
        }
    }

    #[test]
    fn no_flag_is_standard_with_the_adaptive_schedule() {
        let config = waiting().config().expect("valid");
        assert_eq!(config.poll, Schedule::adaptive(Adaptive::standard()));
        let standard = Config::standard();
        assert_eq!(config.deadline, standard.deadline);
        assert_eq!(config.retry, standard.retry);
    }

    #[test]
    fn a_preset_named_keeps_its_schedule_unless_adaptive_is_asked() {
        let named = Waiting {
            preset: Some("fast".into()),
            ..waiting()
        };
        assert_eq!(named.config().expect("valid"), Config::fast());
        let adaptive = Waiting {
            adaptive: true,
            ..named
        };
        assert_eq!(
            adaptive.config().expect("valid").poll,
            Schedule::adaptive(Adaptive::standard())
        );
    }

    #[test]
    fn interval_sets_the_poll_and_the_retry() {
        let config = Waiting {
            interval: Some(Duration::from_secs(2)),
            ..waiting()
        }
        .config()
        .expect("valid");
        assert_eq!(config.poll, Schedule::fixed(Duration::from_secs(2)));
        assert_eq!(
            config.retry,
            Schedule::exponential(Duration::from_secs(2), 1.5, Duration::from_secs(20))
                .with_jitter(Jitter::Equal)
        );
    }

    #[test]
    fn limits_reach_the_config() {
        let config = Waiting {
            timeout: Some(Duration::from_secs(60)),
            max_attempts: Some(4),
            max_errors: Some(2),
            not_found_grace: Some(Duration::from_secs(5)),
            ..waiting()
        }
        .config()
        .expect("valid");
        assert_eq!(config.deadline, Some(Duration::from_secs(60)));
        assert_eq!(config.max_attempts, Some(4));
        assert_eq!(config.max_consecutive_errors, Some(2));
        assert_eq!(config.not_found_grace, Duration::from_secs(5));
        assert_eq!(
            not_found_advice(&config),
            "not found: waited 5s for the job to appear (--not-found-grace)"
        );
    }
}
