//! Azure and Google operations that go wrong, or need more than polling, run by
//! the driver against the reference server over loopback and judged by the
//! vendors' rules (`docs/profiles.md`, "Azure and Google operations"): monitors
//! that do not say their status, final GETs that fail, failed and canceled
//! operations, create requests that fail at first, session cookies, and Google
//! operations (created done, progress, cancel, names with slashes).
#![allow(missing_docs)]

mod operations_support;

use http::Method;
use jobpoll_server::plan::{
    AzureHeader, CreateFailures, Ending, FinalGetFault, GooglePlan, MonitorFault, MonitorFaultKind,
};
use operations_support::{AAO, Body, Case, Extra, LOC, OL, Role, azure, google, jobs, run_table};
use serde_json::json;

const RESOURCE: Body = Body::Resource { echo: true };
const SUCCEEDED_RESOURCE: Body = Body::Resource { echo: false };

/// A monitor answer without a readable `status` is an error, never success:
/// once it recovers, and always (three in a row end the wait, with no final GET).
fn monitor_faults() -> Vec<Case> {
    let mut cases = Vec::new();
    for kind in [
        MonitorFaultKind::MissingStatus,
        MonitorFaultKind::NumericStatus,
        MonitorFaultKind::EmptyBody,
        MonitorFaultKind::NotJson,
    ] {
        // A body that is not JSON is named as such; the others lack `/status`.
        let says = match kind {
            MonitorFaultKind::NotJson => "not JSON",
            _ => "/status",
        };
        let faulty = |method: Method, headers: &'static [AzureHeader], polls: Option<u32>| {
            let times = polls.map_or("always".to_owned(), |n| format!("for {n} poll"));
            azure(method, Some(headers))
                .named(&format!("monitor {kind:?} {times}"))
                .plan(|p| p.azure.monitor_fault = Some(MonitorFault { kind, polls }))
        };
        cases.extend([
            faulty(Method::PUT, &[AAO], Some(1))
                .expect("succeeded", RESOURCE)
                .at_least(Role::Aao, 2)
                .exactly(Role::Resource, 1),
            faulty(Method::POST, &[OL, LOC], Some(1))
                .expect("succeeded", SUCCEEDED_RESOURCE)
                .at_least(Role::Ol, 2)
                .exactly(Role::Location, 1),
            faulty(Method::PUT, &[AAO], None)
                .expect("gave_up", Body::Unchecked)
                .with(Extra::Unreadable)
                .with(Extra::Says(says))
                .exactly(Role::Aao, 3),
            faulty(Method::DELETE, &[OL, LOC], None)
                .expect("gave_up", Body::Unchecked)
                .with(Extra::Unreadable)
                .with(Extra::Says(says))
                .exactly(Role::Ol, 3),
        ]);
    }
    cases
}

/// A final GET that fails does not undo the success: transient errors are
/// retried, lasting ones are noted beside the monitor's body.
fn final_get_faults() -> Vec<Case> {
    let fault = |status: u16, times: Option<u32>| {
        move |p: &mut jobpoll_server::plan::JobPlan| {
            p.azure.final_get_fault = Some(FinalGetFault { status, times });
        }
    };
    vec![
        azure(Method::PUT, Some(&[AAO]))
            .named("final GET 500 twice")
            .plan(fault(500, Some(2)))
            .expect("succeeded", RESOURCE)
            .at_least(Role::Aao, 2)
            .exactly(Role::Resource, 3),
        azure(Method::POST, Some(&[AAO, LOC]))
            .named("final GET 500 twice")
            .plan(fault(500, Some(2)))
            .expect("succeeded", SUCCEEDED_RESOURCE)
            .at_least(Role::Aao, 2)
            .exactly(Role::Location, 3),
        azure(Method::PUT, Some(&[AAO]))
            .named("final GET 404")
            .plan(fault(404, None))
            .expect("succeeded", Body::Monitor)
            .with(Extra::ResultsError)
            .with(Extra::Says("404"))
            .at_least(Role::Aao, 2)
            .at_least(Role::Resource, 1),
        azure(Method::PATCH, Some(&[OL]))
            .named("final GET 403")
            .plan(fault(403, None))
            .expect("succeeded", Body::Monitor)
            .with(Extra::ResultsError)
            .with(Extra::Says("403"))
            .at_least(Role::Ol, 2)
            .exactly(Role::Resource, 1),
        azure(Method::PUT, Some(&[AAO]))
            .named("resourceLocation, final GET 404")
            .plan(|p| {
                p.azure.resource_location = true;
                p.azure.final_get_fault = Some(FinalGetFault {
                    status: 404,
                    times: None,
                });
            })
            .expect("succeeded", Body::Monitor)
            .with(Extra::ResultsError)
            .at_least(Role::Aao, 2)
            .at_least(Role::Results, 1),
    ]
}

