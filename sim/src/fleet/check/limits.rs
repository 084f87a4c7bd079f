//! Requests in flight, the fleet's limits, pauses and holds: what the fleet may
//! send and when (the global and per-origin limits, a paused fleet or origin, an
//! origin held back by a rate-limit answer, a due request let out once nothing
//! holds it), and its own counts of what is out and of each origin's hold.

use std::time::Duration;

use jobpoll_core::hints::{HintSource, ServerHint, read_hints};
use jobpoll_core::{Input, Instant, Output, Purpose, RequestId, Transmit};

use super::{FleetChecker, FleetViolation};

impl FleetChecker {
    /// The simulator paused the whole fleet.
    pub fn paused(&mut self) {
        self.paused = true;
    }

    /// The simulator resumed the whole fleet.
    pub fn resumed(&mut self) {
        self.paused = false;
    }

    /// The simulator paused one origin.
    pub fn origin_paused(&mut self, origin: usize) {
        if let Some(o) = self.origins.get_mut(origin) {
            o.paused = true;
        }
    }

    /// The simulator resumed one origin.
    pub fn origin_resumed(&mut self, origin: usize) {
        if let Some(o) = self.origins.get_mut(origin) {
            o.paused = false;
        }
    }

    /// The simulator delivers the answer to a request of `job` (as the server sent
    /// it: before any sabotage) at `now`. A hint in it holds back the job's whole
    /// origin from `now` on, as far as the job's cap allows.
    pub fn delivered(
        &mut self,
        job: usize,
        input: &Input,
        now: Instant,
    ) -> Result<(), FleetViolation> {
        let request = match input {
            Input::Response { request, .. } | Input::TransportError { request, .. } => *request,
            Input::Tick { .. } | Input::Cancel { .. } => {
                return Err(self.violation(
                    now,
                    Some(job),
                    None,
                    "the simulator delivers answers",
                    "delivered a tick or a cancel as an answer".to_owned(),
                ));
            }
        };
        let origin = self.land(
            job,
            request,
            now,
            "the simulator delivers answers to requests in flight",
        )?;
        let max_hint = self.jobs[job].max_hint;
        let o = &mut self.origins[origin];
        // Only a rate limit binds the whole origin, and only the one this answer
        // states: a wait on a 429 or 503, or an exhausted `RateLimit` budget on
        // any answer (a `Retry-After` on a 2xx is one job's).
        if let Input::Response { response, .. } = input
            && let Some(hint) = rate_limit_wait(response, max_hint)
        {
            let until = now + hint.delay;
            // The answer that starts a hold sets the bound on the pace after it.
            if until > now && o.hint_until <= now {
                o.pace_bound = hint.delay;
            }
            if until > o.hint_until {
                o.hint_until = until;
                o.hint_reason = format!(
                    "a {} to job {job} at {now} asked {} to wait {:?} ({:?})",
                    response.status().as_u16(),
                    o.name,
                    hint.delay,
                    hint.source
                );
            }
        }
        self.touched_origins.insert(origin);
        self.per_job.on_answer(job, input, now);
        Ok(())
    }

    /// Whether `job` has a request in flight.
    pub fn in_flight(&self, job: usize) -> bool {
        self.jobs.get(job).is_some_and(|j| j.in_flight.is_some())
    }

    /// `job` has had a request due since `due` and, at `now` (with no fleet timer
    /// left to fire at `now`), has not sent it: something must hold it back (a
    /// pause, a hint, a limit). The fleet releases what the limits allow.
    pub fn held(&self, job: usize, due: Instant, now: Instant) -> Result<(), FleetViolation> {
        let Some(watch) = self.jobs.get(job) else {
            return Ok(());
        };
        let o = &self.origins[watch.origin];
        // After a hold the fleet lets the origin's requests out a gap apart, and
        // the gap is never longer than the wait that started the hold.
        let paced = now < o.last_sent + o.pace_bound;
        let free = !self.paused
            && !o.paused
            && now >= o.hint_until
            && !paced
            && self.in_flight < self.limits.max_in_flight
            && o.in_flight < self.limits.max_in_flight_per_origin;
        if free {
            return Err(self.violation(
                now,
                Some(job),
                None,
                "a due request goes out while nothing holds it back",
                format!(
                    "due since {due}, not paused, not throttled, not paced, {} of {} in flight ({} of {} to {})",
                    self.in_flight,
                    self.limits.max_in_flight,
                    o.in_flight,
                    self.limits.max_in_flight_per_origin,
                    o.name
                ),
            ));
        }
        Ok(())
    }

    /// Until when hints hold back `origin`.
    pub fn throttled_until(&self, origin: usize) -> Option<Instant> {
        self.origins.get(origin).map(|o| o.hint_until)
    }

