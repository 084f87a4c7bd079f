//! Time as the core sees it: a monotonic instant handed in by the driver.
//!
//! The core never reads a clock. Every input carries `now`, an [`Instant`] measured
//! in whole microseconds from an epoch the driver picks (process start, page load,
//! the simulator's zero). Whole microseconds keep arithmetic exact and make every
//! instant and duration serialize without loss, which snapshots and trace replay
//! rely on.

use core::ops::{Add, Sub};
use core::time::Duration;

use serde::{Deserialize, Serialize};

/// A point in time: whole microseconds since the driver's epoch.
///
/// Unlike `std::time::Instant` it is plain data: serializable, comparable across a
/// snapshot, available on `wasm32-unknown-unknown`, and never read from a clock by
/// the core itself.
///
/// Every value from [`Instant::ZERO`] to [`Instant::MAX`] is a valid `now`: a job
/// started or resumed at any of them behaves as one started at zero, shifted. An
/// instant the core computes past the end of the clock (a wake-up or a deadline
/// beyond [`Instant::MAX`]) is [`Instant::MAX`], "never".
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Instant(u64);

impl Instant {
    /// The driver's epoch.
    pub const ZERO: Instant = Instant(0);
    /// The latest representable instant; used as "never".
    pub const MAX: Instant = Instant(u64::MAX);

    /// An instant `micros` microseconds after the epoch.
    pub const fn from_micros(micros: u64) -> Instant {
        Instant(micros)
    }

    /// An instant `millis` milliseconds after the epoch.
    pub const fn from_millis(millis: u64) -> Instant {
        Instant(millis.saturating_mul(1_000))
    }

    /// An instant `secs` seconds after the epoch.
    pub const fn from_secs(secs: u64) -> Instant {
        Instant(secs.saturating_mul(1_000_000))
    }

    /// Microseconds since the epoch.
    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// Time elapsed since the epoch.
    pub const fn since_epoch(self) -> Duration {
        Duration::from_micros(self.0)
    }

    /// `self - earlier`, or zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_micros(self.0.saturating_sub(earlier.0))
    }

    /// `self + duration`, clamped to [`Instant::MAX`]. Sub-microsecond parts of
    /// `duration` are dropped.
    pub fn saturating_add(self, duration: Duration) -> Instant {
        Instant(self.0.saturating_add(micros(duration)))
    }

    /// `self - duration`, clamped to [`Instant::ZERO`].
    pub fn saturating_sub(self, duration: Duration) -> Instant {
        Instant(self.0.saturating_sub(micros(duration)))
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, rhs: Duration) -> Instant {
        self.saturating_add(rhs)
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    /// Saturating: an earlier minus a later instant is zero.
    fn sub(self, rhs: Instant) -> Duration {
        self.saturating_duration_since(rhs)
    }
}

impl core::fmt::Display for Instant {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", format_duration(self.since_epoch()))
    }
}

/// Whole microseconds of a duration, saturating at `u64::MAX`.
pub(crate) fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// A duration truncated to whole microseconds, the resolution of all core state.
pub(crate) fn whole_micros(duration: Duration) -> Duration {
    Duration::from_micros(micros(duration))
}

/// `seconds` as a duration in whole microseconds; negative, NaN and non-finite
/// values become zero or saturate, so arithmetic on untrusted floats never panics.
pub(crate) fn duration_from_secs_f64(seconds: f64) -> Duration {
    if seconds.is_nan() || seconds <= 0.0 {
        return Duration::ZERO;
    }
    let micros = seconds * 1e6;
    if micros >= u64::MAX as f64 {
        Duration::from_micros(u64::MAX)
    } else {
        Duration::from_micros(micros.round() as u64)
    }
}

/// Short human form used in events, traces and snapshots: `1.5s`, `2m30s`, `250ms`.
pub fn format_duration(duration: Duration) -> String {
    let micros = micros(duration);
    if micros == 0 {
        return "0s".to_owned();
    }
    if micros < 1_000_000 {
        let fraction = format!("{:03}", micros % 1_000);
        let fraction = fraction.trim_end_matches('0');
        return if fraction.is_empty() {
            format!("{}ms", micros / 1_000)
        } else {
            format!("{}.{fraction}ms", micros / 1_000)
        };
    }
    let total_secs = micros / 1_000_000;
    let frac = micros % 1_000_000;
    let (hours, minutes, secs) = (total_secs / 3600, (total_secs / 60) % 60, total_secs % 60);
    let mut out = String::new();
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if minutes > 0 {
        out.push_str(&format!("{minutes}m"));
    }
    if secs > 0 || frac > 0 {
        if frac == 0 {
            out.push_str(&format!("{secs}s"));
        } else {
            let frac = format!("{frac:06}");
            out.push_str(&format!("{secs}.{}s", frac.trim_end_matches('0')));
        }
    }
    out
}

/// Serde for a [`Duration`] as whole microseconds: lossless for core state, which
/// is always kept at microsecond resolution, and readable in JSON.
pub mod serde_micros {
    use core::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialize as microseconds.
    pub fn serialize<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(super::micros(*duration))
    }

    /// Deserialize from microseconds.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        u64::deserialize(deserializer).map(Duration::from_micros)
    }

    /// The same for `Option<Duration>`.
    pub mod option {
        use core::time::Duration;

        use serde::{Deserialize, Deserializer, Serializer};

        /// Serialize as microseconds or null.
        pub fn serialize<S: Serializer>(
            duration: &Option<Duration>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match duration {
                Some(d) => serializer.serialize_some(&super::super::micros(*d)),
                None => serializer.serialize_none(),
            }
        }

        /// Deserialize from microseconds or null.
        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<Duration>, D::Error> {
            Option::<u64>::deserialize(deserializer).map(|m| m.map(Duration::from_micros))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_instead_of_panicking() {
        assert_eq!(Instant::MAX + Duration::from_secs(1), Instant::MAX);
        assert_eq!(Instant::ZERO - Instant::from_secs(5), Duration::ZERO);
        assert_eq!(
            Instant::from_secs(5) - Instant::from_secs(2),
            Duration::from_secs(3)
        );
        assert_eq!(
            Instant::ZERO.saturating_sub(Duration::from_secs(1)),
            Instant::ZERO
        );
    }

    #[test]
    fn untrusted_floats_become_safe_durations() {
        assert_eq!(duration_from_secs_f64(f64::NAN), Duration::ZERO);
        assert_eq!(duration_from_secs_f64(-3.0), Duration::ZERO);
        assert_eq!(
            duration_from_secs_f64(f64::INFINITY),
            Duration::from_micros(u64::MAX)
        );
        assert_eq!(duration_from_secs_f64(67.5), Duration::from_millis(67_500));
    }

    #[test]
    fn durations_format_for_people() {
        assert_eq!(format_duration(Duration::from_millis(67_500)), "1m7.5s");
        assert_eq!(format_duration(Duration::from_secs(1800)), "30m");
        assert_eq!(format_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(format_duration(Duration::from_micros(629_089)), "629.089ms");
        assert_eq!(format_duration(Duration::from_micros(426)), "0.426ms");
        assert_eq!(format_duration(Duration::from_secs(3600 + 1)), "1h1s");
        assert_eq!(format_duration(Duration::ZERO), "0s");
    }
}
