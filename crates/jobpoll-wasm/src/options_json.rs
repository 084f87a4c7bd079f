//! Reading [`WaitOptions`] from the JSON of the object JavaScript passed: each
//! known key read by hand, each refusal an [`OptionsError`] that names the
//! option, what it wants and what was given.
//!
//! Written out rather than derived: serde's derive read through
//! serde-wasm-bindgen and serde_path_to_error made the package's `.wasm` 8 KB
//! larger gzipped and its JavaScript 1 KB (see docs/decisions.md).

use jobpoll_core::profile::nearest;
use serde_json::Value;

use super::{OptionsError, ProfileChoice, WaitOptions};

/// Options that hold JavaScript values (a signal, a callback) or steer the
/// driver rather than the job; the driver reads them off the object itself.
pub const JS_ONLY: [&str; 4] = ["signal", "onEvent", "persist", "record"];

/// What a number of milliseconds must be.
const MILLIS: &str = "a number of milliseconds";
/// What a count must be.
const COUNT: &str = "a whole number from 0 to 4294967295";

/// Every option read from JSON, with what it takes, as messages say it.
const WANTED: [(&str, &str); 11] = [
    ("profile", "a built-in profile's name or a profile object"),
    ("preset", "a preset's name (a string)"),
    ("interval", MILLIS),
    ("timeout", MILLIS),
    ("requestTimeout", MILLIS),
    ("maxAttempts", COUNT),
    ("maxErrors", COUNT),
    ("maxBodyBytes", "a whole number of bytes above zero"),
    (
        "headers",
        "an object of header names to values, or a list of [name, value] pairs",
    ),
    ("method", "an HTTP method (a string)"),
    ("body", "a string, or a value sent as JSON"),
];

/// At most this many characters of a refused value are quoted in a message.
const SHOWN: usize = 60;

impl WaitOptions {
    /// Reads the options from the JSON form of the object JavaScript passed
    /// (times in milliseconds, keys in camelCase). `null` means not given; the
    /// options in [`JS_ONLY`] are left to the caller; any other key is refused,
    /// naming the known option nearest to it.
    pub fn from_json(json: &Value) -> Result<WaitOptions, OptionsError> {
        let Some(object) = json.as_object() else {
            return Err(OptionsError {
                message: format!("options must be an object, not {}", shown(json)),
                option: None,
                profile: None,
            });
        };
        let mut options = WaitOptions::default();
        for (key, value) in object {
            if value.is_null() || JS_ONLY.contains(&key.as_str()) {
                continue;
            }
            let refused = || refuse(key, &shown(value));
            match key.as_str() {
                "profile" => {
                    options.profile = Some(match value {
                        Value::String(name) => ProfileChoice::Named(name.clone()),
                        Value::Object(_) => ProfileChoice::Custom(value.clone()),
                        _ => return Err(refused()),
                    });
                }
                "preset" => options.preset = Some(text(value).ok_or_else(refused)?),
                "method" => options.method = Some(text(value).ok_or_else(refused)?),
                "body" => options.body = Some(text(value).ok_or_else(refused)?),
                "interval" => options.interval = Some(value.as_f64().ok_or_else(refused)?),
                "timeout" => options.timeout = Some(value.as_f64().ok_or_else(refused)?),
                "requestTimeout" => {
                    options.request_timeout = Some(value.as_f64().ok_or_else(refused)?);
                }
                "maxAttempts" => options.max_attempts = Some(count(value).ok_or_else(refused)?),
                "maxErrors" => options.max_errors = Some(count(value).ok_or_else(refused)?),
                "maxBodyBytes" => {
                    options.max_body_bytes = Some(whole(value, u64::MAX).ok_or_else(refused)?);
                }
                "headers" => options.headers = headers(value)?,
                _ => return Err(unknown(key)),
            }
        }
        Ok(options)
    }
}

