//! Removing secrets from what a trace records: one scanner finds the secret parts
//! of any text (a header value, a body, a URL, a string inside an output), and every
//! record goes through it.
//!
//! Secret parts are overwritten in place with `*`, one per character, so that the
//! text keeps its length and its shape: a job quotes bodies and header values in
//! excerpts cut at a fixed number of characters, and a replay, which feeds the job
//! the masked input, must quote the same characters again for the redacted outputs
//! to agree. Masking is idempotent, which replay relies on too.

use std::borrow::Cow;
use std::ops::Range;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::job::{Input, JobSpec, Output, Start, Transmit};

use super::{REDACTED, RecordedBytes, RecordedInput};

/// The character secret parts are overwritten with.
const MASK: u8 = b'*';
/// What an excerpt ends with when it was cut.
const CUT: &str = "…";

/// Removes secrets from records, wherever they appear.
///
/// * The value of a header named in [`Redactor::headers`] is replaced whole, in the
///   spec, in requests and in responses.
/// * In any other text (header values such as `Location`, `Link`,
///   `Operation-Location` or `Content-Location`, bodies, URLs, and every string an
///   output carries): the value of a query or fragment parameter named in
///   [`Redactor::query_params`], in absolute and relative URLs alike (`?sig=…`,
///   `&token=…`, `#access_token=…`, also JSON-escaped as `\u0026`); the userinfo of
///   a URL (`//user:password@`, unless [`Redactor::userinfo`] is off); and every
///   occurrence of a string in [`Redactor::values`]. These are overwritten with
///   `*`, one per character, in place.
/// * Bodies are recorded masked the same way; a secret is still found in a body
///   only in these forms (a URL's parameter or userinfo, or a configured value):
///   a JSON member named like a secret (`"access_token": "…"`) is kept, since a
///   profile may move its value elsewhere in what the job reports.
///
/// Redaction is idempotent, and redacting what a job says about a redacted input
/// gives what redacting its words about the original gives, which replay relies on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redactor {
    /// Header names whose values are secret (compared case-insensitively).
    pub headers: Vec<String>,
    /// Query parameter names whose values are secret (compared case-insensitively,
    /// after percent-decoding).
    pub query_params: Vec<String>,
    /// Secret strings (API keys, passwords) masked wherever they occur. Empty
    /// strings are ignored.
    #[serde(default)]
    pub values: Vec<String>,
    /// Whether the userinfo of URLs (`user:password@`) is masked.
    #[serde(default = "masked")]
    pub userinfo: bool,
}

/// The default of [`Redactor::userinfo`] for redactors saved without it.
fn masked() -> bool {
    true
}

impl Default for Redactor {
    fn default() -> Redactor {
        let headers = [
            "authorization",
            "proxy-authorization",
            "cookie",
            "set-cookie",
            "x-api-key",
            "api-key",
            "x-auth-token",
            "x-amz-security-token",
        ];
        let query_params = [
            "token",
            "access_token",
            "refresh_token",
            "id_token",
            "api_key",
            "apikey",
            "key",
            "sig",
            "signature",
            "secret",
            "client_secret",
            "password",
            "code",
            "x-amz-signature",
            "x-amz-credential",
            "x-amz-security-token",
        ];
        Redactor {
            headers: headers.iter().map(|s| (*s).to_owned()).collect(),
            query_params: query_params.iter().map(|s| (*s).to_owned()).collect(),
            values: Vec::new(),
            userinfo: true,
        }
    }
}

impl Redactor {
    /// A redactor that keeps everything (for private traces).
    pub fn none() -> Redactor {
        Redactor {
            headers: Vec::new(),
            query_params: Vec::new(),
            values: Vec::new(),
            userinfo: false,
        }
    }

    /// The same redactor, also masking `value` wherever it occurs.
    pub fn with_value(mut self, value: impl Into<String>) -> Redactor {
        self.values.push(value.into());
        self
    }

