//! The hint parser against every header form, garbage and huge numbers.

use http::header::HeaderName;

use super::*;

const CAP: Duration = Duration::from_secs(24 * 3600);

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for &(name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).expect("valid test header name"),
            HeaderValue::from_str(value).expect("valid test header value"),
        );
    }
    map
}

fn wait(pairs: &[(&str, &str)]) -> Option<(Duration, HintSource)> {
    let hints = read_hints(&headers(pairs), CAP);
    assert_eq!(hints.problems, vec![], "unexpected problems for {pairs:?}");
    hints.wait.map(|hint| {
        assert_eq!(hint.capped_from, None);
        (hint.delay, hint.source)
    })
}

fn unparseable(header: &str, value: &str) -> HintProblem {
    HintProblem::Unparseable {
        header: header.to_owned(),
        value: value.to_owned(),
    }
}

fn secs(secs: u64) -> Duration {
    Duration::from_secs(secs)
}

#[test]
fn no_headers_no_hints() {
    assert_eq!(read_hints(&HeaderMap::new(), CAP), Hints::default());
    let unrelated = headers(&[("content-type", "application/json"), ("Date", "x")]);
    assert_eq!(read_hints(&unrelated, CAP), Hints::default());
}

#[test]
fn retry_after_seconds() {
    use HintSource::RetryAfterSeconds as S;
    assert_eq!(wait(&[("Retry-After", "120")]), Some((secs(120), S)));
    assert_eq!(wait(&[("retry-after", "0")]), Some((Duration::ZERO, S)));
    assert_eq!(wait(&[("RETRY-AFTER", "007")]), Some((secs(7), S)));
    assert_eq!(wait(&[("Retry-After", " \t 30 \t")]), Some((secs(30), S)));
}

#[test]
fn retry_after_rejects_negatives_fractions_and_garbage() {
    for value in ["-5", "1.5", "+5", "5s", "1e3", "soon", "", "5 6", "0x10"] {
        let hints = read_hints(&headers(&[("Retry-After", value)]), CAP);
        assert_eq!(hints.wait, None, "{value:?}");
        assert_eq!(
            hints.problems,
            vec![unparseable("Retry-After", value.trim())],
            "{value:?}"
        );
    }
}

#[test]
fn retry_after_date_is_measured_against_the_date_header() {
    use HintSource::RetryAfterDate as D;
    let date = ("Date", "Sun, 06 Nov 1994 08:49:37 GMT");
    // IMF-fixdate.
    assert_eq!(
        wait(&[date, ("Retry-After", "Sun, 06 Nov 1994 08:51:07 GMT")]),
        Some((secs(90), D))
    );
    // The obsolete RFC 850 and asctime formats, which httpdate also parses.
    assert_eq!(
        wait(&[date, ("Retry-After", "Sunday, 06-Nov-94 08:50:37 GMT")]),
        Some((secs(60), D))
    );
    assert_eq!(
        wait(&[date, ("Retry-After", "Sun Nov  6 08:49:47 1994")]),
        Some((secs(10), D))
    );
    // The Date header may be obsolete too, and surrounding whitespace is fine.
    let old_date = ("Date", "Sun Nov  6 08:49:37 1994");
    assert_eq!(
        wait(&[
            old_date,
            ("Retry-After", "  Mon, 07 Nov 1994 08:49:37 GMT ")
        ]),
        Some((secs(24 * 3600), D))
    );
}

#[test]
fn retry_after_date_in_the_past_is_zero() {
    let pairs = [
        ("Date", "Sun, 06 Nov 1994 08:49:37 GMT"),
        ("Retry-After", "Sat, 05 Nov 1994 08:49:37 GMT"),
    ];
    assert_eq!(
        wait(&pairs),
        Some((Duration::ZERO, HintSource::RetryAfterDate))
    );
    let same = [
        ("Date", "Sun, 06 Nov 1994 08:49:37 GMT"),
        ("Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT"),
    ];
    assert_eq!(
        wait(&same),
        Some((Duration::ZERO, HintSource::RetryAfterDate))
    );
}

