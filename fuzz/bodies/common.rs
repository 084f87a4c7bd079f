//! What the fuzz bodies share: an input decoded as the fuzzer decodes it, and a
//! built-in profile picked by one of its bytes.
//!
//! Whatever includes a body that uses it (its fuzz target, the workspace test that
//! replays the corpus) includes this file too, next to the body, as `common`.

use arbitrary::{Arbitrary, Unstructured};
use jobpoll_core::profile::Profile;

/// Decodes `data` into a case and hands it to `check`; data that decodes to no
/// case is passed over.
pub fn run<'a, Case: Arbitrary<'a>>(data: &'a [u8], check: impl FnOnce(Case)) {
    if let Ok(case) = Case::arbitrary_take_rest(Unstructured::new(data)) {
        check(case);
    }
}

/// The built-in profile that `pick` names, counting round the list.
pub fn builtin_profile(pick: u8) -> Option<Profile> {
    let names = Profile::BUILTIN_NAMES;
    Profile::builtin(names[pick as usize % names.len()])
}
