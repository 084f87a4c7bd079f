//! Every Azure operation the reference server can express, run by the driver
//! over loopback and judged by the Azure SDKs' rules (`docs/profiles.md`, "Azure
//! and Google operations"): each method with each way of polling and each
//! initial status, moving Locations, `resourceLocation` and each
//! `final-state-via`. Each case checks the outcome, the final body and how many
//! requests of each kind the server received. Faults, failures, cookies and
//! Google operations are in `operations_faults.rs`.
#![allow(missing_docs)]

mod operations_support;

use http::Method;
use jobpoll_core::profile::FinalStateVia;
use jobpoll_server::plan::{AzureHeader, StaleLocation};
use operations_support::{AAO, Body, Case, LOC, OL, Role, azure, run_table};

const RESOURCE: Body = Body::Resource { echo: true };
const SUCCEEDED_RESOURCE: Body = Body::Resource { echo: false };

/// PUT and PATCH: after a monitor the request URL is fetched; Location polling
/// and the resource's own polling end with the last answer; a final create
/// answer ends the job at once.
fn put_and_patch() -> Vec<Case> {
    let mut cases = Vec::new();
    for method in [Method::PUT, Method::PATCH] {
        let m = || method.clone();
        cases.extend([
            azure(m(), Some(&[AAO]))
                .expect("succeeded", RESOURCE)
                .at_least(Role::Aao, 2)
                .exactly(Role::Resource, 1),
            azure(m(), Some(&[OL]))
                .expect("succeeded", RESOURCE)
                .at_least(Role::Ol, 2)
                .exactly(Role::Resource, 1),
            // Both monitors: Azure-AsyncOperation is the one polled.
            azure(m(), Some(&[AAO, OL]))
                .expect("succeeded", RESOURCE)
                .at_least(Role::Aao, 2)
                .exactly(Role::Resource, 1),
            // A Location beside the monitor is not where a PUT/PATCH ends.
            azure(m(), Some(&[AAO, LOC]))
                .expect("succeeded", RESOURCE)
                .at_least(Role::Aao, 2)
                .exactly(Role::Resource, 1),
            azure(m(), None)
                .expect("succeeded", RESOURCE)
                .at_least(Role::Aao, 2)
                .exactly(Role::Resource, 1),
            azure(m(), Some(&[AAO]))
                .initial(200)
                .expect("succeeded", RESOURCE)
                .at_least(Role::Aao, 2)
                .exactly(Role::Resource, 1),
            azure(m(), Some(&[OL]))
                .initial(201)
                .expect("succeeded", RESOURCE)
                .at_least(Role::Ol, 2)
                .exactly(Role::Resource, 1),
            azure(m(), Some(&[AAO]))
                .initial(202)
                .expect("succeeded", RESOURCE)
                .at_least(Role::Aao, 2)
                .exactly(Role::Resource, 1),
            // Location polling: 202 until the resource comes; no final GET.
            azure(m(), Some(&[LOC]))
                .expect("succeeded", RESOURCE)
                .at_least(Role::Location, 2),
            azure(m(), Some(&[LOC]))
                .named("Location ends 201")
                .plan(|p| p.azure.location_final_status = Some(201))
                .expect("succeeded", RESOURCE)
                .at_least(Role::Location, 2),
            // No header: the resource itself is polled until a terminal state.
            azure(m(), Some(&[]))
                .initial(201)
                .expect("succeeded", RESOURCE)
                .at_least(Role::Resource, 2),
            azure(m(), Some(&[]))
                .initial(202)
                .expect("succeeded", RESOURCE)
                .at_least(Role::Resource, 2),
            azure(m(), Some(&[]))
                .initial(200)
                .named("still Accepted")
                .expect("succeeded", RESOURCE)
                .at_least(Role::Resource, 2),
            // Final at once: a 200 that says Succeeded, a 204.
            azure(m(), Some(&[]))
                .initial(200)
                .named("Succeeded")
                .at_once()
                .expect("succeeded", RESOURCE),
            azure(m(), Some(&[]))
                .initial(204)
                .expect("succeeded", Body::Empty),
        ]);
    }
    cases
}

