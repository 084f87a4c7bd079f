//! The rate limiter: one token bucket over every request, in model time.
//!
//! Answers follow draft-ietf-httpapi-ratelimit-headers in its structured-field form:
//! `RateLimit-Policy: "default";q=<burst>;w=<window>` on every answer, and
//! `RateLimit: "default";r=<remaining>;t=<seconds>`. While tokens remain, `t` is
//! the time until the bucket is full again. When the last token is taken, `r=0`
//! tells the client to wait `t` seconds, so `t` is then the time until the next
//! token, the same wait a 429 names in `Retry-After`: a client honouring it is
//! never refused, and never waits longer than it must.

use http::HeaderName;
use http::header::RETRY_AFTER;

use jobpoll_core::Instant;

use crate::model::RateLimit;
use crate::reply::Reply;

const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

/// The wait named when the bucket never refills (`per_second` not positive).
const NO_REFILL_SECS: u64 = 3_600;

/// Slack on token counts, so that a client waiting exactly the announced time is not
/// refused over a rounding error of the refill arithmetic.
const EPSILON: f64 = 1e-9;

/// A token bucket.
#[derive(Clone, Debug)]
pub(crate) struct Limiter {
    burst: f64,
    per_second: f64,
    tokens: f64,
    updated: Instant,
}

/// What the bucket says about one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Served; `remaining` tokens are left, `reset` seconds as described in the
    /// module docs.
    Allowed { remaining: u64, reset: u64 },
    /// Refused: the next token comes in `retry_after` seconds.
    Limited { retry_after: u64 },
}

impl Limiter {
    /// A full bucket. A zero `burst` refuses everything; a `per_second` that is not
    /// a positive number never refills.
    pub(crate) fn new(limit: &RateLimit) -> Limiter {
        let per_second = if limit.per_second.is_finite() && limit.per_second > 0.0 {
            limit.per_second
        } else {
            0.0
        };
        Limiter {
            burst: f64::from(limit.burst),
            per_second,
            tokens: f64::from(limit.burst),
            updated: Instant::ZERO,
        }
    }

    /// Takes a token for a request at `now`, if there is one.
    pub(crate) fn take(&mut self, now: Instant) -> Decision {
        self.refill(now);
        if self.tokens + EPSILON >= 1.0 {
            self.tokens = (self.tokens - 1.0).max(0.0);
            let remaining = (self.tokens + EPSILON).floor() as u64;
            let reset = if remaining == 0 {
                self.secs_until(1.0)
            } else {
                self.secs_until(self.burst)
            };
            Decision::Allowed { remaining, reset }
        } else {
            Decision::Limited {
                retry_after: self.secs_until(1.0).max(1),
            }
        }
    }

    /// `RateLimit-Policy` for every answer.
    pub(crate) fn policy(&self) -> String {
        let window = if self.per_second > 0.0 {
            ((self.burst / self.per_second).ceil() as u64).max(1)
        } else {
            NO_REFILL_SECS
        };
        format!("\"default\";q={};w={window}", self.burst as u64)
    }

    /// Adds the headers of `decision` to a reply the request got.
    pub(crate) fn annotate(&self, reply: &mut Reply, decision: Decision) {
        let (remaining, seconds) = match decision {
            Decision::Allowed { remaining, reset } => (remaining, reset),
            Decision::Limited { retry_after } => (0, retry_after),
        };
        reply.add_header(RATELIMIT, format!("\"default\";r={remaining};t={seconds}"));
        reply.add_header(RATELIMIT_POLICY, self.policy());
    }

    /// The 429 answer for a refused request.
    pub(crate) fn refusal(&self, retry_after: u64) -> Reply {
        let mut reply = Reply::error(
            http::StatusCode::TOO_MANY_REQUESTS,
            format!("rate limit exceeded: retry in {retry_after} s"),
        )
        .with_header(RETRY_AFTER, retry_after.to_string());
        self.annotate(&mut reply, Decision::Limited { retry_after });
        reply
    }

