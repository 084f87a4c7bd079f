//! Jobs, subscriptions, stops and outcomes: who follows which job, only equal
//! specs sharing a job and a shared job sending one request per poll, every event
//! and outcome reaching every subscriber once, an outcome that matches the
//! server's truth, stops acted on at once, and liveness at the end.

use jobpoll_core::{Config, Event, Instant, Outcome, Output, Purpose};
use jobpoll_server::model::ServerModel;

use super::{FleetChecker, FleetViolation, JobWatch, SubscriberWatch};
use crate::world::JobFacts;

impl FleetChecker {
    /// The fleet started job number `job` (the next one) on origin `origin` under
    /// `config`; `identity` names a job polled by URL that others may share.
    pub fn job_started(
        &mut self,
        job: usize,
        origin: usize,
        config: &Config,
        facts: JobFacts,
        identity: Option<String>,
    ) -> Result<(), FleetViolation> {
        if job != self.jobs.len() || origin >= self.origins.len() {
            return Err(self.violation(
                facts.started,
                Some(job),
                None,
                "the simulator numbers jobs and origins in order",
                format!(
                    "job {job} on origin {origin} after {} jobs",
                    self.jobs.len()
                ),
            ));
        }
        self.per_job.on_start(job, config, facts.started);
        if let Some(identity) = &identity {
            self.shared.entry(identity.clone()).or_default().push(job);
        }
        self.jobs.push(JobWatch {
            origin,
            max_hint: config.max_hint,
            facts,
            identity,
            subscribers: Vec::new(),
            in_flight: None,
            cancelling: false,
            events: Vec::new(),
            outcome: None,
        });
        self.origins[origin].live_jobs += 1;
        self.running += 1;
        Ok(())
    }

    /// Whether some subscriber of `job` still follows it (has neither stopped nor
    /// finished).
    fn followed(&self, job: usize) -> bool {
        self.jobs[job].subscribers.iter().any(|s| {
            let watch = &self.subscribers[*s];
            watch.stopped_at.is_none() && !watch.finished
        })
    }

    /// Another running job with the same identity as `job` that somebody still
    /// follows: the two should have been one.
    pub(super) fn twin(&self, job: usize) -> Option<usize> {
        let identity = self.jobs[job].identity.as_ref()?;
        self.shared
            .get(identity)?
            .iter()
            .copied()
            .find(|other| *other != job && !self.jobs[*other].is_over() && self.followed(*other))
    }

    /// Subscriber number `subscriber` (the next one) joined or started `job`, with
    /// a spec of this identity (see [`FleetChecker::job_started`]).
    pub fn subscribed(
        &mut self,
        subscriber: usize,
        job: usize,
        identity: Option<&str>,
        now: Instant,
    ) -> Result<(), FleetViolation> {
        if subscriber != self.subscribers.len() || job >= self.jobs.len() {
            return Err(self.violation(
                now,
                Some(job),
                Some(subscriber),
                "the simulator numbers subscribers in order",
                format!("after {} subscribers", self.subscribers.len()),
            ));
        }
        if self.jobs[job].is_over() {
            return Err(self.violation(
                now,
                Some(job),
                Some(subscriber),
                "a subscriber joins a running job",
                "the fleet made it join a job that has finished".to_owned(),
            ));
        }
        if self.jobs[job].identity.as_deref() != identity {
            return Err(self.violation(
                now,
                Some(job),
                Some(subscriber),
                "only the same profile, status URL and headers share a job",
                format!(
                    "a subscription to {} joined job {job}, which polls {}",
                    identity.unwrap_or("a new submitted job"),
                    self.jobs[job]
                        .identity
                        .as_deref()
                        .unwrap_or("a submitted job")
                ),
            ));
        }
        if let Some(twin) = self.twin(job) {
            return Err(self.violation(
                now,
                Some(job),
                Some(subscriber),
                "a shared job sends one request per poll",
                format!(
                    "a subscription to the status URL job {twin} polls went to job {job}: {}",
                    self.jobs[job].identity.as_deref().unwrap_or("")
                ),
            ));
        }
        self.subscribers.push(SubscriberWatch {
            job,
            cursor: self.jobs[job].events.len(),
            stopped_at: None,
            finished: false,
            left: false,
        });
        self.jobs[job].subscribers.push(subscriber);
        Ok(())
    }

    /// The simulator stopped `subscriber` (or stopped everything). The stop must
    /// be acted on within the same call (see [`FleetChecker::settled`]).
    pub fn stopped(&mut self, subscriber: usize, now: Instant) {
        if let Some(watch) = self.subscribers.get_mut(subscriber)
            && watch.stopped_at.is_none()
        {
            watch.stopped_at = Some(now);
            self.stops.push((subscriber, now));
        }
    }

    /// Whether the origin of `subscriber`'s job is held back at `now` by a
    /// rate-limit answer.
    pub fn held_at(&self, subscriber: usize, now: Instant) -> bool {
        self.subscribers
            .get(subscriber)
            .and_then(|s| self.jobs.get(s.job))
            .is_some_and(|job| now < self.origins[job.origin].hint_until)
    }

    /// Whether `subscriber` received its outcome.
    pub fn has_finished(&self, subscriber: usize) -> bool {
        self.subscribers.get(subscriber).is_some_and(|s| s.finished)
    }

