//! What is kept of finished jobs: a bounded history with its counts, and the
//! code generation results by graph and node.
//!
//! Plain Rust values (no JavaScript), so they build and are tested on every
//! target; the driver keeps them, saves them with [`crate::store`] and shows
//! them as `jobs.history()`, `jobs.stats()` and `jobs.results()`.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::store::{self, Stored};

/// Finished jobs kept in the history; older ones are dropped.
pub const MAX_HISTORY: usize = 100;

/// Versions of one node's code kept; older ones are dropped.
pub const MAX_VERSIONS: usize = 10;

/// Graphs kept in the results; the one updated longest ago is dropped.
pub const MAX_GRAPHS: usize = 100;

/// One finished job, as `jobs.history()` shows it. Times are wall-clock
/// milliseconds (`Date.now()`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finished {
    /// The number the wait had (`jobs.list()`'s `id`).
    pub id: u32,
    /// The URL the caller gave.
    pub url: String,
    /// The outcome's kind: `succeeded`, `failed`, `timed_out`, ...
    pub outcome: String,
    /// Whether the job succeeded.
    pub ok: bool,
    /// The outcome as a sentence a person reads.
    pub summary: String,
    /// The server's id of the job, when it was known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// When the wait started.
    pub started_at: f64,
    /// When the outcome came.
    pub finished_at: f64,
    /// `finishedAt - startedAt`: time spent away from the page included.
    pub duration_ms: f64,
}

/// The counts over the kept history, as `jobs.stats()` shows them.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Finished jobs kept.
    pub count: usize,
    /// Of which succeeded.
    pub succeeded: usize,
    /// Of which did not (failed, timed out, gave up, cancelled, ...).
    pub failed: usize,
    /// `succeeded / count`, 0 to 1; `null` when the history is empty.
    pub success_rate: Option<f64>,
    /// Mean `durationMs`; `null` when the history is empty.
    pub average_completion_ms: Option<f64>,
}

/// The finished jobs, newest first, at most [`MAX_HISTORY`].
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct History {
    entries: Vec<Finished>,
}

impl History {
    /// Adds the newest entry, dropping the oldest past [`MAX_HISTORY`].
    pub fn push(&mut self, entry: Finished) {
        self.entries.insert(0, entry);
        self.entries.truncate(MAX_HISTORY);
    }

    /// The entries, newest first.
    pub fn entries(&self) -> impl Iterator<Item = &Finished> {
        self.entries.iter()
    }

    /// The highest `id` kept, so that new ids start after it.
    pub fn max_id(&self) -> Option<u32> {
        self.entries.iter().map(|entry| entry.id).max()
    }

    /// The counts over the kept entries.
    pub fn stats(&self) -> Stats {
        let count = self.entries.len();
        let succeeded = self.entries.iter().filter(|entry| entry.ok).count();
        let total_ms: f64 = self.entries.iter().map(|entry| entry.duration_ms).sum();
        Stats {
            count,
            succeeded,
            failed: count - succeeded,
            success_rate: (count > 0).then(|| succeeded as f64 / count as f64),
            average_completion_ms: (count > 0).then(|| total_ms / count as f64),
        }
    }

    /// Adds the entries of `other` this history lacks (an entry is known by its
    /// wait's `id`, unique across the pages of one storage key), newest first
    /// by `finishedAt`, at most [`MAX_HISTORY`]: what another page wrote and
    /// what this page added both stay.
    pub fn merge(&mut self, other: &History) {
        for entry in other.entries() {
            if !self.entries.iter().any(|kept| kept.id == entry.id) {
                self.entries.push(entry.clone());
            }
        }
        // Newest first; of those finished at the same time, the later wait.
        self.entries.sort_unstable_by(|a, b| {
            b.finished_at
                .total_cmp(&a.finished_at)
                .then(b.id.cmp(&a.id))
        });
        self.entries.truncate(MAX_HISTORY);
    }

    /// Keeps at most [`MAX_HISTORY`] entries of a history read back, in case it
    /// was written by a build that kept more.
    pub fn bounded(mut self) -> History {
        self.entries.truncate(MAX_HISTORY);
        self
    }
}

impl Stored for Finished {
    fn from_data(data: &Value) -> Result<Finished, String> {
        let object = store::object(data)?;
        Ok(Finished {
            id: store::u32_field(object, "id")?,
            url: store::string_field(object, "url")?,
            outcome: store::string_field(object, "outcome")?,
            ok: store::bool_field(object, "ok")?,
            summary: store::string_field(object, "summary")?,
            job_id: store::optional_string_field(object, "jobId")?,
            started_at: store::f64_field(object, "startedAt")?,
            finished_at: store::f64_field(object, "finishedAt")?,
            duration_ms: store::f64_field(object, "durationMs")?,
        })
    }
}

