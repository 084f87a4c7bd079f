//! The table of long-running operations run through the driver against the
//! reference server on loopback: how a case is written, run and judged. Each case
//! gets its own server, so ids (`azop-1`, `op-1`) and request counts are its own.
#![allow(dead_code, unreachable_pub)]

use std::fmt::{self, Write as _};
use std::time::{Duration, Instant};

use http::Method;
use jobpoll_core::event::CancelledBy;
use jobpoll_core::profile::{Completion, FinalStateVia};
use jobpoll_core::{Config, Event, JobSpec, Outcome, PollError, Profile, Schedule, Start};
use jobpoll_server::http::{ServeOptions, Server, SharedModel};
use jobpoll_server::plan::{AzureHeader, AzurePlan, Ending, JobPlan};
use jobpoll_tokio::Client;
use serde_json::{Value, json};

/// The resource every Azure case works on (each case has its own server).
pub const RESOURCE: &str = "/azure/resources/res1";

pub const AAO: AzureHeader = AzureHeader::AzureAsyncOperation;
pub const OL: AzureHeader = AzureHeader::OperationLocation;
pub const LOC: AzureHeader = AzureHeader::Location;

/// Polls and retries every 40 ms, the servers' `Retry-After: 1` cut to 40 ms,
/// 3 unreadable answers or errors in a row end the wait.
pub fn config() -> Config {
    let ms = Duration::from_millis(1);
    Config {
        poll: Schedule::fixed(40 * ms),
        retry: Schedule::fixed(40 * ms),
        deadline: Some(Duration::from_secs(15)),
        request_time_limit: Duration::from_secs(3),
        max_hint: 40 * ms,
        not_found_grace: 500 * ms,
        max_consecutive_errors: Some(3),
        max_unreadable: 3,
        ..Config::standard()
    }
}

/// Which requests a count is about, by the role of their path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The create request (any method but GET at the create URL).
    Create,
    /// `GET /azure/operations/{id}`: the `Azure-AsyncOperation` monitor.
    Aao,
    /// `GET /azure/operation-status/{id}`: the `Operation-Location` monitor.
    Ol,
    /// `GET /azure/operation-results/{id}`: the Location of the create answer.
    Location,
    /// `GET /azure/operation-results/{id}/{n}`: a Location a 202 moved to.
    Moved,
    /// `GET /azure/resources/{name}`: the resource (the request URL).
    Resource,
    /// `GET /azure/results/{id}`: what `resourceLocation` names.
    Results,
    /// `GET /v1/{name}` or `GET /api/v1/jobs/{id}`: a status poll.
    Poll,
    /// `POST /v1/{name}:cancel`.
    Cancel,
}

pub const ROLES: [Role; 9] = [
    Role::Create,
    Role::Aao,
    Role::Ol,
    Role::Location,
    Role::Moved,
    Role::Resource,
    Role::Results,
    Role::Poll,
    Role::Cancel,
];

impl Role {
    fn of(method: &str, path: &str) -> Option<Role> {
        let get = method.eq_ignore_ascii_case("GET");
        let role = if path.ends_with(":cancel") {
            Role::Cancel
        } else if !get
            && (path.starts_with("/azure/resources")
                || path == "/v1/operations"
                || (path.starts_with("/api/v1/") && path.ends_with("-job")))
        {
            Role::Create
        } else if !get {
            return None;
        } else if path.starts_with("/azure/operations/") {
            Role::Aao
        } else if path.starts_with("/azure/operation-status/") {
            Role::Ol
        } else if let Some(rest) = path.strip_prefix("/azure/operation-results/") {
            if rest.contains('/') {
                Role::Moved
            } else {
                Role::Location
            }
        } else if path.starts_with("/azure/resources/") {
            Role::Resource
        } else if path.starts_with("/azure/results/") {
            Role::Results
        } else if path.starts_with("/v1/") || path.starts_with("/api/v1/jobs/") {
            Role::Poll
        } else {
            return None;
        };
        Some(role)
    }

