//! Azure long-running operations, read by the rules of the Azure SDKs' pollers
//! (azure-core's `LROBasePolling` and azure-mgmt-core's `ARMPolling` in Python,
//! `@azure/core-lro` in JavaScript): how the submit answer chooses the way to poll,
//! how each way reads a status answer, and where the final resource is. Each rule
//! and its source is listed in `docs/profiles.md`.

use bytes::Bytes;
use serde_json::Value;
use url::Url;

use super::status::{Outcome, find, missing, parse_json};
use super::urls::header_url;
use super::{FinalStateVia, InterpretError, JobState, PollMode, Submission, excerpt};

/// The two operation monitor headers, in the order they are preferred.
const MONITORS: [&str; 2] = ["azure-asyncoperation", "operation-location"];

/// An operation that ended in its submit answer: the body and what it says.
pub(super) type Ended = (Option<Value>, Outcome);

/// The submit answer of an Azure operation: which way to poll, where, and where
/// the final resource will be; and, when the answer leaves nothing to poll, how the
/// operation ended (the submission's `finished` is left for the caller to fill
/// from it). `names` are the profile's status headers, most preferred first.
pub(super) fn submission(
    response: &http::Response<Bytes>,
    method: &http::Method,
    submit_url: &Url,
    names: &[String],
    final_state_via: Option<FinalStateVia>,
) -> Result<(Submission, Option<Ended>), InterpretError> {
    let headers = response.headers();
    let polled = |status_url: Url, mode: PollMode, results_url: Option<Url>| Submission {
        job_id: None,
        status_url,
        results_url,
        mode,
        finished: None,
    };
    let chosen = names
        .iter()
        .find_map(|name| headers.get(name.as_str()).map(|value| (name, value)));
    if let Some((name, value)) = chosen {
        let status_url = header_url(value, submit_url)?;
        if !MONITORS.iter().any(|m| name.eq_ignore_ascii_case(m)) {
            return Ok((polled(status_url, PollMode::Location, None), None));
        }
        // A malformed `Location` beside a good monitor is ignored rather than
        // failing a submit whose status URL is fine.
        let location = headers
            .get(http::header::LOCATION)
            .and_then(|value| header_url(value, submit_url).ok());
        let (mode, results_url) = final_resource(method, submit_url, location, final_state_via);
        return Ok((polled(status_url, mode, results_url), None));
    }
    let code = response.status();
    let doc = if code == http::StatusCode::NO_CONTENT {
        None
    } else {
        parse_json(response.body())?
    };
    let is_put_or_patch = *method == http::Method::PUT || *method == http::Method::PATCH;
    if !is_put_or_patch {
        // Nothing to poll: the operation is done, and the answer is its result.
        let ended = ended(JobState::Succeeded, "Succeeded", doc);
        return Ok((
            polled(submit_url.clone(), PollMode::Body, None),
            Some(ended),
        ));
    }
    // The resource itself is polled at the request URL; its first answer may
    // already be the end: a 204, a terminal state, or a 200 without a state.
    let submission = polled(submit_url.clone(), PollMode::Resource, None);
    if code == http::StatusCode::ACCEPTED {
        return Ok((submission, None));
    }
    let state = doc.as_ref().and_then(provisioning_state).map(str::to_owned);
    let ended = match state {
        Some(raw) => match azure_state(&raw) {
            JobState::Running => None,
            state => Some(ended(state, &raw, doc)),
        },
        None if code == http::StatusCode::CREATED => None,
        None => Some(ended(JobState::Succeeded, "Succeeded", doc)),
    };
    Ok((submission, ended))
}

/// Where the final resource is after a monitor says the operation succeeded,
/// and how its status is read.
fn final_resource(
    method: &http::Method,
    submit_url: &Url,
    location: Option<Url>,
    final_state_via: Option<FinalStateVia>,
) -> (PollMode, Option<Url>) {
    let is_post = *method == http::Method::POST;
    match final_state_via {
        Some(FinalStateVia::Location) if location.is_some() => (PollMode::Body, location),
        Some(FinalStateVia::AzureAsyncOperation | FinalStateVia::OperationLocation) if is_post => {
            (PollMode::BodyIsResult, None)
        }
        Some(FinalStateVia::OriginalUri) => (PollMode::Body, Some(submit_url.clone())),
        _ if *method == http::Method::PUT || *method == http::Method::PATCH => {
            (PollMode::Body, Some(submit_url.clone()))
        }
        _ if is_post => (PollMode::Body, location),
        _ => (PollMode::Body, None),
    }
}

