//! `jobpoll wait` and `jobpoll submit`.

use std::path::PathBuf;
use std::process::ExitCode;

use jobpoll_core::profile::{Completion, FinalStateVia};
use jobpoll_core::{Config, JobSpec, Outcome, Profile, Start};

use crate::report::Report;
use crate::{display, exit, flags, json_lines, many, output};

/// Options shared by `wait` and `submit`.
#[derive(clap::Args)]
pub(crate) struct Common {
    /// How the API speaks: jobs, codegen, file-tasks, turn, google, azure, or the path
    /// of a JSON file describing a custom profile.
    #[arg(long, default_value = "jobs")]
    pub(crate) profile: String,
    #[command(flatten)]
    pub(crate) waiting: flags::Waiting,
    /// A header for every request, as `Name: value`, or `@FILE` to read them from
    /// FILE, one a line (repeatable). JOBPOLL_TOKEN, when set, sends
    /// `Authorization: Bearer $JOBPOLL_TOKEN` unless a header gives one.
    #[arg(short = 'H', long = "header")]
    pub(crate) headers: Vec<String>,
    /// The job's id, when the status body does not carry it (for results and cancel).
    #[arg(long)]
    pub(crate) job_id: Option<String>,
    /// Print events and the outcome as JSON lines on stdout (docs/cli.md, "JSON
    /// output").
    #[arg(long)]
    pub(crate) json: bool,
    /// No progress and no event lines: only the result on stdout and what went
    /// wrong on stderr.
    #[arg(long, short = 'q', conflicts_with = "no_progress")]
    pub(crate) quiet: bool,
    /// One line per event on stderr instead of progress bars, even on a terminal.
    #[arg(long)]
    pub(crate) no_progress: bool,
    /// Write the result (or the fetched results) to this file as JSON instead of
    /// standard output (`-`: standard output).
    #[arg(short = 'o', long)]
    pub(crate) output: Option<PathBuf>,
    /// Record a trace of the run (secrets redacted); replay it with `jobpoll replay`.
    #[arg(long)]
    pub(crate) trace: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) net: crate::net::NetArgs,
}

/// Arguments of `jobpoll wait`.
#[derive(clap::Args)]
pub(crate) struct WaitArgs {
    /// The job's status URL; give several to wait on them all at once.
    #[arg(required_unless_present = "urls_from", value_name = "URL")]
    urls: Vec<String>,
    /// Read status URLs from FILE, one a line (`-`: standard input); blank lines
    /// and lines starting with `#` are skipped.
    #[arg(long, value_name = "FILE")]
    urls_from: Option<PathBuf>,
    #[command(flatten)]
    limits: many::Limits,
    #[command(flatten)]
    common: Common,
}

/// Arguments of `jobpoll submit`.
#[derive(clap::Args)]
pub(crate) struct SubmitArgs {
    /// The URL that starts the job.
    url: String,
    /// The method of the request that starts the job: POST, PUT, PATCH, DELETE, ...
    /// (Azure operations start with any of these).
    #[arg(short = 'X', long, default_value = "POST", value_parser = parse_method)]
    method: http::Method,
    /// For Azure operations: where the final result is, as the API's description
    /// says: azure-async-operation, operation-location, location or original-uri.
    #[arg(long, value_name = "WHERE", value_parser = parse_final_state_via)]
    final_state_via: Option<FinalStateVia>,
    /// The request body (JSON), or `@FILE` to read it from a file.
    #[arg(long, short = 'd')]
    data: Option<String>,
    /// Create this many jobs, each with its own POST, and wait for them all.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    count: u32,
    #[command(flatten)]
    limits: many::Limits,
    #[command(flatten)]
    common: Common,
}

impl Common {
    /// How the options ask for jobs to be shown.
    pub(crate) fn view(&self) -> crate::report::View {
        crate::report::View {
            json: self.json,
            quiet: self.quiet,
            no_progress: self.no_progress,
        }
    }
}

/// `jobpoll wait`.
pub(crate) async fn wait(args: WaitArgs) -> ExitCode {
    let mut urls = Vec::new();
    for text in &args.urls {
        match parse_url(text) {
            Ok(url) => urls.push(url),
            Err(error) => return usage(&error),
        }
    }
    if let Some(path) = &args.urls_from {
        match many::read_urls(path) {
            Ok(more) => urls.extend(more),
            Err(error) => return usage(&error),
        }
    }
    let profile = match load_profile(&args.common.profile) {
        Ok(profile) => profile,
        Err(error) => return usage(&error),
    };
    let url = match <[url::Url; 1]>::try_from(urls) {
        Ok([url]) => url,
        Err(urls) if urls.is_empty() => return usage("no URL to wait on"),
        Err(urls) => {
            let jobs = many::polls(profile, urls);
            return many::run(jobs, &args.common, &args.limits).await;
        }
    };
    let spec = JobSpec::poll(profile, url);
    let spec = match &args.common.job_id {
        Some(id) => spec.with_job_id(id.clone()),
        None => spec,
    };
    run(spec, &args.common).await
}

