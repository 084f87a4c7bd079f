//! Create-request bodies.
//!
//! Any create request may carry the job's plan: `{"plan": <JobPlan>, ...}`. That is
//! how tests, the simulator and users of the HTTP server inject per-job durations,
//! endings and faults. Every other field is the job's own payload, which the server
//! ignores except for codegen's optional `graphId` and the fields of an Azure
//! resource (which its GETs echo). An empty body is an empty payload with the
//! default plan.
//!
//! The plan may also travel in a `Jobpoll-Plan` request header, as the same JSON
//! (for requests without a body, such as an Azure DELETE); when present, it
//! replaces the body's plan.

use serde_json::{Map, Value};

use crate::plan::JobPlan;
use crate::reply::quote;

/// Client-chosen names (a codegen `graphId`) are cut to this many characters.
const MAX_NAME_CHARS: usize = 100;

/// What a create body asks for.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SubmitBody {
    /// The job's plan.
    pub(crate) plan: JobPlan,
    /// The payload fields.
    pub(crate) fields: Map<String, Value>,
}

impl SubmitBody {
    /// A short string field of the payload, if present and non-empty.
    pub(crate) fn name(&self, key: &str) -> Option<String> {
        self.fields
            .get(key)
            .and_then(Value::as_str)
            .filter(|name| !name.is_empty())
            .map(|name| name.chars().take(MAX_NAME_CHARS).collect())
    }
}

/// The request header that may carry the plan.
pub(crate) const PLAN_HEADER: &str = "jobpoll-plan";

/// The plan of the `Jobpoll-Plan` header, if the request has one; the error is
/// a message for a 400.
pub(crate) fn header_plan(headers: &http::HeaderMap) -> Result<Option<JobPlan>, String> {
    let Some(value) = headers.get(PLAN_HEADER) else {
        return Ok(None);
    };
    serde_json::from_slice(value.as_bytes())
        .map(Some)
        .map_err(|error| format!("the Jobpoll-Plan header is not a job plan: {error}"))
}

/// Whether the server can follow `plan`; the error is a message for a 400.
pub(crate) fn check_plan(plan: &JobPlan) -> Result<(), String> {
    if let Some(status) = plan.azure.initial_status
        && !(200..=299).contains(&status)
    {
        return Err(format!(
            "the initial status of an Azure operation must be 2xx, not {status}"
        ));
    }
    if !plan.google.is_valid() {
        return Err(
            "a Google name prefix is made of non-empty segments of ASCII letters, digits and -._~"
                .to_owned(),
        );
    }
    Ok(())
}

/// Reads a create body; the error is a message for a 400.
pub(crate) fn parse(body: &[u8]) -> Result<SubmitBody, String> {
    let trimmed = body.trim_ascii();
    if trimmed.is_empty() {
        return Ok(SubmitBody {
            plan: JobPlan::default(),
            fields: Map::new(),
        });
    }
    let value: Value = serde_json::from_slice(trimmed).map_err(|error| {
        format!(
            "the request body is not JSON ({error}): {}",
            quote(&String::from_utf8_lossy(&trimmed[..trimmed.len().min(200)]))
        )
    })?;
    let Value::Object(mut fields) = value else {
        return Err("the request body must be a JSON object".to_owned());
    };
    let plan = match fields.remove("plan") {
        None | Some(Value::Null) => JobPlan::default(),
        Some(plan) => serde_json::from_value(plan)
            .map_err(|error| format!("the plan is not a job plan: {error}"))?,
    };
    Ok(SubmitBody { plan, fields })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::plan::{Ending, Fault};

    #[test]
    fn empty_bodies_and_payloads_get_the_default_plan() {
        for body in ["", "  \n", "{}", r#"{"prompt":"a cat","plan":null}"#] {
            assert_eq!(parse(body.as_bytes()).expect(body).plan, JobPlan::default());
        }
    }

    #[test]
    fn partial_plans_fill_in_defaults() {
        let body = parse(
            br#"{"graphId":"g-7","plan":{"duration":5000000,"ending":{"ending":"fail","message":"no"},
                "faults":[{"from":0,"until":1000000,"fault":{"fault":"status","status":503}}]}}"#,
        )
        .expect("parses");
        assert_eq!(body.plan.duration, Duration::from_secs(5));
        assert_eq!(
            body.plan.ending,
            Ending::Fail {
                message: "no".to_owned()
            }
        );
        assert!(body.plan.progress);
        assert_eq!(
            body.plan.faults[0].fault,
            Fault::Status {
                status: 503,
                retry_after: None
            }
        );
        assert_eq!(body.name("graphId").as_deref(), Some("g-7"));
        assert_eq!(body.name("missing"), None);
    }

    #[test]
    fn bad_bodies_say_why() {
        let cases: [(&[u8], &str); 5] = [
            (b"{nope", "not JSON"),
            (b"\xff\xfe", "not JSON"),
            (b"[1,2]", "must be a JSON object"),
            (br#"{"plan":{"duration":-1}}"#, "not a job plan"),
            (
                br#"{"plan":{"ending":{"ending":"explode"}}}"#,
                "not a job plan",
            ),
        ];
        for (body, expected) in cases {
            let error = parse(body).expect_err(expected);
            assert!(error.contains(expected), "{error}");
        }
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse(deep.as_bytes()).is_err());
    }
}
