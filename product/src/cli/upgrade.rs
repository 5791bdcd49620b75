//! `spec-kitty upgrade --agent-check [--json]` (**interop**: the reference's agent-host upgrade
//! check, its document's keys in its order): what an agent asks first. Kitty answers without the
//! network — it is not installed from PyPI, so the reference's PyPI lookup and pip commands do
//! not apply to it: no newer version known, the install method unknown, the reference's note for
//! that. Every other form of `upgrade` (project migrations, `--agent-choice`) is the reference's.

use serde_json::json;

use super::context::Ctx;
use super::error::CommandError;
use crate::output::Report;

/// `spec-kitty upgrade` (the forms kitty answers; any other option is the reference's).
#[derive(Debug, clap::Args)]
pub struct UpgradeArgs {
    /// Emit the agent-host upgrade check.
    #[arg(long, hide = true)]
    pub agent_check: bool,
}

/// The reference's note when it cannot tell how it was installed.
const UNKNOWN_NOTE: &str = "Your install method could not be detected automatically. Upgrade Spec Kitty using the same method you used to install it. See https://spec-kitty.dev/docs/guides/install-and-upgrade for guidance.";

/// `spec-kitty upgrade`.
pub fn run(ctx: &Ctx, args: &UpgradeArgs) -> Result<Report, CommandError> {
    if !args.agent_check {
        return Err(CommandError::NeedsReference {
            why: "a project upgrade".into(),
            missing: String::new(),
        });
    }
    // The reference's rule: set, and not one of its false words.
    let nag_off = ctx.env.get("SPEC_KITTY_NO_NAG").is_some_and(|v| {
        !matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "" | "0" | "false" | "no" | "off"
        )
    });
    let doc = json!({
        "schema_version": 1,
        "action": "none",
        "installed_version": env!("CARGO_PKG_VERSION"),
        "latest_version": null,
        "latest_source": "none",
        "install_method": "unknown",
        "upgrade_command": null,
        "upgrade_note": UNKNOWN_NOTE,
        "reason": if nag_off { "nag_disabled" } else { "up_to_date" },
    });
    // Nothing to say in text: no upgrade is available.
    Ok(Report::exact(doc, String::new()))
}
