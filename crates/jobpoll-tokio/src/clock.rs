//! Time between tokio's clock and the core's: a core [`Instant`] is whole
//! microseconds since an epoch taken from tokio's clock.

use core::time::Duration;
use jobpoll_core::Instant;

/// The epoch of a job or a fleet.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    epoch: tokio::time::Instant,
}

impl Clock {
    /// A clock whose zero is now.
    pub(crate) fn start() -> Clock {
        Clock {
            epoch: tokio::time::Instant::now(),
        }
    }

    /// The core's time now: time since the epoch, in whole microseconds.
    pub(crate) fn now(&self) -> Instant {
        let micros = self.epoch.elapsed().as_micros();
        Instant::from_micros(u64::try_from(micros).unwrap_or(u64::MAX))
    }

    /// The tokio instant of a core instant.
    pub(crate) fn deadline(&self, at: Instant) -> tokio::time::Instant {
        let since = Duration::from_micros(at.as_micros());
        // Far beyond any real wait; tokio caps long sleeps itself.
        let never = Duration::from_secs(100 * 365 * 24 * 3600);
        self.epoch
            .checked_add(since.min(never))
            .unwrap_or_else(|| tokio::time::Instant::now() + never)
    }

    /// The epoch itself (a timer that is due at once).
    pub(crate) fn epoch(&self) -> tokio::time::Instant {
        self.epoch
    }
}
