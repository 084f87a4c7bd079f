//! The model's decisions about Azure requests: which answer each poll, Location
//! request and final GET gets, as the job's plan and its request counts say.
//! The answers themselves are written by `shapes::azure`.

use crate::job::{AzureMethod, Job, Phase};
use crate::plan::StaleLocation;
use crate::reply::Reply;
use crate::shapes::Context;
use crate::shapes::azure;

/// A status monitor request (both monitor paths): counted, and answered with the
/// plan's monitor fault while it lasts.
pub(super) fn monitor(job: &mut Job, context: Context<'_>, unknown_status: bool) -> Reply {
    job.seen.monitor_polls = job.seen.monitor_polls.saturating_add(1);
    let fault = job
        .plan
        .azure
        .monitor_fault
        .filter(|fault| {
            fault
                .polls
                .is_none_or(|polls| job.seen.monitor_polls <= polls)
        })
        .map(|fault| fault.kind);
    azure::monitor(job, context, unknown_status, fault)
}

/// A GET of the resource URI: the resource as its latest operation leaves it;
/// 404 once a DELETE has succeeded.
pub(super) fn resource(job: &mut Job, context: Context<'_>, unknown_status: bool) -> Reply {
    if job.phase(context.now) == Phase::Succeeded {
        if azure::method(job) == AzureMethod::Delete {
            return azure::not_found(azure::resource_name(job));
        }
        if let Some(refusal) = final_get(job) {
            return refusal;
        }
    }
    Reply::ok(azure::resource(job, context.now, unknown_status))
}

/// A GET of the result a monitor's `resourceLocation` names: 404 until the
/// operation has succeeded.
pub(super) fn final_result(job: &mut Job, context: Context<'_>) -> Reply {
    if job.phase(context.now) != Phase::Succeeded {
        return azure::not_found(&job.id);
    }
    if let Some(refusal) = final_get(job) {
        return refusal;
    }
    Reply::ok(azure::resource(job, context.now, false))
}

/// A GET of the Location poller at `step`. Only the step in force answers about
/// the operation; with a moving Location, each of its 202s moves it on, and older
/// steps answer as the plan says; steps not given yet are 404.
pub(super) fn location(job: &mut Job, step: u32, context: Context<'_>) -> Reply {
    let current = job.seen.location_step;
    let moving = job.plan.azure.moving_location;
    if step > current {
        return azure::not_found(&job.id);
    }
    if step < current {
        return match moving {
            Some(StaleLocation::Accepted) => azure::accepted(job, context, None),
            Some(StaleLocation::NotFound) | None => azure::not_found(&job.id),
        };
    }
    match job.phase(context.now) {
        Phase::Queued | Phase::Running => {
            let moved_to = moving.map(|_| {
                job.seen.location_step = current.saturating_add(1);
                job.seen.location_step
            });
            azure::accepted(job, context, moved_to)
        }
        Phase::Succeeded => match final_get(job) {
            Some(refusal) => refusal,
            None => azure::location_done(job, context.now),
        },
        Phase::Failed { .. } | Phase::Cancelled => azure::location_done(job, context.now),
    }
}

/// Counts a final GET (the operation has succeeded) and answers it with the
/// plan's final GET fault while it lasts; `None`: answer normally.
fn final_get(job: &mut Job) -> Option<Reply> {
    job.seen.final_gets = job.seen.final_gets.saturating_add(1);
    let fault = job.plan.azure.final_get_fault?;
    fault
        .times
        .is_none_or(|times| job.seen.final_gets <= times)
        .then(|| azure::final_get_error(fault.status))
}
