//! The recorded job itself: a `RecordingJob` on its own timer, its requests
//! through `fetch`.

use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::sync::Arc;

use jobpoll_core::trace::{RecordingJob, Redactor, to_json_lines};
use jobpoll_core::{Config, Input, JobSpec, Outcome, Output, Profile, RequestId};
use js_sys::{Function, Object, Reflect};
use wasm_bindgen::prelude::*;
use web_sys::{AbortController, AbortSignal};

use crate::driver::{self, Driver, Subscription};
use crate::fetch::{self, Answer};
use crate::timer::{Clock, Timer};

/// A recorded job while it runs.
struct Solo {
    /// With the fleet's profile type, so that the job's code is the fleet's
    /// jobs' (one copy in the package); its trace reads as a plain profile's.
    job: RecordingJob<Arc<Profile>>,
    clock: Clock,
    timer: Timer,
    /// The request in flight and the controller that aborts it.
    in_flight: Option<(RequestId, Option<AbortController>)>,
    /// The number the job's events carry.
    id: u32,
    /// The URL the caller gave.
    url: String,
    /// The promise's `resolve`; taken when the job is over.
    resolve: Option<Function>,
    /// The callbacks that get the job's events.
    on_event: Vec<Function>,
    outcome: Option<Outcome>,
    /// The job itself while it runs: nothing else holds it (the timer, the
    /// requests and the signal hold it weakly). Taken when the job is over.
    alive: Option<Rc<RefCell<Solo>>>,
}

/// Starts `spec` alone, recording; the outcome, with `trace`, goes to
/// `subscription.resolve`.
pub(super) fn start(
    driver: &Driver,
    spec: JobSpec<Arc<Profile>>,
    config: Config,
    subscription: Subscription,
    signal: Option<AbortSignal>,
) -> Result<u32, JsValue> {
    let redactor = Redactor::default().with_header_secrets(&spec.headers);
    let clock = Clock::start();
    let job = RecordingJob::new(spec, config, clock.now(), redactor)
        .map_err(|error| crate::errors::jobpoll(&error.to_string()))?;
    let on_event = [subscription.on_event, driver.on_event()]
        .into_iter()
        .flatten()
        .collect();
    let id = driver.take_id();
    let state = Rc::new(RefCell::new(Solo {
        job,
        clock,
        timer: Timer::default(),
        in_flight: None,
        id,
        url: subscription.url,
        resolve: Some(subscription.resolve),
        on_event,
        outcome: None,
        alive: None,
    }));
    let weak = Rc::downgrade(&state);
    let on_timer = Closure::<dyn FnMut()>::new(move || {
        step(&weak, |solo| {
            let now = solo.clock.now();
            let now = solo.timer.fired(now);
            Some(Input::Tick { now })
        });
    });
    {
        let mut solo = state.borrow_mut();
        solo.timer.set_callback(on_timer);
        solo.alive = Some(Rc::clone(&state));
    }
    if let Some(signal) = signal {
        stop_on_abort(&signal, Rc::downgrade(&state));
    }
    step(&Rc::downgrade(&state), |_| None);
    Ok(id)
}

/// Feeds the input `change` makes (if any), acts on the job's outputs, then
/// calls into JavaScript once the state is released.
fn step(weak: &Weak<RefCell<Solo>>, change: impl FnOnce(&mut Solo) -> Option<Input>) {
    let Some(state) = weak.upgrade() else { return };
    let calls = {
        let mut solo = state.borrow_mut();
        if solo.resolve.is_none() {
            // Over.
            return;
        }
        if let Some(input) = change(&mut solo) {
            // Refused only when an answer races the job's own abort; the refusal
            // is recorded and replays the same.
            let _ = solo.job.handle_input(input);
        }
        solo.drain(weak)
    };
    for (callback, value) in calls {
        // An exception in a callback is the caller's; the job goes on.
        let _ = callback.call1(&JsValue::UNDEFINED, &value);
    }
}

impl Solo {
    /// Acts on every output until the job says when to wake it, or that it is
    /// over; returns the calls into JavaScript to make.
    fn drain(&mut self, weak: &Weak<RefCell<Solo>>) -> Vec<(Function, JsValue)> {
        let mut calls = Vec::new();
        loop {
            match self.job.poll_output() {
                Output::Transmit(transmit) => self.send(transmit, weak),
                Output::Abort(id) => {
                    if let Some((_, Some(controller))) =
                        self.in_flight.take_if(|(request, _)| *request == id)
                    {
                        controller.abort();
                    }
                }
                Output::Event(event) => {
                    if !self.on_event.is_empty() {
                        let value = driver::event_value(&event, self.id, &self.url);
                        for callback in &self.on_event {
                            calls.push((callback.clone(), value.clone()));
                        }
                    }
                }
                Output::Finished(outcome) => self.outcome = Some(outcome),
                Output::WakeAt(at) => {
                    let now = self.clock.now();
                    self.timer.arm(Some(at), now);
                    return calls;
                }
                Output::Done => {
                    let now = self.clock.now();
                    self.timer.arm(None, now);
                    if let Some(resolve) = self.resolve.take() {
                        calls.push((resolve, self.result()));
                    }
                    // Released once the caller's step is over.
                    self.alive = None;
                    return calls;
                }
            }
        }
    }

    /// Starts a request; its answer comes back as the job's next input.
    fn send(&mut self, transmit: jobpoll_core::Transmit, weak: &Weak<RefCell<Solo>>) {
        let id = transmit.id;
        let max_body = self.job.job().config().max_body_bytes;
        let controller = AbortController::new().ok();
        self.in_flight = Some((id, controller.clone()));
        let weak = weak.clone();
        fetch::send(
            &transmit,
            controller.as_ref(),
            max_body,
            move |answer: Answer| {
                step(&weak, |solo| {
                    // An aborted request's answer is dropped, as the fleet's driver does.
                    solo.in_flight.take_if(|(request, _)| *request == id)?;
                    Some(Input::answer(id, answer, solo.clock.now()))
                });
            },
        );
    }

    /// The outcome as JavaScript sees it, with `trace`.
    fn result(&self) -> JsValue {
        let value = match &self.outcome {
            Some(outcome) => driver::outcome_value(outcome),
            None => {
                let object = Object::new();
                let _ = Reflect::set(&object, &"ok".into(), &JsValue::FALSE);
                let summary = "the job ended without an outcome";
                let _ = Reflect::set(&object, &"summary".into(), &summary.into());
                object.into()
            }
        };
        let trace = to_json_lines(self.job.records());
        let _ = Reflect::set(&value, &"trace".into(), &trace.into());
        value
    }
}

/// Cancels the job when `signal` aborts (at once if it has).
fn stop_on_abort(signal: &AbortSignal, weak: Weak<RefCell<Solo>>) {
    let cancel = move || {
        step(&weak, |solo| {
            Some(Input::Cancel {
                now: solo.clock.now(),
            })
        })
    };
    fetch::on_abort(signal, cancel);
}
