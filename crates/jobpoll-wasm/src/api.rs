//! The JavaScript API: `new Jobs(options)` and its methods.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use jobpoll_core::fleet::{FleetConfig, Subscriber};
use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::JsCast as _;
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

use crate::driver::{self, Driver, Subscription};
use crate::errors;
use crate::events::{self, EventStream};
use crate::options::{self, JS_ONLY, Mode, WaitOptions};
use crate::solo;
use crate::visibility::{self, Watch};

// `restore`, `history`, `stats`, `results`, `clearResults`.
#[path = "api_store.rs"]
mod api_store;

/// Many jobs waited on together, with one timer and shared polls.
///
/// ```js
/// const jobs = new Jobs({ onEvent: (event) => console.log(event.summary) });
/// const outcome = await jobs.wait(statusUrl, { preset: "fast" });
/// if (outcome.ok) console.log(outcome.result);
/// else console.error(outcome.summary);
/// ```
///
/// Options of the constructor, all optional: `onEvent` (called with every event
/// of every job), `maxConcurrent` (requests in flight at once, default 256),
/// `maxConcurrentPerOrigin` (default 32), `seed` (root of the jitter; random by
/// default, so that many pages do not poll in step), `pauseWhenHidden` (default
/// `true`: hold requests back while the page is hidden, resume as soon as it is
/// visible or the user acts on it), `storage` (where running
/// jobs, the history and the results are saved: `localStorage` by default,
/// `null` for memory only, or any object with `getItem`, `setItem` and
/// `removeItem`), `storageKey` (the prefix of the saved keys, default
/// `jobpoll`).
#[wasm_bindgen]
pub struct Jobs {
    driver: Driver,
    /// The page's listeners, removed when the jobs are freed.
    _watch: Option<Watch>,
}

