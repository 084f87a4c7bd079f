//! What a person reads on stderr: durations in whole units, server text cut to one
//! line that fits the screen, and outcomes named and coloured by how the job ended.

use std::io::IsTerminal as _;
use std::time::Duration;

use jobpoll_core::event::{CancelledBy, PollError, WaitLimit};
use jobpoll_core::profile::InterpretError;
use jobpoll_core::{Event, Outcome};

/// The width text is cut to when stderr is not a terminal (or its width is unknown).
pub(crate) const FIXED_WIDTH: usize = 100;

/// A duration in whole units, the two largest that matter: `0s`, `250ms`, `12s`,
/// `1m 05s`, `2h 03m`, `3d 04h`. Rounded to the nearest smallest unit shown.
pub(crate) fn duration(duration: Duration) -> String {
    let micros = duration.as_micros();
    if micros == 0 {
        return "0s".to_owned();
    }
    if micros < 999_500 {
        return format!("{}ms", ((micros + 500) / 1_000).max(1));
    }
    let secs = (micros + 500_000) / 1_000_000;
    if secs < 60 {
        return format!("{secs}s");
    }
    if secs < 3_600 {
        return format!("{}m {:02}s", secs / 60, secs % 60);
    }
    let minutes = (secs + 30) / 60;
    if minutes < 24 * 60 {
        return format!("{}h {:02}m", minutes / 60, minutes % 60);
    }
    let hours = (minutes + 30) / 60;
    format!("{}d {:02}h", hours / 24, hours % 24)
}

/// `text` on one line: line breaks and tabs become spaces, other control
/// characters (escape sequences included) are removed, runs of spaces collapse.
pub(crate) fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // An escape sequence: drop it whole (CSI up to its final byte).
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            continue;
        }
        let c = if c.is_whitespace() { ' ' } else { c };
        if c.is_control() {
            continue;
        }
        if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
            continue;
        }
        out.push(c);
    }
    out.truncate(out.trim_end().len());
    out
}

/// `text` on one line (see [`one_line`]) of at most `width` columns, ending in `…`
/// when cut.
pub(crate) fn cut(text: &str, width: usize) -> String {
    let line = one_line(text);
    if console::measure_text_width(&line) <= width {
        return line;
    }
    console::truncate_str(&line, width, "…").into_owned()
}

/// The width of the terminal on stderr, or [`FIXED_WIDTH`] when there is none.
pub(crate) fn width() -> usize {
    if !std::io::stderr().is_terminal() {
        return FIXED_WIDTH;
    }
    match console::Term::stderr().size_checked() {
        Some((_, columns)) if columns > 0 => usize::from(columns),
        _ => FIXED_WIDTH,
    }
}

/// How an ending reads: good, bad, or neither.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tone {
    /// Green: the job succeeded.
    Good,
    /// Red: the job failed, or the wait gave up or was refused.
    Bad,
    /// Yellow: cancelled, or we stopped waiting (the job's fate is unknown).
    Warn,
}

impl Tone {
    /// The ANSI colour code and the indicatif style name of this tone.
    fn codes(self) -> (&'static str, &'static str) {
        match self {
            Tone::Good => ("32", "green"),
            Tone::Bad => ("31", "red"),
            Tone::Warn => ("33", "yellow"),
        }
    }

    /// The indicatif colour name (`red`, ...), for templates.
    pub(crate) fn style_name(self) -> &'static str {
        self.codes().1
    }
}

/// Whether to colour what goes to stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Palette {
    /// Colours on.
    pub(crate) colour: bool,
}

impl Palette {
    /// Colour on a terminal, or anywhere when `CLICOLOR_FORCE` is set (not `0`);
    /// never when `NO_COLOR` has a value (<https://no-color.org>).
    pub(crate) fn from_env() -> Palette {
        let set = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
        let colour = if set("NO_COLOR").is_some() {
            false
        } else if set("CLICOLOR_FORCE").is_some_and(|value| value != "0") {
            true
        } else {
            std::io::stderr().is_terminal()
        };
        // Template colours (the bars) follow the same rule.
        console::set_colors_enabled(colour);
        console::set_colors_enabled_stderr(colour);
        Palette { colour }
    }