#[test]
fn retry_after_date_without_date_header_is_a_problem() {
    let retry = "Sun, 06 Nov 1994 08:51:07 GMT";
    let expected = vec![HintProblem::DateWithoutDateHeader {
        value: retry.to_owned(),
    }];
    let hints = read_hints(&headers(&[("Retry-After", retry)]), CAP);
    assert_eq!(
        hints,
        Hints {
            wait: None,
            problems: expected.clone()
        }
    );
    // An unparseable Date is no Date.
    let hints = read_hints(
        &headers(&[("Retry-After", retry), ("Date", "yesterday")]),
        CAP,
    );
    assert_eq!(
        hints,
        Hints {
            wait: None,
            problems: expected
        }
    );
    // A date with a wrong weekday is not a date.
    let hints = read_hints(
        &headers(&[("Retry-After", "Mon, 06 Nov 1994 08:51:07 GMT")]),
        CAP,
    );
    assert_eq!(
        hints.problems,
        vec![unparseable("Retry-After", "Mon, 06 Nov 1994 08:51:07 GMT")]
    );
}

#[test]
fn the_first_usable_date_header_counts() {
    let pairs = [
        ("Date", "garbage"),
        ("Date", "Sun, 06 Nov 1994 08:49:37 GMT"),
        ("Date", "Sun, 06 Nov 1994 08:50:37 GMT"),
        ("Retry-After", "Sun, 06 Nov 1994 08:51:07 GMT"),
    ];
    assert_eq!(wait(&pairs), Some((secs(90), HintSource::RetryAfterDate)));
}

#[test]
fn the_first_usable_value_of_a_header_counts() {
    let hints = read_hints(
        &headers(&[
            ("Retry-After", "soon"),
            ("Retry-After", "5"),
            ("Retry-After", "10"),
        ]),
        CAP,
    );
    assert_eq!(hints.wait.map(|h| h.delay), Some(secs(5)));
    assert_eq!(hints.problems, vec![unparseable("Retry-After", "soon")]);

    let hints = read_hints(
        &headers(&[
            ("retry-after-ms", "x"),
            ("retry-after-ms", "250"),
            ("retry-after-ms", "9000"),
        ]),
        CAP,
    );
    assert_eq!(
        hints.wait.map(|h| h.delay),
        Some(Duration::from_millis(250))
    );
    assert_eq!(hints.problems, vec![unparseable("retry-after-ms", "x")]);
}

#[test]
fn retry_after_ms() {
    use HintSource::RetryAfterMs as M;
    assert_eq!(
        wait(&[("retry-after-ms", "1500")]),
        Some((Duration::from_millis(1500), M))
    );
    assert_eq!(
        wait(&[("Retry-After-Ms", " 0 ")]),
        Some((Duration::ZERO, M))
    );
    for value in ["1500.5", "-1", "1.5e3", "soon"] {
        let hints = read_hints(&headers(&[("retry-after-ms", value)]), CAP);
        assert_eq!(
            hints,
            Hints {
                wait: None,
                problems: vec![unparseable("retry-after-ms", value)]
            }
        );
    }
}

#[test]
fn separate_rate_limit_headers() {
    use HintSource::RateLimit as R;
    assert_eq!(
        wait(&[("RateLimit-Remaining", "0"), ("RateLimit-Reset", "5")]),
        Some((secs(5), R))
    );
    assert_eq!(
        wait(&[
            ("ratelimit-limit", "10"),
            ("ratelimit-remaining", "3"),
            ("ratelimit-reset", "5")
        ]),
        None
    );
    // A reset without a remaining count, or a remaining count without reset or
    // policy, asks for nothing.
    assert_eq!(wait(&[("RateLimit-Reset", "5")]), None);
    assert_eq!(wait(&[("RateLimit-Remaining", "0")]), None);
    // Without a reset, the policy window stands in.
    assert_eq!(
        wait(&[
            ("RateLimit-Remaining", "0"),
            ("RateLimit-Policy", "10;w=60")
        ]),
        Some((secs(60), R))
    );
    // A garbage reset is reported, and the window still stands in.
    let hints = read_hints(
        &headers(&[
            ("RateLimit-Remaining", "0"),
            ("RateLimit-Reset", "later"),
            ("RateLimit-Policy", "10;w=60"),
        ]),
        CAP,
    );
    assert_eq!(hints.wait.map(|h| (h.delay, h.source)), Some((secs(60), R)));
    assert_eq!(
        hints.problems,
        vec![unparseable("RateLimit-Reset", "later")]
    );
    // A garbage remaining count is reported and asks for nothing.
    let hints = read_hints(
        &headers(&[("RateLimit-Remaining", "none"), ("RateLimit-Reset", "5")]),
        CAP,
    );
    assert_eq!(
        hints,
        Hints {
            wait: None,
            problems: vec![unparseable("RateLimit-Remaining", "none")]
        }
    );
}

