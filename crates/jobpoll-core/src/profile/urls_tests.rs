//! URL templates and the ids put in them.

use super::testing::*;
use super::urls::fill_template;
use super::*;

#[test]
fn ids_are_percent_encoded_as_one_segment() {
    let profile = Profile::jobs();
    let submit = url("https://api.example.com/api/v1/x-job");
    let sub = profile
        .read_submission(&ok(r#"{"job_id":"a/b?c#d e%f~g.h_i-j:k"}"#), &submit)
        .expect("sub");
    assert_eq!(
        sub.status_url.as_str(),
        "https://api.example.com/api/v1/jobs/a%2Fb%3Fc%23d%20e%25f~g.h_i-j%3Ak"
    );
    let sub = profile
        .read_submission(&ok(r#"{"job_id":"zß"}"#), &submit)
        .expect("sub");
    assert_eq!(
        sub.status_url.as_str(),
        "https://api.example.com/api/v1/jobs/z%C3%9F"
    );
    for id in [r#""..""#, r#"".""#] {
        let err = profile
            .read_submission(&ok(&format!(r#"{{"job_id":{id}}}"#)), &submit)
            .expect_err(id);
        assert!(matches!(err, InterpretError::BadUrl { .. }), "{id}");
    }
    // `%2e%2e` is encoded to `%252e%252e`, not decoded into a dot segment.
    let sub = profile
        .read_submission(&ok(r#"{"job_id":"%2e%2e"}"#), &submit)
        .expect("sub");
    assert_eq!(
        sub.status_url.as_str(),
        "https://api.example.com/api/v1/jobs/%252e%252e"
    );
}

#[test]
fn template_resolution_rules() {
    let base = url("https://h.example:8443/a/b?q=1#f");
    let fill = |t: &str, id: Option<&str>| fill_template(t, id, &base);
    assert_eq!(
        fill("/x/{id}", Some("1")).expect("abs path").as_str(),
        "https://h.example:8443/x/1"
    );
    assert_eq!(
        fill("//evil.example/x", None).expect("path").as_str(),
        "https://h.example:8443//evil.example/x"
    );
    assert_eq!(
        fill("https://other.example/{id}", Some("7"))
            .expect("full")
            .as_str(),
        "https://other.example/7"
    );
    assert_eq!(
        fill("c/{id}", Some("7")).expect("rel").as_str(),
        "https://h.example:8443/a/b/c/7"
    );
    assert_eq!(
        fill("/static", None).expect("no id needed").as_str(),
        "https://h.example:8443/static"
    );
    assert!(matches!(
        fill("ftp://h/{id}", Some("1")),
        Err(InterpretError::BadUrl { .. })
    ));
    assert!(matches!(
        fill("javascript:alert(1)", None),
        Err(InterpretError::BadUrl { .. })
    ));
    assert!(matches!(
        fill("/x/{id}", None),
        Err(InterpretError::MissingField { .. })
    ));
    assert!(matches!(
        fill("/x/{id}", Some("")),
        Err(InterpretError::BadUrl { .. })
    ));
    assert!(matches!(
        fill("/v1/{id_path}", Some("a/../b")),
        Err(InterpretError::BadUrl { .. })
    ));
    assert_eq!(
        fill("/v1/{id_path}/{id}", Some("a/b c"))
            .expect("both")
            .as_str(),
        "https://h.example:8443/v1/a/b%20c/a%2Fb%20c"
    );
}
