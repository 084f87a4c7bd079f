//! The jobs API.

use super::strings;
use crate::profile::sparse::PlanCell;
use crate::profile::{CancelSpec, Completion, Profile, RepeatSubmit, StatusUrlRule, StatusValues};

impl Profile {
    /// The jobs API: `POST /api/v1/{x}-job` gives `{job_id, status: "queued"}`;
    /// `GET /api/v1/jobs/{id}` gives status queued|processing|completed|failed|
    /// cancelled, `progress_data{percentage, current_step, estimated_time_remaining}`,
    /// `result_data`, `error_data{message, details}`; `POST /api/v1/jobs/{id}/cancel`.
    ///
    /// The result is `result_data`, or `result` when that is absent (as the API's
    /// reference client does).
    pub fn jobs() -> Profile {
        Profile {
            name: "jobs".to_owned(),
            completion: Completion::Status {
                pointer: "/status".to_owned(),
                values: StatusValues {
                    running: strings(&["queued", "processing"]),
                    succeeded: strings(&["completed"]),
                    failed: strings(&["failed"]),
                    cancelled: strings(&["cancelled", "canceled"]),
                    unknown_means_running: false,
                },
            },
            submit_id_pointers: strings(&["/job_id"]),
            submit_id_header: None,
            status_url: StatusUrlRule::Template {
                template: "/api/v1/jobs/{id}".to_owned(),
            },
            percentage_pointer: Some("/progress_data/percentage".to_owned()),
            progress_ratio: None,
            step_pointer: Some("/progress_data/current_step".to_owned()),
            eta_pointer: Some("/progress_data/estimated_time_remaining".to_owned()),
            result_pointer: Some("/result_data|/result".to_owned()),
            error_message_pointer: Some("/error_data/message".to_owned()),
            error_details_pointer: Some("/error_data/details".to_owned()),
            revision_pointer: None,
            results: None,
            cancel: Some(CancelSpec {
                method: "POST".to_owned(),
                url: "/api/v1/jobs/{id}/cancel".to_owned(),
            }),
            not_found_means_pending: false,
            repeat_submit: RepeatSubmit::default(),
            status_plan: PlanCell::default(),
        }
    }
}
