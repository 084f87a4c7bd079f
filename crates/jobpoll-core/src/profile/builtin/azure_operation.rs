//! Azure long-running operations.

use super::strings;
use crate::profile::sparse::PlanCell;
use crate::profile::{
    Completion, Profile, RepeatSubmit, ResultsSpec, ResultsTransform, StatusUrlRule,
};

impl Profile {
    /// Azure long-running operations, as the Azure SDKs run them: started with
    /// `PUT`, `PATCH`, `DELETE` or `POST`; polled at `Azure-AsyncOperation` or
    /// `Operation-Location` (a `status` in the body), else at `Location` (`202`
    /// while running), else, after `PUT` or `PATCH`, at the request URL (the
    /// resource's `properties.provisioningState`); an answer with none of them ends
    /// the job at once. After success, the final resource is fetched where the
    /// rules say (see [`Completion::AzureOperation`]).
    ///
    /// Status values compare case-insensitively: `Succeeded`, `Failed`,
    /// `Canceled`/`Cancelled`, anything else running. Percentage from
    /// `percentComplete`, failure message from `error.message`. A submit is sent
    /// again after a `500`, `503` or `504`, as the Azure SDKs' retry policy does.
    pub fn azure_operation() -> Profile {
        Profile {
            name: "azure".to_owned(),
            completion: Completion::AzureOperation {
                final_state_via: None,
            },
            submit_id_pointers: Vec::new(),
            submit_id_header: None,
            status_url: StatusUrlRule::Headers {
                names: strings(&["Azure-AsyncOperation", "Operation-Location", "Location"]),
            },
            percentage_pointer: Some("/percentComplete".to_owned()),
            progress_ratio: None,
            step_pointer: None,
            eta_pointer: None,
            result_pointer: None,
            error_message_pointer: Some("/error/message".to_owned()),
            error_details_pointer: Some("/error".to_owned()),
            revision_pointer: None,
            results: Some(ResultsSpec {
                url: None,
                transform: ResultsTransform::AsIs,
            }),
            cancel: None,
            not_found_means_pending: false,
            repeat_submit: RepeatSubmit {
                methods: Vec::new(),
                statuses: vec![500, 503, 504],
            },
            status_plan: PlanCell::default(),
        }
    }
}
