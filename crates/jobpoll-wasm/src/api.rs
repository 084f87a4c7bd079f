//! The JavaScript API: `new Jobs(options)` and its methods.

use jobpoll_core::fleet::{FleetConfig, Subscriber};
use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::JsCast as _;
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

use crate::driver::{self, Driver, Subscription};
use crate::fetch;
use crate::options::{Mode, WaitOptions};
use crate::solo;

/// Options read off the JavaScript object rather than deserialized: they hold
/// JavaScript values.
const JS_ONLY: [&str; 3] = ["signal", "onEvent", "record"];

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
/// default, so that many pages do not poll in step).
#[wasm_bindgen]
pub struct Jobs {
    driver: Driver,
}

#[wasm_bindgen]
impl Jobs {
    /// A new set of jobs; see the type's documentation for `options`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: Option<JsValue>) -> Result<Jobs, JsError> {
        let options = options.unwrap_or(JsValue::UNDEFINED);
        let defaults = FleetConfig::default();
        let on_event = callback(&options, "onEvent")?;
        let max_in_flight = count(&options, "maxConcurrent")?.unwrap_or(defaults.max_in_flight);
        let per_origin =
            count(&options, "maxConcurrentPerOrigin")?.unwrap_or(defaults.max_in_flight_per_origin);
        let seed = match property(&options, "seed").as_f64() {
            Some(seed) => seed as u64,
            // Uniform in [0, 2^53): plenty to keep pages apart.
            None => (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64,
        };
        let config = FleetConfig {
            max_in_flight,
            max_in_flight_per_origin: per_origin,
            seed,
        };
        Ok(Jobs {
            driver: Driver::new(config, on_event),
        })
    }

    /// Waits on the job whose status is at `url`; a Promise of its outcome.
    ///
    /// Options, all optional: `profile` (`jobs`, `codegen`, `file-tasks`, `turn`,
    /// `google`, `azure`), `preset`, `interval`, `timeout`, `requestTimeout` (in
    /// ms), `maxAttempts`, `maxErrors`, `maxBodyBytes`, `headers` (a plain
    /// object), `signal` (an `AbortSignal`: aborting it stops the wait, and asks
    /// the server to cancel the job when nobody else waits on it), `onEvent`
    /// (this job's events), `record` (`true`: the job runs alone, outside the
    /// fleet, and its outcome gets `trace`, the JSON lines `jobpoll-sim replay`
    /// replays, without the secrets of the headers sent).
    ///
    /// The promise resolves with every outcome, success or not: a plain object
    /// with `outcome` (`succeeded`, `failed`, `cancelled`, `timed_out`,
    /// `gave_up`, `unauthorized`, `rejected`, `not_found`), `ok`, `summary` (a
    /// sentence a person reads) and the outcome's fields (times in microseconds). It rejects with an `Error`
    /// only when the arguments cannot work.
    pub fn wait(&self, url: &str, options: Option<JsValue>) -> Promise {
        self.start(url, &options.unwrap_or(JsValue::UNDEFINED), Mode::Wait)
    }

    /// Creates a job (`POST url` with `body`, or `method`) and waits on it; the
    /// options of [`Jobs::wait`], plus `method` and `body` (a string, or a value
    /// sent as JSON).
    pub fn submit(&self, url: &str, options: Option<JsValue>) -> Promise {
        self.start(url, &options.unwrap_or(JsValue::UNDEFINED), Mode::Submit)
    }

    /// The waits still running, oldest first: `{id, url, mode, status}`.
    pub fn list(&self) -> JsValue {
        driver::plain(&self.driver.list())
    }

    /// Counts over the life of these jobs and what they do now.
    pub fn metrics(&self) -> JsValue {
        driver::plain(&self.driver.metrics())
    }

    /// Holds every request back (a hidden tab); the requests that fall due wait
    /// for [`Jobs::resume`].
    pub fn pause(&self) {
        self.driver.pause();
    }

    /// Lets the requests held back by [`Jobs::pause`] go.
    pub fn resume(&self) {
        self.driver.resume();
    }

    /// Stops every wait; each resolves as cancelled.
    #[wasm_bindgen(js_name = stopAll)]
    pub fn stop_all(&self) {
        self.driver.stop_all();
    }
}

