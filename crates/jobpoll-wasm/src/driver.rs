//! The fleet runner for JavaScript's event loop.
//!
//! One [`Driver`] owns a [`Fleet`], one `setTimeout` timer (re-armed to the
//! fleet's next wake-up, never one per job) and the `AbortController`s of the
//! requests in flight. Everything runs on the one JavaScript thread: a call from
//! JavaScript, an answer from `fetch` and the timer each feed the fleet, drain its
//! outputs and re-arm the timer. Callbacks into JavaScript (an event, a promise's
//! resolution) run only after the driver's state is released, so a callback may
//! call the driver again.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};
use std::sync::{self, Arc};

use jobpoll_core::event::CancelledBy;
use jobpoll_core::fleet::{Fleet, FleetConfig, FleetInput, FleetOutput, JobKey, Subscriber};
use jobpoll_core::{Config, Event, Input, Instant, JobSpec, Outcome, Profile, RequestId};
use js_sys::Function;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use web_sys::AbortController;

use crate::events::{EventStream, Taps};
use crate::fetch::{self, Answer};
use crate::pause::{PauseChange, PauseReason, PauseReasons};
use crate::timer::{Clock, Timer};

// Saving running jobs, the history and the results; restoring them.
#[path = "persist.rs"]
mod persist;
pub(crate) use persist::StorageChoice;

/// A subscription waiting for its outcome.
struct Waiter {
    /// The number `jobs.list()` shows.
    id: u32,
    /// The URL the caller gave.
    url: String,
    /// `wait` or `submit`.
    mode: &'static str,
    /// The last status the server reported.
    status: Option<String>,
    /// The promise's `resolve`.
    resolve: Function,
    /// The subscription's own event callback.
    on_event: Option<Function>,
    /// When the wait started (`Date.now()`, ms).
    started_at: f64,
    /// The caller's options when the wait is saved (see [`Subscription`]),
    /// held once for every wait given the same.
    saved: Option<Arc<serde_json::Value>>,
}

/// What to call in JavaScript once the driver's state is released.
enum Effect {
    /// Call `callback(value)`.
    Call { callback: Function, value: JsValue },
}

/// The driver's state.
struct State {
    fleet: Fleet<Arc<Profile>>,
    clock: Clock,
    /// The one timer, armed to the fleet's next wake-up (or sooner, when the
    /// storage lease is due for a refresh).
    timer: Timer,
    /// The fleet's next wake-up, as the last drain found it.
    wake_at: Option<Instant>,
    /// Requests in flight, by job and request id. A request absent from here when
    /// its answer comes was aborted; its answer is dropped.
    in_flight: HashMap<(JobKey, RequestId), Option<AbortController>>,
    waiting: HashMap<Subscriber, Waiter>,
    /// The event callback of every subscription.
    on_event: Option<Function>,
    /// The profiles and configurations of the running jobs, each held once:
    /// jobs that ask for equal ones share them.
    profiles: Vec<sync::Weak<Profile>>,
    configs: Vec<sync::Weak<Config>>,
    options: Vec<sync::Weak<serde_json::Value>>,
    next_id: u32,
    /// The open `jobs.events()` iterators.
    taps: Taps,
    /// Why the fleet is paused, if it is.
    pause: PauseReasons,
    /// What is saved, and where.
    store: persist::Store,
}

/// A fleet on the JavaScript event loop. Cloning it clones a handle to the same
/// fleet.
#[derive(Clone)]
pub(crate) struct Driver {
    state: Rc<RefCell<State>>,
}

/// A handle to a driver that does not keep it alive.
pub(crate) struct WeakDriver {
    state: Weak<RefCell<State>>,
}

impl WeakDriver {
    /// The driver, if it still exists.
    pub(crate) fn upgrade(&self) -> Option<Driver> {
        self.state.upgrade().map(|state| Driver { state })
    }
}

/// What [`Driver::add`] needs besides the job itself.
pub(crate) struct Subscription {
    /// The URL the caller gave.
    pub(crate) url: String,
    /// `wait` or `submit`.
    pub(crate) mode: &'static str,
    /// The promise's `resolve`.
    pub(crate) resolve: Function,
    /// The subscription's own event callback.
    pub(crate) on_event: Option<Function>,
    /// The caller's options (the JavaScript-only ones left out) when the wait
    /// is saved, to be restored after a reload (the job's spec and
    /// configuration are made again from them); `None` when it is not.
    pub(crate) saved: Option<Arc<serde_json::Value>>,
}

