//! Helpers shared by the integration tests: requests to the model at a fixed
//! origin, as a client holding absolute URLs would send them.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use bytes::Bytes;
use jobpoll_core::Instant;
use jobpoll_server::plan::JobPlan;
use url::Url;

pub mod azure;
#[cfg(feature = "http")]
pub mod loopback;

/// Where the tests pretend the server lives.
pub const ORIGIN: &str = "http://jobs.test";

/// An absolute URL on the test origin.
pub fn url(path: &str) -> Url {
    Url::parse(&format!("{ORIGIN}{path}")).expect("url")
}

/// A request to `url` in absolute form, with a `Host` header as a client sends.
pub fn request(method: &http::Method, url: &Url, body: &str) -> http::Request<Bytes> {
    http::Request::builder()
        .method(method.clone())
        .uri(url.as_str())
        .header(http::header::HOST, url.host_str().unwrap_or("jobs.test"))
        .body(Bytes::from(body.to_owned()))
        .expect("request")
}

/// A GET of `url`.
pub fn get(url: &Url) -> http::Request<Bytes> {
    request(&http::Method::GET, url, "")
}

/// `secs` seconds after the epoch.
pub fn secs(secs: u64) -> Instant {
    Instant::from_secs(secs)
}

/// A plan of `secs` seconds with default everything else.
pub fn plan(secs: u64) -> JobPlan {
    JobPlan {
        duration: Duration::from_secs(secs),
        ..JobPlan::default()
    }
}
