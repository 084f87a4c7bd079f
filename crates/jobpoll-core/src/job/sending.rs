//! Sending: building the next request, and when it may go out (the schedule,
//! the server's hints, the minimum interval).

use bytes::Bytes;
use core::time::Duration;
use url::Url;

use crate::event::{Event, WaitLimit};
use crate::hints::{HintSource, ServerHint, read_hints};
use crate::profile::{Interpret, JobRef};
use crate::schedule::ScheduleInput;
use crate::time::micros;

use super::io::{Output, Purpose, Start, Transmit, has_header};
use super::machine::Job;
use super::phase::{InFlight, Phase};

pub(super) const IF_NONE_MATCH: &str = "if-none-match";

/// The spread above a server's wait is drawn up to this share of the wait...
const SPREAD_SHARE: f64 = 0.1;
/// ...and never more than this (µs).
const SPREAD_MAX: u64 = 5_000_000;

impl<P: Interpret> Job<P> {
    /// Sends the request the phase calls for (the caller checked that one is due).
    pub(super) fn send(&mut self, now: u64) {
        let (purpose, method, url, body) = match &self.phase {
            Phase::Submitting { .. } => match &self.spec.start {
                Start::Submit { method, url, body } => {
                    (Purpose::Submit, method.clone(), url.clone(), body.clone())
                }
                Start::Poll { .. } => {
                    return self.give_up_inconsistent(now, "submitting without a submit request");
                }
            },
            Phase::Polling { .. } => match self.status_url() {
                Some(url) => (Purpose::Status, http::Method::GET, url.clone(), None),
                None => return self.give_up_inconsistent(now, "polling without a status URL"),
            },
            Phase::FetchingResults { fetch, .. } => {
                (Purpose::Results, http::Method::GET, fetch.url.clone(), None)
            }
            Phase::Cancelling { .. } => match self.cancel_target() {
                Some((method, url)) => (Purpose::Cancel, method, url, None),
                None => return self.finish_cancelled(now, None),
            },
            Phase::Finished => return,
        };
        let mut headers = self.spec.headers.clone();
        if body.is_some() && !has_header(&headers, "content-type") {
            headers.push(("content-type".to_owned(), "application/json".to_owned()));
        }
        if purpose == Purpose::Status
            && self.config.conditional_requests
            && let Some(etag) = &self.rare().etag
        {
            headers.push((IF_NONE_MATCH.to_owned(), etag.clone()));
        }
        let number = self.next_request_id;
        self.next_request_id = self.next_request_id.wrapping_add(1);
        self.requests = self.requests.saturating_add(1);
        if purpose == Purpose::Status {
            self.attempts = self.attempts.saturating_add(1);
        }
        self.history.set_last_sent_at(Some(now));
        let time_limit = self.config.request_time_limit;
        let in_flight = InFlight {
            number,
            expires_at: now.saturating_add(micros(time_limit)),
        };
        self.phase.start_request(in_flight);
        self.push(Output::Transmit(Transmit {
            id: in_flight.id(),
            purpose,
            method,
            url,
            headers,
            body,
            time_limit,
        }));
    }

    /// The request that asks the server to cancel the job, if the profile has one.
    pub(super) fn cancel_target(&self) -> Option<(http::Method, Url)> {
        let status_url = self.status_url()?;
        let job = JobRef {
            job_id: self.job_id.as_deref(),
            status_url,
            results_url: self.rare().results_url.as_deref(),
        };
        self.spec.profile.cancel_request(job)?.ok()
    }

    /// Takes the next delay of the poll schedule; `None` if that ended the job.
    pub(super) fn schedule_poll(
        &mut self,
        now: u64,
        remaining_estimate: Option<Duration>,
    ) -> Option<Duration> {
        let history = &mut self.history;
        history.poll_delays = history.poll_delays.saturating_add(1);
        let input = ScheduleInput {
            attempt: history.poll_delays,
            elapsed: Duration::from_micros(now),
            previous: history.previous_poll_delay(),
            remaining_estimate,
        };
        let delay = self.config.poll.next_delay(&input, &mut self.rng);
        self.history.set_previous_poll_delay(Some(delay));
        self.set_next_send(now, delay)
    }

