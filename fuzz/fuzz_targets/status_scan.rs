//! Arbitrary status bodies through the two ways of reading them: `read_status`
//! (which scans the body when it can) and `read_status_by_tree` (which always
//! parses it whole) must give the same report or the same error, for the built-in
//! status profiles and for a custom one with nested, array-index and
//! `|`-alternative pointers.
#![no_main]

use bytes::Bytes;
use jobpoll_core::profile::{Interpret, Profile};
use libfuzzer_sys::fuzz_target;

fn custom() -> Profile {
    serde_json::from_str(
        r#"{
            "name": "custom",
            "completion": {
                "rule": "status",
                "pointer": "/state/phase|/status",
                "values": {
                    "running": ["Pending", "Running", "processing"],
                    "succeeded": ["Done", "completed"],
                    "failed": ["Error", "failed"],
                    "cancelled": ["Cancelled"]
                }
            },
            "submit_id_pointers": ["/meta/ids/0", "/id", "/meta/ids/1/name"],
            "status_url": {"from": "template", "template": "/v1/{id}"},
            "percentage_pointer": "/state/progress|/progress_data/percentage",
            "step_pointer": "/state/message|/a~1b",
            "eta_pointer": "/eta|/state/eta",
            "result_pointer": "/state/output/0|/result|",
            "error_message_pointer": "/errors/0/message|/error|/message",
            "error_details_pointer": ""
        }"#,
    )
    .expect("a valid profile")
}

fuzz_target!(|body: &[u8]| {
    let response = http::Response::new(Bytes::copy_from_slice(body));
    for profile in [Profile::jobs(), Profile::codegen(), custom()] {
        let fast = profile.read_status(&response);
        let tree = profile.read_status_by_tree(&response);
        // `Debug` tells -0.0 from 0.0, which `==` does not.
        assert_eq!(format!("{fast:?}"), format!("{tree:?}"), "{}", profile.name);
        assert_eq!(fast, tree, "{}", profile.name);
    }
});
