//! Sending: building the next request, and when it may go out (the schedule,
//! the server's hints, the minimum interval).

use bytes::Bytes;
use core::time::Duration;
use url::Url;

use crate::event::{Event, WaitLimit};
use crate::hints::{ServerHint, read_hints};
use crate::profile::{Interpret, JobRef};
use crate::schedule::ScheduleInput;
use crate::time::micros;

use super::io::{Output, Purpose, RequestId, Start, Transmit, has_header};
use super::layout::{Phase, opt_u64, pack_duration, unpack_duration};
use super::machine::Job;

pub(super) const IF_NONE_MATCH: &str = "if-none-match";

impl<P: Interpret> Job<P> {
    pub(super) fn send(&mut self, now: u64) {
        let (purpose, method, url, body) = match self.phase {
            Phase::Submitting => match &self.spec.start {
                Start::Submit { method, url, body } => {
                    (Purpose::Submit, method.clone(), url.clone(), body.clone())
                }
                Start::Poll { .. } => {
                    return self.give_up_inconsistent(now, "submitting without a submit request");
                }
            },
            Phase::Polling => match self.status_url() {
                Some(url) => (Purpose::Status, http::Method::GET, url.clone(), None),
                None => return self.give_up_inconsistent(now, "polling without a status URL"),
            },
            Phase::FetchingResults => {
                match self
                    .rare
                    .as_ref()
                    .and_then(|rare| rare.fetch_url.as_deref())
                {
                    Some(url) => (Purpose::Results, http::Method::GET, url.clone(), None),
                    None => return self.give_up_inconsistent(now, "fetching without a URL"),
                }
            }
            Phase::Cancelling => match self.cancel_target() {
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
            && let Some(etag) = self.rare.as_ref().and_then(|rare| rare.etag.as_ref())
        {
            headers.push((IF_NONE_MATCH.to_owned(), etag.clone()));
        }
        let id = RequestId(u64::from(self.next_request_id));
        self.next_request_id = self.next_request_id.wrapping_add(1);
        self.requests = self.requests.saturating_add(1);
        if purpose == Purpose::Status {
            self.attempts = self.attempts.saturating_add(1);
        }
        self.last_sent_at = now;
        let time_limit = self.config.request_time_limit;
        self.flight = Some(purpose);
        self.expires_at = now.saturating_add(micros(time_limit));
        self.push(Output::Transmit(Transmit {
            id,
            purpose,
            method,
            url,
            headers,
            body,
            time_limit,
        }));
    }

    pub(super) fn cancel_target(&self) -> Option<(http::Method, Url)> {
        let status_url = self.status_url()?;
        let job = JobRef {
            job_id: self.job_id.as_deref(),
            status_url,
            results_url: self
                .rare
                .as_ref()
                .and_then(|rare| rare.results_url.as_deref()),
        };
        self.spec.profile.cancel_request(job)?.ok()
    }

    /// Takes the next delay of the poll schedule; `None` if that ended the job.
    pub(super) fn schedule_poll(
        &mut self,
        now: u64,
        remaining_estimate: Option<Duration>,
    ) -> Option<Duration> {
        self.poll_delays = self.poll_delays.saturating_add(1);
        let input = ScheduleInput {
            attempt: self.poll_delays,
            elapsed: Duration::from_micros(now),
            previous: unpack_duration(self.previous_poll_delay),
            remaining_estimate,
        };
        let delay = self.config.poll.next_delay(&input, &mut self.rng);
        self.previous_poll_delay = pack_duration(Some(delay));
        self.set_next_send(now, delay)
    }

    /// Schedules the next request `delay` from now, but no earlier than the server's
    /// hint and the minimum interval allow. Returns the actual wait, or `None` when
    /// the server's hint reaches past the deadline and the job ended instead.
    pub(super) fn set_next_send(&mut self, now: u64, delay: Duration) -> Option<Duration> {
        let not_before = self.not_before();
        if let (Some(deadline), Some(hint)) = (
            self.deadline(),
            self.rare.as_ref().and_then(|rare| rare.hint.as_ref()),
        ) && not_before > deadline
        {
            let reason = WaitLimit::HintPastDeadline {
                hint: ServerHint::clone(hint),
                remaining: Duration::from_micros(deadline.saturating_sub(now)),
            };
            self.stop_at_limit(now, reason);
            return None;
        }
        let mut at = now.saturating_add(micros(delay)).max(not_before);
        if let Some(last) = opt_u64(self.last_sent_at) {
            at = at.max(last.saturating_add(micros(self.config.min_interval)));
        }
        self.next_send_at = at;
        Some(Duration::from_micros(at - now))
    }

    /// Reads the wait hints of a response; they bound every later request.
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
            self.hold_for(now, hint);
        }
    }

    /// No request before the hint allows, counted from `now`.
    pub(super) fn hold_for(&mut self, now: u64, hint: ServerHint) {
        let until = now.saturating_add(micros(hint.delay));
        if until > self.not_before() {
            let rare = self.rare_mut();
            rare.not_before = until;
            rare.hint = Some(hint);
        }
    }
}
