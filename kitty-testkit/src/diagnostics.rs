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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expect_panic as panics;
    use SyncDiagnosticCode::{ServerAuthFailure, ServerUnavailable};

    fn line(code: &str) -> String {
        format!(
            "sync_diagnostic severity=warning diagnostic_code={code} fatal=false sync_phase=final_sync message=m\n"
        )
    }

    #[test]
    fn only_diagnostic_lines_are_parsed_known_and_unknown_codes_alike() {
        let stderr = format!(
            "progress\n{}{}sync_diagnostic broken\n",
            line("sync.server_unavailable"),
            line("sync.some_future_code")
        );
        let d = Diagnostics::from_stderr(&stderr);
        let codes: Vec<String> = d.lines().iter().map(|l| l.code.to_string()).collect();
        assert_eq!(codes, ["sync.server_unavailable", "sync.some_future_code"]);
        assert_eq!(parse_diagnostics(&stderr).len(), 2);
        assert!(parse_diagnostics("no diagnostics\n").is_empty());
    }

    #[test]
    fn checks_pass_only_when_they_hold_and_failures_show_the_codes_and_the_stream() {
        let one = Diagnostics::from_stderr(&line("sync.server_unavailable"));
        let two = Diagnostics::from_stderr(
            &(line("sync.server_unavailable") + &line("sync.server_auth_failure")),
        );
        let none = Diagnostics::from_stderr("quiet\n");

        assert_eq!(
            one.find(&ServerUnavailable).map(|l| &l.code),
            Some(&ServerUnavailable)
        );
        assert!(one.find(&ServerAuthFailure).is_none());
        assert!(one.check_fired(ServerUnavailable).is_ok());
        assert!(two.check_fired(ServerAuthFailure).is_ok());
        let e = one.check_fired(ServerAuthFailure).unwrap_err();
        assert!(e.starts_with("expected diagnostic sync.server_auth_failure on stderr, but it did not fire (fired: [\"sync.server_unavailable\"])\n----- stderr -----\nsync_diagnostic"), "{e}");

        assert!(one.check_exactly_one(ServerUnavailable).is_ok());
        assert!(one.check_exactly_one(ServerAuthFailure).is_err());
        assert!(none.check_exactly_one(ServerUnavailable).is_err());
        let e = two.check_exactly_one(ServerUnavailable).unwrap_err();
        assert!(e.starts_with("expected exactly one diagnostic, sync.server_unavailable, found [\"sync.server_unavailable\", \"sync.server_auth_failure\"]\n----- stderr -----"), "{e}");

        assert!(one.check_not_fired(ServerAuthFailure).is_ok());
        let e = one.check_not_fired(ServerUnavailable).unwrap_err();
        assert!(
            e.starts_with(
                "diagnostic sync.server_unavailable fired but must not\n----- stderr -----"
            ),
            "{e}"
        );

        assert_eq!(one.assert_fired(ServerUnavailable).code, ServerUnavailable);
        assert_eq!(
            one.assert_exactly_one(ServerUnavailable).code,
            ServerUnavailable
        );
        none.assert_none().assert_not_fired(ServerUnavailable);
        assert!(
            panics(|| {
                one.assert_fired(ServerAuthFailure);
            })
            .contains("did not fire")
        );
        assert!(
            panics(|| {
                one.assert_not_fired(ServerUnavailable);
            })
            .contains("fired but must not")
        );
        assert!(
            panics(|| {
                two.assert_exactly_one(ServerUnavailable);
            })
            .contains("expected exactly one")
        );
        let e = panics(|| {
            one.assert_none();
        });
        assert!(e.starts_with("expected no sync diagnostic, found [\"sync.server_unavailable\"]\n----- stderr -----"), "{e}");
    }
}
