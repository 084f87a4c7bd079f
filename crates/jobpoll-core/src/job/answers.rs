//! Reacting to answers: responses, transport errors, retries and cancelling.

use bytes::Bytes;
use core::time::Duration;

use crate::classify::{StatusClass, classify_status};
use crate::config::FirstPoll;
use crate::event::{CancelledBy, Event, Outcome, PollError, Progress, TransportError, WaitLimit};
use crate::hints::read_hints;
use crate::profile::{Interpret, JobRef, JobState, PollMode, StatusContext, StatusReport};
use crate::schedule::ScheduleInput;
use crate::time::micros;

use super::endings::{present, status_error, succeeded};
use super::estimate::KnownReport;
use super::io::{Output, Purpose, Start, has_header};
use super::machine::Job;
use super::phase::Phase;

impl<P: Interpret> Job<P> {
    /// The answer to the request in flight, which was for `purpose`.
    pub(super) fn on_response(
        &mut self,
        now: u64,
        purpose: Purpose,
        response: &http::Response<Bytes>,
    ) {
        let class = classify_status(response.status());
        if purpose == Purpose::Cancel {
            // The job ends here, but the server's wait still holds for its origin:
            // a fleet throttles the origin by it (no event, nothing else changes).
            if let Some(hint) = read_hints(response.headers(), self.config.max_hint).wait {
                self.hold_for(now, hint);
            }
            return self.finish_cancelled(now, Some(class == StatusClass::Success));
        }
        // Hints first: an answer too large to read still says when to come back.
        self.apply_hints(now, response);
        // Only a body we must read is refused for its size; an error body is only
        // quoted, and the quote is short.
        if class == StatusClass::Success && response.body().len() > self.config.max_body_bytes {
            let error = PollError::BodyTooLarge {
                limit: self.config.max_body_bytes,
            };
            return self.on_unreadable_answer(now, purpose, error);
        }
        match purpose {
            Purpose::Submit => self.on_submit_response(now, class, response),
            Purpose::Status => self.on_status_response(now, class, response),
            Purpose::Results => self.on_results_response(now, class, response),
            Purpose::Cancel => {}
        }
    }

    /// A 2xx whose body cannot be used. After a submit that cannot be safely
    /// repeated, the job exists but we cannot know which: stop and say so.
    fn on_unreadable_answer(&mut self, now: u64, purpose: Purpose, error: PollError) {
        if purpose == Purpose::Submit && !self.submit_repeatable_after(None) {
            return self.give_up_uncertain(now, error);
        }
        self.on_failure(now, purpose, error);
    }

    /// The request in flight, for `purpose`, got no answer.
    pub(super) fn on_transport_error(&mut self, now: u64, purpose: Purpose, error: TransportError) {
        if !matches!(error, TransportError::Connect(_)) {
            // The request went out: it may have reached the server.
            self.contact = true;
        }
        if purpose == Purpose::Cancel {
            return self.finish_cancelled(now, Some(false));
        }
        if !self.may_repeat(purpose, &error) {
            return self.give_up_uncertain(now, PollError::Transport(error));
        }
        self.on_failure(now, purpose, PollError::Transport(error));
    }

    /// Whether a request of `purpose` that got no answer, the way `error` says, may
    /// be sent again: every request but a submit that could create a second job
    /// (see [`Job::submit_is_idempotent`]), and that one too when it certainly never
    /// left (the connection was refused). The one rule for a request whose fate is
    /// unknown, whether the transport lost it or the process stopped with it in
    /// flight ([`Job::resume`]).
    pub(super) fn may_repeat(&self, purpose: Purpose, error: &TransportError) -> bool {
        purpose != Purpose::Submit
            || matches!(error, TransportError::Connect(_))
            || self.submit_repeatable_after(None)
    }

    /// Whether the submit request may be sent again after `answer` (an error
    /// status; `None`: no answer) although it may have created the job: repeating
    /// it cannot create a second job (the method is idempotent, or the request
    /// carries an `Idempotency-Key`), or the profile says the API allows it.
    fn submit_repeatable_after(&self, answer: Option<http::StatusCode>) -> bool {
        let Start::Submit { method, .. } = &self.spec.start else {
            return true;
        };
        method.is_idempotent()
            || has_header(&self.spec.headers, "idempotency-key")
            || self.spec.profile.submit_repeatable(method, answer)
    }

