//! The fuzz target of `bodies/job_inputs.rs`, which `crates/jobpoll-core/tests/fuzz_corpus.rs`
//! also runs over the committed corpus on stable.
#![no_main]

#[path = "../bodies/job_inputs.rs"]
mod body;
#[path = "../bodies/common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body::run(data));
