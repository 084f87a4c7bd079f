//! Session cookies (`JobPlan::session_cookie`): a job that needs a session kept
//! in a cookie, as some APIs do. The first answer about the job sets the cookie
//! unless the request has a session already; every later request about it must
//! send a session this server issued, or is answered 401 with an error body.
//!
//! A session is the client's, not the job's: any session the server issued opens
//! any such job. A per-job cookie of one name and path could not work for a client
//! waiting on two jobs of one server, whose cookie store keeps one value per name.

use std::collections::HashSet;

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

/// Whether `headers` carry a `session` cookie whose value is in `issued`, in any
/// of their `Cookie` headers (`name=value` pairs separated by `;`).
pub(crate) fn is_valid(headers: &HeaderMap, issued: &HashSet<String>) -> bool {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|header| header.to_str().ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .any(|(name, sent)| name.trim() == NAME && issued.contains(sent.trim()))
}

/// The 401 answer to a request without the session (or with another one).
pub(crate) fn refusal(headers: &HeaderMap) -> Reply {
    let message = if headers.contains_key(COOKIE) {
        "the session cookie is not one this server issued"
    } else {
        "this job needs the session cookie its first answer set"
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
    fn only_an_issued_session_counts() {
        let issued: HashSet<String> = ["abc".to_owned(), "def".to_owned()].into();
        assert!(is_valid(&headers(&["session=abc"]), &issued));
        assert!(is_valid(&headers(&["session=def"]), &issued));
        assert!(is_valid(&headers(&["a=1; session=abc; b=2"]), &issued));
        assert!(is_valid(&headers(&["a=1", " session = abc "]), &issued));
        assert!(!is_valid(&headers(&["session=abd"]), &issued));
        assert!(!is_valid(&headers(&["sessions=abc"]), &issued));
        assert!(!is_valid(&headers(&["other=abc"]), &issued));
        assert!(!is_valid(&headers(&[]), &issued));
        assert!(!is_valid(&headers(&["session=abc"]), &HashSet::new()));
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