    /// The same redactor, also masking wherever they occur the secrets among
    /// `headers` (the headers a caller sends): the value of every header it hides
    /// by name, and the credentials after that value's scheme (`Bearer TOKEN`:
    /// `TOKEN`), so that a server echoing a token in a body does not leak it.
    pub fn with_header_secrets(mut self, headers: &[(String, String)]) -> Redactor {
        for (name, value) in headers {
            if !self.secret_header(name) {
                continue;
            }
            self.values.push(value.clone());
            if let Some((_, credentials)) = value.split_once(' ')
                && credentials.trim().len() >= 4
            {
                self.values.push(credentials.trim().to_owned());
            }
        }
        self
    }

    fn secret_header(&self, name: &str) -> bool {
        self.headers.iter().any(|h| h.eq_ignore_ascii_case(name))
    }

    fn secret_param(&self, name: &[u8]) -> bool {
        let decoded = percent_decode(name);
        self.query_params
            .iter()
            .any(|p| p.as_bytes().eq_ignore_ascii_case(&decoded))
    }

    /// `text` with its secret parts masked.
    pub fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match self.mask(text.as_bytes(), false, true) {
            // Only ASCII is written, and only over whole characters.
            Cow::Owned(bytes) => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
            Cow::Borrowed(_) => Cow::Borrowed(text),
        }
    }

    /// `url` with its secret parts masked: secret query and fragment values and the
    /// userinfo.
    pub fn url(&self, url: &Url) -> Url {
        match self.text(url.as_str()) {
            Cow::Borrowed(_) => url.clone(),
            Cow::Owned(text) => Url::parse(&text).unwrap_or_else(|_| {
                // Masks keep a URL's shape; should one not parse, keep no part of
                // it that may hold a secret.
                let mut bare = url.clone();
                bare.set_query(None);
                bare.set_fragment(None);
                let _ = bare.set_username("");
                let _ = bare.set_password(None);
                bare
            }),
        }
    }

    /// A header value with secrets removed: the whole value for a secret header,
    /// the secret parts of any other.
    fn header_value(&self, name: &str, value: &[u8]) -> RecordedBytes {
        if self.secret_header(name) {
            return RecordedBytes::Text(REDACTED.to_owned());
        }
        RecordedBytes::new(&self.mask(value, false, true))
    }

    fn redact_headers(&self, headers: &[(String, String)]) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|(name, value)| {
                let value = if self.secret_header(name) {
                    REDACTED.to_owned()
                } else {
                    self.text(value).into_owned()
                };
                (name.clone(), value)
            })
            .collect()
    }

    /// The spec with secrets removed.
    pub fn spec<P: Clone>(&self, spec: &JobSpec<P>) -> JobSpec<P> {
        let start = match &spec.start {
            Start::Poll { status_url, job_id } => Start::Poll {
                status_url: self.url(status_url),
                job_id: job_id.as_deref().map(|id| self.text(id).into_owned()),
            },
            Start::Submit { method, url, body } => Start::Submit {
                method: method.clone(),
                url: self.url(url),
                body: body.as_deref().map(|body| self.text(body).into_owned()),
            },
        };
        JobSpec {
            profile: spec.profile.clone(),
            start,
            headers: self.redact_headers(&spec.headers),
        }
    }

    /// Whether this redactor changes nothing ([`Redactor::none`]).
    fn keeps_everything(&self) -> bool {
        self.headers.is_empty()
            && self.query_params.is_empty()
            && self.values.iter().all(String::is_empty)
            && !self.userinfo
    }

    /// The output with secrets removed.
    pub fn output(&self, output: &Output) -> Output {
        if self.keeps_everything() {
            return output.clone();
        }
        match output {
            Output::Transmit(transmit) => Output::Transmit(Transmit {
                url: self.url(&transmit.url),
                headers: self.redact_headers(&transmit.headers),
                body: transmit
                    .body
                    .as_deref()
                    .map(|body| self.text(body).into_owned()),
                ..transmit.clone()
            }),
            Output::Event(_) | Output::Finished(_) => {
                // Every string an event or outcome carries (URLs, results, messages,
                // excerpts of bodies) may hold a secret: mask them all. A configured
                // value that is also a word of the format itself (an event's name)
                // would leave the masked form unreadable: then the rest is masked.
                for literals in [true, false] {
                    // Through the JSON text, as snapshots and traces are written:
                    // one serializer of outputs instead of two where code size
                    // counts (the browser package).
                    let Ok(mut value) = serde_json::to_string(output)
                        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text))
                    else {
                        break;
                    };
                    if !self.value(&mut value, literals) {
                        break;
                    }
                    if let Ok(masked) = serde_json::from_value(value) {
                        return masked;
                    }
                }
                output.clone()
            }
            Output::Abort(_) | Output::WakeAt(_) | Output::Done => output.clone(),
        }
    }

    /// Masks the secrets in every string of `value`; whether any changed.
    fn value(&self, value: &mut serde_json::Value, literals: bool) -> bool {
        use serde_json::Value;
        match value {
            Value::String(text) => match self.mask(text.as_bytes(), true, literals) {
                Cow::Owned(bytes) => {
                    *text = String::from_utf8_lossy(&bytes).into_owned();
                    true
                }
                Cow::Borrowed(_) => false,
            },
            Value::Array(items) => items
                .iter_mut()
                .fold(false, |changed, item| self.value(item, literals) | changed),
            Value::Object(members) => members
                .values_mut()
                .fold(false, |changed, item| self.value(item, literals) | changed),
            Value::Null | Value::Bool(_) | Value::Number(_) => false,
        }
    }

    /// The input as a record, with secrets removed.
    pub fn input(&self, input: &Input) -> RecordedInput {
        match input {
            Input::Response {
                request,
                response,
                now,
            } => RecordedInput::Response {
                request: *request,
                status: response.status().as_u16(),
                headers: response
                    .headers()
                    .iter()
                    .map(|(name, value)| {
                        (
                            name.as_str().to_owned(),
                            self.header_value(name.as_str(), value.as_bytes()),
                        )
                    })
                    .collect(),
                body: RecordedBytes::new(&self.mask(response.body(), false, true)),
                now: *now,
            },
            Input::TransportError {
                request,
                error,
                now,
            } => RecordedInput::TransportError {
                request: *request,
                error: error.clone(),
                now: *now,
            },
            Input::Tick { now } => RecordedInput::Tick { now: *now },
            Input::Cancel { now } => RecordedInput::Cancel { now: *now },
        }
    }

    /// `bytes` with every secret part overwritten by `*`, one per character (per
    /// byte where the part is not UTF-8). `excerpt`: the text may be an excerpt cut
    /// short (it ends with `…`), so a secret it ends in the middle of is masked too.
    /// `literals`: whether the configured values are looked for.
    fn mask<'a>(&self, bytes: &'a [u8], excerpt: bool, literals: bool) -> Cow<'a, [u8]> {
        let mut spans = Vec::new();
        if literals {
            self.literal_spans(bytes, excerpt, &mut spans);
        }
        if !self.query_params.is_empty() {
            self.param_spans(bytes, &mut spans);
        }
        if self.userinfo {
            userinfo_spans(bytes, excerpt, &mut spans);
        }
        spans.retain(|span| bytes[span.clone()].iter().any(|&b| b != MASK));
        if spans.is_empty() {
            return Cow::Borrowed(bytes);
        }
        spans.sort_by_key(|span| span.start);
        let mut out = Vec::with_capacity(bytes.len());
        let mut at = 0;
        for span in spans {
            let start = span.start.max(at);
            if start >= span.end {
                continue;
            }
            out.extend_from_slice(&bytes[at..start]);
            let part = &bytes[start..span.end];
            let count = std::str::from_utf8(part).map_or(part.len(), |s| s.chars().count());
            out.extend(std::iter::repeat_n(MASK, count));
            at = span.end;
        }
        out.extend_from_slice(&bytes[at..]);
        Cow::Owned(out)
    }

    /// Every occurrence of a secret string; in an excerpt, also a start of one that
    /// the cut ends.
    fn literal_spans(&self, bytes: &[u8], excerpt: bool, spans: &mut Vec<Range<usize>>) {
        let cut_at = excerpt.then(|| cut(bytes)).flatten();
        for value in self.values.iter().map(String::as_bytes) {
            if value.is_empty() {
                continue;
            }
            let mut from = 0;
            while let Some(at) = find(&bytes[from..], value) {
                spans.push(from + at..from + at + value.len());
                from += at + 1;
            }
            if let Some(end) = cut_at {
                // The longest proper start of the secret the text ends with.
                let longest = (1..value.len().min(end + 1))
                    .rev()
                    .find(|&n| bytes[..end].ends_with(&value[..n]));
                if let Some(n) = longest {
                    spans.push(end - n..end);
                }
            }
        }
    }

    /// Values of secret parameters after `?`, `&`, `#` or `;` (or `\u0026`,
    /// `\u003f`, JSON's escapes of `&` and `?`).
    fn param_spans(&self, bytes: &[u8], spans: &mut Vec<Range<usize>>) {
        let mut at = 0;
        while at < bytes.len() {
            let start = match bytes[at] {
                b'?' | b'&' | b'#' | b';' => at + 1,
                b'\\' if escaped_separator(&bytes[at..]) => at + 6,
                _ => {
                    at += 1;
                    continue;
                }
            };
            let name_end = start
                + bytes[start..]
                    .iter()
                    .position(|&b| {
                        b == b'='
                            || b == b'&'
                            || b == b'?'
                            || b == b'#'
                            || b == b';'
                            || ends_value(b)
                    })
                    .unwrap_or(bytes.len() - start);
            if bytes.get(name_end) == Some(&b'=')
                && name_end > start
                && self.secret_param(&bytes[start..name_end])
            {
                let value_start = name_end + 1;
                let value_end = value_start
                    + bytes[value_start..]
                        .iter()
                        .position(|&b| b == b'&' || b == b'#' || b == b';' || ends_value(b))
                        .unwrap_or(bytes.len() - value_start);
                spans.push(value_start..value_end);
                at = value_end;
            } else {
                at = start;
            }
        }
    }
}

