//! Where the result goes: standard output (pretty JSON on a terminal, one line
//! otherwise) or the file `-o FILE` names (`-o -`: standard output).

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Where the result (or, with many jobs, the outcome lines) goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// Standard output.
    Stdout,
    /// A file, created or replaced.
    File(PathBuf),
}

/// Where `-o` sends the output, when `--json` is given or not: `-o FILE` a file,
/// `-o -` or no `-o` standard output. With `--json`, standard output already carries
/// the outcome (result included), so without `-o` there is nothing more to write
/// (`None`), and `-o -` is an error.
pub(crate) fn target(output: Option<&Path>, json: bool) -> Result<Option<Target>, String> {
    match output {
        Some(path) if path.as_os_str() == "-" => {
            if json {
                Err("-o - and --json both write to standard output; with --json the result is in the outcome line".to_owned())
            } else {
                Ok(Some(Target::Stdout))
            }
        }
        Some(path) => Ok(Some(Target::File(path.to_owned()))),
        None if json => Ok(None),
        None => Ok(Some(Target::Stdout)),
    }
}

/// Why the output could not be written: a sentence naming where.
#[derive(Debug)]
pub(crate) struct WriteError(String);

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Target {
    fn write_text(&self, text: &str) -> Result<(), WriteError> {
        match self {
            Target::Stdout => {
                let mut stdout = std::io::stdout().lock();
                stdout
                    .write_all(text.as_bytes())
                    .and_then(|()| stdout.flush())
                    .map_err(|error| {
                        WriteError(format!("cannot write to standard output: {error}"))
                    })
            }
            Target::File(path) => std::fs::write(path, text).map_err(|error| {
                WriteError(format!("cannot write to {}: {error}", path.display()))
            }),
        }
    }

    /// Writes one JSON value: pretty in a file or on a terminal, on one line when
    /// standard output is a pipe or a file.
    pub(crate) fn write_value(&self, value: &Value) -> Result<(), WriteError> {
        let pretty = match self {
            Target::Stdout => std::io::stdout().is_terminal(),
            Target::File(_) => true,
        };
        let text = if pretty {
            serde_json::to_string_pretty(value)
        } else {
            serde_json::to_string(value)
        }
        .unwrap_or_else(|_| value.to_string());
        self.write_text(&(text + "\n"))
    }

    /// Writes JSON lines: one compact value a line.
    pub(crate) fn write_lines(&self, values: &[Value]) -> Result<(), WriteError> {
        let text: String = values.iter().map(|value| format!("{value}\n")).collect();
        self.write_text(&text)
    }
}

/// Prints one JSON line on standard output. A closed standard output (the reader
/// went away) is not an error here: the exit code still tells the outcome.
pub(crate) fn print_line(value: &Value) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{value}").and_then(|()| stdout.flush());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dash_is_standard_output_and_json_needs_no_more() {
        assert_eq!(target(None, false), Ok(Some(Target::Stdout)));
        assert_eq!(target(None, true), Ok(None));
        assert_eq!(
            target(Some(Path::new("-")), false),
            Ok(Some(Target::Stdout))
        );
        assert!(target(Some(Path::new("-")), true).is_err());
        assert_eq!(
            target(Some(Path::new("r.json")), true),
            Ok(Some(Target::File("r.json".into())))
        );
    }
}
