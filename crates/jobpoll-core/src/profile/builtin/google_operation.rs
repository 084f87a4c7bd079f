//! Google long-running operations.

use super::strings;
use crate::profile::sparse::PlanCell;
use crate::profile::{CancelSpec, Completion, Profile, RepeatSubmit, StatusUrlRule};

impl Profile {
    /// Google `google.longrunning.Operation`: `GET /v1/{name}`, cancel with
    /// `POST /v1/{name}:cancel`.
    ///
    /// Running while `done` is absent or false (status `running`, percentage from
    /// `metadata.progressPercent`); once done (status `done`), `error` means failed,
    /// or cancelled when its code is 1 (`CANCELLED`), and otherwise the result is
    /// `response`. A body with none of `name`, `done`, `error`, `response` and
    /// `metadata` is not an operation: an unreadable answer.
    pub fn google_operation() -> Profile {
        Profile {
            name: "google".to_owned(),
            completion: Completion::GoogleOperation,
            submit_id_pointers: strings(&["/name"]),
            submit_id_header: None,
            status_url: StatusUrlRule::Template {
                template: "/v1/{id_path}".to_owned(),
            },
            percentage_pointer: Some("/metadata/progressPercent".to_owned()),
            progress_ratio: None,
            step_pointer: None,
            eta_pointer: None,
            result_pointer: Some("/response".to_owned()),
            error_message_pointer: Some("/error/message".to_owned()),
            error_details_pointer: Some("/error".to_owned()),
            revision_pointer: None,
            results: None,
            cancel: Some(CancelSpec {
                method: "POST".to_owned(),
                url: "/v1/{id_path}:cancel".to_owned(),
            }),
            not_found_means_pending: false,
            repeat_submit: RepeatSubmit::default(),
            status_plan: PlanCell::default(),
        }
    }
}
