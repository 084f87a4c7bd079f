//! `docs/profiles.md` cannot rot: its JSON blocks are read back.
//!
//! A block after `<!-- builtin: NAME -->` is the built-in profile NAME exactly as
//! it serializes (rewrite them all with `JOBPOLL_BLESS_DOCS=1 cargo test -p
//! jobpoll-core --test profiles_doc`); a block after `<!-- fragment -->` is a part
//! of a profile and must be JSON; a block after `<!-- pending -->` uses a key the
//! profiles do not have yet and is skipped; every other `json` block is a whole
//! profile and must read with `Profile::from_json`.

use bytes::Bytes;
use jobpoll_core::profile::{Interpret, Profile};

const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/profiles.md");

/// A fenced `json` block: the marker before it, and its lines.
struct Block {
    marker: Option<String>,
    /// Line numbers (from 0) of its first and one past its last content line.
    lines: (usize, usize),
    text: String,
}

fn blocks(doc: &str) -> Vec<Block> {
    let lines: Vec<&str> = doc.lines().collect();
    let mut out = Vec::new();
    let mut marker = None;
    let mut at = 0;
    while at < lines.len() {
        let line = lines[at].trim();
        if let Some(inner) = line
            .strip_prefix("<!--")
            .and_then(|l| l.strip_suffix("-->"))
        {
            marker = Some(inner.trim().to_owned());
        } else if line == "```json" {
            let start = at + 1;
            let end = (start..lines.len())
                .find(|&l| lines[l].trim() == "```")
                .expect("every block is closed");
            out.push(Block {
                marker: marker.take(),
                lines: (start, end),
                text: lines[start..end].join("\n"),
            });
            at = end;
        } else if !line.is_empty() {
            marker = None;
        }
        at += 1;
    }
    out
}

fn generated(name: &str) -> String {
    let profile = Profile::builtin(name).unwrap_or_else(|| panic!("no built-in {name}"));
    serde_json::to_string_pretty(&profile).expect("serializes")
}

#[test]
fn the_json_blocks_of_the_profiles_manual_read_back() {
    let doc = std::fs::read_to_string(DOC).expect("docs/profiles.md");
    let blocks = blocks(&doc);
    if std::env::var_os("JOBPOLL_BLESS_DOCS").is_some() {
        let mut lines: Vec<String> = doc.lines().map(str::to_owned).collect();
        for block in blocks.iter().rev() {
            if let Some(name) = block
                .marker
                .as_deref()
                .and_then(|m| m.strip_prefix("builtin:"))
            {
                let (start, end) = block.lines;
                lines.splice(
                    start..end,
                    generated(name.trim()).lines().map(str::to_owned),
                );
            }
        }
        std::fs::write(DOC, lines.join("\n") + "\n").expect("written");
        return;
    }
    let mut builtins = Vec::new();
    let (mut profiles, mut pending) = (0, 0);
    for block in &blocks {
        let where_ = format!("the block at line {}", block.lines.0);
        match block.marker.as_deref() {
            Some(marker) if marker.starts_with("builtin:") => {
                let name = marker["builtin:".len()..].trim();
                assert_eq!(
                    block.text,
                    generated(name),
                    "{where_} is not the built-in {name} as it serializes; \
                     run with JOBPOLL_BLESS_DOCS=1 to rewrite it"
                );
                assert_eq!(Profile::from_json(&block.text).ok(), Profile::builtin(name));
                builtins.push(name.to_owned());
            }
            Some("pending") => {
                serde_json::from_str::<serde_json::Value>(&block.text)
                    .unwrap_or_else(|e| panic!("{where_} is not JSON: {e}"));
                pending += 1;
            }
            Some("fragment") => {
                serde_json::from_str::<serde_json::Value>(&block.text)
                    .unwrap_or_else(|e| panic!("{where_} is not JSON: {e}"));
            }
            _ => {
                Profile::from_json(&block.text)
                    .unwrap_or_else(|e| panic!("{where_} is not a profile: {e}"));
                profiles += 1;
            }
        }
    }
    for name in Profile::BUILTIN_NAMES {
        assert!(builtins.iter().any(|b| b == name), "no block for {name}");
    }
    assert!(profiles >= 2, "{profiles} example profiles");
    assert!(pending <= 1, "{pending} pending blocks");
}

/// The example profile named `name` in the manual.
fn example(name: &str) -> Profile {
    let doc = std::fs::read_to_string(DOC).expect("docs/profiles.md");
    blocks(&doc)
        .iter()
        .filter(|b| b.marker.is_none())
        .filter_map(|b| Profile::from_json(&b.text).ok())
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no example {name}"))
}

fn ok(body: &str) -> http::Response<Bytes> {
    http::Response::new(Bytes::from(body.to_owned()))
}

#[test]
fn the_manuals_examples_read_what_they_say() {
    let queue = example("task-queue");
    let submit = url::Url::parse("https://queue.example/v2/tasks").expect("url");
    let submission = queue
        .read_submission(&ok(r#"{"task-id":"t 7","state":"waiting"}"#), &submit)
        .expect("submit reads");
    assert_eq!(submission.job_id.as_deref(), Some("t 7"));
    assert_eq!(
        submission.status_url.as_str(),
        "https://queue.example/v2/tasks/t%207"
    );
    let report = queue
        .read_status(&ok(r#"{"task-id":"t 7","state":"warming_up"}"#))
        .expect("any other state means running");
    assert_eq!(report.state, Some(jobpoll_core::profile::JobState::Running));

    let batch = example("batch-import");
    let report = batch
        .read_status(&ok(
            r#"{"phase":"importing","counts":{"processed":30,"total":120}}"#,
        ))
        .expect("status reads");
    assert_eq!(report.percentage, Some(25.0));
}
