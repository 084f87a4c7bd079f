//! One request through reqwest: send it, read the body under a cap, map failures onto
//! [`TransportError`].

use std::error::Error as _;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use jobpoll_core::trace::Redactor;
use jobpoll_core::{Event, Output, Transmit, TransportError};
use tracing::{debug, trace};

/// What a request brings back: the answer, or why there is none.
pub(crate) type Answer = Result<http::Response<Bytes>, TransportError>;

/// The headers an answer may carry to pace or steer the poller: logged with each
/// answer. Names starting with `ratelimit` or `x-ratelimit` are logged too.
const HINT_HEADERS: [&str; 6] = [
    "retry-after",
    "location",
    "azure-asyncoperation",
    "operation-location",
    "etag",
    "content-location",
];

/// What is logged about an exchange once its answer comes (only when `debug` logs
/// are on for the driver).
pub(crate) struct Exchange {
    id: u64,
    method: http::Method,
    /// The URL with its secret parts masked.
    url: String,
    redactor: Arc<Redactor>,
    started: std::time::Instant,
}

impl Exchange {
    /// Logs the answer (at `debug`): status, hint headers (secret parts masked),
    /// body size and the time from send to the last byte, in milliseconds.
    fn log(&self, answer: &Answer) {
        let ms = self.started.elapsed().as_millis();
        match answer {
            Ok(response) => {
                let hints = hints(&self.redactor, response.headers());
                debug!(
                    id = self.id,
                    method = %self.method,
                    url = %self.url,
                    status = response.status().as_u16(),
                    ms,
                    bytes = response.body().len(),
                    hints = hints.as_deref(),
                    "response"
                );
            }
            Err(error) => debug!(
                id = self.id,
                method = %self.method,
                url = %self.url,
                ms,
                %error,
                "no response"
            ),
        }
    }
}

/// The hint headers of an answer as `name: value; ...`, secret parts masked;
/// `None` when there is none.
fn hints(redactor: &Redactor, headers: &http::HeaderMap) -> Option<String> {
    let mut text = String::new();
    for (name, value) in headers {
        let name = name.as_str();
        let wanted = HINT_HEADERS.contains(&name)
            || name.starts_with("ratelimit")
            || name.starts_with("x-ratelimit");
        if !wanted {
            continue;
        }
        let value = String::from_utf8_lossy(value.as_bytes());
        if !text.is_empty() {
            text.push_str("; ");
        }
        text.push_str(name);
        text.push_str(": ");
        text.push_str(&redactor.text(&value));
    }
    (!text.is_empty()).then_some(text)
}

/// Logs a request about to go out (at `debug`; secret query values redacted, header
/// values never logged). When `debug` logs are on, returns what [`send`] needs to
/// log the answer.
pub(crate) fn log_request(redactor: &Arc<Redactor>, transmit: &Transmit) -> Option<Exchange> {
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return None;
    }
    let url = redactor.url(&transmit.url).to_string();
    debug!(
        id = transmit.id.0,
        purpose = ?transmit.purpose,
        method = %transmit.method,
        url = %url,
        "request"
    );
    Some(Exchange {
        id: transmit.id.0,
        method: transmit.method.clone(),
        url,
        redactor: Arc::clone(redactor),
        started: std::time::Instant::now(),
    })
}

/// Logs an event (at `trace`: the command line reports events itself), with
/// secrets removed: a submitted job's status URL may carry a token.
pub(crate) fn log_event(redactor: &Redactor, event: &Event) {
    if tracing::enabled!(tracing::Level::TRACE) {
        let line = match redactor.output(&Output::Event(event.clone())) {
            Output::Event(event) => event.to_string(),
            _ => String::new(),
        };
        trace!(event = %line, "event");
    }
}

