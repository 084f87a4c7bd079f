//! The JavaScript API of what outlives the page: `restore`, `history`, `stats`,
//! `results` and `clearResults`.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use super::Jobs;
use crate::driver;
use crate::storage::graph_id;

#[wasm_bindgen]
impl Jobs {
    /// Resumes the jobs an earlier page saved under this `storageKey` (before a
    /// reload), where they were: the same ids, URLs and state, the time the page
    /// was away counted against their `timeout`. A create request that may have
    /// reached the server is never sent again (the job then ends as `gave_up`,
    /// `submit_uncertain`, unless it carried an `Idempotency-Key`).
    ///
    /// Returns `[{id, url, mode, outcome}]`, `outcome` a Promise as `wait`
    /// returns. A saved job that cannot be resumed (bad data, another format) is
    /// dropped with a `storage_warning` event.
    ///
    /// Several tabs may share one `storageKey`: a job runs in one of them. This
    /// call takes the jobs this tab saved (before a reload), and the jobs of a
    /// tab that is gone: closed (`pagehide`) or freed, or whose lease
    /// (refreshed while it runs them) is older than 90 seconds. The jobs of a live tab stay saved; a later
    /// call takes them once that tab is gone. A second call right away resumes
    /// nothing more.
    #[wasm_bindgen(unchecked_return_type = "Restored[]")]
    pub fn restore(&self) -> Array {
        self.driver
            .restore()
            .into_iter()
            .map(|restored| {
                let object = Object::new();
                for (key, value) in [
                    ("id", JsValue::from(restored.id)),
                    ("url", JsValue::from(restored.url)),
                    ("mode", JsValue::from(restored.mode)),
                    ("outcome", restored.outcome.into()),
                ] {
                    let _ = Reflect::set(&object, &JsValue::from_str(key), &value);
                }
                JsValue::from(object)
            })
            .collect()
    }

    /// The finished jobs, newest first (at most 100, kept across reloads):
    /// `{id, url, outcome, ok, summary, jobId, startedAt, finishedAt,
    /// durationMs}`, times in milliseconds (`Date.now()`).
    #[wasm_bindgen(unchecked_return_type = "HistoryEntry[]")]
    pub fn history(&self) -> JsValue {
        self.driver.history()
    }

    /// Counts over the kept history: `{count, succeeded, failed, successRate,
    /// averageCompletionMs}` (the last two `null` when it is empty).
    #[wasm_bindgen(unchecked_return_type = "HistoryStats")]
    pub fn stats(&self) -> JsValue {
        driver::plain(&self.driver.stats())
    }

    /// The code generation results kept across reloads, as
    /// `{graphId: {nodeId: [code, ...]}}` with the newest version of each node's
    /// code last (at most 10 versions a node, 100 graphs); with `graphId`, the
    /// same shape with that graph only.
    #[wasm_bindgen(unchecked_return_type = "CodegenResults")]
    pub fn results(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "string | null")] graph_id_value: Option<
            JsValue,
        >,
    ) -> Result<JsValue, JsValue> {
        let graph = graph_id(&graph_id_value.unwrap_or(JsValue::UNDEFINED))?;
        Ok(self.driver.results(graph.as_deref()))
    }

    /// Forgets the kept code generation results: all of them, or `graphId`'s.
    #[wasm_bindgen(js_name = clearResults)]
    pub fn clear_results(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "string | null")] graph_id_value: Option<
            JsValue,
        >,
    ) -> Result<(), JsValue> {
        let graph = graph_id(&graph_id_value.unwrap_or(JsValue::UNDEFINED))?;
        self.driver.clear_results(graph.as_deref());
        Ok(())
    }
}