/// Failed and canceled operations end so, whichever way they are polled, and
/// fetch no final resource.
fn failed_and_canceled() -> Vec<Case> {
    let canceled = |method: Method, headers: &'static [AzureHeader]| {
        azure(method, Some(headers))
            .named("canceled")
            .plan(|p| p.azure.canceled = true)
            .expect("cancelled", Body::Unchecked)
            .with(Extra::CancelledByServer)
    };
    let code = || Extra::DetailsCode(json!("ProvisioningFailed"));
    vec![
        azure(Method::PUT, Some(&[AAO]))
            .fails()
            .with(Extra::Says("quota"))
            .with(code())
            .at_least(Role::Aao, 2),
        azure(Method::POST, Some(&[AAO, LOC]))
            .fails()
            .with(Extra::Says("quota"))
            .with(code())
            .at_least(Role::Aao, 2),
        azure(Method::DELETE, Some(&[OL]))
            .fails()
            .with(Extra::Says("quota"))
            .with(code())
            .at_least(Role::Ol, 2),
        azure(Method::PUT, Some(&[]))
            .initial(201)
            .fails()
            .at_least(Role::Resource, 2),
        // The Location poller answers 400 with the Azure error: failed.
        azure(Method::POST, Some(&[LOC]))
            .fails()
            .with(Extra::Says("quota"))
            .with(code())
            .at_least(Role::Location, 2),
        azure(Method::DELETE, Some(&[LOC]))
            .named("canceled")
            .plan(|p| p.azure.canceled = true)
            .expect("failed", Body::Unchecked)
            .with(Extra::DetailsCode(json!("Canceled")))
            .at_least(Role::Location, 2),
        canceled(Method::PUT, &[AAO]).at_least(Role::Aao, 2),
        canceled(Method::POST, &[OL, LOC]).at_least(Role::Ol, 2),
        canceled(Method::PATCH, &[]).at_least(Role::Resource, 2),
    ]
}

/// The Azure profile repeats a create after 500, 503 or 504 whatever its
/// method; the jobs profile does not repeat a POST after 500.
fn create_failures() -> Vec<Case> {
    let failing = |case: Case, status: u16, times: u32| {
        case.named(&format!("create {status} x{times}"))
            .plan(|p| {
                p.create_failures = Some(CreateFailures {
                    status,
                    times,
                    retry_after: None,
                });
            })
            .exactly(Role::Create, u64::from(times) + 1)
    };
    vec![
        failing(azure(Method::POST, Some(&[AAO, LOC])), 500, 2)
            .expect("succeeded", SUCCEEDED_RESOURCE)
            .at_least(Role::Aao, 2)
            .exactly(Role::Location, 1),
        failing(azure(Method::POST, Some(&[])), 503, 1)
            .initial(200)
            .expect("succeeded", SUCCEEDED_RESOURCE),
        failing(azure(Method::PUT, Some(&[AAO])), 503, 2)
            .expect("succeeded", RESOURCE)
            .at_least(Role::Aao, 2)
            .exactly(Role::Resource, 1),
        failing(azure(Method::PUT, Some(&[AAO])), 500, 1)
            .expect("succeeded", RESOURCE)
            .at_least(Role::Aao, 2)
            .exactly(Role::Resource, 1),
        failing(azure(Method::PATCH, Some(&[OL])), 504, 1)
            .expect("succeeded", RESOURCE)
            .at_least(Role::Ol, 2)
            .exactly(Role::Resource, 1),
        failing(azure(Method::DELETE, Some(&[LOC])), 500, 1)
            .expect("succeeded", Body::Empty)
            .at_least(Role::Location, 2),
        failing(jobs("POST"), 500, 1)
            .exactly(Role::Create, 1)
            .expect("gave_up", Body::Unchecked)
            .with(Extra::Says("Idempotency-Key")),
    ]
}

