//! Paths and methods to endpoints: every route the server answers, in one table.
//!
//! Paths are matched segment by segment, exactly as sent (ids are compared
//! percent-encoded, the way the core's templates encode them); a path that names
//! nothing is 404, a known path with the wrong method 405 with `Allow`.

use http::Method;

use crate::job::AzureMethod;
use crate::plan::Shape;

/// A request the server understands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// Create a job.
    Submit(Submit),
    /// `GET /api/v1/jobs`: the jobs of the jobs API.
    ListJobs,
    /// A request about one job.
    Job { target: Target, action: Action },
    /// `GET /api/projects/{p}/files` (the document watch).
    ListFiles { project: String },
    /// `POST /api/projects/{p}/files/status` (the document watch's batch status).
    FileStatus { project: String },
}

/// What a create request creates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Submit {
    /// `POST /api/v1/.../{kind}-job`.
    Jobs { kind: String },
    /// `POST /api/v1/public/graph/codegen`.
    Codegen,
    /// `POST /api/file`.
    FileTasks,
    /// `POST /api/projects/{p}/sessions/{s}/turns`.
    Turn { project: String, session: String },
    /// `POST /v1/operations`.
    Google,
    /// `PUT|PATCH|POST|DELETE /azure/resources/{name}`, or `POST /azure/resources`
    /// (the server names the resource).
    Azure {
        resource: Option<String>,
        method: AzureMethod,
    },
}

impl Submit {
    /// The shape of the job it creates.
    pub(crate) fn shape(&self) -> Shape {
        match self {
            Submit::Jobs { .. } => Shape::Jobs,
            Submit::Codegen => Shape::Codegen,
            Submit::FileTasks => Shape::FileTasks,
            Submit::Turn { .. } => Shape::Turn,
            Submit::Google => Shape::Google,
            Submit::Azure { .. } => Shape::Azure,
        }
    }
}

/// How a request names its job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// By id, within a shape (a turn also by its project and session; a Google
    /// operation by its name without `operations/`, which may hold slashes).
    Id {
        shape: Shape,
        id: String,
        session: Option<(String, String)>,
    },
    /// An Azure resource: the job is the latest operation on it.
    AzureResource { name: String },
}

/// What a request about one job wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// Its status.
    Status,
    /// Its results (codegen).
    Results,
    /// Its final resource (Azure).
    Resource,
    /// Cancel it (jobs, Google).
    Cancel,
    /// Delete its record (Google).
    Delete,
    /// Its Azure Location poller, at this step of a moving Location (0: the
    /// Location of the initial answer).
    Location { step: u32 },
    /// Its Azure result, where a monitor's `resourceLocation` points.
    FinalResult,
}

/// Why a request has no endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RouteError {
    /// Nothing lives at this path.
    NotFound,
    /// Something lives here, but not for this method.
    MethodNotAllowed { allowed: &'static [Method] },
}

const GET: &[Method] = &[Method::GET];
const POST: &[Method] = &[Method::POST];
const GET_DELETE: &[Method] = &[Method::GET, Method::DELETE];
const AZURE_RESOURCE: &[Method] = &[
    Method::GET,
    Method::PUT,
    Method::PATCH,
    Method::POST,
    Method::DELETE,
];

/// The path of the request counts (`GET`, query `path=` to pick one path).
pub(crate) const REQUEST_COUNTS_PATH: &str = "/_jobpoll/requests";

