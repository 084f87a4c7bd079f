//! One request through `fetch`, and the JavaScript globals the driver uses.
//!
//! The globals are imported by name (`fetch`, `setTimeout`, `clearTimeout`,
//! `performance.now`), not through `window`, so the driver runs in a page, a
//! worker and Node alike.

use jobpoll_core::{Transmit, TransportError};
use js_sys::{Array, Function, Reflect, Uint8Array};
use wasm_bindgen::JsCast as _;
use wasm_bindgen::prelude::*;
use web_sys::AbortController;

use crate::transport;

#[wasm_bindgen]
extern "C" {
    /// The global `setTimeout`; its handle is a number in browsers, an object in
    /// Node.
    #[wasm_bindgen(js_name = setTimeout)]
    pub(crate) fn set_timeout(handler: &Function, millis: f64) -> JsValue;

    /// The global `clearTimeout`.
    #[wasm_bindgen(js_name = clearTimeout)]
    pub(crate) fn clear_timeout(handle: &JsValue);

    /// The global `performance.now()`: milliseconds on a monotonic clock.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    pub(crate) fn performance_now() -> f64;
}

// One request with the global `fetch`, its whole answer read, in JavaScript:
// awaiting `fetch` and each chunk of the body from Rust took an executor of
// futures and a state machine, about 3 KB of the gzipped `.wasm` against a few
// hundred bytes of JavaScript (see docs/decisions.md).
//
// `done` is called once, with `{status, headers, body}` (the headers as
// `[name, value]` pairs, the body a `Uint8Array` of at most `maxBody` bytes),
// `{error}` (`fetch` threw or rejected), `{bodyError}` (the body could not be
// read to its end) or `{tooLarge: true}` (a 2xx answer longer than
// `maxBody`: its `Content-Length` said so, and `controller` was aborted, or
// its body went past it, and the rest was not downloaded). Any other answer's
// body is cut at `maxBody`. The request is made and sent in a microtask, as a
// future spawned from the driver would.
#[wasm_bindgen(inline_js = r#"
const MAX_U64 = 18446744073709551615n;

export function fetchAll(url, method, headers, body, controller, maxBody, done) {
  Promise.resolve()
    .then(() => {
      const pairs = new Headers();
      for (let i = 0; i < headers.length; i += 2) pairs.append(headers[i], headers[i + 1]);
      const init = { method, headers: pairs };
      if (body !== undefined) init.body = body;
      if (controller) init.signal = controller.signal;
      return fetch(new Request(url, init));
    })
    .then(
      (response) => read(response, controller, maxBody).then(done, (error) => done({ bodyError: error })),
      (error) => done({ error }),
    );
}

async function read(response, controller, maxBody) {
  const status = response.status;
  const headers = [...response.headers];
  const mustRead = status >= 200 && status < 300;
  const length = headers.find(([name]) => name.toLowerCase() === "content-length");
  // As Rust reads a u64: trimmed of whitespace, digits with an optional `+`.
  const digits = length && length[1].replace(/^[\s\x85]+|[\s\x85]+$/g, "");
  if (mustRead && /^\+?[0-9]+$/.test(digits)) {
    const declared = BigInt(digits);
    if (declared <= MAX_U64 && declared > BigInt(maxBody)) {
      if (controller) controller.abort();
      return { tooLarge: true };
    }
  }
  const chunks = [];
  let total = 0;
  if (response.body) {
    const reader = response.body.getReader();
    for (;;) {
      const chunk = await reader.read();
      if (typeof chunk !== "object" || chunk === null || chunk.done !== false) break;
      const value = chunk.value;
      if (!(value instanceof Uint8Array)) return { bodyError: "a chunk was not bytes" };
      const room = maxBody - total;
      if (value.length > room) {
        // The rest is not wanted: stop the download (a stream that fails
        // to stop has nothing more to say).
        reader.cancel().catch(() => {});
        if (mustRead) return { tooLarge: true };
        chunks.push(value.subarray(0, room));
        total += room;
        break;
      }
      chunks.push(value);
      total += value.length;
    }
  }
  const all = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return { status, headers, body: all };
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = fetchAll)]
    fn fetch_all(
        url: &str,
        method: &str,
        headers: &Array,
        body: &JsValue,
        controller: &JsValue,
        max_body: f64,
        done: &JsValue,
    );
}

/// What a request brings back: the answer, or why there is none.
pub(crate) type Answer = Result<http::Response<bytes::Bytes>, TransportError>;

