//! One job on the server, and where it stands at any instant.
//!
//! Nothing here changes with time: a job's state at `now` is a pure function of its
//! plan, its creation time and, if it was cancelled, the cancel time. Asking twice
//! gives the same answer, asking about the past is allowed, and no background work
//! is ever needed.

use std::time::Duration;

use jobpoll_core::Instant;

use crate::model::Truth;
use crate::plan::{Ending, Fault, JobPlan, Shape};

/// A job is queued for its first second, or its first tenth if that is shorter.
const QUEUED_AT_MOST: Duration = Duration::from_secs(1);

/// What a job remembers beyond its plan, by shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Details {
    /// The jobs API: the job type, from the create path (`generate-video-job` gives
    /// `generate_video`).
    Jobs { kind: String },
    /// Code generation: the graph whose code is generated.
    Codegen { graph_id: String },
    /// Files with tasks.
    FileTasks,
    /// Turns: the project and session the turn belongs to.
    Turn { project: String, session: String },
    /// Google operations: the operation's name (`operations/op-1`).
    Google { name: String },
    /// Azure: the resource the operation works on, the method that started it,
    /// and the resource's fields as the client last put or patched them.
    Azure {
        resource: String,
        method: AzureMethod,
        payload: serde_json::Map<String, serde_json::Value>,
    },
}

/// The method of the request that started an Azure operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AzureMethod {
    Put,
    Patch,
    Post,
    Delete,
}

impl AzureMethod {
    /// The method of `method`, if an Azure operation can start with it.
    pub(crate) fn of(method: &http::Method) -> Option<AzureMethod> {
        match *method {
            http::Method::PUT => Some(AzureMethod::Put),
            http::Method::PATCH => Some(AzureMethod::Patch),
            http::Method::POST => Some(AzureMethod::Post),
            http::Method::DELETE => Some(AzureMethod::Delete),
            _ => None,
        }
    }
}

/// What the requests about a job have done to it so far (counted per job, for
/// plans whose answers change with the count).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Seen {
    /// Azure status monitor requests answered by the job.
    pub(crate) monitor_polls: u32,
    /// Azure final GETs (requests for the result after success).
    pub(crate) final_gets: u32,
    /// The step of the Azure Location URL in force (0: the initial one).
    pub(crate) location_step: u32,
}

impl Details {
    /// The API shape these details belong to.
    pub(crate) fn shape(&self) -> Shape {
        match self {
            Details::Jobs { .. } => Shape::Jobs,
            Details::Codegen { .. } => Shape::Codegen,
            Details::FileTasks => Shape::FileTasks,
            Details::Turn { .. } => Shape::Turn,
            Details::Google { .. } => Shape::Google,
            Details::Azure { .. } => Shape::Azure,
        }
    }
}

/// One job.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Job {
    /// Short and deterministic: `job-1`, `op-3`.
    pub(crate) id: String,
    pub(crate) details: Details,
    pub(crate) plan: JobPlan,
    pub(crate) created_at: Instant,
    /// Set by a cancel request that reached the job while it was running.
    pub(crate) cancelled_at: Option<Instant>,
    /// Whether the job has answered with a session in force (plans with
    /// `session_cookie` only): from then on, requests about it need one.
    pub(crate) session_started: bool,
    /// What its requests have done.
    pub(crate) seen: Seen,
    /// Whether a delete request removed its record (Google): it answers 404.
    pub(crate) deleted: bool,
}

/// Where a job stands at one instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase<'a> {
    /// Accepted, not started.
    Queued,
    /// Working.
    Running,
    /// Finished well.
    Succeeded,
    /// Finished with the plan's failure message.
    Failed { message: &'a str },
    /// Stopped by a cancel request.
    Cancelled,
}

impl Phase<'_> {
    /// Whether the job is over.
    pub(crate) fn is_finished(self) -> bool {
        !matches!(self, Phase::Queued | Phase::Running)
    }
}

impl Job {
    /// The API shape of the job.
    pub(crate) fn shape(&self) -> Shape {
        self.details.shape()
    }

    /// How long the job has existed at `now` (zero before its creation).
    pub(crate) fn age(&self, now: Instant) -> Duration {
        now - self.created_at
    }

    /// When the job ends by itself, if it ever does.
    pub(crate) fn natural_end(&self) -> Option<Instant> {
        match self.plan.ending {
            Ending::Never => None,
            Ending::Succeed | Ending::Fail { .. } => Some(self.created_at + self.plan.duration),
        }
    }

