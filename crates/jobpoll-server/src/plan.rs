//! What a job on the model server will do: its API shape, duration, ending, and the
//! faults it meets.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use jobpoll_core::time::serde_micros;

pub use crate::lro_plan::{
    AzureHeader, AzurePlan, CreateFailures, FinalGetFault, GooglePlan, MonitorFault,
    MonitorFaultKind, StaleLocation,
};

/// The API shapes the server speaks (the built-in profiles of the core).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Shape {
    /// The jobs API.
    Jobs,
    /// Code generation with a results endpoint.
    Codegen,
    /// Files with tasks.
    FileTasks,
    /// Turns with growing blocks.
    Turn,
    /// Google `google.longrunning` operations.
    Google,
    /// Azure long-running operations.
    Azure,
}

impl Shape {
    /// Every shape.
    pub const ALL: [Shape; 6] = [
        Shape::Jobs,
        Shape::Codegen,
        Shape::FileTasks,
        Shape::Turn,
        Shape::Google,
        Shape::Azure,
    ];

    /// The name of the core's built-in profile for this shape
    /// (`jobpoll_core::Profile::builtin`).
    pub fn profile_name(self) -> &'static str {
        match self {
            Shape::Jobs => "jobs",
            Shape::Codegen => "codegen",
            Shape::FileTasks => "file-tasks",
            Shape::Turn => "turn",
            Shape::Google => "google",
            Shape::Azure => "azure",
        }
    }
}

/// How a job ends if nobody cancels it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "ending", rename_all = "snake_case")]
pub enum Ending {
    /// Succeeds at the end of its duration.
    Succeed,
    /// Fails at the end of its duration with this message.
    Fail {
        /// The server's failure message.
        message: String,
    },
    /// Never finishes.
    Never,
}

/// A window of job age during which every request about this job gets a fault.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultWindow {
    /// Job age at which the fault starts.
    #[serde(with = "serde_micros")]
    pub from: Duration,
    /// Job age at which it stops.
    #[serde(with = "serde_micros")]
    pub until: Duration,
    /// What happens.
    pub fault: Fault,
}

/// A fault the model server produces itself (network faults are the simulator's).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "fault", rename_all = "snake_case")]
pub enum Fault {
    /// Answer this status (500, 502, 503, 504, 429, 401, ...) with an error body;
    /// with `retry_after`, also a `Retry-After` header in seconds.
    Status {
        /// The status code.
        status: u16,
        /// Optional `Retry-After` seconds.
        retry_after: Option<u64>,
    },
    /// Answer 200 with a body that is not JSON.
    Malformed,
    /// Answer 200 with a status value the API does not define.
    UnknownStatus,
    /// Answer 200 with a valid body padded to this many bytes.
    Oversized {
        /// Total body size.
        bytes: usize,
    },
}

/// Everything about one job on the model server.
///
/// Fields left out of a JSON plan take their [`JobPlan::default`] values, so a
/// client can inject `{"plan": {"ending": {"ending": "never"}}}` alone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct JobPlan {
    /// How long it runs.
    #[serde(with = "serde_micros")]
    pub duration: Duration,
    /// How it ends.
    pub ending: Ending,
    /// Whether the status reports progress in percent (linear in time).
    pub progress: bool,
    /// Standard deviation of the lognormal error on the reported remaining time;
    /// `None`: no ETA is reported. `Some(0.0)`: exact.
    pub eta_sigma: Option<f64>,
    /// The job answers 404 until this age (not visible yet).
    #[serde(with = "serde_micros")]
    pub visible_after: Duration,
    /// Faults by job age.
    pub faults: Vec<FaultWindow>,
    /// The job needs a session kept in a cookie, as some APIs do. The first answer
    /// about it starts one: unless the request already carries a session this
    /// server issued, the answer sets `Set-Cookie: session=<random>; Path=/`.
    /// Every later request about the job without a session this server issued is
    /// answered 401 with an error body. A session is the client's, not the job's,
    /// so one client may wait on many such jobs at once.
    pub session_cookie: bool,
    /// The create request itself fails at first: the first `times` create
    /// requests the server receives at this method and path are answered
    /// `status` and create nothing (see [`CreateFailures`]).
    pub create_failures: Option<CreateFailures>,
    /// How an Azure operation answers (Azure jobs only; see [`AzurePlan`]).
    pub azure: AzurePlan,
    /// How a Google operation is named (Google jobs only; see [`GooglePlan`]).
    pub google: GooglePlan,
}

impl Default for JobPlan {
    fn default() -> JobPlan {
        JobPlan {
            duration: Duration::from_secs(30),
            ending: Ending::Succeed,
            progress: true,
            eta_sigma: None,
            visible_after: Duration::ZERO,
            faults: Vec::new(),
            session_cookie: false,
            create_failures: None,
            azure: AzurePlan::default(),
            google: GooglePlan::default(),
        }
    }
}
