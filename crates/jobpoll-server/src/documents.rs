//! The document watch: not a job that ends, but files that change.
//!
//! Every project holds the same few files, each created, modified and possibly
//! deleted on a fixed schedule of model time, so a watcher sees real changes
//! without anyone driving them:
//!
//! - `GET /api/projects/{p}/files` lists the files that exist, with an `ETag`; a
//!   request whose `If-None-Match` names the current tag gets 304 and no body.
//! - `POST /api/projects/{p}/files/status` with `{"paths": [...], "since": cursor}`
//!   (both optional) returns only the files changed after `since`:
//!   `{"changes": [{path, last_modified, version, change_type}], "cursor"}`, with
//!   `change_type` one of `created`, `modified`, `deleted`.
//!
//! The cursor is the model time, in microseconds, of the latest change; the state
//! of the files only changes when it does, so it also names the ETag.

use http::header::{CACHE_CONTROL, ETAG, IF_NONE_MATCH};
use http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use jobpoll_core::Instant;

use crate::clock;
use crate::reply::{Reply, quote};

/// At most this many paths in one batch status request.
const MAX_PATHS: usize = 1_000;

/// One file's life, in whole seconds of model time.
struct Schedule {
    path: &'static str,
    created: u64,
    every: u64,
    deleted: Option<u64>,
}

/// The files of every project: a stable readme, documents edited at different
/// paces, a scratch file that lives ten minutes, a changelog that appears later.
const FILES: [Schedule; 5] = [
    Schedule {
        path: "README.md",
        created: 0,
        every: 600,
        deleted: None,
    },
    Schedule {
        path: "docs/design.md",
        created: 0,
        every: 45,
        deleted: None,
    },
    Schedule {
        path: "src/app.ts",
        created: 0,
        every: 20,
        deleted: None,
    },
    Schedule {
        path: "notes/scratch.md",
        created: 60,
        every: 15,
        deleted: Some(660),
    },
    Schedule {
        path: "CHANGELOG.md",
        created: 240,
        every: 120,
        deleted: None,
    },
];

/// A file at one instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FileState {
    /// Not created yet.
    Absent,
    /// Exists: `version` counts its creation and modifications.
    Present { version: u64, changed: u64 },
    /// Deleted at `changed`; the deletion counts as a version.
    Deleted { version: u64, changed: u64 },
}

const MICROS: u64 = 1_000_000;

impl Schedule {
    fn created_micros(&self) -> u64 {
        self.created * MICROS
    }

    fn state(&self, now: u64) -> FileState {
        let created = self.created_micros();
        let every = self.every.max(1) * MICROS;
        if now < created {
            return FileState::Absent;
        }
        match self.deleted.map(|secs| secs * MICROS) {
            Some(deleted) if now >= deleted => {
                // Versions written strictly before the deletion, plus the deletion.
                let written = (deleted - created).div_ceil(every);
                FileState::Deleted {
                    version: written + 1,
                    changed: deleted,
                }
            }
            _ => {
                let edits = (now - created) / every;
                FileState::Present {
                    version: edits + 1,
                    changed: created + edits * every,
                }
            }
        }
    }
}

impl FileState {
    fn changed(self) -> Option<u64> {
        match self {
            FileState::Absent => None,
            FileState::Present { changed, .. } | FileState::Deleted { changed, .. } => {
                Some(changed)
            }
        }
    }
}

/// The model time of the latest change to any file.
fn cursor(now: u64) -> u64 {
    FILES
        .iter()
        .filter_map(|file| file.state(now).changed())
        .max()
        .unwrap_or(0)
}

fn etag(now: u64) -> String {
    format!("\"files-{}\"", cursor(now))
}

fn date(micros: u64) -> String {
    clock::rfc3339(Instant::from_micros(micros))
}

/// `GET /api/projects/{project}/files`.
pub(crate) fn list(project: &str, headers: &HeaderMap, now: Instant) -> Reply {
    let now = now.as_micros();
    let tag = etag(now);
    if if_none_match(headers, &tag) {
        return Reply::empty(StatusCode::NOT_MODIFIED)
            .with_header(ETAG, &tag)
            .with_header(CACHE_CONTROL, "no-cache");
    }
    let files: Vec<Value> = FILES
        .iter()
        .filter_map(|file| match file.state(now) {
            FileState::Present { version, changed } => Some(json!({
                "path": file.path,
                "last_modified": date(changed),
                "version": version,
            })),
            FileState::Absent | FileState::Deleted { .. } => None,
        })
        .collect();
    Reply::ok(json!({"project": project, "files": files, "cursor": cursor(now)}))
        .with_header(ETAG, &tag)
        .with_header(CACHE_CONTROL, "no-cache")
}

