//! The API shapes: how each one renders a job. One file per shape, each owning its
//! paths and JSON; this module only dispatches on the job's shape.
//!
//! Renderers are pure functions of a job and an instant. The model decides what
//! happens (cancels, faults, estimates); the shapes say it in their API's words.

use jobpoll_core::Instant;
use serde_json::Value;

use crate::clock;
use crate::job::Job;
use crate::plan::Shape;
use crate::reply::Reply;

pub(crate) mod azure;
mod codegen;
mod file_tasks;
pub(crate) mod google;
pub(crate) mod jobs;
mod turn;

/// What a renderer may need to know about the request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Context<'a> {
    /// Now.
    pub(crate) now: Instant,
    /// `scheme://host[:port]` of the server as the client addressed it, when the
    /// request says so; absolute URLs in headers use it.
    pub(crate) origin: Option<&'a str>,
}

/// What a status answer says beyond the job's state.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct StatusExtras {
    /// The estimated remaining time in seconds, when the shape reports one.
    pub(crate) eta_seconds: Option<f64>,
    /// An `UnknownStatus` fault: say a status value the API does not define.
    pub(crate) unknown_status: bool,
}

/// Whether status answers of `shape` carry an estimated remaining time (only the
/// jobs API has a field for it).
pub(crate) fn reports_eta(shape: Shape) -> bool {
    shape == Shape::Jobs
}

/// The job's id as its API gives it to clients: the Google operation `name`
/// (`operations/op-1`), the short id for every other shape.
pub(crate) fn client_id(job: &Job) -> String {
    match job.shape() {
        Shape::Google => google::name(job),
        _ => job.id.clone(),
    }
}

/// The path of the job's status resource.
pub(crate) fn status_path(job: &Job) -> String {
    match job.shape() {
        Shape::Jobs => jobs::status_path(job),
        Shape::Codegen => codegen::status_path(job),
        Shape::FileTasks => file_tasks::status_path(job),
        Shape::Turn => turn::status_path(job),
        Shape::Google => google::status_path(job),
        Shape::Azure => azure::status_path(job),
    }
}

/// The answer to the request that created the job.
pub(crate) fn submitted(job: &Job, context: Context<'_>) -> Reply {
    match job.shape() {
        Shape::Jobs => jobs::submitted(job),
        Shape::Codegen => codegen::submitted(job),
        Shape::FileTasks => file_tasks::submitted(job, context.now),
        Shape::Turn => turn::submitted(job),
        Shape::Google => google::submitted(job, context.now),
        Shape::Azure => azure::submitted(job, context),
    }
}

/// The answer to a status request.
pub(crate) fn status(job: &Job, context: Context<'_>, extras: StatusExtras) -> Reply {
    let now = context.now;
    let unknown = extras.unknown_status;
    Reply::ok(match job.shape() {
        Shape::Jobs => jobs::status(job, now, extras),
        Shape::Codegen => codegen::status(job, now, unknown),
        Shape::FileTasks => file_tasks::status(job, now, unknown),
        Shape::Turn => turn::status(job, now, unknown),
        Shape::Google => google::operation(job, now, unknown),
        Shape::Azure => azure::operation(job, now, unknown),
    })
}

/// The answer to a results request (codegen).
pub(crate) fn results(job: &Job, context: Context<'_>) -> Reply {
    match job.shape() {
        Shape::Codegen => codegen::results(job, context.now),
        _ => Reply::not_found(&job.id),
    }
}

/// The answer to a request for the job's final resource (Azure).
pub(crate) fn resource(job: &Job, context: Context<'_>, unknown_status: bool) -> Reply {
    match job.shape() {
        Shape::Azure => Reply::ok(azure::resource(job, context.now, unknown_status)),
        _ => Reply::not_found(&job.id),
    }
}

/// The answer to a cancel request that cancelled the job.
pub(crate) fn cancelled(job: &Job, context: Context<'_>) -> Reply {
    match job.shape() {
        Shape::Jobs => jobs::cancelled(job, context.now),
        _ => Reply::ok(serde_json::json!({})),
    }
}

/// The answer to a cancel request for a job that has already finished.
pub(crate) fn cancel_refused(job: &Job, context: Context<'_>) -> Reply {
    match job.shape() {
        Shape::Google => google::cancel_refused(job),
        _ => jobs::cancel_refused(job, context.now),
    }
}

/// A timestamp, or `null`.
fn timestamp(at: Option<Instant>) -> Value {
    at.map_or(Value::Null, |at| Value::String(clock::rfc3339(at)))
}
