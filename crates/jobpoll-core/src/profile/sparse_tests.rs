//! The sparse read of `read_status` against the tree read: random status-like
//! bodies, rendered in several styles and mutated byte by byte, must read the same
//! with both, for the built-in status profiles, for a custom one with nested,
//! array-index and `|`-alternative pointers, and for that one reading progress as
//! a ratio of two counts and any other status value as running. A fixed corpus of ordinary bodies must
//! take the sparse read, so the comparison is not between two runs of the tree.
#![allow(clippy::unwrap_used)]

use std::cell::Cell;
use std::fmt::Write as _;

use bytes::Bytes;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use super::{
    Completion, Interpret, InterpretError, Profile, ProgressRatio, StatusContext, StatusReport,
};

/// A custom status profile: nested, array-index, `|`-alternative and whole-body
/// pointers, and one pointer with a `~` escape.
pub(super) fn custom() -> Profile {
    serde_json::from_str(include_str!("custom_status_profile.json")).unwrap()
}

/// [`custom`], with progress also as a ratio of two counts (when its percentage
/// finds nothing), and any status value outside its sets meaning running.
pub(super) fn counting() -> Profile {
    let mut profile = custom();
    profile.name = "counting".to_owned();
    profile.progress_ratio = Some(ProgressRatio {
        done: "/processed|/counts/done|/state/eta".to_owned(),
        total: "/total|/counts/total".to_owned(),
    });
    if let Completion::Status { values, .. } = &mut profile.completion {
        values.unknown_means_running = true;
    }
    profile
}

fn profiles() -> [Profile; 4] {
    [Profile::jobs(), Profile::codegen(), custom(), counting()]
}

pub(super) fn response(body: &[u8]) -> http::Response<Bytes> {
    http::Response::new(Bytes::copy_from_slice(body))
}

/// Both paths on one body: the same report or the same error. Returns whether the
/// sparse read answered (rather than falling back).
fn agree(profile: &Profile, body: &[u8]) -> Result<bool, TestCaseError> {
    let resp = response(body);
    let fast: Result<StatusReport, InterpretError> = profile.read_status(&resp);
    let tree = profile.read_status_by_tree(&resp);
    // `Debug` tells -0.0 from 0.0 and 1 from 1.0, which `==` may not.
    prop_assert_eq!(
        format!("{fast:?}"),
        format!("{tree:?}"),
        "profile {} on {:?}",
        profile.name,
        String::from_utf8_lossy(body)
    );
    prop_assert_eq!(&fast, &tree);
    // A caller that knows the id already gets the same report without it.
    let wanting = |wants_id| {
        let context = StatusContext {
            wants_id,
            ..StatusContext::default()
        };
        profile.read_status_in(&resp, &context)
    };
    prop_assert_eq!(&wanting(true), &tree);
    let without_id = tree.map(|report| StatusReport {
        job_id: None,
        ..report
    });
    prop_assert_eq!(format!("{:?}", wanting(false)), format!("{without_id:?}"));
    Ok(profile.read_status_sparse(body).is_some())
}

// ---------------------------------------------------------------------------------
// Documents.

/// A JSON document that may hold duplicate keys and numbers in any spelling.
#[derive(Clone, Debug)]
pub(super) enum Doc {
    Null,
    Bool(bool),
    /// The number's text, as written.
    Num(String),
    Str(String),
    Arr(Vec<Doc>),
    Obj(Vec<(String, Doc)>),
}

/// How a document is written.
#[derive(Clone, Debug)]
pub(super) struct Style {
    /// Put between tokens.
    space: &'static str,
    /// Write non-ASCII characters as `\u` escapes (pairs beyond the BMP).
    escape_unicode: bool,
    /// Write `/` as `\/`.
    escape_slash: bool,
}

fn render(doc: &Doc, style: &Style, out: &mut String) {
    match doc {
        Doc::Null => out.push_str("null"),
        Doc::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Doc::Num(text) => out.push_str(text),
        Doc::Str(s) => render_str(s, style, out),
        Doc::Arr(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(style.space);
                render(item, style, out);
            }
            out.push_str(style.space);
            out.push(']');
        }
        Doc::Obj(members) => {
            out.push('{');
            for (i, (key, value)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(style.space);
                render_str(key, style, out);
                out.push_str(style.space);
                out.push(':');
                out.push_str(style.space);
                render(value, style, out);
            }
            out.push_str(style.space);
            out.push('}');
        }
    }
}