/// A running subscription, as `jobs.list()` shows it.
#[derive(Serialize)]
pub(crate) struct Listed {
    id: u32,
    url: String,
    mode: &'static str,
    status: Option<String>,
}

/// What `jobs.metrics()` shows, with the core's field names as outcomes and
/// events have them; the totals are the fleet's own, borrowed while they are
/// written out.
#[derive(Serialize)]
struct Metrics<'a> {
    totals: &'a jobpoll_core::fleet::FleetMetrics,
    running: usize,
    waiting: usize,
    in_flight: u32,
    throttled_origins: usize,
    paused: bool,
    /// Why: `"user"` (`jobs.pause()`), `"hidden"` (the page is hidden); empty
    /// when not paused.
    paused_by: Vec<&'static str>,
}

impl Driver {
    /// A driver whose clock starts now.
    pub(crate) fn new(config: FleetConfig, on_event: Option<Function>) -> Driver {
        let state = Rc::new(RefCell::new(State {
            fleet: Fleet::new(config),
            clock: Clock::start(),
            timer: Timer::default(),
            wake_at: None,
            in_flight: HashMap::new(),
            waiting: HashMap::new(),
            on_event,
            next_id: 1,
            taps: Taps::default(),
            pause: PauseReasons::default(),
            store: persist::Store::default(),
            profiles: Vec::new(),
            configs: Vec::new(),
            options: Vec::new(),
        }));
        let weak = Rc::downgrade(&state);
        let on_timer = Closure::<dyn FnMut()>::new(move || {
            if let Some(state) = weak.upgrade() {
                Driver { state }.timer_fired();
            }
        });
        state.borrow_mut().timer.set_callback(on_timer);
        Driver { state }
    }

    /// A handle that does not keep the driver alive.
    pub(crate) fn downgrade(&self) -> WeakDriver {
        WeakDriver {
            state: Rc::downgrade(&self.state),
        }
    }

    /// Subscribes to a job; the outcome goes to `subscription.resolve`.
    pub(crate) fn add(
        &self,
        mut spec: JobSpec<Arc<Profile>>,
        config: Config,
        subscription: Subscription,
    ) -> Result<Subscriber, String> {
        // The next id as stored: another page on the same storage may have
        // given ids this one has not seen.
        let stored_next = self.stored_next_id();
        self.step(|state| {
            let now = state.now();
            let codegen = persist::is_codegen(&spec.profile);
            spec.profile = shared(&mut state.profiles, spec.profile);
            let config = shared(&mut state.configs, Arc::new(config));
            let subscriber = state
                .fleet
                .add(spec, config, now)
                .map_err(|error| error.to_string())?;
            let id = state.next_id.max(stored_next);
            state.next_id = id.wrapping_add(1);
            state.waiting.insert(
                subscriber,
                Waiter {
                    id,
                    url: subscription.url,
                    mode: subscription.mode,
                    status: None,
                    resolve: subscription.resolve,
                    on_event: subscription.on_event,
                    started_at: js_sys::Date::now(),
                    saved: subscription
                        .saved
                        .map(|text| shared(&mut state.options, text)),
                },
            );
            state.track(subscriber, codegen);
            Ok(subscriber)
        })
    }

    /// The callback that is given every event of every job, if any.
    #[cfg_attr(not(feature = "record"), allow(dead_code))]
    pub(crate) fn on_event(&self) -> Option<Function> {
        self.state.borrow().on_event.clone()
    }

    /// A new number for a wait, from the sequence `jobs.list()` shows.
    #[cfg_attr(not(feature = "record"), allow(dead_code))]
    pub(crate) fn take_id(&self) -> u32 {
        let stored_next = self.stored_next_id();
        self.step(|state| {
            let id = state.next_id.max(stored_next);
            state.next_id = id.wrapping_add(1);
            state.store.id_taken();
            id
        })
    }