    /// When the job finished, if it has by `now`: the end of its duration, or the
    /// cancel time.
    pub(crate) fn finished_at(&self, now: Instant) -> Option<Instant> {
        match self.cancelled_at {
            Some(at) if at <= now => Some(at),
            _ => self.natural_end().filter(|end| *end <= now),
        }
    }

    /// Where the job stands at `now`.
    pub(crate) fn phase(&self, now: Instant) -> Phase<'_> {
        if self.cancelled_at.is_some_and(|at| at <= now) {
            return Phase::Cancelled;
        }
        if self.natural_end().is_some_and(|end| end <= now) {
            if self.plan.azure.canceled && self.shape() == Shape::Azure {
                return Phase::Cancelled;
            }
            return match &self.plan.ending {
                Ending::Fail { message } => Phase::Failed { message },
                Ending::Succeed | Ending::Never => Phase::Succeeded,
            };
        }
        let queued_for = QUEUED_AT_MOST.min(self.plan.duration / 10);
        if self.age(now) < queued_for {
            Phase::Queued
        } else {
            Phase::Running
        }
    }

    /// Progress in percent at `now`: linear in time, at most 99 until the job has
    /// succeeded, 100 after; frozen at the finish for failed and cancelled jobs.
    pub(crate) fn percent(&self, now: Instant) -> u8 {
        match self.phase(now) {
            Phase::Succeeded => 100,
            _ => self.linear_percent(self.finished_at(now).unwrap_or(now)),
        }
    }

    /// `floor(age / duration × 100)`, at most 99.
    fn linear_percent(&self, at: Instant) -> u8 {
        let duration = self.plan.duration.as_micros();
        if duration == 0 {
            return 99;
        }
        let percent = self.age(at).as_micros().saturating_mul(100) / duration;
        u8::try_from(percent.min(99)).unwrap_or(99)
    }

    /// Which of `count` equal stages of the duration the job is in at `at`: 0 at
    /// the start, at most `count - 1` (a job that outlives its duration stays in
    /// the last stage). What the shapes use to grow tasks, steps and blocks.
    pub(crate) fn stage(&self, at: Instant, count: usize) -> usize {
        let last = count.saturating_sub(1);
        let duration = self.plan.duration.as_micros();
        if duration == 0 {
            return last;
        }
        let count = u128::try_from(count).unwrap_or(u128::MAX);
        let stage = self.age(at).as_micros().saturating_mul(count) / duration;
        usize::try_from(stage).map_or(last, |stage| stage.min(last))
    }

    /// The true remaining time at `now` (a never-ending job pretends to end at the
    /// end of its duration, as a server's estimate would).
    pub(crate) fn remaining(&self, now: Instant) -> Duration {
        self.plan.duration.saturating_sub(self.age(now))
    }

    /// Whether the job answers yet (`plan.visible_after`).
    pub(crate) fn is_visible(&self, now: Instant) -> bool {
        self.age(now) >= self.plan.visible_after
    }

    /// The fault of the first window holding the job's age at `now`.
    pub(crate) fn fault(&self, now: Instant) -> Option<&Fault> {
        let age = self.age(now);
        self.plan
            .faults
            .iter()
            .find(|window| window.from <= age && age < window.until)
            .map(|window| &window.fault)
    }

    /// What happened to the job by `now`.
    pub(crate) fn truth(&self, now: Instant) -> Truth {
        let at = self.finished_at(now).unwrap_or(now);
        match self.phase(now) {
            Phase::Queued | Phase::Running => Truth::Running,
            Phase::Succeeded => Truth::Succeeded { at },
            Phase::Failed { message } => Truth::Failed {
                at,
                message: message.to_owned(),
            },
            Phase::Cancelled => Truth::Cancelled { at },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::FaultWindow;

    fn job(plan: JobPlan) -> Job {
        Job {
            id: "job-1".to_owned(),
            details: Details::Jobs {
                kind: "demo".to_owned(),
            },
            plan,
            created_at: Instant::from_secs(100),
            session_started: false,
            cancelled_at: None,
            seen: Seen::default(),
            deleted: false,
        }
    }

    fn at(secs: f64) -> Instant {
        Instant::from_micros((secs * 1e6) as u64)
    }

    #[test]
    fn queued_then_running_then_succeeded() {
        let job = job(JobPlan::default()); // 30 s
        assert_eq!(job.phase(at(100.0)), Phase::Queued);
        assert_eq!(job.phase(at(100.999)), Phase::Queued);
        assert_eq!(job.phase(at(101.0)), Phase::Running);
        assert_eq!(job.phase(at(129.999)), Phase::Running);
        assert_eq!(job.phase(at(130.0)), Phase::Succeeded);
        // Before its creation a job is simply new.
        assert_eq!(job.phase(Instant::ZERO), Phase::Queued);
        assert_eq!(job.truth(at(129.0)), Truth::Running);
        assert_eq!(
            job.truth(at(500.0)),
            Truth::Succeeded {
                at: Instant::from_secs(130)
            }
        );
    }

    #[test]
    fn short_jobs_queue_for_a_tenth() {
        let job = job(JobPlan {
            duration: Duration::from_secs(2),
            ..JobPlan::default()
        });
        assert_eq!(job.phase(at(100.19)), Phase::Queued);
        assert_eq!(job.phase(at(100.2)), Phase::Running);
    }

    #[test]
    fn progress_is_linear_and_capped() {
        let job = job(JobPlan::default());
        assert_eq!(job.percent(at(100.0)), 0);
        assert_eq!(job.percent(at(115.0)), 50);
        assert_eq!(job.percent(at(129.99)), 99);
        assert_eq!(job.percent(at(130.0)), 100);
        let never = self::job(JobPlan {
            ending: Ending::Never,
            ..JobPlan::default()
        });
        assert_eq!(never.percent(at(10_000.0)), 99);
        assert_eq!(never.phase(at(10_000.0)), Phase::Running);
        assert_eq!(never.remaining(at(10_000.0)), Duration::ZERO);
    }

    #[test]
    fn failures_and_cancels_freeze_progress() {
        let failing = job(JobPlan {
            ending: Ending::Fail {
                message: "boom".to_owned(),
            },
            ..JobPlan::default()
        });
        assert_eq!(failing.phase(at(130.0)), Phase::Failed { message: "boom" });
        assert_eq!(failing.percent(at(200.0)), 99);
        let mut cancelled = job(JobPlan::default());
        cancelled.cancelled_at = Some(at(106.0));
        assert_eq!(cancelled.phase(at(105.0)), Phase::Running);
        assert_eq!(cancelled.phase(at(200.0)), Phase::Cancelled);
        assert_eq!(cancelled.percent(at(200.0)), 20);
        assert_eq!(
            cancelled.truth(at(200.0)),
            Truth::Cancelled { at: at(106.0) }
        );
    }

    #[test]
    fn zero_and_huge_durations() {
        let instant = job(JobPlan {
            duration: Duration::ZERO,
            ..JobPlan::default()
        });
        assert_eq!(instant.phase(at(100.0)), Phase::Succeeded);
        let huge = job(JobPlan {
            duration: Duration::from_micros(u64::MAX),
            ..JobPlan::default()
        });
        assert_eq!(huge.phase(Instant::MAX), Phase::Succeeded);
        assert_eq!(huge.percent(at(1e9)), 0);
        assert_eq!(huge.stage(at(1e9), 5), 0);
        assert_eq!(instant.stage(at(100.0), 5), 4);
    }

    #[test]
    fn stages_split_the_duration_evenly() {
        let job = job(JobPlan::default()); // 30 s
        assert_eq!(job.stage(at(100.0), 5), 0);
        assert_eq!(job.stage(at(105.999), 5), 0);
        assert_eq!(job.stage(at(106.0), 5), 1);
        assert_eq!(job.stage(at(129.0), 5), 4);
        assert_eq!(job.stage(at(1_000.0), 5), 4);
        assert_eq!(job.stage(at(1_000.0), 0), 0);
    }

    #[test]
    fn the_first_matching_fault_window_wins() {
        let job = job(JobPlan {
            faults: vec![
                FaultWindow {
                    from: Duration::from_secs(5),
                    until: Duration::from_secs(10),
                    fault: Fault::Malformed,
                },
                FaultWindow {
                    from: Duration::ZERO,
                    until: Duration::from_secs(20),
                    fault: Fault::UnknownStatus,
                },
            ],
            visible_after: Duration::from_secs(2),
            ..JobPlan::default()
        });
        assert_eq!(job.fault(at(104.0)), Some(&Fault::UnknownStatus));
        assert_eq!(job.fault(at(105.0)), Some(&Fault::Malformed));
        assert_eq!(job.fault(at(120.0)), None);
        assert!(!job.is_visible(at(101.9)));
        assert!(job.is_visible(at(102.0)));
    }
}