/// `jobpoll submit`.
pub(crate) async fn submit(args: SubmitArgs) -> ExitCode {
    let body = match args.data.as_deref().map(read_data).transpose() {
        Ok(body) => body,
        Err(error) => return usage(&error),
    };
    let (url, mut profile) = match (parse_url(&args.url), load_profile(&args.common.profile)) {
        (Ok(url), Ok(profile)) => (url, profile),
        (Err(error), _) | (_, Err(error)) => return usage(&error),
    };
    if let Some(via) = args.final_state_via {
        match &mut profile.completion {
            Completion::AzureOperation { final_state_via } => *final_state_via = Some(via),
            _ => return usage("--final-state-via applies to Azure operations (--profile azure)"),
        }
    }
    let start = Start::Submit {
        method: args.method,
        url,
        body,
    };
    if args.count > 1 {
        let jobs = many::submits(profile, &start, args.count);
        return many::run(jobs, &args.common, &args.limits).await;
    }
    let spec = JobSpec {
        profile,
        start,
        headers: Vec::new(),
    };
    run(spec, &args.common).await
}

/// An HTTP method, written in any case.
fn parse_method(text: &str) -> Result<http::Method, String> {
    http::Method::from_bytes(text.trim().to_ascii_uppercase().as_bytes())
        .map_err(|_| format!("{text:?} is not an HTTP method"))
}

/// A `final-state-via` value.
fn parse_final_state_via(text: &str) -> Result<FinalStateVia, String> {
    serde_json::from_value(serde_json::Value::String(text.trim().to_ascii_lowercase())).map_err(
        |_| {
            format!(
                "{text:?} is not one of azure-async-operation, operation-location, location, original-uri"
            )
        },
    )
}

/// Waits on one job: its events (JSON lines with `--json`, else the progress display
/// on standard error), every one of them before the outcome, then the result on
/// standard output or in the `-o` file, and the server's error on standard error
/// when the job did not succeed.
async fn run(spec: JobSpec, common: &Common) -> ExitCode {
    let config = match config(common) {
        Ok(config) => config,
        Err(error) => return usage(&error),
    };
    let target = match output::target(common.output.as_deref(), common.json) {
        Ok(target) => target,
        Err(error) => return usage(&error),
    };
    let mut spec = spec;
    match headers(common) {
        Ok(headers) => spec.headers.extend(headers),
        Err(error) => return usage(&error),
    }
    let not_found = flags::not_found_advice(&config);
    let url = shown_url(&spec.start);
    let session = match crate::net::Session::new(common, &spec.headers) {
        Ok(session) => session,
        Err(error) => return usage(&error),
    };
    let client = &session.client;
    let started = match &common.trace {
        Some(path) => client.start_recorded(spec, config, path.clone()),
        None => client.start(spec, config),
    };
    let mut handle = match started {
        Ok(handle) => handle,
        Err(error) => return usage(&error.to_string()),
    };
    // With --json the lines on stdout are the whole report.
    let mut report = (!common.json).then(|| Report::with_view(common.view()));
    let label = "job";
    if let Some(report) = &mut report {
        report.add(label);
    }
    let mut events = handle.events();
    let mut interrupted = false;
    // Every event, to the end of the stream, before the outcome: the stream ends
    // once the job's task is over, so the outcome is ready by then.
    loop {
        tokio::select! {
            event = next_event(&mut events) => match event {
                Some(event) => match &mut report {
                    Some(report) => report.event(label, &event),
                    None => output::print_line(&json_lines::event(1, &url, &event)),
                },
                None => break,
            },
            _ = tokio::signal::ctrl_c() => {
                if interrupted {
                    if let Some(report) = &mut report {
                        report.interrupt();
                    }
                    return ExitCode::from(exit::CANCELLED);
                }
                interrupted = true;
                let note = "jobpoll: cancelling (Ctrl-C again to quit at once)";
                match &report {
                    Some(report) => report.note(note),
                    None => eprintln!("{note}"),
                }
                handle.cancel();
            }
        }
    }
    let outcome = tokio::select! {
        outcome = &mut handle => outcome,
        _ = tokio::signal::ctrl_c() => {
            if let Some(report) = &mut report {
                report.interrupt();
            }
            return ExitCode::from(exit::CANCELLED);
        }
    };
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(error) => {
            eprintln!("jobpoll: {error}");
            return ExitCode::from(exit::GAVE_UP);
        }
    };
    match &mut report {
        Some(report) => {
            report.outcome(label, &outcome);
            // The outcome line has the server's message; the error body follows.
            for line in details_lines(&outcome) {
                report.note(&line);
            }
        }
        None => {
            output::print_line(&json_lines::outcome(1, &url, &outcome));
            // The JSON line has it all; stderr gets it on one line.
            if let Some(error) = json_lines::error_text(&outcome) {
                eprintln!("jobpoll: {}", display::cut(&error, display::width()));
            }
        }
    }
    session.finish();
    if let Some(advice) = crate::net::advice(&outcome) {
        eprintln!("{advice}");
    }
    if matches!(outcome, Outcome::NotFound { .. }) {
        eprintln!("jobpoll: {not_found}");
    }
    if outcome.is_success()
        && let Some(target) = &target
        && let Err(error) = target.write_value(&json_lines::result_of(&outcome))
    {
        eprintln!("jobpoll: the job succeeded but its result is lost: {error}");
        return ExitCode::from(exit::WRITE_FAILED);
    }
    ExitCode::from(exit::of(&outcome))
}