/// A session kept in a cookie set by the first poll.
fn cookies() -> Vec<Case> {
    let session = |case: Case| {
        case.named("session cookie")
            .plan(|p| p.session_cookie = true)
            .with(Extra::NoRefusals)
    };
    vec![
        session(azure(Method::PUT, Some(&[AAO])))
            .expect("succeeded", RESOURCE)
            .at_least(Role::Aao, 2)
            .exactly(Role::Resource, 1),
        session(azure(Method::POST, Some(&[LOC])))
            .expect("succeeded", SUCCEEDED_RESOURCE)
            .at_least(Role::Location, 2),
        session(azure(Method::PUT, Some(&[])))
            .initial(201)
            .expect("succeeded", RESOURCE)
            .at_least(Role::Resource, 2),
        session(google("runs"))
            .expect("succeeded", Body::GoogleResponse)
            .at_least(Role::Poll, 2),
    ]
}

fn google_operations() -> Vec<Case> {
    let slashes = |case: Case| {
        case.named("named p1/locations/eu").plan(|p| {
            p.google = GooglePlan {
                name_prefix: Some("p1/locations/eu".to_owned()),
            };
        })
    };
    let cancel = |case: Case, path: &'static str| {
        case.named("cancelled by the driver")
            .plan(|p| p.ending = Ending::Never)
            .expect("cancelled", Body::Unchecked)
            .with(Extra::CancelledByClientConfirmed)
            .with(Extra::ServerShows(path, "/done", json!(true)))
            .with(Extra::ServerShows(path, "/error/code", json!(1)))
            .at_least(Role::Poll, 1)
            .exactly(Role::Cancel, 1)
    };
    let mut cancelled = google("running");
    cancelled.cancel = true;
    let mut cancelled_slashes = slashes(google("running"));
    cancelled_slashes.cancel = true;
    vec![
        google("created done")
            .at_once()
            .expect("succeeded", Body::GoogleResponse),
        google("created done")
            .at_once()
            .fails()
            .with(Extra::Says("quota"))
            .with(Extra::DetailsCode(json!(13))),
        google("runs")
            .expect("succeeded", Body::GoogleResponse)
            .with(Extra::Progress)
            .with(Extra::JobId("operations/op-1"))
            .at_least(Role::Poll, 2),
        google("runs")
            .fails()
            .with(Extra::Says("quota"))
            .at_least(Role::Poll, 2),
        slashes(google("runs"))
            .expect("succeeded", Body::GoogleResponse)
            .with(Extra::JobId("operations/p1/locations/eu/op-1"))
            .at_least(Role::Poll, 2),
        cancel(cancelled, "/v1/operations/op-1"),
        cancel(cancelled_slashes, "/v1/operations/p1/locations/eu/op-1"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_that_go_wrong_end_as_the_sdks_end_them() {
    let mut cases = monitor_faults();
    cases.extend(final_get_faults());
    cases.extend(failed_and_canceled());
    cases.extend(create_failures());
    cases.extend(cookies());
    cases.extend(google_operations());
    run_table(cases).await;
}
