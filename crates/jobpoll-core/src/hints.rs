//! Server hints: how long the server asked us to wait before the next request.
//!
//! `Retry-After` (delay-seconds, or an HTTP-date measured against the response's own
//! `Date` header, RFC 9110 section 10.2.3), `retry-after-ms`, and the rate-limit
//! headers (`RateLimit`/`RateLimit-Policy` of draft-ietf-httpapi-ratelimit-headers, in
//! both the older `limit=, remaining=, reset=` form and the structured-field form
//! `"name";r=0;t=10`, plus the separate `RateLimit-Remaining`/`RateLimit-Reset`
//! headers). A hint is a lower bound on the next request; jitter never shortens it.
//! The job sends its next request when the wait an answer asked for ends (plus a
//! small spread), rather than after a longer schedule delay.

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

/// The wait of an exhausted `RateLimit` budget alone (the `RateLimit` field, or
/// `RateLimit-Remaining: 0` with its reset or policy window), capped at `cap`:
/// what [`read_hints`] would find in these headers without `Retry-After` or
/// `retry-after-ms`. A budget is about the server's whole load, whatever the answer's
/// status, where a `Retry-After` on a 2xx only paces the one job that got it.
pub fn read_rate_limit(headers: &http::HeaderMap, cap: Duration) -> Hints {
    let mut collector = Collector::default();
    let mut policies = Policies::default();
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
mod tests;
