//! Server hints: how long the server asked us to wait before the next request.
//!
//! `Retry-After` (delay-seconds, or an HTTP-date measured against the response's own
//! `Date` header, RFC 9110 section 10.2.3), `retry-after-ms`, and the rate-limit
//! headers (`RateLimit`/`RateLimit-Policy` of draft-ietf-httpapi-ratelimit-headers, in
//! both the older `limit=, remaining=, reset=` form and the structured-field form
//! `"name";r=0;t=10`, plus the separate `RateLimit-Remaining`/`RateLimit-Reset`
//! headers). A hint is a lower bound on the next request; jitter never shortens it.

use core::time::Duration;
use std::time::SystemTime;

use http::header::{DATE, RETRY_AFTER};
use http::{HeaderMap, HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};

use crate::time::{serde_micros, whole_micros};

/// Which header a hint came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HintSource {
    /// `Retry-After: <seconds>`.
    RetryAfterSeconds,
    /// `Retry-After: <HTTP-date>`, measured against the `Date` header.
    RetryAfterDate,
    /// `retry-after-ms: <milliseconds>`.
    RetryAfterMs,
    /// An exhausted rate-limit budget (`remaining` 0) with its `reset`.
    RateLimit,
}

/// A wait the server asked for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerHint {
    /// How long to wait from the moment the response arrived.
    #[serde(with = "serde_micros")]
    pub delay: Duration,
    /// Where it came from.
    pub source: HintSource,
    /// When the server asked for more than the configured cap: what it asked for.
    /// `delay` is then the cap.
    #[serde(
        default,
        with = "serde_micros::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub capped_from: Option<Duration>,
}

/// A hint header that was present but could not be used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum HintProblem {
    /// The value does not parse.
    #[error("ignored unparseable {header} header {value:?}")]
    Unparseable {
        /// Header name.
        header: String,
        /// A short, safe excerpt of the value.
        value: String,
    },
    /// `Retry-After` is an HTTP-date but the response has no usable `Date` header to
    /// measure it against (the core has no wall clock).
    #[error(
        "ignored Retry-After date {value:?}: the response has no Date header to measure it against"
    )]
    DateWithoutDateHeader {
        /// A short, safe excerpt of the value.
        value: String,
    },
}

/// Everything the hint headers of one response say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hints {
    /// The longest wait any header asked for (all are lower bounds), capped.
    pub wait: Option<ServerHint>,
    /// Headers that were present but unusable.
    pub problems: Vec<HintProblem>,
}

/// Reads every hint header of a response. Never fails: unusable headers are reported
/// in [`Hints::problems`]. Waits longer than `cap` are cut to `cap` and say so in
/// [`ServerHint::capped_from`].
///
/// What counts:
///
/// - `Retry-After`: delay-seconds (`1*DIGIT`, surrounding whitespace tolerated), or an
///   HTTP-date in any of the three formats of RFC 9110 section 5.6.7, measured against
///   the first parseable `Date` header (a date in the past means no wait beyond zero).
/// - `retry-after-ms`: whole milliseconds (`1*DIGIT`).
/// - `RateLimit-Remaining` + `RateLimit-Reset`, `RateLimit: limit=, remaining=, reset=`
///   and `RateLimit: "name";r=;t=`: a wait of `reset`/`t` seconds only when the
///   remaining quota is 0. Without a usable reset, the window `w` of the matching
///   `RateLimit-Policy` (by name, else the longest window listed) stands in.
///
/// Of several values of one header the first usable one counts, except `RateLimit` and
/// `RateLimit-Policy`: those are structured-field lists, whose field lines combine, so
/// every line counts. Problems are reported for the values that were examined; a
/// `RateLimit-Reset` or `RateLimit-Policy` is only examined when a wait needs it.
/// Numbers saturate instead of overflowing and every duration is whole microseconds.
pub fn read_hints(headers: &http::HeaderMap, cap: Duration) -> Hints {
    let mut collector = Collector::default();
    let mut policies = Policies::default();
    read_retry_after(headers, &mut collector);
    read_retry_after_ms(headers, &mut collector);
    read_rate_limit_headers(headers, &mut collector, &mut policies);
    read_rate_limit_fields(headers, &mut collector, &mut policies);
    collector.finish(cap)
}

/// At most this many characters of a header value are quoted in a problem.
const EXCERPT_CHARS: usize = 64;

// Header names as constants: a lookup by `&str` parses the name on every call,
// and these are looked up on every response.
const RETRY_AFTER_MS: HeaderName = HeaderName::from_static("retry-after-ms");
const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
const RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
const RATELIMIT_RESET: HeaderName = HeaderName::from_static("ratelimit-reset");
const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

/// Gathers the longest wait and the problems seen on the way.
#[derive(Default)]
struct Collector {
    longest: Option<(Duration, HintSource)>,
    problems: Vec<HintProblem>,
}

