//! Azure long-running operations.

use super::strings;
use crate::profile::sparse::PlanCell;
use crate::profile::{Completion, Profile, ResultsSpec, ResultsTransform, StatusUrlRule};

impl Profile {
    /// Azure long-running operations: status URL from `Azure-AsyncOperation`,
    /// `Operation-Location` or `Location`; final GET of the resource named by
    /// `Location`.
    ///
    /// Status values compare case-insensitively: `Succeeded`, `Failed`,
    /// `Canceled`/`Cancelled`, anything else running. Percentage from
    /// `percentComplete`, failure message from `error.message`. The result of a
    /// succeeded status body is the whole body.
    pub fn azure_operation() -> Profile {
        Profile {
            name: "azure".to_owned(),
            completion: Completion::AzureOperation,
            submit_id_pointers: Vec::new(),
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
            status_plan: PlanCell::default(),
        }
    }
}
