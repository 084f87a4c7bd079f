//! The pointer tree on its own: it finds what `serde_json::Value::pointer` finds
//! and refuses what serde_json refuses, with the nesting limit where serde_json
//! has it.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::json;

use super::tree::{Kept, PointerTree};
use crate::profile::sparse_tests::{doc, rendered, style};
use crate::profile::status::Node;

/// Reads `text` for `pointers`: what each one found, as a `serde_json::Value`;
/// `None` when serde_json refuses the text.
fn read(text: &str, pointers: &[&str]) -> Option<Vec<Option<serde_json::Value>>> {
    let (tree, ends) = PointerTree::new(pointers.iter().copied());
    let mut kept = Kept::default();
    let found = tree.read(text.as_bytes(), &mut kept)?;
    Some(
        ends.iter()
            .map(|end| end.and_then(|node| found.at(node)).map(Node::into_value))
            .collect(),
    )
}

fn one(text: &str, pointer: &str) -> Option<Option<serde_json::Value>> {
    read(text, &[pointer]).map(|mut found| found.remove(0))
}

#[test]
fn found_values_are_the_values_serde_json_finds() {
    // The whole body kept holds every other value: the walk is tried without it.
    const POINTERS: &[&str] = &[
        "/meta",
        "/meta/ids",
        "/status",
        "/progress_data/percentage",
        "/progress_data",
        "/state/output/0",
        "/state/output/1",
        "/meta/ids/1/name",
        "/0",
        "/x",
        "/a/b",
        "/a~1b",
        "/result_data|/result",
        "",
    ];
    let mut runner = TestRunner::new(Config::with_cases(2000));
    let result = runner.run(&(doc(), style()), |(doc, style)| {
        let text = rendered(&doc, &style);
        let tree = serde_json::from_str::<serde_json::Value>(&text);
        for pointers in [&POINTERS[..POINTERS.len() - 1], POINTERS] {
            let Some(found) = read(&text, pointers) else {
                prop_assert!(tree.is_err(), "refused, but serde_json reads {}", text);
                return Ok(());
            };
            let tree = match &tree {
                Ok(tree) => tree,
                Err(e) => return Err(TestCaseError::fail(format!("read, but {e}: {text}"))),
            };
            for (pointer, value) in pointers.iter().zip(&found) {
                prop_assert_eq!(
                    value.as_ref(),
                    tree.pointer(pointer),
                    "{} in {}",
                    pointer,
                    text
                );
            }
        }
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

#[test]
fn values_at_nested_pointers() {
    let doc = r#"{"a":{"b":[1,{"c":"x"},[true,false]],"e":-2.5},"d":null,"s":"q\"r"}"#;
    let found = read(
        doc,
        &[
            "/a/b/1/c", "/a", "/a/b", "/a/b/0", "/a/b/2/1", "/a/e", "/d", "/s", "/missing",
            "/a/b/3", "/a/e/x", "/d/x",
        ],
    )
    .unwrap();
    assert_eq!(
        found,
        vec![
            Some(json!("x")),
            Some(json!({"b": [1, {"c": "x"}, [true, false]], "e": -2.5})),
            Some(json!([1, {"c": "x"}, [true, false]])),
            Some(json!(1)),
            Some(json!(false)),
            Some(json!(-2.5)),
            Some(json!(null)),
            Some(json!("q\"r")),
            None,
            None,
            None,
            None,
        ]
    );
}

#[test]
fn the_empty_pointer_and_odd_pointers() {
    assert_eq!(one(r#"{"a":1}"#, ""), Some(Some(json!({"a": 1}))));
    assert_eq!(one(r#""s""#, ""), Some(Some(json!("s"))));
    assert_eq!(one("7", ""), Some(Some(json!(7))));
    // `/` is the key "" of the top object.
    assert_eq!(one(r#"{"":2}"#, "/"), Some(Some(json!(2))));
    assert_eq!(one(r#"{"a":{"":3}}"#, "/a/"), Some(Some(json!(3))));
    // A pointer without its leading slash finds nothing.
    assert_eq!(one(r#"{"a":1}"#, "a"), Some(None));
    // Escapes in a pointer are decoded; escapes in a key too.
    assert_eq!(one(r#"{"a/b":1}"#, "/a~1b"), Some(Some(json!(1))));
    assert_eq!(one(r#"{"a~b":1}"#, "/a~0b"), Some(Some(json!(1))));
    assert_eq!(one(r#"{"a/b":1}"#, "/a/b"), Some(None));
    assert_eq!(one(r#"{"\u0061":1}"#, "/a"), Some(Some(json!(1))));
    // Pointers below a kept value are looked up in it.
    let found = read(
        r#"{"p":{"a":[5,{"b":6}]}}"#,
        &["/p", "/p/a/1/b", "", "/p/x"],
    )
    .unwrap();
    assert_eq!(found[1], Some(json!(6)));
    assert_eq!(found[3], None);
}

#[test]
fn array_indices_follow_the_pointer_rules() {
    let doc = r#"{"l":[10,11,12,13,14,15,16,17,18,19,20],"o":{"01":1,"+1":2,"-":3}}"#;
    assert_eq!(one(doc, "/l/0"), Some(Some(json!(10))));
    assert_eq!(one(doc, "/l/10"), Some(Some(json!(20))));
    for missing in ["/l/01", "/l/+1", "/l/-", "/l/11", "/l/", "/l/x", "/l/1e1"] {
        assert_eq!(one(doc, missing), Some(None), "{missing}");
    }
    // In an object the same segments are keys.
    assert_eq!(one(doc, "/o/01"), Some(Some(json!(1))));
    assert_eq!(one(doc, "/o/+1"), Some(Some(json!(2))));
    assert_eq!(one(doc, "/o/-"), Some(Some(json!(3))));
}

#[test]
fn a_key_that_occurs_twice_keeps_its_last_value() {
    assert_eq!(one(r#"{"a":1,"a":2}"#, "/a"), Some(Some(json!(2))));
    // The later value replaces the earlier one whole, as in a `serde_json::Value`.
    assert_eq!(one(r#"{"a":{"x":1},"a":{"y":2}}"#, "/a/x"), Some(None));
    assert_eq!(one(r#"{"a":{"x":1},"a":5}"#, "/a/x"), Some(None));
    assert_eq!(one(r#"{"a":{"x":1,"x":2}}"#, "/a/x"), Some(Some(json!(2))));
}

#[test]
fn what_serde_json_refuses_is_refused() {
    for bad in [
        "",
        "{",
        "}",
        "{\"a\"}",
        "{\"a\":1,}",
        "[1,]",
        "tru",
        "{\"a\":1}}",
        "{} x",
        "1 2",
        "{'a':1}",
        "{\"a\":1e400}",
        "{\"b\":[1e400]}",
        "{\"b\":\"\\ud800\"}",
        "{\"b\":\"tab\there\"}",
        "{\"a\":\x0c1}",
    ] {
        assert_eq!(one(bad, "/a"), None, "{bad:?}");
        assert!(
            serde_json::from_str::<serde_json::Value>(bad).is_err(),
            "{bad:?}"
        );
    }
    // Invalid UTF-8, even in a string no pointer reads.
    let (tree, _) = PointerTree::new(["/a"]);
    let body = b"{\"b\":\"\xff\",\"a\":1}";
    assert!(tree.read(body, &mut Kept::default()).is_none());
    // Trailing JSON whitespace is fine.
    assert_eq!(one("{\"a\":1} \n\t\r", "/a"), Some(Some(json!(1))));
}

#[test]
fn nesting_is_limited_as_serde_json_limits_it() {
    let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let deepest = (1..200)
        .take_while(|&depth| serde_json::from_str::<serde_json::Value>(&nested(depth)).is_ok())
        .last()
        .unwrap();
    assert_eq!(deepest, 127);
    for depth in [deepest - 1, deepest, deepest + 1, 100_000] {
        let text = nested(depth);
        let tree_reads = serde_json::from_str::<serde_json::Value>(&text).is_ok();
        // Whether the pointer goes into the nesting, keeps it, or skips it.
        for pointer in ["/0/0/0", "/0", "/1", ""] {
            assert_eq!(
                one(&text, pointer).is_some(),
                tree_reads,
                "{depth} {pointer}"
            );
        }
        let inside = format!(r#"{{"status":"queued","x":{text}}}"#);
        let tree_reads = serde_json::from_str::<serde_json::Value>(&inside).is_ok();
        for pointer in ["/status", "/x/0", "/x"] {
            assert_eq!(
                one(&inside, pointer).is_some(),
                tree_reads,
                "{depth} {pointer}"
            );
        }
    }
}