impl Collector {
    /// Offers a wait; the longest one wins, and the first of equal ones.
    fn offer(&mut self, delay: Duration, source: HintSource) {
        let delay = whole_micros(delay);
        if self.longest.is_none_or(|(longest, _)| delay > longest) {
            self.longest = Some((delay, source));
        }
    }

    fn unparseable(&mut self, header: &str, value: &HeaderValue) {
        self.problems.push(HintProblem::Unparseable {
            header: header.to_owned(),
            value: excerpt(value),
        });
    }

    fn finish(self, cap: Duration) -> Hints {
        let cap = whole_micros(cap);
        let wait = self.longest.map(|(delay, source)| {
            if delay > cap {
                ServerHint {
                    delay: cap,
                    source,
                    capped_from: Some(delay),
                }
            } else {
                ServerHint {
                    delay,
                    source,
                    capped_from: None,
                }
            }
        });
        Hints {
            wait,
            problems: self.problems,
        }
    }
}

/// `Retry-After`: delay-seconds or an HTTP-date; the first usable value counts.
fn read_retry_after(headers: &HeaderMap, collector: &mut Collector) {
    const NAME: &str = "Retry-After";
    for value in headers.get_all(RETRY_AFTER) {
        let Some(text) = visible_ascii(value) else {
            collector.unparseable(NAME, value);
            continue;
        };
        if let Some(secs) = parse_uint(text) {
            collector.offer(secs_to_duration(secs), HintSource::RetryAfterSeconds);
            return;
        }
        let Ok(retry_at) = httpdate::parse_http_date(text) else {
            collector.unparseable(NAME, value);
            continue;
        };
        match response_date(headers) {
            Some(date) => {
                // A date at or before the response's own Date means "now".
                let delay = retry_at.duration_since(date).unwrap_or(Duration::ZERO);
                collector.offer(delay, HintSource::RetryAfterDate);
                return;
            }
            None => collector.problems.push(HintProblem::DateWithoutDateHeader {
                value: excerpt(value),
            }),
        }
    }
}

/// The first parseable `Date` header of the response.
fn response_date(headers: &HeaderMap) -> Option<SystemTime> {
    headers
        .get_all(DATE)
        .iter()
        .find_map(|value| httpdate::parse_http_date(visible_ascii(value)?).ok())
}

/// `retry-after-ms`: whole milliseconds; the first usable value counts.
fn read_retry_after_ms(headers: &HeaderMap, collector: &mut Collector) {
    if let Some(millis) = first_uint(headers, RETRY_AFTER_MS, "retry-after-ms", collector) {
        collector.offer(Duration::from_millis(millis), HintSource::RetryAfterMs);
    }
}

/// The separate `RateLimit-Remaining` / `RateLimit-Reset` headers of the early drafts.
fn read_rate_limit_headers(
    headers: &HeaderMap,
    collector: &mut Collector,
    policies: &mut Policies,
) {
    let remaining = first_uint(
        headers,
        RATELIMIT_REMAINING,
        "RateLimit-Remaining",
        collector,
    );
    if remaining != Some(0) {
        return;
    }
    let reset = first_uint(headers, RATELIMIT_RESET, "RateLimit-Reset", collector)
        .or_else(|| policies.window(headers, None, collector));
    if let Some(secs) = reset {
        collector.offer(secs_to_duration(secs), HintSource::RateLimit);
    }
}

/// Every line of the `RateLimit` field, in either the dictionary form
/// (`limit=10, remaining=0, reset=5`) or the list form (`"default";r=0;t=5`).
fn read_rate_limit_fields(headers: &HeaderMap, collector: &mut Collector, policies: &mut Policies) {
    const NAME: &str = "RateLimit";
    for value in headers.get_all(RATELIMIT) {
        let members = visible_ascii(value).and_then(parse_members);
        let Some(members) = members else {
            collector.unparseable(NAME, value);
            continue;
        };
        let mut saw_remaining = false;
        let mut malformed = false;
        // The dictionary form: one quota spread over several members.
        let mut dict_remaining = None;
        let mut dict_reset = None;
        for member in &members {
            match member.key_value() {
                Some((key, item)) => {
                    if key.eq_ignore_ascii_case("remaining") || key.eq_ignore_ascii_case("r") {
                        dict_remaining.get_or_insert(item);
                    } else if key.eq_ignore_ascii_case("reset") || key.eq_ignore_ascii_case("t") {
                        dict_reset.get_or_insert(item);
                    }
                }
                None => {
                    let Some(remaining) = member.param("r") else {
                        continue;
                    };
                    saw_remaining = true;
                    let (name, reset) = (member.name(), member.param("t"));
                    let result =
                        exhausted_wait(remaining, reset, name, headers, collector, policies);
                    malformed |= offer_rate_limit(result, collector);
                }
            }
        }
        if let Some(remaining) = dict_remaining {
            saw_remaining = true;
            let result = exhausted_wait(remaining, dict_reset, None, headers, collector, policies);
            malformed |= offer_rate_limit(result, collector);
        }
        if malformed || !saw_remaining {
            collector.unparseable(NAME, value);
        }
    }
}

