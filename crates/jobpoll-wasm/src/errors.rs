//! The errors JavaScript sees: `Error` subclasses, exported from the package so
//! that `instanceof` works.
//!
//! - `JobpollError`: every error the driver throws or rejects with.
//! - `OptionsError` (a `JobpollError`): arguments that cannot work; `option`
//!   names the option at fault (`interval`, `headers`, `profile`, `url`, ...),
//!   or is `null` when the fault lies between options.
//! - `ProfileError` (an `OptionsError` whose `option` is `profile`): a profile
//!   object the core refused, with `path`, `key` or `value`, `suggestion` (the
//!   known name nearest to what was written) and `known`.
//!
//! The classes are plain JavaScript (an `Error` subclass cannot be a Rust
//! type), re-exported through wasm-bindgen. Code elsewhere in the crate builds
//! them with [`options()`], [`from_options`] and [`jobpoll`].

#[cfg(feature = "profile-objects")]
use jobpoll_core::profile::ProfileError as CoreProfileError;
#[cfg(feature = "profile-objects")]
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::options;

#[wasm_bindgen(inline_js = r#"
export class JobpollError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = "JobpollError";
  }
}
export class OptionsError extends JobpollError {
  constructor(message, option) {
    super(message);
    this.name = "OptionsError";
    this.option = option ?? null;
  }
}
export class ProfileError extends OptionsError {
  constructor(message, details) {
    super(message, "profile");
    this.name = "ProfileError";
    this.path = details.path ?? "";
    this.key = details.key ?? null;
    this.value = details.value ?? null;
    this.suggestion = details.suggestion ?? null;
    this.known = details.known ?? [];
  }
}
"#)]
extern "C" {
    /// The base class of every error the driver throws or rejects with.
    #[wasm_bindgen(extends = js_sys::Error)]
    #[derive(Clone, Debug)]
    pub type JobpollError;
    #[wasm_bindgen(constructor)]
    fn new(message: &str) -> JobpollError;

    /// Arguments that cannot work; `option` names the option at fault.
    #[wasm_bindgen(extends = JobpollError, extends = js_sys::Error)]
    #[derive(Clone, Debug)]
    pub type OptionsError;
    #[wasm_bindgen(constructor)]
    fn new(message: &str, option: JsValue) -> OptionsError;

    /// A profile object the core refused, with where and what.
    #[wasm_bindgen(
        extends = OptionsError,
        extends = JobpollError,
        extends = js_sys::Error
    )]
    #[derive(Clone, Debug)]
    pub type ProfileError;
    #[cfg(feature = "profile-objects")]
    #[wasm_bindgen(constructor)]
    fn new(message: &str, details: &JsValue) -> ProfileError;

    // The classes themselves, exported from the package; their TypeScript
    // declarations are in `types.rs`.
    #[wasm_bindgen(js_name = JobpollError, reexport, skip_typescript)]
    fn export_jobpoll_error();
    #[wasm_bindgen(js_name = OptionsError, reexport, skip_typescript)]
    fn export_options_error();
    #[wasm_bindgen(js_name = ProfileError, reexport, skip_typescript)]
    fn export_profile_error();
}

/// An `OptionsError`: `option` cannot work, because of `message`.
pub(crate) fn options(message: &str, option: Option<&str>) -> JsValue {
    let option = option.map_or(JsValue::NULL, JsValue::from_str);
    OptionsError::new(message, option).into()
}

/// The JavaScript error for options the Rust side refused: a `ProfileError` for
/// a refused profile object, an `OptionsError` otherwise.
pub(crate) fn from_options(error: &options::OptionsError) -> JsValue {
    #[cfg(feature = "profile-objects")]
    if let Some(profile) = &error.profile {
        return self::profile(profile);
    }
    options(&error.message, error.option.as_deref())
}

/// A `JobpollError`: something went wrong that no option caused.
pub(crate) fn jobpoll(message: &str) -> JsValue {
    JobpollError::new(message).into()
}

/// A `ProfileError` with the core's message and its parts. Only a profile
/// object is refused with one: without the `profile-objects` feature none is
/// read, and this is left out.
#[cfg(feature = "profile-objects")]
fn profile(error: &CoreProfileError) -> JsValue {
    let details = Object::new();
    let set = |key: &str, value: JsValue| {
        let _ = Reflect::set(&details, &JsValue::from_str(key), &value);
    };
    let text = |value: &Option<String>| value.as_deref().map_or(JsValue::NULL, JsValue::from_str);
    let names = |known: &[String]| -> JsValue {
        known
            .iter()
            .map(|name| JsValue::from_str(name))
            .collect::<Array>()
            .into()
    };
    match error {
        CoreProfileError::UnknownKey {
            key,
            path,
            suggestion,
            known,
        } => {
            set("key", key.into());
            set("path", path.into());
            set("suggestion", text(suggestion));
            set("known", names(known));
        }
        CoreProfileError::UnknownName {
            value,
            path,
            suggestion,
            known,
        } => {
            set("value", value.into());
            set("path", path.into());
            set("suggestion", text(suggestion));
            set("known", names(known));
        }
        CoreProfileError::Invalid { path, .. } => set("path", path.into()),
    }
    ProfileError::new(&error.to_string(), &details).into()
}
