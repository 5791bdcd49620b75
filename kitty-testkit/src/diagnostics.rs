//! `sync_diagnostic` lines on stderr, parsed into typed values, with assertions.

pub use spec_kitty::sync::diagnostics::{DiagnosticLine, SyncDiagnosticCode};

/// Parse every `sync_diagnostic` line of `stderr` (known and unknown codes alike).
///
/// ```
/// let stderr = "log line\nsync_diagnostic severity=warning diagnostic_code=sync.server_auth_failure fatal=false sync_phase=final_sync message=Not authenticated\n";
/// let lines = kitty_testkit::parse_diagnostics(stderr);
/// assert_eq!(lines.len(), 1);
/// assert_eq!(lines[0].code, kitty_testkit::SyncDiagnosticCode::ServerAuthFailure);
/// ```
pub fn parse_diagnostics(stderr: &str) -> Vec<DiagnosticLine> {
    stderr.lines().filter_map(DiagnosticLine::parse).collect()
}

/// The diagnostics of one run, with assertions that print the whole run on failure.
///
/// ```
/// use kitty_testkit::{Diagnostics, SyncDiagnosticCode};
/// let d = Diagnostics::from_stderr("sync_diagnostic severity=warning diagnostic_code=sync.server_unavailable fatal=false sync_phase=final_sync message=down\n");
/// d.assert_exactly_one(SyncDiagnosticCode::ServerUnavailable);
/// d.assert_not_fired(SyncDiagnosticCode::ServerAuthFailure);
/// ```
#[derive(Debug, Clone)]
pub struct Diagnostics {
    lines: Vec<DiagnosticLine>,
    context: String,
}

impl Diagnostics {
    pub(crate) fn new(lines: Vec<DiagnosticLine>, context: String) -> Self {
        Self { lines, context }
    }

    /// Parse a bare stderr text (no run context).
    pub fn from_stderr(stderr: &str) -> Self {
        Self::new(
            parse_diagnostics(stderr),
            format!("----- stderr -----\n{stderr}"),
        )
    }

    /// Every parsed line.
    pub fn lines(&self) -> &[DiagnosticLine] {
        &self.lines
    }

    /// The line with `code`, if it fired.
    pub fn find(&self, code: &SyncDiagnosticCode) -> Option<&DiagnosticLine> {
        self.lines.iter().find(|l| &l.code == code)
    }

    /// `Ok(line)` when `code` fired; otherwise a message with the whole run.
    pub fn check_fired(&self, code: SyncDiagnosticCode) -> Result<&DiagnosticLine, String> {
        self.find(&code).ok_or_else(|| {
            format!(
                "expected diagnostic {code} on stderr, but it did not fire (fired: {:?})\n{}",
                self.codes(),
                self.context
            )
        })
    }

    /// `Ok(line)` when exactly one diagnostic line fired and it has `code`.
    pub fn check_exactly_one(&self, code: SyncDiagnosticCode) -> Result<&DiagnosticLine, String> {
        match self.lines.as_slice() {
            [only] if only.code == code => Ok(only),
            _ => Err(format!(
                "expected exactly one diagnostic, {code}, found {:?}\n{}",
                self.codes(),
                self.context
            )),
        }
    }

    /// `Ok(())` when `code` did not fire.
    pub fn check_not_fired(&self, code: SyncDiagnosticCode) -> Result<(), String> {
        match self.find(&code) {
            None => Ok(()),
            Some(_) => Err(format!(
                "diagnostic {code} fired but must not\n{}",
                self.context
            )),
        }
    }

    /// Assert that `code` fired (at least once); returns its line.
    #[track_caller]
    pub fn assert_fired(&self, code: SyncDiagnosticCode) -> &DiagnosticLine {
        self.check_fired(code).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Assert that `code` did not fire.
    #[track_caller]
    pub fn assert_not_fired(&self, code: SyncDiagnosticCode) -> &Self {
        if let Err(e) = self.check_not_fired(code) {
            panic!("{e}");
        }
        self
    }

    /// Assert that no diagnostic fired at all.
    #[track_caller]
    pub fn assert_none(&self) -> &Self {
        assert!(
            self.lines.is_empty(),
            "expected no sync diagnostic, found {:?}\n{}",
            self.codes(),
            self.context
        );
        self
    }

    /// Assert that exactly one diagnostic line fired and that it has `code`; returns it.
    #[track_caller]
    pub fn assert_exactly_one(&self, code: SyncDiagnosticCode) -> &DiagnosticLine {
        self.check_exactly_one(code)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn codes(&self) -> Vec<String> {
        self.lines.iter().map(|l| l.code.to_string()).collect()
    }
}