/// The wait in seconds one quota asks for: `reset` when `remaining` is 0, else none.
/// A missing or malformed `reset` falls back to the policy window. `Err` means a
/// value was malformed (still carrying any wait the fallback found).
fn exhausted_wait(
    remaining: Option<&str>,
    reset: Option<Option<&str>>,
    name: Option<&str>,
    headers: &HeaderMap,
    collector: &mut Collector,
    policies: &mut Policies,
) -> Result<Option<u64>, Option<u64>> {
    match remaining.and_then(parse_uint) {
        None => return Err(None),
        Some(0) => {}
        Some(_) => return Ok(None),
    }
    match reset {
        Some(reset) => match reset.and_then(parse_uint) {
            Some(secs) => Ok(Some(secs)),
            None => Err(policies.window(headers, name, collector)),
        },
        None => Ok(policies.window(headers, name, collector)),
    }
}

/// Offers the wait of [`exhausted_wait`], if any; true when something was malformed.
fn offer_rate_limit(result: Result<Option<u64>, Option<u64>>, collector: &mut Collector) -> bool {
    let malformed = result.is_err();
    let (Ok(wait) | Err(wait)) = result;
    if let Some(secs) = wait {
        collector.offer(secs_to_duration(secs), HintSource::RateLimit);
    }
    malformed
}

/// One quota policy from `RateLimit-Policy` that names a window.
struct Policy {
    name: Option<String>,
    window: u64,
}

/// `RateLimit-Policy`, read only when a wait needs its window, and then only once.
#[derive(Default)]
struct Policies {
    read: Option<Vec<Policy>>,
}

impl Policies {
    /// The window `w` in seconds of the policy called `name`, else the longest window.
    fn window(
        &mut self,
        headers: &HeaderMap,
        name: Option<&str>,
        collector: &mut Collector,
    ) -> Option<u64> {
        let policies = self
            .read
            .get_or_insert_with(|| read_policies(headers, collector));
        let named = name.and_then(|name| {
            policies
                .iter()
                .find(|policy| policy.name.as_deref() == Some(name))
        });
        named
            .map(|policy| policy.window)
            .or_else(|| policies.iter().map(|policy| policy.window).max())
    }
}

/// Every line of `RateLimit-Policy` (`"default";q=100;w=60` or `10;w=60`). Policies
/// without a window are skipped; lines that do not parse, or whose `w` is not a
/// non-negative integer, are reported.
fn read_policies(headers: &HeaderMap, collector: &mut Collector) -> Vec<Policy> {
    let mut policies = Vec::new();
    for value in headers.get_all(RATELIMIT_POLICY) {
        let Some(members) = visible_ascii(value).and_then(parse_members) else {
            collector.unparseable("RateLimit-Policy", value);
            continue;
        };
        let mut malformed = false;
        for member in &members {
            let Some(window) = member.param("w") else {
                continue;
            };
            match window.and_then(parse_uint) {
                Some(window) => policies.push(Policy {
                    name: member.name().map(str::to_owned),
                    window,
                }),
                None => malformed = true,
            }
        }
        if malformed {
            collector.unparseable("RateLimit-Policy", value);
        }
    }
    policies
}

/// One member of a structured-field list or dictionary, parsed tolerantly: a head
/// (a bare item, or `key=value` in a dictionary) and its `;key=value` parameters.
struct Member<'a> {
    head: &'a str,
    params: Vec<(&'a str, Option<&'a str>)>,
}

impl<'a> Member<'a> {
    /// `key` and value when the head is a dictionary member `key=value`.
    fn key_value(&self) -> Option<(&'a str, Option<&'a str>)> {
        let (key, value) = self.head.split_once('=')?;
        let key = key.trim();
        is_key(key).then_some((key, Some(value.trim())))
    }

    /// The value of parameter `key` (`None` inside for a bare `;key`), if present.
    fn param(&self, key: &str) -> Option<Option<&'a str>> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|&(_, value)| value)
    }

    /// The item's name: a string without its quotes, or a token. Numbers (the quota
    /// of the older `RateLimit-Policy: 10;w=60`) name nothing.
    fn name(&self) -> Option<&'a str> {
        let head = self.head;
        if let Some(inner) = head
            .strip_prefix('"')
            .and_then(|rest| rest.strip_suffix('"'))
        {
            return Some(inner);
        }
        head.starts_with(|c: char| c.is_ascii_alphabetic() || c == '*')
            .then_some(head)
    }
}

/// A structured-field key (tolerating upper case): `( lcalpha / "*" ) *( lcalpha /
/// DIGIT / "_" / "-" / "." / "*" )`.
fn is_key(key: &str) -> bool {
    key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '*')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '*'))
}

