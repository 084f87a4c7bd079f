//! The real `jobpoll` binary under a pseudo-terminal, against the reference server
//! on loopback: what a person sees on the screen.
#![cfg(unix)]

mod support;

use std::io::{Read as _, Write as _};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use jobpoll_server::http::{Server, SharedModel};
use jobpoll_server::plan::Ending;
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use support::{job_url, lasting, serve};

/// The pseudo-terminal's size.
const ROWS: u16 = 30;
const COLUMNS: u16 = 80;

/// What the binary wrote to its terminal, and how it exited.
struct Run {
    raw: String,
    code: Option<u32>,
}

impl Run {
    /// The screen as a terminal shows it at the end.
    fn screen(&self) -> vt100::Parser {
        let size = |n: u16| std::num::NonZeroU16::new(n).expect("not zero");
        let mut parser = vt100::Parser::new(size(ROWS), size(COLUMNS), 0);
        parser.process(self.raw.as_bytes());
        parser
    }

    /// Every line the binary drew (split at line feeds and carriage returns),
    /// escape sequences removed.
    fn drawn_lines(&self) -> Vec<String> {
        strip_ansi(&self.raw)
            .split(['\n', '\r'])
            .map(str::to_owned)
            .collect()
    }

    /// The final screen's text and the raw output, for assertion messages.
    fn show(&self) -> String {
        format!(
            "screen:\n{}\nraw: {:?}",
            self.screen().screen().contents(),
            self.raw
        )
    }
}