/// The error for option `key` given as `given` (a value as a person reads it:
/// `"5s"`, `NaN`, `a function`), which it cannot be; for a key that is no
/// option, the error saying so.
pub fn refuse(key: &str, given: &str) -> OptionsError {
    match WANTED.iter().find(|(name, _)| *name == key) {
        Some((_, wanted)) => OptionsError::new(key, format!("{key} must be {wanted}, not {given}")),
        None => unknown(key),
    }
}

/// A key that is no option: the nearest one, or the list of them.
fn unknown(key: &str) -> OptionsError {
    let mut known: Vec<&str> = WANTED.iter().map(|(name, _)| *name).collect();
    known.extend(JS_ONLY);
    let message = match nearest(key, known.iter().copied()) {
        Some(near) => format!("unknown option {key:?}; did you mean {near}?"),
        None => format!(
            "unknown option {key:?}; the options are {}",
            known.join(", ")
        ),
    };
    OptionsError::new(key, message)
}

/// A string's text.
fn text(value: &Value) -> Option<String> {
    value.as_str().map(str::to_owned)
}

/// A whole number from 0 to `u32::MAX`.
fn count(value: &Value) -> Option<u32> {
    whole(value, u64::from(u32::MAX)).and_then(|n| u32::try_from(n).ok())
}

/// A whole number from 0 to `max` (JavaScript writes `1e21` and above with an
/// exponent, which JSON reads as a fraction: those count if whole).
fn whole(value: &Value, max: u64) -> Option<u64> {
    let n = match value.as_u64() {
        Some(n) => n,
        None => {
            let n = value.as_f64()?;
            // `as` saturates: a whole number above u64::MAX is caught below.
            if n < 0.0 || n.fract() != 0.0 || n >= u64::MAX as f64 {
                return None;
            }
            n as u64
        }
    };
    (n <= max).then_some(n)
}

/// Headers as an object of names to values or a list of `[name, value]` pairs
/// (where a name may repeat), in order; a number as a value is sent as its
/// decimal text. An object's headers come in the order of serde_json's map
/// (by name, unless its `preserve_order` feature is on): the driver passes
/// JavaScript's headers as pairs.
fn headers(value: &Value) -> Result<Vec<(String, String)>, OptionsError> {
    let mut headers = Vec::new();
    match value {
        Value::Object(map) => {
            for (name, value) in map {
                headers.push((name.clone(), header_value(name, value)?));
            }
        }
        Value::Array(pairs) => {
            for (index, pair) in pairs.iter().enumerate() {
                let Some([Value::String(name), value]) = pair.as_array().map(Vec::as_slice) else {
                    return Err(OptionsError::new(
                        "headers",
                        format!(
                            "headers[{index}] must be a [name, value] pair (a name, then a string or a number), not {}",
                            shown(pair)
                        ),
                    ));
                };
                headers.push((name.clone(), header_value(name, value)?));
            }
        }
        _ => return Err(refuse("headers", &shown(value))),
    }
    Ok(headers)
}

/// A header's value: text, or a number written out.
fn header_value(name: &str, value: &Value) -> Result<String, OptionsError> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        _ => Err(OptionsError::new(
            "headers",
            format!(
                "the value of header {name:?} must be a string or a number, not {}",
                shown(value)
            ),
        )),
    }
}