/// Splits a field value into members and parameters; `None` when a quoted string
/// is not closed. Empty members are skipped.
fn parse_members(text: &str) -> Option<Vec<Member<'_>>> {
    let mut members = Vec::new();
    for member in split_outside_quotes(text, ',')? {
        let member = member.trim();
        if member.is_empty() {
            continue;
        }
        let mut parts = split_outside_quotes(member, ';')?
            .into_iter()
            .map(str::trim);
        let head = parts.next().unwrap_or_default();
        let params = parts
            .filter(|part| !part.is_empty())
            .map(|part| match part.split_once('=') {
                Some((key, value)) => (key.trim(), Some(value.trim())),
                None => (part, None),
            })
            .collect();
        members.push(Member { head, params });
    }
    Some(members)
}

/// Splits on `separator` outside quoted strings (which may hold `\"` escapes).
fn split_outside_quotes(text: &str, separator: char) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    let mut escaped = false;
    for (index, c) in text.char_indices() {
        if in_quotes {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_quotes = false;
            }
        } else if c == '"' {
            in_quotes = true;
        } else if c == separator {
            parts.push(&text[start..index]);
            start = index + c.len_utf8();
        }
    }
    if in_quotes {
        return None;
    }
    parts.push(&text[start..]);
    Some(parts)
}

/// The first value of `header` that is a non-negative integer, reporting the
/// unusable values before it.
fn first_uint(
    headers: &HeaderMap,
    header: HeaderName,
    display: &str,
    collector: &mut Collector,
) -> Option<u64> {
    for value in headers.get_all(header) {
        match visible_ascii(value).and_then(parse_uint) {
            Some(number) => return Some(number),
            None => collector.unparseable(display, value),
        }
    }
    None
}

/// The value without surrounding whitespace, if it is visible ASCII (tabs allowed).
fn visible_ascii(value: &HeaderValue) -> Option<&str> {
    value
        .to_str()
        .ok()
        .map(|text| text.trim_matches([' ', '\t']))
}

/// `1*DIGIT` as a number, saturating at `u64::MAX`; anything else (signs, fractions,
/// exponents, empty) is `None`.
fn parse_uint(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.bytes().fold(0u64, |number, digit| {
        number
            .saturating_mul(10)
            .saturating_add(u64::from(digit - b'0'))
    }))
}

/// Seconds as a whole-microsecond duration, saturating.
fn secs_to_duration(secs: u64) -> Duration {
    whole_micros(Duration::from_secs(secs))
}

