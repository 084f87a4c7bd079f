//! The parts of a [`JobPlan`](crate::plan::JobPlan) that choose how a long-running
//! operation answers: the Azure initial answer, its polling URLs and their faults,
//! the Google operation name, and create requests that fail at first. The crate
//! docs list every behaviour and how a client selects it.

use serde::{Deserialize, Serialize};

/// The create request fails at first: the first `times` create requests the server
/// receives at the request's method and path (counting every request there, this
/// one included, whatever plan they carried) are answered `status` with an error
/// body, and create nothing. Use a fresh path (an Azure resource name) per test.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateFailures {
    /// The status of the failed answers (500, 503, 429, 408, ...).
    pub status: u16,
    /// How many create requests fail before one succeeds.
    pub times: u32,
    /// Optional `Retry-After` seconds on the failed answers.
    #[serde(default)]
    pub retry_after: Option<u64>,
}

/// A header of the Azure initial answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AzureHeader {
    /// `Azure-AsyncOperation: /azure/operations/{id}`, a status monitor.
    AzureAsyncOperation,
    /// `Operation-Location: /azure/operation-status/{id}`, a status monitor at its
    /// own path (the same body as the `Azure-AsyncOperation` one).
    OperationLocation,
    /// `Location: /azure/operation-results/{id}`, a Location poller: 202 while
    /// running, the result when done.
    Location,
}

/// What an old Location URL answers once a 202 has moved the Location.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaleLocation {
    /// 202 without a `Location`, forever (even after the operation is done).
    Accepted,
    /// 404.
    NotFound,
}

/// What is wrong with a status monitor's 200 answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MonitorFaultKind {
    /// The operation body without its `status` field.
    MissingStatus,
    /// `status` is a number (`"status": 1`), not a string.
    NumericStatus,
    /// No body at all (and no `Content-Type`).
    EmptyBody,
    /// A `text/plain` body that is not JSON.
    NotJson,
}

/// Status monitor answers that cannot be read: 200 with `kind`, for the first
/// `polls` monitor requests of the operation (both monitor paths count), or for
/// every one when `polls` is absent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitorFault {
    /// What is wrong with the answer.
    pub kind: MonitorFaultKind,
    /// How many monitor requests get it; absent: all of them.
    #[serde(default)]
    pub polls: Option<u32>,
}

/// Final GETs that fail: once the operation has succeeded, a GET of its resource
/// URI, of its Location URL or of its `resourceLocation` is a final GET; the first
/// `times` of them (all of them when `times` is absent) are answered `status` with
/// an Azure error body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinalGetFault {
    /// The status of the failed final GETs (500, 404, 403, ...).
    pub status: u16,
    /// How many final GETs fail; absent: all of them.
    #[serde(default)]
    pub times: Option<u32>,
}

/// How an Azure operation answers. The default is the classic answer: 201 with the
/// resource, `Azure-AsyncOperation` and a `Location` naming the resource URI.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AzurePlan {
    /// The headers of the initial answer. Absent: the classic pair,
    /// `Azure-AsyncOperation` and `Location: /azure/resources/{name}` (the resource
    /// URI). Present: exactly these (`[]`: none at all), with `Location` naming the
    /// Location poller `/azure/operation-results/{id}`.
    pub headers: Option<Vec<AzureHeader>>,
    /// The status of the initial answer: any 2xx. Absent: 201 for PUT and POST, 202
    /// for PATCH and DELETE. 200 and 201 carry the resource; 202 and 204 no body.
    pub initial_status: Option<u16>,
    /// Every 202 of the Location poller carries a new `Location`
    /// (`/azure/operation-results/{id}/{n}`), and the URL it moves from then
    /// answers as this says. Absent: the Location stays where it is.
    pub moving_location: Option<StaleLocation>,
    /// The status of the Location poller once the operation has succeeded: 200,
    /// 201 (with the resource) or 204 (no body). Absent: 204 for DELETE, else 200.
    pub location_final_status: Option<u16>,
    /// The Succeeded monitor body carries `resourceLocation`
    /// (`/azure/results/{id}`), where the operation's result is.
    pub resource_location: bool,
    /// Unreadable status monitor answers.
    pub monitor_fault: Option<MonitorFault>,
    /// Failing final GETs.
    pub final_get_fault: Option<FinalGetFault>,
    /// The operation ends `Canceled` at the end of its duration instead of as its
    /// ending says (Azure has no cancel request).
    pub canceled: bool,
}

/// How a Google operation is named.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GooglePlan {
    /// Segments between `operations/` and the operation's id, so that its name
    /// holds slashes: `"p1/locations/eu"` names it `operations/p1/locations/eu/op-1`
    /// (polled at `/v1/operations/p1/locations/eu/op-1`). Segments are non-empty
    /// and made of ASCII letters, digits and `-._~`. Absent: `operations/op-1`.
    pub name_prefix: Option<String>,
}

impl GooglePlan {
    /// Whether `name_prefix`, if any, is one the server accepts.
    pub(crate) fn is_valid(&self) -> bool {
        self.name_prefix.as_deref().is_none_or(|prefix| {
            prefix.len() <= 200
                && prefix.split('/').all(|segment| {
                    !segment.is_empty()
                        && segment.bytes().all(|b| {
                            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
                        })
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::JobPlan;

    #[test]
    fn the_documented_json_spellings_parse() {
        let plan: JobPlan = serde_json::from_str(
            r#"{"duration": 0,
                "create_failures": {"status": 503, "times": 2},
                "azure": {
                    "headers": ["azure-async-operation", "operation-location", "location"],
                    "initial_status": 202,
                    "moving_location": "not_found",
                    "location_final_status": 204,
                    "resource_location": true,
                    "monitor_fault": {"kind": "numeric_status", "polls": 3},
                    "final_get_fault": {"status": 500},
                    "canceled": true},
                "google": {"name_prefix": "p1/locations/eu"}}"#,
        )
        .expect("a plan");
        let azure = plan.azure;
        assert_eq!(
            azure.headers.as_deref(),
            Some(
                &[
                    AzureHeader::AzureAsyncOperation,
                    AzureHeader::OperationLocation,
                    AzureHeader::Location
                ][..]
            )
        );
        assert_eq!(azure.moving_location, Some(StaleLocation::NotFound));
        assert_eq!(
            azure.monitor_fault,
            Some(MonitorFault {
                kind: MonitorFaultKind::NumericStatus,
                polls: Some(3)
            })
        );
        assert_eq!(
            azure.final_get_fault,
            Some(FinalGetFault {
                status: 500,
                times: None
            })
        );
        assert_eq!(plan.create_failures.map(|f| f.times), Some(2));
        assert!(plan.google.is_valid());
        let stale: StaleLocation = serde_json::from_str(r#""accepted""#).expect("stale");
        assert_eq!(stale, StaleLocation::Accepted);
        for kind in [r#""missing_status""#, r#""empty_body""#, r#""not_json""#] {
            serde_json::from_str::<MonitorFaultKind>(kind).expect(kind);
        }
    }
}