/// POST: after a monitor the create answer's Location is fetched, or nothing
/// without one; no header means done at once, with the answer as the result.
fn post() -> Vec<Case> {
    let post = || Method::POST;
    vec![
        azure(post(), Some(&[AAO]))
            .expect("succeeded", Body::Monitor)
            .at_least(Role::Aao, 2),
        azure(post(), Some(&[OL]))
            .expect("succeeded", Body::Monitor)
            .at_least(Role::Ol, 2),
        azure(post(), Some(&[AAO, OL]))
            .expect("succeeded", Body::Monitor)
            .at_least(Role::Aao, 2),
        azure(post(), Some(&[AAO, LOC]))
            .expect("succeeded", SUCCEEDED_RESOURCE)
            .at_least(Role::Aao, 2)
            .exactly(Role::Location, 1),
        azure(post(), Some(&[OL, LOC]))
            .expect("succeeded", SUCCEEDED_RESOURCE)
            .at_least(Role::Ol, 2)
            .exactly(Role::Location, 1),
        azure(post(), Some(&[AAO, OL, LOC]))
            .initial(202)
            .expect("succeeded", SUCCEEDED_RESOURCE)
            .at_least(Role::Aao, 2)
            .exactly(Role::Location, 1),
        // The classic pair: the Location is the resource, fetched at the end.
        azure(post(), None)
            .expect("succeeded", SUCCEEDED_RESOURCE)
            .at_least(Role::Aao, 2)
            .exactly(Role::Resource, 1),
        azure(post(), Some(&[LOC]))
            .expect("succeeded", SUCCEEDED_RESOURCE)
            .at_least(Role::Location, 2),
        azure(post(), Some(&[LOC]))
            .initial(202)
            .named("Location ends 204")
            .plan(|p| p.azure.location_final_status = Some(204))
            .expect("succeeded", Body::Empty)
            .at_least(Role::Location, 2),
        azure(post(), Some(&[]))
            .initial(201)
            .expect("succeeded", SUCCEEDED_RESOURCE),
        azure(post(), Some(&[]))
            .initial(200)
            .expect("succeeded", SUCCEEDED_RESOURCE),
        azure(post(), Some(&[]))
            .initial(202)
            .expect("succeeded", Body::Empty),
        azure(post(), Some(&[]))
            .initial(204)
            .expect("succeeded", Body::Empty),
    ]
}

/// DELETE: nothing is fetched after a monitor; Location polling ends with its
/// 204; no header means done at once.
fn delete() -> Vec<Case> {
    let delete = || Method::DELETE;
    vec![
        azure(delete(), Some(&[AAO]))
            .expect("succeeded", Body::Monitor)
            .at_least(Role::Aao, 2),
        azure(delete(), Some(&[OL]))
            .expect("succeeded", Body::Monitor)
            .at_least(Role::Ol, 2),
        azure(delete(), Some(&[AAO, OL]))
            .expect("succeeded", Body::Monitor)
            .at_least(Role::Aao, 2),
        azure(delete(), Some(&[AAO, LOC]))
            .expect("succeeded", Body::Monitor)
            .at_least(Role::Aao, 2),
        azure(delete(), None)
            .initial(202)
            .expect("succeeded", Body::Monitor)
            .at_least(Role::Aao, 2),
        azure(delete(), Some(&[OL]))
            .initial(201)
            .expect("succeeded", Body::Monitor)
            .at_least(Role::Ol, 2),
        azure(delete(), Some(&[LOC]))
            .expect("succeeded", Body::Empty)
            .at_least(Role::Location, 2),
        azure(delete(), Some(&[LOC]))
            .named("Location ends 200")
            .plan(|p| p.azure.location_final_status = Some(200))
            .expect("succeeded", SUCCEEDED_RESOURCE)
            .at_least(Role::Location, 2),
        azure(delete(), Some(&[]))
            .initial(202)
            .expect("succeeded", Body::Empty),
        azure(delete(), Some(&[]))
            .initial(204)
            .expect("succeeded", Body::Empty),
        azure(delete(), Some(&[]))
            .initial(200)
            .expect("succeeded", SUCCEEDED_RESOURCE),
    ]
}

/// A 202 with a new Location moves the polling there; the URL left behind
/// answers 202 forever or 404.
fn moving_location() -> Vec<Case> {
    let mut cases = Vec::new();
    for stale in [StaleLocation::Accepted, StaleLocation::NotFound] {
        let moving = |method: Method| {
            azure(method, Some(&[LOC]))
                .named(&format!("Location moves, old one {stale:?}"))
                .plan(|p| {
                    p.duration = std::time::Duration::from_millis(300);
                    p.azure.moving_location = Some(stale);
                })
                .exactly(Role::Location, 1)
                .at_least(Role::Moved, 2)
        };
        cases.extend([
            moving(Method::POST).expect("succeeded", SUCCEEDED_RESOURCE),
            moving(Method::PUT).expect("succeeded", RESOURCE),
            moving(Method::DELETE).expect("succeeded", Body::Empty),
        ]);
    }
    cases
}