    fn label(self) -> &'static str {
        match self {
            Role::Create => "creates",
            Role::Aao => "AAO polls",
            Role::Ol => "OL polls",
            Role::Location => "Location GETs",
            Role::Moved => "moved-Location GETs",
            Role::Resource => "resource GETs",
            Role::Results => "resourceLocation GETs",
            Role::Poll => "polls",
            Role::Cancel => "cancels",
        }
    }
}

/// How many requests of a role are expected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Count {
    Exactly(u64),
    AtLeast(u64),
}

impl Count {
    fn holds(self, n: u64) -> bool {
        match self {
            Count::Exactly(want) => n == want,
            Count::AtLeast(want) => n >= want,
        }
    }
}

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Count::Exactly(n) => write!(f, "{n}"),
            Count::AtLeast(n) => write!(f, ">={n}"),
        }
    }
}

/// What the final body (the results, else the result) must be.
#[derive(Clone, Debug)]
pub enum Body {
    /// The Azure resource after success: `provisioningState: Succeeded`, named
    /// `res1`, and (`echo`) with the tags and properties the request sent.
    Resource { echo: bool },
    /// The operation monitor's last body: `status: Succeeded`.
    Monitor,
    /// Nothing (a 204, or an empty answer): no body, or `null`.
    Empty,
    /// A final GET whose answer was empty: no results and no results error (the
    /// result is the monitor's body).
    EmptyFinalGet,
    /// A Google operation's `response`.
    GoogleResponse,
    /// Not checked (the outcome is not a success).
    Unchecked,
}

impl fmt::Display for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Body::Resource { echo: true } => f.write_str("the resource with the request's fields"),
            Body::Resource { echo: false } => f.write_str("the succeeded resource"),
            Body::Monitor => f.write_str("the monitor's body"),
            Body::Empty => f.write_str("no body"),
            Body::EmptyFinalGet => f.write_str("an empty final GET"),
            Body::GoogleResponse => f.write_str("the operation's response"),
            Body::Unchecked => f.write_str("-"),
        }
    }
}

