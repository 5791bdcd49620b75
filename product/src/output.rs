//! The only module that writes to stdout or stderr.
//!
//! Handlers return a [`Report`] or an error that `cli` turns into a [`Failure`]; this module
//! renders either as exactly one JSON document (`--json`) or as human text, renders the
//! final-sync diagnostic line on stderr, and turns the outcome into the exit code. It knows no
//! command and no error type: only these plain values, and the version it is given.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use serde_json::{Map, Value, json};

/// A failed command as it is rendered (built by `cli` from its error).
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The document's `error_code`.
    pub error_code: &'static str,
    /// The document's `error`, and the human line after `error: `.
    pub message: String,
    /// Further keys of the error document (the reference's extra keys).
    pub details: Map<String, Value>,
    /// The process exit status (non-zero).
    pub exit_code: u8,
}

/// A diagnostic the command wants reported (final sync and friends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable code, e.g. `sync.server_auth_failure`.
    pub code: String,
    /// `warning` or `error`.
    pub severity: &'static str,
    /// Whether the command failed because of it.
    pub fatal: bool,
    /// Where it arose, e.g. `final_sync`.
    pub phase: &'static str,
    /// Human text (never a secret).
    pub message: String,
}

impl Diagnostic {
    /// The reference stderr line (SPEC §6).
    pub fn line(&self) -> String {
        format!(
            "sync_diagnostic severity={} diagnostic_code={} fatal={} sync_phase={} message={}",
            self.severity,
            self.code,
            self.fatal,
            self.phase,
            self.message.replace('\n', " ")
        )
    }

    fn to_json(&self) -> Value {
        json!({
            "code": self.code,
            "severity": self.severity,
            "fatal": self.fatal,
            "phase": self.phase,
            "message": self.message,
        })
    }
}

/// A successful command's result: JSON fields and the human rendering.
#[derive(Debug, Clone, Default)]
pub struct Report {
    fields: Map<String, Value>,
    human: String,
    /// A document printed exactly as given (no `result`, no `spec_kitty_version`): the
    /// reference's own shape where it is not an object of ours (`mission list --json` is an array).
    exact: Option<Value>,
    /// The exit status of an exact document (a report that is not a success, such as a
    /// verification that found drift).
    exact_code: u8,
}

impl Report {
    /// A success report; `fields` must be a JSON object (anything else is wrapped as `value`).
    pub fn success(fields: Value, human: impl Into<String>) -> Self {
        let mut map = Map::new();
        map.insert("result".into(), Value::String("success".into()));
        match fields {
            Value::Object(obj) => map.extend(obj),
            other => {
                map.insert("value".into(), other);
            }
        }
        Self {
            fields: map,
            human: human.into(),
            exact: None,
            exact_code: 0,
        }
    }

    /// A success whose JSON document is `document`, printed as it is.
    pub fn exact(document: Value, human: impl Into<String>) -> Self {
        Self {
            fields: Map::new(),
            human: human.into(),
            exact: Some(document),
            exact_code: 0,
        }
    }

    /// The same exact document, exiting with `code`.
    pub fn with_exit(mut self, code: u8) -> Self {
        self.exact_code = code;
        self
    }
}

/// How this process writes.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    json: bool,
    quiet: bool,
    color: bool,
    /// `spec_kitty_version` of every JSON document.
    version: &'static str,
}

impl Output {
    /// `json`: one JSON document on stdout. `quiet`: nothing on stderr but an inexpressible fatal
    /// error. `no_color`: `NO_COLOR` is set. `version`: the build's, stamped on every document.
    pub fn new(json: bool, quiet: bool, no_color: bool, version: &'static str) -> Self {
        Self {
            json,
            quiet,
            color: !no_color && std::io::stdout().is_terminal(),
            version,
        }
    }

    /// Whether this run prints JSON.
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// Whether this run is quiet.
    pub fn is_quiet(&self) -> bool {
        self.quiet
    }

    /// Whether stderr is a terminal (for progress display).
    pub fn stderr_is_terminal(&self) -> bool {
        !self.quiet && std::io::stderr().is_terminal()
    }

    /// A line for the user on stderr (prompts, notices), unless quiet.
    pub fn notice(&self, text: &str) {
        if !self.quiet {
            eprintln!("{text}");
        }
    }

    /// Overwrite the current stderr line (a progress display on a terminal).
    pub fn progress(&self, text: &str) {
        if self.stderr_is_terminal() {
            eprint!("\r\x1b[2K{text}");
            let _ = std::io::stderr().flush();
        }
    }

