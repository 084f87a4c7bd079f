//! How the command line shows jobs: progress bars on a terminal, plain lines
//! otherwise, JSON lines for scripts.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use jobpoll_core::{Event, Outcome};

/// Where job events go.
pub(crate) enum Report {
    /// One JSON object per line on stdout: `{"job": label, "event": ...}`.
    Json,
    /// One readable line per event on stderr.
    Lines,
    /// A live progress bar per job.
    Bars {
        multi: MultiProgress,
        bars: HashMap<String, ProgressBar>,
    },
}

impl Report {
    /// JSON if asked, bars on a terminal, plain lines otherwise.
    pub(crate) fn new(json: bool) -> Report {
        if json {
            Report::Json
        } else if std::io::stderr().is_terminal() {
            Report::Bars {
                multi: MultiProgress::new(),
                bars: HashMap::new(),
            }
        } else {
            Report::Lines
        }
    }

    /// Adds a job to show.
    pub(crate) fn add(&mut self, label: &str) {
        if let Report::Bars { multi, bars } = self {
            let bar = multi.add(ProgressBar::new(100));
            let style = ProgressStyle::with_template("{prefix:>14} [{bar:30}] {pos:>3}% {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(label.to_owned());
            bar.enable_steady_tick(Duration::from_millis(200));
            bars.insert(label.to_owned(), bar);
        }
    }

    /// Shows one event.
    pub(crate) fn event(&mut self, label: &str, event: &Event) {
        match self {
            Report::Json => {
                let line = serde_json::json!({ "job": label, "event": event });
                println!("{line}");
            }
            Report::Lines => eprintln!("{label}: {event}"),
            Report::Bars { bars, .. } => {
                if let Some(bar) = bars.get(label) {
                    if let Event::Progress(progress) = event
                        && let Some(percentage) = progress.percentage
                    {
                        bar.set_position(percentage.clamp(0.0, 100.0) as u64);
                    }
                    bar.set_message(event.to_string());
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
            Report::Lines => eprintln!("{label}: {outcome}"),
            Report::Bars { bars, .. } => {
                if let Some(bar) = bars.get(label) {
                    if outcome.is_success() {
                        bar.set_position(100);
                    }
                    bar.finish_with_message(outcome.to_string());
                }
            }
        }
    }
}