#[wasm_bindgen]
impl Jobs {
    /// A new set of jobs; see the type's documentation for `options`. Throws
    /// an `OptionsError` naming the option that cannot work.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_optional_param_type = "JobsOptions | null")] options: Option<
            JsValue,
        >,
    ) -> Result<Jobs, JsValue> {
        let options = options.unwrap_or(JsValue::UNDEFINED);
        if !options.is_undefined() && !options.is_null() && !options.is_object() {
            return Err(errors::options("options must be an object", None));
        }
        let defaults = FleetConfig::default();
        let on_event = callback(&options, "onEvent")?;
        let max_in_flight = count(&options, "maxConcurrent")?.unwrap_or(defaults.max_in_flight);
        let per_origin =
            count(&options, "maxConcurrentPerOrigin")?.unwrap_or(defaults.max_in_flight_per_origin);
        let seed = match property(&options, "seed") {
            value if value.is_undefined() || value.is_null() => {
                // Uniform in [0, 2^53): plenty to keep pages apart.
                (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64
            }
            value => match value.as_f64() {
                Some(seed) if seed.is_finite() && seed >= 0.0 => seed as u64,
                _ => {
                    return Err(errors::options(
                        "seed must be a number of at least 0",
                        Some("seed"),
                    ));
                }
            },
        };
        let pause_when_hidden = match property(&options, "pauseWhenHidden") {
            value if value.is_undefined() || value.is_null() => true,
            value => value.as_bool().ok_or_else(|| {
                errors::options(
                    "pauseWhenHidden must be true or false",
                    Some("pauseWhenHidden"),
                )
            })?,
        };
        let config = FleetConfig {
            max_in_flight,
            max_in_flight_per_origin: per_origin,
            seed,
        };
        let (storage, storage_key) = crate::storage::storage_options(&options)?;
        let driver = Driver::new(config, on_event);
        driver.open_store(storage, &storage_key);
        let watch = if pause_when_hidden {
            visibility::watch(&driver)
        } else {
            None
        };
        Ok(Jobs {
            driver,
            _watch: watch,
        })
    }

    /// Waits on the job whose status is at `url`; a Promise of its outcome,
    /// whose `id` is the number `list()`, `stop(id)` and `events(id)` use.
    /// `url` is read as `fetch` reads it: relative to the page's address, and
    /// with an international host name in its ASCII form.
    ///
    /// Options, all optional: `profile` (a built-in name: `jobs`, `codegen`,
    /// `file-tasks`, `turn`, `google`, `azure`; or a profile object in the JSON
    /// form of `docs/profiles.md`), `preset`, `interval`, `timeout`,
    /// `requestTimeout` (in ms), `maxAttempts`, `maxErrors`, `maxBodyBytes`,
    /// `headers` (a plain object, a `Headers`, or `[name, value]` pairs),
    /// `signal` (an `AbortSignal`: aborting it stops the wait, and asks the
    /// server to cancel the job when nobody else waits on it; its listener is
    /// removed when the wait ends), `onEvent` (this job's events), `persist`
    /// (default `true`; `false` keeps the job out of storage, so that it is not
    /// restored after a reload and its headers are not saved), `record`
    /// (`true`: the job runs alone, outside the fleet, and its outcome gets
    /// `trace`, the JSON lines `jobpoll-sim replay` replays, without the
    /// secrets of the headers sent).
    ///
    /// The promise resolves with every outcome, success or not: a plain object
    /// with `outcome` (`succeeded`, `failed`, `cancelled`, `timed_out`,
    /// `gave_up`, `unauthorized`, `rejected`, `not_found`), `ok`, `summary` (a
    /// sentence a person reads) and the outcome's fields (times in
    /// microseconds). It rejects only when the arguments cannot work, with an
    /// `OptionsError` (a `ProfileError` for a refused profile object).
    #[wasm_bindgen(unchecked_return_type = "WaitPromise")]
    pub fn wait(
        &self,
        url: &str,
        #[wasm_bindgen(unchecked_optional_param_type = "WaitOptions | null")] options: Option<
            JsValue,
        >,
    ) -> Promise {
        self.start(url, &options.unwrap_or(JsValue::UNDEFINED), Mode::Wait)
    }

    /// Creates a job (`POST url` with `body`, or `method`) and waits on it; the
    /// options of [`Jobs::wait`], plus `method` and `body` (a string, or a value
    /// sent as JSON).
    #[wasm_bindgen(unchecked_return_type = "WaitPromise")]
    pub fn submit(
        &self,
        url: &str,
        #[wasm_bindgen(unchecked_optional_param_type = "SubmitOptions | null")] options: Option<
            JsValue,
        >,
    ) -> Promise {
        self.start(url, &options.unwrap_or(JsValue::UNDEFINED), Mode::Submit)
    }

    /// The waits still running, oldest first: `{id, url, mode, status}`.
    #[wasm_bindgen(unchecked_return_type = "Listed[]")]
    pub fn list(&self) -> JsValue {
        driver::plain(&self.driver.list())
    }

    /// Counts over the life of these jobs and what they do now; `paused_by`
    /// says why requests are held back (`"user"`, `"hidden"`).
    #[wasm_bindgen(unchecked_return_type = "Metrics")]
    pub fn metrics(&self) -> JsValue {
        self.driver.metrics()
    }

    /// Holds every request back; the requests that fall due wait for
    /// [`Jobs::resume`]. A page becoming visible does not undo it.
    pub fn pause(&self) {
        self.driver.pause();
    }

    /// Lets the requests held back by [`Jobs::pause`] go (unless the page is
    /// hidden and `pauseWhenHidden` holds them).
    pub fn resume(&self) {
        self.driver.resume();
    }

    /// Stops the wait `list()` shows as `id` (the `id` of the Promise `wait`
    /// and `submit` return): it resolves as cancelled, and the server is asked
    /// to cancel the job when nobody else waits on it, as with an
    /// `AbortSignal`. False when no wait runs under that id (it ended, or never
    /// was); throws an `OptionsError` when `id` is not a whole number.
    pub fn stop(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] id: JsValue,
    ) -> Result<bool, JsValue> {
        let id = wait_id(&id)?.ok_or_else(|| {
            errors::options("stop needs the id of a wait, a whole number", Some("id"))
        })?;
        Ok(self.driver.stop_id(id))
    }

    /// Stops every wait; each resolves as cancelled.
    #[wasm_bindgen(js_name = stopAll)]
    pub fn stop_all(&self) {
        self.driver.stop_all();
    }

    /// The events of every wait, or of the wait `id`, as an async iterator:
    /// `for await (const event of jobs.events(id)) ...`. The iterator of one
    /// wait ends after its outcome (at once if no wait runs under `id`); the
    /// iterator of every wait runs until the loop is left.
    ///
    /// Events not read yet are kept, at most `options.limit` of them (default
    /// 1024): past it the oldest is dropped, the iterator's `dropped` counts it
    /// and the next event read carries `dropped`, the number lost just before
    /// it. Leaving the loop (`break`, `return()`) unsubscribes.
    #[wasm_bindgen(unchecked_return_type = "EventStream")]
    pub fn events(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "number | null")] id: Option<JsValue>,
        #[wasm_bindgen(unchecked_optional_param_type = "EventsOptions | null")] options: Option<
            JsValue,
        >,
    ) -> Result<JsValue, JsValue> {
        let id = wait_id(&id.unwrap_or(JsValue::UNDEFINED))?;
        let options = options.unwrap_or(JsValue::UNDEFINED);
        let limit = count(&options, "limit")?.unwrap_or(events::DEFAULT_LIMIT);
        let stream: EventStream = self.driver.events(id, limit);
        Ok(stream.into())
    }
}