#[test]
fn combined_dictionary_rate_limit() {
    use HintSource::RateLimit as R;
    assert_eq!(
        wait(&[("RateLimit", "limit=10, remaining=0, reset=5")]),
        Some((secs(5), R))
    );
    assert_eq!(
        wait(&[("RateLimit", "reset=7,remaining=0,limit=10")]),
        Some((secs(7), R))
    );
    assert_eq!(
        wait(&[("RateLimit", "limit=10, remaining=1, reset=5")]),
        None
    );
    assert_eq!(
        wait(&[
            ("RateLimit", "limit=10, remaining=0"),
            ("RateLimit-Policy", "10;w=30")
        ]),
        Some((secs(30), R))
    );
    let hints = read_hints(
        &headers(&[("RateLimit", "limit=10, remaining=zero, reset=5")]),
        CAP,
    );
    assert_eq!(hints.wait, None);
    assert_eq!(
        hints.problems,
        vec![unparseable(
            "RateLimit",
            "limit=10, remaining=zero, reset=5"
        )]
    );
}

#[test]
fn structured_list_rate_limit() {
    use HintSource::RateLimit as R;
    assert_eq!(
        wait(&[("RateLimit", "\"default\";r=0;t=5")]),
        Some((secs(5), R))
    );
    assert_eq!(wait(&[("RateLimit", "\"default\";r=50;t=30")]), None);
    // Any exhausted item counts; quoted names may hold separators; unknown
    // parameters such as a partition key are ignored.
    assert_eq!(
        wait(&[(
            "RateLimit",
            "\"a,b;c\";r=0;t=7, \"day\";r=10;t=80000, burst;r=0;t=2;pk=:cHsdsRa894==:"
        )]),
        Some((secs(7), R))
    );
    // Field lines of a list combine.
    assert_eq!(
        wait(&[
            ("RateLimit", "\"burst\";r=5;t=1"),
            ("RateLimit", "\"daily\";r=0;t=3600")
        ]),
        Some((secs(3600), R))
    );
    // Without `t`, the window of the policy with the same name stands in.
    assert_eq!(
        wait(&[
            ("RateLimit", "\"daily\";r=0"),
            (
                "RateLimit-Policy",
                "\"burst\";q=10;w=1, \"daily\";q=1000;w=86400, \"hourly\";q=100;w=3600"
            ),
        ]),
        Some((secs(86400), R))
    );
    // An exhausted item with neither reset nor policy asks for nothing.
    assert_eq!(wait(&[("RateLimit", "\"default\";r=0")]), None);
}

#[test]
fn policy_alone_asks_for_nothing() {
    assert_eq!(
        wait(&[("RateLimit-Policy", "\"default\";q=100;w=60")]),
        None
    );
    assert_eq!(wait(&[("RateLimit-Policy", "10;w=60, 100;w=3600")]), None);
    // Not even read when no wait needs it.
    assert_eq!(wait(&[("RateLimit-Policy", "\"unterminated")]), None);
}

#[test]
fn malformed_rate_limit_values_are_reported() {
    for value in [
        "garbage",
        "\"default\";t=5",
        "\"default\";r=-1;t=5",
        "\"default\";r=0.0;t=5",
        "\"open;r=0;t=5",
        "",
    ] {
        let hints = read_hints(&headers(&[("RateLimit", value)]), CAP);
        assert_eq!(hints.wait, None, "{value:?}");
        assert_eq!(
            hints.problems,
            vec![unparseable("RateLimit", value)],
            "{value:?}"
        );
    }
    // A malformed `t` is reported and the policy window stands in.
    let hints = read_hints(
        &headers(&[
            ("RateLimit", "\"default\";r=0;t=soon"),
            ("RateLimit-Policy", "\"default\";q=5;w=9;x=\"\\\"\""),
        ]),
        CAP,
    );
    assert_eq!(hints.wait.map(|h| h.delay), Some(secs(9)));
    assert_eq!(
        hints.problems,
        vec![unparseable("RateLimit", "\"default\";r=0;t=soon")]
    );
    // A malformed policy is reported when its window is needed.
    let hints = read_hints(
        &headers(&[
            ("RateLimit", "\"default\";r=0"),
            ("RateLimit-Policy", "\"default\";q=5;w=x"),
        ]),
        CAP,
    );
    assert_eq!(
        hints,
        Hints {
            wait: None,
            problems: vec![unparseable("RateLimit-Policy", "\"default\";q=5;w=x")]
        }
    );
}

