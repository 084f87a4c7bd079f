//! What `fetch` brings back, in the core's terms: a response as an
//! `http::Response<Bytes>`, a failure as a [`TransportError`].
//!
//! The functions here take plain Rust values (what the driver reads off the
//! JavaScript objects), so they build and are tested on every target.

use bytes::Bytes;
use jobpoll_core::TransportError;

/// Error codes (Node's `error.cause.code`) that mean the connection was never
/// made: the request was certainly not sent.
const CONNECT_CODES: [&str; 7] = [
    "ECONNREFUSED",
    "ENOTFOUND",
    "EAI_AGAIN",
    "EHOSTUNREACH",
    "ENETUNREACH",
    "EADDRNOTAVAIL",
    "UND_ERR_CONNECT_TIMEOUT",
];

/// Error codes that mean the connection broke after the request went out.
const RESET_CODES: [&str; 5] = [
    "ECONNRESET",
    "EPIPE",
    "UND_ERR_SOCKET",
    "UND_ERR_CLOSED",
    "ECONNABORTED",
];

/// The transport error for a `fetch` that failed before a response came.
///
/// `name` and `message` are the error's (`TypeError`, `fetch failed`); `code` is
/// its cause's code where the runtime gives one (Node does: `ECONNREFUSED`, ...).
/// Browsers say only that the network failed, without telling whether the request
/// went out: that is [`TransportError::Other`], so the job does not count it as a
/// server that was never reached.
pub fn fetch_failure(name: &str, message: &str, code: Option<&str>) -> TransportError {
    let text = match code {
        Some(code) => format!("{message} ({code})"),
        None => message.to_owned(),
    };
    let text = if name.is_empty() || name == "TypeError" || name == "Error" {
        text
    } else {
        format!("{name}: {text}")
    };
    match code {
        Some(code) if CONNECT_CODES.contains(&code) => TransportError::Connect(text),
        Some(code) if RESET_CODES.contains(&code) => TransportError::Reset(text),
        _ if name == "TimeoutError" => TransportError::NoResponseInTime,
        _ => TransportError::Other(text),
    }
}

/// The transport error for a body that could not be read to its end.
pub fn body_failure(message: &str) -> TransportError {
    TransportError::Reset(format!("the body could not be read: {message}"))
}

/// Whether a response must be refused before its body is read: a 2xx answer
/// (whose body the job must read whole) that says it is longer than `max_body`.
pub fn too_large(status: u16, content_length: Option<&str>, max_body: usize) -> bool {
    (200..300).contains(&status)
        && content_length
            .and_then(|length| length.trim().parse::<u64>().ok())
            .is_some_and(|length| length > max_body as u64)
}

/// The core's response for what `fetch` read: status, headers and body.
///
/// A 2xx body longer than `max_body` is [`TransportError::BodyTooLarge`] (the job
/// would have to read it); any other body is cut at `max_body`, since the job only
/// quotes an excerpt of an error body while its status and headers still matter.
/// Headers that are not valid HTTP are left out.
pub fn response(
    status: u16,
    headers: impl IntoIterator<Item = (String, String)>,
    mut body: Vec<u8>,
    max_body: usize,
) -> Result<http::Response<Bytes>, TransportError> {
    if body.len() > max_body {
        if (200..300).contains(&status) {
            return Err(TransportError::BodyTooLarge(max_body));
        }
        body.truncate(max_body);
    }
    let status = http::StatusCode::from_u16(status)
        .map_err(|_| TransportError::Other(format!("the status code {status} is not valid")))?;
    let mut answer = http::Response::new(Bytes::from(body));
    *answer.status_mut() = status;
    let map = answer.headers_mut();
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            map.append(name, value);
        }
    }
    Ok(answer)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn failures_map_onto_the_core_kinds() {
        assert_eq!(
            fetch_failure("TypeError", "fetch failed", Some("ECONNREFUSED")),
            TransportError::Connect("fetch failed (ECONNREFUSED)".into())
        );
        assert_eq!(
            fetch_failure("TypeError", "fetch failed", Some("UND_ERR_SOCKET")),
            TransportError::Reset("fetch failed (UND_ERR_SOCKET)".into())
        );
        assert_eq!(
            fetch_failure("TimeoutError", "signal timed out", None),
            TransportError::NoResponseInTime
        );
        // A browser does not say whether the request went out.
        assert_eq!(
            fetch_failure("TypeError", "Failed to fetch", None),
            TransportError::Other("Failed to fetch".into())
        );
        assert_eq!(
            fetch_failure("SecurityError", "blocked", None),
            TransportError::Other("SecurityError: blocked".into())
        );
    }

    #[test]
    fn responses_keep_status_headers_and_body() {
        let answer = response(
            429,
            [
                ("retry-after".to_owned(), "1".to_owned()),
                ("bad header".to_owned(), "x".to_owned()),
            ],
            b"slow down".to_vec(),
            100,
        )
        .unwrap();
        assert_eq!(answer.status(), 429);
        assert_eq!(answer.headers()["retry-after"], "1");
        assert_eq!(answer.headers().len(), 1);
        assert_eq!(answer.body().as_ref(), b"slow down");
    }

    #[test]
    fn bodies_over_the_cap_are_refused_or_cut() {
        assert_eq!(
            response(200, [], vec![b'x'; 11], 10).unwrap_err(),
            TransportError::BodyTooLarge(10)
        );
        let cut = response(503, [], vec![b'x'; 11], 10).unwrap();
        assert_eq!(cut.body().len(), 10);
        assert!(too_large(200, Some("11"), 10));
        assert!(!too_large(200, Some("10"), 10));
        assert!(!too_large(503, Some("11"), 10));
        assert!(!too_large(200, Some("junk"), 10));
        assert!(!too_large(200, None, 10));
    }
}
