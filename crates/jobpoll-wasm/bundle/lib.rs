//! The browser package as it ships: links `jobpoll-wasm`, whose exports
//! (`Jobs`, the error classes) become this module's.

pub use jobpoll_wasm::*;
