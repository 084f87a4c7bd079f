//! The storage object the driver saves into: `localStorage`, or any object with
//! `getItem`, `setItem` and `removeItem`.
//!
//! Every call is guarded: a storage that throws (a full quota, access denied) is
//! an error message, never a panic.

use js_sys::{Function, Reflect};
use wasm_bindgen::JsCast as _;
use wasm_bindgen::prelude::*;

use crate::driver::StorageChoice;
use crate::store::DEFAULT_STORAGE_KEY;

/// A storage object (`getItem`, `setItem`, `removeItem`).
#[derive(Clone, Debug)]
pub(crate) struct Backend {
    object: JsValue,
}

impl Backend {
    /// `object` as a storage, or why it cannot be one.
    pub(crate) fn new(object: JsValue) -> Result<Backend, String> {
        for method in ["getItem", "setItem", "removeItem"] {
            let value = Reflect::get(&object, &JsValue::from_str(method)).unwrap_or_default();
            if !value.is_function() {
                return Err(format!(
                    "storage must have getItem, setItem and removeItem methods (as localStorage has); {method} is missing"
                ));
            }
        }
        Ok(Backend { object })
    }

    /// `globalThis.localStorage` when there is one; `Ok(None)` when there is
    /// none (Node, a worker), `Err` when reading it throws (storage denied).
    pub(crate) fn local_storage() -> Result<Option<Backend>, String> {
        let global = js_sys::global();
        let value = Reflect::get(&global, &JsValue::from_str("localStorage"))
            .map_err(|error| format!("localStorage cannot be used ({})", describe(&error)))?;
        if value.is_undefined() || value.is_null() {
            return Ok(None);
        }
        Backend::new(value).map(Some)
    }

    /// The text stored under `key`, if any.
    pub(crate) fn get(&self, key: &str) -> Result<Option<String>, String> {
        let value = self.call("getItem", &[JsValue::from_str(key)])?;
        Ok(value.as_string())
    }

    /// Stores `value` under `key`.
    pub(crate) fn set(&self, key: &str, value: &str) -> Result<(), String> {
        self.call(
            "setItem",
            &[JsValue::from_str(key), JsValue::from_str(value)],
        )
        .map(drop)
    }

    /// Removes `key`.
    pub(crate) fn remove(&self, key: &str) -> Result<(), String> {
        self.call("removeItem", &[JsValue::from_str(key)]).map(drop)
    }

    fn call(&self, method: &str, args: &[JsValue]) -> Result<JsValue, String> {
        let function: Function = Reflect::get(&self.object, &JsValue::from_str(method))
            .ok()
            .and_then(|value| value.dyn_into().ok())
            .ok_or_else(|| format!("storage.{method} is not a function"))?;
        let args: js_sys::Array = args.iter().collect();
        function
            .apply(&self.object, &args)
            .map_err(|error| describe(&error))
    }
}

/// The error for a bad argument of the storage API (`storage`, `storageKey`,
/// `persist`, `graphId`): an `OptionsError` naming the option.
fn bad_argument(option: &str, message: &str) -> JsValue {
    crate::errors::options(message, Some(option))
}

/// A thrown value as `Name: message` (`QuotaExceededError: ...`).
fn describe(error: &JsValue) -> String {
    let field = |name: &str| {
        Reflect::get(error, &JsValue::from_str(name))
            .ok()
            .and_then(|value| value.as_string())
            .unwrap_or_default()
    };
    let (name, message) = (field("name"), field("message"));
    match (name.is_empty(), message.is_empty()) {
        (false, false) => format!("{name}: {message}"),
        (false, true) => name,
        (true, false) => message,
        (true, true) => error
            .as_string()
            .unwrap_or_else(|| "an unknown error".to_owned()),
    }
}

