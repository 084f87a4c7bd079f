//! Code generation, with its results step.

use super::{pending_running_completed, strings};
use crate::profile::sparse::PlanCell;
use crate::profile::status::{missing, value_bytes};
use crate::profile::{
    InterpretError, Profile, RepeatSubmit, ResultsSpec, ResultsTransform, StatusUrlRule,
};

impl Profile {
    /// Code generation: status pending|running|completed|failed at
    /// `GET /api/v1/public/graph/codegen/{id}/status`, then results at
    /// `/api/v1/public/graph/codegen/{id}/results`, reshaped to
    /// `{graphId: {nodeId: [code]}}`.
    ///
    /// The submit body names the job `jobId` (or `job_id`); a failure message is read
    /// from `error.message`, `error` or `message`, whichever is a string first.
    pub fn codegen() -> Profile {
        Profile {
            name: "codegen".to_owned(),
            completion: pending_running_completed(),
            submit_id_pointers: strings(&["/jobId", "/job_id"]),
            submit_id_header: None,
            status_url: StatusUrlRule::Template {
                template: "/api/v1/public/graph/codegen/{id}/status".to_owned(),
            },
            percentage_pointer: None,
            progress_ratio: None,
            step_pointer: None,
            eta_pointer: None,
            result_pointer: None,
            error_message_pointer: Some("/error/message|/error|/message".to_owned()),
            error_details_pointer: Some("/error".to_owned()),
            revision_pointer: None,
            results: Some(ResultsSpec {
                url: Some("/api/v1/public/graph/codegen/{id}/results".to_owned()),
                transform: ResultsTransform::CodegenByGraph,
            }),
            cancel: None,
            not_found_means_pending: false,
            repeat_submit: RepeatSubmit::default(),
            status_plan: PlanCell::default(),
        }
    }
}

/// The codegen results' storage shape: `{graphId: {nodeId: [code, ...]}}` from a
/// results body `{graphId, generatedCodes: [{nodeId, code, ...}]}`.
///
/// Several entries for the same node append their code in order. A missing
/// `graphId` or `generatedCodes`, or an entry without a string `nodeId` or `code`,
/// is a [`InterpretError::MissingField`] naming the pointer.
pub fn codegen_by_graph(results: &serde_json::Value) -> Result<serde_json::Value, InterpretError> {
    use serde_json::{Map, Value};

    let graph_id = results
        .get("graphId")
        .and_then(Value::as_str)
        .ok_or_else(|| missing("/graphId", &value_bytes(results)))?;
    let codes = results
        .get("generatedCodes")
        .and_then(Value::as_array)
        .ok_or_else(|| missing("/generatedCodes", &value_bytes(results)))?;
    let mut nodes: Map<String, Value> = Map::new();
    for (index, entry) in codes.iter().enumerate() {
        let node_id = entry.get("nodeId").and_then(Value::as_str).ok_or_else(|| {
            missing(
                &format!("/generatedCodes/{index}/nodeId"),
                &value_bytes(entry),
            )
        })?;
        let code = entry.get("code").and_then(Value::as_str).ok_or_else(|| {
            missing(
                &format!("/generatedCodes/{index}/code"),
                &value_bytes(entry),
            )
        })?;
        let slot = nodes
            .entry(node_id.to_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = slot {
            list.push(Value::String(code.to_owned()));
        }
    }
    let mut out = Map::new();
    out.insert(graph_id.to_owned(), Value::Object(nodes));
    Ok(Value::Object(out))
}