/// The endpoint `method` and `path` (without the query) name.
pub(crate) fn resolve(method: &Method, path: &str) -> Result<Endpoint, RouteError> {
    let Some(rest) = path.strip_prefix('/') else {
        return Err(RouteError::NotFound);
    };
    let segments: Vec<&str> = rest.split('/').collect();
    // Every parameter must be a non-empty segment.
    let param = |segment: &str| -> Result<String, RouteError> {
        if segment.is_empty() {
            Err(RouteError::NotFound)
        } else {
            Ok(segment.to_owned())
        }
    };
    let by_id = |shape: Shape, id: &str, action: Action| -> Result<Endpoint, RouteError> {
        Ok(Endpoint::Job {
            target: Target::Id {
                shape,
                id: param(id)?,
                session: None,
            },
            action,
        })
    };
    let get = |endpoint: Result<Endpoint, RouteError>| only(method, GET, endpoint);
    let post = |endpoint: Result<Endpoint, RouteError>| only(method, POST, endpoint);

    match segments.as_slice() {
        // The jobs API. The fixed `/api/v1/jobs...` paths come before the
        // catch-all `...-job` create path.
        ["api", "v1", "jobs"] => get(Ok(Endpoint::ListJobs)),
        ["api", "v1", "jobs", id] => get(by_id(Shape::Jobs, id, Action::Status)),
        ["api", "v1", "jobs", id, "cancel"] => post(by_id(Shape::Jobs, id, Action::Cancel)),
        // Code generation.
        ["api", "v1", "public", "graph", "codegen"] => post(Ok(Endpoint::Submit(Submit::Codegen))),
        ["api", "v1", "public", "graph", "codegen", id, "status"] => {
            get(by_id(Shape::Codegen, id, Action::Status))
        }
        ["api", "v1", "public", "graph", "codegen", id, "results"] => {
            get(by_id(Shape::Codegen, id, Action::Results))
        }
        ["api", "v1", .., last] if job_kind(last).is_some() => {
            let kind = job_kind(last).unwrap_or_default();
            post(Ok(Endpoint::Submit(Submit::Jobs { kind })))
        }
        // Files with tasks.
        ["api", "file"] => post(Ok(Endpoint::Submit(Submit::FileTasks))),
        ["api", "file", id] => get(by_id(Shape::FileTasks, id, Action::Status)),
        // Turns and documents.
        ["api", "projects", project, "sessions", session, "turns"] => {
            post(param(project).and_then(|project| {
                Ok(Endpoint::Submit(Submit::Turn {
                    project,
                    session: param(session)?,
                }))
            }))
        }
        ["api", "projects", project, "sessions", session, "turns", id] => get(param(project)
            .and_then(|project| {
                Ok(Endpoint::Job {
                    target: Target::Id {
                        shape: Shape::Turn,
                        id: param(id)?,
                        session: Some((project, param(session)?)),
                    },
                    action: Action::Status,
                })
            })),
        ["api", "projects", project, "files"] => {
            get(param(project).map(|project| Endpoint::ListFiles { project }))
        }
        ["api", "projects", project, "files", "status"] => {
            post(param(project).map(|project| Endpoint::FileStatus { project }))
        }
        // Google operations: `{name}:cancel` is a custom method on the operation,
        // whose name may hold slashes (`operations/**`).
        ["v1", "operations"] => post(Ok(Endpoint::Submit(Submit::Google))),
        ["v1", "operations", rest @ ..] => {
            if rest.iter().any(|segment| segment.is_empty()) {
                return Err(RouteError::NotFound);
            }
            let name = rest.join("/");
            match name.strip_suffix(":cancel") {
                Some(id) => post(by_id(Shape::Google, id, Action::Cancel)),
                None if method == Method::DELETE => by_id(Shape::Google, &name, Action::Delete),
                None => only(
                    method,
                    GET_DELETE,
                    by_id(Shape::Google, &name, Action::Status),
                ),
            }
        }
        // Azure.
        ["azure", "resources"] => post(Ok(Endpoint::Submit(Submit::Azure {
            resource: None,
            method: AzureMethod::Post,
        }))),
        ["azure", "resources", name] => {
            let name = param(name)?;
            if method == Method::GET {
                Ok(Endpoint::Job {
                    target: Target::AzureResource { name },
                    action: Action::Resource,
                })
            } else if let Some(azure_method) = AzureMethod::of(method) {
                Ok(Endpoint::Submit(Submit::Azure {
                    resource: Some(name),
                    method: azure_method,
                }))
            } else {
                Err(RouteError::MethodNotAllowed {
                    allowed: AZURE_RESOURCE,
                })
            }
        }
        ["azure", "operations" | "operation-status", id] => {
            get(by_id(Shape::Azure, id, Action::Status))
        }
        ["azure", "operation-results", id] => {
            get(by_id(Shape::Azure, id, Action::Location { step: 0 }))
        }
        // Steps are written without leading zeros, as the server writes them.
        ["azure", "operation-results", id, text] => match text.parse::<u32>() {
            Ok(step) if step > 0 && step.to_string() == *text => {
                get(by_id(Shape::Azure, id, Action::Location { step }))
            }
            _ => Err(RouteError::NotFound),
        },
        ["azure", "results", id] => get(by_id(Shape::Azure, id, Action::FinalResult)),
        _ => Err(RouteError::NotFound),
    }
}

/// `endpoint` if `method` is allowed there. A path that names nothing stays 404
/// whatever the method.
fn only(
    method: &Method,
    allowed: &'static [Method],
    endpoint: Result<Endpoint, RouteError>,
) -> Result<Endpoint, RouteError> {
    let endpoint = endpoint?;
    if allowed.contains(method) {
        Ok(endpoint)
    } else {
        Err(RouteError::MethodNotAllowed { allowed })
    }
}

/// The job type of a `{kind}-job` segment: `generate-video-job` gives
/// `generate_video`.
fn job_kind(segment: &str) -> Option<String> {
    segment
        .strip_suffix("-job")
        .filter(|kind| !kind.is_empty())
        .map(|kind| kind.replace('-', "_"))
}