/// The userinfo after `//` (or JSON's `\/\/`): the part of the authority before its
/// last `@`. In an excerpt, an authority the cut ends is masked whole: it may be a
/// userinfo whose `@` was cut off.
fn userinfo_spans(bytes: &[u8], excerpt: bool, spans: &mut Vec<Range<usize>>) {
    let cut_at = excerpt.then(|| cut(bytes)).flatten();
    let mut at = 0;
    while at + 1 < bytes.len() {
        let start = if bytes[at..].starts_with(b"//") {
            at + 2
        } else if bytes[at..].starts_with(b"\\/\\/") {
            at + 4
        } else {
            at += 1;
            continue;
        };
        let len = bytes[start..]
            .iter()
            .position(|&b| matches!(b, b'/' | b'\\' | b'?' | b'#') || ends_value(b))
            .unwrap_or(bytes.len() - start);
        let end = start + len;
        if let Some(last_at) = bytes[start..end].iter().rposition(|&b| b == b'@') {
            spans.push(start..start + last_at);
        } else if cut_at == Some(end) {
            spans.push(start..end);
        }
        at = end.max(at + 1);
    }
}

/// Whether `byte` ends a parameter value or an authority: whitespace, controls,
/// quotes, angle brackets, a backslash (an escape in JSON) and non-ASCII.
fn ends_value(byte: u8) -> bool {
    byte <= b' ' || byte >= 0x7f || matches!(byte, b'"' | b'\'' | b'`' | b'<' | b'>' | b'\\')
}

/// `\u0026` or `\u003f` (any case) at the start of `bytes`.
fn escaped_separator(bytes: &[u8]) -> bool {
    bytes.len() >= 6
        && (bytes[..6].eq_ignore_ascii_case(b"\\u0026")
            || bytes[..6].eq_ignore_ascii_case(b"\\u003f"))
}

/// Where the text before a trailing `…` ends, if it has one.
fn cut(bytes: &[u8]) -> Option<usize> {
    bytes
        .ends_with(CUT.as_bytes())
        .then(|| bytes.len() - CUT.len())
}

/// The first occurrence of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// `%XX` decoded and `+` read as a space, as in a query.
fn percent_decode(name: &[u8]) -> Cow<'_, [u8]> {
    if !name.iter().any(|&b| b == b'%' || b == b'+') {
        return Cow::Borrowed(name);
    }
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(name.len());
    let mut i = 0;
    while i < name.len() {
        match name[i] {
            b'%' => match (
                name.get(i + 1).and_then(|&b| hex(b)),
                name.get(i + 2).and_then(|&b| hex(b)),
            ) {
                (Some(high), Some(low)) => {
                    out.push((high * 16 + low) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    Cow::Owned(out)
}
