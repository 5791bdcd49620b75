//! The assertions of the seed note's test, as `Result`-returning functions so the tests of the tests
//! can run them against a broken setup and read the failure.

use kitty_testkit::{IsolatedHome, IsolatedHomeBuilder, Repo, RunOutput, SyncDiagnosticCode};

/// Diagnostic prose that must never reach stdout.
pub const STDOUT_FORBIDDEN: &[&str] = &[
    "sync_diagnostic",
    "direct ingress",
    "direct_ingress_missing_private_team",
    "Connection failed",
];

/// Text that means the seeded session was not loaded.
pub const AUTH_FAILURE_TEXT: &[&str] = &["no valid access token", "Not authenticated"];

/// The seed scenario's home: sync on, a server that refuses connections.
pub fn scenario_home() -> IsolatedHomeBuilder {
    IsolatedHome::builder()
        .sync(true)
        .sync_consent()
        .refusing_server()
        .env("SPEC_KITTY_LOG", "trace")
}

/// stdout is exactly one JSON object, and no diagnostic line is on it.
pub fn check_stdout(run: &RunOutput) -> Result<kitty_testkit::JsonDoc, String> {
    check_stdout_free_of(run, &["sync_diagnostic"])
}

/// stdout is exactly one JSON object, and none of `forbidden` is on it.
pub fn check_stdout_free_of(
    run: &RunOutput,
    forbidden: &[&str],
) -> Result<kitty_testkit::JsonDoc, String> {
    let doc = run
        .try_json()
        .map_err(|e| format!("stdout is not strict JSON: {e}\n{run}"))?;
    for prose in forbidden {
        if run.stdout().contains(prose) {
            return Err(format!(
                "diagnostic prose {prose:?} leaked onto stdout\n{run}"
            ));
        }
    }
    Ok(doc)
}

/// Every assertion of the seed note on one `mission create --json` run.
pub fn check_mission_create(run: &RunOutput) -> Result<(), String> {
    if run.code() != Some(0) {
        return Err(format!("expected exit 0\n{run}"));
    }
    // The seed's test: not even the diagnostic's words may appear on stdout.
    let doc = check_stdout_free_of(run, STDOUT_FORBIDDEN)?;
    if doc.get("/result").and_then(|v| v.as_str()) != Some("success") {
        return Err(format!("expected result == \"success\"\n{run}"));
    }
    if !doc.get("/mission_slug").is_some_and(|v| v.is_string()) {
        return Err(format!("expected a mission_slug\n{run}"));
    }
    // The drift guard: an auth failure means the product did not load the seeded session.
    for text in AUTH_FAILURE_TEXT {
        if run.stderr().contains(text) {
            return Err(format!(
                "DRIFT: stderr says {text:?}: spec-kitty did not load the seeded session, so it reads \
                 its session from somewhere other than where the fixture seeded it\n{run}"
            ));
        }
    }
    // The diagnostic-fired guard: the ingress-skip path really ran (the absence above is not vacuous).
    run.diagnostics()
        .check_exactly_one(SyncDiagnosticCode::DirectIngressMissingPrivateTeam)?;
    Ok(())
}

/// The seed scenario end to end: the drift canary, then the run, then every assertion.
pub fn mission_create_contract(
    home: &IsolatedHome,
    repo: &Repo,
    slug: &str,
) -> Result<RunOutput, String> {
    home.check_drift().map_err(|e| e.to_string())?;
    let run = home
        .command()
        .current_dir(repo.path())
        .args(["agent", "mission", "create", slug, "--json"])
        .run();
    check_mission_create(&run)?;
    Ok(run)
}