impl Jobs {
    fn start(&self, url: &str, options: &JsValue, mode: Mode) -> Promise {
        match self.subscribe(url, options, mode) {
            Ok(promise) => promise,
            Err(error) => Promise::reject(&JsValue::from(error)),
        }
    }

    fn subscribe(&self, url: &str, options: &JsValue, mode: Mode) -> Result<Promise, JsError> {
        let parsed = wait_options(options)?;
        let spec = parsed.spec(url, mode).map_err(|e| JsError::new(&e.0))?;
        let config = parsed.config().map_err(|e| JsError::new(&e.0))?;
        let on_event = callback(options, "onEvent")?;
        let signal = match property(options, "signal") {
            value if value.is_undefined() || value.is_null() => None,
            value => Some(
                value
                    .dyn_into::<AbortSignal>()
                    .map_err(|_| JsError::new("signal must be an AbortSignal"))?,
            ),
        };
        let mut resolve = None;
        let promise = Promise::new(&mut |yes, _no| resolve = Some(yes));
        let resolve = resolve.ok_or_else(|| JsError::new("the Promise did not start"))?;
        let subscription = Subscription {
            url: url.to_owned(),
            mode: match mode {
                Mode::Wait => "wait",
                Mode::Submit => "submit",
            },
            resolve,
            on_event,
        };
        if solo::wanted(options)? {
            solo::start(&self.driver, spec, config, subscription, signal)?;
            return Ok(promise);
        }
        let subscriber = self
            .driver
            .add(spec, config, subscription)
            .map_err(|error| JsError::new(&error))?;
        if let Some(signal) = signal {
            self.stop_on_abort(&signal, subscriber);
        }
        Ok(promise)
    }

    /// Stops `subscriber` when `signal` aborts (at once if it has).
    fn stop_on_abort(&self, signal: &AbortSignal, subscriber: Subscriber) {
        // The listener holds the driver only weakly: a signal that outlives the
        // jobs keeps nothing alive.
        let weak = self.driver.downgrade();
        fetch::on_abort(signal, move || {
            if let Some(driver) = weak.upgrade() {
                driver.stop(subscriber);
            }
        });
    }
}

/// The options of `wait` and `submit`, without the JavaScript-only ones; a
/// `body` that is not a string is sent as JSON.
fn wait_options(options: &JsValue) -> Result<WaitOptions, JsError> {
    if options.is_undefined() || options.is_null() {
        return Ok(WaitOptions::default());
    }
    if !options.is_object() {
        return Err(JsError::new("options must be an object"));
    }
    let copy = Object::new();
    for entry in Object::entries(options.unchecked_ref()).iter() {
        let pair: js_sys::Array = entry.unchecked_into();
        let key = pair.get(0).as_string().unwrap_or_default();
        let mut value = pair.get(1);
        if JS_ONLY.contains(&key.as_str()) || value.is_undefined() {
            continue;
        }
        if key == "body" && !value.is_string() && !value.is_null() {
            value = js_sys::JSON::stringify(&value)
                .map_err(|_| JsError::new("body cannot be sent as JSON"))?
                .into();
        }
        let _ = Reflect::set(&copy, &JsValue::from_str(&key), &value);
    }
    serde_wasm_bindgen::from_value(copy.into())
        .map_err(|error| JsError::new(&format!("bad options: {error}")))
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
fn callback(object: &JsValue, key: &str) -> Result<Option<Function>, JsError> {
    match property(object, key) {
        value if value.is_undefined() || value.is_null() => Ok(None),
        value => value
            .dyn_into::<Function>()
            .map(Some)
            .map_err(|_| JsError::new(&format!("{key} must be a function"))),
    }
}

/// `object[key]` as a count of at least 1, if set.
fn count(object: &JsValue, key: &str) -> Result<Option<u32>, JsError> {
    let value = property(object, key);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    match value.as_f64() {
        Some(n) if n >= 1.0 && n <= f64::from(u32::MAX) && n.fract() == 0.0 => Ok(Some(n as u32)),
        _ => Err(JsError::new(&format!(
            "{key} must be a whole number of at least 1"
        ))),
    }
}