/// The constructor's `storage` and `storageKey` options.
pub(crate) fn storage_options(options: &JsValue) -> Result<(StorageChoice, String), JsValue> {
    let get = |key: &str| {
        if options.is_object() {
            Reflect::get(options, &JsValue::from_str(key)).unwrap_or_default()
        } else {
            JsValue::UNDEFINED
        }
    };
    let choice = match get("storage") {
        value if value.is_undefined() => StorageChoice::Default,
        value if value.is_null() => StorageChoice::Memory,
        value if value.is_object() => StorageChoice::Given(
            Backend::new(value).map_err(|error| bad_argument("storage", &error))?,
        ),
        _ => {
            return Err(bad_argument(
                "storage",
                "storage must be an object with getItem, setItem and removeItem (as localStorage), or null for memory only",
            ));
        }
    };
    let key = match get("storageKey") {
        value if value.is_undefined() || value.is_null() => DEFAULT_STORAGE_KEY.to_owned(),
        value => match value.as_string() {
            Some(key) if !key.is_empty() => key,
            _ => {
                return Err(bad_argument(
                    "storageKey",
                    "storageKey must be a non-empty string",
                ));
            }
        },
    };
    Ok((choice, key))
}

/// The `persist` option of `wait` and `submit`: `true` unless `false`.
pub(crate) fn persist_option(options: &JsValue) -> Result<bool, JsValue> {
    if !options.is_object() {
        return Ok(true);
    }
    match Reflect::get(options, &JsValue::from_str("persist")).unwrap_or_default() {
        value if value.is_undefined() || value.is_null() => Ok(true),
        value => value
            .as_bool()
            .ok_or_else(|| bad_argument("persist", "persist must be true or false")),
    }
}

/// `graphId` as `results` and `clearResults` take it: a string, or none.
pub(crate) fn graph_id(value: &JsValue) -> Result<Option<String>, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value
        .as_string()
        .map(Some)
        .ok_or_else(|| bad_argument("graphId", "graphId must be a string"))
}

thread_local! {
    /// The owner ids of the live `Jobs` of this page: a second `Jobs` on the
    /// same storage key in one page gets an owner id of its own.
    static IN_USE: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The owner id of a new `Jobs` under `owner_key`: the one this tab keeps in
/// `sessionStorage` (so that a reload of the tab is the same owner), unless
/// another live `Jobs` of this page holds it, or `leased_elsewhere` says
/// another page runs as it (a duplicated tab starts with a copy of the
/// original's `sessionStorage`, while the original still holds its lease; a
/// page that closed or reloaded gave its lease up). Otherwise a new random one,
/// kept there when there is a `sessionStorage` (for a duplicated tab, in place
/// of the copy). Released by [`release_owner`].
pub(crate) fn claim_owner(owner_key: &str, leased_elsewhere: impl Fn(&str) -> bool) -> String {
    let session = Reflect::get(&js_sys::global(), &JsValue::from_str("sessionStorage"))
        .ok()
        .filter(|value| value.is_object())
        .and_then(|value| Backend::new(value).ok());
    let in_use = |id: &str| IN_USE.with(|held| held.borrow().iter().any(|held| held == id));
    let kept = session
        .as_ref()
        .and_then(|session| session.get(owner_key).ok().flatten())
        .filter(|id| !id.is_empty());
    let id = match kept {
        Some(id) if !in_use(&id) && !leased_elsewhere(&id) => id,
        // The tab's id is another live `Jobs`'s: it stays that one's.
        Some(id) if in_use(&id) => random_id(),
        // A copy of another page's id, or none: this tab's own from now on.
        Some(_) | None => {
            let id = random_id();
            if let Some(session) = &session {
                let _ = session.set(owner_key, &id);
            }
            id
        }
    };
    IN_USE.with(|held| held.borrow_mut().push(id.clone()));
    id
}

/// Lets a later `Jobs` of this page take `id` again.
pub(crate) fn release_owner(id: &str) {
    IN_USE.with(|held| {
        let mut held = held.borrow_mut();
        if let Some(at) = held.iter().position(|kept| kept == id) {
            held.swap_remove(at);
        }
    });
}

/// `crypto.randomUUID()` when there is one, else 128 bits of `Math.random`.
fn random_id() -> String {
    let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto")).unwrap_or_default();
    let uuid = Reflect::get(&crypto, &JsValue::from_str("randomUUID"))
        .ok()
        .and_then(|value| value.dyn_into::<Function>().ok())
        .and_then(|function| function.call0(&crypto).ok())
        .and_then(|value| value.as_string());
    uuid.unwrap_or_else(|| {
        let part = || (js_sys::Math::random() * 4_294_967_296.0) as u32;
        format!("{:08x}{:08x}{:08x}{:08x}", part(), part(), part(), part())
    })
}
