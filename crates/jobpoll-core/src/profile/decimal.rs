//! A number a server wrote as text (`"42.5"`), read as Rust's `f64::from_str`
//! reads it, through serde_json's number reader.
//!
//! The core reads JSON numbers with serde_json anyway; `f64::from_str` is a
//! second float reader (its tables and slow path are 13 KB of the browser
//! package's gzipped `.wasm`). So the text is checked against
//! `f64::from_str`'s grammar, rewritten as a JSON number (a `+` dropped,
//! leading zeros dropped, `.5` and `5.` completed), and read by serde_json:
//! what `from_str` accepts is accepted, with the same value (bit for bit where
//! serde_json reads correctly rounded, the core's `exact-floats` feature), and
//! what it refuses is refused.

/// `text` as `text.parse::<f64>()` reads it: an optional sign, then `inf`,
/// `infinity` or `nan` in any case, or digits with an optional `.` and an
/// optional exponent. `None` where `parse` fails.
pub(crate) fn decimal(text: &str) -> Option<f64> {
    let (negative, rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let signed = |value: f64| if negative { -value } else { value };
    if rest.eq_ignore_ascii_case("inf") || rest.eq_ignore_ascii_case("infinity") {
        return Some(signed(f64::INFINITY));
    }
    if rest.eq_ignore_ascii_case("nan") {
        return Some(f64::NAN);
    }
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(at) => (&rest[..at], Some(&rest[at + 1..])),
        None => (rest, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
        return None;
    }
    let mut json = String::with_capacity(text.len() + 2);
    if negative {
        json.push('-');
    }
    let whole = whole.trim_start_matches('0');
    json.push_str(if whole.is_empty() { "0" } else { whole });
    if !fraction.is_empty() {
        json.push('.');
        json.push_str(fraction);
    }
    if let Some(exponent) = exponent {
        let unsigned = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
        if unsigned.is_empty() || !digits(unsigned) {
            return None;
        }
        json.push('e');
        json.push_str(exponent);
    }
    match serde_json::from_slice::<serde_json::Value>(json.as_bytes()) {
        Ok(value) => value.as_f64(),
        // The text is a valid number, so only its size can fail: past
        // `f64::MAX`, which `from_str` reads as an infinity.
        Err(_) => Some(signed(f64::INFINITY)),
    }
}

#[cfg(test)]
mod tests {
    use super::decimal;
    use proptest::prelude::*;

    /// The same answer as `f64::from_str`, bit for bit (NaN as NaN).
    fn agrees(text: &str) -> Result<(), String> {
        let ours = decimal(text);
        let std = text.parse::<f64>().ok();
        let same = match (ours, std) {
            (Some(a), Some(b)) => a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
            (None, None) => true,
            _ => false,
        };
        if same {
            Ok(())
        } else {
            Err(format!("{text:?}: read as {ours:?}, from_str {std:?}"))
        }
    }

    #[test]
    fn reads_what_from_str_reads() {
        for text in [
            "42.5",
            "+42.5",
            "-42.5",
            "007",
            "007.50",
            ".5",
            "5.",
            "-.5",
            "+5.",
            "0",
            "-0",
            "-0.0",
            "1e3",
            "1E3",
            "1e+3",
            "1e-3",
            "1e007",
            ".5e1",
            "5.e1",
            "inf",
            "-inf",
            "+Infinity",
            "INF",
            "NaN",
            "-nan",
            "nan",
            "1e400",
            "-1e400",
            "1e-400",
            "91.033634515813485",
            "123456789012345678901234567890",
            "4.9e-324",
            "1.7976931348623157e308",
            "1.7976931348623159e308",
        ] {
            agrees(text).unwrap();
        }
    }

    #[test]
    fn refuses_what_from_str_refuses() {
        for text in [
            "", "+", "-", ".", "e5", "1e", "1e+", "1.2.3", "1,5", " 1", "1 ", "45%", "0x10",
            "1_000", "++1", "+-1", "infinite", "nana", "1e5.0", "١٢", "１２",
        ] {
            assert_eq!(decimal(text), None, "{text:?}");
            agrees(text).unwrap();
        }
    }

    proptest! {
        #[test]
        fn agrees_with_from_str(text in "[-+]?[0-9]{0,25}(\\.[0-9]{0,25})?([eE][-+]?[0-9]{0,4})?") {
            prop_assert!(agrees(&text).is_ok(), "{}", agrees(&text).unwrap_err());
        }

        #[test]
        fn agrees_on_any_short_text(text in "[-+0-9.eEinfaINFA ]{0,12}") {
            prop_assert!(agrees(&text).is_ok(), "{}", agrees(&text).unwrap_err());
        }
    }
}