/// One more thing the outcome must show.
#[derive(Clone, Debug)]
pub enum Extra {
    /// The outcome's message (failure message, last error) contains this.
    Says(&'static str),
    /// The last error was an unreadable answer.
    Unreadable,
    /// A succeeded outcome notes that the final GET failed.
    ResultsError,
    /// Cancelled by the server / by us with the server confirming.
    CancelledByServer,
    CancelledByClientConfirmed,
    /// The failure details carry this `code`.
    DetailsCode(Value),
    /// At least one progress event reported a percentage below 100.
    Progress,
    /// The job id the outcome reports.
    JobId(&'static str),
    /// No request was refused for want of the session cookie.
    NoRefusals,
    /// After the run, `GET path` answers a body whose `pointer` is `value`.
    ServerShows(&'static str, &'static str, Value),
}

/// One operation and how the SDKs say it ends.
pub struct Case {
    pub name: String,
    pub method: Method,
    pub path: String,
    pub plan: JobPlan,
    /// Fields of the create body beside the plan (echoed by a PUT/PATCH resource).
    pub payload: bool,
    /// Send the plan in the `Jobpoll-Plan` header, with no body.
    pub plan_in_header: bool,
    pub profile: Profile,
    /// Cancel through the handle once the first status poll was answered.
    pub cancel: bool,
    pub kind: &'static str,
    pub body: Body,
    pub counts: Vec<(Role, Count)>,
    pub extras: Vec<Extra>,
}

/// An Azure operation: `method` on the resource, with the create answer's
/// polling headers (`None`: the server's classic pair `Azure-AsyncOperation` +
/// `Location` of the resource). It runs 200 ms and succeeds unless changed.
pub fn azure(method: Method, headers: Option<&[AzureHeader]>) -> Case {
    let is_delete = method == Method::DELETE;
    let payload = method == Method::PUT || method == Method::PATCH;
    let name = format!(
        "{method} {}",
        match headers {
            None => "AAO+Location(resource)".to_owned(),
            Some([]) => "no header".to_owned(),
            Some(list) => list
                .iter()
                .map(|h| match h {
                    AzureHeader::AzureAsyncOperation => "AAO",
                    AzureHeader::OperationLocation => "OL",
                    AzureHeader::Location => "Location",
                })
                .collect::<Vec<_>>()
                .join("+"),
        }
    );
    Case {
        name,
        method,
        path: RESOURCE.to_owned(),
        plan: JobPlan {
            duration: Duration::from_millis(200),
            azure: AzurePlan {
                headers: headers.map(<[AzureHeader]>::to_vec),
                ..AzurePlan::default()
            },
            ..JobPlan::default()
        },
        payload,
        plan_in_header: is_delete,
        profile: Profile::azure_operation(),
        cancel: false,
        kind: "succeeded",
        body: Body::Unchecked,
        counts: vec![(Role::Create, Count::Exactly(1))],
        extras: Vec::new(),
    }
}

/// A jobs-API job created with `POST /api/v1/demo-job`, running 200 ms.
pub fn jobs(name: &str) -> Case {
    Case {
        name: format!("jobs API {name}"),
        path: "/api/v1/demo-job".to_owned(),
        profile: Profile::jobs(),
        ..google(name)
    }
}

/// A Google operation created with `POST /v1/operations`, running 200 ms.
pub fn google(name: &str) -> Case {
    Case {
        name: format!("Google {name}"),
        method: Method::POST,
        path: "/v1/operations".to_owned(),
        plan: JobPlan {
            duration: Duration::from_millis(200),
            ..JobPlan::default()
        },
        payload: false,
        plan_in_header: false,
        profile: Profile::google_operation(),
        cancel: false,
        kind: "succeeded",
        body: Body::Unchecked,
        counts: vec![(Role::Create, Count::Exactly(1))],
        extras: Vec::new(),
    }
}

impl Case {
    pub fn named(mut self, detail: &str) -> Case {
        write!(self.name, ", {detail}").ok();
        self
    }

    pub fn initial(mut self, status: u16) -> Case {
        self.plan.azure.initial_status = Some(status);
        self.named(&format!("initial {status}"))
    }

    pub fn at_once(mut self) -> Case {
        self.plan.duration = Duration::ZERO;
        self
    }

    pub fn plan(mut self, change: impl FnOnce(&mut JobPlan)) -> Case {
        change(&mut self.plan);
        self
    }

    pub fn via(mut self, via: FinalStateVia) -> Case {
        self.profile.completion = Completion::AzureOperation {
            final_state_via: Some(via),
        };
        let text = serde_json::to_value(via).unwrap_or_default();
        self.named(&format!("final-state-via {}", text.as_str().unwrap_or("?")))
    }

    pub fn fails(mut self) -> Case {
        self.plan.ending = Ending::Fail {
            message: "quota".to_owned(),
        };
        self.kind = "failed";
        self.named("fails")
    }

    pub fn expect(mut self, kind: &'static str, body: Body) -> Case {
        self.kind = kind;
        self.body = body;
        self
    }

    pub fn count(mut self, role: Role, count: Count) -> Case {
        self.counts.retain(|(r, _)| *r != role);
        self.counts.push((role, count));
        self
    }

    pub fn exactly(self, role: Role, n: u64) -> Case {
        self.count(role, Count::Exactly(n))
    }

    pub fn at_least(self, role: Role, n: u64) -> Case {
        self.count(role, Count::AtLeast(n))
    }

    pub fn with(mut self, extra: Extra) -> Case {
        self.extras.push(extra);
        self
    }

    fn spec(&self, base: &str) -> JobSpec {
        let plan = serde_json::to_value(&self.plan).unwrap_or_default();
        let mut body = json!({ "plan": plan });
        if self.payload {
            body["tags"] = json!({"case": self.name});
            body["properties"] = json!({"size": "S1"});
        }
        let url = format!("{base}{}", self.path).parse().expect("a URL");
        let spec = JobSpec {
            profile: self.profile.clone(),
            start: Start::Submit {
                method: self.method.clone(),
                url,
                body: (!self.plan_in_header).then(|| body.to_string()),
            },
            headers: Vec::new(),
        };
        if self.plan_in_header {
            spec.with_header("Jobpoll-Plan", plan.to_string())
        } else {
            spec
        }
    }

    fn expected(&self) -> String {
        let mut text = format!("{}, body: {}", self.kind, self.body);
        for role in ROLES {
            let count = self
                .counts
                .iter()
                .find(|(r, _)| *r == role)
                .map_or(Count::Exactly(0), |(_, c)| *c);
            if count != Count::Exactly(0) {
                write!(text, ", {} {count}", role.label()).ok();
            }
        }
        for extra in &self.extras {
            write!(text, ", {extra:?}").ok();
        }
        text
    }
}

/// How a case ended, and whether that is what the rules say.
pub struct Verdict {
    pub name: String,
    pub expected: String,
    pub got: String,
    pub problems: Vec<String>,
}

/// Runs one case on its own server.
pub async fn run(case: Case) -> Verdict {
    let model = SharedModel::new(ServeOptions::default());
    let server = Server::bind_loopback(model.clone())
        .await
        .expect("loopback server");
    let base = server.base_url();
    let client = Client::new();
    let mut handle = client.start(case.spec(&base), config()).expect("a job");
    let mut events = handle.events();
    let collected = tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Some(event) = events.recv().await {
            seen.push(event);
        }
        seen
    });
    if case.cancel {
        let until = Instant::now() + Duration::from_secs(5);
        while tally(&model, Role::Poll) == 0 && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        handle.cancel();
    }
    let outcome = tokio::time::timeout(Duration::from_secs(30), handle)
        .await
        .expect("the job ends")
        .expect("the driver ran");
    let events = collected.await.expect("the events");
    let counts: Vec<(Role, u64)> = ROLES.iter().map(|&r| (r, tally(&model, r))).collect();
    let refusals = model.requests().iter().filter(|r| r.status == 401).count();
    let mut shown = Vec::new();
    for extra in &case.extras {
        if let Extra::ServerShows(path, pointer, _) = extra {
            let text = reqwest::get(format!("{base}{path}"))
                .await
                .expect("a GET")
                .text()
                .await
                .expect("a body");
            let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            shown.push(body.pointer(pointer).cloned().unwrap_or(Value::Null));
        }
    }
    server.shutdown().await;
    judge(&case, &outcome, &events, &counts, refusals, &shown)
}

