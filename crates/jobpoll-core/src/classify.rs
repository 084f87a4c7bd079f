//! What an HTTP status code means for a job, before any body is read: one table,
//! shared by every driver.

use http::StatusCode;
use serde::{Deserialize, Serialize};

/// What a response status means for the next step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusClass {
    /// 2xx: read the body.
    Success,
    /// 304: nothing changed since the `ETag` we sent.
    NotModified,
    /// 401, 403: our credentials are refused; retrying will not help.
    Unauthorized,
    /// 404: not visible yet (during the grace period) or gone.
    NotFound,
    /// 408, 425, 429, and 5xx other than 501 and 505: worth retrying later.
    Retryable,
    /// Other 4xx, 501, 505: the request itself is wrong; retrying will not help.
    Rejected,
    /// 1xx and 3xx other than 304 reaching the core: a driver or server anomaly,
    /// retried like an error.
    Unexpected,
}

/// Classifies a status code (see [`StatusClass`]).
pub fn classify_status(status: StatusCode) -> StatusClass {
    match status.as_u16() {
        200..=299 => StatusClass::Success,
        304 => StatusClass::NotModified,
        401 | 403 => StatusClass::Unauthorized,
        404 => StatusClass::NotFound,
        408 | 425 | 429 => StatusClass::Retryable,
        501 | 505 => StatusClass::Rejected,
        500..=599 => StatusClass::Retryable,
        400..=499 => StatusClass::Rejected,
        _ => StatusClass::Unexpected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(code: u16) -> StatusClass {
        classify_status(StatusCode::from_u16(code).expect("valid code"))
    }

    #[test]
    fn the_whole_table() {
        for code in [200, 201, 202, 204] {
            assert_eq!(class(code), StatusClass::Success, "{code}");
        }
        assert_eq!(class(304), StatusClass::NotModified);
        assert_eq!(class(401), StatusClass::Unauthorized);
        assert_eq!(class(403), StatusClass::Unauthorized);
        assert_eq!(class(404), StatusClass::NotFound);
        for code in [408, 425, 429, 500, 502, 503, 504, 507, 599] {
            assert_eq!(class(code), StatusClass::Retryable, "{code}");
        }
        for code in [400, 405, 409, 410, 413, 422, 451, 501, 505] {
            assert_eq!(class(code), StatusClass::Rejected, "{code}");
        }
        for code in [100, 101, 301, 302, 307, 308] {
            assert_eq!(class(code), StatusClass::Unexpected, "{code}");
        }
    }
}
