//! No secret reaches a trace, wherever a server or the caller puts it: request
//! headers, the start URL (query and userinfo), response headers holding absolute
//! or relative URLs (`Location`, `Azure-AsyncOperation`, `Operation-Location`,
//! `Content-Location`, `Link`), bodies (URLs the profiles follow, results, messages,
//! bodies only quoted in an excerpt, cut anywhere), and secret strings the caller
//! configured. The redacted trace still replays without divergence.

mod support;

use std::time::Duration;

use bytes::Bytes;
use jobpoll_core::trace::{self, Record, RecordingJob, Redactor};
use jobpoll_core::{Config, Input, Instant, JobSpec, Output, Profile, Purpose, Transmit};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use support::{next_input, read_trace, replay_trace};

const ORIGIN: &str = "https://api.example.com";

/// One answer: status, headers, body.
#[derive(Clone, Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

fn answer(status: u16, body: impl Into<String>) -> Answer {
    Answer {
        status,
        headers: Vec::new(),
        body: body.into(),
    }
}

/// Drives `job` to its end: the requests are answered by `next` in order, 50 ms
/// after they go out.
fn drive(
    job: &mut RecordingJob,
    mut next: impl FnMut(&Transmit) -> Answer,
) -> Result<(), TestCaseError> {
    let mut now = Instant::ZERO;
    let mut pending: Option<(Instant, Input)> = None;
    for _ in 0..500 {
        match job.poll_output() {
            Output::Transmit(transmit) => {
                let reply = next(&transmit);
                let mut builder = http::Response::builder().status(reply.status);
                for (name, value) in &reply.headers {
                    builder = builder.header(name, value);
                }
                let response = builder
                    .body(Bytes::from(reply.body))
                    .map_err(|e| TestCaseError::fail(format!("a scripted response: {e}")))?;
                let at = now + Duration::from_millis(50);
                pending = Some((
                    at,
                    Input::Response {
                        request: transmit.id,
                        response,
                        now: at,
                    },
                ));
            }
            Output::Abort(_) => pending = None,
            Output::WakeAt(at) => {
                let input = next_input(&mut pending, &mut now, at);
                prop_assert_eq!(job.handle_input(input), Ok(()));
            }
            Output::Done => return Ok(()),
            Output::Event(_) | Output::Finished(_) => {}
        }
    }
    Err(TestCaseError::fail("the job did not finish"))
}

/// The secrets of one run: distinct strings no trace may hold.
#[derive(Clone, Debug)]
struct Secrets {
    /// A bearer token in `Authorization`.
    token: String,
    /// A key the caller configured as a secret value, sent in a custom header.
    key: String,
    /// Query values (`sig=`, `token=`, `access_token=` in a fragment, ...).
    query: Vec<String>,
    /// A password in a URL's userinfo.
    password: String,
}

impl Secrets {
    fn all(&self) -> Vec<&str> {
        let mut all = vec![self.token.as_str(), self.key.as_str(), &self.password];
        all.extend(self.query.iter().map(String::as_str));
        all
    }
}

fn secret(tag: &'static str) -> impl Strategy<Value = String> {
    "[A-Z0-9]{10,24}".prop_map(move |s| format!("{tag}{s}"))
}

fn secrets() -> impl Strategy<Value = Secrets> {
    (
        secret("TOK"),
        secret("KEY"),
        prop::collection::vec(secret("QRY"), 6),
        secret("PWD"),
    )
        .prop_map(|(token, key, query, password)| Secrets {
            token,
            key,
            query,
            password,
        })
}

/// Where the secrets go in one run.
#[derive(Clone, Debug)]
struct Script {
    secrets: Secrets,
    api: u8,
    /// Response URLs are relative (`/op/1?sig=…`) rather than absolute.
    relative: bool,
    /// The secret query parameter's name, as the server spells it.
    param: &'static str,
    /// Filler before the secret in bodies that are only quoted in excerpts, so
    /// that the excerpt's cut falls before, inside or after it.
    filler: usize,
    /// Status answers before the end.
    polls: u8,
    /// How the run ends: 0 success, 1 a rejected request (its body quoted), 2
    /// unreadable bodies (quoted), 3 a failure message.
    end: u8,
}

