//! Why the fleet is paused: the caller's own `pause()`, a hidden page, or both.
//!
//! The reasons are kept apart so that one does not undo the other: a page that
//! becomes visible again resumes only what hiding it paused, never a pause the
//! caller asked for. The fleet is paused while any reason holds.

/// A reason to hold every request back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PauseReason {
    /// The caller called `jobs.pause()`; only `jobs.resume()` ends it.
    User,
    /// The page is hidden; it ends when the page is visible again or the user
    /// acts on it (a pointer, a key, focus).
    Hidden,
}

/// What the fleet must do after a reason changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PauseChange {
    /// The first reason began: pause the fleet.
    Pause,
    /// The last reason ended: resume the fleet (what fell due goes out now).
    Resume,
}

/// The reasons that hold now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PauseReasons {
    user: bool,
    hidden: bool,
}

impl PauseReasons {
    /// Sets whether `reason` holds; what the fleet must do about it, if anything.
    pub fn set(&mut self, reason: PauseReason, holds: bool) -> Option<PauseChange> {
        let was = self.is_paused();
        match reason {
            PauseReason::User => self.user = holds,
            PauseReason::Hidden => self.hidden = holds,
        }
        match (was, self.is_paused()) {
            (false, true) => Some(PauseChange::Pause),
            (true, false) => Some(PauseChange::Resume),
            _ => None,
        }
    }

    /// Whether `reason` holds.
    pub fn holds(&self, reason: PauseReason) -> bool {
        match reason {
            PauseReason::User => self.user,
            PauseReason::Hidden => self.hidden,
        }
    }

    /// Whether any reason holds.
    pub fn is_paused(&self) -> bool {
        self.user || self.hidden
    }

    /// The reasons that hold, as `jobs.metrics()` names them: `"user"`,
    /// `"hidden"`.
    pub fn names(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        if self.user {
            names.push("user");
        }
        if self.hidden {
            names.push("hidden");
        }
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fleet_pauses_on_the_first_reason_and_resumes_after_the_last() {
        let mut reasons = PauseReasons::default();
        assert_eq!(
            reasons.set(PauseReason::Hidden, true),
            Some(PauseChange::Pause)
        );
        assert_eq!(reasons.set(PauseReason::User, true), None);
        // Visible again: the caller's pause still holds.
        assert_eq!(reasons.set(PauseReason::Hidden, false), None);
        assert_eq!(reasons.names(), ["user"]);
        assert_eq!(
            reasons.set(PauseReason::User, false),
            Some(PauseChange::Resume)
        );
        assert!(!reasons.is_paused());
        assert!(reasons.names().is_empty());
    }

    #[test]
    fn repeating_a_reason_changes_nothing() {
        let mut reasons = PauseReasons::default();
        assert_eq!(reasons.set(PauseReason::User, false), None);
        assert_eq!(
            reasons.set(PauseReason::User, true),
            Some(PauseChange::Pause)
        );
        assert_eq!(reasons.set(PauseReason::User, true), None);
        assert!(reasons.holds(PauseReason::User));
        assert!(!reasons.holds(PauseReason::Hidden));
    }
}