    fn refill(&mut self, now: Instant) {
        if now <= self.updated {
            return;
        }
        let elapsed = (now - self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
        self.updated = now;
    }

    /// Whole seconds until the bucket holds `level` tokens (0 if it already does).
    fn secs_until(&self, level: f64) -> u64 {
        let missing = level - self.tokens;
        if missing <= EPSILON {
            0
        } else if self.per_second > 0.0 {
            (missing / self.per_second).ceil() as u64
        } else {
            NO_REFILL_SECS
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use jobpoll_core::hints::{HintSource, read_hints};

    use super::*;

    fn limiter(burst: u32, per_second: f64) -> Limiter {
        Limiter::new(&RateLimit { burst, per_second })
    }

    fn headers(reply: &Reply) -> http::HeaderMap {
        reply.headers.iter().cloned().collect()
    }

    #[test]
    fn burst_then_refusal_then_refill() {
        let mut bucket = limiter(3, 0.5);
        let now = Instant::ZERO;
        assert_eq!(
            bucket.take(now),
            Decision::Allowed {
                remaining: 2,
                reset: 2
            }
        );
        assert_eq!(
            bucket.take(now),
            Decision::Allowed {
                remaining: 1,
                reset: 4
            }
        );
        // The last token: r=0 and t is the wait for the next one.
        assert_eq!(
            bucket.take(now),
            Decision::Allowed {
                remaining: 0,
                reset: 2
            }
        );
        assert_eq!(bucket.take(now), Decision::Limited { retry_after: 2 });
        assert_eq!(
            bucket.take(Instant::from_millis(1_500)),
            Decision::Limited { retry_after: 1 }
        );
        assert!(matches!(
            bucket.take(Instant::from_secs(2)),
            Decision::Allowed { remaining: 0, .. }
        ));
        assert_eq!(bucket.policy(), "\"default\";q=3;w=6");
    }

    #[test]
    fn headers_are_read_by_the_core() {
        let mut bucket = limiter(1, 0.25);
        let mut served = Reply::ok(serde_json::json!({}));
        let decision = bucket.take(Instant::ZERO);
        bucket.annotate(&mut served, decision);
        let hints = read_hints(&headers(&served), Duration::from_secs(3600));
        assert!(hints.problems.is_empty(), "{:?}", hints.problems);
        let wait = hints.wait.expect("r=0 is a wait");
        assert_eq!(wait.delay, Duration::from_secs(4));
        assert_eq!(wait.source, HintSource::RateLimit);

        let Decision::Limited { retry_after } = bucket.take(Instant::from_secs(1)) else {
            panic!("the bucket is empty");
        };
        let refused = bucket.refusal(retry_after);
        assert_eq!(refused.status, http::StatusCode::TOO_MANY_REQUESTS);
        let hints = read_hints(&headers(&refused), Duration::from_secs(3600));
        assert!(hints.problems.is_empty(), "{:?}", hints.problems);
        assert_eq!(hints.wait.expect("wait").delay, Duration::from_secs(3));
    }

    #[test]
    fn a_full_enough_bucket_asks_for_no_wait() {
        let mut bucket = limiter(10, 1.0);
        let mut reply = Reply::ok(serde_json::json!({}));
        let decision = bucket.take(Instant::ZERO);
        bucket.annotate(&mut reply, decision);
        let hints = read_hints(&headers(&reply), Duration::from_secs(3600));
        assert_eq!(hints.wait, None);
        assert!(hints.problems.is_empty());
    }

    #[test]
    fn degenerate_buckets_do_not_panic() {
        let mut empty = limiter(0, 1.0);
        assert_eq!(
            empty.take(Instant::ZERO),
            Decision::Limited { retry_after: 1 }
        );
        let mut frozen = limiter(1, f64::NAN);
        assert!(matches!(
            frozen.take(Instant::ZERO),
            Decision::Allowed { .. }
        ));
        assert_eq!(
            frozen.take(Instant::MAX),
            Decision::Limited {
                retry_after: NO_REFILL_SECS
            }
        );
        // Time going backwards neither refills nor panics.
        let mut bucket = limiter(1, 1.0);
        let _ = bucket.take(Instant::from_secs(10));
        assert!(matches!(
            bucket.take(Instant::from_secs(5)),
            Decision::Limited { .. }
        ));
    }
}