fn render_str(s: &str, style: &Style, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' if style.escape_slash => out.push_str("\\/"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if !c.is_ascii() && style.escape_unicode => {
                let mut units = [0_u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04X}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

const KEYS: &[&str] = &[
    "status",
    "job_id",
    "jobId",
    "id",
    "progress_data",
    "percentage",
    "current_step",
    "estimated_time_remaining",
    "result_data",
    "result",
    "error_data",
    "message",
    "details",
    "error",
    "state",
    "phase",
    "progress",
    "eta",
    "output",
    "meta",
    "ids",
    "name",
    "errors",
    "a/b",
    "a~1b",
    "result_data|",
    "",
    "0",
    "1",
    "x",
    "ü",
    "type",
    "created_at",
    "processed",
    "total",
    "counts",
    "done",
];

/// Words that are no status value (strings for other fields); the strategy
/// draws from these and [`STATUSES`].
const OTHER_WORDS: &[&str] = &[
    "Failed",
    "exploded",
    "",
    " 45 ",
    "12.5",
    "-3",
    "1e3",
    "NaN",
    "inf",
    "ü",
    "a\"b",
    "a\\b",
    "x/y",
    "line\nbreak",
    "\u{1F600}",
    "job_1",
    "disk full",
];

/// Status values the three profiles know.
const STATUSES: &[&str] = &[
    "queued",
    "processing",
    "completed",
    "failed",
    "cancelled",
    "canceled",
    "pending",
    "running",
    "Pending",
    "Running",
    "Done",
    "Error",
    "Cancelled",
    "COMPLETED",
];

const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "1",
    "45",
    "100",
    "150",
    "-5",
    "0.5",
    "45.25",
    "99.999",
    "-0.0",
    "1.50",
    "120",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "-9223372036854775809",
    "123456789012345678901234567890",
    "1e2",
    "1E+2",
    "-2.5e-3",
    "1e400",
    "1e-400",
    "3.0e0",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::sample::select([STATUSES, OTHER_WORDS].concat()).prop_map(str::to_owned),
        1 => "\\PC{0,6}",
        1 => prop::collection::vec(any::<char>(), 0..4).prop_map(|c| c.into_iter().collect()),
    ]
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(NUMBERS).prop_map(str::to_owned),
        2 => (0_u32..200).prop_map(|n| n.to_string()),
        1 => any::<u64>().prop_map(|n| n.to_string()),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:?}")),
        1 => (1_usize..130).prop_map(|n| format!("9{}", "0".repeat(n))),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::sample::select(KEYS).prop_map(str::to_owned),
        1 => "[a-z]{0,3}",
        1 => word(),
    ]
}

fn leaf() -> impl Strategy<Value = Doc> {
    prop_oneof![
        1 => Just(Doc::Null),
        1 => any::<bool>().prop_map(Doc::Bool),
        3 => number().prop_map(Doc::Num),
        3 => word().prop_map(Doc::Str),
    ]
}

pub(super) fn doc() -> impl Strategy<Value = Doc> {
    leaf().prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Doc::Arr),
            prop::collection::vec((key(), inner), 0..6).prop_map(Doc::Obj),
        ]
    })
}

