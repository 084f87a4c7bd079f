//! A virtual-clock driver for tests: runs a job against a scripted server and
//! writes one readable line per input and output. Also the helpers several test
//! files share.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use jobpoll_core::event::{CancelledBy, Event};
use jobpoll_core::time::format_duration;
use jobpoll_core::trace::{self, Record, RecordingJob, Redactor};
use jobpoll_core::{
    Config, Input, Instant, Interpret, Job, Outcome, Output, Schedule, Transmit, TransportError,
};
use proptest::test_runner::TestCaseError;

pub mod fleet_world;
pub mod jobs_api;
pub mod profile_runs;
pub mod scripts;

/// What the scripted server does with one request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// Answer after `after`.
    Respond {
        after: Duration,
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Fail after `after`.
    Fail {
        after: Duration,
        error: TransportError,
    },
    /// Never answer.
    Hang,
}

impl Reply {
    /// 200 with a JSON body, at once.
    pub fn ok(body: &str) -> Reply {
        Reply::status(200, body)
    }

    /// `status` with a body, at once.
    pub fn status(status: u16, body: &str) -> Reply {
        Reply::Respond {
            after: Duration::ZERO,
            status,
            headers: Vec::new(),
            body: body.to_owned(),
        }
    }

    /// The same reply with one more header.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        if let Reply::Respond { headers, .. } = &mut self {
            headers.push((name.to_owned(), value.to_owned()));
        }
        self
    }

    /// The same reply after `after`.
    pub fn after(mut self, delay: Duration) -> Reply {
        match &mut self {
            Reply::Respond { after, .. } | Reply::Fail { after, .. } => *after = delay,
            Reply::Hang => {}
        }
        self
    }

    /// A transport error, at once.
    pub fn fail(error: TransportError) -> Reply {
        Reply::Fail {
            after: Duration::ZERO,
            error,
        }
    }
}

/// Everything a run produced.
#[derive(Debug, Default)]
pub struct Run {
    /// One line per input and output.
    pub lines: Vec<String>,
    /// Every request with the instant it was sent.
    pub sent: Vec<(Instant, Transmit)>,
    /// Every event with its instant.
    pub events: Vec<(Instant, Event)>,
    /// The outcome and its instant.
    pub outcome: Option<(Instant, Outcome)>,
}

impl Run {
    /// The lines joined, for snapshots.
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }

    /// The outcome (panics if the run did not finish: a test failure).
    pub fn outcome(&self) -> &Outcome {
        &self.outcome.as_ref().expect("the job finished").1
    }

    /// Seconds since the start at which each request went out.
    pub fn send_times(&self) -> Vec<f64> {
        self.sent
            .iter()
            .map(|(at, _)| at.since_epoch().as_secs_f64())
            .collect()
    }
}

/// Runs `job` (started at `Instant::ZERO`) to its end against `server`, cancelling at
/// `cancel_at` if given. Stops after `max_steps` outputs to catch livelocks.
pub fn run<P: Interpret>(
    mut job: Job<P>,
    mut server: impl FnMut(&Transmit, Instant) -> Reply,
    cancel_at: Option<Instant>,
) -> Run {
    let mut run = Run::default();
    let mut now = Instant::ZERO;
    let mut pending: Option<(Instant, Input)> = None;
    let mut cancel_at = cancel_at;
    let mut last_wait = None;
    for _ in 0..100_000 {
        match job.poll_output() {
            Output::Transmit(transmit) => {
                run.lines.push(line(
                    now,
                    format!(
                        "-> {} {} {} [{:?}]",
                        transmit.id,
                        transmit.method,
                        path(&transmit),
                        transmit.purpose
                    ),
                ));
                run.sent.push((now, transmit.clone()));
                pending = match server(&transmit, now) {
                    Reply::Respond {
                        after,
                        status,
                        headers,
                        body,
                    } => {
                        let mut builder = http::Response::builder().status(status);
                        for (name, value) in &headers {
                            builder = builder.header(name, value);
                        }
                        let response = builder
                            .body(Bytes::from(body))
                            .expect("valid scripted response");
                        let at = now + after;
                        Some((
                            at,
                            Input::Response {
                                request: transmit.id,
                                response,
                                now: at,
                            },
                        ))
                    }
                    Reply::Fail { after, error } => {
                        let at = now + after;
                        Some((
                            at,
                            Input::TransportError {
                                request: transmit.id,
                                error,
                                now: at,
                            },
                        ))
                    }
                    Reply::Hang => None,
                };
            }
            Output::Abort(id) => {
                run.lines.push(line(now, format!("abort {id}")));
                if matches!(&pending, Some((_, Input::Response { request, .. } | Input::TransportError { request, .. })) if *request == id)
                {
                    pending = None;
                }
            }
            Output::Event(event) => {
                run.lines
                    .push(line(now, format!("event {}", describe(&event))));
                run.events.push((now, event));
            }
            Output::Finished(outcome) => {
                run.lines
                    .push(line(now, format!("finished {}: {outcome}", outcome.kind())));
                run.outcome = Some((now, outcome));
            }
            Output::Done => return run,
            Output::WakeAt(at) => {
                if last_wait != Some(at) {
                    run.lines.push(line(
                        now,
                        format!("wait until {}", format_duration(at.since_epoch())),
                    ));
                    last_wait = Some(at);
                }
                let reply_at = pending.as_ref().map(|(t, _)| *t);
                let cancel = cancel_at.filter(|c| *c <= at && reply_at.is_none_or(|r| *c < r));
                if let Some(c) = cancel {
                    now = now.max(c);
                    cancel_at = None;
                    run.lines.push(line(now, "cancel".to_owned()));
                    job.handle_input(Input::Cancel { now })
                        .expect("cancel is always accepted");
                } else if let Some(r) = reply_at.filter(|r| *r <= at) {
                    now = now.max(r);
                    let (_, input) = pending.take().expect("checked above");
                    run.lines.push(line(now, describe_input(&input)));
                    job.handle_input(input)
                        .expect("the answer matches the request in flight");
                } else {
                    now = now.max(at);
                    job.handle_input(Input::Tick { now })
                        .expect("ticks are always accepted");
                }
            }
        }
    }
    panic!(
        "the job did not finish within 100000 outputs:\n{}",
        run.text()
    );
}

