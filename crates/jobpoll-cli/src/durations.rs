//! Durations on the command line: `500ms`, `10s`, `5m`, `1h30m`. A bare number is
//! refused with a hint to add a unit, rather than guessing seconds or
//! milliseconds.

use std::time::Duration;

/// The clap value parser of every duration flag.
pub(crate) fn parse(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("a duration is needed, e.g. 10s, 500ms, 5m or 1h".to_owned());
    }
    if trimmed.parse::<f64>().is_ok() {
        let example = if trimmed.contains('.') {
            format!("{trimmed}s")
        } else {
            format!("{trimmed}s or {trimmed}ms")
        };
        return Err(format!(
            "{trimmed:?} has no unit: add a unit, e.g. {example} (also m, h)"
        ));
    }
    humantime::parse_duration(trimmed).map_err(|error| {
        format!("{trimmed:?} is not a duration ({error}); write e.g. 10s, 500ms, 5m or 1h30m")
    })
}

/// A duration as a person writes it on the command line (`30s`, `1m 30s`, `250ms`).
pub(crate) fn show(duration: Duration) -> String {
    humantime::format_duration(duration).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_number_asks_for_a_unit() {
        let error = parse("10").expect_err("no unit");
        assert!(error.contains("add a unit, e.g. 10s"), "{error}");
        let error = parse("1.5").expect_err("no unit");
        assert!(error.contains("add a unit, e.g. 1.5s"), "{error}");
    }

    #[test]
    fn durations_with_units_parse() {
        assert_eq!(parse("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse(" 250ms "), Ok(Duration::from_millis(250)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
    }

    #[test]
    fn nonsense_says_what_a_duration_looks_like() {
        for bad in ["", "soon", "10 parsecs", "-1s"] {
            let error = parse(bad).expect_err(bad);
            assert!(error.contains("e.g. 10s"), "{bad:?}: {error}");
        }
    }

    #[test]
    fn durations_show_as_they_are_written() {
        assert_eq!(show(Duration::from_secs(30)), "30s");
        assert_eq!(show(Duration::from_millis(1500)), "1s 500ms");
    }
}
