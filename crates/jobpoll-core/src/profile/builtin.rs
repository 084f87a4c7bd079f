//! The built-in profiles, one file each, and [`Profile::builtin`] to name them.

mod azure_operation;
mod codegen;
mod file_tasks;
mod google_operation;
mod jobs;
mod turn;

#[cfg(test)]
mod azure_operation_tests;
#[cfg(test)]
mod azure_submit_tests;
#[cfg(test)]
mod codegen_tests;
#[cfg(test)]
mod file_tasks_tests;
#[cfg(test)]
mod google_operation_tests;
#[cfg(test)]
mod jobs_tests;
#[cfg(test)]
mod turn_tests;

pub use codegen::codegen_by_graph;

use super::{Completion, Profile, StatusValues};

impl Profile {
    /// Every built-in profile by name, for command lines and configs.
    pub fn builtin(name: &str) -> Option<Profile> {
        match name {
            "jobs" => Some(Profile::jobs()),
            "codegen" => Some(Profile::codegen()),
            "file-tasks" => Some(Profile::file_tasks()),
            "turn" => Some(Profile::turn()),
            "google" => Some(Profile::google_operation()),
            "azure" => Some(Profile::azure_operation()),
            _ => None,
        }
    }

    /// Names accepted by [`Profile::builtin`].
    pub const BUILTIN_NAMES: &'static [&'static str] =
        &["jobs", "codegen", "file-tasks", "turn", "google", "azure"];
}

pub(super) fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|&v| v.to_owned()).collect()
}

/// The status rule of the codegen and turn APIs: `/status` is pending or running,
/// then completed or failed.
pub(super) fn pending_running_completed() -> Completion {
    Completion::Status {
        pointer: "/status".to_owned(),
        values: StatusValues {
            running: strings(&["pending", "running"]),
            succeeded: strings(&["completed"]),
            failed: strings(&["failed"]),
            cancelled: Vec::new(),
            unknown_means_running: false,
        },
    }
}
