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
//! Besides waiting: `jobs.events(id?)` (an async iterator of events, bounded),
//! `jobs.stop(id)`, pausing while the page is hidden (`pauseWhenHidden`), and
//! errors that are exported `Error` subclasses (`JobpollError`, `OptionsError`,
//! `ProfileError`); the generated `.d.ts` declares every option, outcome and
//! event.
//!
//! The JavaScript side exists only when built for `wasm32`; on other targets the
//! crate holds the parts that do not touch JavaScript: reading the options
//! ([`options`]), mapping what `fetch` returns onto the core's types
//! ([`transport`]) and the reasons the fleet is paused ([`pause`]).
#![forbid(unsafe_code)]

pub mod history;
pub mod options;
pub mod pause;
pub mod store;
pub mod tabs;
pub mod transport;

#[cfg(target_arch = "wasm32")]
mod api;
#[cfg(target_arch = "wasm32")]
mod driver;
#[cfg(target_arch = "wasm32")]
mod errors;
#[cfg(target_arch = "wasm32")]
mod events;
#[cfg(target_arch = "wasm32")]
mod fetch;
#[cfg(target_arch = "wasm32")]
mod solo;
#[cfg(target_arch = "wasm32")]
mod storage;
#[cfg(target_arch = "wasm32")]
mod timer;
#[cfg(target_arch = "wasm32")]
mod types;
#[cfg(target_arch = "wasm32")]
mod visibility;

#[cfg(target_arch = "wasm32")]
pub use api::Jobs;
#[cfg(target_arch = "wasm32")]
pub use errors::{JobpollError, OptionsError, ProfileError};
