//! How the command line shows jobs: progress bars on a terminal, plain lines
//! otherwise, JSON lines for scripts.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{
    MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle, TermLike,
};
use jobpoll_core::{Event, Outcome};
use jobpoll_tokio::FleetMetrics;

use crate::display::{self, Palette, Tone};

/// Where job events go.
pub(crate) enum Report {
    /// One JSON object per line on stdout: `{"job": label, "event": ...}`.
    Json,
    /// Nothing but what went wrong: no progress, no events.
    Quiet {
        /// Colours for the outcome of a job that did not succeed.
        palette: Palette,
    },
    /// One readable line per event on stderr.
    Lines {
        /// Colours for outcomes.
        palette: Palette,
    },
    /// A live progress bar per job.
    Bars {
        /// Where the bars are drawn.
        multi: MultiProgress,
        /// The bar of each job, by label.
        bars: HashMap<String, JobBar>,
        /// The fleet bars, finished with the rest on Ctrl-C.
        fleets: Vec<ProgressBar>,
        /// Colours for outcomes.
        palette: Palette,
        /// Columns the labels take (right-aligned), so that bars line up; labels
        /// take their own width when it is zero.
        labels: usize,
    },
}

/// How the options ask for jobs to be shown.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct View {
    /// JSON lines on stdout.
    pub(crate) json: bool,
    /// No progress and no event lines.
    pub(crate) quiet: bool,
    /// Lines on stderr instead of bars, even on a terminal.
    pub(crate) no_progress: bool,
}

/// The bar of one job and what its last column shows.
pub(crate) struct JobBar {
    bar: ProgressBar,
    shown: Arc<Mutex<Shown>>,
    /// Columns its label takes.
    labels: usize,
}