    /// `text` in the colour of `tone`, when colours are on.
    pub(crate) fn paint(self, tone: Tone, text: &str) -> String {
        if self.colour {
            format!("\u{1b}[{}m{text}\u{1b}[0m", tone.codes().0)
        } else {
            text.to_owned()
        }
    }
}

/// An event as one short line, durations in whole units and the server's text on
/// one line (cut later, to the room there is).
pub(crate) fn event(event: &Event) -> String {
    match event {
        Event::Progress(progress) => {
            // The server's own text (the step) last: it is what gets cut.
            let mut text = progress.status.clone();
            if let Some(percentage) = progress.percentage {
                text.push_str(&format!(" {:.0}%", percentage.clamp(0.0, 100.0)));
            }
            text.push_str(&format!(
                " · {} elapsed · poll {}, next in {}",
                duration(progress.elapsed),
                progress.attempt,
                duration(progress.next_poll_in),
            ));
            if let Some(eta) = progress.eta {
                text.push_str(&format!(" · eta {}", duration(eta)));
            }
            if let Some(step) = &progress.step {
                text.push_str(&format!(" · {step}"));
            }
            one_line(&text)
        }
        Event::Retrying {
            cause,
            consecutive_errors: 0,
            delay,
        } => format!(
            "retrying in {}, as the server asked: {}",
            duration(*delay),
            error(cause, usize::MAX)
        ),
        Event::Retrying {
            cause,
            consecutive_errors,
            delay,
        } => format!(
            "retrying in {} (error {consecutive_errors} in a row): {}",
            duration(*delay),
            error(cause, usize::MAX)
        ),
        Event::HintCapped {
            source,
            requested,
            used,
        } => format!(
            "the server asked to wait {} ({source:?}); waiting {}",
            duration(*requested),
            duration(*used)
        ),
        Event::ResultsFetched { .. } => "results fetched".to_owned(),
        other => one_line(&other.to_string()),
    }
}

/// How a job ended, in a word and a tone: `failed`, red.
pub(crate) fn ending(outcome: &Outcome) -> (&'static str, Tone) {
    match outcome {
        Outcome::Succeeded { .. } => ("succeeded", Tone::Good),
        Outcome::Failed { .. } => ("failed", Tone::Bad),
        Outcome::Cancelled { .. } => ("cancelled", Tone::Warn),
        Outcome::TimedOut { .. } => ("timed out", Tone::Warn),
        Outcome::GaveUp { .. } => ("gave up", Tone::Bad),
        Outcome::Unauthorized { .. } => ("unauthorized", Tone::Bad),
        Outcome::Rejected { .. } => ("rejected", Tone::Bad),
        Outcome::NotFound { .. } => ("not found", Tone::Bad),
    }
}

/// An error as one line, the server's own text in it (a body excerpt, a message
/// it could not read) cut to `room` columns; what the error means is kept whole.
pub(crate) fn error(error: &PollError, room: usize) -> String {
    match error {
        PollError::Status { status, excerpt } => {
            format!("the server answered {status}: {}", cut(excerpt, room))
        }
        PollError::SubmitUncertain { cause } => format!(
            "the submit request failed ({}); the job may or may not have been created, \
             and repeating the request could create a second one \
             (send an Idempotency-Key header to allow retries)",
            self::error(cause, room)
        ),
        // An HTML page: the advice is ours, only what the page said is cut.
        PollError::Unreadable(InterpretError::NotJson {
            excerpt,
            html: Some(title),
        }) => {
            let shown = InterpretError::NotJson {
                excerpt: cut(excerpt, room),
                html: Some(cut(title, room)),
            };
            one_line(&shown.to_string())
        }
        PollError::Unreadable(problem) => {
            format!(
                "the response could not be read: {}",
                cut(&problem.to_string(), room)
            )
        }
        other => one_line(&other.to_string()),
    }
}