    /// Schedules the next request `delay` from now, but no earlier than the server's
    /// hint and the minimum interval allow. When the answer being handled said how
    /// long to wait, that wait replaces `delay`: the request goes when it ends, plus
    /// a small spread drawn from the job's generator (see [`Job::spread_above`]).
    /// Returns the actual wait, or `None` when the server's hint reaches past the
    /// deadline and the job ended instead.
    pub(super) fn set_next_send(&mut self, now: u64, delay: Duration) -> Option<Duration> {
        let answer_wait = self.rare_if_set().and_then(|rare| rare.answer_wait.take());
        let not_before = self.rare().not_before;
        if let (Some(deadline), Some(hint)) = (self.deadline(), &self.rare().hint)
            && not_before > deadline
        {
            let reason = WaitLimit::HintPastDeadline {
                hint: ServerHint::clone(hint),
                remaining: Duration::from_micros(deadline.saturating_sub(now)),
            };
            self.stop_at_limit(now, reason);
            return None;
        }
        let mut at = match answer_wait {
            Some(until) => self.spread_above(now, until),
            None => now.saturating_add(micros(delay)),
        }
        .max(not_before);
        if let Some(last) = self.history.last_sent_at() {
            at = at.max(last.saturating_add(micros(self.config.min_interval)));
        }
        self.next_send_at = at;
        Some(Duration::from_micros(at - now))
    }

    /// Brings the next request forward to the age `by` when it is due later, but
    /// no earlier than the server's hint and the minimum interval allow. Returns
    /// the wait from `now`.
    pub(super) fn send_no_later_than(&mut self, now: u64, by: u64) -> Duration {
        let mut floor = self.rare().not_before;
        if let Some(last) = self.history.last_sent_at() {
            floor = floor.max(last.saturating_add(micros(self.config.min_interval)));
        }
        let at = self.next_send_at.min(by.max(floor)).max(now);
        self.next_send_at = at;
        Duration::from_micros(at - now)
    }

    /// `until` (the end of a server's wait asked at `now`, as ages) plus a random
    /// spread, so that clients told to wait together do not all come back at one
    /// instant: uniform in `[0, 10 %)` of the wait, at most 5 s, and never past the
    /// deadline when the wait ends before it. No draw when the spread's range is
    /// empty.
    fn spread_above(&mut self, now: u64, until: u64) -> u64 {
        let wait = until.saturating_sub(now);
        let mut room = ((wait as f64 * SPREAD_SHARE) as u64).min(SPREAD_MAX);
        if let Some(deadline) = self.deadline() {
            room = room.min(deadline.saturating_sub(until).saturating_sub(1));
        }
        if room == 0 {
            return until;
        }
        until.saturating_add((self.rng.next_f64() * room as f64) as u64)
    }

    /// Reads the wait hints of a response; they bound every later request. A wait
    /// the server asks of the next request sets when it goes (whatever the
    /// schedule says): any hint on an error answer, and a `Retry-After` or
    /// `retry-after-ms` on any answer (the polling pace Azure and Google give on a
    /// 2xx). An exhausted `RateLimit` budget on a successful answer is a floor only:
    /// it says when the quota comes back, not when this job should ask again.
    pub(super) fn apply_hints(&mut self, now: u64, response: &http::Response<Bytes>) {
        let hints = read_hints(response.headers(), self.config.max_hint);
        for problem in hints.problems {
            self.push(Output::Event(Event::HintIgnored { problem }));
        }
        if let Some(hint) = hints.wait {
            if let Some(requested) = hint.capped_from {
                self.push(Output::Event(Event::HintCapped {
                    source: hint.source,
                    requested,
                    used: hint.delay,
                }));
            }
            let status = response.status();
            let sets_the_wait = hint.source != HintSource::RateLimit
                || status.is_client_error()
                || status.is_server_error();
            if sets_the_wait {
                self.rare_mut().answer_wait = Some(now.saturating_add(micros(hint.delay)));
            }
            self.hold_for(now, hint);
        }
    }

    /// No request before the hint allows, counted from `now`.
    pub(super) fn hold_for(&mut self, now: u64, hint: ServerHint) {
        let until = now.saturating_add(micros(hint.delay));
        if until > self.rare().not_before {
            let rare = self.rare_mut();
            rare.not_before = until;
            rare.hint = Some(hint);
        }
    }
}