/// Sends `transmit` with `fetch`, reads the whole answer and hands it to
/// `then`; `controller` aborts the request.
///
/// The time limit is not kept here: the fleet's timer runs out, the fleet reports
/// the request as unanswered and asks for its abort, and the driver aborts the
/// controller. A 2xx answer that says it is longer than `max_body` is refused
/// before its body is read; any other body is read under the cap.
pub(crate) fn send(
    transmit: &Transmit,
    controller: Option<&AbortController>,
    max_body: usize,
    then: impl FnOnce(Answer) + 'static,
) {
    let headers = Array::new();
    for (name, value) in &transmit.headers {
        headers.push(&JsValue::from_str(name));
        headers.push(&JsValue::from_str(value));
    }
    let body = transmit
        .body
        .as_deref()
        .map_or(JsValue::UNDEFINED, JsValue::from_str);
    let controller = controller.map_or(JsValue::UNDEFINED, |controller| controller.into());
    let done = Closure::once_into_js(move |read: JsValue| then(answer(&read, max_body)));
    fetch_all(
        transmit.url.as_str(),
        transmit.method.as_str(),
        &headers,
        &body,
        &controller,
        max_body as f64,
        &done,
    );
}

/// The answer for what `fetchAll` read.
fn answer(read: &JsValue, max_body: usize) -> Answer {
    let field = |key: &str| Reflect::get(read, &JsValue::from_str(key)).unwrap_or_default();
    if field("tooLarge").is_truthy() {
        return Err(TransportError::BodyTooLarge(max_body));
    }
    let error = field("error");
    if !error.is_undefined() {
        return Err(failure(error));
    }
    let error = field("bodyError");
    if !error.is_undefined() {
        return Err(transport::body_failure(&message(&error)));
    }
    let status = field("status").as_f64().unwrap_or_default() as u16;
    let headers = field("headers")
        .dyn_into::<Array>()
        .map(|headers| header_pairs(&headers))
        .unwrap_or_default();
    let body = field("body")
        .dyn_into::<Uint8Array>()
        .map(|body| body.to_vec())
        .unwrap_or_default();
    transport::response(status, headers, body, max_body)
}

/// The headers of a response as name and value pairs.
fn header_pairs(entries: &Array) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for entry in entries.iter() {
        let entry: Array = entry.unchecked_into();
        if let (Some(name), Some(value)) = (entry.get(0).as_string(), entry.get(1).as_string()) {
            pairs.push((name, value));
        }
    }
    pairs
}

/// The transport error for a thrown JavaScript value.
fn failure(error: JsValue) -> TransportError {
    let name = text(&error, "name").unwrap_or_default();
    let cause = Reflect::get(&error, &JsValue::from_str("cause")).unwrap_or(JsValue::UNDEFINED);
    let code = if cause.is_object() {
        text(&cause, "code")
    } else {
        None
    };
    transport::fetch_failure(&name, &message(&error), code.as_deref())
}

/// `url` as the platform's URL parser reads it (the `URL` class that `fetch`
/// uses), against the page's address when there is one: a relative URL resolves
/// as `fetch` resolves it, and an international host name comes out in its
/// ASCII form, so the driver never needs Unicode tables of its own. A URL the
/// parser refuses comes back as given, for the driver to refuse with its reason.
pub(crate) fn href(url: &str) -> String {
    let global = js_sys::global();
    let base = Reflect::get(&global, &JsValue::from_str("location"))
        .ok()
        .and_then(|location| text(&location, "href"));
    let parsed = match &base {
        Some(base) => web_sys::Url::new_with_base(url, base),
        None => web_sys::Url::new(url),
    };
    parsed.map_or_else(|_| url.to_owned(), |parsed| parsed.href())
}

/// An error's message, or the value as text.
pub(crate) fn message(error: &JsValue) -> String {
    text(error, "message")
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "unknown error".to_owned())
}

/// A string property of a JavaScript object.
fn text(value: &JsValue, key: &str) -> Option<String> {
    if !value.is_object() {
        return None;
    }
    Reflect::get(value, &JsValue::from_str(key))
        .ok()
        .and_then(|value| value.as_string())
}

/// Calls `callback` once when `signal` aborts, or at once if it has (a recorded
/// job's signal).
#[cfg(feature = "record")]
pub(crate) fn on_abort(signal: &web_sys::AbortSignal, callback: impl FnOnce() + 'static) {
    if signal.aborted() {
        callback();
        return;
    }
    let listener = Closure::once_into_js(callback);
    let options = web_sys::AddEventListenerOptions::new();
    options.set_once(true);
    let _ = signal.add_event_listener_with_callback_and_add_event_listener_options(
        "abort",
        listener.unchecked_ref(),
        &options,
    );
}
