//! The snapshot format does not depend on the job's in-memory layout: a job caught
//! with most of its state set (a submit answered, a server hint, an ETag, a poll
//! delay, results being fetched with a request in flight) saves to the same JSON
//! as when the job kept every field inline.
#![allow(missing_docs, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use jobpoll_core::{
    Config, Input, Instant, Job, JobSpec, Output, Profile, RequestId, SettledSnapshot,
    SettledState, Snapshot,
};

/// Status, headers, body.
type Answer = (u16, &'static [(&'static str, &'static str)], &'static str);

fn answer(
    job: &mut Job,
    request: RequestId,
    status: u16,
    headers: &[(&str, &str)],
    body: &str,
    now: Instant,
) {
    let mut response = http::Response::builder().status(status);
    for (name, value) in headers {
        response = response.header(*name, *value);
    }
    let response = response.body(Bytes::from(body.to_owned())).unwrap();
    job.handle_input(Input::Response {
        request,
        response,
        now,
    })
    .unwrap();
}

/// Drains the outputs; the request sent, if any.
fn sent(job: &mut Job) -> Option<RequestId> {
    let mut request = None;
    loop {
        match job.poll_output() {
            Output::Transmit(transmit) => request = Some(transmit.id),
            Output::WakeAt(_) | Output::Done => return request,
            _ => {}
        }
    }
}