fn tally(model: &SharedModel, role: Role) -> u64 {
    model
        .request_counts()
        .iter()
        .filter(|c| Role::of(&c.method, &c.path) == Some(role))
        .map(|c| c.count)
        .sum()
}

fn final_body(outcome: &Outcome) -> Option<&Value> {
    match outcome {
        Outcome::Succeeded {
            result, results, ..
        } => results.as_ref().or(result.as_ref()),
        _ => None,
    }
}

fn message(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Failed { message, .. } => message.clone(),
        Outcome::GaveUp { last_error, .. } => last_error.to_string(),
        Outcome::Succeeded { results_error, .. } => results_error.clone().unwrap_or_default(),
        other => other.to_string(),
    }
}

fn body_holds(case: &Case, outcome: &Outcome, body: Option<&Value>) -> bool {
    match &case.body {
        Body::EmptyFinalGet => matches!(
            outcome,
            Outcome::Succeeded {
                results: None,
                results_error: None,
                ..
            }
        ),
        Body::Unchecked => true,
        Body::Empty => body.is_none_or(Value::is_null),
        Body::Monitor => body.is_some_and(|b| b["status"] == "Succeeded" && b["id"].is_string()),
        Body::GoogleResponse => body.is_some_and(|b| {
            b["uri"]
                .as_str()
                .is_some_and(|u| u.ends_with("/result.json"))
        }),
        Body::Resource { echo } => body.is_some_and(|b| {
            b["name"] == "res1"
                && b["properties"]["provisioningState"] == "Succeeded"
                && (!echo || (b["tags"]["case"] == case.name && b["properties"]["size"] == "S1"))
        }),
    }
}

