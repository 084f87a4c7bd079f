//! Helpers for the profile tests: URLs and bodies, what a run sent and how it
//! ended.

use jobpoll_core::{Outcome, Purpose};
use serde_json::Value;

use super::Run;

pub fn url(text: &str) -> url::Url {
    text.parse().expect("valid URL")
}

pub fn body(value: &Value) -> String {
    value.to_string()
}

pub fn purposes(run: &Run) -> Vec<Purpose> {
    run.sent.iter().map(|(_, t)| t.purpose).collect()
}

pub fn expect_success(run: &Run) -> (Option<&Value>, Option<&Value>) {
    match run.outcome() {
        Outcome::Succeeded {
            result,
            results,
            results_error: None,
            ..
        } => (result.as_ref(), results.as_ref()),
        other => panic!("expected success, got {other}\n{}", run.text()),
    }
}

pub fn expect_failure(run: &Run) -> (&str, Option<&Value>) {
    match run.outcome() {
        Outcome::Failed {
            message, details, ..
        } => (message.as_str(), details.as_ref()),
        other => panic!("expected failure, got {other}\n{}", run.text()),
    }
}
