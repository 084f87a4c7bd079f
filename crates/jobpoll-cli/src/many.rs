//! Many jobs at once through one fleet: `wait URL URL ...`, `wait --urls-from FILE`
//! and `submit --count N`.

use std::collections::BTreeMap;
use std::future::Future;
use std::io::Read as _;
use std::path::Path;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use jobpoll_core::{JobSpec, Outcome, Profile, Start};
use jobpoll_tokio::{DriverError, FleetConfig, FleetJob, FleetMetrics};
use url::Url;

use crate::output::Target;
use crate::report::Report;
use crate::wait::{Common, config, headers, parse_url, usage};
use crate::{exit, json_lines, output};

/// The limits of the fleet that runs several jobs (one job runs on its own).
#[derive(clap::Args)]
pub(crate) struct Limits {
    /// With several jobs: requests in flight at once, over all servers.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) max_in_flight: u32,
    /// With several jobs: requests in flight at once to one server (scheme, host and
    /// port).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) max_in_flight_per_origin: u32,
}

/// One job of many: how it is shown, and what starts it.
pub(crate) struct Item {
    /// The URL it was given by (secret query values redacted), as in its JSON lines.
    url: String,
    /// How readable lines name it: the URL, with `#n` for `submit --count`.
    label: String,
    spec: JobSpec<Arc<Profile>>,
}

/// The status URLs in `path` (`-`: standard input), one a line; blank lines and
/// lines starting with `#` are skipped. A line that is not an http or https URL is
/// an error naming its line number.
pub(crate) fn read_urls(path: &Path) -> Result<Vec<Url>, String> {
    let (name, text) = if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|error| format!("cannot read URLs from standard input: {error}"))?;
        ("standard input".to_owned(), text)
    } else {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|error| format!("cannot read URLs from {name}: {error}"))?;
        (name, text)
    };
    let mut urls = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let url =
            parse_url(line).map_err(|error| format!("{name}, line {}: {error}", number + 1))?;
        urls.push(url);
    }
    Ok(urls)
}

/// Jobs that poll `urls`, all with one shared profile.
pub(crate) fn polls(profile: Profile, urls: Vec<Url>) -> Vec<Item> {
    let profile = Arc::new(profile);
    let redactor = jobpoll_core::trace::Redactor::default();
    urls.into_iter()
        .map(|status_url| Item {
            url: redactor.url(&status_url).to_string(),
            label: redactor.url(&status_url).to_string(),
            spec: JobSpec {
                profile: Arc::clone(&profile),
                start: Start::Poll {
                    status_url,
                    job_id: None,
                },
                headers: Vec::new(),
            },
        })
        .collect()
}

/// `count` jobs, each created by its own request as `start` says.
pub(crate) fn submits(profile: Profile, start: &Start, count: u32) -> Vec<Item> {
    let profile = Arc::new(profile);
    let shown = crate::wait::shown_url(start);
    (1..=count)
        .map(|n| Item {
            url: shown.clone(),
            label: format!("{shown} #{n}"),
            spec: JobSpec {
                profile: Arc::clone(&profile),
                start: start.clone(),
                headers: Vec::new(),
            },
        })
        .collect()
}

type Following = Pin<Box<dyn Future<Output = (usize, Result<Outcome, DriverError>)>>>;

