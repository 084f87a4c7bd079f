//! Arbitrary status bodies through the two ways of reading them: `read_status`
//! (which reads only the profile's pointers when it can) and
//! `read_status_by_tree` (which always parses the body whole) must give the same
//! report or the same error, for the built-in status profiles and for a custom
//! one with nested, array-index and `|`-alternative pointers.
//!
//! Shared by the fuzz target and by the workspace test that replays the corpus.

use bytes::Bytes;
use jobpoll_core::profile::{Interpret, Profile};

/// The custom profile of the crate's differential tests.
fn custom() -> Profile {
    serde_json::from_str(include_str!(
        "../../crates/jobpoll-core/src/profile/custom_status_profile.json"
    ))
    .expect("a valid profile")
}

/// Runs one input of the corpus; panics on a broken promise.
pub fn run(body: &[u8]) {
    let response = http::Response::new(Bytes::copy_from_slice(body));
    for profile in [Profile::jobs(), Profile::codegen(), custom()] {
        let fast = profile.read_status(&response);
        let tree = profile.read_status_by_tree(&response);
        // `Debug` tells -0.0 from 0.0, which `==` does not.
        assert_eq!(format!("{fast:?}"), format!("{tree:?}"), "{}", profile.name);
        assert_eq!(fast, tree, "{}", profile.name);
    }
}
