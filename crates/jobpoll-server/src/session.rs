//! Session cookies (`JobPlan::session_cookie`): a job that keeps its session in a
//! cookie, as some APIs do. The first answer about the job sets the cookie; every
//! later request about it must send it back, or is answered 401 with an error body.

use http::HeaderMap;
use http::StatusCode;
use http::header::{COOKIE, SET_COOKIE};

use jobpoll_core::rng::Rng;

use crate::reply::Reply;

/// The cookie's name.
pub(crate) const NAME: &str = "session";

/// A fresh session value: 16 hex digits from the server's generator.
pub(crate) fn new_value(rng: &mut Rng) -> String {
    format!("{:016x}", rng.next_u64())
}

/// The `Set-Cookie` header that hands `value` to the client.
pub(crate) fn set_cookie(reply: &mut Reply, value: &str) {
    reply.add_header(SET_COOKIE, format!("{NAME}={value}; Path=/"));
}

/// Whether `headers` carry the cookie `session=<value>`, in any of their `Cookie`
/// headers (`name=value` pairs separated by `;`).
pub(crate) fn is_present(headers: &HeaderMap, value: &str) -> bool {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|header| header.to_str().ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .any(|(name, sent)| name.trim() == NAME && sent.trim() == value)
}

/// The 401 answer to a request without the session (or with another one).
pub(crate) fn refusal(headers: &HeaderMap) -> Reply {
    let message = if headers.contains_key(COOKIE) {
        "the session cookie is not this job's session"
    } else {
        "this job's session cookie is missing"
    };
    Reply::error(StatusCode::UNAUTHORIZED, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            if let Ok(value) = http::HeaderValue::from_str(value) {
                map.append(COOKIE, value);
            }
        }
        map
    }

    #[test]
    fn only_the_sessions_own_value_counts() {
        assert!(is_present(&headers(&["session=abc"]), "abc"));
        assert!(is_present(&headers(&["a=1; session=abc; b=2"]), "abc"));
        assert!(is_present(&headers(&["a=1", " session = abc "]), "abc"));
        assert!(!is_present(&headers(&["session=abd"]), "abc"));
        assert!(!is_present(&headers(&["sessions=abc"]), "abc"));
        assert!(!is_present(&headers(&["other=abc"]), "abc"));
        assert!(!is_present(&headers(&[]), "abc"));
    }

    #[test]
    fn values_are_fresh_and_the_cookie_has_a_path() {
        let mut rng = Rng::new(3);
        let (a, b) = (new_value(&mut rng), new_value(&mut rng));
        assert_ne!(a, b);
        assert_eq!(a.len(), 16);
        let mut reply = Reply::ok(serde_json::json!({}));
        set_cookie(&mut reply, &a);
        assert!(reply.headers.iter().any(|(name, value)| name == SET_COOKIE
            && value.to_str().ok() == Some(&format!("session={a}; Path=/"))));
        assert_eq!(refusal(&HeaderMap::new()).status, StatusCode::UNAUTHORIZED);
    }
}