/// An operation that ended with `state`, its body the result when it succeeded.
fn ended(state: JobState, raw: &str, doc: Option<Value>) -> Ended {
    let mut outcome = Outcome::new(state, raw);
    if state == JobState::Succeeded {
        outcome.default_result = doc.clone();
    }
    (doc, outcome)
}

/// Reads one status answer of an Azure operation polled in `mode`.
pub(super) fn status(
    response: &http::Response<Bytes>,
    mode: PollMode,
    status_url: Option<&Url>,
    final_state_via: Option<FinalStateVia>,
) -> Result<(Option<Value>, Outcome), InterpretError> {
    let code = response.status();
    let accepted = code == http::StatusCode::ACCEPTED;
    let body = response.body().as_ref();
    match mode {
        PollMode::Location => {
            if accepted {
                let mut outcome = Outcome::new(JobState::Running, "Accepted");
                outcome.moved_to = status_url.and_then(|base| {
                    let value = response.headers().get(http::header::LOCATION)?;
                    header_url(value, base).ok().filter(|url| url != base)
                });
                return Ok((None, outcome));
            }
            if !code.is_success() {
                // The poller answers an error status when the operation failed:
                // azure-core's `LocationPolling` raises on it, and
                // `@azure/core-lro` reads any status past 2xx as failed. The body,
                // if readable, is the Azure error.
                let doc = parse_json(body).ok().flatten();
                return Ok((doc, Outcome::new(JobState::Failed, "Failed")));
            }
            let doc = if code == http::StatusCode::NO_CONTENT {
                None
            } else {
                parse_json(body)?
            };
            Ok(ended(JobState::Succeeded, "Succeeded", doc))
        }
        PollMode::Resource => {
            let doc = parse_json(body)?;
            let Some(doc) = doc else {
                if accepted {
                    return Ok((None, Outcome::new(JobState::Running, "Accepted")));
                }
                return Err(missing("/properties/provisioningState", body));
            };
            Ok(match provisioning_state(&doc).map(str::to_owned) {
                Some(raw) => ended(azure_state(&raw), &raw, Some(doc)),
                None if accepted => (Some(doc), Outcome::new(JobState::Running, "Accepted")),
                None => ended(JobState::Succeeded, "Succeeded", Some(doc)),
            })
        }
        PollMode::Body | PollMode::BodyIsResult => {
            let doc = match parse_json(body) {
                Ok(doc) => doc,
                // A monitor that says "not yet" without a readable body.
                Err(_) if accepted => None,
                Err(error) => return Err(error),
            };
            let raw = doc
                .as_ref()
                .and_then(|doc| find(doc, "/status", Value::as_str))
                .map(str::to_owned);
            let Some(raw) = raw else {
                if accepted {
                    return Ok((doc, Outcome::new(JobState::Running, "Accepted")));
                }
                // A monitor must say where the operation stands.
                return Err(missing("/status", body));
            };
            let state = azure_state(&raw);
            let (doc, mut outcome) = ended(state, &raw, doc);
            let follows_resource_location = mode == PollMode::Body
                && !matches!(
                    final_state_via,
                    Some(FinalStateVia::Location | FinalStateVia::OriginalUri)
                );
            if state == JobState::Succeeded
                && follows_resource_location
                && let Some(doc) = &doc
            {
                outcome.results_url = resource_location(doc, status_url)?;
            }
            Ok((doc, outcome))
        }
    }
}

/// A succeeded monitor's `resourceLocation`, resolved against the monitor's URL.
fn resource_location(doc: &Value, base: Option<&Url>) -> Result<Option<Url>, InterpretError> {
    let Some(text) = find(doc, "/resourceLocation", Value::as_str) else {
        return Ok(None);
    };
    let url = match base {
        Some(base) => base.join(text),
        None => Url::parse(text),
    };
    match url {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => Ok(Some(url)),
        _ => Err(InterpretError::BadUrl {
            value: excerpt(text.as_bytes()),
            reason: "resourceLocation is not an http(s) URL".to_owned(),
        }),
    }
}

fn provisioning_state(doc: &Value) -> Option<&str> {
    find(doc, "/properties/provisioningState", Value::as_str)
}

/// Azure's guidelines: only the terminal values end the operation, and any other
/// value (documented or not) means it is still going. Some services say
/// `Completed`/`Complete` for success.
fn azure_state(raw: &str) -> JobState {
    let is = |words: &[&str]| words.iter().any(|word| raw.eq_ignore_ascii_case(word));
    if is(&["succeeded", "completed", "complete"]) {
        JobState::Succeeded
    } else if is(&["failed"]) {
        JobState::Failed
    } else if is(&["canceled", "cancelled"]) {
        JobState::Cancelled
    } else {
        JobState::Running
    }
}