/// What the last column of a job's bar shows, redrawn at every tick.
#[derive(Default)]
struct Shown {
    /// When the next poll is due, for the countdown.
    next_poll: Option<std::time::Instant>,
    /// The latest event (or the outcome), on one line.
    text: String,
    /// How the job ended, once it has: the first word of `text`, coloured.
    ending: Option<(&'static str, Tone)>,
}

/// Columns before the last one of a job's bar, besides its label:
/// ` [{bar:24}] {pos:>3}% `.
const BAR_COLUMNS: usize = 2 + 24 + 2 + 4 + 1;

/// Columns the bars leave free at the right edge of the terminal.
///
/// Drawn lines fill the width they are given, leaving the cursor after the last
/// column. Were that the terminal's last column, the `^C` a terminal echoes on
/// Ctrl-C would wrap onto a new row, the next redraw would start one row too low,
/// and a stale copy of the last bar would stay on the screen. Two free columns
/// keep the echo on the bar's own row, which the next redraw clears.
const MARGIN: usize = 2;

/// Stderr as the bars see it: [`MARGIN`] columns narrower than it is.
#[derive(Debug)]
struct Screen(console::Term);

impl TermLike for Screen {
    fn width(&self) -> u16 {
        self.0.size().1.saturating_sub(MARGIN as u16).max(1)
    }
    fn height(&self) -> u16 {
        self.0.size().0
    }
    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_up(n)
    }
    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_down(n)
    }
    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_right(n)
    }
    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_left(n)
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.0.write_line(s)
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.0.write_str(s)
    }
    fn clear_line(&self) -> std::io::Result<()> {
        self.0.clear_line()
    }
    fn flush(&self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl Report {
    /// JSON if asked, bars on a terminal, plain lines otherwise.
    pub(crate) fn new(json: bool) -> Report {
        Report::with_view(View {
            json,
            ..View::default()
        })
    }

    /// What `view` asks for: JSON, quiet, lines, or bars on a terminal.
    pub(crate) fn with_view(view: View) -> Report {
        if view.json {
            return Report::Json;
        }
        let palette = Palette::from_env();
        if view.quiet {
            Report::Quiet { palette }
        } else if !view.no_progress && std::io::stderr().is_terminal() {
            Report::Bars {
                multi: MultiProgress::with_draw_target(ProgressDrawTarget::term_like(Box::new(
                    Screen(console::Term::stderr()),
                ))),
                bars: HashMap::new(),
                fleets: Vec::new(),
                palette,
                labels: 0,
            }
        } else {
            Report::Lines { palette }
        }
    }

    /// Lines up the bars of jobs added from now on: their labels take `columns`.
    pub(crate) fn align_labels(&mut self, columns: usize) {
        if let Report::Bars { labels, .. } = self {
            *labels = columns;
        }
    }

    /// Adds a job to show.
    pub(crate) fn add(&mut self, label: &str) {
        if let Report::Bars {
            multi,
            bars,
            palette,
            labels,
            ..
        } = self
        {
            let shown = Arc::new(Mutex::new(Shown::default()));
            let bar = multi.add(ProgressBar::new(100));
            let labels = (*labels).max(console::measure_text_width(label));
            bar.set_style(job_style(&shown, *palette, labels, None));
            bar.set_prefix(label.to_owned());
            bar.enable_steady_tick(Duration::from_millis(200));
            bars.insert(label.to_owned(), JobBar { bar, shown, labels });
        }
    }

    /// Shows one event.
    pub(crate) fn event(&mut self, label: &str, event: &Event) {
        match self {
            Report::Json => {
                let line = serde_json::json!({ "job": label, "event": event });
                println!("{line}");
            }
            Report::Quiet { .. } => {}
            Report::Lines { .. } => {
                let room = display::width().saturating_sub(label.len() + 2);
                eprintln!("{label}: {}", display::cut(&display::event(event), room));
            }
            Report::Bars { bars, .. } => {
                if let Some(JobBar { bar, shown, .. }) = bars.get(label) {
                    if let Event::Progress(progress) = event
                        && let Some(percentage) = progress.percentage
                    {
                        bar.set_position(percentage.clamp(0.0, 100.0) as u64);
                    }
                    if let Ok(mut shown) = shown.lock() {
                        let next = match event {
                            Event::Progress(progress) => Some(progress.next_poll_in),
                            Event::Retrying { delay, .. } => Some(*delay),
                            _ => None,
                        };
                        if let Some(next) = next {
                            shown.next_poll = std::time::Instant::now().checked_add(next);
                        }
                        shown.text = bar_text(event);
                    }
                    bar.tick();
                }
            }
        }
    }

    /// Shows the outcome.
    pub(crate) fn outcome(&mut self, label: &str, outcome: &Outcome) {
        match self {
            Report::Json => {
                let line = serde_json::json!({ "job": label, "outcome": outcome });
                println!("{line}");
            }
            Report::Quiet { .. } if outcome.is_success() => {}
            Report::Quiet { palette } | Report::Lines { palette } => {
                let room = display::width().saturating_sub(label.len() + 2);
                eprintln!("{label}: {}", display::outcome(outcome, *palette, room));
            }
            Report::Bars { bars, palette, .. } => {
                if let Some(JobBar { bar, shown, labels }) = bars.get(label) {
                    if outcome.is_success() {
                        bar.set_position(100);
                    }
                    let line = display::outcome_brief(outcome);
                    finish(
                        bar,
                        shown,
                        *palette,
                        *labels,
                        display::ending(outcome),
                        line,
                    );
                }
            }
        }
    }

    /// Ends every bar still running as `cancelled`, so that none is left half drawn
    /// when the process quits at once (a second Ctrl-C).
    pub(crate) fn interrupt(&mut self) {
        if let Report::Bars {
            bars,
            fleets,
            palette,
            ..
        } = self
        {
            for JobBar { bar, shown, labels } in bars.values() {
                if !bar.is_finished() {
                    let text = "cancelled (Ctrl-C); the job may still be running on the server";
                    let ending = ("cancelled", Tone::Warn);
                    finish(bar, shown, *palette, *labels, ending, text.to_owned());
                }
            }
            for bar in fleets.iter().filter(|bar| !bar.is_finished()) {
                bar.abandon_with_message(format!(
                    "· {}",
                    palette.paint(Tone::Warn, "cancelled (Ctrl-C)")
                ));
            }
        }
    }

    /// A note for the person watching (`cancelling ...`) on stderr, above the bars;
    /// nothing when quiet.
    pub(crate) fn note(&self, text: &str) {
        match self {
            Report::Quiet { .. } => {}
            Report::Bars { multi, .. } => multi.suspend(|| eprintln!("{text}")),
            _ => eprintln!("{text}"),
        }
    }

    /// A bar for a whole fleet of `total` jobs (on a terminal only): how many are
    /// done, and what the fleet is doing (see [`show_fleet`]).
    pub(crate) fn fleet(&mut self, label: &str, total: u64) -> Option<ProgressBar> {
        let Report::Bars { multi, fleets, .. } = self else {
            return None;
        };
        let bar = new_bar(multi, label, total, "{pos}/{len} done {msg}");
        fleets.push(bar.clone());
        Some(bar)
    }

    /// Prints a line on standard output (above the bars, on a terminal).
    pub(crate) fn line(&self, text: &str) {
        match self {
            Report::Bars { multi, .. } => multi.suspend(|| println!("{text}")),
            _ => println!("{text}"),
        }
    }
}

/// A bar of `len` steps labelled `label`, added to `multi`; `tail` is what the
/// template shows after the bar itself.
fn new_bar(multi: &MultiProgress, label: &str, len: u64, tail: &str) -> ProgressBar {
    let bar = multi.add(ProgressBar::new(len));
    let style = ProgressStyle::with_template(&format!("{{prefix:>14}} [{{bar:30}}] {tail}"))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(label.to_owned());
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// The style of a job's bar: the bar in `tone`'s colour once the job has ended,
/// then `shown` on one line cut to the room the terminal has.
fn job_style(
    shown: &Arc<Mutex<Shown>>,
    palette: Palette,
    labels: usize,
    tone: Option<Tone>,
) -> ProgressStyle {
    let bar = match tone {
        Some(tone) => format!("{{bar:24.{}}}", tone.style_name()),
        None => "{bar:24}".to_owned(),
    };
    let shown = Arc::clone(shown);
    ProgressStyle::with_template(&format!(
        "{{prefix:>{labels}}} [{bar}] {{pos:>3}}% {{tail}}"
    ))
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ")
    .with_key(
        "tail",
        move |state: &ProgressState, out: &mut dyn std::fmt::Write| {
            let Ok(shown) = shown.lock() else {
                return;
            };
            let room = display::width().saturating_sub(MARGIN + labels + BAR_COLUMNS);
            let _ = out.write_str(&tail(&shown, state.elapsed(), palette, room));
        },
    )
}

/// The last column of a job's bar: while it runs, time elapsed, the countdown to
/// the next poll and the latest event; once it has ended, the outcome with its
/// word coloured. At most `room` columns.
fn tail(shown: &Shown, elapsed: Duration, palette: Palette, room: usize) -> String {
    if let Some((word, tone)) = shown.ending {
        let line = display::cut(&shown.text, room);
        return match line.strip_prefix(word) {
            Some(rest) => format!("{}{rest}", palette.paint(tone, word)),
            None => line,
        };
    }
    // Whole seconds: a bar redrawn five times a second has no use for milliseconds.
    let mut line = display::duration(Duration::from_secs(elapsed.as_secs()));
    if let Some(at) = shown.next_poll {
        let left = at.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            line.push_str(" · polling");
        } else if left < Duration::from_secs(1) {
            line.push_str(" · next poll <1s");
        } else {
            let left = Duration::from_secs(left.as_secs() + u64::from(left.subsec_nanos() > 0));
            line.push_str(&format!(" · next poll {}", display::duration(left)));
        }
    }
    if !shown.text.is_empty() {
        line.push_str(" · ");
        line.push_str(&shown.text);
    }
    display::cut(&line, room)
}

/// Finishes `bar` as `ending`'s word in its tone (the bar in its colour), with
/// `text` (which starts with the word) in the last column.
fn finish(
    bar: &ProgressBar,
    shown: &Arc<Mutex<Shown>>,
    palette: Palette,
    labels: usize,
    ending: (&'static str, Tone),
    text: String,
) {
    if let Ok(mut shown) = shown.lock() {
        shown.next_poll = None;
        shown.ending = Some(ending);
        shown.text = text;
    }
    bar.set_style(job_style(shown, palette, labels, Some(ending.1)));
    // Abandoned, not finished: the bar stays where the job got to.
    bar.abandon();
}

/// An event as a job's bar shows it: the job's state, step and ETA (elapsed time
/// and the next poll have their own place), or what happened.
fn bar_text(event: &Event) -> String {
    match event {
        Event::Progress(progress) => {
            let mut text = progress.status.clone();
            if let Some(step) = &progress.step {
                text.push_str(&format!(" · {step}"));
            }
            if let Some(eta) = progress.eta {
                text.push_str(&format!(" · eta {}", display::duration(eta)));
            }
            display::one_line(&text)
        }
        other => display::event(other),
    }
}

/// Shows what a fleet is doing on its bar: requests in flight, and whether a server
/// holds it back or it is paused.
pub(crate) fn show_fleet(bar: &ProgressBar, metrics: &FleetMetrics) {
    let mut message = format!("· {} in flight", metrics.in_flight);
    if metrics.throttled_origins > 0 {
        message.push_str(&format!(
            " · throttled by {} server{}",
            metrics.throttled_origins,
            if metrics.throttled_origins == 1 {
                ""
            } else {
                "s"
            }
        ));
    }
    if metrics.paused {
        message.push_str(" · paused");
    }
    bar.set_message(message);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_bar_shows_whole_seconds_and_counts_down_to_the_next_request() {
        let shown = Shown {
            next_poll: std::time::Instant::now().checked_add(Duration::from_millis(2_500)),
            text: "processing · Rendering".to_owned(),
            ending: None,
        };
        let palette = Palette { colour: false };
        let tail = tail(&shown, Duration::from_millis(65_800), palette, 80);
        assert_eq!(tail, "1m 05s · next poll 3s · processing · Rendering");
    }

    #[test]
    fn an_ended_bar_shows_its_word_coloured_and_its_text_cut() {
        let shown = Shown {
            next_poll: None,
            text: format!("failed after 4s: {}", "out of memory ".repeat(20)),
            ending: Some(("failed", Tone::Bad)),
        };
        let tail = tail(&shown, Duration::ZERO, Palette { colour: true }, 40);
        assert!(
            tail.starts_with("\u{1b}[31mfailed\u{1b}[0m after 4s: out of"),
            "{tail}"
        );
        assert!(tail.ends_with('…'), "{tail}");
        assert_eq!(console::measure_text_width(&tail), 40, "{tail}");
    }

    #[test]
    fn a_retry_restarts_the_countdown() {
        let mut report = Report::Bars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::hidden()),
            bars: HashMap::new(),
            fleets: Vec::new(),
            palette: Palette { colour: false },
            labels: 0,
        };
        report.add("job");
        report.event(
            "job",
            &Event::Retrying {
                cause: jobpoll_core::event::PollError::Status {
                    status: 503,
                    excerpt: String::new(),
                },
                consecutive_errors: 1,
                delay: Duration::from_secs(5),
            },
        );
        let Report::Bars { bars, .. } = &report else {
            unreachable!("made as bars")
        };
        let shown = bars["job"].shown.lock().expect("not poisoned");
        let left = shown
            .next_poll
            .map(|at| at.saturating_duration_since(std::time::Instant::now()));
        assert!(
            left.is_some_and(|left| left > Duration::from_secs(4)),
            "{left:?}"
        );
        assert!(shown.text.starts_with("retrying in 5s"), "{}", shown.text);
    }
}
