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

    /// Assert that `code` fired (at least once); returns its line.
    #[track_caller]
    pub fn assert_fired(&self, code: SyncDiagnosticCode) -> &DiagnosticLine {
        self.find(&code).unwrap_or_else(|| {
            panic!(
                "expected diagnostic {code} on stderr, but it did not fire (fired: {:?})\n{}",
                self.codes(),
                self.context
            )
        })
    }

    /// Assert that `code` did not fire.
    #[track_caller]
    pub fn assert_not_fired(&self, code: SyncDiagnosticCode) -> &Self {
        assert!(
            self.find(&code).is_none(),
            "diagnostic {code} fired but must not\n{}",
            self.context
        );
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
        assert!(
            self.lines.len() == 1 && self.lines[0].code == code,
            "expected exactly one diagnostic, {code}, found {:?}\n{}",
            self.codes(),
            self.context
        );
        &self.lines[0]
    }

    fn codes(&self) -> Vec<String> {
        self.lines.iter().map(|l| l.code.to_string()).collect()
    }
}