    /// Stops one subscription: its outcome is "cancelled"; when it was the job's
    /// last subscriber, the job stops and (if configured) the server is asked to
    /// cancel it.
    pub(crate) fn stop(&self, subscriber: Subscriber) {
        self.step(|state| {
            if state.waiting.contains_key(&subscriber) {
                let now = state.now();
                let _ = state
                    .fleet
                    .handle_input(FleetInput::Stop { subscriber, now });
            }
        });
    }

    /// Stops every job.
    pub(crate) fn stop_all(&self) {
        self.step(|state| {
            let now = state.now();
            let _ = state.fleet.handle_input(FleetInput::StopAll { now });
        });
    }

    /// Holds every request back until [`Driver::resume`].
    pub(crate) fn pause(&self) {
        self.set_paused(PauseReason::User, true);
    }

    /// Lets the requests held back by [`Driver::pause`] go, unless another
    /// reason (a hidden page) still holds them.
    pub(crate) fn resume(&self) {
        self.set_paused(PauseReason::User, false);
    }

    /// Sets whether `reason` holds; the fleet is paused while any reason holds,
    /// and what fell due goes out as soon as none does.
    pub(crate) fn set_paused(&self, reason: PauseReason, holds: bool) {
        self.step(|state| match state.pause.set(reason, holds) {
            Some(PauseChange::Pause) => state.fleet.pause(),
            Some(PauseChange::Resume) => {
                let now = state.now();
                state.fleet.resume(now);
            }
            None => {}
        });
    }

    /// Whether `reason` holds the fleet paused.
    pub(crate) fn is_paused_for(&self, reason: PauseReason) -> bool {
        self.state.borrow().pause.holds(reason)
    }

    /// The number `jobs.list()` shows for `subscriber`, while it waits.
    pub(crate) fn id_of(&self, subscriber: Subscriber) -> Option<u32> {
        self.state
            .borrow()
            .waiting
            .get(&subscriber)
            .map(|waiter| waiter.id)
    }

    /// Stops the subscription `jobs.list()` shows as `id`, as [`Driver::stop`]
    /// does; false when none waits under that id.
    pub(crate) fn stop_id(&self, id: u32) -> bool {
        let subscriber = self
            .state
            .borrow()
            .waiting
            .iter()
            .find(|(_, waiter)| waiter.id == id)
            .map(|(subscriber, _)| *subscriber);
        match subscriber {
            Some(subscriber) => {
                self.stop(subscriber);
                true
            }
            None => false,
        }
    }

    /// A new iterator of the events of subscription `id`, or of every one,
    /// keeping at most `limit` unread; see [`crate::events`].
    pub(crate) fn events(&self, id: Option<u32>, limit: u32) -> EventStream {
        let mut state = self.state.borrow_mut();
        let running = id.is_some_and(|id| state.waiting.values().any(|waiter| waiter.id == id));
        state.taps.open(id, limit, running)
    }

    /// The subscriptions waiting for their outcome, oldest first.
    pub(crate) fn list(&self) -> Vec<Listed> {
        let state = self.state.borrow();
        let mut listed: Vec<Listed> = state
            .waiting
            .values()
            .map(|waiter| Listed {
                id: waiter.id,
                url: waiter.url.clone(),
                mode: waiter.mode,
                status: waiter.status.clone(),
            })
            .collect();
        // Ids are unique: an unstable sort gives the same order.
        listed.sort_unstable_by_key(|listed| listed.id);
        listed
    }

    /// Counts over the fleet's life and what it does now, as a plain
    /// JavaScript object.
    pub(crate) fn metrics(&self) -> JsValue {
        let state = self.state.borrow();
        plain(&Metrics {
            totals: state.fleet.metrics(),
            running: state.fleet.len(),
            waiting: state.waiting.len(),
            in_flight: state.fleet.in_flight(),
            throttled_origins: state.fleet.throttled_origins(),
            paused: state.fleet.is_paused(),
            paused_by: state.pause.names(),
        })
    }

    /// Runs `change` on the state, drains the fleet, re-arms the timer, then
    /// makes the calls into JavaScript the outputs asked for.
    fn step<R>(&self, change: impl FnOnce(&mut State) -> R) -> R {
        let mut change = Some(change);
        let mut result = None;
        self.run(&mut |state| result = change.take().map(|change| change(state)));
        result.expect("run calls its change once")
    }

