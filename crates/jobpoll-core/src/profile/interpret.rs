//! How a [`Profile`] answers the [`Interpret`] trait: the submit response, the
//! status response (the sparse read, or the tree read when it cannot answer), the
//! results step and the cancel request.

use bytes::Bytes;
use url::Url;

use super::status::{find_in, id_text, missing, not_json, parse_json};
use super::urls::{fill_template, header_url};
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

impl Interpret for Profile {
    fn name(&self) -> &str {
        &self.name
    }

    fn read_submission(
        &self,
        response: &http::Response<Bytes>,
        submit_url: &Url,
    ) -> Result<Submission, InterpretError> {
        let body = response.body();
        match &self.status_url {
            StatusUrlRule::Template { template } => {
                let job_id = if self.submit_id_pointers.is_empty() {
                    None
                } else {
                    Some(self.read_id(body)?)
                };
                let status_url = fill_template(template, job_id.as_deref(), submit_url)?;
                Ok(Submission {
                    job_id,
                    status_url,
                    results_url: None,
                })
            }
            StatusUrlRule::Headers { names } => {
                // The id is optional here (Azure has none): best effort.
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
                // The status came from an operation header: a `Location` alongside it
                // names the final resource. A malformed one is ignored rather than
                // failing a submit whose status URL is fine.
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
                })
            }
        }
    }

    fn read_status(
        &self,
        response: &http::Response<Bytes>,
    ) -> Result<StatusReport, InterpretError> {
        self.read_status_wanting_id(response, true)
    }

    /// Without `wants_id`, `job_id` is always `None`.
    fn read_status_wanting_id(
        &self,
        response: &http::Response<Bytes>,
        wants_id: bool,
    ) -> Result<StatusReport, InterpretError> {
        // Filled in place: a report is 248 bytes, and each move is a copy.
        let mut report = StatusReport::default();
        match self.sparse_status(response.body(), wants_id, &mut report) {
            Some(Ok(())) => Ok(report),
            Some(Err(error)) => Err(error),
            None => self.read_status_by_tree(response).map(|mut report| {
                if !wants_id {
                    report.job_id = None;
                }
                report
            }),
        }
    }

    fn results_url(&self, job: JobRef<'_>) -> Option<Result<Url, InterpretError>> {
        let spec = self.results.as_ref()?;
        match &spec.url {
            Some(template) => Some(fill_template(template, job.job_id, job.status_url)),
            None => job.results_url.cloned().map(Ok),
        }
    }

    fn read_results(
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
        Some(fill_template(&spec.url, job.job_id, job.status_url).map(|url| (method, url)))
    }

    fn not_found_means_pending(&self) -> bool {
        self.not_found_means_pending
    }
}