/// The `Allow` header value for a 405.
pub(crate) fn allow_header(allowed: &[Method]) -> String {
    allowed
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(shape: Shape, id: &str, action: Action) -> Endpoint {
        Endpoint::Job {
            target: Target::Id {
                shape,
                id: id.to_owned(),
                session: None,
            },
            action,
        }
    }

    #[test]
    fn every_shape_has_its_routes() {
        let cases = [
            (
                Method::POST,
                "/api/v1/ads/generate-bulk-dynamic-job",
                Endpoint::Submit(Submit::Jobs {
                    kind: "generate_bulk_dynamic".to_owned(),
                }),
            ),
            (Method::GET, "/api/v1/jobs", Endpoint::ListJobs),
            (
                Method::GET,
                "/api/v1/jobs/job-1",
                id(Shape::Jobs, "job-1", Action::Status),
            ),
            (
                Method::POST,
                "/api/v1/jobs/job-1/cancel",
                id(Shape::Jobs, "job-1", Action::Cancel),
            ),
            (
                Method::GET,
                "/api/v1/public/graph/codegen/cg-1/results",
                id(Shape::Codegen, "cg-1", Action::Results),
            ),
            (
                Method::GET,
                "/api/file/file-1",
                id(Shape::FileTasks, "file-1", Action::Status),
            ),
            (
                Method::GET,
                "/api/projects/p/sessions/s/turns/turn-1",
                Endpoint::Job {
                    target: Target::Id {
                        shape: Shape::Turn,
                        id: "turn-1".to_owned(),
                        session: Some(("p".to_owned(), "s".to_owned())),
                    },
                    action: Action::Status,
                },
            ),
            (
                Method::POST,
                "/v1/operations/op-1:cancel",
                id(Shape::Google, "op-1", Action::Cancel),
            ),
            (
                Method::GET,
                "/v1/operations/op-1",
                id(Shape::Google, "op-1", Action::Status),
            ),
            (
                Method::PUT,
                "/azure/resources/vm1",
                Endpoint::Submit(Submit::Azure {
                    resource: Some("vm1".to_owned()),
                    method: AzureMethod::Put,
                }),
            ),
            (
                Method::GET,
                "/azure/resources/vm1",
                Endpoint::Job {
                    target: Target::AzureResource {
                        name: "vm1".to_owned(),
                    },
                    action: Action::Resource,
                },
            ),
            (
                Method::POST,
                "/api/projects/p/files/status",
                Endpoint::FileStatus {
                    project: "p".to_owned(),
                },
            ),
        ];
        for (method, path, endpoint) in cases {
            assert_eq!(resolve(&method, path), Ok(endpoint), "{method} {path}");
        }
    }

    #[test]
    fn azure_and_google_operation_routes() {
        let azure = |name: &str, action| id(Shape::Azure, name, action);
        let cases = [
            (
                Method::GET,
                "/azure/operation-status/a-1",
                azure("a-1", Action::Status),
            ),
            (
                Method::GET,
                "/azure/operation-results/a-1",
                azure("a-1", Action::Location { step: 0 }),
            ),
            (
                Method::GET,
                "/azure/operation-results/a-1/12",
                azure("a-1", Action::Location { step: 12 }),
            ),
            (
                Method::GET,
                "/azure/results/a-1",
                azure("a-1", Action::FinalResult),
            ),
            (
                Method::GET,
                "/v1/operations/p/l/op-1",
                id(Shape::Google, "p/l/op-1", Action::Status),
            ),
            (
                Method::POST,
                "/v1/operations/p/op-1:cancel",
                id(Shape::Google, "p/op-1", Action::Cancel),
            ),
            (
                Method::DELETE,
                "/v1/operations/op-1",
                id(Shape::Google, "op-1", Action::Delete),
            ),
        ];
        for (method, path, endpoint) in cases {
            assert_eq!(resolve(&method, path), Ok(endpoint), "{method} {path}");
        }
        for (method, azure_method) in [
            (Method::PATCH, AzureMethod::Patch),
            (Method::DELETE, AzureMethod::Delete),
            (Method::POST, AzureMethod::Post),
        ] {
            assert_eq!(
                resolve(&method, "/azure/resources/vm1"),
                Ok(Endpoint::Submit(Submit::Azure {
                    resource: Some("vm1".to_owned()),
                    method: azure_method,
                }))
            );
        }
        for path in [
            "/azure/operation-results/a-1/0",
            "/azure/operation-results/a-1/01",
            "/azure/operation-results/a-1/x",
            "/v1/operations/p//op-1",
            "/v1/operations/op-1/",
        ] {
            assert_eq!(
                resolve(&Method::GET, path),
                Err(RouteError::NotFound),
                "{path}"
            );
        }
    }

    #[test]
    fn wrong_methods_and_unknown_paths() {
        assert_eq!(
            resolve(&Method::DELETE, "/api/v1/jobs/job-1"),
            Err(RouteError::MethodNotAllowed { allowed: GET })
        );
        // A job id that ends in `-job` is still a status path.
        assert_eq!(
            resolve(&Method::POST, "/api/v1/jobs/x-job"),
            Err(RouteError::MethodNotAllowed { allowed: GET })
        );
        for path in [
            "",
            "/",
            "api/v1/jobs",
            "/api/v1/jobs/",
            "/api/v1/-job",
            "/api/file/",
            "/v1/operations/:cancel",
            "/api/projects//sessions/s/turns",
            "/azure/resources/",
            "/nope",
        ] {
            assert_eq!(
                resolve(&Method::GET, path),
                Err(RouteError::NotFound),
                "{path:?}"
            );
            assert_eq!(
                resolve(&Method::POST, path),
                Err(RouteError::NotFound),
                "{path:?}"
            );
        }
        assert_eq!(
            allow_header(AZURE_RESOURCE),
            "GET, PUT, PATCH, POST, DELETE"
        );
    }
}
