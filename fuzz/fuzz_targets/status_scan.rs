//! The fuzz target of `bodies/status_scan.rs`, which `crates/jobpoll-core/tests/fuzz_corpus.rs`
//! also runs over the committed corpus on stable.
#![no_main]

#[path = "../bodies/status_scan.rs"]
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body::run(data));
