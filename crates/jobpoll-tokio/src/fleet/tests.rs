//! Unit tests of the fleet runner, with a request sender that answers at once
//! without a network.

use std::future::{Ready, ready};
use std::time::Duration;

use bytes::Bytes;
use jobpoll_core::{Schedule, Start};

use super::*;
use crate::events;

/// Every host at once, without a network: a submit to `front.test/{kind}?{n}`
/// names its status URL on a host of its own, `h{n}.test/{kind}/{n}`; a status
/// poll under `/held/` is refused with `Retry-After: 60`, any other has
/// succeeded.
fn answer(
    _: &reqwest::Client,
    transmit: Transmit,
    _: usize,
    _: Option<crate::transport::Exchange>,
) -> Ready<Answer> {
    let url = &transmit.url;
    let response = if transmit.method == http::Method::POST {
        let n = url.query().unwrap_or("0");
        let status_url = format!("https://h{n}.test{}/{n}", url.path());
        http::Response::builder()
            .status(202)
            .header("azure-asyncoperation", status_url)
            .body(Bytes::new())
    } else if url.path().starts_with("/held/") {
        http::Response::builder()
            .status(429)
            .header("retry-after", "60")
            .body(Bytes::new())
    } else {
        http::Response::builder().body(Bytes::from_static(br#"{"status":"Succeeded"}"#))
    };
    ready(Ok(response.unwrap()))
}

fn runner() -> Runner<Ready<Answer>> {
    Runner::new(
        FleetConfig::default(),
        reqwest::Client::new(),
        answer,
        Arc::new(Redactor::default()),
    )
}

fn config() -> Arc<Config> {
    let ms = Duration::from_millis(1);
    Arc::new(Config {
        poll: Schedule::Fixed { interval: ms },
        retry: Schedule::Fixed { interval: ms },
        min_interval: Duration::ZERO,
        ..Config::fast()
    })
}

fn azure() -> Arc<Profile> {
    Arc::new(Profile::azure_operation())
}

/// Polls `https://h{n}.test/ops/{n}`.
fn poll(n: usize) -> JobSpec<Arc<Profile>> {
    JobSpec {
        profile: azure(),
        start: Start::Poll {
            status_url: format!("https://h{n}.test/ops/{n}").parse().unwrap(),
            job_id: None,
        },
        headers: Vec::new(),
    }
}

/// Submits to the front host, whose answer names `h{n}.test` for the status.
fn submit(kind: &str, n: usize) -> JobSpec<Arc<Profile>> {
    JobSpec {
        profile: azure(),
        start: Start::Submit {
            method: http::Method::POST,
            url: format!("https://front.test/{kind}?{n}").parse().unwrap(),
            body: None,
        },
        headers: Vec::new(),
    }
}

/// Sends `command` with a reply channel and returns the reply's end.
fn ask<T>(
    commands: &mpsc::UnboundedSender<Command>,
    command: impl FnOnce(oneshot::Sender<T>) -> Command,
) -> oneshot::Receiver<T> {
    let (reply, replied) = oneshot::channel();
    commands.send(command(reply)).unwrap();
    replied
}

#[tokio::test]
async fn jobs_on_hosts_of_their_own_leave_nothing_behind_in_the_runner() {
    let mut runner = runner();
    let (commands, receiver) = mpsc::unbounded_channel();
    let jobs = 500;
    // Half polled where the caller says, half where the front host's answer
    // says; some with their events kept from the start, some taken later.
    let mut specs: Vec<_> = (0..jobs / 2).map(poll).collect();
    specs.extend((jobs / 2..jobs).map(|n| submit("ops", n)));
    let mut outcomes = Vec::new();
    let mut streams = Vec::new();
    for (n, spec) in specs.into_iter().enumerate() {
        let (outcome, finished) = oneshot::channel();
        let (sink, stream) = events::channel(4, false);
        let events = (n % 3 == 0).then_some(sink);
        let added = ask(&commands, |reply| Command::Add {
            spec,
            config: config(),
            outcome,
            events,
            reply,
        });
        outcomes.push((added, finished));
        streams.push(stream);
    }
    let driver = async {
        let mut later = Vec::new();
        for (n, (added, finished)) in outcomes.into_iter().enumerate() {
            let subscriber = added.await.unwrap().unwrap();
            if n % 3 == 1 {
                let (sink, stream) = events::channel(4, false);
                commands.send(Command::Events { subscriber, sink }).unwrap();
                later.push(stream);
            }
            assert!(finished.await.unwrap().is_success());
        }
        ask(&commands, Command::Idle).await.unwrap();
        let metrics = ask(&commands, Command::Metrics).await.unwrap();
        drop(commands);
        (metrics, later)
    };
    let ((), (metrics, _later)) = tokio::join!(runner.run(receiver), driver);
    assert_eq!(
        metrics.totals.outcomes.get("succeeded"),
        Some(&(jobs as u64)),
        "{metrics:?}"
    );
    assert_eq!(
        (metrics.running, metrics.waiting, metrics.origins),
        (0, 0, 0),
        "{metrics:?}"
    );
    // Nothing per job or per origin is left in the runner.
    assert_eq!(runner.fleet.origins(), 0);
    assert!(runner.fleet.is_empty());
    assert!(runner.outcomes.is_empty());
    assert!(runner.sinks.is_empty());
    assert!(runner.requests.is_empty());
    assert!(runner.aborting.is_empty());
}

#[tokio::test]
async fn the_throttled_count_covers_the_hosts_servers_name() {
    let mut runner = runner();
    let (commands, receiver) = mpsc::unbounded_channel();
    // Every job starts at the front host; the hosts of four status URLs hold
    // back with a 429, four others answer.
    let specs = (0..8).map(|n| submit(if n % 2 == 0 { "held" } else { "ops" }, n));
    let (jobs, _outcomes): (Vec<_>, Vec<_>) = specs
        .map(|spec| {
            let (sender, outcome) = oneshot::channel();
            ((spec, sender), outcome)
        })
        .unzip();
    let driver = async {
        let added = ask(&commands, |reply| Command::AddMany {
            jobs,
            config: config(),
            reply,
        });
        assert!(added.await.unwrap().iter().all(Result::is_ok));
        let mut held = ask(&commands, Command::Metrics).await.unwrap();
        for _ in 0..1000 {
            if held.totals.errors.get("http_429") == Some(&4) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
            held = ask(&commands, Command::Metrics).await.unwrap();
        }
        ask(&commands, Command::StopAll).await.unwrap();
        ask(&commands, Command::Idle).await.unwrap();
        let stopped = ask(&commands, Command::Metrics).await.unwrap();
        drop(commands);
        (held, stopped)
    };
    let ((), (held, stopped)) = tokio::join!(runner.run(receiver), driver);
    assert_eq!(held.throttled_origins, 4, "{held:?}");
    // The jobs are gone; the four holds still keep their origins.
    assert_eq!(
        (stopped.running, stopped.throttled_origins, stopped.origins),
        (0, 4, 4),
        "{stopped:?}"
    );
    // Once the holds end, so do their origins.
    while let Some(at) = runner.fleet.next_wake() {
        runner
            .fleet
            .handle_input(FleetInput::Tick { now: at })
            .unwrap();
    }
    let metrics = runner.metrics();
    assert_eq!(
        (metrics.throttled_origins, metrics.origins),
        (0, 0),
        "{metrics:?}"
    );
}
