//! Where a job is in its life: the phase, with what only that phase holds, and the
//! request in flight, which the phase carries because the phase says what it is for.

use url::Url;

use super::io::{Purpose, RequestId};

/// Where the job is in its life. Every phase but [`Phase::Finished`] may have its
/// one request in flight, and that request is the phase's own: a submit while
/// submitting, a status poll while polling, and so on.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Phase {
    /// Creating the job with the spec's submit request.
    Submitting { request: Request },
    /// Polling the status URL.
    Polling { request: Request },
    /// The job succeeded; fetching its results.
    FetchingResults {
        /// Where from, and the result the status answer carried (boxed: few jobs
        /// are ever in this phase, and every other phase stays small).
        fetch: Box<Fetching>,
        request: Request,
    },
    /// Asking the server to cancel the job.
    Cancelling { request: Request },
    /// The outcome is decided; nothing more is sent.
    Finished,
}

/// What the results phase fetches and keeps.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Fetching {
    /// The results URL.
    pub(super) url: Url,
    /// The result the status answer carried, for the outcome.
    pub(super) pending_result: Option<serde_json::Value>,
}

/// A phase's request: `Option<InFlight>` in effect, spelled as an enum so that its
/// tag fits beside the `u32` (an `Option<InFlight>` would take 24 bytes instead of
/// 16, and every phase 32 instead of 24). Read it as an `Option` with
/// [`Phase::in_flight`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Request {
    /// Nothing in flight.
    Idle,
    /// A request awaits its answer; see [`InFlight`].
    InFlight { number: u32, expires_at: u64 },
}

/// The request in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct InFlight {
    /// Its number: request ids count up from zero and fit a `u32` (the job keeps
    /// the next one as a `u32`).
    pub(super) number: u32,
    /// When its time limit runs out, as an age.
    pub(super) expires_at: u64,
}

impl InFlight {
    /// The id its answer must carry.
    pub(super) fn id(self) -> RequestId {
        RequestId(u64::from(self.number))
    }
}

impl Phase {
    /// A phase with nothing in flight yet.
    pub(super) const SUBMITTING: Phase = Phase::Submitting {
        request: Request::Idle,
    };
    /// See [`Phase::SUBMITTING`].
    pub(super) const POLLING: Phase = Phase::Polling {
        request: Request::Idle,
    };
    /// See [`Phase::SUBMITTING`].
    pub(super) const CANCELLING: Phase = Phase::Cancelling {
        request: Request::Idle,
    };

    /// The phase that fetches the results from `url`, keeping `pending_result`.
    pub(super) fn fetching_results(url: Url, pending_result: Option<serde_json::Value>) -> Phase {
        Phase::FetchingResults {
            fetch: Box::new(Fetching {
                url,
                pending_result,
            }),
            request: Request::Idle,
        }
    }

    /// Whether the outcome is decided.
    pub(super) fn is_finished(&self) -> bool {
        matches!(self, Phase::Finished)
    }

    /// What a request sent in this phase is for (`None` once finished).
    pub(super) fn purpose(&self) -> Option<Purpose> {
        match self {
            Phase::Submitting { .. } => Some(Purpose::Submit),
            Phase::Polling { .. } => Some(Purpose::Status),
            Phase::FetchingResults { .. } => Some(Purpose::Results),
            Phase::Cancelling { .. } => Some(Purpose::Cancel),
            Phase::Finished => None,
        }
    }

    /// The request in flight, if one is, and what it is for.
    pub(super) fn in_flight(&self) -> Option<(InFlight, Purpose)> {
        let in_flight = match self {
            Phase::Submitting { request }
            | Phase::Polling { request }
            | Phase::FetchingResults { request, .. }
            | Phase::Cancelling { request } => request.in_flight()?,
            Phase::Finished => return None,
        };
        Some((in_flight, self.purpose()?))
    }

    /// The request in flight, which is then no longer in flight.
    pub(super) fn take_in_flight(&mut self) -> Option<(InFlight, Purpose)> {
        let taken = self.in_flight();
        if let Some(request) = self.request_mut() {
            *request = Request::Idle;
        }
        taken
    }

    /// Records the request just sent in this phase (nothing once finished, where
    /// nothing is sent).
    pub(super) fn start_request(&mut self, in_flight: InFlight) {
        if let Some(request) = self.request_mut() {
            *request = Some(in_flight).into();
        }
    }

    /// The results fetch's pending result, taken (`None` in every other phase).
    pub(super) fn take_pending_result(&mut self) -> Option<serde_json::Value> {
        match self {
            Phase::FetchingResults { fetch, .. } => fetch.pending_result.take(),
            _ => None,
        }
    }

    fn request_mut(&mut self) -> Option<&mut Request> {
        match self {
            Phase::Submitting { request }
            | Phase::Polling { request }
            | Phase::FetchingResults { request, .. }
            | Phase::Cancelling { request } => Some(request),
            Phase::Finished => None,
        }
    }
}

impl Request {
    /// The request in flight, if one is.
    pub(super) fn in_flight(self) -> Option<InFlight> {
        match self {
            Request::Idle => None,
            Request::InFlight { number, expires_at } => Some(InFlight { number, expires_at }),
        }
    }
}

impl From<Option<InFlight>> for Request {
    fn from(in_flight: Option<InFlight>) -> Request {
        match in_flight {
            None => Request::Idle,
            Some(InFlight { number, expires_at }) => Request::InFlight { number, expires_at },
        }
    }
}
