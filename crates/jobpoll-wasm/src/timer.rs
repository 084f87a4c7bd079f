//! Time on JavaScript's event loop: the core's clock on `performance.now()`, and
//! one `setTimeout` timer re-armed to the next wake-up.

use jobpoll_core::Instant;
use wasm_bindgen::JsCast as _;
use wasm_bindgen::prelude::*;

use crate::fetch;

/// The longest delay `setTimeout` takes; a longer one would fire at once. The
/// timer then fires early, and the core simply asks for the rest of the wait.
const MAX_TIMER_MS: f64 = 2_147_483_647.0;

/// The core's clock: whole microseconds since it started.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    /// `performance.now()` at the start: the core's time zero.
    epoch: f64,
}

impl Clock {
    /// A clock whose time zero is now.
    pub(crate) fn start() -> Clock {
        Clock {
            epoch: fetch::performance_now(),
        }
    }

    /// The core's time now.
    pub(crate) fn now(&self) -> Instant {
        let millis = (fetch::performance_now() - self.epoch).max(0.0);
        Instant::from_micros((millis * 1000.0) as u64)
    }
}

/// One `setTimeout` timer: armed for one instant at a time, cleared when
/// re-armed for another or dropped.
#[derive(Default)]
pub(crate) struct Timer {
    /// The armed timer's handle and the instant it is for.
    armed: Option<(JsValue, Instant)>,
    /// What runs when it fires, made once and reused for every arming.
    callback: Option<Closure<dyn FnMut()>>,
}

impl Timer {
    /// Sets what runs when the timer fires (made after its owner exists, since
    /// it holds a weak handle to the owner).
    pub(crate) fn set_callback(&mut self, callback: Closure<dyn FnMut()>) {
        self.callback = Some(callback);
    }

    /// Arms the timer for `at` (`now` being the time now), or disarms it.
    pub(crate) fn arm(&mut self, at: Option<Instant>, now: Instant) {
        if self.armed.as_ref().map(|(_, armed)| *armed) == at {
            return;
        }
        if let Some((handle, _)) = self.armed.take() {
            fetch::clear_timeout(&handle);
        }
        let (Some(at), Some(callback)) = (at, self.callback.as_ref()) else {
            return;
        };
        let wait_ms = (at.saturating_duration_since(now).as_micros() as f64 / 1000.0).ceil();
        let handle =
            fetch::set_timeout(callback.as_ref().unchecked_ref(), wait_ms.min(MAX_TIMER_MS));
        self.armed = Some((handle, at));
    }

    /// The time to tell the core when the timer fired at `now`: never earlier
    /// than the instant it was armed for, since a timer may fire a little early.
    pub(crate) fn fired(&mut self, now: Instant) -> Instant {
        match self.armed.take() {
            Some((_, at)) => now.max(at),
            None => now,
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let Some((handle, _)) = self.armed.take() {
            fetch::clear_timeout(&handle);
        }
    }
}
