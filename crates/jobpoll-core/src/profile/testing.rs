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

/// Checks that a profile whose completion is read at `/status` refuses the status
/// bodies of the other built-in APIs (and `{}`) as not its own, naming itself and
/// quoting the body.
pub(super) fn assert_refuses_other_apis(profile: &Profile) {
    for body in [
        r#"{"name":"operations/1","metadata":{"progressPercent":30}}"#,
        r#"{"name":"operations/1","done":true,"response":{"status":"completed"}}"#,
        r#"{"id":"f1","tasks":[{"id":"t1","status":"in_progress"}]}"#,
        r#"{"id":"vm1","properties":{"provisioningState":"Creating"}}"#,
        "{}",
    ] {
        let message = status_err(profile, body).to_string();
        let expected = format!(
            "this does not look like a {} status: no /status",
            profile.name
        );
        assert!(message.starts_with(&expected), "{body}: {message}");
        assert!(message.contains(&body[..body.len().min(12)]), "{message}");
    }
}