/// A value as JSON, cut to [`SHOWN`] characters.
fn shown(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The options read from `json`.
    fn read(json: &str) -> Result<WaitOptions, OptionsError> {
        WaitOptions::from_json(&serde_json::from_str(json).unwrap())
    }

    /// The error reading `json`, which must be refused.
    fn refused(json: &str) -> OptionsError {
        read(json).unwrap_err()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn every_option_reads_from_camel_case_json() {
        let options = read(
            r#"{"profile":"codegen","preset":"fast","interval":250.5,"timeout":5000,
                "requestTimeout":100,"maxAttempts":3,"maxErrors":0,"maxBodyBytes":4096,
                "headers":{"X-A":"1"},"method":"PUT","body":"{}"}"#,
        )
        .unwrap();
        assert_eq!(
            options,
            WaitOptions {
                profile: Some(ProfileChoice::Named("codegen".to_owned())),
                preset: Some("fast".to_owned()),
                interval: Some(250.5),
                timeout: Some(5000.0),
                request_timeout: Some(100.0),
                max_attempts: Some(3),
                max_errors: Some(0),
                max_body_bytes: Some(4096),
                headers: pairs(&[("X-A", "1")]),
                method: Some("PUT".to_owned()),
                body: Some("{}".to_owned()),
            }
        );
        // A profile object is kept as written, for the core to read.
        let options = read(r#"{"profile":{"completion":{}}}"#).unwrap();
        assert_eq!(
            options.profile,
            Some(ProfileChoice::Custom(serde_json::json!({"completion": {}})))
        );
    }

    #[test]
    fn null_means_not_given_and_js_only_options_are_left_alone() {
        let options = read(
            r#"{"profile":null,"interval":null,"maxAttempts":null,"headers":null,"body":null,
                "onEvent":null,"signal":{},"persist":false,"record":true}"#,
        )
        .unwrap();
        assert_eq!(options, WaitOptions::default());
        assert_eq!(read("{}").unwrap(), WaitOptions::default());
    }

    #[test]
    fn an_unknown_option_is_refused_naming_the_nearest() {
        let error = refused(r#"{"timout":5000}"#);
        assert_eq!(error.option.as_deref(), Some("timout"));
        assert_eq!(
            error.message,
            "unknown option \"timout\"; did you mean timeout?"
        );
        let error = refused(r#"{"onevent":1}"#);
        assert!(error.message.ends_with("did you mean onEvent?"), "{error}");
        // Nothing near: the options are listed.
        let error = refused(r#"{"colour":"red"}"#);
        assert_eq!(error.option.as_deref(), Some("colour"));
        assert!(
            error.message.starts_with(
                "unknown option \"colour\"; the options are profile, preset, interval"
            ),
            "{error}"
        );
        assert!(error.message.ends_with("persist, record"), "{error}");
        // `null` is not given, even under a name no option has.
        assert_eq!(read(r#"{"colour":null}"#).unwrap(), WaitOptions::default());
    }

    #[test]
    fn a_value_of_the_wrong_type_says_what_is_wanted_and_what_was_given() {
        let cases = [
            (
                r#"{"preset":5}"#,
                "preset",
                "preset must be a preset's name (a string), not 5",
            ),
            (
                r#"{"method":["PUT"]}"#,
                "method",
                "method must be an HTTP method (a string), not [\"PUT\"]",
            ),
            (
                r#"{"timeout":"5s"}"#,
                "timeout",
                "timeout must be a number of milliseconds, not \"5s\"",
            ),
            (
                r#"{"requestTimeout":true}"#,
                "requestTimeout",
                "requestTimeout must be a number of milliseconds, not true",
            ),
            (
                r#"{"maxErrors":"3"}"#,
                "maxErrors",
                "maxErrors must be a whole number from 0 to 4294967295, not \"3\"",
            ),
            (
                r#"{"profile":7}"#,
                "profile",
                "profile must be a built-in profile's name or a profile object, not 7",
            ),
            (
                r#"{"headers":"X-A: 1"}"#,
                "headers",
                "headers must be an object of header names to values, or a list of [name, value] pairs, not \"X-A: 1\"",
            ),
            (
                r#"{"body":{"a":1}}"#,
                "body",
                "body must be a string, or a value sent as JSON, not {\"a\":1}",
            ),
        ];
        for (json, option, message) in cases {
            let error = refused(json);
            assert_eq!(error.option.as_deref(), Some(option), "{json}");
            assert_eq!(error.message, message, "{json}");
        }
    }

    #[test]
    fn whole_numbers_are_whole_not_negative_and_fit() {
        for json in [
            r#"{"maxAttempts":-1}"#,
            r#"{"maxAttempts":1.5}"#,
            r#"{"maxAttempts":4294967296}"#,
            r#"{"maxErrors":-0.5}"#,
            r#"{"maxBodyBytes":-1}"#,
            r#"{"maxBodyBytes":2.5}"#,
            r#"{"maxBodyBytes":1e30}"#,
        ] {
            let error = refused(json);
            let option = error.option.clone().unwrap();
            assert!(json.contains(&option), "{json}: {error}");
            assert!(
                error
                    .message
                    .starts_with(&format!("{option} must be a whole number")),
                "{json}: {error}"
            );
        }
        assert!(
            refused(r#"{"maxAttempts":1.5}"#)
                .message
                .ends_with("not 1.5")
        );
        let options =
            read(r#"{"maxAttempts":4294967295,"maxErrors":2.0,"maxBodyBytes":1e6}"#).unwrap();
        assert_eq!(options.max_attempts, Some(u32::MAX));
        assert_eq!(options.max_errors, Some(2));
        assert_eq!(options.max_body_bytes, Some(1_000_000));
    }

    #[test]
    fn headers_read_from_pairs_in_order_with_repeats_and_numbers() {
        let options =
            read(r#"{"headers":[["X-B","1"],["X-A","2"],["X-B",3],["X-C",0.5]]}"#).unwrap();
        assert_eq!(
            options.headers,
            pairs(&[("X-B", "1"), ("X-A", "2"), ("X-B", "3"), ("X-C", "0.5")])
        );
        let options = read(r#"{"headers":{"X-Count":42,"X-A":"a"}}"#).unwrap();
        assert!(
            options
                .headers
                .contains(&("X-Count".to_owned(), "42".to_owned()))
        );
        assert_eq!(read(r#"{"headers":[]}"#).unwrap().headers, []);
    }

    #[test]
    fn a_bad_header_names_it_or_its_place() {
        let error = refused(r#"{"headers":{"X-A":true}}"#);
        assert_eq!(error.option.as_deref(), Some("headers"));
        assert_eq!(
            error.message,
            "the value of header \"X-A\" must be a string or a number, not true"
        );
        let error = refused(r#"{"headers":[["X-A","1"],["X-B",{"n":1}]]}"#);
        assert!(error.message.contains("header \"X-B\""), "{error}");
        for (json, given) in [
            (r#"{"headers":[["X-A","1"],["X-B"]]}"#, "[\"X-B\"]"),
            (r#"{"headers":[["X-A","1","2"]]}"#, "[\"X-A\",\"1\",\"2\"]"),
            (r#"{"headers":[[5,"1"]]}"#, "[5,\"1\"]"),
            (r#"{"headers":["X-A: 1"]}"#, "\"X-A: 1\""),
        ] {
            let error = refused(json);
            assert_eq!(error.option.as_deref(), Some("headers"), "{json}");
            assert!(
                error.message.starts_with("headers[")
                    && error.message.contains("[name, value] pair"),
                "{json}: {error}"
            );
            assert!(
                error.message.ends_with(&format!("not {given}")),
                "{json}: {error}"
            );
        }
    }

    #[test]
    fn a_long_value_is_cut_in_the_message() {
        let long = "é".repeat(100);
        let error = refused(&format!(r#"{{"preset":["{long}"]}}"#));
        assert!(error.message.ends_with("..."), "{error}");
        assert!(error.message.chars().count() < 120, "{error}");
    }

    #[test]
    fn options_that_are_not_an_object_are_refused() {
        let error = refused("[1]");
        assert_eq!(error.option, None);
        assert_eq!(error.message, "options must be an object, not [1]");
    }

    #[test]
    fn refuse_names_what_the_option_wants() {
        let error = refuse("timeout", "NaN");
        assert_eq!(error.option.as_deref(), Some("timeout"));
        assert_eq!(
            error.message,
            "timeout must be a number of milliseconds, not NaN"
        );
        assert_eq!(
            refuse("intervl", "a function").message,
            "unknown option \"intervl\"; did you mean interval?"
        );
    }
}
