//! The git merge drivers kitty runs itself (`merge-driver-event-log`, `-traces`, `-meta`):
//! the three files git hands over, the merge written to `%A`, nothing on stdout.

use super::error::CommandError;
use crate::mission::merge_drivers::Driver;

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
    crate::mission::merge_drivers::run(driver, &a.base, &a.ours, &a.theirs).map_err(|e| {
        CommandError::Coded {
            code: "merge_driver_refused",
            message: e.0,
        }
    })?;
    Ok(crate::output::Report::exact(
        serde_json::json!({"result": "success"}),
        String::new(),
    ))
}
