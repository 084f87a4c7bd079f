//! # jobpoll-wasm
//!
//! The browser driver of jobpoll: the core's [`Fleet`](jobpoll_core::fleet::Fleet)
//! run on JavaScript's event loop, with a JavaScript API.
//!
//! - Requests go out with `fetch`; each has an `AbortController`, aborted when
//!   the fleet gives up on the request (its time limit) or stops its job.
//! - One `setTimeout` timer serves the whole fleet, re-armed to its next wake-up.
//! - Time is `performance.now()`.
//!
//! From JavaScript:
//!
//! ```js
//! import { Jobs } from "jobpoll-wasm";
//! const jobs = new Jobs({ onEvent: (event) => console.log(event.summary) });
//! const outcome = await jobs.wait("https://api.example.com/api/v1/jobs/42", {
//!   preset: "fast",
//!   headers: { Authorization: "Bearer ..." },
//!   signal: controller.signal,
//! });
//! console.log(outcome.ok ? outcome.result : outcome.summary);
//! ```
//!
//! The JavaScript side exists only when built for `wasm32`; on other targets the
//! crate holds the parts that do not touch JavaScript: reading the options
//! ([`options`]) and mapping what `fetch` returns onto the core's types
//! ([`transport`]).
#![forbid(unsafe_code)]

pub mod options;
pub mod transport;

#[cfg(target_arch = "wasm32")]
mod api;
#[cfg(target_arch = "wasm32")]
mod driver;
#[cfg(target_arch = "wasm32")]
mod fetch;
#[cfg(target_arch = "wasm32")]
mod solo;
#[cfg(target_arch = "wasm32")]
mod timer;

#[cfg(target_arch = "wasm32")]
pub use api::Jobs;