/// Whether `If-None-Match` names `tag` (weak comparison, RFC 9110 section 13.1.2).
fn if_none_match(headers: &HeaderMap, tag: &str) -> bool {
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == tag)
}

/// `POST /api/projects/{project}/files/status`.
pub(crate) fn batch_status(project: &str, body: &[u8], now: Instant) -> Reply {
    let request = match read_request(body) {
        Ok(request) => request,
        Err(message) => return Reply::bad_request(message),
    };
    let now = now.as_micros();
    let changes: Vec<Value> = FILES
        .iter()
        .filter(|file| {
            request
                .paths
                .as_ref()
                .is_none_or(|paths| paths.iter().any(|path| path == file.path))
        })
        .filter_map(|file| {
            let state = file.state(now);
            let changed = state.changed()?;
            if request.since.is_some_and(|since| changed <= since) {
                return None;
            }
            let created_since = request
                .since
                .is_some_and(|since| file.created_micros() > since);
            let (version, change_type) = match state {
                FileState::Absent => return None,
                FileState::Deleted { version, .. } => (version, "deleted"),
                FileState::Present { version, .. } if version == 1 || created_since => {
                    (version, "created")
                }
                FileState::Present { version, .. } => (version, "modified"),
            };
            Some(json!({
                "path": file.path,
                "last_modified": date(changed),
                "version": version,
                "change_type": change_type,
            }))
        })
        .collect();
    Reply::ok(json!({"project": project, "changes": changes, "cursor": cursor(now)}))
}

/// A batch status request.
struct StatusRequest {
    /// The paths asked about; all of them when absent.
    paths: Option<Vec<String>>,
    /// Only changes after this cursor.
    since: Option<u64>,
}

