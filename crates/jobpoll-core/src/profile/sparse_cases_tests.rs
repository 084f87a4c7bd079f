//! Fixed cases of the sparse read: ordinary bodies take it, what it leaves to
//! the tree read, a profile changed after its first read, duplicate keys.
#![allow(clippy::unwrap_used)]

use serde_json::json;

use super::sparse_tests::{counting, custom, response};
use super::{Interpret, InterpretError, Profile};

/// Ordinary bodies for each profile, which the sparse read must answer.
const ORDINARY: &[(&str, &str)] = &[
    (
        "jobs",
        r#"{"job_id":"job_abc123","status":"processing","type":"video_generation","created_at":"2024-01-15T10:00:00Z","completed_at":null,"progress_data":{"percentage":45,"current_step":"Generating scene 3 of 7","estimated_time_remaining":120}}"#,
    ),
    ("jobs", r#"{"job_id":"j","status":"queued"}"#),
    (
        "jobs",
        "{\n  \"status\": \"completed\",\n  \"result_data\": {\"url\": \"https:\\/\\/x\", \"n\": [1, 2.5, -3]}\n}",
    ),
    ("jobs", r#"{"status":"completed","result":{"a":1}}"#),
    (
        "jobs",
        r#"{"status":"failed","error_data":{"message":"boom \u00e9","details":{"code":7}}}"#,
    ),
    ("jobs", r#"{"status":"cancelled"}"#),
    ("jobs", r#"{"status":"exploded"}"#),
    ("jobs", r#"{"job_id":"j"}"#),
    (
        "jobs",
        r#"{"status":"processing","progress_data":{"percentage":"45.5","estimated_time_remaining":-1}}"#,
    ),
    ("jobs", r#"[1,2]"#),
    ("jobs", r#""processing""#),
    ("codegen", r#"{"jobId":"c1","status":"running"}"#),
    ("codegen", r#"{"job_id":7,"status":"completed"}"#),
    (
        "codegen",
        r#"{"status":"failed","error":{"message":"bad graph","line":3}}"#,
    ),
    ("codegen", r#"{"status":"failed","error":"plain"}"#),
    ("codegen", r#"{"status":"failed","message":"top"}"#),
    ("codegen", r#"{"status":"failed"}"#),
    (
        "custom",
        r#"{"state":{"phase":"Running","progress":12.5,"message":"copying","eta":30},"meta":{"ids":["t-1"]}}"#,
    ),
    (
        "custom",
        r#"{"status":"Done","state":{"output":[{"rows":3}]},"meta":{"ids":[null,{"name":"n"}]}}"#,
    ),
    (
        "custom",
        r#"{"status":"Error","errors":[{"message":"disk full"}],"eta":5}"#,
    ),
    ("custom", r#"{"state":{"phase":"Cancelled"},"id":42}"#),
    // Other APIs' bodies: none of the profile's status fields.
    (
        "jobs",
        r#"{"name":"operations/1","metadata":{"progressPercent":30}}"#,
    ),
    ("jobs", r#"{"job_id":"j","status":null}"#),
    (
        "codegen",
        r#"{"id":"vm1","properties":{"provisioningState":"Creating"}}"#,
    ),
    (
        "codegen",
        r#"{"name":"operations/1","done":true,"response":{}}"#,
    ),
    (
        "custom",
        r#"{"id":"f1","tasks":[{"id":"t1","status":"in_progress"}]}"#,
    ),
    (
        "custom",
        r#"{"state":{"progress":3},"meta":{"ids":["t-1"]}}"#,
    ),
    (
        "counting",
        r#"{"status":"copying","processed":3,"total":"12","id":"c-1"}"#,
    ),
    (
        "counting",
        r#"{"state":{"phase":"Running","eta":2},"counts":{"done":1,"total":0}}"#,
    ),
    (
        "counting",
        r#"{"status":"Running","counts":{"done":5,"total":4}}"#,
    ),
];

#[test]
fn ordinary_bodies_take_the_sparse_read() {
    for (name, body) in ORDINARY {
        let profile = match *name {
            "custom" => custom(),
            "counting" => counting(),
            name => Profile::builtin(name).unwrap(),
        };
        let resp = response(body.as_bytes());
        let sparse = profile.read_status_sparse(body.as_bytes());
        assert!(
            sparse.is_some(),
            "{name}: the sparse read fell back on {body}"
        );
        assert_eq!(
            sparse,
            Some(profile.read_status_by_tree(&resp)),
            "{name}: {body}"
        );
    }
}

#[test]
fn what_the_sparse_read_leaves_to_the_tree() {
    let jobs = Profile::jobs();
    for body in [
        // Not JSON, or not UTF-8.
        &b""[..],
        b"   ",
        b"{",
        b"{\"status\":\"queued\"} x",
        b"{\"status\":\"q\xffueued\"}",
        b"{\"status\":\"queued\",\"type\":\"\xff\"}",
        // Numbers out of serde_json's range, read or not.
        br#"{"status":"queued","progress_data":{"percentage":1e400}}"#,
        br#"{"status":"queued","other":[1e400]}"#,
    ] {
        assert!(
            jobs.read_status_sparse(body).is_none(),
            "{}",
            String::from_utf8_lossy(body)
        );
        let resp = response(body);
        assert_eq!(jobs.read_status(&resp), jobs.read_status_by_tree(&resp));
        assert!(jobs.read_status(&resp).is_err());
    }
    // What the sparse read answers alike: duplicate keys on a pointer's path, an
    // escaped key a pointer names, numbers with an exponent.
    for body in [
        &br#"{"status":"queued","status":"completed"}"#[..],
        br#"{"progress_data":{"percentage":1},"progress_data":{},"status":"queued"}"#,
        br#"{"st\u0061tus":"completed"}"#,
        br#"{"status":"queued","progress_data":{"percentage":4.5e1}}"#,
    ] {
        let resp = response(body);
        assert_eq!(
            jobs.read_status_sparse(body),
            Some(jobs.read_status_by_tree(&resp)),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    // Profiles the sparse read does not handle.
    let body = br#"{"status":"running","blocks":[1,2]}"#;
    assert!(Profile::turn().read_status_sparse(body).is_none());
    assert!(
        Profile::google_operation()
            .read_status_sparse(body)
            .is_none()
    );
    assert!(Profile::file_tasks().read_status_sparse(body).is_none());
    assert!(
        Profile::azure_operation()
            .read_status_sparse(body)
            .is_none()
    );
}

#[test]
fn a_profile_changed_after_its_first_read_reads_as_changed() {
    let body = br#"{"status":"processing","progress_data":{"percentage":45,"current_step":"s"},"other":{"step":"t","pct":7}}"#;
    let resp = response(body);
    let mut profile = Profile::jobs();
    let before = profile.read_status(&resp).unwrap();
    assert_eq!(before.step.as_deref(), Some("s"));
    // A copy is equal, prints and serializes alike, and reads alike.
    let copy = profile.clone();
    assert_eq!(copy, Profile::jobs());
    assert_eq!(format!("{copy:?}"), format!("{:?}", Profile::jobs()));
    assert_eq!(
        serde_json::to_string(&copy).unwrap(),
        serde_json::to_string(&Profile::jobs()).unwrap()
    );
    assert_eq!(copy.read_status(&resp), Ok(before.clone()));
    // Changed pointers are read as they are now, by the sparse read.
    profile.step_pointer = Some("/other/step".to_owned());
    profile.percentage_pointer = Some("/other/pct".to_owned());
    profile.submit_id_pointers.push("/other/step".to_owned());
    let after = profile.read_status(&resp).unwrap();
    assert_eq!(after.step.as_deref(), Some("t"));
    assert_eq!(after.percentage, Some(7.0));
    assert_eq!(after.job_id.as_deref(), Some("t"));
    assert_eq!(Ok(after), profile.read_status_by_tree(&resp));
    assert!(profile.read_status_sparse(body).is_some());
    if let super::Completion::Status { pointer, .. } = &mut profile.completion {
        *pointer = "/other/step".to_owned();
    }
    assert_eq!(
        profile.read_status(&resp),
        Err(InterpretError::UnknownStatus {
            value: "t".to_owned()
        })
    );
    assert_eq!(
        profile.read_status(&resp),
        profile.read_status_by_tree(&resp)
    );
    // The original is unchanged.
    assert_eq!(copy.read_status(&resp), Ok(before));
}

#[test]
fn the_last_duplicate_wins_as_in_serde_json() {
    let body = br#"{"status":"queued","status":"completed","result_data":1}"#;
    let report = Profile::jobs().read_status_sparse(body).unwrap().unwrap();
    assert_eq!(report.status, "completed");
    assert_eq!(report.result, Some(json!(1)));
    assert_eq!(
        Ok(report),
        Profile::jobs().read_status_by_tree(&response(body))
    );
}