fn judge(
    case: &Case,
    outcome: &Outcome,
    events: &[Event],
    counts: &[(Role, u64)],
    refusals: usize,
    shown: &[Value],
) -> Verdict {
    let mut problems = Vec::new();
    if outcome.kind() != case.kind {
        problems.push(format!("outcome {}", outcome.kind()));
    }
    let body = final_body(outcome);
    if !body_holds(case, outcome, body) {
        problems.push("body".to_owned());
    }
    for &(role, n) in counts {
        let want = case
            .counts
            .iter()
            .find(|(r, _)| *r == role)
            .map_or(Count::Exactly(0), |(_, c)| *c);
        if !want.holds(n) {
            problems.push(format!("{} {n}, not {want}", role.label()));
        }
    }
    let mut shown = shown.iter();
    for extra in &case.extras {
        let holds = match extra {
            Extra::Says(text) => message(outcome).contains(text),
            Extra::Unreadable => matches!(
                outcome,
                Outcome::GaveUp {
                    last_error: PollError::Unreadable(_),
                    ..
                }
            ),
            Extra::ResultsError => matches!(
                outcome,
                Outcome::Succeeded {
                    results_error: Some(_),
                    ..
                }
            ),
            Extra::CancelledByServer => matches!(
                outcome,
                Outcome::Cancelled {
                    by: CancelledBy::Server,
                    ..
                }
            ),
            Extra::CancelledByClientConfirmed => matches!(
                outcome,
                Outcome::Cancelled {
                    by: CancelledBy::Client {
                        server_confirmed: Some(true)
                    },
                    ..
                }
            ),
            Extra::DetailsCode(code) => matches!(
                outcome,
                Outcome::Failed { details: Some(details), .. } if details["code"] == *code
            ),
            Extra::Progress => events.iter().any(
                |e| matches!(e, Event::Progress(p) if p.percentage.is_some_and(|p| p < 100.0)),
            ),
            Extra::JobId(id) => outcome.stats().job_id.as_deref() == Some(*id),
            Extra::NoRefusals => refusals == 0,
            Extra::ServerShows(_, _, want) => shown.next() == Some(want),
        };
        if !holds {
            problems.push(format!("{extra:?}"));
        }
    }
    let mut got = format!("{}: {}", outcome.kind(), message(outcome));
    if let Outcome::Succeeded {
        result, results, ..
    } = outcome
    {
        let shape = |v: &Option<Value>| match v {
            None => "none",
            Some(Value::Null) => "null",
            Some(_) => "a body",
        };
        write!(
            got,
            "; result {}, results {}",
            shape(result),
            shape(results)
        )
        .ok();
    }
    if let Some(body) = body {
        let text = body.to_string();
        let cut: String = text.chars().take(160).collect();
        write!(got, ", body {cut}").ok();
    }
    for (role, n) in counts.iter().filter(|(_, n)| *n > 0) {
        write!(got, ", {} {n}", role.label()).ok();
    }
    Verdict {
        name: case.name.clone(),
        expected: case.expected(),
        got,
        problems,
    }
}

/// Runs every case at once and prints, per case, what was expected and what
/// came; fails listing the cases that did not end as the rules say.
pub async fn run_table(cases: Vec<Case>) {
    let total = cases.len();
    let mut set = tokio::task::JoinSet::new();
    for (index, case) in cases.into_iter().enumerate() {
        set.spawn(async move { (index, run(case).await) });
    }
    let mut verdicts = Vec::new();
    while let Some(joined) = set.join_next().await {
        verdicts.push(joined.expect("a case ran"));
    }
    verdicts.sort_by_key(|(index, _)| *index);
    let mut wrong = Vec::new();
    for (_, verdict) in &verdicts {
        let mark = if verdict.problems.is_empty() {
            "ok  "
        } else {
            "FAIL"
        };
        println!(
            "{mark} {}\n     expected {}\n     got      {}",
            verdict.name, verdict.expected, verdict.got
        );
        if !verdict.problems.is_empty() {
            println!("     wrong: {}", verdict.problems.join("; "));
            wrong.push(format!("{}: {}", verdict.name, verdict.problems.join("; ")));
        }
    }
    let right = total - wrong.len();
    println!("{right} of {total} operations ended as the SDK rules say");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