#[test]
fn a_busy_job_saves_to_the_same_json() {
    let url = "https://api.example.com/api/v1/public/graph/codegen"
        .parse()
        .unwrap();
    let spec = JobSpec::submit(Profile::codegen(), url, Some(r#"{"graph":1}"#.to_owned()));
    let config = Config {
        seed: 7,
        ..Config::standard()
    };
    let mut now = Instant::ZERO;
    let mut job = Job::new(spec, config, now).unwrap();
    let mut request = sent(&mut job).unwrap();
    let answers: [Answer; 4] = [
        (200, &[], r#"{"jobId":"c-1"}"#),
        (429, &[("retry-after", "3")], "slow down"),
        (
            200,
            &[("etag", "\"v1\"")],
            r#"{"status":"running","progress":40}"#,
        ),
        (
            200,
            &[("etag", "\"v2\"")],
            r#"{"status":"completed","result":{"ok":true}}"#,
        ),
    ];
    for (status, headers, body) in answers {
        answer(&mut job, request, status, headers, body, now);
        request = match sent(&mut job) {
            Some(request) => request,
            None => {
                now = job.next_wake().unwrap();
                job.handle_input(Input::Tick { now }).unwrap();
                sent(&mut job).unwrap()
            }
        };
    }
    // The results request is in flight.
    now = now + Duration::from_millis(250);
    job.handle_input(Input::Tick { now }).unwrap();
    let snapshot: Snapshot = job.snapshot();
    let json = serde_json::to_string_pretty(&snapshot).unwrap();
    insta::assert_snapshot!(json);
    // And it reads back as the same job.
    let restored = Job::restore(serde_json::from_str(&json).unwrap()).unwrap();
    assert_eq!(restored, job);
}

#[test]
fn the_profile_can_be_saved_in_another_form_and_brought_back() {
    let url = "https://api.example.com/api/v1/jobs/j-1".parse().unwrap();
    let mut job = Job::new(
        JobSpec::poll(Profile::jobs(), url),
        Config::standard(),
        Instant::ZERO,
    )
    .unwrap();
    let request = sent(&mut job).unwrap();
    answer(
        &mut job,
        request,
        200,
        &[],
        r#"{"status":"running"}"#,
        Instant::ZERO,
    );
    let snapshot = job.snapshot();
    // Saved with the profile's name in its place...
    let named = snapshot
        .clone()
        .map_profile(|profile| Ok::<_, ()>(profile.name))
        .unwrap();
    assert_eq!(named.profile(), "jobs");
    let json = serde_json::to_value(&named).unwrap();
    assert_eq!(json["job"]["spec"]["profile"], "jobs");
    // ... and read back with the profile looked up: the same job.
    let read: Snapshot<String> = serde_json::from_value(json).unwrap();
    let back = read
        .map_profile(|name| Profile::builtin(&name).ok_or("unknown"))
        .unwrap();
    assert_eq!(back, snapshot);
    assert_eq!(Job::restore(back).unwrap(), job);
    // A failed lookup is the caller's error.
    let unknown = named.map_profile(|_| Err::<Profile, _>("unknown"));
    assert_eq!(unknown.unwrap_err(), "unknown");
}

#[test]
fn a_settled_snapshot_reads_a_drained_job_and_refuses_pending_outputs() {
    let url = "https://api.example.com/api/v1/jobs/j-1".parse().unwrap();
    let spec = JobSpec::poll(Profile::jobs(), url);
    let mut job = Job::new(spec, Config::standard(), Instant::ZERO).unwrap();
    // Not drained: the first request waits in the outputs.
    let pending = serde_json::to_string(&job.snapshot()).unwrap();
    let error = serde_json::from_str::<SettledSnapshot>(&pending).unwrap_err();
    assert!(error.to_string().contains("outputs pending"), "{error}");
    // Drained: the same snapshot as a Snapshot reads.
    let request = sent(&mut job).unwrap();
    answer(
        &mut job,
        request,
        200,
        &[],
        r#"{"status":"running"}"#,
        Instant::ZERO,
    );
    sent(&mut job);
    let json = serde_json::to_string(&job.snapshot()).unwrap();
    let settled: SettledSnapshot = serde_json::from_str(&json).unwrap();
    let full: Snapshot = serde_json::from_str(&json).unwrap();
    assert_eq!(Snapshot::from(settled), full);
    assert_eq!(full, job.snapshot());
}

#[test]
fn a_settled_state_reads_past_the_spec_and_configuration_and_goes_on_with_the_ones_given() {
    let url: url::Url = "https://api.example.com/api/v1/jobs/j-2".parse().unwrap();
    let spec = JobSpec::poll(Profile::jobs(), url.clone());
    let mut job = Job::new(spec.clone(), Config::standard(), Instant::ZERO).unwrap();
    let request = sent(&mut job).unwrap();
    answer(
        &mut job,
        request,
        200,
        &[],
        r#"{"status":"running","progress":0.25}"#,
        Instant::ZERO,
    );
    sent(&mut job);
    let saved = job.snapshot();
    let mut json = serde_json::to_value(&saved).unwrap();
    // With the spec and configuration it was saved with: the same snapshot.
    let state: SettledState = serde_json::from_value(json.clone()).unwrap();
    let same = state.into_snapshot(spec.clone(), Arc::new(Config::standard()));
    assert_eq!(same, saved);
    // The saved spec and configuration are not read at all: not even when they
    // could not be read as such.
    json["job"]["spec"] = serde_json::json!("not a spec");
    json["job"]["config"] = serde_json::json!({"poll": 7});
    let state: SettledState = serde_json::from_value(json.clone()).unwrap();
    // The job goes on with the ones given.
    let mut fast = Config::fast();
    fast.max_attempts = Some(3);
    let snapshot = state.into_snapshot(spec, Arc::new(fast.clone()));
    let restored = Job::restore(snapshot).unwrap();
    assert_eq!(restored.config(), &fast);
    assert_eq!(restored.snapshot().profile(), &Profile::jobs());
    // Pending outputs are refused, as by a settled snapshot.
    let pending = Job::new(
        JobSpec::poll(Profile::jobs(), url),
        Config::standard(),
        Instant::ZERO,
    )
    .unwrap();
    let error =
        serde_json::from_str::<SettledState>(&serde_json::to_string(&pending.snapshot()).unwrap())
            .unwrap_err();
    assert!(error.to_string().contains("outputs pending"), "{error}");
}
