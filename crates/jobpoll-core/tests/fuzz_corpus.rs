//! The fuzz targets' corpora, replayed on stable: every committed input of
//! `fuzz/corpus/<target>/` and every crash input ever kept in
//! `fuzz/artifacts/<target>/` goes through the target's own body (the very code
//! the fuzzer runs, included from `fuzz/bodies/`), so a change that breaks what a
//! fuzzer once found fails `cargo test`, without nightly.

use std::path::{Path, PathBuf};

#[allow(dead_code, unreachable_pub)]
#[path = "../../../fuzz/bodies/common.rs"]
mod common;
#[allow(dead_code, unreachable_pub)]
#[path = "../../../fuzz/bodies/job_inputs.rs"]
mod job_inputs;
#[allow(dead_code, unreachable_pub)]
#[path = "../../../fuzz/bodies/server_bytes.rs"]
mod server_bytes;
#[allow(dead_code, unreachable_pub)]
#[path = "../../../fuzz/bodies/status_read.rs"]
mod status_read;

/// Every file of the target's corpus and artifacts directories, sorted.
fn inputs(target: &str) -> Vec<PathBuf> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut files = Vec::new();
    for dir in ["corpus", "artifacts"] {
        let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join(target)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Runs `body` over every input of `target`; names the file of the first failure.
fn replay(target: &str, body: fn(&[u8])) -> usize {
    let files = inputs(target);
    for file in &files {
        let data = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        if let Err(panic) = std::panic::catch_unwind(|| body(&data)) {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("a panic");
            panic!("{target}: {} fails: {message}", file.display());
        }
    }
    files.len()
}

#[test]
fn job_inputs_corpus_replays() {
    assert!(
        replay("job_inputs", job_inputs::run) > 50,
        "the corpus is missing"
    );
}

#[test]
fn server_bytes_corpus_replays() {
    assert!(
        replay("server_bytes", server_bytes::run) > 50,
        "the corpus is missing"
    );
}

#[test]
fn status_read_corpus_replays() {
    assert!(
        replay("status_read", status_read::run) > 50,
        "the corpus is missing"
    );
}