fn line(now: Instant, text: String) -> String {
    format!("{:>12}  {text}", format_duration(now.since_epoch()))
}

fn path(transmit: &Transmit) -> String {
    match transmit.url.query() {
        Some(query) => format!("{}?{query}", transmit.url.path()),
        None => transmit.url.path().to_owned(),
    }
}

fn describe_input(input: &Input) -> String {
    match input {
        Input::Response {
            request, response, ..
        } => {
            let mut text = format!("<- {request} {}", response.status().as_u16());
            for name in [
                "retry-after",
                "retry-after-ms",
                "ratelimit",
                "etag",
                "location",
                "operation-location",
            ] {
                if let Some(value) = response.headers().get(name).and_then(|v| v.to_str().ok()) {
                    text.push_str(&format!(" {name}: {value}"));
                }
            }
            let body = String::from_utf8_lossy(response.body());
            if !body.is_empty() {
                let short: String = body.chars().take(90).collect();
                text.push_str(&format!(" {short}"));
                if body.chars().count() > 90 {
                    text.push('…');
                }
            }
            text
        }
        Input::TransportError { request, error, .. } => {
            format!("<- {request} transport error: {error}")
        }
        Input::Tick { .. } => "tick".to_owned(),
        Input::Cancel { .. } => "cancel".to_owned(),
    }
}

/// A compact, readable form of an event.
pub fn describe(event: &Event) -> String {
    event.to_string()
}

/// Whether the outcome is a client cancel with the given server confirmation.
pub fn cancelled_by_client(outcome: &Outcome, confirmed: Option<bool>) -> bool {
    matches!(outcome, Outcome::Cancelled { by: CancelledBy::Client { server_confirmed }, .. } if *server_confirmed == confirmed)
}

// --- Helpers for the scenario, classification and profile tests -----------------

/// An `https://api.example.com` URL with `path`.
pub fn api(path: &str) -> url::Url {
    format!("https://api.example.com{path}")
        .parse()
        .expect("valid URL")
}

/// A server that answers the requests with `replies`, in order, and fails the test
/// if it is asked once more than that.
pub fn script(replies: Vec<Reply>) -> impl FnMut(&Transmit, Instant) -> Reply {
    let mut replies = std::collections::VecDeque::from(replies);
    move |transmit, now| {
        replies.pop_front().unwrap_or_else(|| {
            panic!(
                "unexpected request {} {} {} at {}: the script is used up",
                transmit.id,
                transmit.method,
                transmit.url,
                format_duration(now.since_epoch())
            )
        })
    }
}

/// Seconds since the epoch of `instant`.
pub fn secs(instant: Instant) -> f64 {
    instant.since_epoch().as_secs_f64()
}

/// The value of header `name` (any case) of a request, if it has one.
pub fn header<'a>(transmit: &'a Transmit, name: &str) -> Option<&'a str> {
    transmit
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

impl Run {
    /// When the outcome came, in seconds since the start.
    pub fn finished_at(&self) -> f64 {
        secs(self.outcome.as_ref().expect("the job finished").0)
    }

    /// The requests sent for `purpose`, with their send time in seconds.
    pub fn requests(&self, purpose: jobpoll_core::Purpose) -> Vec<(f64, &Transmit)> {
        self.sent
            .iter()
            .filter(|(_, t)| t.purpose == purpose)
            .map(|(at, t)| (secs(*at), t))
            .collect()
    }