    /// The server handled a request of `job` at server time `at`, answering
    /// `status`; `server_id` is the job's id on the server, if now known.
    pub fn served(
        &mut self,
        job: usize,
        purpose: Purpose,
        status: http::StatusCode,
        at: Instant,
        server_id: Option<String>,
    ) {
        let Some(watch) = self.jobs.get_mut(job) else {
            return;
        };
        if watch.facts.server_id.is_none() {
            watch.facts.server_id = server_id;
        }
        self.per_job.on_server_answer(job, purpose, status, at);
    }

    /// The job's server id, once known.
    pub fn server_id(&self, job: usize) -> Option<&str> {
        self.jobs.get(job)?.facts.server_id.as_deref()
    }

    /// Whether the fleet sent the final outcome of `job`.
    pub fn is_over(&self, job: usize) -> bool {
        self.jobs.get(job).is_some_and(JobWatch::is_over)
    }

    /// The fleet sent `event` to `subscriber`.
    pub fn event(
        &mut self,
        subscriber: usize,
        event: &Event,
        now: Instant,
    ) -> Result<(), FleetViolation> {
        let watch = self.subscriber(subscriber, now)?;
        let job = watch.job;
        let fail = |checker: &FleetChecker, invariant: &str, detail: String| {
            Err(checker.violation(now, Some(job), Some(subscriber), invariant, detail))
        };
        if watch.finished {
            return fail(
                self,
                "nothing after the outcome",
                format!("event after the subscriber's outcome: {event}"),
            );
        }
        let cursor = watch.cursor;
        let known = self.jobs[job].events.len();
        if cursor == known {
            // The first copy of a new event.
            self.per_job
                .on_output(job, &Output::Event(event.clone()), now)
                .map_err(|v| self.placed(v))?;
            self.jobs[job].events.push(event.clone());
        } else if self.jobs[job].events.get(cursor) != Some(event) {
            return fail(
                self,
                "events of a shared job reach every subscriber",
                format!(
                    "received {event}, but event {cursor} of the job was {}",
                    self.jobs[job].events[cursor]
                ),
            );
        }
        self.subscribers[subscriber].cursor += 1;
        self.touched.push(job);
        Ok(())
    }

    /// The fleet sent `outcome` to `subscriber`; `job_over` tells whether the fleet
    /// still runs the job after it (a subscriber that stopped leaves a shared job
    /// that runs on). `server` is the job's origin's model, for the truth.
    pub fn finished(
        &mut self,
        subscriber: usize,
        outcome: &Outcome,
        job_over: bool,
        now: Instant,
        server: &ServerModel,
    ) -> Result<(), FleetViolation> {
        let watch = self.subscriber(subscriber, now)?;
        let job = watch.job;
        let stopped_at = watch.stopped_at;
        let fail = |checker: &FleetChecker, invariant: &str, detail: String| {
            Err(checker.violation(now, Some(job), Some(subscriber), invariant, detail))
        };
        if watch.finished {
            return fail(
                self,
                "every subscriber receives exactly one outcome",
                format!("a second outcome: {outcome}"),
            );
        }
        self.subscribers[subscriber].finished = true;
        self.subscribers[subscriber].left = !job_over;
        self.touched.push(job);
        if job_over {
            match &self.jobs[job].outcome {
                None => {
                    self.per_job
                        .on_output(job, &Output::Finished(outcome.clone()), now)
                        .map_err(|v| self.placed(v))?;
                    self.jobs[job].outcome = Some(outcome.clone());
                    self.running = self.running.saturating_sub(1);
                    let o = &mut self.origins[self.jobs[job].origin];
                    o.live_jobs = o.live_jobs.saturating_sub(1);
                }
                Some(first) if first != outcome => {
                    return fail(
                        self,
                        "every subscriber of a shared job receives its outcome",
                        format!("received {outcome}, another subscriber received {first}"),
                    );
                }
                Some(_) => {}
            }
        } else if stopped_at.is_none() {
            return fail(
                self,
                "a subscriber's outcome comes with its job's, or after it stopped",
                format!("received {outcome} while the job runs on, without stopping"),
            );
        }
        let facts = JobFacts {
            cancelled_at: stopped_at,
            ..self.jobs[job].facts.clone()
        };
        self.per_job
            .on_outcome(job, outcome, now, &facts, server)
            .map_err(|v| {
                let mut violation = self.placed(v);
                violation.subscriber = Some(subscriber);
                violation
            })
    }

    /// At the end of the run: every subscriber has its outcome, and the fleet is
    /// empty with nothing in flight.
    pub fn at_end(&self, now: Instant, fleet_is_empty: bool) -> Result<(), FleetViolation> {
        if let Some(subscriber) = self.subscribers.iter().position(|s| !s.finished) {
            let job = self.subscribers[subscriber].job;
            return Err(self.violation(
                now,
                Some(job),
                Some(subscriber),
                "liveness",
                "the subscriber never received an outcome".to_owned(),
            ));
        }
        if !fleet_is_empty || self.in_flight != 0 {
            return Err(self.violation(
                now,
                None,
                None,
                "liveness",
                format!(
                    "the run ended with the fleet {} and {} requests in flight",
                    if fleet_is_empty { "empty" } else { "not empty" },
                    self.in_flight
                ),
            ));
        }
        Ok(())
    }
}