    /// The submit request may have created the job, and repeating it could create
    /// a second one: stop and say so.
    pub(super) fn give_up_uncertain(&mut self, now: u64, cause: PollError) {
        let cause = Box::new(cause);
        self.finish(now, |stats| Outcome::GaveUp {
            last_error: PollError::SubmitUncertain { cause },
            stats,
        });
    }

    /// The answer to the submit request: the job exists, or not, or maybe.
    fn on_submit_response(
        &mut self,
        now: u64,
        class: StatusClass,
        response: &http::Response<Bytes>,
    ) {
        let (method, submit_url) = match &self.spec.start {
            Start::Submit { method, url, .. } => (method, url),
            Start::Poll { .. } => {
                return self.give_up_inconsistent(now, "a submit answer for a polling job");
            }
        };
        match class {
            StatusClass::Success => {
                match self
                    .spec
                    .profile
                    .read_submission_to(response, method, submit_url)
                {
                    Ok(submission) => {
                        self.reset_errors();
                        self.push(Output::Event(Event::Submitted {
                            job_id: submission.job_id.clone(),
                            status_url: submission.status_url.to_string(),
                        }));
                        self.job_id = submission.job_id.map(String::into_boxed_str);
                        let rare = self.rare_mut();
                        rare.status_url = Some(Box::new(submission.status_url));
                        rare.results_url = submission.results_url.map(Box::new);
                        rare.mode = submission.mode;
                        rare.polling_since = now;
                        self.phase = Phase::POLLING;
                        if let Some(report) = submission.finished {
                            // The answer already says how the job ended.
                            return self.on_report(now, report);
                        }
                        match self.config.first_poll {
                            FirstPoll::Immediately => {
                                self.set_next_send(now, Duration::ZERO);
                            }
                            FirstPoll::AfterFirstDelay => {
                                self.schedule_poll(now, None);
                            }
                        }
                    }
                    Err(error) => self.on_unreadable_answer(now, Purpose::Submit, error.into()),
                }
            }
            StatusClass::Unauthorized => self.finish_unauthorized(now, response),
            StatusClass::NotFound | StatusClass::Rejected => self.finish_rejected(now, response),
            StatusClass::Retryable
                if matches!(response.status().as_u16(), 429 | 503)
                    || self.submit_repeatable_after(Some(response.status())) =>
            {
                self.on_failure(now, Purpose::Submit, status_error(response));
            }
            StatusClass::Retryable | StatusClass::NotModified | StatusClass::Unexpected => {
                self.give_up_uncertain(now, status_error(response));
            }
        }
    }

    /// The answer to a status poll.
    fn on_status_response(
        &mut self,
        now: u64,
        class: StatusClass,
        response: &http::Response<Bytes>,
    ) {
        match class {
            StatusClass::Success => self.read_status_answer(now, response),
            // An Azure `Location` poller says that the operation failed with an
            // error status; its body is the Azure error.
            StatusClass::Rejected if self.rare().mode == PollMode::Location => {
                self.read_status_answer(now, response);
            }
            StatusClass::NotModified => self.on_not_modified(now),
            StatusClass::NotFound if self.spec.profile.not_found_means_pending() => {
                self.reset_errors();
                self.keep_polling(now, "not found yet".to_owned(), None, None, None, None);
            }
            StatusClass::NotFound if now < self.grace_end() => {
                // Polled again by the end of the grace at the latest, so that a
                // job that never appears is reported when the grace ends.
                self.reset_errors();
                let by = Some(self.grace_end());
                self.keep_polling(now, "not found yet".to_owned(), None, None, None, by);
            }
            StatusClass::NotFound => self.finish(now, |stats| Outcome::NotFound { stats }),
            StatusClass::Unauthorized => self.finish_unauthorized(now, response),
            StatusClass::Rejected => self.finish_rejected(now, response),
            StatusClass::Retryable | StatusClass::Unexpected => {
                self.on_failure(now, Purpose::Status, status_error(response));
            }
        }
    }

    /// Reads a status answer the profile can read.
    fn read_status_answer(&mut self, now: u64, response: &http::Response<Bytes>) {
        let context = StatusContext {
            wants_id: self.job_id.is_none(),
            mode: self.rare().mode,
            status_url: self.status_url(),
        };
        match self.spec.profile.read_status_in(response, &context) {
            Ok(report) => {
                let etag = response
                    .headers()
                    .get(http::header::ETAG)
                    .and_then(|v| v.to_str().ok());
                self.remember_etag(now, etag, &report);
                self.on_report(now, report);
            }
            Err(error) => self.on_failure(now, Purpose::Status, error.into()),
        }
    }

