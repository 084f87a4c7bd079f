//! Whatever arrives, the model answers: random methods, paths built from route
//! words and junk, bodies from plans to noise, hostile headers, any instant. Every
//! answer has a `Date`, JSON answers are JSON, 405s say what is allowed, and the
//! same requests to the same seed give the same answers.

use bytes::Bytes;
use jobpoll_core::Instant;
use jobpoll_server::model::{RateLimit, ServerConfig, ServerModel};
use proptest::prelude::*;

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"])
            .prop_map(str::to_owned),
        1 => "[A-Z]{1,10}",
    ]
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "api", "v1", "jobs", "job-1", "job-2", "cancel", "x-job", "-job", "public",
            "graph", "codegen", "cg-1", "status", "results", "file", "file-1", "projects",
            "p1", "sessions", "s1", "turns", "turn-1", "files", "operations", "op-1",
            "op-1:cancel", "azure", "resources", "res-1", "azop-1", "", "..", "%2e",
        ])
        .prop_map(str::to_owned),
        1 => "[a-zA-Z0-9:%._~!$&'()*+,;=@-]{0,12}",
    ]
}

/// The server's own routes, with ids of jobs that a run may have created.
fn route() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec![
            "/api/v1/gen-{n}-job",
            "/api/v1/jobs",
            "/api/v1/jobs/job-{n}",
            "/api/v1/jobs/job-{n}/cancel",
            "/api/v1/public/graph/codegen",
            "/api/v1/public/graph/codegen/cg-{n}/status",
            "/api/v1/public/graph/codegen/cg-{n}/results",
            "/api/file",
            "/api/file/file-{n}",
            "/api/projects/p{n}/sessions/s1/turns",
            "/api/projects/p{n}/sessions/s1/turns/turn-{n}",
            "/api/projects/p{n}/files",
            "/api/projects/p{n}/files/status",
            "/v1/operations",
            "/v1/operations/op-{n}",
            "/v1/operations/op-{n}:cancel",
            "/azure/resources",
            "/azure/resources/res-{n}",
            "/azure/operations/azop-{n}",
        ]),
        1u8..4,
    )
        .prop_map(|(template, n)| template.replace("{n}", &n.to_string()))
}

fn path() -> impl Strategy<Value = String> {
    prop_oneof![3 => route(), 1 => junk_path()]
}

fn junk_path() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(segment(), 0..8),
        prop::option::of("[a-z0-9=&%+]{0,24}"),
    )
        .prop_map(|(segments, query)| {
            let mut path = format!("/{}", segments.join("/"));
            if let Some(query) = query {
                path.push('?');
                path.push_str(&query);
            }
            path
        })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(Vec::new()),
        prop::collection::vec(any::<u8>(), 0..64),
        (any::<u64>(), any::<u64>(), any::<u64>(), 0u16..1200, any::<usize>()).prop_map(
            |(duration, from, until, status, bytes)| {
                let bytes = bytes % 100_000;
                format!(
                    r#"{{"plan":{{"duration":{duration},"visible_after":{},"eta_sigma":{},
                    "faults":[{{"from":{from},"until":{until},"fault":{{"fault":"status","status":{status},"retry_after":{duration}}}}},
                    {{"from":0,"until":{until},"fault":{{"fault":"oversized","bytes":{bytes}}}}},
                    {{"from":0,"until":{from},"fault":{{"fault":"unknown_status"}}}}]}},"graphId":"g"}}"#,
                    duration % 5_000_000,
                    f64::from(status) / 100.0,
                )
                .into_bytes()
            }
        ),
        "[ -~]{0,80}".prop_map(String::into_bytes),
        Just(br#"{"paths":["src/app.ts",1],"since":"x"}"#.to_vec()),
        Just(br#"{"plan":{"ending":{"ending":"never"}}}"#.to_vec()),
    ]
}

fn header_value() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        Just("Bearer t".to_owned()),
        Just("jobs.test:8080".to_owned()),
        Just("\"files-0\", W/\"files-20000000\", *".to_owned()),
        "[ -~]{0,40}",
    ])
}

#[derive(Clone, Debug)]
struct Call {
    method: String,
    path: String,
    body: Vec<u8>,
    authorization: Option<String>,
    host: Option<String>,
    if_none_match: Option<String>,
    at: u64,
}

fn call() -> impl Strategy<Value = Call> {
    (
        method(),
        path(),
        body(),
        header_value(),
        header_value(),
        header_value(),
        prop_oneof![4 => 0u64..120_000_000, 1 => any::<u64>()],
    )
        .prop_map(
            |(method, path, body, authorization, host, if_none_match, at)| Call {
                method,
                path,
                body,
                authorization,
                host,
                if_none_match,
                at,
            },
        )
}

fn config() -> impl Strategy<Value = ServerConfig> {
    (
        prop::option::of((0u32..5, prop_oneof![Just(0.0), Just(-1.0), 0.01f64..20.0])),
        prop::option::of(Just("t".to_owned())),
    )
        .prop_map(|(rate_limit, token)| ServerConfig {
            rate_limit: rate_limit.map(|(burst, per_second)| RateLimit { burst, per_second }),
            token,
        })
}

fn build(call: &Call) -> Option<http::Request<Bytes>> {
    let mut builder = http::Request::builder()
        .method(call.method.as_str())
        .uri(call.path.as_str());
    for (name, value) in [
        (http::header::AUTHORIZATION, &call.authorization),
        (http::header::HOST, &call.host),
        (http::header::IF_NONE_MATCH, &call.if_none_match),
    ] {
        if let Some(value) = value
            && let Ok(value) = http::HeaderValue::from_str(value)
        {
            builder = builder.header(name, value);
        }
    }
    builder.body(Bytes::from(call.body.clone())).ok()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_request_gets_a_well_formed_answer(
        config in config(),
        seed in any::<u64>(),
        calls in prop::collection::vec(call(), 1..24),
    ) {
        let mut server = ServerModel::new(config.clone(), seed);
        let mut twin = ServerModel::new(config, seed);
        for call in &calls {
            let Some(request) = build(call) else { continue };
            let now = Instant::from_micros(call.at);
            let response = server.handle(&request, now);
            prop_assert!(response.headers().contains_key(http::header::DATE));
            let is_json = response
                .headers()
                .get(http::header::CONTENT_TYPE)
                .is_some_and(|v| v == "application/json");
            if is_json {
                prop_assert!(
                    serde_json::from_slice::<serde_json::Value>(response.body()).is_ok(),
                    "{} {} gave a JSON answer that is not JSON", call.method, call.path
                );
            }
            if response.status() == http::StatusCode::METHOD_NOT_ALLOWED {
                prop_assert!(response.headers().contains_key(http::header::ALLOW));
            }
            let again = twin.handle(&request, now);
            prop_assert_eq!(response.status(), again.status());
            prop_assert_eq!(response.headers(), again.headers());
            prop_assert_eq!(response.body(), again.body());
        }
        prop_assert_eq!(server.job_count(), twin.job_count());
    }
}