/// What follows the word of an outcome: the server's message (cut to `room`
/// columns), the limit reached, whether the job may still run on the server. One
/// line; may be empty.
pub(crate) fn detail(outcome: &Outcome, room: usize) -> String {
    let stats = outcome.stats();
    let maybe_running = if stats.unreached {
        "no request reached the server"
    } else {
        "the job may still be running on the server"
    };
    let text = match outcome {
        Outcome::Succeeded {
            results_error: Some(error),
            ..
        } => format!("its results could not be fetched: {error}"),
        Outcome::Succeeded { .. } | Outcome::NotFound { .. } => String::new(),
        Outcome::Failed { message, .. } => cut(message, room),
        Outcome::Cancelled {
            by: CancelledBy::Server,
            ..
        } => "by the server".to_owned(),
        Outcome::Cancelled {
            by: CancelledBy::Client { server_confirmed },
            ..
        } => match server_confirmed {
            _ if stats.unreached => "no request reached the server",
            Some(true) => "the server confirmed",
            Some(false) => "the server did not confirm; it may still be running",
            None => "no cancel request was sent; it may still be running on the server",
        }
        .to_owned(),
        Outcome::TimedOut { reason, .. } => {
            let limit = match reason {
                WaitLimit::Deadline { deadline } => {
                    format!("the deadline of {} passed", duration(*deadline))
                }
                WaitLimit::MaxAttempts { max_attempts } => {
                    format!("all {max_attempts} attempts were used")
                }
                WaitLimit::HintPastDeadline { hint, remaining } => format!(
                    "the server asked to wait {} with {} left before the deadline",
                    duration(hint.capped_from.unwrap_or(hint.delay)),
                    duration(*remaining)
                ),
            };
            format!("{limit}; {maybe_running}")
        }
        Outcome::GaveUp { last_error, .. } => error(last_error, room),
        Outcome::Unauthorized {
            status, message, ..
        } => format!("{status}: {}; check the token", cut(message, room)),
        Outcome::Rejected {
            status, message, ..
        } => format!("{status}: {}", cut(message, room)),
    };
    one_line(&text)
}

/// An outcome as one short line, uncoloured and uncut: `failed after 4s: out of
/// GPU memory`.
pub(crate) fn outcome_brief(outcome: &Outcome) -> String {
    let (word, _) = ending(outcome);
    let head = format!("{word} after {}", duration(outcome.stats().elapsed));
    with_detail(head, outcome, usize::MAX)
}

/// `head`, then the outcome's detail after a colon when it has one, the server's
/// text in it cut to `room` columns.
fn with_detail(head: String, outcome: &Outcome, room: usize) -> String {
    match detail(outcome, room) {
        detail if detail.is_empty() => head,
        detail => format!("{head}: {detail}"),
    }
}

/// Columns the server's text in an outcome line always has, however long the rest.
const SERVER_ROOM: usize = 40;