/// Runs `items` through one fleet and shows each outcome as it comes: its outcome
/// line (`docs/cli.md`, "JSON output") on standard output, or in the `-o` file in
/// the order given, and a readable line and a summary on standard error. With
/// `--json`, every event line comes before its job's outcome line. The exit code is
/// the most severe of the outcomes' (see [`exit::most_severe`]).
pub(crate) async fn run(items: Vec<Item>, common: &Common, limits: &Limits) -> ExitCode {
    if common.trace.is_some() {
        return usage("--trace records one job: give one URL (or --count 1)");
    }
    if common.job_id.is_some() {
        return usage("--job-id names one job: give one URL (or --count 1)");
    }
    let target = match output::target(common.output.as_deref(), common.json) {
        Ok(target) => target,
        Err(error) => return usage(&error),
    };
    let (config, headers) = match (config(common), headers(common)) {
        (Ok(config), Ok(headers)) => (Arc::new(config), headers),
        (Err(error), _) | (_, Err(error)) => return usage(&error),
    };
    let session = match crate::net::Session::new(common, &headers) {
        Ok(session) => session,
        Err(error) => return usage(&error),
    };
    let fleet = match session.client.fleet(FleetConfig {
        max_in_flight: limits.max_in_flight,
        max_in_flight_per_origin: limits.max_in_flight_per_origin,
        seed: 0,
    }) {
        Ok(fleet) => fleet,
        Err(error) => return usage(&error.to_string()),
    };
    let total = items.len();
    let mut report = Report::with_view(common.view());
    let bar = report.fleet("jobs", total as u64);
    let mut urls = Vec::with_capacity(total);
    let mut labels = Vec::with_capacity(total);
    let mut specs = Vec::with_capacity(total);
    for item in items {
        let mut spec = item.spec;
        spec.headers.extend(headers.iter().cloned());
        specs.push(spec);
        urls.push(item.url);
        labels.push(item.label);
    }
    let added = match add_all(&fleet, specs, &config, common.json).await {
        Ok(added) => added,
        Err(error) => {
            let _ = fleet.shutdown().await;
            session.finish();
            return usage(&error.to_string());
        }
    };
    let mut following: FuturesUnordered<Following> = FuturesUnordered::new();
    for (index, job) in added.into_iter().enumerate() {
        let json_url = common.json.then(|| urls[index].clone());
        following.push(Box::pin(follow(index, job, json_url)));
    }
    let mut outcomes: Vec<Option<Outcome>> = vec![None; total];
    let mut lines: Vec<Option<serde_json::Value>> = vec![None; total];
    let mut code = exit::SUCCESS;
    let mut interrupted = false;
    let mut ticker = tokio::time::interval(Duration::from_millis(200));
    loop {
        tokio::select! {
            next = following.next() => match next {
                Some((index, Ok(outcome))) => {
                    code = exit::most_severe(code, exit::of(&outcome));
                    let line = json_lines::outcome(index + 1, &urls[index], &outcome);
                    if common.json {
                        output::print_line(&line);
                    } else {
                        report.note(&format!("{}: {outcome}", labels[index]));
                        if target == Some(Target::Stdout) {
                            report.line(&line.to_string());
                        }
                    }
                    if let Some(bar) = &bar {
                        bar.inc(1);
                    }
                    outcomes[index] = Some(outcome);
                    lines[index] = Some(line);
                }
                Some((index, Err(error))) => {
                    code = exit::most_severe(code, exit::GAVE_UP);
                    report.note(&format!("{}: {error}", labels[index]));
                }
                None => break,
            },
            _ = ticker.tick(), if bar.is_some() => {
                if let (Some(bar), Ok(metrics)) = (&bar, fleet.metrics().await) {
                    crate::report::show_fleet(bar, &metrics);
                }
            }
            _ = tokio::signal::ctrl_c() => {
                if interrupted {
                    report.interrupt();
                    return ExitCode::from(exit::CANCELLED);
                }
                interrupted = true;
                report.note("jobpoll: cancelling every job (Ctrl-C again to quit at once)");
                let _ = fleet.stop_all().await;
            }
        }
    }
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let metrics = fleet.metrics().await.unwrap_or_default();
    let _ = fleet.shutdown().await;
    let summary = Summary::new(outcomes.iter().flatten(), &metrics);
    report.note(&summary.text());
    // What to do about the jobs that ended so, once for all of them.
    let mut advice = std::collections::BTreeSet::new();
    for outcome in outcomes.iter().flatten() {
        advice.extend(crate::net::advice(outcome));
        if matches!(outcome, Outcome::NotFound { .. }) {
            advice.insert(format!(
                "jobpoll: {}",
                crate::flags::not_found_advice(&config)
            ));
        }
    }
    for line in &advice {
        report.note(line);
    }
    if let Some(target @ Target::File(_)) = &target {
        let lines: Vec<serde_json::Value> = lines.into_iter().flatten().collect();
        if let Err(error) = target.write_lines(&lines) {
            eprintln!("jobpoll: the outcomes are lost: {error}");
            code = exit::most_severe(code, exit::WRITE_FAILED);
        }
    }
    ExitCode::from(code)
}

