//! Profiles written by hand: unknown keys are refused with where they are and the
//! nearest known key; what we write ourselves still reads.

use serde_json::json;

use super::*;

fn jobs_json() -> serde_json::Value {
    serde_json::to_value(Profile::jobs()).expect("serialize")
}

fn refused(doc: &serde_json::Value) -> ProfileError {
    Profile::from_json(&doc.to_string()).expect_err("refused")
}

fn unknown_key(error: &ProfileError) -> (&str, &str, Option<&str>) {
    match error {
        ProfileError::UnknownKey {
            key,
            path,
            suggestion,
            ..
        } => (key, path, suggestion.as_deref()),
        other => panic!("not an unknown key: {other:?}"),
    }
}

#[test]
fn a_misspelt_top_level_key_is_named_with_the_nearest_known_key() {
    let mut doc = jobs_json();
    let value = doc["percentage_pointer"].take();
    doc.as_object_mut()
        .expect("object")
        .remove("percentage_pointer");
    doc["percentage_poiner"] = value;
    let error = refused(&doc);
    assert_eq!(
        unknown_key(&error),
        ("percentage_poiner", "", Some("percentage_pointer"))
    );
    assert_eq!(
        error.to_string(),
        "unknown key `percentage_poiner` at the top level; did you mean `percentage_pointer`?"
    );
    // serde's own read refuses it too (snapshots and traces read this way).
    assert!(serde_json::from_value::<Profile>(doc).is_err());
}

#[test]
fn misspelt_keys_inside_rules_and_sets_are_named_with_their_place() {
    let cases = [
        (
            json!({"status_url": {"form": "template", "template": "/x/{id}"}}),
            ("form", "status_url", Some("from")),
        ),
        (
            json!({"status_url": {"from": "template", "templte": "/x/{id}"}}),
            ("templte", "status_url", Some("template")),
        ),
        (
            json!({"completion": {"rule": "status", "pointr": "/s", "values": {}}}),
            ("pointr", "completion", Some("pointer")),
        ),
        (
            json!({"completion": {"rule": "status", "pointer": "/s",
                "values": {"running": ["a"], "succeded": ["b"]}}}),
            ("succeded", "completion.values", Some("succeeded")),
        ),
        (
            json!({"cancel": {"methd": "POST", "url": "{id}"}}),
            ("methd", "cancel", Some("method")),
        ),
        (
            json!({"results": {"url": null, "transfrom": "as_is"}}),
            ("transfrom", "results", Some("transform")),
        ),
        (
            json!({"progress_ratio": {"done": "/a", "totl": "/b"}}),
            ("totl", "progress_ratio", Some("total")),
        ),
    ];
    for (change, expected) in cases {
        let mut doc = jobs_json();
        for (key, value) in change.as_object().expect("object") {
            doc[key] = value.clone();
        }
        let error = refused(&doc);
        assert_eq!(unknown_key(&error), expected, "{error}");
        let text = error.to_string();
        assert!(text.contains(&format!("at `{}`", expected.1)), "{text}");
    }
}

#[test]
fn a_misspelt_rule_or_transform_name_is_named_with_the_nearest_name() {
    let mut doc = jobs_json();
    doc["completion"]["rule"] = json!("stauts");
    let error = refused(&doc);
    assert_eq!(
        error.to_string(),
        "unknown value `stauts` at `completion.rule`; did you mean `status`?"
    );
    let mut doc = jobs_json();
    doc["results"] = json!({"url": null, "transform": "codegen_by_grph"});
    let ProfileError::UnknownName {
        value,
        path,
        suggestion,
        known,
    } = refused(&doc)
    else {
        panic!("not an unknown name");
    };
    assert_eq!(value, "codegen_by_grph");
    assert_eq!(path, "results.transform");
    assert_eq!(suggestion.as_deref(), Some("codegen_by_graph"));
    assert_eq!(known, ["as_is", "codegen_by_graph"]);
}

#[test]
fn a_key_beside_a_rule_that_takes_none_is_refused() {
    let mut doc = jobs_json();
    doc["completion"] = json!({"rule": "google_operation", "pointer": "/done"});
    let error = refused(&doc);
    assert_eq!(unknown_key(&error), ("pointer", "completion", None));
    assert_eq!(
        error.to_string(),
        "unknown key `pointer` at `completion`; known here: `rule`"
    );
}

#[test]
fn other_mistakes_say_where_they_are() {
    let error = Profile::from_json(r#"{"name": 3}"#).expect_err("refused");
    assert_eq!(
        error.to_string(),
        "invalid type: integer `3`, expected a string at `name`"
    );
    let error = Profile::from_json("{").expect_err("refused");
    assert!(error.to_string().contains("line 1 column 1"), "{error}");
    let mut doc = jobs_json();
    doc["name"] = json!("x");
    let text = format!("{doc} trailing");
    assert!(Profile::from_json(&text).is_err());
}

#[test]
fn every_profile_we_write_reads_back_strictly() {
    for name in Profile::BUILTIN_NAMES {
        let profile = Profile::builtin(name).expect("builtin");
        let text = serde_json::to_string_pretty(&profile).expect("serialize");
        assert_eq!(Profile::from_json(&text), Ok(profile), "{name}");
    }
    let custom = include_str!("custom_status_profile.json");
    assert!(Profile::from_json(custom).is_ok());
    // A profile without the newer keys reads as before, and writes without them.
    let text = serde_json::to_string(&Profile::jobs()).expect("serialize");
    assert!(!text.contains("progress_ratio") && !text.contains("unknown_means_running"));
}

#[test]
fn nearest_suggests_only_near_names() {
    assert_eq!(nearest("form", ["from", "template"]), Some("from"));
    assert_eq!(nearest("xyz", ["from", "template"]), None);
    assert_eq!(
        nearest("stepp_pointer", ["step_pointer", "eta_pointer"]),
        Some("step_pointer")
    );
}