/// A short, printable excerpt of a header value for problem reports: at most
/// [`EXCERPT_CHARS`] characters, invalid UTF-8 and control characters replaced by
/// U+FFFD, and a trailing `…` when cut.
fn excerpt(value: &HeaderValue) -> String {
    // Enough bytes for EXCERPT_CHARS + 1 characters of up to four bytes each.
    const PREFIX_BYTES: usize = (EXCERPT_CHARS + 1) * 4;
    let bytes = value.as_bytes();
    let prefix = &bytes[..bytes.len().min(PREFIX_BYTES)];
    let text = String::from_utf8_lossy(prefix);
    let chars: Vec<char> = text
        .trim()
        .chars()
        .take(EXCERPT_CHARS + 1)
        .map(|c| {
            if c.is_control() {
                char::REPLACEMENT_CHARACTER
            } else {
                c
            }
        })
        .collect();
    if chars.len() > EXCERPT_CHARS || bytes.len() > PREFIX_BYTES {
        let mut cut: String = chars.into_iter().take(EXCERPT_CHARS - 1).collect();
        cut.push('…');
        cut
    } else {
        chars.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use http::header::HeaderName;

    use super::*;

    const CAP: Duration = Duration::from_secs(24 * 3600);

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for &(name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).expect("valid test header name"),
                HeaderValue::from_str(value).expect("valid test header value"),
            );
        }
        map
    }

    fn wait(pairs: &[(&str, &str)]) -> Option<(Duration, HintSource)> {
        let hints = read_hints(&headers(pairs), CAP);
        assert_eq!(hints.problems, vec![], "unexpected problems for {pairs:?}");
        hints.wait.map(|hint| {
            assert_eq!(hint.capped_from, None);
            (hint.delay, hint.source)
        })
    }

    fn unparseable(header: &str, value: &str) -> HintProblem {
        HintProblem::Unparseable {
            header: header.to_owned(),
            value: value.to_owned(),
        }
    }

    fn secs(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }

    #[test]
    fn no_headers_no_hints() {
        assert_eq!(read_hints(&HeaderMap::new(), CAP), Hints::default());
        let unrelated = headers(&[("content-type", "application/json"), ("Date", "x")]);
        assert_eq!(read_hints(&unrelated, CAP), Hints::default());
    }

    #[test]
    fn retry_after_seconds() {
        use HintSource::RetryAfterSeconds as S;
        assert_eq!(wait(&[("Retry-After", "120")]), Some((secs(120), S)));
        assert_eq!(wait(&[("retry-after", "0")]), Some((Duration::ZERO, S)));
        assert_eq!(wait(&[("RETRY-AFTER", "007")]), Some((secs(7), S)));
        assert_eq!(wait(&[("Retry-After", " \t 30 \t")]), Some((secs(30), S)));
    }

    #[test]
    fn retry_after_rejects_negatives_fractions_and_garbage() {
        for value in ["-5", "1.5", "+5", "5s", "1e3", "soon", "", "5 6", "0x10"] {
            let hints = read_hints(&headers(&[("Retry-After", value)]), CAP);
            assert_eq!(hints.wait, None, "{value:?}");
            assert_eq!(
                hints.problems,
                vec![unparseable("Retry-After", value.trim())],
                "{value:?}"
            );
        }
    }

    #[test]
    fn retry_after_date_is_measured_against_the_date_header() {
        use HintSource::RetryAfterDate as D;
        let date = ("Date", "Sun, 06 Nov 1994 08:49:37 GMT");
        // IMF-fixdate.
        assert_eq!(
            wait(&[date, ("Retry-After", "Sun, 06 Nov 1994 08:51:07 GMT")]),
            Some((secs(90), D))
        );
        // The obsolete RFC 850 and asctime formats, which httpdate also parses.
        assert_eq!(
            wait(&[date, ("Retry-After", "Sunday, 06-Nov-94 08:50:37 GMT")]),
            Some((secs(60), D))
        );
        assert_eq!(
            wait(&[date, ("Retry-After", "Sun Nov  6 08:49:47 1994")]),
            Some((secs(10), D))
        );
        // The Date header may be obsolete too, and surrounding whitespace is fine.
        let old_date = ("Date", "Sun Nov  6 08:49:37 1994");
        assert_eq!(
            wait(&[
                old_date,
                ("Retry-After", "  Mon, 07 Nov 1994 08:49:37 GMT ")
            ]),
            Some((secs(24 * 3600), D))
        );
    }

    #[test]
    fn retry_after_date_in_the_past_is_zero() {
        let pairs = [
            ("Date", "Sun, 06 Nov 1994 08:49:37 GMT"),
            ("Retry-After", "Sat, 05 Nov 1994 08:49:37 GMT"),
        ];
        assert_eq!(
            wait(&pairs),
            Some((Duration::ZERO, HintSource::RetryAfterDate))
        );
        let same = [
            ("Date", "Sun, 06 Nov 1994 08:49:37 GMT"),
            ("Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT"),
        ];
        assert_eq!(
            wait(&same),
            Some((Duration::ZERO, HintSource::RetryAfterDate))
        );
    }

    #[test]
    fn retry_after_date_without_date_header_is_a_problem() {
        let retry = "Sun, 06 Nov 1994 08:51:07 GMT";
        let expected = vec![HintProblem::DateWithoutDateHeader {
            value: retry.to_owned(),
        }];
        let hints = read_hints(&headers(&[("Retry-After", retry)]), CAP);
        assert_eq!(
            hints,
            Hints {
                wait: None,
                problems: expected.clone()
            }
        );
        // An unparseable Date is no Date.
        let hints = read_hints(
            &headers(&[("Retry-After", retry), ("Date", "yesterday")]),
            CAP,
        );
        assert_eq!(
            hints,
            Hints {
                wait: None,
                problems: expected
            }
        );
        // A date with a wrong weekday is not a date.
        let hints = read_hints(
            &headers(&[("Retry-After", "Mon, 06 Nov 1994 08:51:07 GMT")]),
            CAP,
        );
        assert_eq!(
            hints.problems,
            vec![unparseable("Retry-After", "Mon, 06 Nov 1994 08:51:07 GMT")]
        );
    }

    #[test]
    fn the_first_usable_date_header_counts() {
        let pairs = [
            ("Date", "garbage"),
            ("Date", "Sun, 06 Nov 1994 08:49:37 GMT"),
            ("Date", "Sun, 06 Nov 1994 08:50:37 GMT"),
            ("Retry-After", "Sun, 06 Nov 1994 08:51:07 GMT"),
        ];
        assert_eq!(wait(&pairs), Some((secs(90), HintSource::RetryAfterDate)));
    }

    #[test]
    fn the_first_usable_value_of_a_header_counts() {
        let hints = read_hints(
            &headers(&[
                ("Retry-After", "soon"),
                ("Retry-After", "5"),
                ("Retry-After", "10"),
            ]),
            CAP,
        );
        assert_eq!(hints.wait.map(|h| h.delay), Some(secs(5)));
        assert_eq!(hints.problems, vec![unparseable("Retry-After", "soon")]);

        let hints = read_hints(
            &headers(&[
                ("retry-after-ms", "x"),
                ("retry-after-ms", "250"),
                ("retry-after-ms", "9000"),
            ]),
            CAP,
        );
        assert_eq!(
            hints.wait.map(|h| h.delay),
            Some(Duration::from_millis(250))
        );
        assert_eq!(hints.problems, vec![unparseable("retry-after-ms", "x")]);
    }

    #[test]
    fn retry_after_ms() {
        use HintSource::RetryAfterMs as M;
        assert_eq!(
            wait(&[("retry-after-ms", "1500")]),
            Some((Duration::from_millis(1500), M))
        );
        assert_eq!(
            wait(&[("Retry-After-Ms", " 0 ")]),
            Some((Duration::ZERO, M))
        );
        for value in ["1500.5", "-1", "1.5e3", "soon"] {
            let hints = read_hints(&headers(&[("retry-after-ms", value)]), CAP);
            assert_eq!(
                hints,
                Hints {
                    wait: None,
                    problems: vec![unparseable("retry-after-ms", value)]
                }
            );
        }
    }

    #[test]
    fn separate_rate_limit_headers() {
        use HintSource::RateLimit as R;
        assert_eq!(
            wait(&[("RateLimit-Remaining", "0"), ("RateLimit-Reset", "5")]),
            Some((secs(5), R))
        );
        assert_eq!(
            wait(&[
                ("ratelimit-limit", "10"),
                ("ratelimit-remaining", "3"),
                ("ratelimit-reset", "5")
            ]),
            None
        );
        // A reset without a remaining count, or a remaining count without reset or
        // policy, asks for nothing.
        assert_eq!(wait(&[("RateLimit-Reset", "5")]), None);
        assert_eq!(wait(&[("RateLimit-Remaining", "0")]), None);
        // Without a reset, the policy window stands in.
        assert_eq!(
            wait(&[
                ("RateLimit-Remaining", "0"),
                ("RateLimit-Policy", "10;w=60")
            ]),
            Some((secs(60), R))
        );
        // A garbage reset is reported, and the window still stands in.
        let hints = read_hints(
            &headers(&[
                ("RateLimit-Remaining", "0"),
                ("RateLimit-Reset", "later"),
                ("RateLimit-Policy", "10;w=60"),
            ]),
            CAP,
        );
        assert_eq!(hints.wait.map(|h| (h.delay, h.source)), Some((secs(60), R)));
        assert_eq!(
            hints.problems,
            vec![unparseable("RateLimit-Reset", "later")]
        );
        // A garbage remaining count is reported and asks for nothing.
        let hints = read_hints(
            &headers(&[("RateLimit-Remaining", "none"), ("RateLimit-Reset", "5")]),
            CAP,
        );
        assert_eq!(
            hints,
            Hints {
                wait: None,
                problems: vec![unparseable("RateLimit-Remaining", "none")]
            }
        );
    }

    #[test]
    fn combined_dictionary_rate_limit() {
        use HintSource::RateLimit as R;
        assert_eq!(
            wait(&[("RateLimit", "limit=10, remaining=0, reset=5")]),
            Some((secs(5), R))
        );
        assert_eq!(
            wait(&[("RateLimit", "reset=7,remaining=0,limit=10")]),
            Some((secs(7), R))
        );
        assert_eq!(
            wait(&[("RateLimit", "limit=10, remaining=1, reset=5")]),
            None
        );
        assert_eq!(
            wait(&[
                ("RateLimit", "limit=10, remaining=0"),
                ("RateLimit-Policy", "10;w=30")
            ]),
            Some((secs(30), R))
        );
        let hints = read_hints(
            &headers(&[("RateLimit", "limit=10, remaining=zero, reset=5")]),
            CAP,
        );
        assert_eq!(hints.wait, None);
        assert_eq!(
            hints.problems,
            vec![unparseable(
                "RateLimit",
                "limit=10, remaining=zero, reset=5"
            )]
        );
    }

    #[test]
    fn structured_list_rate_limit() {
        use HintSource::RateLimit as R;
        assert_eq!(
            wait(&[("RateLimit", "\"default\";r=0;t=5")]),
            Some((secs(5), R))
        );
        assert_eq!(wait(&[("RateLimit", "\"default\";r=50;t=30")]), None);
        // Any exhausted item counts; quoted names may hold separators; unknown
        // parameters such as a partition key are ignored.
        assert_eq!(
            wait(&[(
                "RateLimit",
                "\"a,b;c\";r=0;t=7, \"day\";r=10;t=80000, burst;r=0;t=2;pk=:cHsdsRa894==:"
            )]),
            Some((secs(7), R))
        );
        // Field lines of a list combine.
        assert_eq!(
            wait(&[
                ("RateLimit", "\"burst\";r=5;t=1"),
                ("RateLimit", "\"daily\";r=0;t=3600")
            ]),
            Some((secs(3600), R))
        );
        // Without `t`, the window of the policy with the same name stands in.
        assert_eq!(
            wait(&[
                ("RateLimit", "\"daily\";r=0"),
                (
                    "RateLimit-Policy",
                    "\"burst\";q=10;w=1, \"daily\";q=1000;w=86400, \"hourly\";q=100;w=3600"
                ),
            ]),
            Some((secs(86400), R))
        );
        // An exhausted item with neither reset nor policy asks for nothing.
        assert_eq!(wait(&[("RateLimit", "\"default\";r=0")]), None);
    }

    #[test]
    fn policy_alone_asks_for_nothing() {
        assert_eq!(
            wait(&[("RateLimit-Policy", "\"default\";q=100;w=60")]),
            None
        );
        assert_eq!(wait(&[("RateLimit-Policy", "10;w=60, 100;w=3600")]), None);
        // Not even read when no wait needs it.
        assert_eq!(wait(&[("RateLimit-Policy", "\"unterminated")]), None);
    }

    #[test]
    fn malformed_rate_limit_values_are_reported() {
        for value in [
            "garbage",
            "\"default\";t=5",
            "\"default\";r=-1;t=5",
            "\"default\";r=0.0;t=5",
            "\"open;r=0;t=5",
            "",
        ] {
            let hints = read_hints(&headers(&[("RateLimit", value)]), CAP);
            assert_eq!(hints.wait, None, "{value:?}");
            assert_eq!(
                hints.problems,
                vec![unparseable("RateLimit", value)],
                "{value:?}"
            );
        }
        // A malformed `t` is reported and the policy window stands in.
        let hints = read_hints(
            &headers(&[
                ("RateLimit", "\"default\";r=0;t=soon"),
                ("RateLimit-Policy", "\"default\";q=5;w=9;x=\"\\\"\""),
            ]),
            CAP,
        );
        assert_eq!(hints.wait.map(|h| h.delay), Some(secs(9)));
        assert_eq!(
            hints.problems,
            vec![unparseable("RateLimit", "\"default\";r=0;t=soon")]
        );
        // A malformed policy is reported when its window is needed.
        let hints = read_hints(
            &headers(&[
                ("RateLimit", "\"default\";r=0"),
                ("RateLimit-Policy", "\"default\";q=5;w=x"),
            ]),
            CAP,
        );
        assert_eq!(
            hints,
            Hints {
                wait: None,
                problems: vec![unparseable("RateLimit-Policy", "\"default\";q=5;w=x")]
            }
        );
    }

    #[test]
    fn the_longest_wait_wins() {
        let pairs = [
            ("Retry-After", "5"),
            ("retry-after-ms", "8000"),
            ("RateLimit", "\"default\";r=0;t=3"),
            ("RateLimit-Remaining", "0"),
            ("RateLimit-Reset", "6"),
        ];
        assert_eq!(wait(&pairs), Some((secs(8), HintSource::RetryAfterMs)));
        let pairs = [
            ("Retry-After", "5"),
            ("retry-after-ms", "4999"),
            ("RateLimit", "remaining=0, reset=10"),
        ];
        assert_eq!(wait(&pairs), Some((secs(10), HintSource::RateLimit)));
        // On a tie, Retry-After (read first) keeps it.
        let pairs = [("Retry-After", "5"), ("retry-after-ms", "5000")];
        assert_eq!(wait(&pairs), Some((secs(5), HintSource::RetryAfterSeconds)));
        // Problems do not stop the other headers from counting.
        let hints = read_hints(
            &headers(&[("Retry-After", "soon"), ("retry-after-ms", "300")]),
            CAP,
        );
        assert_eq!(
            hints.wait.map(|h| h.delay),
            Some(Duration::from_millis(300))
        );
        assert_eq!(hints.problems.len(), 1);
    }

    #[test]
    fn waits_beyond_the_cap_are_capped() {
        let hints = read_hints(&headers(&[("Retry-After", "3600")]), secs(60));
        let expected = ServerHint {
            delay: secs(60),
            source: HintSource::RetryAfterSeconds,
            capped_from: Some(secs(3600)),
        };
        assert_eq!(
            hints,
            Hints {
                wait: Some(expected),
                problems: vec![]
            }
        );
        // Exactly the cap is not capped.
        let hints = read_hints(&headers(&[("Retry-After", "60")]), secs(60));
        assert_eq!(hints.wait.and_then(|h| h.capped_from), None);
        // The cap itself is cut to whole microseconds.
        let hints = read_hints(&headers(&[("Retry-After", "5")]), Duration::new(1, 999));
        let hint = hints.wait.expect("a wait");
        assert_eq!((hint.delay, hint.capped_from), (secs(1), Some(secs(5))));
    }

    #[test]
    fn huge_numbers_saturate_and_get_capped() {
        let saturated = Duration::from_micros(u64::MAX);
        let huge = "99999999999999999999999999999999999999";
        for (name, value) in [
            ("Retry-After", huge.to_owned()),
            ("retry-after-ms", huge.to_owned()),
            ("RateLimit", format!("\"default\";r=0;t={huge}")),
            ("RateLimit", format!("remaining=0, reset={huge}")),
            ("Retry-After", "9".repeat(10_000)),
        ] {
            let hints = read_hints(&headers(&[(name, &value)]), secs(300));
            let hint = hints.wait.expect("a wait");
            assert_eq!(
                (hint.delay, hint.capped_from),
                (secs(300), Some(saturated)),
                "{name}: {value}"
            );
            assert!(hints.problems.is_empty());
            let uncapped = read_hints(&headers(&[(name, &value)]), Duration::MAX);
            assert_eq!(
                uncapped.wait.map(|h| (h.delay, h.capped_from)),
                Some((saturated, None))
            );
        }
        // A date far in the future is a long but exact wait.
        let pairs = [
            ("Date", "Sun, 06 Nov 1994 08:49:37 GMT"),
            ("Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT"),
        ];
        let hint = read_hints(&headers(&pairs), secs(300))
            .wait
            .expect("a wait");
        assert_eq!(hint.delay, secs(300));
        assert!(
            hint.capped_from
                .is_some_and(|asked| asked > secs(250_000_000_000))
        );
        // A huge remaining count is simply not exhausted.
        assert_eq!(
            wait(&[("RateLimit", &format!("\"default\";r={huge};t=5"))]),
            None
        );
        assert_eq!(
            wait(&[("RateLimit-Remaining", huge), ("RateLimit-Reset", "5")]),
            None
        );
    }

    #[test]
    fn non_utf8_values_are_reported_safely() {
        for name in [
            "Retry-After",
            "retry-after-ms",
            "RateLimit",
            "RateLimit-Remaining",
        ] {
            let mut map = HeaderMap::new();
            let bytes = HeaderValue::from_bytes(&[0xff, 0xfe]).expect("obs-text is a valid value");
            map.insert(
                HeaderName::from_bytes(name.as_bytes()).expect("name"),
                bytes,
            );
            let hints = read_hints(&map, CAP);
            assert_eq!(hints.wait, None);
            assert_eq!(
                hints.problems,
                vec![unparseable(name, "\u{fffd}\u{fffd}")],
                "{name}"
            );
        }
        // Valid UTF-8 that is not ASCII is no number either.
        let mut map = HeaderMap::new();
        let value = HeaderValue::from_bytes("５".as_bytes()).expect("obs-text is a valid value");
        map.insert(RETRY_AFTER, value);
        assert_eq!(
            read_hints(&map, CAP).problems,
            vec![unparseable("Retry-After", "５")]
        );
        // A non-UTF-8 Date is no Date.
        let mut map = headers(&[("Retry-After", "Sun, 06 Nov 1994 08:51:07 GMT")]);
        map.insert(
            DATE,
            HeaderValue::from_bytes(b"Sun, 06 Nov 1994 08:49:37 GMT\xff").expect("value"),
        );
        assert!(matches!(
            read_hints(&map, CAP).problems[..],
            [HintProblem::DateWithoutDateHeader { .. }]
        ));
    }

    #[test]
    fn excerpts_are_short_and_printable() {
        let long = "x".repeat(10_000);
        let hints = read_hints(&headers(&[("Retry-After", &long)]), CAP);
        let [HintProblem::Unparseable { header, value }] = &hints.problems[..] else {
            panic!("expected one problem, got {:?}", hints.problems);
        };
        assert_eq!(header, "Retry-After");
        assert_eq!(value.chars().count(), EXCERPT_CHARS);
        assert_eq!(value, &format!("{}…", "x".repeat(EXCERPT_CHARS - 1)));

        // Exactly 64 characters fit uncut.
        let fits = "y".repeat(EXCERPT_CHARS);
        let hints = read_hints(&headers(&[("Retry-After", &fits)]), CAP);
        assert_eq!(hints.problems, vec![unparseable("Retry-After", &fits)]);

        // Control characters (a tab is the only one a `HeaderValue` can hold) and
        // long runs of non-UTF-8 bytes.
        let hints = read_hints(&headers(&[("Retry-After", "a\tb")]), CAP);
        assert_eq!(
            hints.problems,
            vec![unparseable("Retry-After", "a\u{fffd}b")]
        );
        let mut map = HeaderMap::new();
        map.insert(
            RETRY_AFTER,
            HeaderValue::from_bytes(&[0x80; 5000]).expect("value"),
        );
        let problems = read_hints(&map, CAP).problems;
        let [HintProblem::Unparseable { value, .. }] = &problems[..] else {
            panic!("expected one problem, got {problems:?}");
        };
        assert_eq!(value.chars().count(), EXCERPT_CHARS);
        assert!(value.chars().all(|c| c == '\u{fffd}' || c == '…'));
    }

    #[test]
    fn hints_serialize_in_whole_microseconds() {
        let hint = read_hints(&headers(&[("Retry-After", "3600")]), secs(60))
            .wait
            .expect("a wait");
        let json = serde_json::to_value(&hint).expect("serializes");
        assert_eq!(
            json,
            serde_json::json!({"delay": 60_000_000, "source": "retry_after_seconds", "capped_from": 3_600_000_000u64})
        );
        let back: ServerHint = serde_json::from_value(json).expect("deserializes");
        assert_eq!(back, hint);
    }
}