fn script() -> impl Strategy<Value = Script> {
    (
        secrets(),
        0u8..3,
        any::<bool>(),
        prop::sample::select(vec![
            "sig",
            "SIG",
            "token",
            "access_token",
            "X-Amz-Signature",
            "%73ig",
        ]),
        150usize..260,
        0u8..4,
        0u8..4,
    )
        .prop_map(
            |(secrets, api, relative, param, filler, polls, end)| Script {
                secrets,
                api,
                relative,
                param,
                filler,
                polls,
                end,
            },
        )
}

impl Script {
    /// A URL on the server with a secret query value (`n` picks which).
    fn url(&self, path: &str, n: usize) -> String {
        let q = &self.secrets.query[n % self.secrets.query.len()];
        let relative = format!("{path}?api-version=1&{}={q}", self.param);
        if self.relative {
            relative
        } else {
            format!("{ORIGIN}{relative}")
        }
    }

    /// A body that is only ever quoted: filler, then secrets.
    fn quoted_body(&self) -> String {
        let s = &self.secrets;
        format!(
            "{} see {ORIGIN}/x?{}={} or https://admin:{}@api.example.com/ key {}",
            "x".repeat(self.filler),
            self.param,
            s.query[5],
            s.password,
            s.key
        )
    }

    fn redactor(&self) -> Redactor {
        Redactor::default().with_value(self.secrets.key.clone())
    }

