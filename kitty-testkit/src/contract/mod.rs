//! The published event contract (`spec-kitty-events`, the version the reference CLI ships with),
//! checked with the package's own validator: every envelope a suite sends can be proved to
//! conform, without a copy of the schemas in this repository.
//!
//! The validator runs in the Python that has the package (the reference venv that
//! `scripts/install-reference` makes, or `KITTY_EVENT_CONTRACT_PYTHON`). When
//! `KITTY_TESTKIT_CONTRACT_LOG` names a directory, every [`FakeSaas`](crate::FakeSaas) writes the
//! envelopes it received there when it stops, and `scripts/validate-events` checks them all in one
//! run after the suite.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

mod server;

/// The contract version the suites are written against.
pub const CONTRACT_VERSION: &str = "6.1.0";

/// Set this to a Python executable that can import `spec_kitty_events`.
pub const CONTRACT_PYTHON_VAR: &str = "KITTY_EVENT_CONTRACT_PYTHON";

/// Set this to a directory to make every `FakeSaas` log the envelopes it received there.
pub const CONTRACT_LOG_VAR: &str = "KITTY_TESTKIT_CONTRACT_LOG";

/// The validator script (also run by `scripts/validate-events`).
pub const VALIDATOR_SOURCE: &str = include_str!("validate_events.py");

/// The contract's validator, ready to run.
///
/// ```no_run
/// let contract = kitty_testkit::EventContract::require();
/// let verdicts = contract.validate(&[serde_json::json!({"event_type": "MissionCreated"})]);
/// assert!(!verdicts[0].valid);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventContract {
    python: PathBuf,
}

/// The contract's verdict on one envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The envelope's `event_id`, if it had one.
    pub event_id: Option<String>,
    /// The envelope's `event_type`, if it had one.
    pub event_type: Option<String>,
    /// It conforms.
    pub valid: bool,
    /// What does not conform (envelope and payload, model and schema layers).
    pub problems: Vec<String>,
}

impl EventContract {
    /// A validator run by this Python executable.
    ///
    /// ```
    /// let c = kitty_testkit::EventContract::with_python("/opt/venv/bin/python");
    /// assert_eq!(c.python(), std::path::Path::new("/opt/venv/bin/python"));
    /// ```
    pub fn with_python(python: impl Into<PathBuf>) -> Self {
        Self {
            python: python.into(),
        }
    }

    /// `KITTY_EVENT_CONTRACT_PYTHON`, else the Python of the reference venv (see
    /// [`ReferenceCli::locate`](crate::ReferenceCli::locate)).
    ///
    /// ```
    /// if let Err(e) = kitty_testkit::EventContract::locate() {
    ///     assert!(e.contains("install-reference"));
    /// }
    /// ```
    pub fn locate() -> Result<Self, String> {
        if let Some(p) = crate::process_env::non_empty_var(CONTRACT_PYTHON_VAR) {
            return Ok(Self::with_python(p));
        }
        let reference = crate::ReferenceCli::locate().map_err(|e| e.to_string())?;
        let python = reference
            .path()
            .parent()
            .map(|bin| bin.join("python"))
            .filter(|p| p.exists())
            .ok_or_else(|| {
                format!(
                    "no python next to {}; run `bash scripts/install-reference` or set {CONTRACT_PYTHON_VAR}",
                    reference.path().display()
                )
            })?;
        Ok(Self::with_python(python))
    }

    /// [`locate`](Self::locate), panicking with the install instructions.
    #[track_caller]
    pub fn require() -> Self {
        Self::locate()
            .unwrap_or_else(|e| panic!("the event contract validator is unavailable: {e}"))
    }

    /// The Python executable.
    pub fn python(&self) -> &Path {
        &self.python
    }

    /// The contract's verdict on each envelope, in order. Panics if the validator cannot run.
    #[track_caller]
    pub fn validate(&self, envelopes: &[Value]) -> Vec<Verdict> {
        self.verdicts(envelopes, false)
    }

