//! Reading a status response: the tree read (the reference), the completion
//! rules, and the pointer lookups the report is built from.

use std::borrow::Cow;

use bytes::Bytes;

use super::*;

impl Profile {
    /// The reference way to read a status response: the whole body parsed into a
    /// `serde_json::Value`, then the pointers looked up in it.
    /// [`Interpret::read_status`] gives the same answer (the same report or the same
    /// error) for every body; for [`Completion::Status`] profiles without a
    /// `revision_pointer` it first tries a sparse read of the body that builds no
    /// tree, and comes here when serde_json refuses the body. Public for
    /// differential tests and fuzzing.
    #[doc(hidden)]
    pub fn read_status_by_tree(
        &self,
        response: &http::Response<Bytes>,
    ) -> Result<StatusReport, InterpretError> {
        self.read_status_by_tree_in(response, &StatusContext::default())
    }

    /// [`Profile::read_status_by_tree`] as `context` says (it matters to Azure
    /// operations only; the id is always read).
    pub(super) fn read_status_by_tree_in(
        &self,
        response: &http::Response<Bytes>,
        context: &StatusContext<'_>,
    ) -> Result<StatusReport, InterpretError> {
        let body = response.body().as_ref();
        let (doc, outcome) = match &self.completion {
            Completion::Status { pointer, values } => {
                let doc = parse_json(body)?.ok_or_else(|| not_json(body))?;
                let status = Field { pointer, index: 0 };
                let outcome = status_rule(&doc, body, &self.name, status, values)?;
                (Some(doc), outcome)
            }
            Completion::FileTasks {
                url_pointer,
                tasks_pointer,
            } => {
                let doc = parse_json(body)?.ok_or_else(|| not_json(body))?;
                // A file is known by its URL, its tasks or, before any task, its id.
                let fields = [url_pointer, tasks_pointer]
                    .into_iter()
                    .chain(&self.submit_id_pointers)
                    .map(String::as_str);
                if !doc.is_object() || !has_any(&doc, fields.clone()) {
                    return Err(not_this_api(&self.name, fields, body));
                }
                let outcome = file_tasks_rule(&doc, url_pointer, tasks_pointer);
                (Some(doc), outcome)
            }
            Completion::GoogleOperation => {
                let doc = parse_json(body)?.ok_or_else(|| not_json(body))?;
                if !doc.is_object() || !has_any(&doc, GOOGLE_FIELDS) {
                    return Err(not_this_api(&self.name, GOOGLE_FIELDS, body));
                }
                let outcome = google_rule(&doc);
                (Some(doc), outcome)
            }
            Completion::AzureOperation { final_state_via } => {
                super::azure::status(response, context.mode, context.status_url, *final_state_via)?
            }
        };
        Ok(self.report(doc, outcome))
    }
}

/// What a completion rule reads from a status response; the profile's pointers fill
/// in the rest (and win over the `default_*` values, which apply only when the
/// corresponding pointer is not configured or finds nothing).
pub(super) struct Outcome {
    pub(super) state: JobState,
    status: String,
    /// Used on success when the profile has no `result_pointer`.
    pub(super) default_result: Option<serde_json::Value>,
    /// Used on failure when `error_message_pointer` finds no string.
    default_message: Option<String>,
    /// Used on failure when `error_details_pointer` finds nothing.
    default_details: Option<serde_json::Value>,
    /// See [`StatusReport::moved_to`].
    pub(super) moved_to: Option<Url>,
    /// See [`StatusReport::results_url`].
    pub(super) results_url: Option<Url>,
}

impl Outcome {
    pub(super) fn new(state: JobState, status: impl Into<String>) -> Outcome {
        Outcome {
            state,
            status: status.into(),
            default_result: None,
            default_message: None,
            default_details: None,
            moved_to: None,
            results_url: None,
        }
    }
}

impl Profile {
    pub(super) fn report(&self, doc: Option<serde_json::Value>, outcome: Outcome) -> StatusReport {
        let Some(doc) = doc else {
            return StatusReport {
                state: Some(outcome.state),
                status: outcome.status,
                result: outcome.default_result,
                moved_to: outcome.moved_to,
                results_url: outcome.results_url,
                ..StatusReport::default()
            };
        };
        let mut report = self.report_from(&doc, outcome, true);
        if let Some(pointer) = self.revision_pointer.as_deref() {
            report.revision = find(&doc, pointer, revision_of);
            report.body = Some(doc);
        }
        report
    }

