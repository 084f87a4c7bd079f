//! `jobpoll cancel`: the profile's cancel request for the job at a status URL,
//! sent once, and the server's answer.

use std::process::ExitCode;

use jobpoll_core::Interpret as _;
use jobpoll_core::profile::{JobRef, excerpt};
use jobpoll_core::trace::Redactor;

use crate::exit;
use crate::status::{Request, RequestArgs, send};
use crate::wait::usage;

/// What `--profile` says for `cancel`.
const PROFILE_HELP: &str = "How the API speaks: jobs, codegen, file-tasks, turn, google, \
    azure, or the path of a JSON file describing a custom profile; it says which request \
    cancels a job (jobs: POST /api/v1/jobs/{id}/cancel, google: POST /v1/{name}:cancel)";

/// What `--header` says for `cancel`.
const HEADER_HELP: &str = "A header for the request, as `Name: value` (repeatable)";

/// Arguments of `jobpoll cancel`: those of [`RequestArgs`], with the help of
/// `--profile` and `--header` as `cancel` says it, and `--job-id`; the help lists
/// `--profile`, `--job-id`, `--header`, `--timeout` in that order.
#[derive(clap::Args)]
#[command(
    mut_arg("profile", |arg| arg.help(PROFILE_HELP)),
    mut_arg("headers", |arg| arg.help(HEADER_HELP).display_order(3)),
    mut_arg("timeout", |arg| arg.display_order(4)),
)]
pub(crate) struct CancelArgs {
    #[command(flatten)]
    request: RequestArgs,
    /// The job's id, when the status URL does not carry it where the profile's
    /// status URL template says.
    #[arg(long, display_order = 2)]
    job_id: Option<String>,
}

/// `jobpoll cancel`. Exit codes: 0 when the server accepts the cancel (a 2xx); 5
/// when it refuses it (a 4xx: unauthorized, not found, already over...); 6 for a
/// 5xx or no answer; 2 for a bad command line, or a profile that has no cancel
/// request or cannot tell the job's id.
pub(crate) async fn cancel(args: CancelArgs) -> ExitCode {
    let Request {
        url,
        profile,
        headers,
    } = match args.request.read() {
        Ok(request) => request,
        Err(code) => return code,
    };
    let job = JobRef {
        job_id: args.job_id.as_deref(),
        status_url: &url,
        results_url: None,
    };
    let (method, cancel_url) = match profile.cancel_request(job) {
        Some(Ok(request)) => request,
        Some(Err(error)) => {
            return usage(&format!(
                "cannot build the {} profile's cancel request for {url}: {error}{}",
                profile.name(),
                if args.job_id.is_none() {
                    " (give the job's id with --job-id)"
                } else {
                    ""
                }
            ));
        }
        None => {
            return usage(&format!(
                "the {} profile has no cancel request: this API cannot cancel a job \
                 (a custom profile names one in its \"cancel\" field)",
                profile.name()
            ));
        }
    };
    let shown = Redactor::default().url(&cancel_url);
    println!("sent: {method} {shown}");
    let response = match send(
        reqwest::Client::builder(),
        method,
        cancel_url,
        &headers,
        args.request.timeout,
    )
    .await
    {
        Ok(response) => response,
        Err(error) => return crate::status::no_answer(&error),
    };
    let status = response.status();
    let body = excerpt(response.body());
    if body.trim().is_empty() {
        println!("answer: {status}");
    } else {
        println!("answer: {status}: {body}");
    }
    if status.is_success() {
        ExitCode::from(exit::SUCCESS)
    } else if status.is_client_error() {
        eprintln!("jobpoll: the server refused the cancel ({status})");
        ExitCode::from(exit::REFUSED)
    } else {
        eprintln!("jobpoll: the server did not cancel the job ({status})");
        ExitCode::from(exit::GAVE_UP)
    }
}