    /// [`Driver::step`] itself, made once for every kind of change rather than
    /// once for each.
    fn run(&self, change: &mut dyn FnMut(&mut State)) {
        let (mut effects, writes) = {
            let mut state = self.state.borrow_mut();
            change(&mut state);
            let mut effects = state.drain(&Rc::downgrade(&self.state));
            let writes = state.save(&mut effects);
            state.arm_timer();
            (effects, writes)
        };
        self.flush(writes, &mut effects);
        for Effect::Call { callback, value } in effects {
            // An exception in a callback is the caller's; the driver goes on.
            let _ = callback.call1(&JsValue::UNDEFINED, &value);
        }
    }

    fn timer_fired(&self) {
        self.step(|state| {
            let now = state.now();
            let now = state.timer.fired(now);
            let _ = state.fleet.handle_input(FleetInput::Tick { now });
        });
    }

    /// Feeds the answer of a request, unless it was aborted meanwhile.
    fn answer(&self, job: JobKey, id: RequestId, answer: Answer) {
        self.step(|state| {
            if state.in_flight.remove(&(job, id)).is_none() {
                return;
            }
            let now = state.now();
            state.store.changed(job);
            let input = Input::answer(id, answer, now);
            if let Some(input) = FleetInput::answer(job, input) {
                // Refused only when an answer races the job's end.
                let _ = state.fleet.handle_input(input);
            }
        });
    }
}

impl State {
    /// The core's time now: whole microseconds since the epoch.
    fn now(&self) -> Instant {
        self.clock.now()
    }

    /// Acts on everything the fleet asks for and re-arms the timer; returns the
    /// calls into JavaScript to make.
    fn drain(&mut self, weak: &Weak<RefCell<State>>) -> Vec<Effect> {
        let mut effects = Vec::new();
        let wake_at = loop {
            match self.fleet.poll_output() {
                FleetOutput::Transmit { job, transmit } => {
                    // A create on its way must be on record before it can reach
                    // the server: a reload then never sends it twice.
                    if transmit.purpose == jobpoll_core::Purpose::Submit {
                        self.store.changed(job);
                    }
                    self.send(job, transmit, weak);
                }
                FleetOutput::Abort { job, request } => {
                    if let Some(Some(controller)) = self.in_flight.remove(&(job, request)) {
                        controller.abort();
                    }
                }
                FleetOutput::Event { subscriber, event } => {
                    self.event(subscriber, &event, &mut effects);
                }
                FleetOutput::Finished {
                    subscriber,
                    outcome,
                } => {
                    if let Some(waiter) = self.waiting.remove(&subscriber) {
                        self.taps.finish(waiter.id);
                        self.finished(subscriber, &waiter, &outcome);
                        effects.push(Effect::Call {
                            callback: waiter.resolve,
                            value: outcome_value(&outcome),
                        });
                    }
                }
                FleetOutput::WakeAt(at) => break Some(at),
                FleetOutput::Idle => break None,
            }
        };
        self.wake_at = wake_at;
        effects
    }

    /// Arms the timer for the fleet's next wake-up, or for the storage lease's
    /// refresh when that comes first: one timer for both.
    fn arm_timer(&mut self) {
        let now = self.now();
        let at = match (self.wake_at, self.store.lease_due()) {
            (Some(fleet), Some(lease)) => Some(fleet.min(lease)),
            (fleet, lease) => fleet.or(lease),
        };
        self.timer.arm(at, now);
    }

    /// Starts a request; its answer comes back through [`Driver::answer`].
    fn send(&mut self, job: JobKey, transmit: jobpoll_core::Transmit, weak: &Weak<RefCell<State>>) {
        let id = transmit.id;
        let max_body = self.fleet.job(job).map_or_else(
            || Config::standard().max_body_bytes,
            |job| job.config().max_body_bytes,
        );
        // Without an AbortController (no runtime lacks one today) the request
        // cannot be aborted; its answer is still fed in, or dropped if the fleet
        // gave up on it meanwhile.
        let controller = AbortController::new().ok();
        self.in_flight.insert((job, id), controller.clone());
        let weak = weak.clone();
        fetch::send(&transmit, controller.as_ref(), max_body, move |answer| {
            if let Some(state) = weak.upgrade() {
                Driver { state }.answer(job, id, answer);
            }
        });
    }