    /// The report from a status body however its pointers are looked up: the one
    /// set of rules for the parsed tree and for the sparse read. The job id is read only
    /// when `wants_id`.
    fn report_from<'a>(
        &self,
        doc: impl Lookup<'a>,
        outcome: Outcome,
        wants_id: bool,
    ) -> StatusReport {
        let mut report = StatusReport::default();
        self.fill_report(doc, outcome, wants_id, &mut report);
        report
    }

    /// [`Profile::report_from`] into `report`, a default one.
    pub(super) fn fill_report<'a>(
        &self,
        doc: impl Lookup<'a>,
        outcome: Outcome,
        wants_id: bool,
        report: &mut StatusReport,
    ) {
        report.state = Some(outcome.state);
        report.status = outcome.status;
        report.moved_to = outcome.moved_to;
        report.results_url = outcome.results_url;
        // Fields in the order of `StatusPlan`: the status, the ids, then the rest.
        if wants_id {
            report.job_id = self
                .submit_id_pointers
                .iter()
                .enumerate()
                .find_map(|(at, pointer)| doc.find(Field::new(pointer, 1 + at), id_text));
        }
        let base = 1 + self.submit_id_pointers.len();
        fn field(pointer: &Option<String>, index: usize) -> Option<Field<'_>> {
            pointer.as_deref().map(|pointer| Field::new(pointer, index))
        }
        report.percentage = field(&self.percentage_pointer, base)
            .and_then(|p| doc.find(p, lenient_f64))
            .or_else(|| {
                // The ratio's pointers come after the six optional ones.
                let ratio = self.progress_ratio.as_ref()?;
                let total = doc.find(Field::new(&ratio.total, base + 7), lenient_f64)?;
                let done = doc.find(Field::new(&ratio.done, base + 6), lenient_f64)?;
                (total != 0.0).then(|| done / total * 100.0)
            })
            .filter(|p| !p.is_nan())
            .map(|p| p.clamp(0.0, 100.0));
        report.step = field(&self.step_pointer, base + 1)
            .and_then(|p| doc.find(p, Node::into_str))
            .map(str::to_owned);
        report.eta = field(&self.eta_pointer, base + 2)
            .and_then(|p| doc.find(p, |v| lenient_f64(v).filter(|s| *s >= 0.0)))
            .map(crate::time::duration_from_secs_f64);
        match outcome.state {
            JobState::Running => {}
            JobState::Succeeded => {
                report.result = match field(&self.result_pointer, base + 3) {
                    Some(p) => doc.find(p, non_null),
                    None => outcome.default_result,
                };
            }
            JobState::Failed | JobState::Cancelled => {
                let message = field(&self.error_message_pointer, base + 4)
                    .and_then(|p| doc.find(p, Node::into_str))
                    .map(str::to_owned)
                    .or(outcome.default_message);
                report.error_message = match (outcome.state, message) {
                    (_, Some(message)) => Some(message),
                    (JobState::Failed, None) => Some("the job failed".to_owned()),
                    (_, None) => None,
                };
                report.error_details = field(&self.error_details_pointer, base + 5)
                    .and_then(|p| doc.find(p, non_null))
                    .or(outcome.default_details);
            }
        }
    }
}

/// The rule of [`Completion::Status`] profiles, for the profile named `profile`: the
/// status at `pointer` is one of `values`. A body without the status at all is not
/// an answer of the profile's API; a status that is not a string is missing.
pub(super) fn status_rule<'a>(
    doc: impl Lookup<'a>,
    body: &[u8],
    profile: &str,
    pointer: Field<'_>,
    values: &StatusValues,
) -> Result<Outcome, InterpretError> {
    let Some(raw) = doc.find(pointer, Node::into_str) else {
        if !has(doc, pointer) {
            return Err(not_this_api(profile, [pointer.pointer], body));
        }
        return Err(missing(pointer.pointer, body));
    };
    let is_in = |set: &[String]| set.iter().any(|v| v.eq_ignore_ascii_case(raw));
    let state = if is_in(&values.running) {
        JobState::Running
    } else if is_in(&values.succeeded) {
        JobState::Succeeded
    } else if is_in(&values.failed) {
        JobState::Failed
    } else if is_in(&values.cancelled) {
        JobState::Cancelled
    } else if values.unknown_means_running {
        JobState::Running
    } else {
        return Err(InterpretError::UnknownStatus {
            value: excerpt(raw.as_bytes()),
        });
    };
    Ok(Outcome::new(state, raw))
}