/// Adds every job to the fleet: all with one message when only their outcomes are
/// wanted, one at a time with an event stream each for `--json`. The first job the
/// fleet refuses is the error.
async fn add_all(
    fleet: &jobpoll_tokio::FleetHandle,
    specs: Vec<JobSpec<Arc<Profile>>>,
    config: &Arc<jobpoll_core::Config>,
    with_events: bool,
) -> Result<Vec<FleetJob>, DriverError> {
    if !with_events {
        return fleet
            .add_many(specs, Arc::clone(config))
            .await?
            .into_iter()
            .collect();
    }
    let mut added = Vec::with_capacity(specs.len());
    for spec in specs {
        added.push(fleet.add_with_events(spec, Arc::clone(config)).await?);
    }
    Ok(added)
}

/// Waits for one job: prints its events as JSON lines when `json_url` is given,
/// then resolves with its outcome.
async fn follow(
    index: usize,
    mut job: FleetJob,
    json_url: Option<String>,
) -> (usize, Result<Outcome, DriverError>) {
    if let Some(url) = json_url {
        let mut events = job.events();
        while let Some(event) = events.recv().await {
            output::print_line(&json_lines::event(index + 1, &url, &event));
        }
    }
    (index, job.await)
}

/// What a batch of jobs came to: outcomes by kind and the fleet's figures.
pub(crate) struct Summary {
    jobs: usize,
    kinds: BTreeMap<&'static str, usize>,
    succeeded: usize,
    completion: Duration,
    attempts: u64,
    requests: u64,
    shared: u64,
}

impl Summary {
    /// The summary of `outcomes` (one per subscription), with the requests the
    /// fleet sent.
    pub(crate) fn new<'a>(
        outcomes: impl Iterator<Item = &'a Outcome>,
        metrics: &FleetMetrics,
    ) -> Summary {
        let mut summary = Summary {
            jobs: 0,
            kinds: BTreeMap::new(),
            succeeded: 0,
            completion: Duration::ZERO,
            attempts: 0,
            requests: metrics.totals.requests,
            shared: metrics.totals.joined,
        };
        for outcome in outcomes {
            summary.jobs += 1;
            *summary.kinds.entry(outcome.kind()).or_default() += 1;
            summary.succeeded += usize::from(outcome.is_success());
            let stats = outcome.stats();
            summary.completion = summary.completion.saturating_add(stats.elapsed);
            summary.attempts += u64::from(stats.attempts);
        }
        summary
    }

    fn average_completion(&self) -> Duration {
        match u32::try_from(self.jobs) {
            Ok(jobs) if jobs > 0 => self.completion / jobs,
            _ => Duration::ZERO,
        }
    }

    fn ratio(&self, part: f64) -> f64 {
        if self.jobs == 0 {
            0.0
        } else {
            part / self.jobs as f64
        }
    }

    /// Two readable lines.
    pub(crate) fn text(&self) -> String {
        let kinds: Vec<String> = self
            .kinds
            .iter()
            .map(|(kind, count)| format!("{count} {kind}"))
            .collect();
        format!(
            "summary: {} jobs: {}\naverage completion {}, success rate {:.1}%, {:.1} attempts on average, {} requests{}",
            self.jobs,
            if kinds.is_empty() {
                "none finished".to_owned()
            } else {
                kinds.join(", ")
            },
            crate::display::duration(self.average_completion()),
            100.0 * self.ratio(self.succeeded as f64),
            self.ratio(self.attempts as f64),
            self.requests,
            match self.shared {
                0 => String::new(),
                1 => " (1 duplicate shared the polls of its job)".to_owned(),
                n => format!(" ({n} duplicates shared the polls of their job)"),
            }
        )
    }

    /// As one JSON object.
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "jobs": self.jobs,
            "outcomes": self.kinds,
            "average_completion_ms": self.average_completion().as_millis() as u64,
            "success_rate": self.ratio(self.succeeded as f64),
            "average_attempts": self.ratio(self.attempts as f64),
            "requests": self.requests,
            "shared": self.shared,
        })
    }
}
