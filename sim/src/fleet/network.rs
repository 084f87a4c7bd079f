//! The origins' networks: a request crosses its origin's faulty network to its
//! server, unless a proxy answers it with a bare 503; some servers pace their jobs
//! with a `Retry-After` on a 2xx status answer.

use std::time::Duration;

use jobpoll_core::{Input, Purpose, Transmit};

use super::draw::log_uniform;
use super::{Action, FleetWorld};
use crate::distributions::chance;
use crate::world::cross;

impl FleetWorld {
    /// Some servers pace their jobs: a 2xx status answer (of the fault phase)
    /// may carry a `Retry-After` of its own. Counts the paced answers, and the
    /// 429s and 503s that come while their job still keeps a longer pace.
    pub(super) fn pace(&mut self, job: usize, purpose: Purpose, input: Input) -> Input {
        let Input::Response {
            request,
            mut response,
            now,
        } = input
        else {
            return input;
        };
        let status = response.status();
        if status.is_success()
            && purpose == Purpose::Status
            && !self.jobs[job].calm
            && !response.headers().contains_key(http::header::RETRY_AFTER)
            && chance(&mut self.pace_rng, self.pace)
        {
            let seconds = log_uniform(&mut self.pace_rng, 600);
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, http::HeaderValue::from(seconds));
        }
        if let Some(wait) = response
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
        {
            if status.is_success() {
                self.summary.paced += 1;
                let until = now + Duration::from_secs(wait);
                let running = &mut self.jobs[job];
                running.paced_until = running.paced_until.max(until);
            } else if matches!(status.as_u16(), 429 | 503)
                && now + Duration::from_secs(wait) < self.jobs[job].paced_until
            {
                self.summary.inside_pace += 1;
            }
        } else if matches!(status.as_u16(), 429 | 503) && now < self.jobs[job].paced_until {
            self.summary.inside_pace += 1;
        }
        Input::Response {
            request,
            response,
            now,
        }
    }

    /// Sends a request of `job` across its origin's network to its server.
    pub(super) fn send(&mut self, job: usize, transmit: &Transmit) {
        let running = &self.jobs[job];
        let origin = &mut self.origins[running.origin];
        let faults = if running.calm {
            &self.calm
        } else {
            &origin.faults
        };
        if !running.calm && chance(&mut self.pace_rng, self.shed) {
            // An overloaded proxy in front of the server: a bare 503, no wait.
            let at = self.now + faults.latency(&mut self.pace_rng);
            let response = http::Response::builder()
                .status(503)
                .body(bytes::Bytes::from_static(b"overloaded"))
                .unwrap_or_default();
            let input = Input::Response {
                request: transmit.id,
                response,
                now: at,
            };
            self.agenda.push(at, Action::Arrive { job, input });
            return;
        }
        let crossing = cross(
            faults,
            &mut self.rng,
            &mut origin.server,
            transmit,
            self.now,
        );
        if let Some((at, status)) = crossing.served {
            let server_id =
                if self.checker.server_id(job).is_none() && transmit.purpose == Purpose::Status {
                    origin.server.job_id_for_path(transmit.url.path())
                } else {
                    None
                };
            self.checker
                .served(job, transmit.purpose, status, at, server_id);
        }
        if let Some((at, input)) = crossing.delivery {
            self.agenda.push(at, Action::Arrive { job, input });
        }
    }
}