fn file_tasks_rule(doc: &serde_json::Value, url_pointer: &str, tasks_pointer: &str) -> Outcome {
    use serde_json::Value;

    let has_url = find(doc, url_pointer, |v| v.as_str().filter(|s| !s.is_empty())).is_some();
    if has_url {
        let mut outcome = Outcome::new(JobState::Succeeded, "ready");
        outcome.default_result = Some(doc.clone());
        return outcome;
    }
    let tasks: &[Value] = find(doc, tasks_pointer, Value::as_array).map_or(&[], Vec::as_slice);
    let Some(latest) = tasks.last() else {
        return Outcome::new(JobState::Running, "pending");
    };
    let latest_status = task_status(latest).unwrap_or("pending");
    if latest_status.eq_ignore_ascii_case("error") {
        let mut outcome = Outcome::new(JobState::Failed, latest_status);
        outcome.default_message = Some(match latest.get("id").map(Node::Tree).and_then(id_text) {
            Some(id) => format!("the latest task failed (task {})", excerpt(id.as_bytes())),
            None => "the latest task failed".to_owned(),
        });
        outcome.default_details = Some(latest.clone());
        return outcome;
    }
    let all_completed = tasks
        .iter()
        .all(|task| task_status(task).is_some_and(|s| s.eq_ignore_ascii_case("completed")));
    if all_completed {
        let mut outcome = Outcome::new(JobState::Succeeded, latest_status);
        outcome.default_result = Some(doc.clone());
        return outcome;
    }
    Outcome::new(JobState::Running, latest_status)
}

/// A file task's status string.
fn task_status(task: &serde_json::Value) -> Option<&str> {
    task.get("status").and_then(serde_json::Value::as_str)
}

/// The fields of a `google.longrunning.Operation`. Any one of them makes a body an
/// operation: proto3 JSON leaves out `done` while it is false, so a running operation
/// may say only its `name` and `metadata`.
const GOOGLE_FIELDS: [&str; 5] = ["/done", "/error", "/response", "/name", "/metadata"];

/// Whether `doc` has a value, whatever it is (`null` included), at `field`'s pointer
/// or one of its alternatives.
fn has<'a>(doc: impl Lookup<'a>, field: Field<'_>) -> bool {
    doc.find(field, |_| Some(())).is_some()
}

/// Whether `doc` has a value at any of `pointers` (see [`has`]); the tree read's
/// lookups, where a field's place in a sparse read's plan does not matter.
fn has_any<'p>(doc: &serde_json::Value, pointers: impl IntoIterator<Item = &'p str>) -> bool {
    pointers
        .into_iter()
        .any(|pointer| has(doc, Field { pointer, index: 0 }))
}

/// The error for a status body that has none of `pointers`: the body of another
/// API than the one the profile named `profile` speaks.
fn not_this_api<'p>(
    profile: &str,
    pointers: impl IntoIterator<Item = &'p str>,
    body: &[u8],
) -> InterpretError {
    let mut names: Vec<&str> = Vec::new();
    for pointer in pointers {
        match alternatives(pointer) {
            Some(parts) => names.extend(parts),
            None => names.push(pointer),
        }
    }
    let looked_for = match names.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    };
    InterpretError::NotThisApi {
        profile: excerpt(profile.as_bytes()),
        looked_for,
        excerpt: excerpt(body),
    }
}

fn google_rule(doc: &serde_json::Value) -> Outcome {
    use serde_json::Value;

    let done = doc.get("done").and_then(Value::as_bool).unwrap_or(false);
    if !done {
        return Outcome::new(JobState::Running, "running");
    }
    match doc.get("error").filter(|e| !e.is_null()) {
        None => Outcome::new(JobState::Succeeded, "done"),
        Some(error) => {
            let cancelled = error.get("code").and_then(Value::as_i64) == Some(1)
                || error
                    .get("status")
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.eq_ignore_ascii_case("CANCELLED"));
            let state = if cancelled {
                JobState::Cancelled
            } else {
                JobState::Failed
            };
            Outcome::new(state, "done")
        }
    }
}

/// The body without a UTF-8 byte order mark and surrounding ASCII whitespace: the
/// text that is read as JSON.
pub(super) fn trim_body(body: &[u8]) -> &[u8] {
    body.strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(body)
        .trim_ascii()
}

/// The body as JSON; `None` when it is empty (or only whitespace / a BOM).
pub(super) fn parse_json(body: &[u8]) -> Result<Option<serde_json::Value>, InterpretError> {
    let trimmed = trim_body(body);
    if trimmed.is_empty() {
        return Ok(None);
    }
    // Read as bytes, as the sparse reader reads bodies, so that one serde_json
    // reader serves both (the browser package links each reader in full).
    // serde_json checks UTF-8 inside each string, and a byte outside a string
    // that is not ASCII is not JSON, so the same bodies are refused.
    serde_json::from_slice(trimmed)
        .map(Some)
        .map_err(|_| not_json(body))
}