/// `resourceLocation` in a succeeded monitor body, and each `final-state-via`.
fn final_resource() -> Vec<Case> {
    use FinalStateVia::{AzureAsyncOperation, Location, OperationLocation, OriginalUri};
    let named_resource = |method: Method, headers: &'static [AzureHeader]| {
        azure(method, Some(headers))
            .named("resourceLocation")
            .plan(|p| p.azure.resource_location = true)
    };
    vec![
        named_resource(Method::PUT, &[AAO])
            .expect("succeeded", RESOURCE)
            .at_least(Role::Aao, 2)
            .exactly(Role::Results, 1),
        named_resource(Method::PATCH, &[OL])
            .expect("succeeded", RESOURCE)
            .at_least(Role::Ol, 2)
            .exactly(Role::Results, 1),
        named_resource(Method::POST, &[AAO, LOC])
            .expect("succeeded", SUCCEEDED_RESOURCE)
            .at_least(Role::Aao, 2)
            .exactly(Role::Results, 1),
        named_resource(Method::DELETE, &[AAO])
            .expect("succeeded", SUCCEEDED_RESOURCE)
            .at_least(Role::Aao, 2)
            .exactly(Role::Results, 1),
        // location and original-uri win over resourceLocation.
        named_resource(Method::PUT, &[AAO, LOC])
            .via(Location)
            .expect("succeeded", RESOURCE)
            .at_least(Role::Aao, 2)
            .exactly(Role::Location, 1),
        named_resource(Method::PUT, &[AAO])
            .via(OriginalUri)
            .expect("succeeded", RESOURCE)
            .at_least(Role::Aao, 2)
            .exactly(Role::Resource, 1),
        // After POST, a monitor final-state-via ends with the monitor's body.
        named_resource(Method::POST, &[AAO, LOC])
            .via(AzureAsyncOperation)
            .expect("succeeded", Body::Monitor)
            .at_least(Role::Aao, 2),
        azure(Method::PUT, Some(&[AAO, LOC]))
            .via(Location)
            .expect("succeeded", RESOURCE)
            .at_least(Role::Aao, 2)
            .exactly(Role::Location, 1),
        azure(Method::PATCH, Some(&[OL, LOC]))
            .via(OriginalUri)
            .expect("succeeded", RESOURCE)
            .at_least(Role::Ol, 2)
            .exactly(Role::Resource, 1),
        // After PUT, a monitor final-state-via still fetches the request URL.
        azure(Method::PUT, Some(&[AAO, LOC]))
            .via(AzureAsyncOperation)
            .expect("succeeded", RESOURCE)
            .at_least(Role::Aao, 2)
            .exactly(Role::Resource, 1),
        azure(Method::PATCH, Some(&[OL, LOC]))
            .via(OperationLocation)
            .expect("succeeded", RESOURCE)
            .at_least(Role::Ol, 2)
            .exactly(Role::Resource, 1),
        azure(Method::POST, Some(&[AAO, LOC]))
            .via(AzureAsyncOperation)
            .expect("succeeded", Body::Monitor)
            .at_least(Role::Aao, 2),
        azure(Method::POST, Some(&[OL, LOC]))
            .via(OperationLocation)
            .expect("succeeded", Body::Monitor)
            .at_least(Role::Ol, 2),
        azure(Method::POST, Some(&[AAO, LOC]))
            .via(Location)
            .expect("succeeded", SUCCEEDED_RESOURCE)
            .at_least(Role::Aao, 2)
            .exactly(Role::Location, 1),
        azure(Method::POST, Some(&[AAO, LOC]))
            .via(OriginalUri)
            .expect("succeeded", SUCCEEDED_RESOURCE)
            .at_least(Role::Aao, 2)
            .exactly(Role::Resource, 1),
        // DELETE fetches its Location only when told to.
        azure(Method::DELETE, Some(&[AAO, LOC]))
            .via(Location)
            .expect("succeeded", Body::EmptyFinalGet)
            .at_least(Role::Aao, 2)
            .exactly(Role::Location, 1),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_azure_operation_ends_as_the_sdks_end_it() {
    let mut cases = put_and_patch();
    cases.extend(post());
    cases.extend(delete());
    cases.extend(moving_location());
    cases.extend(final_resource());
    run_table(cases).await;
}
