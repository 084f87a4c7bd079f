//! Cross-origin access: a page on another origin (a test page, a browser app in
//! development) may call the server with `fetch` and read every header of its
//! answers.
//!
//! - A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`)
//!   is answered here, 204, allowing the method and headers it asks for; it
//!   never reaches the model, so request counts stay those of the API.
//! - Every other answer to a request with an `Origin` allows that origin and
//!   exposes every header it carries (`Retry-After`, `Location`,
//!   `Operation-Location`, `Azure-AsyncOperation`, `Date`, the rate-limit
//!   headers, ...): without `Access-Control-Expose-Headers`, `fetch` hides all
//!   but a few, and a browser client could not follow a `Location`.
//!
//! Credentials are not allowed: the server's callers send a bearer token in a
//! header, which the preflight allows, not cookies.

use http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_HEADERS,
    ACCESS_CONTROL_REQUEST_METHOD, HeaderMap, HeaderValue, ORIGIN,
};
use http::{Method, StatusCode};

/// How long a browser may keep a preflight's answer, in seconds.
const PREFLIGHT_MAX_AGE: &str = "600";

/// The answer to `method` with `headers` when it is a CORS preflight.
pub(crate) fn preflight(method: &Method, headers: &HeaderMap) -> Option<http::Response<()>> {
    if method != Method::OPTIONS || !headers.contains_key(ORIGIN) {
        return None;
    }
    let requested = headers.get(ACCESS_CONTROL_REQUEST_METHOD)?;
    let mut response = http::Response::new(());
    *response.status_mut() = StatusCode::NO_CONTENT;
    let answer = response.headers_mut();
    answer.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    answer.insert(ACCESS_CONTROL_ALLOW_METHODS, requested.clone());
    // `*` would not cover `Authorization`: the headers asked for are allowed
    // by name.
    if let Some(asked) = headers.get(ACCESS_CONTROL_REQUEST_HEADERS) {
        answer.insert(ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
    }
    answer.insert(
        ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(PREFLIGHT_MAX_AGE),
    );
    Some(response)
}

/// Whether a request with `headers` came from a page (it has an `Origin`).
pub(crate) fn is_cross_origin(headers: &HeaderMap) -> bool {
    headers.contains_key(ORIGIN)
}

/// Lets the calling page read `headers`, the answer's: any origin, every header
/// but the CORS ones exposed by name.
pub(crate) fn allow(headers: &mut HeaderMap) {
    let mut names: Vec<&str> = headers
        .keys()
        .map(|name| name.as_str())
        .filter(|name| !name.starts_with("access-control-"))
        .collect();
    names.sort_unstable();
    names.dedup();
    let exposed = (!names.is_empty())
        .then(|| HeaderValue::from_str(&names.join(", ")).ok())
        .flatten();
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    if let Some(exposed) = exposed {
        headers.insert(ACCESS_CONTROL_EXPOSE_HEADERS, exposed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn only_an_options_request_from_a_page_asking_for_a_method_is_a_preflight() {
        let asking = headers(&[
            ("origin", "http://127.0.0.1:9000"),
            ("access-control-request-method", "POST"),
            (
                "access-control-request-headers",
                "authorization, content-type",
            ),
        ]);
        let answer = preflight(&Method::OPTIONS, &asking).expect("a preflight");
        assert_eq!(answer.status(), StatusCode::NO_CONTENT);
        assert_eq!(answer.headers()["access-control-allow-methods"], "POST");
        assert_eq!(
            answer.headers()["access-control-allow-headers"],
            "authorization, content-type"
        );
        assert!(preflight(&Method::GET, &asking).is_none());
        let no_method = headers(&[("origin", "http://127.0.0.1:9000")]);
        assert!(preflight(&Method::OPTIONS, &no_method).is_none());
        let no_origin = headers(&[("access-control-request-method", "POST")]);
        assert!(preflight(&Method::OPTIONS, &no_origin).is_none());
    }

    #[test]
    fn every_header_of_an_answer_is_exposed() {
        let mut answer = headers(&[
            ("location", "/azure/operation-results/1"),
            ("retry-after", "1"),
            ("date", "Thu, 03 Dec 2026 22:00:00 GMT"),
        ]);
        allow(&mut answer);
        assert_eq!(answer["access-control-allow-origin"], "*");
        assert_eq!(
            answer["access-control-expose-headers"],
            "date, location, retry-after"
        );
    }
}
