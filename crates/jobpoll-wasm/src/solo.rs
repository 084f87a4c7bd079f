//! A job run alone, recording a trace that replays: `wait` and `submit` with
//! `record: true`.
//!
//! A job inside the fleet cannot be replayed by a lone `Job`: the fleet decides
//! when its requests go out. A recorded job therefore runs outside the fleet, on
//! its own timer, as the core's [`RecordingJob`], its requests going out through
//! `fetch` as the fleet's do. Its outcome gets `trace`: the JSON lines that
//! `jobpoll-sim replay FILE` and [`jobpoll_core::trace::replay`] read, with
//! secrets redacted by the default [`Redactor`] and, wherever they occur, the
//! values of the secret headers the caller sent.
//!
//! Such a job is not one of the fleet's: `list`, `metrics`, `pause` and
//! `stopAll` do not see it, its requests are not counted in the fleet's limits,
//! and its `signal` is what stops it.

use std::sync::Arc;

use jobpoll_core::{Config, JobSpec, Profile};
use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

use crate::driver::{Driver, Subscription};

#[cfg(feature = "record")]
mod recorded;

/// Whether `options.record` asks for a recorded job (`true`); anything but a
/// boolean, `null` or `undefined` is an error.
pub(crate) fn wanted(options: &JsValue) -> Result<bool, JsValue> {
    if !options.is_object() {
        return Ok(false);
    }
    let record = Reflect::get(options, &JsValue::from_str("record")).unwrap_or(JsValue::UNDEFINED);
    if record.is_undefined() || record.is_null() {
        return Ok(false);
    }
    record
        .as_bool()
        .ok_or_else(|| crate::errors::options("record must be true or false", Some("record")))
}

/// Starts `spec` alone, recording; the outcome, with `trace`, goes to
/// `subscription.resolve`. Returns the wait's id.
pub(crate) fn start(
    driver: &Driver,
    spec: JobSpec<Arc<Profile>>,
    config: Config,
    subscription: Subscription,
    signal: Option<AbortSignal>,
) -> Result<u32, JsValue> {
    #[cfg(feature = "record")]
    {
        recorded::start(driver, spec, config, subscription, signal)
    }
    #[cfg(not(feature = "record"))]
    {
        let _ = (driver, spec, config, subscription, signal);
        Err(crate::errors::options(
            "this build of jobpoll-wasm does not record traces: build it with the `record` feature",
            Some("record"),
        ))
    }
}