/// A failed job's error body as the server gave it (`details:` and pretty JSON),
/// each line cut to the screen: JSON escapes every control character, so the
/// lines are safe to show.
fn details_lines(outcome: &Outcome) -> Vec<String> {
    let Outcome::Failed {
        details: Some(details),
        ..
    } = outcome
    else {
        return Vec::new();
    };
    let pretty = serde_json::to_string_pretty(details).unwrap_or_else(|_| details.to_string());
    let width = display::width();
    std::iter::once("details:".to_owned())
        .chain(pretty.lines().map(|line| display::cut(line, width)))
        .collect()
}

/// The URL a job is known by in the output: its status URL, or the URL that
/// creates it, with secret query values redacted.
pub(crate) fn shown_url(start: &Start) -> String {
    let url = match start {
        Start::Submit { url, .. }
        | Start::Poll {
            status_url: url, ..
        } => url,
    };
    jobpoll_core::trace::Redactor::default()
        .url(url)
        .to_string()
}

/// The next event, or `None` once the stream has ended.
pub(crate) async fn next_event(
    events: &mut jobpoll_tokio::EventStream,
) -> Option<jobpoll_core::Event> {
    events.recv().await
}

/// The `-H` headers as name and value.
pub(crate) fn headers(common: &Common) -> Result<Vec<(String, String)>, String> {
    parse_headers(&common.headers)
}

/// `-H` options (`Name: value` or `@FILE`) as name and value, with the
/// `Authorization` of `JOBPOLL_TOKEN` when none is given (see [`crate::headers`]).
pub(crate) fn parse_headers(headers: &[String]) -> Result<Vec<(String, String)>, String> {
    crate::headers::resolve(headers)
}

/// The schedule and limits the options ask for (see `flags`).
pub(crate) fn config(common: &Common) -> Result<Config, String> {
    let mut config = common.waiting.config()?;
    crate::net::connect_limits(&mut config, &common.net);
    config.validate().map_err(|error| error.to_string())?;
    Ok(config)
}

/// A built-in profile by name, or a custom one from a JSON file.
pub(crate) fn load_profile(name: &str) -> Result<Profile, String> {
    if let Some(profile) = Profile::builtin(name) {
        return Ok(profile);
    }
    let text = std::fs::read_to_string(name).map_err(|error| {
        format!(
            "{name:?} is not a built-in profile ({}) and cannot be read as a file: {error}",
            Profile::BUILTIN_NAMES.join(", ")
        )
    })?;
    Profile::from_json(&text).map_err(|error| format!("{name}: not a profile: {error}"))
}

/// An http or https URL.
pub(crate) fn parse_url(text: &str) -> Result<url::Url, String> {
    let url: url::Url = text
        .parse()
        .map_err(|error| format!("{text:?} is not a URL: {error}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{text:?} must be an http or https URL"));
    }
    Ok(url)
}

fn read_data(data: &str) -> Result<String, String> {
    match data.strip_prefix('@') {
        Some(path) => {
            std::fs::read_to_string(path).map_err(|error| format!("cannot read {path}: {error}"))
        }
        None => Ok(data.to_owned()),
    }
}

/// Reports a usage problem; exit code 2.
pub(crate) fn usage(message: &str) -> ExitCode {
    eprintln!("jobpoll: {message}");
    ExitCode::from(exit::USAGE)
}