    /// Keeps a status answer's `ETag`, for the next request to name, and what the
    /// answer reported, for a `304` to repeat; an answer without one forgets both.
    fn remember_etag(&mut self, now: u64, etag: Option<&str>, report: &StatusReport) {
        match etag {
            Some(etag) => {
                let known = KnownReport::of(report, now).map(Box::new);
                let rare = self.rare_mut();
                rare.etag = Some(etag.to_owned());
                rare.etag_report = known;
            }
            None => {
                if let Some(rare) = self.rare_if_set() {
                    rare.etag = None;
                    rare.etag_report = None;
                }
            }
        }
    }

    /// The answer to the results fetch: the job succeeded either way.
    fn on_results_response(
        &mut self,
        now: u64,
        class: StatusClass,
        response: &http::Response<Bytes>,
    ) {
        match class {
            StatusClass::Success => match self.spec.profile.read_results(response) {
                Ok(results) => {
                    self.push(Output::Event(Event::ResultsFetched {
                        results: results.clone(),
                    }));
                    let result = self.phase.take_pending_result();
                    self.finish(now, succeeded(result, Some(results), None));
                }
                Err(error) => self.on_failure(now, Purpose::Results, error.into()),
            },
            StatusClass::Retryable | StatusClass::Unexpected | StatusClass::NotFound => {
                self.on_failure(now, Purpose::Results, status_error(response));
            }
            StatusClass::Unauthorized | StatusClass::Rejected | StatusClass::NotModified => {
                let result = self.phase.take_pending_result();
                let error = status_error(response).to_string();
                self.finish(now, succeeded(result, None, Some(error)));
            }
        }
    }

    /// A status report read from a fresh answer.
    fn on_report(&mut self, now: u64, mut report: StatusReport) {
        self.reset_errors();
        if let Some(moved_to) = report.moved_to.take() {
            // The server moved the job: poll where it says from now on.
            self.rare_mut().status_url = Some(Box::new(moved_to));
        }
        if self.job_id.is_none() {
            self.job_id = report.job_id.as_deref().map(Box::from);
        }
        if self.last_status.as_deref() != Some(report.status.as_str()) {
            let from = self.last_status.take().map(String::from);
            self.push(Output::Event(Event::StatusChanged {
                from,
                to: report.status.clone(),
            }));
            self.last_status = Some(Box::from(report.status.as_str()));
        }
        if let Some(revision) = report.revision {
            let old = self.rare().revision;
            if old.map_or(revision > 0, |old| revision > old) {
                self.push(Output::Event(Event::Updated {
                    revision,
                    body: present(report.body.clone()),
                }));
            }
            self.rare_mut().revision = Some(revision);
        }
        match report.state.unwrap_or(JobState::Running) {
            JobState::Running => {
                let StatusReport {
                    status,
                    percentage,
                    step,
                    eta,
                    ..
                } = report;
                self.on_running(now, status, percentage, step, eta);
            }
            JobState::Succeeded => self.on_succeeded(now, report.result, report.results_url),
            JobState::Failed => {
                let message = report
                    .error_message
                    .unwrap_or_else(|| "the job failed".to_owned());
                let details = present(report.error_details);
                self.finish(now, |stats| Outcome::Failed {
                    message,
                    details,
                    stats,
                });
            }
            JobState::Cancelled => {
                self.finish(now, |stats| Outcome::Cancelled {
                    by: CancelledBy::Server,
                    stats,
                });
            }
        }
    }

    /// A `304 Not Modified`: what the job has is current. It is the last answer
    /// again: the same status, and what the answer with the `ETag` the request named
    /// reported (progress, step, the server's estimate counting down from when it
    /// was given). After an answer without an `ETag` (a `304` nobody asked for)
    /// the job kept nothing but the status, and repeats that.
    fn on_not_modified(&mut self, now: u64) {
        self.reset_errors();
        let status = self
            .last_status
            .as_deref()
            .unwrap_or("unchanged")
            .to_owned();
        let known = self.rare().etag_report.as_deref();
        let (percentage, step, eta) = match known {
            Some(known) => (known.percentage, known.step.clone(), known.eta_at(now)),
            None => (None, None, None),
        };
        self.on_running(now, status, percentage, step, eta);
    }