#[test]
fn the_longest_wait_wins() {
    let pairs = [
        ("Retry-After", "5"),
        ("retry-after-ms", "8000"),
        ("RateLimit", "\"default\";r=0;t=3"),
        ("RateLimit-Remaining", "0"),
        ("RateLimit-Reset", "6"),
    ];
    assert_eq!(wait(&pairs), Some((secs(8), HintSource::RetryAfterMs)));
    let pairs = [
        ("Retry-After", "5"),
        ("retry-after-ms", "4999"),
        ("RateLimit", "remaining=0, reset=10"),
    ];
    assert_eq!(wait(&pairs), Some((secs(10), HintSource::RateLimit)));
    // On a tie, Retry-After (read first) keeps it.
    let pairs = [("Retry-After", "5"), ("retry-after-ms", "5000")];
    assert_eq!(wait(&pairs), Some((secs(5), HintSource::RetryAfterSeconds)));
    // Problems do not stop the other headers from counting.
    let hints = read_hints(
        &headers(&[("Retry-After", "soon"), ("retry-after-ms", "300")]),
        CAP,
    );
    assert_eq!(
        hints.wait.map(|h| h.delay),
        Some(Duration::from_millis(300))
    );
    assert_eq!(hints.problems.len(), 1);
}

#[test]
fn waits_beyond_the_cap_are_capped() {
    let hints = read_hints(&headers(&[("Retry-After", "3600")]), secs(60));
    let expected = ServerHint {
        delay: secs(60),
        source: HintSource::RetryAfterSeconds,
        capped_from: Some(secs(3600)),
    };
    assert_eq!(
        hints,
        Hints {
            wait: Some(expected),
            problems: vec![]
        }
    );
    // Exactly the cap is not capped.
    let hints = read_hints(&headers(&[("Retry-After", "60")]), secs(60));
    assert_eq!(hints.wait.and_then(|h| h.capped_from), None);
    // The cap itself is cut to whole microseconds.
    let hints = read_hints(&headers(&[("Retry-After", "5")]), Duration::new(1, 999));
    let hint = hints.wait.expect("a wait");
    assert_eq!((hint.delay, hint.capped_from), (secs(1), Some(secs(5))));
}

#[test]
fn huge_numbers_saturate_and_get_capped() {
    let saturated = Duration::from_micros(u64::MAX);
    let huge = "99999999999999999999999999999999999999";
    for (name, value) in [
        ("Retry-After", huge.to_owned()),
        ("retry-after-ms", huge.to_owned()),
        ("RateLimit", format!("\"default\";r=0;t={huge}")),
        ("RateLimit", format!("remaining=0, reset={huge}")),
        ("Retry-After", "9".repeat(10_000)),
    ] {
        let hints = read_hints(&headers(&[(name, &value)]), secs(300));
        let hint = hints.wait.expect("a wait");
        assert_eq!(
            (hint.delay, hint.capped_from),
            (secs(300), Some(saturated)),
            "{name}: {value}"
        );
        assert!(hints.problems.is_empty());
        let uncapped = read_hints(&headers(&[(name, &value)]), Duration::MAX);
        assert_eq!(
            uncapped.wait.map(|h| (h.delay, h.capped_from)),
            Some((saturated, None))
        );
    }
    // A date far in the future is a long but exact wait.
    let pairs = [
        ("Date", "Sun, 06 Nov 1994 08:49:37 GMT"),
        ("Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT"),
    ];
    let hint = read_hints(&headers(&pairs), secs(300))
        .wait
        .expect("a wait");
    assert_eq!(hint.delay, secs(300));
    assert!(
        hint.capped_from
            .is_some_and(|asked| asked > secs(250_000_000_000))
    );
    // A huge remaining count is simply not exhausted.
    assert_eq!(
        wait(&[("RateLimit", &format!("\"default\";r={huge};t=5"))]),
        None
    );
    assert_eq!(
        wait(&[("RateLimit-Remaining", huge), ("RateLimit-Reset", "5")]),
        None
    );
}