/// An outcome as one line: `failed after 4s (3 polls): out of GPU memory`, the
/// word coloured by `palette`. The server's text in it is cut to what `width`
/// columns leave (at least [`SERVER_ROOM`]); what the outcome means is never cut.
pub(crate) fn outcome(outcome: &Outcome, palette: Palette, width: usize) -> String {
    let (word, tone) = ending(outcome);
    let stats = outcome.stats();
    let head = format!(
        "{word} after {} ({} {})",
        duration(stats.elapsed),
        stats.attempts,
        if stats.attempts == 1 { "poll" } else { "polls" }
    );
    let room = width
        .saturating_sub(head.chars().count() + 2)
        .max(SERVER_ROOM);
    let line = with_detail(head, outcome, room);
    // The word is the line's first; colour it after cutting, so the cut counts
    // columns, not escape codes.
    match line.strip_prefix(word) {
        Some(rest) => format!("{}{rest}", palette.paint(tone, word)),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_whole_units() {
        let cases = [
            (Duration::ZERO, "0s"),
            (Duration::from_micros(1), "1ms"),
            (Duration::from_micros(998_547), "999ms"),
            (Duration::from_micros(999_600), "1s"),
            (Duration::from_millis(12_400), "12s"),
            (Duration::from_millis(59_600), "1m 00s"),
            (Duration::from_secs(65), "1m 05s"),
            (Duration::from_secs(3_599), "59m 59s"),
            (Duration::from_secs(2 * 3_600 + 3 * 60 + 10), "2h 03m"),
            (Duration::from_secs(23 * 3_600 + 59 * 60 + 50), "1d 00h"),
            (Duration::from_secs(3 * 86_400 + 4 * 3_600), "3d 04h"),
        ];
        for (input, expected) in cases {
            assert_eq!(duration(input), expected, "{input:?}");
        }
    }

    #[test]
    fn server_text_becomes_one_clean_line() {
        assert_eq!(
            one_line("out of\r\nGPU\tmemory\u{7}\u{1b}[2J  now \n"),
            "out of GPU memory now"
        );
        assert_eq!(one_line("\u{1b}[31mred\u{1b}[0m"), "red");
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis() {
        let long = "x".repeat(500);
        let cut = cut(&long, 40);
        assert_eq!(console::measure_text_width(&cut), 40);
        assert!(cut.ends_with('…'), "{cut}");
        assert_eq!(super::cut("short", 40), "short");
        assert_eq!(super::cut("two\nlines", 40), "two lines");
    }

    #[test]
    fn colours_only_when_on() {
        let on = Palette { colour: true };
        let off = Palette { colour: false };
        assert_eq!(on.paint(Tone::Bad, "failed"), "\u{1b}[31mfailed\u{1b}[0m");
        assert_eq!(
            on.paint(Tone::Warn, "cancelled"),
            "\u{1b}[33mcancelled\u{1b}[0m"
        );
        assert_eq!(off.paint(Tone::Bad, "failed"), "failed");
    }

    fn failed(message: &str) -> Outcome {
        Outcome::Failed {
            message: message.to_owned(),
            details: None,
            stats: jobpoll_core::Stats {
                elapsed: Duration::from_micros(4_012_345),
                attempts: 3,
                ..Default::default()
            },
        }
    }

    #[test]
    fn a_failed_outcome_says_failed_in_red_on_one_short_line() {
        let long = format!("out of GPU memory\n{}", "trace line ".repeat(60));
        let line = outcome(&failed(&long), Palette { colour: true }, 80);
        assert!(
            line.starts_with(
                "\u{1b}[31mfailed\u{1b}[0m after 4s (3 polls): out of GPU memory trace"
            ),
            "{line}"
        );
        assert!(!line.contains('\n'));
        assert_eq!(console::measure_text_width(&line), 80, "{line}");
        let plain = outcome(&failed("boom"), Palette { colour: false }, 80);
        assert_eq!(plain, "failed after 4s (3 polls): boom");
    }

    #[test]
    fn what_an_error_means_is_never_cut_only_the_server_text() {
        let uncertain = PollError::SubmitUncertain {
            cause: Box::new(PollError::Status {
                status: 500,
                excerpt: format!("{{\"error\": \"{}\"}}", "internal ".repeat(40)),
            }),
        };
        let text = error(&uncertain, 30);
        assert!(
            text.starts_with("the submit request failed (the server answered 500: {\"error\""),
            "{text}"
        );
        assert!(text.contains("…); the job may or may not"), "{text}");
        assert!(
            text.ends_with("(send an Idempotency-Key header to allow retries)"),
            "{text}"
        );
    }
}