    /// Every `Retrying` event as (seconds since the start, delay in seconds, errors in
    /// a row).
    pub fn retries(&self) -> Vec<(f64, f64, u32)> {
        self.events
            .iter()
            .filter_map(|(at, event)| match event {
                Event::Retrying {
                    delay,
                    consecutive_errors,
                    ..
                } => Some((secs(*at), delay.as_secs_f64(), *consecutive_errors)),
                _ => None,
            })
            .collect()
    }

    /// The causes of every `Retrying` event, in order.
    pub fn retry_causes(&self) -> Vec<&jobpoll_core::PollError> {
        self.events
            .iter()
            .filter_map(|(_, event)| match event {
                Event::Retrying { cause, .. } => Some(cause),
                _ => None,
            })
            .collect()
    }

    /// Every `Progress` event, in order.
    pub fn progress(&self) -> Vec<&jobpoll_core::Progress> {
        self.events
            .iter()
            .filter_map(|(_, event)| match event {
                Event::Progress(progress) => Some(progress),
                _ => None,
            })
            .collect()
    }

    /// The `next_poll_in` of every `Progress` event, in seconds.
    pub fn poll_gaps(&self) -> Vec<f64> {
        self.progress()
            .iter()
            .map(|p| p.next_poll_in.as_secs_f64())
            .collect()
    }

    /// Whether an event matching `pred` was emitted.
    pub fn has_event(&self, pred: impl Fn(&Event) -> bool) -> bool {
        self.events.iter().any(|(_, event)| pred(event))
    }

    /// Ids of the requests the job aborted, in order (from the `abort` lines).
    pub fn aborted(&self) -> Vec<String> {
        self.lines
            .iter()
            .filter_map(|line| {
                line.trim_start()
                    .split_once("  abort ")
                    .map(|(_, id)| id.to_owned())
            })
            .collect()
    }
}

// --- Helpers for the clock, resume, JSON and trace tests ------------------------

/// What gives a job's outputs one at a time: a [`Job`] or a [`RecordingJob`].
pub trait Outputs {
    /// The next output.
    fn next_output(&mut self) -> Output;
}

impl<P: Interpret> Outputs for Job<P> {
    fn next_output(&mut self) -> Output {
        self.poll_output()
    }
}

impl<P: Interpret + Clone> Outputs for RecordingJob<P> {
    fn next_output(&mut self) -> Output {
        self.poll_output()
    }
}

/// Every output until the job waits or is done (the last is a `WakeAt` or `Done`).
pub fn drain(job: &mut impl Outputs) -> Vec<Output> {
    let mut outputs = Vec::new();
    loop {
        let output = job.next_output();
        let end = matches!(output, Output::WakeAt(_) | Output::Done);
        outputs.push(output);
        if end {
            return outputs;
        }
    }
}

/// The input for a job that waits until `at`: the `pending` answer if it comes by
/// then, else a tick at `at`; `now` moves on to the time of the input.
pub fn next_input(pending: &mut Option<(Instant, Input)>, now: &mut Instant, at: Instant) -> Input {
    match pending.take() {
        Some((answer_at, input)) if answer_at <= at => {
            *now = (*now).max(answer_at);
            input
        }
        other => {
            *pending = other;
            *now = (*now).max(at);
            Input::Tick { now: *now }
        }
    }
}

/// The records of a trace's JSON lines; a trace that does not read back fails the
/// case.
pub fn read_trace(text: &str) -> Result<Vec<Record>, TestCaseError> {
    trace::from_json_lines(text)
        .map_err(|e| TestCaseError::fail(format!("the trace does not read back: {e}")))
}

/// Replays `records` with `redactor`; a divergence (shown with the trace's `text`)
/// or a trace that cannot replay fails the case.
pub fn replay_trace(
    records: &[Record],
    redactor: &Redactor,
    text: &str,
) -> Result<(), TestCaseError> {
    match trace::replay(records, redactor) {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(divergence)) => Err(TestCaseError::fail(format!(
            "the trace diverged: {divergence}\n{text}"
        ))),
        Err(error) => Err(TestCaseError::fail(format!("replay failed: {error}"))),
    }
}

// --- Helpers for the fleet tests -------------------------------------------------

/// A configuration that polls and retries every `seconds`, with no floor on the
/// interval, no cap on attempts, and `deadline`.
pub fn every(seconds: u64, deadline: Duration) -> Arc<Config> {
    Arc::new(Config {
        poll: Schedule::Fixed {
            interval: Duration::from_secs(seconds),
        },
        retry: Schedule::Fixed {
            interval: Duration::from_secs(seconds),
        },
        min_interval: Duration::ZERO,
        deadline: Some(deadline),
        max_attempts: None,
        ..Config::standard()
    })
}

/// Whether a request sent at `at` (seconds) went when a server's wait of `wait`
/// seconds, asked at `from`, allowed: never before it, and within the spread the
/// job adds above it (less than 10 % of the wait, at most 5 s).
pub fn within_spread(at: f64, from: f64, wait: f64) -> bool {
    let end = from + wait;
    at >= end && at < end + (wait * 0.1).clamp(1e-6, 5.0)
}