pub(super) fn not_json(body: &[u8]) -> InterpretError {
    InterpretError::NotJson {
        excerpt: excerpt(body),
        html: looks_like_html(body).then(|| html_title(body)),
    }
}

/// How much of a body is searched for HTML's marks and its title.
const HTML_SCAN: usize = 64 << 10;

/// Whether `body` starts as an HTML page does: `<!doctype html` or `<html`,
/// perhaps after comments or an XML declaration.
fn looks_like_html(body: &[u8]) -> bool {
    let head = trim_body(body);
    let head = &head[..head.len().min(1024)];
    head.first() == Some(&b'<')
        && (find_ascii_ci(head, b"<!doctype html").is_some()
            || find_ascii_ci(head, b"<html").is_some())
}

/// The text of an HTML page's `<title>`, whitespace collapsed; empty when it has
/// none.
fn html_title(body: &[u8]) -> String {
    let page = &body[..body.len().min(HTML_SCAN)];
    let Some(open) = find_ascii_ci(page, b"<title") else {
        return String::new();
    };
    let rest = &page[open..];
    let Some(start) = rest.iter().position(|&b| b == b'>') else {
        return String::new();
    };
    let text = &rest[start + 1..];
    let end = find_ascii_ci(text, b"</title").unwrap_or(text.len());
    let title = String::from_utf8_lossy(&text[..end]);
    let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
    excerpt(title.as_bytes())
}

/// Where `needle` (lower-case ASCII) first occurs in `haystack`, ignoring ASCII
/// case.
fn find_ascii_ci(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle))
}

/// `error` as the answer's headers explain it: a body that is not JSON, sent as
/// `Content-Type: text/html`, is an HTML page even when it does not start like one.
pub(super) fn with_content_type(
    error: InterpretError,
    response: &http::Response<Bytes>,
) -> InterpretError {
    match error {
        InterpretError::NotJson {
            excerpt,
            html: None,
        } if is_html_type(response) && !trim_body(response.body()).is_empty() => {
            InterpretError::NotJson {
                excerpt,
                html: Some(html_title(response.body())),
            }
        }
        error => error,
    }
}

/// Whether the answer says it is HTML.
fn is_html_type(response: &http::Response<Bytes>) -> bool {
    response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            let media = value.split(';').next().unwrap_or("").trim();
            media.eq_ignore_ascii_case("text/html")
                || media.eq_ignore_ascii_case("application/xhtml+xml")
        })
}

/// The message of [`InterpretError::NotJson`].
pub(super) fn not_json_message(excerpt: &str, html: Option<&str>) -> String {
    match html {
        None => format!("the response body is not JSON: {excerpt}"),
        Some(title) => {
            let shown = if title.is_empty() {
                excerpt.to_owned()
            } else {
                format!("<title>{title}</title>")
            };
            format!(
                "the server answered with an HTML page, not JSON: is the URL right, or is this a login page? {shown}"
            )
        }
    }
}

pub(super) fn missing(pointer: &str, body: &[u8]) -> InterpretError {
    InterpretError::MissingField {
        pointer: pointer.to_owned(),
        excerpt: excerpt(body),
    }
}

/// A value's compact JSON, for excerpts (only on error paths).
pub(super) fn value_bytes(value: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// The alternatives tried after `pointer` itself: when it contains `|`, each
/// `|`-separated part in order (`/result_data|/result`).
pub(super) fn alternatives(pointer: &str) -> Option<core::str::Split<'_, char>> {
    pointer.contains('|').then(|| pointer.split('|'))
}

/// The first value that `accept` takes at `pointer` as written, or else at its
/// [`alternatives`].
pub(super) fn find<'v, T>(
    doc: &'v serde_json::Value,
    pointer: &str,
    accept: impl Fn(&'v serde_json::Value) -> Option<T>,
) -> Option<T> {
    let try_one = |p: &str| json_pointer(doc, p).and_then(&accept);
    try_one(pointer).or_else(|| alternatives(pointer)?.find_map(try_one))
}

/// [`find`], with `accept` taking a [`Node`].
pub(super) fn find_in<'v, T>(
    doc: &'v serde_json::Value,
    pointer: &str,
    accept: impl Fn(Node<'v>) -> Option<T>,
) -> Option<T> {
    find(doc, pointer, |value| accept(Node::Tree(value)))
}

/// A pointer of a profile as a report reads it: its text, and its place among the
/// fields of a `StatusPlan` (see `sparse`).
#[derive(Clone, Copy)]
pub(super) struct Field<'p> {
    pub(super) pointer: &'p str,
    pub(super) index: usize,
}

