//! URL templates (`{id}`, `{id_path}`), their percent-encoding and resolution,
//! and URLs named by response headers.

use url::Url;

use super::{InterpretError, excerpt};

fn bad_url(value: &str, reason: &str) -> InterpretError {
    InterpretError::BadUrl {
        value: excerpt(value.as_bytes()),
        reason: reason.to_owned(),
    }
}

/// `id` percent-encoded: everything but the unreserved characters (and `/` when
/// `keep_slash`) becomes `%XX`.
fn percent_encode(id: &str, keep_slash: bool) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(id.len());
    for &byte in id.as_bytes() {
        if byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && byte == b'/')
        {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0F)]));
        }
    }
    out
}

/// `{id}`: one path segment. `.` and `..` would be dot segments after encoding
/// (they are unreserved), so they are refused like the empty id.
fn encode_segment(id: &str) -> Result<String, InterpretError> {
    if id.is_empty() || id == "." || id == ".." {
        return Err(bad_url(id, "the job id is not a usable path segment"));
    }
    Ok(percent_encode(id, false))
}

/// `{id_path}`: `/`-separated segments, none empty, `.` or `..`.
fn encode_path(id: &str) -> Result<String, InterpretError> {
    if id
        .split('/')
        .any(|segment| segment.is_empty() || segment == "." || segment == "..")
    {
        return Err(bad_url(id, "the job id path has an empty or dot segment"));
    }
    Ok(percent_encode(id, true))
}

/// A template filled with `id` and resolved against `base`; see [`Template`](super::Template).
pub(super) fn fill_template(
    template: &str,
    id: Option<&str>,
    base: &Url,
) -> Result<Url, InterpretError> {
    let wants_path = template.contains("{id_path}");
    let wants_segment = template.contains("{id}");
    let mut filled = template.to_owned();
    if wants_path || wants_segment {
        let Some(id) = id else {
            return Err(InterpretError::MissingField {
                pointer: "job id".to_owned(),
                excerpt: excerpt(template.as_bytes()),
            });
        };
        if wants_path {
            filled = filled.replace("{id_path}", &encode_path(id)?);
        }
        if wants_segment {
            filled = filled.replace("{id}", &encode_segment(id)?);
        }
    }
    resolve_template(&filled, base)
}

/// A filled template against `base`: `/...` against its origin, an absolute URL as
/// is, anything else as a child of `base`'s path.
fn resolve_template(reference: &str, base: &Url) -> Result<Url, InterpretError> {
    let url = if reference.starts_with('/') {
        let origin = base.origin();
        if !origin.is_tuple() {
            return Err(bad_url(base.as_str(), "the base URL has no origin"));
        }
        Url::parse(&format!("{}{reference}", origin.ascii_serialization()))
            .map_err(|e| bad_url(reference, &e.to_string()))?
    } else {
        match Url::parse(reference) {
            Ok(url) => url,
            Err(url::ParseError::RelativeUrlWithoutBase) => {
                let mut parent = base.clone();
                parent.set_query(None);
                parent.set_fragment(None);
                if !parent.path().ends_with('/') {
                    let path = format!("{}/", parent.path());
                    parent.set_path(&path);
                }
                parent
                    .join(reference)
                    .map_err(|e| bad_url(reference, &e.to_string()))?
            }
            Err(e) => return Err(bad_url(reference, &e.to_string())),
        }
    };
    require_http(url)
}

/// A header naming a URL, resolved against `base` as an RFC 3986 reference.
pub(super) fn header_url(value: &http::HeaderValue, base: &Url) -> Result<Url, InterpretError> {
    let text = value
        .to_str()
        .map_err(|_| {
            bad_url(
                &String::from_utf8_lossy(value.as_bytes()),
                "the header is not valid text",
            )
        })?
        .trim();
    if text.is_empty() {
        return Err(bad_url(text, "the header is empty"));
    }
    let url = base.join(text).map_err(|e| bad_url(text, &e.to_string()))?;
    require_http(url)
}

fn require_http(url: Url) -> Result<Url, InterpretError> {
    match url.scheme() {
        "http" | "https" if url.has_host() => Ok(url),
        _ => Err(bad_url(url.as_str(), "not an http(s) URL")),
    }
}

/// The job id in `url`, read by matching it against the status `template`
/// (`/tasks/{id}` finds `t1` in `https://h/tasks/t1`), so that a job polled by
/// URL alone can build its cancel and results URLs. `None` when the template has
/// no id or the URL does not match it.
pub(super) fn id_in_url(template: &str, url: &Url) -> Option<String> {
    // The template filled with a marker the encoding leaves alone shows what
    // comes before and after the id.
    const MARKER: &str = "JOBPOLLxID";
    let keeps_slash = template.contains("{id_path}");
    if !keeps_slash && !template.contains("{id}") {
        return None;
    }
    let filled = fill_template(template, Some(MARKER), url).ok()?;
    let (before, after) = filled.as_str().split_once(MARKER)?;
    if after.contains(MARKER) {
        return None;
    }
    let mut actual = url.clone();
    actual.set_fragment(None);
    let encoded = actual.as_str().strip_prefix(before)?.strip_suffix(after)?;
    // Only what the template's encoding writes: unreserved characters, `%XX`,
    // and `/` for an id path.
    let written = |b: u8| {
        b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~' | b'%')
            || (keeps_slash && b == b'/')
    };
    if encoded.is_empty() || !encoded.bytes().all(written) {
        return None;
    }
    let id = percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .ok()?;
    Some(id.into_owned())
}