impl Jobs {
    fn start(&self, url: &str, options: &JsValue, mode: Mode) -> Promise {
        match self.subscribe(url, options, mode) {
            Ok(promise) => promise,
            Err(error) => Promise::reject(&error),
        }
    }

    fn subscribe(&self, url: &str, options: &JsValue, mode: Mode) -> Result<Promise, JsValue> {
        let (parsed, given) = wait_options(options)?;
        let spec = parsed
            .spec(&crate::fetch::href(url), mode)
            .map_err(|error| errors::from_options(&error))?;
        let config = parsed
            .config()
            .map_err(|error| errors::from_options(&error))?;
        let on_event = callback(options, "onEvent")?;
        let persist = crate::storage::persist_option(options)?;
        let signal =
            match property(options, "signal") {
                value if value.is_undefined() || value.is_null() => None,
                value => Some(value.dyn_into::<AbortSignal>().map_err(|_| {
                    errors::options("signal must be an AbortSignal", Some("signal"))
                })?),
            };
        let mut resolve = None;
        let promise = Promise::new(&mut |yes, _no| resolve = Some(yes));
        let resolve = resolve.ok_or_else(|| errors::jobpoll("the Promise did not start"))?;
        let mode = mode.name();
        if solo::wanted(options)? {
            let subscription = Subscription {
                url: url.to_owned(),
                mode,
                resolve,
                on_event,
                // A recorded job runs alone, outside what is saved.
                saved: None,
            };
            let id = solo::start(&self.driver, spec, config, subscription, signal)?;
            let _ = Reflect::set(&promise, &JsValue::from_str("id"), &id.into());
            return Ok(promise);
        }
        // With a signal, the outcome first removes the signal's listener.
        let hook = signal
            .as_ref()
            .map(|_| Rc::new(RefCell::new(AbortHook::default())));
        let resolve = match &hook {
            Some(hook) => hook.wrap(resolve),
            None => resolve,
        };
        let subscriber = self
            .driver
            .add(
                spec,
                config,
                Subscription {
                    url: url.to_owned(),
                    mode,
                    resolve,
                    on_event,
                    saved: persist.then(|| Arc::new(given)),
                },
            )
            .map_err(|error| errors::jobpoll(&error))?;
        if let Some(id) = self.driver.id_of(subscriber) {
            let _ = Reflect::set(&promise, &JsValue::from_str("id"), &id.into());
        }
        if let (Some(signal), Some(hook)) = (signal, hook) {
            self.stop_on_abort(&signal, subscriber, &hook);
        }
        Ok(promise)
    }

    /// Stops `subscriber` when `signal` aborts (at once if it has). The
    /// listener stays only until the wait ends: a signal shared by many waits
    /// does not collect one listener per wait.
    fn stop_on_abort(&self, signal: &AbortSignal, subscriber: Subscriber, hook: &SharedHook) {
        if signal.aborted() {
            self.driver.stop(subscriber);
            return;
        }
        if hook.borrow().ended {
            return;
        }
        // The listener holds the driver only weakly: a signal that outlives the
        // jobs keeps nothing alive.
        let weak = self.driver.downgrade();
        let listener = Closure::<dyn FnMut()>::new(move || {
            if let Some(driver) = weak.upgrade() {
                driver.stop(subscriber);
            }
        });
        let options = web_sys::AddEventListenerOptions::new();
        options.set_once(true);
        let _ = signal.add_event_listener_with_callback_and_add_event_listener_options(
            "abort",
            listener.as_ref().unchecked_ref(),
            &options,
        );
        hook.borrow_mut().listener = Some((signal.clone(), listener));
    }
}

/// The abort listener of one wait, removed when the wait ends.
#[derive(Default)]
struct AbortHook {
    listener: Option<(AbortSignal, Closure<dyn FnMut()>)>,
    /// The wait has its outcome.
    ended: bool,
}

type SharedHook = Rc<RefCell<AbortHook>>;

trait Wrap {
    /// `resolve`, preceded by the listener's removal.
    fn wrap(&self, resolve: Function) -> Function;
}

impl Wrap for SharedHook {
    fn wrap(&self, resolve: Function) -> Function {
        let hook = self.clone();
        Closure::once_into_js(move |outcome: JsValue| {
            let listener = {
                let mut hook = hook.borrow_mut();
                hook.ended = true;
                hook.listener.take()
            };
            if let Some((signal, listener)) = listener {
                let _ = signal.remove_event_listener_with_callback(
                    "abort",
                    listener.as_ref().unchecked_ref(),
                );
            }
            let _ = resolve.call1(&JsValue::UNDEFINED, &outcome);
        })
        .unchecked_into()
    }
}

