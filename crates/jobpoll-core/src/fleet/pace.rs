//! Paced release: how fast an origin may be sent to again after a rate limit.
//!
//! When a hold ends, the jobs it held are all due. Letting them out together
//! would send the server, at one instant, the burst that made it refuse. So the
//! first rate-limit answer of a hold also sets a *gap* between two requests to
//! that origin, from what the origin has shown it accepts: the answers it gave
//! without a rate limit since the last hold (or since the origin was first
//! seen), spread over that time. While a gap is set the origin sends at most one
//! request per gap; every accepted answer shortens the gap by an eighth (the pace
//! doubles after about five), a new hold doubles it again if the answers since
//! show no slower pace, and the gap never exceeds the wait the server asked for
//! nor one second. The first request after a hold goes when the hold ends. Once
//! the gap falls under a millisecond the origin is no longer paced. A hold
//! without any accepted answer to learn from starts at 100 ms.
//!
//! Four numbers per origin, a constant amount of work per answer and per
//! request, and nothing drawn at random: the same answers give the same pace.

/// Below this gap (µs) the origin is no longer paced.
const MIN_GAP: u64 = 1_000;
/// The gap after a hold when the origin has accepted nothing to learn from (µs).
const FIRST_GAP: u64 = 100_000;
/// The longest gap (µs): one request a second at least. A quiet origin shows a
/// slow pace only because little was asked of it; a server slower than this
/// answers the next request with another rate limit, which starts a new hold.
const MAX_GAP: u64 = 1_000_000;
/// Each accepted answer shortens the gap by `gap / SHRINK`.
const SHRINK: u64 = 8;

/// An origin's pace (see the module documentation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Pace {
    /// Time between two requests while paced (µs); 0 when not paced.
    gap: u64,
    /// No request before this instant (µs), while paced.
    next_at: u64,
    /// Answers the origin gave without a rate limit since `since`.
    accepted: u32,
    /// When that count began (µs): the end of the last hold, or when the origin
    /// was first seen.
    since: u64,
}

impl Pace {
    /// A pace that starts counting accepted answers at `now` (µs).
    pub(super) fn starting(now: u64) -> Pace {
        Pace {
            since: now,
            ..Pace::default()
        }
    }

    /// Whether the pace lets a request go at `now` (µs).
    pub(super) fn permits(&self, now: u64) -> bool {
        self.next_at <= now
    }

    /// The instant (µs) before which the pace holds requests back, if it does at
    /// `now`.
    pub(super) fn holds_until(&self, now: u64) -> Option<u64> {
        (self.next_at > now).then_some(self.next_at)
    }

    /// The origin answered without a rate limit.
    pub(super) fn accepted(&mut self) {
        self.accepted = self.accepted.saturating_add(1);
        if self.gap > 0 {
            self.gap -= self.gap / SHRINK;
            if self.gap < MIN_GAP {
                self.gap = 0;
            }
        }
    }

    /// A rate-limit answer at `now` started a hold until `until` (µs): sets the gap
    /// the origin is paced at once the hold ends. Later rate-limit answers of the
    /// same hold (requests sent before it) change nothing: the caller only calls
    /// this for the answer that starts a hold.
    pub(super) fn limited(&mut self, now: u64, until: u64) {
        let learned = if self.accepted > 0 {
            now.saturating_sub(self.since) / u64::from(self.accepted)
        } else if self.gap > 0 {
            0
        } else {
            FIRST_GAP
        };
        let gap = learned
            .max(self.gap.saturating_mul(2))
            .min(MAX_GAP)
            .min(until.saturating_sub(now));
        self.gap = if gap < MIN_GAP { 0 } else { gap };
        self.accepted = 0;
        self.since = until;
        // The first request after the hold goes when it ends, whatever gap an
        // earlier pace left to run.
        self.next_at = self.next_at.min(until);
    }

    /// A request went to the origin at `now` (µs). While paced, the next may go a
    /// gap later: returns that instant, for the fleet to wake at.
    pub(super) fn sent(&mut self, now: u64) -> Option<u64> {
        if self.gap == 0 {
            return None;
        }
        self.next_at = now.saturating_add(self.gap);
        Some(self.next_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000;
    const S: u64 = 1_000_000;

    #[test]
    fn the_first_gap_is_learned_from_the_answers_the_origin_accepted() {
        let mut pace = Pace::starting(0);
        for _ in 0..10 {
            pace.accepted();
        }
        assert_eq!(pace.sent(S), None, "not paced before a rate limit");
        // Ten answers in 2 s: one every 200 ms.
        pace.limited(2 * S, 3 * S);
        assert!(pace.permits(3 * S), "the first goes when the hold ends");
        assert_eq!(pace.sent(3 * S), Some(3 * S + 200 * MS));
        assert!(!pace.permits(3 * S + 199 * MS));
        assert!(pace.permits(3 * S + 200 * MS));
    }

    #[test]
    fn accepted_answers_shorten_the_gap_until_the_origin_is_no_longer_paced() {
        let mut pace = Pace::starting(0);
        pace.limited(0, S);
        assert_eq!(pace.sent(S), Some(S + FIRST_GAP), "nothing learned: 100 ms");
        pace.accepted();
        assert_eq!(pace.sent(2 * S), Some(2 * S + FIRST_GAP * 7 / 8));
        let mut answers = 1;
        while pace.sent(3 * S).is_some() {
            pace.accepted();
            answers += 1;
        }
        assert!((30..=40).contains(&answers), "{answers} answers to 1 ms");
        assert_eq!(pace.holds_until(4 * S), None);
    }

    #[test]
    fn a_new_hold_doubles_the_gap_and_the_gap_never_exceeds_the_wait_asked_for() {
        let mut pace = Pace::starting(0);
        pace.limited(0, 2 * S);
        pace.limited(3 * S, 5 * S);
        assert_eq!(pace.sent(5 * S), Some(5 * S + 2 * FIRST_GAP));
        // A wait of 150 ms caps the gap.
        pace.limited(6 * S, 6 * S + 150 * MS);
        assert_eq!(pace.sent(7 * S), Some(7 * S + 150 * MS));
        // Answers since the hold that came slower than the doubled gap set it.
        for _ in 0..2 {
            pace.accepted();
        }
        pace.limited(7 * S + 150 * MS + 2 * S, 20 * S);
        assert_eq!(pace.sent(20 * S), Some(21 * S), "two in 3 s, at most 1 s");
    }

    #[test]
    fn a_new_hold_lets_its_first_request_go_when_it_ends() {
        let mut pace = Pace::starting(0);
        for _ in 0..2 {
            pace.accepted();
        }
        // Two answers in 10 s: the gap is at most 1 s.
        pace.limited(10 * S, 20 * S);
        assert_eq!(pace.sent(20 * S), Some(21 * S));
        // A new hold at 20.5 s that ends before the old gap does.
        pace.limited(20 * S + 500 * MS, 20 * S + 700 * MS);
        assert!(pace.permits(20 * S + 700 * MS));
    }
}
