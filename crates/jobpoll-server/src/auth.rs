//! Bearer-token authentication (`ServerConfig::token`).

use http::HeaderMap;
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};

use crate::reply::Reply;

/// Whether `headers` carry `Authorization: Bearer <token>` (the scheme compared
/// case-insensitively, as RFC 9110 says). The first `Authorization` header counts.
pub(crate) fn is_authorized(headers: &HeaderMap, token: &str) -> bool {
    let Some(value) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some((scheme, credentials)) = value.trim().split_once(' ') else {
        return false;
    };
    scheme.eq_ignore_ascii_case("bearer") && credentials.trim() == token
}

/// The 401 answer, with the challenge a client needs.
pub(crate) fn refusal(had_credentials: bool) -> Reply {
    let message = if had_credentials {
        "the bearer token is not valid"
    } else {
        "this server requires Authorization: Bearer <token>"
    };
    Reply::error(http::StatusCode::UNAUTHORIZED, message).with_header(
        WWW_AUTHENTICATE,
        if had_credentials {
            "Bearer error=\"invalid_token\""
        } else {
            "Bearer"
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &[u8]) -> HeaderMap {
        let mut map = HeaderMap::new();
        if let Ok(value) = http::HeaderValue::from_bytes(value) {
            map.insert(AUTHORIZATION, value);
        }
        map
    }

    #[test]
    fn only_the_right_bearer_token_passes() {
        assert!(is_authorized(&headers(b"Bearer s3cret"), "s3cret"));
        assert!(is_authorized(&headers(b"bearer  s3cret "), "s3cret"));
        assert!(!is_authorized(&headers(b"Bearer wrong"), "s3cret"));
        assert!(!is_authorized(&headers(b"Basic s3cret"), "s3cret"));
        assert!(!is_authorized(&headers(b"s3cret"), "s3cret"));
        assert!(!is_authorized(&headers(b"Bearer \xff"), "s3cret"));
        assert!(!is_authorized(&HeaderMap::new(), "s3cret"));
    }

    #[test]
    fn the_refusal_is_a_401_with_a_challenge() {
        let reply = refusal(false);
        assert_eq!(reply.status, http::StatusCode::UNAUTHORIZED);
        assert!(
            reply
                .headers
                .iter()
                .any(|(name, _)| name == WWW_AUTHENTICATE)
        );
    }
}