/// The options of `wait` and `submit`, without the JavaScript-only ones, read
/// and as JSON (what a saved wait keeps to be made again); a
/// `body` that is not a string is sent as JSON, `headers` may be a `Headers`.
fn wait_options(options: &JsValue) -> Result<(WaitOptions, serde_json::Value), JsValue> {
    if options.is_undefined() || options.is_null() {
        let none = serde_json::Value::Object(serde_json::Map::new());
        return Ok((WaitOptions::default(), none));
    }
    if !options.is_object() {
        return Err(errors::options("options must be an object", None));
    }
    let refused = |error: options::OptionsError| errors::from_options(&error);
    let copy = Object::new();
    for entry in Object::entries(options.unchecked_ref()).iter() {
        let pair: Array = entry.unchecked_into();
        let key = pair.get(0).as_string().unwrap_or_default();
        let mut value = pair.get(1);
        // `null` means "not given", as `undefined` does.
        if JS_ONLY.contains(&key.as_str()) || value.is_undefined() || value.is_null() {
            continue;
        }
        // What JSON cannot hold: JSON.stringify would drop it or write `null`.
        if let Some(given) = not_json(&value) {
            return Err(refused(options::refuse(&key, given)));
        }
        if key == "body" && !value.is_string() {
            value = js_sys::JSON::stringify(&value)
                .ok()
                .filter(|text| text.is_string())
                .ok_or_else(|| errors::options("body cannot be sent as JSON", Some("body")))?
                .into();
        }
        if key == "headers" {
            value = header_pairs(value);
        }
        let _ = Reflect::set(&copy, &JsValue::from_str(&key), &value);
    }
    let json = js_sys::JSON::stringify(&copy)
        .ok()
        .and_then(|text| text.as_string())
        .ok_or_else(|| errors::options("the options cannot be read as JSON", None))?;
    // Bytes, not `str`: the reader the core reads answers with.
    let json = serde_json::from_slice(json.as_bytes()).map_err(|error| {
        errors::options(
            &format!("the options cannot be read as JSON: {error}"),
            None,
        )
    })?;
    let read = WaitOptions::from_json(&json).map_err(refused)?;
    Ok((read, json))
}

/// A value JSON cannot hold, as a message names it: a number that is not
/// finite, a function, a symbol, a `BigInt`.
fn not_json(value: &JsValue) -> Option<&'static str> {
    match value.as_f64() {
        Some(n) if n.is_nan() => Some("NaN"),
        Some(n) if n.is_infinite() => Some(if n > 0.0 { "Infinity" } else { "-Infinity" }),
        Some(_) => None,
        None if value.is_function() => Some("a function"),
        None if value.is_symbol() => Some("a symbol"),
        None if value.is_bigint() => Some("a BigInt"),
        None => None,
    }
}

/// Headers as a list of `[name, value]` pairs, so that JSON keeps their order:
/// a `Headers` or an object of names to values; anything else as it is.
fn header_pairs(value: JsValue) -> JsValue {
    if value.is_instance_of::<web_sys::Headers>() {
        // `Array.from` iterates the `Headers`: its `[name, value]` entries.
        return Array::from(&value).into();
    }
    if value.is_object() && !Array::is_array(&value) {
        return Object::entries(value.unchecked_ref()).into();
    }
    value
}

/// A wait's id as `stop` and `events` take it: `None` when absent.
fn wait_id(value: &JsValue) -> Result<Option<u32>, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    match value.as_f64() {
        Some(n) if n >= 0.0 && n <= f64::from(u32::MAX) && n.fract() == 0.0 => Ok(Some(n as u32)),
        _ => Err(errors::options(
            "the id of a wait is a whole number (the id of the Promise wait and submit return)",
            Some("id"),
        )),
    }
}

/// `object[key]`, or `undefined`.
fn property(object: &JsValue, key: &str) -> JsValue {
    if object.is_object() {
        Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

/// `object[key]` as a function, if set.
fn callback(object: &JsValue, key: &str) -> Result<Option<Function>, JsValue> {
    match property(object, key) {
        value if value.is_undefined() || value.is_null() => Ok(None),
        value => value
            .dyn_into::<Function>()
            .map(Some)
            .map_err(|_| errors::options(&format!("{key} must be a function"), Some(key))),
    }
}

/// `object[key]` as a count of at least 1, if set.
fn count(object: &JsValue, key: &str) -> Result<Option<u32>, JsValue> {
    let value = property(object, key);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    match value.as_f64() {
        Some(n) if n >= 1.0 && n <= f64::from(u32::MAX) && n.fract() == 0.0 => Ok(Some(n as u32)),
        _ => Err(errors::options(
            &format!("{key} must be a whole number of at least 1"),
            Some(key),
        )),
    }
}
