//! Model time as wall-clock time.
//!
//! The model only knows [`Instant`]s, microseconds since the driver's epoch. Clients
//! need dates: the `Date` header (against which a `Retry-After` date is measured) and
//! timestamps in JSON bodies. The model's epoch is pinned to
//! [`EPOCH_UNIX_SECS`] (2026-01-01T00:00:00Z), so the same run prints the same
//! dates everywhere.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jobpoll_core::Instant;

/// The wall-clock time of [`Instant::ZERO`]: 2026-01-01T00:00:00Z, in seconds since
/// the Unix epoch.
pub const EPOCH_UNIX_SECS: u64 = 1_767_225_600;

/// The last second HTTP dates can express (9999-12-31T23:59:59Z); later instants
/// are shown as this one.
const LAST_UNIX_SECS: u64 = 253_402_300_799;

/// Whole microseconds since the Unix epoch of `at`, clamped to the year 9999.
fn unix_micros(at: Instant) -> u64 {
    EPOCH_UNIX_SECS
        .saturating_mul(1_000_000)
        .saturating_add(at.as_micros())
        .min(LAST_UNIX_SECS * 1_000_000 + 999_999)
}

/// The wall-clock time of model instant `at` (clamped to the year 9999).
pub fn wall_time(at: Instant) -> SystemTime {
    UNIX_EPOCH + Duration::from_micros(unix_micros(at))
}

/// `at` as an HTTP date (`Thu, 01 Jan 2026 00:00:05 GMT`), for `Date` headers.
pub fn http_date(at: Instant) -> String {
    httpdate::fmt_http_date(wall_time(at))
}

/// `at` as an RFC 3339 UTC timestamp with milliseconds
/// (`2026-01-01T00:00:05.250Z`), for JSON bodies.
pub fn rfc3339(at: Instant) -> String {
    let micros = unix_micros(at);
    let secs = micros / 1_000_000;
    let millis = (micros % 1_000_000) / 1_000;
    let (year, month, day) = civil_from_days(secs / 86_400);
    let in_day = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        in_day / 3_600,
        (in_day / 60) % 60,
        in_day % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's
/// `civil_from_days`, for non-negative days).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_epoch_is_new_year_2026() {
        assert_eq!(rfc3339(Instant::ZERO), "2026-01-01T00:00:00.000Z");
        assert_eq!(http_date(Instant::ZERO), "Thu, 01 Jan 2026 00:00:00 GMT");
        assert_eq!(
            rfc3339(Instant::from_millis(5_250)),
            "2026-01-01T00:00:05.250Z"
        );
    }

    #[test]
    fn dates_cross_months_and_leap_years() {
        let day = 86_400;
        assert_eq!(
            rfc3339(Instant::from_secs(59 * day + 3_661)),
            "2026-03-01T01:01:01.000Z"
        );
        // 2028 is a leap year: 2026 and 2027 have 365 days each.
        assert_eq!(
            rfc3339(Instant::from_secs((730 + 59) * day)),
            "2028-02-29T00:00:00.000Z"
        );
        assert_eq!(
            rfc3339(Instant::from_secs(365 * day - 1)),
            "2026-12-31T23:59:59.000Z"
        );
    }

    #[test]
    fn far_future_instants_are_clamped_not_panics() {
        assert_eq!(http_date(Instant::MAX), "Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(rfc3339(Instant::MAX), "9999-12-31T23:59:59.999Z");
    }
}