    /// The reference diagnostic line on stderr, unless quiet.
    pub fn diagnostic(&self, d: &Diagnostic) {
        if !self.quiet {
            eprintln!("{}", d.line());
        }
    }

    /// Render the outcome and return the exit code. In JSON mode stdout receives exactly one
    /// document followed by a newline.
    pub fn finish(&self, outcome: Result<Report, Failure>, diagnostics: &[Diagnostic]) -> ExitCode {
        let (mut doc, human, code, is_err) = match outcome {
            Ok(Report {
                exact: Some(document),
                human,
                exact_code,
                ..
            }) => {
                if self.json {
                    let text = serde_json::to_string(&document)
                        .unwrap_or_else(|_| r#"{"result":"error","error_code":"internal"}"#.into());
                    if let Err(e) = write_stdout(&format!("{text}\n")) {
                        return stdout_failed(&e, exact_code);
                    }
                } else if !human.is_empty()
                    && let Err(e) = write_stdout(&format!("{human}\n"))
                {
                    return stdout_failed(&e, exact_code);
                }
                return ExitCode::from(exact_code);
            }
            Ok(report) => (report.fields, report.human, 0u8, false),
            Err(err) => {
                let mut map = Map::new();
                map.insert("result".into(), "error".into());
                map.insert("error_code".into(), err.error_code.into());
                map.insert("error".into(), err.message.clone().into());
                map.extend(err.details);
                let human = format!("error: {}", err.message);
                (map, human, err.exit_code, true)
            }
        };
        if self.json {
            doc.insert("spec_kitty_version".into(), self.version.into());
            // With --quiet the diagnostics have no other channel, so they travel in the
            // document. Otherwise they are on stderr only: stdout stays free of diagnostic prose
            // (the strict-JSON regression contract, which wins over SPEC §7 here).
            if self.quiet {
                doc.insert(
                    "diagnostics".into(),
                    Value::Array(diagnostics.iter().map(Diagnostic::to_json).collect()),
                );
            }
            let text = serde_json::to_string(&Value::Object(doc))
                .unwrap_or_else(|_| r#"{"result":"error","error_code":"internal"}"#.into());
            if let Err(e) = write_stdout(&format!("{text}\n")) {
                return stdout_failed(&e, code);
            }
        } else if is_err {
            // Human errors belong on stderr; a quiet run still shows a fatal error.
            eprintln!("{}", self.paint(&human, "31"));
        } else if !human.is_empty()
            && let Err(e) = write_stdout(&format!("{human}\n"))
        {
            return stdout_failed(&e, code);
        }
        ExitCode::from(code)
    }

    /// Print what clap rendered: `--help` or `--version` output (success), or a usage error
    /// (exit 2). With `--json` each is one JSON document, stamped with `version`.
    pub fn usage_error(
        json: bool,
        rendered: &str,
        kind: ClapOutput,
        version: &'static str,
    ) -> ExitCode {
        let (doc, code) = match kind {
            ClapOutput::Help => (json!({"result": "success", "help": rendered.trim_end()}), 0),
            ClapOutput::Version => (
                json!({"result": "success", "version": version, "text": rendered.trim_end()}),
                0,
            ),
            ClapOutput::UsageError => (
                json!({"result": "error", "error_code": "usage", "error": rendered.trim()}),
                2,
            ),
        };
        let written = if json {
            let mut doc = doc;
            doc["spec_kitty_version"] = version.into();
            write_stdout(&format!("{doc}\n"))
        } else if code == 0 {
            // --help and --version: clap's text on stdout is the product.
            write_stdout(rendered)
        } else {
            eprint!("{rendered}");
            Ok(())
        };
        match written {
            Ok(()) => ExitCode::from(code),
            Err(e) => stdout_failed(&e, code),
        }
    }

    fn paint(&self, text: &str, ansi: &str) -> String {
        if self.color && std::io::stderr().is_terminal() {
            format!("\x1b[{ansi}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// What clap produced instead of parsed arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClapOutput {
    /// `--help` (or `help`).
    Help,
    /// `--version`.
    Version,
    /// A usage error.
    UsageError,
}

fn write_stdout(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|()| out.flush())
}

/// stdout could not take the result (closed, full, a broken pipe): the command's output is lost,
/// so the run fails. Say so on stderr when that is possible (even with `--quiet`: this fatal error
/// has no other channel).
fn stdout_failed(e: &std::io::Error, code: u8) -> ExitCode {
    let _ = writeln!(
        std::io::stderr(),
        "error: cannot write the result to stdout ({e}); the command's output is lost"
    );
    ExitCode::from(if code == 0 { 1 } else { code })
}
