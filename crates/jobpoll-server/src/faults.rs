//! Faults a job's plan injects into the answers about it.
//!
//! They come in two layers. `Status` and `Malformed` are the gateway's: they
//! replace the answer before the request reaches the job, so a cancel they answer
//! changes nothing and no estimate is drawn, and they win over `visible_after`.
//! `UnknownStatus` and `Oversized` are the application's: the job answers, with a
//! status value its API does not define or a body padded to a size.

use http::StatusCode;
use http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use serde_json::Value;

use crate::plan::Fault;
use crate::reply::{Body, Reply};

/// Padded bodies are capped at this size: a plan that travels in a request body
/// must not make the server allocate without bound.
pub(crate) const MAX_PADDED_BYTES: usize = 16 << 20;

/// The answer of a gateway fault, if `fault` is one.
pub(crate) fn gateway_reply(fault: &Fault) -> Option<Reply> {
    match fault {
        Fault::Status {
            status,
            retry_after,
        } => Some(status_reply(*status, *retry_after)),
        Fault::Malformed => Some(Reply {
            status: StatusCode::OK,
            headers: Vec::new(),
            body: Body::Text {
                content_type: "text/html; charset=utf-8",
                text: "<html><head><title>502 Bad Gateway</title></head>\
                       <body><h1>Bad Gateway</h1><p>upstream hiccup</p></body></html>\n"
                    .to_owned(),
            },
        }),
        Fault::UnknownStatus | Fault::Oversized { .. } => None,
    }
}

/// `status` with the error body every route uses; a code HTTP cannot send becomes
/// 500, and statuses that may not carry a body get none.
pub(crate) fn status_reply(status: u16, retry_after: Option<u64>) -> Reply {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut reply = if code.is_informational()
        || code == StatusCode::NO_CONTENT
        || code == StatusCode::NOT_MODIFIED
    {
        Reply::empty(code)
    } else {
        Reply::error(code, format!("injected fault: {code}"))
    };
    if let Some(secs) = retry_after {
        reply.add_header(RETRY_AFTER, secs.to_string());
    }
    if code == StatusCode::UNAUTHORIZED {
        reply.add_header(WWW_AUTHENTICATE, "Bearer");
    }
    reply
}

/// Pads a JSON object body with a `padding` string so that it serializes to
/// exactly `bytes` bytes (at most [`MAX_PADDED_BYTES`]); bodies already that large,
/// and bodies that are not JSON objects, are left alone.
pub(crate) fn pad(reply: &mut Reply, bytes: usize) {
    let target = bytes.min(MAX_PADDED_BYTES);
    let Body::Json(Value::Object(map)) = &mut reply.body else {
        return;
    };
    map.remove("padding");
    let current = serde_json::to_vec(&*map).map_or(0, |v| v.len());
    // `"padding":""`, plus a comma unless the object is empty.
    let overhead = 12 + usize::from(!map.is_empty());
    if let Some(fill) = target.checked_sub(current + overhead) {
        map.insert("padding".to_owned(), Value::String(" ".repeat(fill)));
    }
}

#[cfg(test)]
mod tests {
    use jobpoll_core::Instant;
    use serde_json::json;

    use super::*;

    #[test]
    fn status_faults_carry_retry_after() {
        let reply = gateway_reply(&Fault::Status {
            status: 503,
            retry_after: Some(7),
        })
        .expect("gateway fault");
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
        let response = reply.into_response(Instant::ZERO);
        assert_eq!(response.headers()[RETRY_AFTER], "7");
        let body: Value = serde_json::from_slice(response.body()).expect("json body");
        assert_eq!(body["error"]["code"], 503);
    }

    #[test]
    fn impossible_status_codes_become_500() {
        for status in [0, 99, 1000, u16::MAX] {
            let reply = gateway_reply(&Fault::Status {
                status,
                retry_after: None,
            })
            .expect("gateway fault");
            assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
        }
        let reply = gateway_reply(&Fault::Status {
            status: 304,
            retry_after: None,
        })
        .expect("gateway fault");
        assert_eq!(reply.body, Body::Empty);
    }

    #[test]
    fn malformed_is_a_200_that_is_not_json() {
        let response = gateway_reply(&Fault::Malformed)
            .expect("gateway fault")
            .into_response(Instant::ZERO);
        assert_eq!(response.status(), StatusCode::OK);
        assert!(serde_json::from_slice::<Value>(response.body()).is_err());
    }

    #[test]
    fn padding_reaches_the_exact_size() {
        for (body, bytes) in [
            (json!({"status": "running", "id": "x"}), 1_000),
            (json!({}), 100),
            (json!({"a": 1}), 20),
        ] {
            let mut reply = Reply::ok(body.clone());
            pad(&mut reply, bytes);
            let response = reply.into_response(Instant::ZERO);
            assert_eq!(response.body().len(), bytes, "{body}");
            let back: Value = serde_json::from_slice(response.body()).expect("still JSON");
            assert_eq!(back.get("status"), body.get("status"));
        }
        // Too small to pad: unchanged.
        let mut reply = Reply::ok(json!({"status": "running"}));
        pad(&mut reply, 5);
        assert_eq!(reply, Reply::ok(json!({"status": "running"})));
        // Absurd sizes are capped.
        let mut reply = Reply::ok(json!({}));
        pad(&mut reply, usize::MAX);
        assert_eq!(
            reply.into_response(Instant::ZERO).body().len(),
            MAX_PADDED_BYTES
        );
    }
}