    /// [`validate`](Self::validate) in a new interpreter, never by the long-lived validator that
    /// `validate` asks first (for a difference suspected between the two).
    #[track_caller]
    pub fn validate_in_new_interpreter(&self, envelopes: &[Value]) -> Vec<Verdict> {
        self.verdicts(envelopes, true)
    }

    #[track_caller]
    fn verdicts(&self, envelopes: &[Value], fresh: bool) -> Vec<Verdict> {
        let mut input = String::new();
        for e in envelopes {
            input.push_str(&e.to_string());
            input.push('\n');
        }
        let served = if fresh {
            None
        } else {
            server::answer(&self.python, &input)
        };
        let (code, stdout, stderr) = match served {
            Some((code, stdout)) => (Some(code), stdout, String::new()),
            None => self.run_directly(input),
        };
        if code == Some(2) {
            panic!("the event contract validator cannot run: {stdout}{stderr}");
        }
        let verdicts: Vec<Verdict> = stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v.get("summary").is_none())
            .map(|v| Verdict {
                event_id: v["event_id"].as_str().map(str::to_string),
                event_type: v["event_type"].as_str().map(str::to_string),
                valid: v["valid"].as_bool() == Some(true),
                problems: v["problems"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|p| p.as_str().unwrap_or_default().to_string())
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect();
        assert_eq!(
            verdicts.len(),
            envelopes.len(),
            "the validator answered {} verdicts for {} envelopes\nstdout:\n{stdout}\nstderr:\n{}",
            verdicts.len(),
            envelopes.len(),
            stderr
        );
        verdicts
    }

    /// The validator in a new interpreter: its exit code, stdout and stderr.
    fn run_directly(&self, input: String) -> (Option<i32>, String, String) {
        let mut child = Command::new(&self.python)
            .arg("-c")
            .arg(VALIDATOR_SOURCE)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.python.display()));
        let mut stdin = child.stdin.take().expect("piped stdin");
        let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
        let out = child.wait_with_output().expect("wait for the validator");
        let _ = writer.join();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Assert that every envelope conforms (and that there is at least one), printing each
    /// violation and the envelope in full otherwise.
    #[track_caller]
    pub fn assert_conforms(&self, envelopes: &[Value]) {
        assert!(
            !envelopes.is_empty(),
            "no envelope to check: the path that sends events did not run"
        );
        let bad: Vec<String> = self
            .validate(envelopes)
            .iter()
            .zip(envelopes)
            .filter(|(v, _)| !v.valid)
            .map(|(v, e)| {
                format!(
                    "{}\n  {}\n  envelope: {e}",
                    v.event_id.as_deref().unwrap_or("<no event_id>"),
                    v.problems.join("\n  ")
                )
            })
            .collect();
        assert!(
            bad.is_empty(),
            "{} of {} envelope(s) break the event contract (spec-kitty-events {CONTRACT_VERSION}):\n{}",
            bad.len(),
            envelopes.len(),
            bad.join("\n")
        );
    }
}

/// Write `envelopes` to a new file in the contract log directory `dir`, one
/// `{"test": ..., "envelope": ...}` line each (nothing when there are none).
pub(crate) fn log_received(dir: &Path, envelopes: &[Value]) {
    if envelopes.is_empty() {
        return;
    }
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let test = std::thread::current()
        .name()
        .unwrap_or("unnamed")
        .to_string();
    let file: String = format!(
        "{}-{}-{}.jsonl",
        test,
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
    .chars()
    .map(|c| {
        if c.is_ascii_alphanumeric() || "-_.".contains(c) {
            c
        } else {
            '_'
        }
    })
    .collect();
    let _ = std::fs::create_dir_all(dir);
    let mut text = String::new();
    for e in envelopes {
        text.push_str(&serde_json::json!({"test": test, "envelope": e}).to_string());
        text.push('\n');
    }
    if let Err(e) = std::fs::write(dir.join(&file), text) {
        panic!(
            "cannot write the contract log {}: {e}",
            dir.join(file).display()
        );
    }
}