/// Runs the binary with `args` under a pseudo-terminal, with `env` set (and
/// `NO_COLOR`, `CLICOLOR_FORCE` unset unless given), typing Ctrl-C after each of
/// `interrupts` (counted from the start); waits up to a minute for it to exit.
fn run_in_terminal(args: &[String], env: &[(&str, &str)], interrupts: &[Duration]) -> Run {
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: ROWS,
            cols: COLUMNS,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("a pseudo-terminal");
    let mut command = CommandBuilder::new(env!("CARGO_BIN_EXE_jobpoll"));
    command.args(args);
    command.env_remove("NO_COLOR");
    command.env_remove("CLICOLOR_FORCE");
    command.env("TERM", "xterm-256color");
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = pair
        .slave
        .spawn_command(command)
        .expect("the binary starts");
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().expect("a reader");
    let mut writer = pair.master.take_writer().expect("a writer");
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut output = Vec::new();
        let mut buffer = [0u8; 4096];
        // Linux answers EIO once the binary has exited: that is the end.
        while let Ok(n @ 1..) = reader.read(&mut buffer) {
            output.extend_from_slice(&buffer[..n]);
        }
        let _ = sender.send(output);
    });
    let started = Instant::now();
    for at in interrupts {
        std::thread::sleep(at.saturating_sub(started.elapsed()));
        writer.write_all(b"\x03").expect("Ctrl-C typed");
        writer.flush().expect("flushed");
    }
    let code = loop {
        if let Some(status) = child.try_wait().expect("waited") {
            break Some(status.exit_code());
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let raw = receiver
        .recv_timeout(Duration::from_secs(10))
        .expect("the terminal closed");
    drop(writer);
    Run {
        raw: String::from_utf8_lossy(&raw).into_owned(),
        code,
    }
}

/// `text` without ANSI escape sequences.
fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('[') => {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            Some(']') => {
                for c in chars.by_ref() {
                    if c == '\u{7}' {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Whether `raw` holds an SGR (colour) sequence: `ESC [ digits/semicolons m`.
fn has_colour_codes(raw: &str) -> bool {
    raw.split('\u{1b}').skip(1).any(|rest| {
        rest.strip_prefix('[').is_some_and(|rest| {
            let params = rest.trim_start_matches(|c: char| c.is_ascii_digit() || c == ';');
            params.starts_with('m')
        })
    })
}

/// The first duration with a fraction in `text` (`998.547ms`, `4.012s`), if any.
fn fractional_duration(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    for (i, _) in text.match_indices('.') {
        let before = i > 0 && bytes[i - 1].is_ascii_digit();
        let digits = text[i + 1..]
            .chars()
            .take_while(char::is_ascii_digit)
            .count();
        let unit = &text[i + 1 + digits..];
        if before && digits > 0 && (unit.starts_with("ms") || unit.starts_with('s')) {
            let start = text[..i]
                .rfind(|c: char| !c.is_ascii_digit())
                .map_or(0, |at| at + 1);
            return Some(text[start..i + 1 + digits + 2].to_owned());
        }
    }
    None
}

/// A server message that would wrap any screen: several lines, a tab, a bell, an
/// escape sequence and a few hundred columns.
fn long_message() -> String {
    format!(
        "out of GPU memory\n\tat layer 7\u{7}\u{1b}[2J {}",
        "while allocating a tensor of shape [4096, 4096] ".repeat(8)
    )
}

/// A job on `server` that runs `duration` and ends as `ending`; its status URL.
fn job(model: &SharedModel, server: &Server, duration: Duration, ending: Ending) -> String {
    job_url(model, server, lasting(duration, ending))
}

/// Runs [`run_in_terminal`] off the server's runtime.
async fn terminal(
    args: Vec<String>,
    env: &'static [(&str, &str)],
    interrupts: Vec<Duration>,
) -> Run {
    tokio::task::spawn_blocking(move || run_in_terminal(&args, env, &interrupts))
        .await
        .expect("joined")
}

/// No drawn line is wider than the terminal, nothing wrapped, no duration has a
/// fraction.
fn assert_fits_in_whole_units(run: &Run) {
    for line in run.drawn_lines() {
        assert!(
            console_width(&line) <= usize::from(COLUMNS),
            "a line of {} columns: {line:?}\n{}",
            console_width(&line),
            run.show()
        );
    }
    let parser = run.screen();
    for row in 0..ROWS {
        assert!(
            !parser.screen().row_wrapped(row),
            "row {row} wrapped\n{}",
            run.show()
        );
    }
    let text = strip_ansi(&run.raw);
    assert_eq!(fractional_duration(&text), None, "{}", run.show());
}

/// Columns `line` takes (every character one column; `…` included).
fn console_width(line: &str) -> usize {
    line.chars().count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_job_ends_red_saying_failed_on_one_line_in_whole_units() {
    let (model, server) = serve().await;
    let url = job(
        &model,
        &server,
        Duration::from_millis(1500),
        Ending::Fail {
            message: long_message(),
        },
    );
    let run = terminal(
        vec!["wait".into(), url, "--interval".into(), "300ms".into()],
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(run.code, Some(1), "{}", run.show());
    assert!(run.raw.contains("\u{1b}[31mfailed"), "{}", run.show());
    let parser = run.screen();
    let screen = parser.screen().contents();
    let bar = screen
        .lines()
        .find(|line| line.contains("job ["))
        .unwrap_or_else(|| panic!("no bar\n{}", run.show()));
    assert!(bar.contains("failed after "), "{}", run.show());
    assert!(bar.contains("out of GPU memory at"), "{}", run.show());
    assert!(bar.ends_with('…'), "{}", run.show());
    assert_fits_in_whole_units(&run);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_color_draws_the_same_screen_without_colour_codes() {
    let (model, server) = serve().await;
    let url = job(
        &model,
        &server,
        Duration::from_millis(1000),
        Ending::Fail {
            message: long_message(),
        },
    );
    let run = terminal(
        vec!["wait".into(), url, "--interval".into(), "300ms".into()],
        &[("NO_COLOR", "1")],
        Vec::new(),
    )
    .await;
    assert_eq!(run.code, Some(1), "{}", run.show());
    assert!(!has_colour_codes(&run.raw), "{}", run.show());
    assert!(
        run.screen().screen().contents().contains("failed after "),
        "{}",
        run.show()
    );
    assert_fits_in_whole_units(&run);
    server.shutdown().await;
}

/// Every bar on the final screen is finished as `cancelled`: none is left half
/// drawn, counting down to a poll that will never come.
fn assert_every_bar_cancelled(run: &Run) {
    assert_eq!(run.code, Some(4), "{}", run.show());
    let parser = run.screen();
    let screen = parser.screen().contents();
    let bars: Vec<&str> = screen.lines().filter(|line| line.contains(" [")).collect();
    assert!(!bars.is_empty(), "no bar\n{}", run.show());
    for bar in bars {
        assert!(bar.contains("cancelled"), "{bar:?}\n{}", run.show());
        assert!(!bar.contains("next poll"), "{bar:?}\n{}", run.show());
    }
    assert_fits_in_whole_units(run);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_leaves_the_bar_finished_as_cancelled() {
    let (model, server) = serve().await;
    let url = job(&model, &server, Duration::from_secs(60), Ending::Succeed);
    let run = terminal(
        vec!["wait".into(), url, "--interval".into(), "200ms".into()],
        &[],
        vec![Duration::from_millis(1500)],
    )
    .await;
    assert!(run.raw.contains("\u{1b}[33mcancelled"), "{}", run.show());
    assert_every_bar_cancelled(&run);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_ctrl_c_quits_at_once_leaving_no_bar_behind() {
    // A server that takes connections and never answers: the cancel cannot end the
    // wait, the second Ctrl-C does.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bound");
    let address = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let mut args = vec!["wait".to_owned(), "--interval".into(), "200ms".into()];
    args.extend((1..=3).map(|n| format!("http://{address}/api/v1/jobs/job-{n}")));
    let run = terminal(
        args,
        &[],
        vec![Duration::from_millis(1500), Duration::from_millis(2000)],
    )
    .await;
    assert_every_bar_cancelled(&run);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_progress_writes_lines_not_bars_even_on_a_terminal() {
    let (model, server) = serve().await;
    let url = job(
        &model,
        &server,
        Duration::from_millis(1200),
        Ending::Succeed,
    );
    let run = terminal(
        vec![
            "wait".into(),
            url,
            "--interval".into(),
            "300ms".into(),
            "--no-progress".into(),
        ],
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.show());
    let text = strip_ansi(&run.raw);
    assert!(
        !run.raw.contains("\u{1b}[2K"),
        "a bar was drawn\n{}",
        run.show()
    );
    assert!(text.contains("job: processing "), "{}", run.show());
    assert!(text.contains("job: succeeded after "), "{}", run.show());
    assert!(run.raw.contains("\u{1b}[32msucceeded"), "{}", run.show());
    assert_fits_in_whole_units(&run);
    server.shutdown().await;
}