fn obj(members: Vec<(&'static str, Doc)>) -> Doc {
    Doc::Obj(
        members
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}

/// An object with some of these members (a member left out is `None`).
fn some_of(members: Vec<(&'static str, Option<Doc>)>) -> Doc {
    Doc::Obj(
        members
            .into_iter()
            .filter_map(|(k, v)| Some((k.to_owned(), v?)))
            .collect(),
    )
}

/// Mostly present.
fn often<T: Strategy>(inner: T) -> impl Strategy<Value = Option<T::Value>> {
    prop::option::weighted(0.8, inner)
}

/// One member of a status-like top object.
fn member() -> impl Strategy<Value = (String, Doc)> {
    let status = prop_oneof![
        6 => prop::sample::select(STATUSES).prop_map(|s| Doc::Str(s.to_owned())),
        2 => word().prop_map(Doc::Str),
        1 => doc(),
    ];
    let id = prop_oneof![
        3 => word().prop_map(Doc::Str),
        1 => number().prop_map(Doc::Num),
        1 => doc(),
    ];
    let num = prop_oneof![
        4 => number().prop_map(Doc::Num),
        2 => word().prop_map(Doc::Str),
        1 => leaf(),
    ];
    let text = prop_oneof![4 => word().prop_map(Doc::Str), 1 => leaf()];
    prop_oneof![
        4 => status.clone().prop_map(|s| ("status".to_owned(), s)),
        2 => id.clone().prop_map(|v| ("job_id".to_owned(), v)),
        1 => id.clone().prop_map(|v| ("jobId".to_owned(), v)),
        1 => id.clone().prop_map(|v| ("id".to_owned(), v)),
        3 => (often(num.clone()), often(text.clone()), often(num.clone())).prop_map(|(p, s, e)| (
            "progress_data".to_owned(),
            some_of(vec![("percentage", p), ("current_step", s), ("estimated_time_remaining", e)]),
        )),
        1 => doc().prop_map(|d| ("result_data".to_owned(), d)),
        1 => doc().prop_map(|d| ("result".to_owned(), d)),
        1 => (often(text.clone()), often(doc())).prop_map(|(m, d)| (
            "error_data".to_owned(),
            some_of(vec![("message", m), ("details", d)]),
        )),
        1 => prop_oneof![
            text.clone(),
            text.clone().prop_map(|m| obj(vec![("message", m), ("code", Doc::Num("3".into()))])),
        ].prop_map(|e| ("error".to_owned(), e)),
        1 => text.clone().prop_map(|m| ("message".to_owned(), m)),
        2 => (
            often(status),
            often(num.clone()),
            often(text.clone()),
            often(num.clone()),
            often(prop::collection::vec(doc(), 0..3).prop_map(Doc::Arr)),
        )
            .prop_map(|(phase, progress, message, eta, output)| (
                "state".to_owned(),
                some_of(vec![
                    ("phase", phase),
                    ("progress", progress),
                    ("message", message),
                    ("eta", eta),
                    ("output", output),
                ]),
            )),
        1 => (id.clone(), id).prop_map(|(a, b)| (
            "meta".to_owned(),
            obj(vec![("ids", Doc::Arr(vec![a, obj(vec![("name", b)])]))]),
        )),
        2 => (often(num.clone()), often(num.clone())).prop_map(|(d, t)| (
            "counts".to_owned(),
            some_of(vec![("done", d), ("total", t)]),
        )),
        1 => num.clone().prop_map(|n| ("processed".to_owned(), n)),
        1 => num.clone().prop_map(|n| ("total".to_owned(), n)),
        1 => text.prop_map(|m| (
            "errors".to_owned(),
            Doc::Arr(vec![obj(vec![("message", m)])]),
        )),
        // Members of other APIs' bodies (Google and Azure operations, files with
        // tasks), so that many bodies carry none of a profile's status fields.
        1 => word().prop_map(|n| ("name".to_owned(), Doc::Str(n))),
        1 => prop::bool::ANY.prop_map(|d| ("done".to_owned(), Doc::Bool(d))),
        1 => doc().prop_map(|d| ("metadata".to_owned(), d)),
        1 => doc().prop_map(|d| ("response".to_owned(), d)),
        1 => word().prop_map(|s| (
            "properties".to_owned(),
            obj(vec![("provisioningState", Doc::Str(s))]),
        )),
        1 => prop::collection::vec(doc(), 0..3).prop_map(|t| ("tasks".to_owned(), Doc::Arr(t))),
        2 => (key(), doc()),
    ]
}

fn body_doc() -> impl Strategy<Value = Doc> {
    prop_oneof![
        9 => prop::collection::vec(member(), 0..9).prop_map(Doc::Obj),
        1 => doc(),
    ]
}

pub(super) fn style() -> impl Strategy<Value = Style> {
    (
        prop::sample::select(&["", "", "", " ", "\n  ", "\t", "\r\n", "\u{c}"][..]),
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.2),
    )
        .prop_map(|(space, escape_unicode, escape_slash)| Style {
            space,
            escape_unicode,
            escape_slash,
        })
}

/// A change to the rendered bytes.
#[derive(Clone, Debug)]
enum Mutation {
    None,
    Truncate(Index),
    Insert(Index, u8),
    Delete(Index),
    Replace(Index, u8),
    /// Wrapped in this many arrays, around the limits of both readers.
    Nest(usize),
    /// A byte order mark and ASCII whitespace around the body.
    Frame,
    Trailing(u8),
}

const NOISE: &[u8] = b"{}[],:\"\\1e-. \x0c\x00a\xc3\xff\x7f\x1fu";

fn mutation() -> impl Strategy<Value = Mutation> {
    let noise = prop::sample::select(NOISE);
    prop_oneof![
        12 => Just(Mutation::None),
        2 => any::<Index>().prop_map(Mutation::Truncate),
        2 => (any::<Index>(), noise.clone()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        1 => any::<Index>().prop_map(Mutation::Delete),
        1 => (any::<Index>(), noise.clone()).prop_map(|(i, b)| Mutation::Replace(i, b)),
        1 => (90_usize..135).prop_map(Mutation::Nest),
        1 => Just(Mutation::Frame),
        1 => noise.prop_map(Mutation::Trailing),
    ]
}

fn mutate(text: String, mutation: &Mutation) -> Vec<u8> {
    let mut bytes = text.into_bytes();
    match mutation {
        Mutation::None => {}
        Mutation::Truncate(i) => {
            let at = i.index(bytes.len() + 1);
            bytes.truncate(at);
        }
        Mutation::Insert(i, b) => {
            let at = i.index(bytes.len() + 1);
            bytes.insert(at, *b);
        }
        Mutation::Delete(i) if !bytes.is_empty() => {
            let at = i.index(bytes.len());
            bytes.remove(at);
        }
        Mutation::Replace(i, b) if !bytes.is_empty() => {
            let at = i.index(bytes.len());
            bytes[at] = *b;
        }
        Mutation::Delete(_) | Mutation::Replace(..) => {}
        Mutation::Nest(depth) => {
            let mut nested = vec![b'['; *depth];
            nested.extend_from_slice(&bytes);
            nested.extend(std::iter::repeat_n(b']', *depth));
            bytes = nested;
        }
        Mutation::Frame => {
            let mut framed = b"\xEF\xBB\xBF \n\t".to_vec();
            framed.extend_from_slice(&bytes);
            framed.extend_from_slice(b"\r\n \x0c");
            bytes = framed;
        }
        Mutation::Trailing(b) => bytes.push(*b),
    }
    bytes
}

fn case() -> impl Strategy<Value = (Doc, Style, Mutation)> {
    (body_doc(), style(), mutation())
}

pub(super) fn rendered(doc: &Doc, style: &Style) -> String {
    let mut text = String::new();
    render(doc, style, &mut text);
    text
}

// ---------------------------------------------------------------------------------
// Tests.

#[test]
fn the_sparse_and_the_tree_read_every_body_alike() {
    let taken = Cell::new(0_u32);
    let foreign = Cell::new(0_u32);
    let ratios = Cell::new(0_u32);
    let cases = 3000;
    let mut runner = TestRunner::new(Config::with_cases(cases));
    let result = runner.run(&case(), |(doc, style, mutation)| {
        let body = mutate(rendered(&doc, &style), &mutation);
        for profile in profiles() {
            if agree(&profile, &body)? {
                taken.set(taken.get() + 1);
            }
            if let Err(InterpretError::NotThisApi { .. }) =
                profile.read_status_by_tree(&response(&body))
            {
                foreign.set(foreign.get() + 1);
            }
        }
        // Progress that only the ratio of two counts gives.
        let percent = |p: Profile| {
            p.read_status_by_tree(&response(&body))
                .map(|r| r.percentage)
        };
        if matches!(percent(counting()), Ok(Some(_))) && !matches!(percent(custom()), Ok(Some(_))) {
            ratios.set(ratios.get() + 1);
        }
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    eprintln!(
        "the sparse read answered {} of {} reads",
        taken.get(),
        4 * cases
    );
    // Many carry none of a profile's status fields, as another API's body would.
    assert!(
        foreign.get() > cases / 10,
        "{} reads of bodies without the status",
        foreign.get()
    );
    assert!(ratios.get() > cases / 50, "{} ratios", ratios.get());
    // Most generated bodies are ordinary: the sparse read must have answered for
    // many of them, or this test compared the tree with itself.
    assert!(
        taken.get() > cases / 2,
        "the sparse read answered {} of {} reads",
        taken.get(),
        4 * cases
    );
}