impl Stored for History {
    fn from_data(data: &Value) -> Result<History, String> {
        let entries = data
            .as_array()
            .ok_or_else(|| "expected a list".to_owned())?;
        let mut history = History::default();
        for entry in entries {
            history.entries.push(Finished::from_data(entry)?);
        }
        Ok(history)
    }
}

/// One change a page made to the results, to be made again on the results as
/// stored (which another page may have changed) before they are written.
#[derive(Clone, Debug, PartialEq)]
pub enum ResultsChange {
    /// [`Results::merge`] with these results.
    Merge(serde_json::Value),
    /// [`Results::clear`] of every graph, or of one.
    Clear(Option<String>),
}

impl ResultsChange {
    /// Makes the change on `results`; whether anything changed.
    pub fn apply(&self, results: &mut Results) -> bool {
        match self {
            ResultsChange::Merge(value) => results.merge(value),
            ResultsChange::Clear(graph_id) => results.clear(graph_id.as_deref()),
        }
    }
}

/// Code generation results: `{graphId: {nodeId: [code, ...]}}`, the newest
/// version of a node's code last.
///
/// Kept as JSON values, each graph's nodes a `serde_json` map of lists of
/// strings (checked when read back), the graphs in a list, the one updated
/// longest ago first: no map type of its own (see `docs/decisions.md`,
/// "Reading stored values by hand"). Stored as `{"graphs": {graphId: ...},
/// "order": [graphId, ...]}`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Results {
    /// The graphs and their codes by node, the one updated longest ago first.
    graphs: Vec<(String, Map<String, Value>)>,
}

impl Results {
    /// Adds the codes of `results`, shaped `{graphId: {nodeId: [code, ...]}}` (as
    /// the `codegen` profile reshapes its results step): each code goes after the
    /// node's kept versions, unless it is the same as the newest one. Keeps at
    /// most [`MAX_VERSIONS`] per node and [`MAX_GRAPHS`] graphs. Anything else
    /// in `results` is ignored. Whether anything changed.
    pub fn merge(&mut self, results: &Value) -> bool {
        let Some(graphs) = results.as_object() else {
            return false;
        };
        let mut changed = false;
        for (graph_id, nodes) in graphs {
            let Some(nodes) = nodes.as_object() else {
                continue;
            };
            let mut graph = match self.graphs.iter().position(|(id, _)| id == graph_id) {
                Some(at) => self.graphs.remove(at).1,
                None => Map::new(),
            };
            for (node_id, codes) in nodes {
                let codes = codes.as_array().into_iter().flatten();
                for code in codes.filter_map(Value::as_str) {
                    let versions = graph
                        .entry(node_id.clone())
                        .or_insert_with(|| Value::Array(Vec::new()));
                    let Some(versions) = versions.as_array_mut() else {
                        continue;
                    };
                    if versions.last().and_then(Value::as_str) == Some(code) {
                        continue;
                    }
                    versions.push(Value::String(code.to_owned()));
                    keep_newest(versions);
                    changed = true;
                }
            }
            // Updated now: the newest, last.
            if !graph.is_empty() {
                self.graphs.push((graph_id.clone(), graph));
            }
        }
        changed | self.drop_oldest()
    }

    /// Drops the graphs updated longest ago past [`MAX_GRAPHS`]; whether any.
    fn drop_oldest(&mut self) -> bool {
        let over = self.graphs.len().saturating_sub(MAX_GRAPHS);
        self.graphs.drain(..over);
        over > 0
    }

    /// `{graphId: {nodeId: [code, ...]}}`: every graph, or only `graph_id`.
    pub fn view(&self, graph_id: Option<&str>) -> Map<String, Value> {
        let mut view = Map::new();
        for (id, nodes) in &self.graphs {
            if graph_id.is_none_or(|wanted| wanted == id) {
                view.insert(id.clone(), Value::Object(nodes.clone()));
            }
        }
        view
    }

    /// Forgets every graph, or only `graph_id`. Whether anything was kept.
    pub fn clear(&mut self, graph_id: Option<&str>) -> bool {
        let had = self.graphs.len();
        self.graphs
            .retain(|(id, _)| graph_id.is_some_and(|cleared| cleared != id));
        match graph_id {
            None => had > 0,
            Some(_) => self.graphs.len() < had,
        }
    }

    /// Keeps at most [`MAX_VERSIONS`] a node and [`MAX_GRAPHS`] graphs of
    /// results read back, in case they were written by a build that kept more.
    pub fn bounded(mut self) -> Results {
        self.drop_oldest();
        for (_, nodes) in &mut self.graphs {
            for versions in nodes.values_mut().filter_map(Value::as_array_mut) {
                keep_newest(versions);
            }
        }
        self
    }