    /// The server reports the job running, in a fresh answer or a `304`: note the
    /// progress, and poll again when the schedule says, with the server's estimate
    /// of the remaining time or else the one from the progress slope.
    fn on_running(
        &mut self,
        now: u64,
        status: String,
        percentage: Option<f64>,
        step: Option<String>,
        server_eta: Option<Duration>,
    ) {
        self.record_progress(now, percentage);
        let eta = server_eta.or_else(|| self.slope_estimate(now));
        self.keep_polling(now, status, percentage, step, eta, None);
    }

    /// The server reports success: fetch the results if the profile says where,
    /// else finish.
    /// A succeeded status may name where the final resource is (`named`), which
    /// wins over what the submit answer named.
    fn on_succeeded(
        &mut self,
        now: u64,
        result: Option<serde_json::Value>,
        named: Option<url::Url>,
    ) {
        let result = present(result);
        let results_url = self.status_url().and_then(|status_url| {
            self.spec.profile.results_url(JobRef {
                job_id: self.job_id.as_deref(),
                status_url,
                results_url: named.as_ref().or(self.rare().results_url.as_deref()),
            })
        });
        match results_url {
            None => self.finish(now, succeeded(result, None, None)),
            Some(Err(error)) => {
                let error = format!("the results URL could not be built: {error}");
                self.finish(now, succeeded(result, None, Some(error)));
            }
            Some(Ok(url)) => {
                self.reset_errors();
                self.phase = Phase::fetching_results(url, result);
                self.set_next_send(now, Duration::ZERO);
            }
        }
    }

    /// When a 404 stops meaning "not visible yet" (an age).
    fn grace_end(&self) -> u64 {
        self.rare()
            .polling_since
            .saturating_add(micros(self.config.not_found_grace))
    }

    /// The job is healthy and not done: report progress and schedule the next poll
    /// (at the age `poll_by` at the latest, when given).
    fn keep_polling(
        &mut self,
        now: u64,
        status: String,
        percentage: Option<f64>,
        step: Option<String>,
        eta: Option<Duration>,
        poll_by: Option<u64>,
    ) {
        if let Some(max_attempts) = self.config.max_attempts
            && self.attempts >= max_attempts
        {
            return self.stop_at_limit(now, WaitLimit::MaxAttempts { max_attempts });
        }
        let Some(mut next_poll_in) = self.schedule_poll(now, eta) else {
            return;
        };
        if let Some(by) = poll_by {
            next_poll_in = self.send_no_later_than(now, by);
        }
        // When the deadline comes first, that is the next thing that happens.
        if let Some(deadline) = self.deadline() {
            next_poll_in = next_poll_in.min(Duration::from_micros(deadline.saturating_sub(now)));
        }
        self.push(Output::Event(Event::Progress(Progress {
            attempt: self.attempts,
            max_attempts: self.config.max_attempts,
            status,
            percentage,
            step,
            next_poll_in,
            elapsed: Duration::from_micros(now),
            eta,
        })));
    }

