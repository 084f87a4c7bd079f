//! The HTTP face of the model (feature `http`): the same [`ServerModel`] that the
//! simulator drives in virtual time, served over real HTTP/1.1 in real time.
//!
//! - [`SharedModel`] holds the model behind a mutex together with a real-time
//!   epoch: [`SharedModel::now`] is the time elapsed since the model was made, as a
//!   model [`Instant`]. It also keeps a bounded log of every request it answered.
//! - [`router`] is the axum router: every request, whatever its method and path,
//!   goes to one handler that reads the body (at most [`MAX_BODY_BYTES`], else
//!   413), hands the request to the model at [`SharedModel::now`], logs it, and
//!   returns the model's response as is: status, headers (its `Date` included)
//!   and body.
//! - A page on another origin may call the server: CORS preflights are answered
//!   and every header of an answer is exposed to it (see `cors`).
//! - `GET /` serves a page on the browser driver that lists, submits, cancels and
//!   pauses jobs ([`Page`]).
//! - [`Server`] runs the router on a bound listener and stops gracefully. The
//!   [`SharedModel`] outlives it, so a new server on the same port serves the same
//!   jobs (a server restarted mid-polling).
//!
//! Jobs created while the server runs (through the API or [`SharedModel::create`])
//! get [`ServeOptions::default_faults`] appended to their plan's faults
//! ([`ServerModel::set_default_faults`]).
//!
//! ```
//! use jobpoll_server::http::{ServeOptions, Server, SharedModel};
//!
//! let runtime = tokio::runtime::Builder::new_current_thread()
//!     .enable_all()
//!     .build()
//!     .unwrap();
//! runtime.block_on(async {
//!     let model = SharedModel::new(ServeOptions::default());
//!     let server = Server::bind_loopback(model.clone()).await.unwrap();
//!     assert!(server.base_url().starts_with("http://127.0.0.1:"));
//!     // ... point a client at server.base_url() ...
//!     server.shutdown().await;
//! });
//! ```
//!
//! [`ServerModel`]: crate::model::ServerModel
//! [`ServerModel::set_default_faults`]: crate::model::ServerModel::set_default_faults
//! [`Instant`]: jobpoll_core::Instant

mod cors;
mod page;
mod server;
mod shared;

use std::future::poll_fn;
use std::pin::Pin;

use ::http::StatusCode;
use ::http::header::CONTENT_LENGTH;
use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::{Request, State};
use axum::response::Response;
use bytes::{Bytes, BytesMut};

pub use page::{PAGE_PATH, Page};
pub use server::{SHUTDOWN_GRACE, Server};
pub use shared::{LoggedRequest, REQUEST_LOG_CAPACITY, ServeOptions, SharedModel};

/// The largest request body the server reads (1 MiB); a larger one is answered
/// 413 without reaching the model.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// The router that serves `model`, with the built-in page at `/`: one handler
/// for every method and path.
pub fn router(model: SharedModel) -> Router {
    router_with_page(model, Page::embedded())
}

/// The router that serves `model`, with `page` at `/`.
pub fn router_with_page(model: SharedModel, page: Page) -> Router {
    Router::new()
        .fallback(serve_request)
        .with_state(Served { model, page })
}

/// What the handler serves.
#[derive(Clone)]
struct Served {
    model: SharedModel,
    page: Page,
}

/// The one handler: a CORS preflight and the page's files are answered at once;
/// anything else reads the body, asks the model, and answers as the model says,
/// readable by a page on another origin.
async fn serve_request(State(served): State<Served>, request: Request) -> Response {
    if let Some(mut answer) = cors::preflight(request.method(), request.headers()) {
        dated(answer.headers_mut());
        return answer.map(|()| Body::empty());
    }
    if let Some(mut answer) = served.page.answer(request.method(), request.uri().path()) {
        dated(answer.headers_mut());
        return answer.map(Body::from);
    }
    let model = served.model;
    let (parts, body) = request.into_parts();
    let cross_origin = cors::is_cross_origin(&parts.headers);
    let mut response = match read_body(&parts.headers, body).await {
        Ok(body) => model.handle(&::http::Request::from_parts(parts, body)),
        Err(refusal) => model.refuse(
            &parts.method,
            parts.uri.path(),
            refusal.status(),
            refusal.message(),
        ),
    };
    if cross_origin {
        cors::allow(response.headers_mut());
    }
    response.map(Body::from)
}

/// Adds a `Date` header, as the model's answers have: the wall clock now.
fn dated(headers: &mut ::http::HeaderMap) {
    let now = httpdate::fmt_http_date(std::time::SystemTime::now());
    if let Ok(value) = ::http::HeaderValue::from_str(&now) {
        headers.insert(::http::header::DATE, value);
    }
}

/// Why a body was not read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BodyRefusal {
    /// Longer than [`MAX_BODY_BYTES`], by its `Content-Length` or as it arrived.
    TooLarge,
    /// The connection failed while the body arrived.
    Unreadable,
}

impl BodyRefusal {
    fn status(self) -> StatusCode {
        match self {
            BodyRefusal::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            BodyRefusal::Unreadable => StatusCode::BAD_REQUEST,
        }
    }

    fn message(self) -> String {
        match self {
            BodyRefusal::TooLarge => {
                format!("the request body is larger than {MAX_BODY_BYTES} bytes")
            }
            BodyRefusal::Unreadable => "the request body could not be read".to_owned(),
        }
    }
}

/// The whole body, refused as soon as its `Content-Length` or the bytes received
/// so far pass [`MAX_BODY_BYTES`].
async fn read_body(headers: &::http::HeaderMap, mut body: Body) -> Result<Bytes, BodyRefusal> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return Err(BodyRefusal::TooLarge);
    }
    let mut collected = BytesMut::new();
    while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|_| BodyRefusal::Unreadable)?;
        // Trailers are ignored.
        if let Ok(data) = frame.into_data() {
            if collected.len().saturating_add(data.len()) > MAX_BODY_BYTES {
                return Err(BodyRefusal::TooLarge);
            }
            collected.extend_from_slice(&data);
        }
    }
    Ok(collected.freeze())
}
