//! Responses under construction: a status, headers and a body that is still JSON,
//! so faults can pad it and the pipeline can add headers before it becomes bytes.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, DATE};
use http::{HeaderName, HeaderValue, StatusCode};
use serde_json::{Value, json};

use jobpoll_core::Instant;

use crate::clock;

/// The body of a reply.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Body {
    /// A JSON document.
    Json(Value),
    /// Text that is not JSON, with its content type.
    Text {
        content_type: &'static str,
        text: String,
    },
    /// No body (304, or statuses that may not carry one).
    Empty,
}

/// A response being built.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) body: Body,
}

impl Reply {
    /// `status` with a JSON body.
    pub(crate) fn json(status: StatusCode, value: Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Body::Json(value),
        }
    }

    /// 200 with a JSON body.
    pub(crate) fn ok(value: Value) -> Reply {
        Reply::json(StatusCode::OK, value)
    }

    /// `status` with no body.
    pub(crate) fn empty(status: StatusCode) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Body::Empty,
        }
    }

    /// An error in the one format every route uses:
    /// `{"error": {"code": 404, "status": "NOT_FOUND", "message": "..."}}`.
    pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> Reply {
        let name = status
            .canonical_reason()
            .unwrap_or("ERROR")
            .to_ascii_uppercase()
            .replace([' ', '-'], "_");
        Reply::json(
            status,
            json!({"error": {"code": status.as_u16(), "status": name, "message": message.into()}}),
        )
    }

    /// 404 for a job or a resource that does not exist (yet), named by the id the
    /// client sent.
    pub(crate) fn not_found(id: &str) -> Reply {
        Reply::error(StatusCode::NOT_FOUND, format!("not found: {}", quote(id)))
    }

    /// 400 for a request the server cannot read.
    pub(crate) fn bad_request(message: impl Into<String>) -> Reply {
        Reply::error(StatusCode::BAD_REQUEST, message)
    }

    /// The reply with one more header. A value that is not valid HTTP is dropped:
    /// every value the model builds is ASCII, so this only guards against bugs.
    pub(crate) fn with_header(mut self, name: HeaderName, value: impl AsRef<str>) -> Reply {
        if let Ok(value) = HeaderValue::from_str(value.as_ref()) {
            self.headers.push((name, value));
        }
        self
    }

    /// Adds a header in place (see [`Reply::with_header`]).
    pub(crate) fn add_header(&mut self, name: HeaderName, value: impl AsRef<str>) {
        if let Ok(value) = HeaderValue::from_str(value.as_ref()) {
            self.headers.push((name, value));
        }
    }

    /// The finished response, with a `Date` header for `now`.
    pub(crate) fn into_response(self, now: Instant) -> http::Response<Bytes> {
        let (content_type, bytes) = match self.body {
            // Serializing a `Value` cannot fail: its keys are strings.
            Body::Json(value) => (
                Some("application/json"),
                serde_json::to_vec(&value).unwrap_or_default(),
            ),
            Body::Text { content_type, text } => (Some(content_type), text.into_bytes()),
            Body::Empty => (None, Vec::new()),
        };
        let mut response = http::Response::new(Bytes::from(bytes));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        if let Ok(date) = HeaderValue::from_str(&clock::http_date(now)) {
            headers.insert(DATE, date);
        }
        if let Some(content_type) = content_type {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        for (name, value) in self.headers {
            headers.append(name, value);
        }
        response
    }
}

/// At most 100 characters of something the client sent, quoted, for a message.
pub(crate) fn quote(text: &str) -> String {
    const LIMIT: usize = 100;
    let mut out: String = text.chars().take(LIMIT).collect();
    if text.chars().count() > LIMIT {
        out.push('…');
    }
    format!("{out:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_share_one_format() {
        let response = Reply::not_found("job-9").into_response(Instant::ZERO);
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let body: Value = serde_json::from_slice(response.body()).expect("json");
        assert_eq!(
            body,
            json!({"error": {"code": 404, "status": "NOT_FOUND", "message": "not found: \"job-9\""}})
        );
        assert_eq!(response.headers()[DATE], "Thu, 01 Jan 2026 00:00:00 GMT");
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
    }

    #[test]
    fn long_client_text_is_cut_in_messages() {
        let quoted = quote(&"x".repeat(500));
        assert!(quoted.chars().count() < 110, "{quoted}");
    }

    #[test]
    fn invalid_header_values_are_dropped() {
        let reply = Reply::empty(StatusCode::OK).with_header(http::header::ETAG, "bad\nvalue");
        assert!(reply.headers.is_empty());
    }
}
