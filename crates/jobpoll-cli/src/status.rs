//! `jobpoll status`: one GET of a status URL, read with a profile, and what the
//! job sees in it; with `--explain`, each field of the profile, its pointer and
//! what was found there.

use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use jobpoll_core::Profile;

use crate::wait::{load_profile, parse_headers, parse_url, usage};
use crate::{durations, exit};

/// What `status` and `cancel` both take for their one request: the job's status
/// URL, the profile that reads it, the headers and the time limit.
#[derive(clap::Args)]
pub(crate) struct RequestArgs {
    /// The job's status URL.
    url: String,
    /// How the API speaks: jobs, codegen, file-tasks, turn, google, azure, or the path
    /// of a JSON file describing a custom profile (`docs/profiles.md`).
    #[arg(long, default_value = "jobs")]
    profile: String,
    /// A header for the request, as `Name: value`, or `@FILE` to read them from
    /// FILE, one a line (repeatable). JOBPOLL_TOKEN, when set, sends
    /// `Authorization: Bearer $JOBPOLL_TOKEN` unless a header gives one.
    #[arg(short = 'H', long = "header")]
    headers: Vec<String>,
    /// Give up on the request after this long.
    #[arg(long, default_value = "30s", value_parser = durations::parse)]
    pub(crate) timeout: Duration,
}

/// [`RequestArgs`] read: the status URL, the profile and the headers.
pub(crate) struct Request {
    pub(crate) url: url::Url,
    pub(crate) profile: Profile,
    pub(crate) headers: Vec<(String, String)>,
}

impl RequestArgs {
    /// Reads the URL, then the profile, then the headers; the first that is wrong
    /// is said on stderr as a usage error, whose exit code is the `Err`.
    pub(crate) fn read(&self) -> Result<Request, ExitCode> {
        let url = parse_url(&self.url).map_err(|error| usage(&error))?;
        let profile = load_profile(&self.profile).map_err(|error| usage(&error))?;
        let headers = parse_headers(&self.headers).map_err(|error| usage(&error))?;
        Ok(Request {
            url,
            profile,
            headers,
        })
    }
}

/// Arguments of `jobpoll status`; `--timeout` listed last in the help, after
/// `--json`.
#[derive(clap::Args)]
#[command(mut_arg("timeout", |arg| arg.display_order(8)))]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    request: RequestArgs,
    #[command(flatten)]
    tls: crate::net::TlsArgs,
    /// Also show, for each field of the profile, its pointer and what the answer
    /// holds there.
    #[arg(long)]
    explain: bool,
    /// Print the explanation as JSON.
    #[arg(long)]
    json: bool,
}

/// `jobpoll status`. Exit codes: 0 when the profile reads the answer; 5 when the
/// server refuses the request (a 4xx); 6 for an answer the profile cannot read, a
/// 5xx, or no answer; 2 for a bad command line or profile.
pub(crate) async fn status(args: StatusArgs) -> ExitCode {
    let request = match args.request.read() {
        Ok(request) => request,
        Err(code) => return code,
    };
    let builder = match args.tls.reqwest(reqwest::Client::builder()) {
        Ok(builder) => builder,
        Err(error) => return usage(&error),
    };
    let response = match send(
        builder,
        http::Method::GET,
        request.url,
        &request.headers,
        args.request.timeout,
    )
    .await
    {
        Ok(response) => response,
        Err(error) => return no_answer(&error),
    };
    let explanation = request.profile.explain(&response);
    if args.json {
        match serde_json::to_string_pretty(&explanation) {
            Ok(text) => println!("{text}"),
            Err(error) => eprintln!("jobpoll: {error}"),
        }
    } else if args.explain {
        print!("{explanation}");
    } else {
        print!("{}", explanation.job_view());
    }
    let code = response.status();
    if !code.is_success() {
        eprintln!("jobpoll: the server answered {code}");
        let refused = code.is_client_error();
        return ExitCode::from(if refused {
            exit::REFUSED
        } else {
            exit::GAVE_UP
        });
    }
    if explanation.is_readable() {
        ExitCode::from(exit::SUCCESS)
    } else {
        eprintln!(
            "jobpoll: the {} profile cannot read this answer{}",
            explanation.profile,
            if args.explain || args.json {
                ""
            } else {
                " (--explain shows each field)"
            }
        );
        ExitCode::from(exit::GAVE_UP)
    }
}

/// Says why a one-shot request got no answer: exit 7 when no connection could be
/// made at all (as `wait` and curl), else 6.
pub(crate) fn no_answer(error: &reqwest::Error) -> ExitCode {
    if error.is_connect() {
        let place = error
            .url()
            .map(|url| {
                format!(
                    " to {}:{}",
                    url.host_str().unwrap_or_default(),
                    url.port_or_known_default().unwrap_or_default()
                )
            })
            .unwrap_or_default();
        eprintln!("jobpoll: could not connect{place}: no request reached the server ({error})");
        ExitCode::from(exit::UNREACHABLE)
    } else {
        eprintln!("jobpoll: no answer from the server: {error}");
        ExitCode::from(exit::GAVE_UP)
    }
}

/// One request without a body (a GET for `status`, the cancel request for
/// `cancel`) with a client from `builder`, its answer whole.
pub(crate) async fn send(
    builder: reqwest::ClientBuilder,
    method: http::Method,
    url: url::Url,
    headers: &[(String, String)],
    timeout: Duration,
) -> Result<http::Response<Bytes>, reqwest::Error> {
    let client = builder.timeout(timeout).build()?;
    let mut request = client.request(method, url);
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let answer = request.send().await?;
    let mut response = http::Response::new(Bytes::new());
    *response.status_mut() = answer.status();
    *response.headers_mut() = answer.headers().clone();
    *response.body_mut() = answer.bytes().await?;
    Ok(response)
}