    /// Passes an event to the callbacks that want it.
    fn event(&mut self, subscriber: Subscriber, event: &Event, effects: &mut Vec<Effect>) {
        let Some(waiter) = self.waiting.get_mut(&subscriber) else {
            return;
        };
        if let Event::StatusChanged { to, .. } = event {
            waiter.status = Some(to.clone());
        } else if let Event::Progress(progress) = event {
            waiter.status = Some(progress.status.clone());
        }
        let tapped = self.taps.wants(waiter.id);
        if waiter.on_event.is_none() && self.on_event.is_none() && !tapped {
            return;
        }
        let value = event_value(event, waiter.id, &waiter.url);
        if tapped {
            self.taps.push(waiter.id, &value);
        }
        for callback in [&waiter.on_event, &self.on_event].into_iter().flatten() {
            effects.push(Effect::Call {
                callback: callback.clone(),
                value: value.clone(),
            });
        }
    }
}

impl Drop for State {
    /// The `Jobs` is freed: its requests are aborted, and every wait still
    /// running resolves as cancelled by this side with no cancel request sent
    /// (the job may still run on the server), its signal's listener removed on
    /// the way, rather than leaving its Promise pending for ever.
    fn drop(&mut self) {
        for controller in self.in_flight.values().flatten() {
            controller.abort();
        }
        for (subscriber, waiter) in &self.waiting {
            let Some(job) = self.fleet.job(subscriber.job()) else {
                continue;
            };
            let outcome = Outcome::Cancelled {
                by: CancelledBy::Client {
                    server_confirmed: None,
                },
                stats: job.stats(),
            };
            let _ = waiter
                .resolve
                .call1(&JsValue::UNDEFINED, &outcome_value(&outcome));
        }
    }
}

/// `value`, or an equal value already held by a running job: a profile, a
/// configuration or a wait's saved options is tens to hundreds of bytes, held
/// once for every job that uses it. `known` keeps the values in use weakly, and
/// forgets those no job holds.
fn shared<T: PartialEq>(known: &mut Vec<sync::Weak<T>>, value: Arc<T>) -> Arc<T> {
    known.retain(|held| held.strong_count() > 0);
    if let Some(equal) = known
        .iter()
        .filter_map(sync::Weak::upgrade)
        .find(|held| **held == *value)
    {
        return equal;
    }
    known.push(Arc::downgrade(&value));
    value
}

/// A value as a plain JavaScript object (maps as objects, numbers as numbers),
/// written as JSON text and parsed by JavaScript: the one way values go to
/// JavaScript (through a `serde_json::Value` or `serde-wasm-bindgen`, each type
/// would be serialized by more code).
pub(crate) fn plain(value: &impl Serialize) -> JsValue {
    serde_json::to_string(value)
        .ok()
        .and_then(|text| js_sys::JSON::parse(&text).ok())
        .unwrap_or(JsValue::NULL)
}

/// An outcome as JavaScript sees it: the core's fields, `ok`, and `summary`, the
/// sentence a person reads.
pub(crate) fn outcome_value(outcome: &Outcome) -> JsValue {
    let value = plain(outcome);
    set(&value, "ok", outcome.is_success().into());
    set(&value, "summary", outcome.to_string().into());
    value
}

/// An event as JavaScript sees it: the core's fields, `id` and `url` of the
/// subscription, and `summary`, the line a person reads.
pub(crate) fn event_value(event: &Event, id: u32, url: &str) -> JsValue {
    let value = plain(event);
    set(&value, "id", id.into());
    set(&value, "url", url.into());
    set(&value, "summary", event.to_string().into());
    value
}

/// Sets `object[key]`, when `object` is an object.
fn set(object: &JsValue, key: &str, value: JsValue) {
    if object.is_object() {
        let _ = js_sys::Reflect::set(object, &JsValue::from_str(key), &value);
    }
}
