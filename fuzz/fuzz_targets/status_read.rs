//! The fuzz target of `bodies/status_read.rs`, which `crates/jobpoll-core/tests/fuzz_corpus.rs`
//! also runs over the committed corpus on stable.
#![no_main]

#[path = "../bodies/status_read.rs"]
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body::run(data));