fn read_request(body: &[u8]) -> Result<StatusRequest, String> {
    let body = body.trim_ascii();
    if body.is_empty() {
        return Ok(StatusRequest {
            paths: None,
            since: None,
        });
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|error| format!("the request body is not JSON: {error}"))?;
    let Value::Object(fields) = value else {
        return Err("the request body must be a JSON object".to_owned());
    };
    let paths = match fields.get("paths") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => {
            if items.len() > MAX_PATHS {
                return Err(format!("at most {MAX_PATHS} paths per request"));
            }
            let paths = items
                .iter()
                .map(|item| {
                    item.as_str().map(str::to_owned).ok_or_else(|| {
                        format!("a path must be a string, not {}", quote(&item.to_string()))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Some(paths)
        }
        Some(other) => {
            return Err(format!(
                "\"paths\" must be an array of strings, not {}",
                quote(&other.to_string())
            ));
        }
    };
    let since = match fields.get("since") {
        None | Some(Value::Null) => None,
        Some(Value::Number(number)) => Some(
            number
                .as_u64()
                .ok_or_else(|| format!("\"since\" must be a cursor, not {number}"))?,
        ),
        Some(Value::String(text)) => Some(
            text.trim_matches('"')
                .trim_start_matches("files-")
                .parse::<u64>()
                .map_err(|_| format!("\"since\" must be a cursor, not {}", quote(text)))?,
        ),
        Some(other) => {
            return Err(format!(
                "\"since\" must be a cursor, not {}",
                quote(&other.to_string())
            ));
        }
    };
    Ok(StatusRequest { paths, since })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(reply: &Reply) -> Value {
        match &reply.body {
            crate::reply::Body::Json(value) => value.clone(),
            other => panic!("not JSON: {other:?}"),
        }
    }

    fn secs(secs: u64) -> Instant {
        Instant::from_secs(secs)
    }

    fn paths(value: &Value, key: &str) -> Vec<String> {
        value[key]
            .as_array()
            .expect("array")
            .iter()
            .map(|file| file["path"].as_str().expect("path").to_owned())
            .collect()
    }

    #[test]
    fn files_follow_their_schedule() {
        let scratch = &FILES[3];
        assert_eq!(scratch.state(59 * MICROS), FileState::Absent);
        assert_eq!(
            scratch.state(60 * MICROS),
            FileState::Present {
                version: 1,
                changed: 60 * MICROS
            }
        );
        assert_eq!(
            scratch.state(76 * MICROS),
            FileState::Present {
                version: 2,
                changed: 75 * MICROS
            }
        );
        // Edits at 60, 75, ... 645: 40 versions, then the deletion at 660.
        assert_eq!(
            scratch.state(700 * MICROS),
            FileState::Deleted {
                version: 41,
                changed: 660 * MICROS
            }
        );
        let listed = body(&list("p", &HeaderMap::new(), secs(300)));
        assert_eq!(
            paths(&listed, "files"),
            [
                "README.md",
                "docs/design.md",
                "src/app.ts",
                "notes/scratch.md",
                "CHANGELOG.md"
            ]
        );
        let listed = body(&list("p", &HeaderMap::new(), secs(700)));
        assert!(!paths(&listed, "files").contains(&"notes/scratch.md".to_owned()));
    }

    #[test]
    fn etags_give_304_until_something_changes() {
        let first = list("p", &HeaderMap::new(), secs(21));
        let tag = first
            .headers
            .iter()
            .find(|(name, _)| name == ETAG)
            .map(|(_, value)| value.clone())
            .expect("etag");
        assert_eq!(tag, "\"files-20000000\"");
        let mut headers = HeaderMap::new();
        headers.insert(IF_NONE_MATCH, tag.clone());
        let same = list("p", &headers, secs(39));
        assert_eq!(same.status, StatusCode::NOT_MODIFIED);
        assert_eq!(same.body, crate::reply::Body::Empty);
        // src/app.ts changes at 40 s.
        let changed = list("p", &headers, secs(40));
        assert_eq!(changed.status, StatusCode::OK);
        // Weak tags and lists match too.
        let mut weak = HeaderMap::new();
        weak.insert(
            IF_NONE_MATCH,
            http::HeaderValue::from_static("\"x\", W/\"files-20000000\""),
        );
        assert_eq!(list("p", &weak, secs(30)).status, StatusCode::NOT_MODIFIED);
        let mut star = HeaderMap::new();
        star.insert(IF_NONE_MATCH, http::HeaderValue::from_static("*"));
        assert_eq!(list("p", &star, secs(30)).status, StatusCode::NOT_MODIFIED);
    }

    #[test]
    fn batch_status_returns_only_what_changed() {
        let all = body(&batch_status("p", b"", secs(0)));
        assert_eq!(all["changes"].as_array().map(Vec::len), Some(3));
        assert!(
            all["changes"]
                .as_array()
                .expect("changes")
                .iter()
                .all(|c| c["change_type"] == "created")
        );

        let cursor = all["cursor"].as_u64().expect("cursor");
        let request =
            format!(r#"{{"paths":["src/app.ts","docs/design.md","nope"],"since":{cursor}}}"#);
        let later = body(&batch_status("p", request.as_bytes(), secs(25)));
        assert_eq!(paths(&later, "changes"), ["src/app.ts"]);
        assert_eq!(later["changes"][0]["change_type"], "modified");
        assert_eq!(later["changes"][0]["version"], 2);

        let created = body(&batch_status(
            "p",
            format!(r#"{{"since":"{cursor}"}}"#).as_bytes(),
            secs(61),
        ));
        assert!(
            created["changes"]
                .as_array()
                .expect("changes")
                .iter()
                .any(|c| c["path"] == "notes/scratch.md" && c["change_type"] == "created")
        );

        let deleted = body(&batch_status(
            "p",
            br#"{"paths":["notes/scratch.md"],"since":659000000}"#,
            secs(661),
        ));
        assert_eq!(deleted["changes"][0]["change_type"], "deleted");
        let nothing = body(&batch_status(
            "p",
            br#"{"since":"\"files-661000000\""}"#,
            secs(661),
        ));
        assert_eq!(nothing["changes"], json!([]));
    }

    #[test]
    fn bad_batch_requests_are_400() {
        let many = format!(
            r#"{{"paths":[{}]}}"#,
            vec!["\"a\""; MAX_PATHS + 1].join(",")
        );
        for body in [
            b"nope".as_slice(),
            b"[1]",
            br#"{"paths":"a"}"#,
            br#"{"paths":[1]}"#,
            br#"{"since":-1}"#,
            br#"{"since":"soon"}"#,
            br#"{"since":true}"#,
            many.as_bytes(),
        ] {
            let reply = batch_status("p", body, secs(1));
            assert_eq!(
                reply.status,
                StatusCode::BAD_REQUEST,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
