//! How many requests the server received, by method and path: what tests assert
//! on (a POST was not repeated, a PUT was; how many polls and final GETs).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::reply::Reply;

/// The counts keep at most this many method and path pairs; requests at new
/// pairs beyond it are not counted (paths come from clients).
pub const MAX_COUNTED_PATHS: usize = 100_000;

/// How many requests the server received with one method at one path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestCount {
    /// The method, as sent (`PUT`).
    pub method: String,
    /// The path, without the query, as sent (`/azure/resources/vm1`).
    pub path: String,
    /// How many requests.
    pub count: u64,
}

/// The counts, by path then method.
#[derive(Clone, Debug, Default)]
pub(crate) struct RequestCounts {
    counts: BTreeMap<(String, String), u64>,
}

impl RequestCounts {
    /// Counts one request; returns how many there have been with this method at
    /// this path, this one included.
    pub(crate) fn record(&mut self, method: &http::Method, path: &str) -> u64 {
        let key = (path.to_owned(), method.as_str().to_owned());
        if let Some(count) = self.counts.get_mut(&key) {
            *count = count.saturating_add(1);
            return *count;
        }
        if self.counts.len() < MAX_COUNTED_PATHS {
            self.counts.insert(key, 1);
        }
        1
    }

    /// How many requests with `method` at `path` the server received.
    pub(crate) fn count(&self, method: &http::Method, path: &str) -> u64 {
        self.counts
            .get(&(path.to_owned(), method.as_str().to_owned()))
            .copied()
            .unwrap_or(0)
    }

    /// Every count, by path then method; only those at `path` when given.
    pub(crate) fn list(&self, path: Option<&str>) -> Vec<RequestCount> {
        self.counts
            .iter()
            .filter(|((at, _), _)| path.is_none_or(|path| path == at))
            .map(|((path, method), count)| RequestCount {
                method: method.clone(),
                path: path.clone(),
                count: *count,
            })
            .collect()
    }

    /// The answer of `GET /_jobpoll/requests[?path=...]`:
    /// `{"requests": [{"method", "path", "count"}, ...]}`.
    pub(crate) fn reply(&self, query: Option<&str>) -> Reply {
        let path = query.and_then(|query| {
            url::form_urlencoded::parse(query.as_bytes())
                .find(|(key, _)| key == "path")
                .map(|(_, value)| value.into_owned())
        });
        Reply::ok(json!({ "requests": self.list(path.as_deref()) }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_method_and_path() {
        let mut counts = RequestCounts::default();
        assert_eq!(counts.record(&http::Method::PUT, "/a"), 1);
        assert_eq!(counts.record(&http::Method::PUT, "/a"), 2);
        assert_eq!(counts.record(&http::Method::GET, "/a"), 1);
        assert_eq!(counts.count(&http::Method::PUT, "/a"), 2);
        assert_eq!(counts.count(&http::Method::POST, "/a"), 0);
        assert_eq!(counts.list(Some("/a")).len(), 2);
        assert!(counts.list(Some("/b")).is_empty());
    }
}