/// Sends `transmit` and reads the whole answer within `transmit.time_limit`.
///
/// The request is built at once (the future holds the request, not the client); the
/// future borrows nothing.
///
/// A body longer than `max_body` is [`TransportError::BodyTooLarge`] when the status
/// is 2xx (the job would have to read it).
/// With an [`Exchange`] (from [`log_request`]), the answer is logged when it comes. Any other answer keeps its first
/// `max_body` bytes and is delivered: the job only quotes an excerpt of an error
/// body, and its status and headers (`401`, `429` with `Retry-After`) still matter.
pub(crate) fn send(
    http: &reqwest::Client,
    transmit: Transmit,
    max_body: usize,
    logged: Option<Exchange>,
) -> impl Future<Output = Answer> + Send + use<> {
    let time_limit = transmit.time_limit;
    let mut request = http.request(transmit.method, transmit.url);
    for (name, value) in transmit.headers {
        request = request.header(name, value);
    }
    if let Some(body) = transmit.body {
        request = request.body(body);
    }
    async move {
        let answer = match tokio::time::timeout(time_limit, exchange(request, max_body)).await {
            Ok(result) => result,
            Err(_elapsed) => Err(TransportError::NoResponseInTime),
        };
        if let Some(logged) = &logged {
            logged.log(&answer);
        }
        answer
    }
}

async fn exchange(request: reqwest::RequestBuilder, max_body: usize) -> Answer {
    let mut response = request.send().await.map_err(map_error)?;
    let status = response.status();
    let version = response.version();
    let headers = std::mem::take(response.headers_mut());
    let must_read = status.is_success();
    if must_read
        && response
            .content_length()
            .is_some_and(|length| length > max_body as u64)
    {
        return Err(TransportError::BodyTooLarge(max_body));
    }
    let body = read_body(&mut response, max_body, must_read).await?;
    let mut answer = http::Response::new(body);
    *answer.status_mut() = status;
    *answer.version_mut() = version;
    *answer.headers_mut() = headers;
    Ok(answer)
}

/// Reads the body chunk by chunk, never holding more than `max_body` bytes. Past the
/// cap: an error when `must_read`, else the body cut at the cap.
async fn read_body(
    response: &mut reqwest::Response,
    max_body: usize,
    must_read: bool,
) -> Result<Bytes, TransportError> {
    // Most bodies arrive as one chunk: keep it without copying.
    let mut first: Option<Bytes> = None;
    let mut joined: Option<BytesMut> = None;
    let mut length = 0usize;
    while let Some(chunk) = response.chunk().await.map_err(map_error)? {
        let room = max_body - length;
        if chunk.len() > room {
            if must_read {
                return Err(TransportError::BodyTooLarge(max_body));
            }
            append(&mut first, &mut joined, chunk.slice(..room));
            break;
        }
        length += chunk.len();
        append(&mut first, &mut joined, chunk);
    }
    Ok(match (joined, first) {
        (Some(joined), _) => joined.freeze(),
        (None, Some(first)) => first,
        (None, None) => Bytes::new(),
    })
}

fn append(first: &mut Option<Bytes>, joined: &mut Option<BytesMut>, chunk: Bytes) {
    if let Some(joined) = joined {
        joined.extend_from_slice(&chunk);
    } else if let Some(head) = first.take() {
        let mut both = BytesMut::with_capacity(head.len() + chunk.len());
        both.extend_from_slice(&head);
        both.extend_from_slice(&chunk);
        *joined = Some(both);
    } else {
        *first = Some(chunk);
    }
}

/// Maps a reqwest error onto the core's transport errors. The message never holds
/// the URL (it may carry secrets in its query).
pub(crate) fn map_error(error: reqwest::Error) -> TransportError {
    if error.is_timeout() {
        return TransportError::NoResponseInTime;
    }
    let error = error.without_url();
    let message = describe(&error);
    if error.is_connect() {
        TransportError::Connect(message)
    } else if error.is_builder() || error.is_redirect() {
        TransportError::Other(message)
    } else if error.is_body() || error.is_decode() || error.is_request() {
        TransportError::Reset(message)
    } else {
        TransportError::Other(message)
    }
}

/// The error and its causes as one line.
fn describe(error: &reqwest::Error) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}
