//! The planning half of a mission's lifecycle, native (**interop**: the reference's commands
//! between `create` and `implement`, their documents, files, commits and events).
//!
//! Shared here: where the project is (`project`), which mission a handle names (`handle`), the
//! branch contract (`branch`), committing on a mission's branch (`commit`), the substantive gates
//! (`gate`) and phase events (`phase_events`). One file per command beside them.

pub mod analysis;
pub mod branch;
pub mod branch_context;
pub mod charter;
pub mod commit;
pub mod context_resolve;
pub mod decision;
pub mod decision_ledger;
pub mod error;
pub mod gate;
pub mod handle;
pub mod mission_types;
pub mod phase_events;
pub mod prerequisites;
pub mod project;
pub mod record_analysis;
pub mod resume_probe;
pub mod setup_plan;
pub mod spec_commit;
pub mod sync_events;

pub use error::PlanningError;

use std::io::Write;
use std::path::Path;

use crate::mission::MissionError;

/// Write `bytes` to `path` whole or not at all: a temporary file beside it, synced, renamed over.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), MissionError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.spec-kitty-{}", std::process::id()));
    let written = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(MissionError::io(path, e));
    }
    Ok(())
}