impl<'p> Field<'p> {
    fn new(pointer: &'p str, index: usize) -> Field<'p> {
        Field { pointer, index }
    }
}

/// How a status body's pointers are looked up: in the parsed tree, or in what the
/// sparse read found.
pub(super) trait Lookup<'a>: Copy {
    /// The first value that `accept` takes at `field`'s pointer as written, or else
    /// at its [`alternatives`].
    fn find<T>(self, field: Field<'_>, accept: impl Fn(Node<'a>) -> Option<T>) -> Option<T>;
}

impl<'a> Lookup<'a> for &'a serde_json::Value {
    fn find<T>(self, field: Field<'_>, accept: impl Fn(Node<'a>) -> Option<T>) -> Option<T> {
        find_in(self, field.pointer, accept)
    }
}

/// One value of a status body: a node of a parsed tree, or a scalar the sparse
/// read kept.
#[derive(Clone, Copy)]
pub(super) enum Node<'a> {
    /// A node of a parsed tree (the whole body's, or a value the sparse read kept).
    Tree(&'a serde_json::Value),
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(&'a serde_json::Number),
    /// A string, decoded.
    String(&'a str),
}

impl<'a> Node<'a> {
    fn is_null(self) -> bool {
        matches!(self, Node::Null | Node::Tree(serde_json::Value::Null))
    }

    fn number(self) -> Option<&'a serde_json::Number> {
        match self {
            Node::Tree(serde_json::Value::Number(n)) | Node::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The string, as `serde_json::Value::as_str`.
    fn into_str(self) -> Option<&'a str> {
        match self {
            Node::Tree(serde_json::Value::String(s)) => Some(s),
            Node::String(s) => Some(s),
            _ => None,
        }
    }

    pub(super) fn into_value(self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Node::Tree(value) => value.clone(),
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(b),
            Node::Number(n) => Value::Number(n.clone()),
            Node::String(s) => Value::String(s.to_owned()),
        }
    }
}

/// A pointer's segment as RFC 6901 reads it: `~1` is `/`, then `~0` is `~`.
pub(super) fn decode_segment(segment: &str) -> Cow<'_, str> {
    if segment.contains('~') {
        Cow::Owned(segment.replace("~1", "/").replace("~0", "~"))
    } else {
        Cow::Borrowed(segment)
    }
}

/// The array index a decoded segment names: decimal digits, no sign, no leading
/// zero unless it is `0`.
pub(super) fn array_index(segment: &str) -> Option<usize> {
    let leading_zero = segment.len() > 1 && segment.starts_with('0');
    if leading_zero || segment.starts_with('+') {
        return None;
    }
    segment.parse().ok()
}

/// One step of a pointer lookup: the member `segment` (decoded) of an object, or
/// the element it names in an array.
pub(super) fn step<'v>(
    target: &'v serde_json::Value,
    segment: &str,
) -> Option<&'v serde_json::Value> {
    match target {
        serde_json::Value::Object(map) => map.get(segment),
        serde_json::Value::Array(list) => list.get(array_index(segment)?),
        _ => None,
    }
}

/// RFC 6901 lookup, as `serde_json::Value::pointer`, but without allocating for
/// segments that hold no escape.
pub(super) fn json_pointer<'v>(
    doc: &'v serde_json::Value,
    pointer: &str,
) -> Option<&'v serde_json::Value> {
    if pointer.is_empty() {
        return Some(doc);
    }
    pointer
        .strip_prefix('/')?
        .split('/')
        .try_fold(doc, |target, segment| {
            step(target, &decode_segment(segment))
        })
}

/// Any value but `null`.
fn non_null(node: Node<'_>) -> Option<serde_json::Value> {
    (!node.is_null()).then(|| node.into_value())
}

/// A number, or a string holding one; never NaN.
fn lenient_f64(node: Node<'_>) -> Option<f64> {
    let number = match node.number() {
        Some(n) => n.as_f64(),
        None => super::decimal::decimal(node.into_str()?.trim()),
    };
    number.filter(|n| !n.is_nan())
}

/// An id: a non-empty string, or an integer in decimal.
pub(super) fn id_text(node: Node<'_>) -> Option<String> {
    if let Some(n) = node.number() {
        return (n.is_i64() || n.is_u64()).then(|| n.to_string());
    }
    node.into_str().filter(|s| !s.is_empty()).map(str::to_owned)
}

/// An array's length, or a count given as a non-negative integer.
fn revision_of(value: &serde_json::Value) -> Option<u64> {
    match value {
        serde_json::Value::Array(items) => u64::try_from(items.len()).ok(),
        other => other.as_u64(),
    }
}