#[test]
fn non_utf8_values_are_reported_safely() {
    for name in [
        "Retry-After",
        "retry-after-ms",
        "RateLimit",
        "RateLimit-Remaining",
    ] {
        let mut map = HeaderMap::new();
        let bytes = HeaderValue::from_bytes(&[0xff, 0xfe]).expect("obs-text is a valid value");
        map.insert(
            HeaderName::from_bytes(name.as_bytes()).expect("name"),
            bytes,
        );
        let hints = read_hints(&map, CAP);
        assert_eq!(hints.wait, None);
        assert_eq!(
            hints.problems,
            vec![unparseable(name, "\u{fffd}\u{fffd}")],
            "{name}"
        );
    }
    // Valid UTF-8 that is not ASCII is no number either.
    let mut map = HeaderMap::new();
    let value = HeaderValue::from_bytes("５".as_bytes()).expect("obs-text is a valid value");
    map.insert(RETRY_AFTER, value);
    assert_eq!(
        read_hints(&map, CAP).problems,
        vec![unparseable("Retry-After", "５")]
    );
    // A non-UTF-8 Date is no Date.
    let mut map = headers(&[("Retry-After", "Sun, 06 Nov 1994 08:51:07 GMT")]);
    map.insert(
        DATE,
        HeaderValue::from_bytes(b"Sun, 06 Nov 1994 08:49:37 GMT\xff").expect("value"),
    );
    assert!(matches!(
        read_hints(&map, CAP).problems[..],
        [HintProblem::DateWithoutDateHeader { .. }]
    ));
}

#[test]
fn excerpts_are_short_and_printable() {
    let long = "x".repeat(10_000);
    let hints = read_hints(&headers(&[("Retry-After", &long)]), CAP);
    let [HintProblem::Unparseable { header, value }] = &hints.problems[..] else {
        panic!("expected one problem, got {:?}", hints.problems);
    };
    assert_eq!(header, "Retry-After");
    assert_eq!(value.chars().count(), EXCERPT_CHARS);
    assert_eq!(value, &format!("{}…", "x".repeat(EXCERPT_CHARS - 1)));

    // Exactly 64 characters fit uncut.
    let fits = "y".repeat(EXCERPT_CHARS);
    let hints = read_hints(&headers(&[("Retry-After", &fits)]), CAP);
    assert_eq!(hints.problems, vec![unparseable("Retry-After", &fits)]);

    // Control characters (a tab is the only one a `HeaderValue` can hold) and
    // long runs of non-UTF-8 bytes.
    let hints = read_hints(&headers(&[("Retry-After", "a\tb")]), CAP);
    assert_eq!(
        hints.problems,
        vec![unparseable("Retry-After", "a\u{fffd}b")]
    );
    let mut map = HeaderMap::new();
    map.insert(
        RETRY_AFTER,
        HeaderValue::from_bytes(&[0x80; 5000]).expect("value"),
    );
    let problems = read_hints(&map, CAP).problems;
    let [HintProblem::Unparseable { value, .. }] = &problems[..] else {
        panic!("expected one problem, got {problems:?}");
    };
    assert_eq!(value.chars().count(), EXCERPT_CHARS);
    assert!(value.chars().all(|c| c == '\u{fffd}' || c == '…'));
}

#[test]
fn hints_serialize_in_whole_microseconds() {
    let hint = read_hints(&headers(&[("Retry-After", "3600")]), secs(60))
        .wait
        .expect("a wait");
    let json = serde_json::to_value(&hint).expect("serializes");
    assert_eq!(
        json,
        serde_json::json!({"delay": 60_000_000, "source": "retry_after_seconds", "capped_from": 3_600_000_000u64})
    );
    let back: ServerHint = serde_json::from_value(json).expect("deserializes");
    assert_eq!(back, hint);
}

#[test]
fn the_budget_alone_is_read_without_retry_after() {
    let both = headers(&[
        ("Retry-After", "600"),
        ("RateLimit", "limit=10, remaining=0, reset=7"),
    ]);
    let budget = read_rate_limit(&both, CAP)
        .wait
        .expect("an exhausted budget waits");
    assert_eq!(
        (budget.delay, budget.source),
        (secs(7), HintSource::RateLimit)
    );
    assert_eq!(
        wait(&[
            ("Retry-After", "600"),
            ("RateLimit", "limit=10, remaining=0, reset=7")
        ]),
        Some((secs(600), HintSource::RetryAfterSeconds))
    );
    let early = headers(&[("RateLimit-Remaining", "0"), ("RateLimit-Reset", "9")]);
    assert_eq!(
        read_rate_limit(&early, CAP).wait.map(|h| h.delay),
        Some(secs(9))
    );
    for pairs in [
        &[("Retry-After", "600")][..],
        &[("RateLimit", "limit=10, remaining=3, reset=7")][..],
        &[("retry-after-ms", "5000")][..],
    ] {
        assert_eq!(
            read_rate_limit(&headers(pairs), CAP).wait,
            None,
            "{pairs:?}"
        );
    }
    let capped = read_rate_limit(&both, secs(2)).wait.expect("a wait");
    assert_eq!((capped.delay, capped.capped_from), (secs(2), Some(secs(7))));
}
