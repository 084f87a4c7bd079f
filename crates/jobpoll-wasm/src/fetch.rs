//! One request through `fetch`, and the JavaScript globals the driver uses.
//!
//! The globals are imported by name (`fetch`, `setTimeout`, `clearTimeout`,
//! `performance.now`), not through `window`, so the driver runs in a page, a
//! worker and Node alike.

use bytes::Bytes;
use jobpoll_core::{Transmit, TransportError};
use js_sys::{Array, Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::JsCast as _;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, Headers, ReadableStreamDefaultReader, Request, RequestInit, Response,
};

use crate::transport;

#[wasm_bindgen]
extern "C" {
    /// The global `fetch`.
    #[wasm_bindgen(js_name = fetch)]
    fn fetch_request(request: &Request) -> Promise;

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

/// What a request brings back: the answer, or why there is none.
pub(crate) type Answer = Result<http::Response<Bytes>, TransportError>;

/// Sends `transmit` with `fetch` and reads the whole answer; `controller` aborts it.
///
/// The time limit is not kept here: the fleet's timer runs out, the fleet reports
/// the request as unanswered and asks for its abort, and the driver aborts the
/// controller. A 2xx answer that says it is longer than `max_body` is refused
/// before its body is read; any other body is read under the cap.
pub(crate) async fn send(
    transmit: Transmit,
    controller: Option<AbortController>,
    max_body: usize,
) -> Answer {
    let request = build(&transmit, controller.as_ref()).map_err(failure)?;
    let response: Response = JsFuture::from(fetch_request(&request))
        .await
        .map_err(failure)?
        .unchecked_into();
    let status = response.status();
    let headers = header_pairs(&response.headers());
    let length = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .map(|(_, value)| value.as_str());
    if transport::too_large(status, length, max_body) {
        if let Some(controller) = &controller {
            controller.abort();
        }
        return Err(TransportError::BodyTooLarge(max_body));
    }
    let body = read_body(&response, max_body, (200..300).contains(&status)).await?;
    transport::response(status, headers, body, max_body)
}

/// Reads the body chunk by chunk, never holding more than `max_body` bytes. Past
/// the cap: [`TransportError::BodyTooLarge`] when `must_read`, else the body cut
/// at the cap. Either way the rest is not downloaded.
async fn read_body(
    response: &Response,
    max_body: usize,
    must_read: bool,
) -> Result<Vec<u8>, TransportError> {
    let Some(stream) = response.body() else {
        return Ok(Vec::new());
    };
    let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut body = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|error| transport::body_failure(&message(&error)))?;
        if Reflect::get(&chunk, &JsValue::from_str("done"))
            .ok()
            .and_then(|done| done.as_bool())
            .unwrap_or(true)
        {
            return Ok(body);
        }
        let value: Uint8Array = Reflect::get(&chunk, &JsValue::from_str("value"))
            .unwrap_or(JsValue::UNDEFINED)
            .dyn_into()
            .map_err(|_| transport::body_failure("a chunk was not bytes"))?;
        let room = max_body - body.len();
        let length = value.length() as usize;
        if length > room {
            // The rest is not wanted: stop the download.
            let _ = reader.cancel();
            if must_read {
                return Err(TransportError::BodyTooLarge(max_body));
            }
            let room = u32::try_from(room).unwrap_or(u32::MAX);
            body.extend(value.subarray(0, room).to_vec());
            return Ok(body);
        }
        let start = body.len();
        body.resize(start + length, 0);
        value.copy_to(&mut body[start..]);
    }
}

/// The `Request` for `transmit`, aborted by `controller`.
fn build(transmit: &Transmit, controller: Option<&AbortController>) -> Result<Request, JsValue> {
    let init = RequestInit::new();
    init.set_method(transmit.method.as_str());
    let headers = Headers::new()?;
    for (name, value) in &transmit.headers {
        headers.append(name, value)?;
    }
    init.set_headers(&headers);
    if let Some(body) = &transmit.body {
        init.set_body(&JsValue::from_str(body));
    }
    if let Some(controller) = controller {
        init.set_signal(Some(&controller.signal()));
    }
    Request::new_with_str_and_init(transmit.url.as_str(), &init)
}

/// The headers of a response as name and value pairs.
fn header_pairs(headers: &Headers) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    if let Ok(Some(entries)) = js_sys::try_iter(headers) {
        for entry in entries.flatten() {
            let entry: Array = entry.unchecked_into();
            if let (Some(name), Some(value)) = (entry.get(0).as_string(), entry.get(1).as_string())
            {
                pairs.push((name, value));
            }
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