    /// A request failed in a way worth retrying: back off along the retry schedule,
    /// or stop if a limit is reached.
    fn on_failure(&mut self, now: u64, purpose: Purpose, error: PollError) {
        if purpose == Purpose::Cancel {
            return self.finish_cancelled(now, Some(false));
        }
        // A 429 or 503 that says how long to wait (a wait longer than zero) is
        // the server pacing its clients, not a failure: the job waits as told, and
        // the answer does not count toward the error limit (the deadline still
        // bounds the waiting).
        let paced = matches!(
            error,
            PollError::Status {
                status: 429 | 503,
                ..
            }
        ) && self.rare().answer_wait.is_some_and(|at| at > now);
        let rare = self.rare_mut();
        if !paced {
            rare.consecutive_errors = rare.consecutive_errors.saturating_add(1);
        }
        rare.consecutive_unreadable = if matches!(error, PollError::Unreadable(_)) {
            rare.consecutive_unreadable.saturating_add(1)
        } else {
            0
        };
        let (consecutive_errors, unreadable) =
            (rare.consecutive_errors, rare.consecutive_unreadable);
        let too_many = self
            .config
            .max_consecutive_errors
            .is_some_and(|max| consecutive_errors >= max)
            || unreadable >= self.config.max_unreadable;
        // Before any contact every failure was a refused connection (an answer or
        // any other failure sets `contact`, and only an answer resets the count):
        // the count is of refused connections in a row. Whichever limit ends such
        // a job, the error says the server was never reached.
        if !self.contact
            && let PollError::Transport(last @ TransportError::Connect(_)) = &error
            && (too_many
                || self
                    .config
                    .max_connect_failures_before_contact
                    .is_some_and(|max| consecutive_errors >= max))
        {
            let last_error = PollError::Unreachable {
                origin: self.server_of(purpose),
                failures: consecutive_errors,
                last: last.clone(),
            };
            return self.finish(now, |stats| Outcome::GaveUp { last_error, stats });
        }
        if too_many {
            if purpose == Purpose::Results {
                let result = self.phase.take_pending_result();
                return self.finish(now, succeeded(result, None, Some(error.to_string())));
            }
            return self.finish(now, |stats| Outcome::GaveUp {
                last_error: error,
                stats,
            });
        }
        if purpose == Purpose::Status
            && let Some(max_attempts) = self.config.max_attempts
            && self.attempts >= max_attempts
        {
            return self.stop_at_limit(now, WaitLimit::MaxAttempts { max_attempts });
        }
        let input = ScheduleInput {
            attempt: consecutive_errors,
            elapsed: Duration::from_micros(now),
            previous: self.rare().previous_retry_delay,
            remaining_estimate: None,
        };
        // Before any contact every failure so far was a refused connection.
        let schedule = match &self.config.connect_retry {
            Some(connect_retry) if !self.contact => connect_retry,
            _ => &self.config.retry,
        };
        let delay = schedule.next_delay(&input, &mut self.rng);
        self.rare_mut().previous_retry_delay = Some(delay);
        let Some(delay) = self.set_next_send(now, delay) else {
            return;
        };
        self.push(Output::Event(Event::Retrying {
            cause: error,
            consecutive_errors,
            delay,
        }));
    }

    /// The server a request for `purpose` goes to, as `scheme://host:port`.
    fn server_of(&self, purpose: Purpose) -> String {
        let url = match (purpose, &self.spec.start, &self.phase) {
            (Purpose::Submit, Start::Submit { url, .. }, _) => Some(url),
            (Purpose::Results, _, Phase::FetchingResults { fetch, .. }) => Some(&fetch.url),
            _ => self.status_url(),
        };
        match url {
            Some(url) => format!(
                "{}://{}:{}",
                url.scheme(),
                url.host_str().unwrap_or_default(),
                url.port_or_known_default().unwrap_or_default()
            ),
            None => "the server".to_owned(),
        }
    }

    /// A healthy answer: the retry schedule starts over.
    fn reset_errors(&mut self) {
        if let Some(rare) = self.rare_if_set() {
            rare.consecutive_errors = 0;
            rare.consecutive_unreadable = 0;
            rare.previous_retry_delay = None;
        }
    }

    /// The user cancels the job.
    pub(super) fn on_cancel(&mut self, now: u64) {
        match self.phase {
            Phase::Finished | Phase::Cancelling { .. } => {}
            Phase::FetchingResults { .. } => {
                let result = self.phase.take_pending_result();
                let error = "cancelled before the results were fetched".to_owned();
                self.finish(now, succeeded(result, None, Some(error)));
            }
            Phase::Submitting { .. } => self.finish_cancelled(now, None),
            Phase::Polling { .. } => {
                if let Some((in_flight, _)) = self.phase.take_in_flight() {
                    // It went out, and may have reached the server.
                    self.contact = true;
                    self.push(Output::Abort(in_flight.id()));
                }
                // Past the deadline a cancel request would break the deadline's promise.
                let before_deadline = self.deadline().is_none_or(|deadline| now < deadline);
                if self.config.cancel_on_server && before_deadline && self.cancel_target().is_some()
                {
                    self.phase = Phase::CANCELLING;
                    self.push(Output::Event(Event::CancelRequested));
                    // Due at once, whatever the schedule and hints say; `drive`
                    // sends it (unless a fleet holds it back).
                    self.next_send_at = now;
                } else {
                    self.finish_cancelled(now, None);
                }
            }
        }
    }
}
