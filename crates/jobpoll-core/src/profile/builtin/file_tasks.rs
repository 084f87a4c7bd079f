//! Files with tasks.

use super::strings;
use crate::profile::sparse::PlanCell;
use crate::profile::{Completion, Profile, RepeatSubmit, StatusUrlRule};

impl Profile {
    /// Files with tasks: `GET /api/file/{id}` gives `{id, url?, tasks[{status}]}`;
    /// 404 means not ready yet.
    ///
    /// The result is the whole file body. The status text is `ready` once the URL is
    /// set, else the latest task's status, else `pending`. A body with none of
    /// `url`, `tasks` and `id` is not a file: an unreadable answer.
    pub fn file_tasks() -> Profile {
        Profile {
            name: "file-tasks".to_owned(),
            completion: Completion::FileTasks {
                url_pointer: "/url".to_owned(),
                tasks_pointer: "/tasks".to_owned(),
            },
            submit_id_pointers: strings(&["/id"]),
            submit_id_header: None,
            status_url: StatusUrlRule::Template {
                template: "/api/file/{id}".to_owned(),
            },
            percentage_pointer: None,
            progress_ratio: None,
            step_pointer: None,
            eta_pointer: None,
            result_pointer: None,
            error_message_pointer: None,
            error_details_pointer: None,
            revision_pointer: None,
            results: None,
            cancel: None,
            not_found_means_pending: true,
            repeat_submit: RepeatSubmit::default(),
            status_plan: PlanCell::default(),
        }
    }
}