    /// The results as stored: `{"graphs": {graphId: {nodeId: [code, ...]}},
    /// "order": [graphId, ...]}`, the graph updated longest ago first.
    pub fn to_data(&self) -> Value {
        let order = self
            .graphs
            .iter()
            .map(|(id, _)| Value::String(id.clone()))
            .collect();
        let mut data = Map::new();
        data.insert("graphs".to_owned(), Value::Object(self.view(None)));
        data.insert("order".to_owned(), Value::Array(order));
        Value::Object(data)
    }
}

/// Keeps the newest [`MAX_VERSIONS`] of `versions` (the last ones).
fn keep_newest(versions: &mut Vec<Value>) {
    if versions.len() > MAX_VERSIONS {
        versions.drain(..versions.len() - MAX_VERSIONS);
    }
}

impl Stored for Results {
    /// Reads the results back, repaired: the order names each kept graph once
    /// (a graph it lacks counts as updated longest ago; a name without a
    /// graph is dropped).
    fn from_data(data: &Value) -> Result<Results, String> {
        let object = store::object(data)?;
        let graphs = store::object(store::field(object, "graphs")?)
            .map_err(|_| "`graphs` is not an object".to_owned())?;
        let mut results = Results::default();
        // Graphs missing from the order count as updated longest ago, the
        // last by id first.
        for (id, nodes) in graphs {
            let nodes = nodes
                .as_object()
                .filter(|nodes| {
                    nodes.values().all(|codes| {
                        codes
                            .as_array()
                            .is_some_and(|codes| codes.iter().all(Value::is_string))
                    })
                })
                .ok_or_else(|| format!("the graph `{id}` is not {{nodeId: [code, ...]}}"))?;
            results.graphs.insert(0, (id.clone(), nodes.clone()));
        }
        for id in store::list_field(object, "order")? {
            let id = id
                .as_str()
                .ok_or_else(|| "`order` is not a list of graph ids".to_owned())?;
            if let Some(at) = results.graphs.iter().position(|(kept, _)| kept == id) {
                let graph = results.graphs.remove(at);
                results.graphs.push(graph);
            }
        }
        Ok(results)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn finished(id: u32, ok: bool, duration_ms: f64) -> Finished {
        Finished {
            id,
            url: format!("http://x/{id}"),
            outcome: if ok { "succeeded" } else { "failed" }.to_owned(),
            ok,
            summary: String::new(),
            job_id: None,
            started_at: 1000.0,
            finished_at: 1000.0 + duration_ms,
            duration_ms,
        }
    }

    #[test]
    fn the_history_is_newest_first_and_bounded() {
        let mut history = History::default();
        assert_eq!(history.stats().success_rate, None);
        for id in 1..=(MAX_HISTORY as u32 + 5) {
            history.push(finished(id, id % 2 == 0, f64::from(id)));
        }
        let ids: Vec<u32> = history.entries().map(|entry| entry.id).collect();
        assert_eq!(ids.len(), MAX_HISTORY);
        assert_eq!(ids[0], MAX_HISTORY as u32 + 5);
        assert_eq!(*ids.last().unwrap(), 6);
        assert_eq!(history.max_id(), Some(MAX_HISTORY as u32 + 5));
    }

    #[test]
    fn stats_count_the_kept_history() {
        let mut history = History::default();
        history.push(finished(1, true, 100.0));
        history.push(finished(2, false, 300.0));
        history.push(finished(3, true, 200.0));
        let stats = history.stats();
        assert_eq!((stats.count, stats.succeeded, stats.failed), (3, 2, 1));
        assert_eq!(stats.success_rate, Some(2.0 / 3.0));
        assert_eq!(stats.average_completion_ms, Some(200.0));
        let json = serde_json::to_value(&stats).unwrap();
        assert_eq!(json["averageCompletionMs"], 200.0);
        assert_eq!(json["successRate"], 2.0 / 3.0);
    }

    #[test]
    fn results_keep_versions_newest_last_and_bounded() {
        let mut results = Results::default();
        assert!(results.merge(&json!({"g1": {"a": ["v1"], "b": ["b1", "b2"]}})));
        // The same code again is no new version.
        assert!(!results.merge(&json!({"g1": {"a": ["v1"]}})));
        for n in 2..=(MAX_VERSIONS + 2) {
            results.merge(&json!({"g1": {"a": [format!("v{n}")]}}));
        }
        let view = serde_json::to_value(results.view(None)).unwrap();
        let a = view["g1"]["a"].as_array().unwrap();
        assert_eq!(a.len(), MAX_VERSIONS);
        assert_eq!(a.last().unwrap(), &json!(format!("v{}", MAX_VERSIONS + 2)));
        assert_eq!(a[0], json!("v3"));
        assert_eq!(view["g1"]["b"], json!(["b1", "b2"]));
        // Not the codegen shape: nothing changes.
        assert!(!results.merge(&json!(["x"])));
        assert!(!results.merge(&json!({"g2": "x"})));
        assert!(results.view(Some("g2")).is_empty());
    }

    #[test]
    fn the_graph_updated_longest_ago_goes_first() {
        let mut results = Results::default();
        for n in 0..MAX_GRAPHS {
            results.merge(&json!({ format!("g{n}"): {"a": ["x"]} }));
        }
        // g0 is updated again: g1 is now the oldest.
        results.merge(&json!({"g0": {"a": ["y"]}}));
        results.merge(&json!({"new": {"a": ["x"]}}));
        assert_eq!(results.view(None).len(), MAX_GRAPHS);
        assert!(results.view(Some("g1")).is_empty());
        assert_eq!(results.view(Some("g0")).len(), 1);
        assert!(results.clear(Some("g0")));
        assert!(!results.clear(Some("g0")));
        assert!(results.clear(None));
        assert!(results.view(None).is_empty());
    }

    #[test]
    fn histories_of_two_pages_merge_by_id_newest_first() {
        let at = |id: u32, finished_at: f64| Finished {
            finished_at,
            ..finished(id, true, 1.0)
        };
        // Page A finished 1 and 3, page B 2 and 4; A's store has seen 2 already.
        let mut stored = History::default();
        for entry in [at(1, 10.0), at(2, 20.0), at(3, 30.0)] {
            stored.push(entry);
        }
        let mut mine = History::default();
        mine.push(at(2, 20.0));
        mine.push(at(4, 40.0));
        stored.merge(&mine);
        let ids: Vec<u32> = stored.entries().map(|entry| entry.id).collect();
        assert_eq!(ids, [4, 3, 2, 1], "each id once, newest first");
        // Bounded: the oldest go.
        let mut many = History::default();
        for id in 100..(100 + MAX_HISTORY as u32) {
            many.push(at(id, f64::from(id)));
        }
        stored.merge(&many);
        assert_eq!(stored.entries().count(), MAX_HISTORY);
        assert_eq!(stored.entries().last().unwrap().id, 100);
    }

    #[test]
    fn results_changes_are_made_again_on_the_stored_results() {
        // Page A stored g1; page B, which read nothing, got g2 and cleared g0.
        let mut stored = Results::default();
        stored.merge(&json!({"g0": {"a": ["old"]}, "g1": {"a": ["v1"]}}));
        let changes = [
            ResultsChange::Merge(json!({"g2": {"b": ["w1"]}, "g1": {"a": ["v1"]}})),
            ResultsChange::Clear(Some("g0".to_owned())),
        ];
        let changed: Vec<bool> = changes.iter().map(|c| c.apply(&mut stored)).collect();
        assert_eq!(changed, [true, true]);
        let view = serde_json::to_value(stored.view(None)).unwrap();
        assert_eq!(view, json!({"g1": {"a": ["v1"]}, "g2": {"b": ["w1"]}}));
        assert!(ResultsChange::Clear(None).apply(&mut stored));
        assert!(stored.view(None).is_empty());
    }

    #[test]
    fn read_back_values_are_repaired() {
        let text = r#"{"graphs":{"g":{"a":["1","2","3","4","5","6","7","8","9","10","11"]}},"order":["gone","g","g"]}"#;
        let results = Results::from_data(&serde_json::from_str(text).unwrap()).unwrap();
        let data = results.bounded().to_data();
        assert_eq!(data["order"], json!(["g"]));
        assert_eq!(
            data["graphs"]["g"]["a"].as_array().unwrap().len(),
            MAX_VERSIONS
        );
        assert_eq!(data["graphs"]["g"]["a"][0], "2");
        // Graphs the order lacks count as updated longest ago; written back
        // as they were read.
        let text = r#"{"graphs":{"a":{"n":["1"]},"b":{},"c":{"n":["2"]}},"order":["c"]}"#;
        let results = Results::from_data(&serde_json::from_str(text).unwrap()).unwrap();
        assert_eq!(results.to_data()["order"], json!(["b", "a", "c"]));
        let again = r#"{"graphs":{"a":{"n":["1"]},"b":{},"c":{"n":["2"]}},"order":["b","a","c"]}"#;
        assert_eq!(
            crate::store::encode(&results.to_data()),
            format!(r#"{{"format":1,"data":{again}}}"#)
        );
        let wrong = r#"{"graphs":{"a":{"n":[1]}},"order":[]}"#;
        assert!(Results::from_data(&serde_json::from_str(wrong).unwrap()).is_err());
    }
}
