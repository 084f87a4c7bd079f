//! How a [`Profile`] answers the [`Interpret`] trait: the submit response, the
//! status response (the sparse read, or the tree read when it cannot answer), the
//! results step and the cancel request.

use bytes::Bytes;
use url::Url;

use super::status::{find_in, id_text, missing, not_json, parse_json, with_content_type};
use super::urls::{fill_template, header_url, id_in_url};
use super::*;

impl Profile {
    /// The job id from a submit body, trying `submit_id_pointers` in order. Strings
    /// and integers are accepted; an empty string is not an id.
    fn read_id(&self, body: &[u8]) -> Result<String, InterpretError> {
        let doc = parse_json(body)?.ok_or_else(|| not_json(body))?;
        self.submit_id_pointers
            .iter()
            .find_map(|pointer| find_in(&doc, pointer, id_text))
            .ok_or_else(|| missing(&self.submit_id_pointers.join(" or "), body))
    }
}

impl Profile {
    /// The job id from the profile's id header, when it has one and the answer
    /// carries it (not empty).
    fn id_in_headers(&self, response: &http::Response<Bytes>) -> Option<String> {
        let name = self.submit_id_header.as_deref()?;
        let value = response.headers().get(name.trim())?.to_str().ok()?.trim();
        (!value.is_empty()).then(|| value.to_owned())
    }

    /// The job id of a submit answer: at the body's pointers, else in the id
    /// header. An error when the profile says where the id is and it is in none
    /// of those places.
    fn submitted_id(
        &self,
        response: &http::Response<Bytes>,
    ) -> Result<Option<String>, InterpretError> {
        let body = response.body();
        let body_error = if self.submit_id_pointers.is_empty() {
            None
        } else {
            match self.read_id(body) {
                Ok(id) => return Ok(Some(id)),
                Err(error) => Some(error),
            }
        };
        if let Some(id) = self.id_in_headers(response) {
            return Ok(Some(id));
        }
        match (body_error, &self.submit_id_header) {
            (None, None) => Ok(None),
            (Some(error), None) => Err(error),
            (_, Some(_)) => Err(missing(&self.id_sources(), body)),
        }
    }

    /// Where the id is looked for, as a person reads it.
    fn id_sources(&self) -> String {
        let mut sources = self.submit_id_pointers.clone();
        sources.extend(
            self.submit_id_header
                .iter()
                .map(|h| format!("the {h} header")),
        );
        sources.join(" or ")
    }

    /// The status URL named by the first of `names` the answer carries; a
    /// `Location` beside an operation header names the final resource.
    fn submission_by_headers(
        &self,
        response: &http::Response<Bytes>,
        names: &[String],
        submit_url: &Url,
    ) -> Result<Submission, InterpretError> {
        let body = response.body();
        // The id is optional here: best effort.
        let job_id = if self.submit_id_pointers.is_empty() {
            None
        } else {
            self.read_id(body).ok()
        };
        let (chosen, value) = names
            .iter()
            .find_map(|name| response.headers().get(name.as_str()).map(|v| (name, v)))
            .ok_or_else(|| InterpretError::MissingField {
                pointer: format!("{} header", names.join(" / ")),
                excerpt: excerpt(body),
            })?;
        let status_url = header_url(value, submit_url)?;
        // A malformed `Location` is ignored rather than failing a submit whose
        // status URL is fine.
        let results_url = if chosen.eq_ignore_ascii_case("location") {
            None
        } else {
            response
                .headers()
                .get(http::header::LOCATION)
                .and_then(|v| header_url(v, submit_url).ok())
        };
        Ok(Submission {
            job_id,
            status_url,
            results_url,
            mode: PollMode::Body,
            finished: self.ended_in(response),
        })
    }

    /// The submit answer read as a status, when it says the job has already ended
    /// (a Google operation created `done`); anything else, unreadable included,
    /// means the job is to be polled.
    fn ended_in(&self, response: &http::Response<Bytes>) -> Option<StatusReport> {
        self.read_status_by_tree(response)
            .ok()
            .filter(|report| report.state.is_some_and(|state| state != JobState::Running))
    }

    /// The job's id: known, or read from the status URL by the status template.
    fn id_of<'a>(&self, job: &JobRef<'a>) -> Option<std::borrow::Cow<'a, str>> {
        if let Some(id) = job.job_id {
            return Some(std::borrow::Cow::Borrowed(id));
        }
        let StatusUrlRule::Template { template } = &self.status_url else {
            return None;
        };
        id_in_url(template, job.status_url).map(std::borrow::Cow::Owned)
    }
}

