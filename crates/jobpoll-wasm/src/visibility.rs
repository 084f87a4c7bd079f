//! Pausing while the page is hidden: `new Jobs({pauseWhenHidden})`, on by
//! default.
//!
//! Where `globalThis.document` exists, its `visibilitychange` pauses the fleet
//! when the page is hidden and resumes it as soon as it is visible (what fell
//! due meanwhile goes out at once). A sign of the user (`pointerdown`,
//! `keydown`, `focus`) resumes it too. This pause is the `hidden` reason of
//! [`PauseReasons`](crate::pause::PauseReasons), apart from the caller's own
//! `pause()`, which neither visibility nor activity undoes.
//!
//! The window's `pagehide`, when the page is not kept in the back-forward
//! cache, gives the page's lease on its saved jobs up (see [`crate::tabs`]): a
//! page opened next takes them at once.
//!
//! The listeners hold the driver weakly and are removed when the [`Watch`] is
//! dropped, which happens when the `Jobs` is freed. Without a document (Node, a
//! worker) nothing is watched.

use js_sys::Reflect;
use wasm_bindgen::JsCast as _;
use wasm_bindgen::prelude::*;
use web_sys::{AddEventListenerOptions, EventListenerOptions, EventTarget};

use crate::driver::Driver;
use crate::pause::PauseReason;

/// The events on the document, and whether each is listened to in the capture
/// phase (a sign of the user counts even when the page stops its propagation).
const DOCUMENT_EVENTS: [(&str, bool); 4] = [
    ("visibilitychange", false),
    ("pointerdown", true),
    ("keydown", true),
    ("focus", true),
];

/// The events on the window: the user's `focus`, and `pagehide`.
const WINDOW_EVENTS: [&str; 2] = ["focus", "pagehide"];

/// Listeners on the document and the window, removed on drop.
pub(crate) struct Watch {
    document: EventTarget,
    window: Option<EventTarget>,
    listener: Closure<dyn FnMut(JsValue)>,
}

/// Starts watching the page for `driver`, if there is a page: pauses at once
/// when it is hidden already.
pub(crate) fn watch(driver: &Driver) -> Option<Watch> {
    let global = js_sys::global();
    let document: EventTarget = Reflect::get(&global, &JsValue::from_str("document"))
        .ok()?
        .dyn_into()
        .ok()?;
    let window = global
        .dyn_into::<EventTarget>()
        .ok()
        .filter(|window| !JsValue::from(window).loose_eq(&document));
    let weak = driver.downgrade();
    let page = document.clone();
    let listener = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
        let Some(driver) = weak.upgrade() else {
            return;
        };
        let kind = Reflect::get(&event, &JsValue::from_str("type"))
            .ok()
            .and_then(|kind| kind.as_string())
            .unwrap_or_default();
        if kind == "visibilitychange" {
            driver.set_paused(PauseReason::Hidden, is_hidden(&page));
        } else if kind == "pagehide" {
            let kept = Reflect::get(&event, &JsValue::from_str("persisted"))
                .ok()
                .is_some_and(|persisted| persisted.is_truthy());
            if !kept {
                driver.leave();
            }
        } else if driver.is_paused_for(PauseReason::Hidden) {
            // The user is here: the page is in use whatever it reports.
            driver.set_paused(PauseReason::Hidden, false);
        }
    });
    let callback = listener.as_ref().unchecked_ref();
    for (kind, capture) in DOCUMENT_EVENTS {
        let options = AddEventListenerOptions::new();
        options.set_capture(capture);
        options.set_passive(true);
        let _ = document.add_event_listener_with_callback_and_add_event_listener_options(
            kind, callback, &options,
        );
    }
    if let Some(window) = &window {
        for kind in WINDOW_EVENTS {
            let _ = window.add_event_listener_with_callback(kind, callback);
        }
    }
    if is_hidden(&document) {
        driver.set_paused(PauseReason::Hidden, true);
    }
    Some(Watch {
        document,
        window,
        listener,
    })
}

/// Whether `document.visibilityState` says `hidden`.
fn is_hidden(document: &EventTarget) -> bool {
    Reflect::get(document, &JsValue::from_str("visibilityState"))
        .ok()
        .and_then(|state| state.as_string())
        .is_some_and(|state| state == "hidden")
}

impl Drop for Watch {
    fn drop(&mut self) {
        let callback = self.listener.as_ref().unchecked_ref();
        for (kind, capture) in DOCUMENT_EVENTS {
            // An options object, not a bare boolean: Node's EventTarget reads
            // `capture` only from an object when removing.
            let options = EventListenerOptions::new();
            options.set_capture(capture);
            let _ = self
                .document
                .remove_event_listener_with_callback_and_event_listener_options(
                    kind, callback, &options,
                );
        }
        if let Some(window) = &self.window {
            for kind in WINDOW_EVENTS {
                let _ = window.remove_event_listener_with_callback(kind, callback);
            }
        }
    }
}