    fn spec(&self) -> JobSpec {
        let s = &self.secrets;
        let with_secrets = |spec: JobSpec| {
            spec.with_header("Authorization", format!("Bearer {}", s.token))
                .with_header("X-Custom-Key", s.key.clone())
        };
        match self.api {
            // Azure: everything comes from response headers.
            0 => with_secrets(JobSpec::submit(
                Profile::azure_operation(),
                format!("{ORIGIN}/resources/r1?api-version=1")
                    .parse()
                    .expect("valid URL"),
                Some(format!(r#"{{"apiKey":"{}"}}"#, s.key)),
            )),
            // Jobs: a start URL with a token and a password.
            1 => with_secrets(
                JobSpec::poll(
                    Profile::jobs(),
                    format!(
                        "https://user:{}@api.example.com/api/v1/jobs/job-1?token={}",
                        s.password, s.query[4]
                    )
                    .parse()
                    .expect("valid URL"),
                )
                .with_job_id("job-1"),
            ),
            // File tasks: the result URL is in the body.
            _ => with_secrets(
                JobSpec::poll(
                    Profile::file_tasks(),
                    format!("{ORIGIN}/api/file/file-1")
                        .parse()
                        .expect("valid URL"),
                )
                .with_job_id("file-1"),
            ),
        }
    }

    fn running(&self, poll: usize) -> Answer {
        let s = &self.secrets;
        let link = format!("<{}>; rel=\"next\"", self.url("/page/2", poll + 1));
        let mut reply = match self.api {
            0 => answer(
                200,
                format!(
                    r#"{{"status":"InProgress","percentComplete":{poll},"next":"{}","note":"key {}"}}"#,
                    self.url("/next", poll),
                    s.key
                ),
            ),
            1 => answer(
                200,
                format!(
                    r#"{{"job_id":"job-1","status":"processing","progress_data":{{"percentage":{poll},"current_step":"uploading with {}"}}}}"#,
                    s.key
                ),
            ),
            _ => answer(
                200,
                format!(
                    r#"{{"id":"file-1","tasks":[{{"status":"processing","log":"{}"}}]}}"#,
                    self.url("/logs", poll)
                ),
            ),
        };
        reply.headers.push(("link".to_owned(), link));
        reply.headers.push((
            "content-location".to_owned(),
            format!(
                "https://viewer:{}@api.example.com/c#access_token={}",
                s.password, s.query[3]
            ),
        ));
        reply
    }

    fn last(&self) -> Answer {
        let s = &self.secrets;
        match self.end {
            1 => answer(422, self.quoted_body()),
            2 => answer(200, self.quoted_body()),
            3 => match self.api {
                0 => answer(
                    200,
                    format!(
                        r#"{{"status":"Failed","error":{{"message":"bad key {}","target":"{}"}}}}"#,
                        s.key,
                        self.url("/err", 2)
                    ),
                ),
                1 => answer(
                    200,
                    format!(
                        r#"{{"status":"failed","error_data":{{"message":"denied for {}","details":{{"retry":"{}"}}}}}}"#,
                        s.key,
                        self.url("/retry", 2)
                    ),
                ),
                _ => answer(
                    200,
                    format!(
                        r#"{{"id":"file-1","tasks":[{{"status":"error","log":"{}"}}]}}"#,
                        self.url("/logs", 2)
                    ),
                ),
            },
            _ => match self.api {
                0 => answer(
                    200,
                    format!(
                        r#"{{"status":"Succeeded","output":"{}"}}"#,
                        self.url("/blob", 2)
                    ),
                ),
                1 => answer(
                    200,
                    format!(
                        r#"{{"job_id":"job-1","status":"completed","result_data":{{"url":"{}","by":"{}"}}}}"#,
                        self.url("/result", 2),
                        s.key
                    ),
                ),
                _ => answer(
                    200,
                    format!(
                        r#"{{"id":"file-1","url":"{}","tasks":[{{"status":"completed"}}]}}"#,
                        self.url("/file", 2)
                    ),
                ),
            },
        }
    }

    fn reply(&self, transmit: &Transmit, polls: &mut usize) -> Answer {
        let s = &self.secrets;
        match transmit.purpose {
            Purpose::Submit => {
                let mut reply = answer(202, r#"{"status":"Accepted"}"#);
                let operation = if self.relative {
                    "operation-location"
                } else {
                    "azure-asyncoperation"
                };
                reply.headers = vec![
                    (operation.to_owned(), self.url("/operations/op-1", 0)),
                    ("location".to_owned(), self.url("/resources/r1/result", 1)),
                    ("set-cookie".to_owned(), format!("session={}", s.query[2])),
                    ("retry-after".to_owned(), "1".to_owned()),
                ];
                reply
            }
            Purpose::Results => answer(
                200,
                format!(
                    r#"{{"id":"r1","download":"{}","owner":"{}"}}"#,
                    self.url("/dl", 3),
                    s.key
                ),
            ),
            Purpose::Cancel => answer(200, "{}"),
            Purpose::Status => {
                *polls += 1;
                if *polls <= usize::from(self.polls) {
                    self.running(*polls)
                } else {
                    self.last()
                }
            }
        }
    }
}

fn run(script: &Script) -> Result<(), TestCaseError> {
    let redactor = script.redactor();
    let config = Config {
        seed: 3,
        max_unreadable: 2,
        ..Config::fast()
    };
    let mut job = RecordingJob::new(script.spec(), config, Instant::ZERO, redactor.clone())
        .map_err(|e| TestCaseError::fail(format!("a valid job was refused: {e}")))?;
    let mut polls = 0;
    let mut sent = Vec::new();
    drive(&mut job, |transmit| {
        sent.push(transmit.clone());
        script.reply(transmit, &mut polls)
    })?;

    let text = trace::to_json_lines(job.records());
    for secret in script.secrets.all() {
        let leak = text.lines().find(|line| line.contains(secret));
        prop_assert!(
            leak.is_none(),
            "{} reached the trace: {}",
            secret,
            leak.unwrap_or("")
        );
    }
    // The job itself sent the real credentials.
    prop_assert!(
        sent.iter().all(|t| t
            .headers
            .iter()
            .any(|(_, v)| v.contains(&script.secrets.token))),
        "the token was not sent"
    );
    let back = read_trace(&text)?;
    replay_trace(&back, &redactor, &text)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// No secret reaches the trace, and the redacted trace replays.
    #[test]
    fn no_secret_reaches_a_trace(script in script()) {
        run(&script)?;
    }

    /// Redacting is idempotent on any text, and leaves text without secrets alone.
    #[test]
    fn redaction_is_idempotent(text in "[ -~é…]{0,80}", secret in secret("Z")) {
        let redactor = Redactor::default().with_value(secret.clone());
        let once = redactor.text(&text).into_owned();
        prop_assert_eq!(redactor.text(&once).into_owned(), once.clone());
        prop_assert_eq!(once.chars().count(), text.chars().count());
        let with = format!("{text}?sig={secret}&b=1 {secret}");
        prop_assert!(!redactor.text(&with).contains(&secret));
    }
}

#[test]
fn a_relative_location_keeps_no_secret() {
    let redactor = Redactor::default();
    let cases = [
        ("/op/1/result?sig=SECRET", "/op/1/result?sig=******"),
        ("op/1?a=1&token=SECRET#x", "op/1?a=1&token=******#x"),
        ("?sig=SECRET", "?sig=******"),
        (
            "//user:SECRET@cdn.example.com/x",
            "//***********@cdn.example.com/x",
        ),
        (
            "/c#access_token=SECRET&state=1",
            "/c#access_token=******&state=1",
        ),
        (
            "</page/2?%73ig=SECRET>; rel=\"next\", <https://h/p?key=SECRET>; rel=\"last\"",
            "</page/2?%73ig=******>; rel=\"next\", <https://h/p?key=******>; rel=\"last\"",
        ),
        (
            r#"{"next":"\/op?a=1\u0026sig=SECRET"}"#,
            r#"{"next":"\/op?a=1\u0026sig=******"}"#,
        ),
        (
            "/op/1?signature_version=2&design=ok",
            "/op/1?signature_version=2&design=ok",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(redactor.text(text), expected, "{text}");
    }
}

/// The trace, redacted by `redactor`, of an Azure operation submitted to
/// `ORIGIN/resources/r1`: the submit is answered 202 with the header `name: value`,
/// every later request 200 "Succeeded".
fn azure_trace(redactor: Redactor, name: &str, value: String) -> String {
    let spec = JobSpec::submit(
        Profile::azure_operation(),
        format!("{ORIGIN}/resources/r1").parse().expect("valid URL"),
        None,
    );
    let mut job =
        RecordingJob::new(spec, Config::fast(), Instant::ZERO, redactor).expect("valid job");
    let mut header = Some((name.to_owned(), value));
    drive(&mut job, |_| match header.take() {
        Some(header) => {
            let mut reply = answer(202, "{}");
            reply.headers = vec![header];
            reply
        }
        None => answer(200, r#"{"status":"Succeeded"}"#),
    })
    .expect("the job finishes");
    trace::to_json_lines(job.records())
}

#[test]
fn a_relative_location_header_is_redacted_in_the_trace() {
    let text = azure_trace(
        Redactor::default(),
        "location",
        "/op/1/result?sig=SECRETSECRET".to_owned(),
    );
    assert!(!text.contains("SECRETSECRET"), "{text}");
    assert!(text.contains("/op/1/result?sig=************"), "{text}");
}

#[test]
fn a_configured_value_that_is_a_word_of_the_format_hides_no_other_secret() {
    // "submitted" is also the name of the event that carries the status URL: that
    // event stays readable, and the URL's signature is still masked in it.
    let redactor = Redactor::default().with_value("submitted");
    let text = azure_trace(
        redactor.clone(),
        "azure-asyncoperation",
        format!("{ORIGIN}/operations/op-1?sig=SIGNATURESECRET"),
    );
    assert!(!text.contains("SIGNATURESECRET"), "{text}");
    assert!(text.contains(r#""event":"submitted""#), "{text}");
    let back: Vec<Record> = trace::from_json_lines(&text).expect("the trace reads back");
    trace::replay(&back, &redactor)
        .expect("a usable trace")
        .expect("the redacted trace replays");
}

#[test]
fn the_secrets_of_the_callers_headers_are_masked_wherever_they_occur() {
    let headers = [
        ("Authorization".to_owned(), "Bearer tok3n-value".to_owned()),
        ("X-Api-Key".to_owned(), "k3y".to_owned()),
        ("X-Team".to_owned(), "blue team".to_owned()),
        ("Cookie".to_owned(), "Bearer abc".to_owned()),
    ];
    let redactor = Redactor::default().with_header_secrets(&headers);
    assert_eq!(
        redactor.values,
        ["Bearer tok3n-value", "tok3n-value", "k3y", "Bearer abc"],
        "secret headers' values and credentials of four characters or more; not X-Team"
    );
    assert_eq!(
        redactor.text("echo: tok3n-value, blue team"),
        "echo: ***********, blue team"
    );
}