impl Profile {
    /// [`Interpret::read_submission_to`], before the `Content-Type` refines an error.
    fn read_submission(
        &self,
        response: &http::Response<Bytes>,
        method: &http::Method,
        submit_url: &Url,
    ) -> Result<Submission, InterpretError> {
        let mut submission = match &self.status_url {
            StatusUrlRule::Headers { names } => {
                if let Completion::AzureOperation { final_state_via } = &self.completion {
                    let (mut submission, ended) = super::azure::submission(
                        response,
                        method,
                        submit_url,
                        names,
                        *final_state_via,
                    )?;
                    submission.finished = ended.map(|(doc, outcome)| self.report(doc, outcome));
                    submission
                } else {
                    self.submission_by_headers(response, names, submit_url)?
                }
            }
            StatusUrlRule::Template { template } => {
                let job_id = self.submitted_id(response)?;
                let status_url = fill_template(template, job_id.as_deref(), submit_url)?;
                Submission {
                    job_id,
                    status_url,
                    results_url: None,
                    mode: PollMode::Body,
                    finished: self.ended_in(response),
                }
            }
        };
        if submission.job_id.is_none() {
            submission.job_id = self.id_in_headers(response);
        }
        Ok(submission)
    }

    /// [`Interpret::read_status_in`], before the `Content-Type` refines an error.
    fn read_status_report(
        &self,
        response: &http::Response<Bytes>,
        context: &StatusContext<'_>,
    ) -> Result<StatusReport, InterpretError> {
        // Filled in place: a report is large, and each move is a copy.
        let mut report = StatusReport::default();
        let wants_id = context.wants_id;
        match self.sparse_status(response.body(), wants_id, &mut report) {
            Some(Ok(())) => {}
            Some(Err(error)) => return Err(error),
            None => {
                report = self.read_status_by_tree_in(response, context)?;
                if !wants_id {
                    report.job_id = None;
                }
            }
        }
        if wants_id && report.job_id.is_none() {
            report.job_id = self.id_in_headers(response);
        }
        Ok(report)
    }

    /// [`Interpret::read_results`], before the `Content-Type` refines an error.
    fn read_results_body(
        &self,
        response: &http::Response<Bytes>,
    ) -> Result<serde_json::Value, InterpretError> {
        let body = response.body().as_ref();
        // An empty results body (204, or a final GET with no content) reads as null.
        let doc = parse_json(body)?.unwrap_or(serde_json::Value::Null);
        let transform = self
            .results
            .as_ref()
            .map(|spec| spec.transform)
            .unwrap_or_default();
        match transform {
            ResultsTransform::AsIs => Ok(doc),
            ResultsTransform::CodegenByGraph => codegen_by_graph(&doc),
        }
    }
}

impl Interpret for Profile {
    fn name(&self) -> &str {
        &self.name
    }

    fn read_submission_to(
        &self,
        response: &http::Response<Bytes>,
        method: &http::Method,
        submit_url: &Url,
    ) -> Result<Submission, InterpretError> {
        self.read_submission(response, method, submit_url)
            .map_err(|error| with_content_type(error, response))
    }

    fn read_status_in(
        &self,
        response: &http::Response<Bytes>,
        context: &StatusContext<'_>,
    ) -> Result<StatusReport, InterpretError> {
        self.read_status_report(response, context)
            .map_err(|error| with_content_type(error, response))
    }

    fn results_url(&self, job: JobRef<'_>) -> Option<Result<Url, InterpretError>> {
        let spec = self.results.as_ref()?;
        match &spec.url {
            Some(template) => {
                let id = self.id_of(&job);
                Some(fill_template(template, id.as_deref(), job.status_url))
            }
            None => job.results_url.cloned().map(Ok),
        }
    }

    fn read_results(
        &self,
        response: &http::Response<Bytes>,
    ) -> Result<serde_json::Value, InterpretError> {
        self.read_results_body(response)
            .map_err(|error| with_content_type(error, response))
    }

    fn cancel_request(
        &self,
        job: JobRef<'_>,
    ) -> Option<Result<(http::Method, Url), InterpretError>> {
        let spec = self.cancel.as_ref()?;
        let method =
            match http::Method::from_bytes(spec.method.trim().to_ascii_uppercase().as_bytes()) {
                Ok(method) => method,
                Err(_) => {
                    return Some(Err(InterpretError::BadUrl {
                        value: excerpt(spec.method.as_bytes()),
                        reason: "bad method".to_owned(),
                    }));
                }
            };
        let id = self.id_of(&job);
        Some(fill_template(&spec.url, id.as_deref(), job.status_url).map(|url| (method, url)))
    }

    fn not_found_means_pending(&self) -> bool {
        self.not_found_means_pending
    }

    fn submit_repeatable(&self, method: &http::Method, answer: Option<http::StatusCode>) -> bool {
        self.repeat_submit.allows(method, answer)
    }
}
