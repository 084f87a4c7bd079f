//! Helpers shared by the profile tests.

use bytes::Bytes;
use url::Url;

use super::*;

pub(super) fn url(text: &str) -> Url {
    Url::parse(text).expect("test URL")
}

pub(super) fn response(code: u16, headers: &[(&str, &str)], body: &str) -> http::Response<Bytes> {
    let mut builder = http::Response::builder().status(code);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder
        .body(Bytes::from(body.to_owned()))
        .expect("test response")
}

pub(super) fn ok(body: &str) -> http::Response<Bytes> {
    response(200, &[("content-type", "application/json")], body)
}

pub(super) fn status(profile: &Profile, body: &str) -> StatusReport {
    profile.read_status(&ok(body)).expect("status reads")
}

pub(super) fn status_err(profile: &Profile, body: &str) -> InterpretError {
    profile
        .read_status(&ok(body))
        .expect_err("status must not read")
}

pub(super) fn job<'a>(id: Option<&'a str>, status_url: &'a Url) -> JobRef<'a> {
    JobRef {
        job_id: id,
        status_url,
        results_url: None,
    }
}