    /// The fleet sent `transmit` for `job` at `now`.
    pub fn transmitted(
        &mut self,
        job: usize,
        transmit: &Transmit,
        now: Instant,
    ) -> Result<(), FleetViolation> {
        let watch = self.job(job, now)?;
        let fail = |checker: &FleetChecker, invariant: &str, detail: String| {
            Err(checker.violation(now, Some(job), None, invariant, detail))
        };
        let what = format!("{} {:?} {}", transmit.id, transmit.purpose, transmit.url);
        if watch.is_over() {
            return fail(self, "nothing after the outcome", format!("sent {what}"));
        }
        let host = transmit.url.host_str().unwrap_or("");
        let Some(origin) = self.origins.iter().position(|o| o.host == host) else {
            return fail(self, "requests go to known origins", format!("sent {what}"));
        };
        if origin != watch.origin {
            return fail(
                self,
                "a job keeps its origin",
                format!(
                    "sent {what}, the job started on {}",
                    self.origins[watch.origin].name
                ),
            );
        }
        if self.paused {
            return fail(
                self,
                "a paused fleet sends nothing",
                format!("sent {what} while the fleet was paused"),
            );
        }
        let o = &self.origins[origin];
        if o.paused {
            return fail(
                self,
                "a paused origin sends nothing",
                format!("sent {what} while {} was paused", o.name),
            );
        }
        // A cancel request is a user's stop: it goes out at once, past the
        // origin's hold and the limits (it counts in flight while it is out).
        let cancel = transmit.purpose == Purpose::Cancel;
        if now < o.hint_until && !cancel {
            return fail(
                self,
                "no request to a throttled origin before its hint allows",
                format!(
                    "sent {what} at {now}, before {}: {}",
                    o.hint_until, o.hint_reason
                ),
            );
        }
        if self.in_flight >= self.limits.max_in_flight && !cancel {
            return fail(
                self,
                "requests in flight stay within the global limit",
                format!(
                    "sent {what} with {} already in flight (limit {})",
                    self.in_flight, self.limits.max_in_flight
                ),
            );
        }
        if o.in_flight >= self.limits.max_in_flight_per_origin && !cancel {
            return fail(
                self,
                "requests in flight stay within the per-origin limit",
                format!(
                    "sent {what} with {} already in flight to {} (limit {})",
                    o.in_flight, o.name, self.limits.max_in_flight_per_origin
                ),
            );
        }
        if transmit.purpose == Purpose::Status
            && let Some(twin) = self.twin(job)
        {
            return fail(
                self,
                "a shared job sends one request per poll",
                format!("sent {what} while job {twin} polls the same status URL"),
            );
        }
        self.per_job
            .on_output(job, &Output::Transmit(transmit.clone()), now)
            .map_err(|v| self.placed(v))?;
        self.jobs[job].in_flight = Some(transmit.id);
        self.jobs[job].cancelling = cancel;
        self.in_flight += 1;
        self.origins[origin].in_flight += 1;
        self.origins[origin].last_sent = now;
        self.touched_origins.insert(origin);
        Ok(())
    }

    /// Request `request` of `job` is no longer in flight (answered or aborted);
    /// returns the job's origin. `invariant`: what it breaks if it was not.
    fn land(
        &mut self,
        job: usize,
        request: RequestId,
        now: Instant,
        invariant: &str,
    ) -> Result<usize, FleetViolation> {
        if self.jobs.get(job).and_then(|j| j.in_flight) != Some(request) {
            return Err(self.violation(
                now,
                Some(job),
                None,
                invariant,
                format!("{request} is not in flight"),
            ));
        }
        let watch = &mut self.jobs[job];
        watch.in_flight = None;
        watch.cancelling = false;
        let origin = watch.origin;
        self.in_flight = self.in_flight.saturating_sub(1);
        let o = &mut self.origins[origin];
        o.in_flight = o.in_flight.saturating_sub(1);
        self.touched_origins.insert(origin);
        Ok(origin)
    }

    /// The fleet withdrew request `request` of `job`.
    pub fn aborted(
        &mut self,
        job: usize,
        request: RequestId,
        now: Instant,
    ) -> Result<(), FleetViolation> {
        self.land(job, request, now, "only requests in flight are aborted")?;
        self.per_job
            .on_output(job, &Output::Abort(request), now)
            .map_err(|v| self.placed(v))
    }
}

/// The wait a response asks of its whole origin, as the fleet's rules say: the
/// wait of a 429 or 503, or on any other answer the wait of an exhausted
/// `RateLimit` budget alone (read from the rate-limit headers without the
/// `Retry-After` beside them, which paces one job).
fn rate_limit_wait(response: &http::Response<bytes::Bytes>, cap: Duration) -> Option<ServerHint> {
    if matches!(response.status().as_u16(), 429 | 503) {
        return read_hints(response.headers(), cap).wait;
    }
    let mut budget = http::HeaderMap::new();
    for (name, value) in response.headers() {
        if name.as_str().starts_with("ratelimit") {
            budget.append(name.clone(), value.clone());
        }
    }
    let hint = read_hints(&budget, cap).wait?;
    (hint.source == HintSource::RateLimit).then_some(hint)
}
