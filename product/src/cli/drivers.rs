//! The six git merge drivers (`merge-driver-event-log`, `-traces`, `-meta`, `-review-cycle`,
//! `-acceptance-matrix`, `-issue-matrix`): the three files git hands over, the merge written to
//! `%A`, nothing on stdout.

use super::error::CommandError;
use crate::mission::merge_drivers::Driver;

/// The drivers, as top-level commands of their own.
#[derive(Debug, clap::Subcommand)]
pub enum DriverCommand {
    /// Git's merge driver for `status.events.jsonl` (`%O %A %B`): the events' union.
    #[command(name = "merge-driver-event-log", hide = true)]
    MergeDriverEventLog(DriverArgs),
    /// Git's merge driver for `traces/*.md`: each line once.
    #[command(name = "merge-driver-traces", hide = true)]
    MergeDriverTraces(DriverArgs),
    /// Git's merge driver for `meta.json` (planning keys: the mission's; acceptance: the target's).
    #[command(name = "merge-driver-meta", hide = true)]
    MergeDriverMeta(DriverArgs),
    /// Git's merge driver for review-cycle files: two renders kept whole.
    #[command(name = "merge-driver-review-cycle", hide = true)]
    MergeDriverReviewCycle(DriverArgs),
    /// Git's merge driver for `acceptance-matrix.json`: rows by id, fields three ways.
    #[command(name = "merge-driver-acceptance-matrix", hide = true)]
    MergeDriverAcceptanceMatrix(DriverArgs),
    /// Git's merge driver for `issue-matrix.json`: rows by issue, fields three ways.
    #[command(name = "merge-driver-issue-matrix", hide = true)]
    MergeDriverIssueMatrix(DriverArgs),
}

/// Run the driver a command names.
pub fn dispatch(d: &DriverCommand) -> Result<crate::output::Report, CommandError> {
    match d {
        DriverCommand::MergeDriverEventLog(a) => run(Driver::EventLog, a),
        DriverCommand::MergeDriverTraces(a) => run(Driver::Traces, a),
        DriverCommand::MergeDriverMeta(a) => run(Driver::Meta, a),
        DriverCommand::MergeDriverReviewCycle(a) => run(Driver::ReviewCycle, a),
        DriverCommand::MergeDriverAcceptanceMatrix(a) => run(Driver::AcceptanceMatrix, a),
        DriverCommand::MergeDriverIssueMatrix(a) => run(Driver::IssueMatrix, a),
    }
}

/// The three files git hands a merge driver.
#[derive(Debug, clap::Args)]
pub struct DriverArgs {
    /// The common ancestor's version (`%O`).
    #[arg(value_name = "BASE")]
    pub base: String,
    /// Ours (`%A`): the merged result is written here.
    #[arg(value_name = "OURS")]
    pub ours: String,
    /// Theirs (`%B`).
    #[arg(value_name = "THEIRS")]
    pub theirs: String,
}

/// A merge driver: the merged file written to `%A` (nothing on stdout, as git expects).
pub fn run(driver: Driver, a: &DriverArgs) -> Result<crate::output::Report, CommandError> {
    let said =
        crate::mission::merge_drivers::run(driver, &a.base, &a.ours, &a.theirs).map_err(|e| {
            CommandError::Coded {
                code: "merge_driver_refused",
                message: e.0,
            }
        })?;
    Ok(crate::output::Report::exact(
        serde_json::json!({"result": "success", "message": said}),
        said.clone().unwrap_or_default(),
    ))
}
