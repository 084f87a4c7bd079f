//! Turns, polled for their growing blocks.

use super::{pending_running_completed, strings};
use crate::profile::sparse::PlanCell;
use crate::profile::{Profile, RepeatSubmit, StatusUrlRule};

impl Profile {
    /// Turns: `{status, blocks[], error?}` with status pending|running|completed|
    /// failed; an update whenever `blocks` grows.
    ///
    /// The real status URL, `GET /api/projects/{projectId}/sessions/{sessionId}/turns/
    /// {turnId}`, holds ids a template cannot know, so this profile is normally used
    /// with a known status URL. After a submit it reads the turn id from `/id` and
    /// polls the template `{id}`, a relative reference resolved as a child of the
    /// submit URL: `POST .../sessions/s1/turns` giving `{"id": "t1"}` polls
    /// `.../sessions/s1/turns/t1`. The revision is the number of blocks, the report
    /// carries the whole turn as `body`, and the result is the whole turn.
    pub fn turn() -> Profile {
        Profile {
            name: "turn".to_owned(),
            completion: pending_running_completed(),
            submit_id_pointers: strings(&["/id"]),
            submit_id_header: None,
            status_url: StatusUrlRule::Template {
                template: "{id}".to_owned(),
            },
            percentage_pointer: None,
            progress_ratio: None,
            step_pointer: None,
            eta_pointer: None,
            result_pointer: Some(String::new()),
            error_message_pointer: Some("/error".to_owned()),
            error_details_pointer: None,
            revision_pointer: Some("/blocks".to_owned()),
            results: None,
            cancel: None,
            not_found_means_pending: false,
            repeat_submit: RepeatSubmit::default(),
            status_plan: PlanCell::default(),
        }
    }
}
