//! Which mission finalize-tasks works on (**interop**: the reference's grammar check, its
//! literal-directory rule, then the handle ladder; its detection error otherwise).

use std::path::Path;

use crate::mission::planning::handle::{Entry, Index};
use crate::mission::status::reduce::is_safe_segment;
use crate::mission::tasks::TasksError;

/// The mission `handle` names under `specs`, or the detection error.
pub fn resolve<'a>(
    index: &'a Index,
    specs: &Path,
    handle: Option<&str>,
    json: bool,
) -> Result<&'a Entry, TasksError> {
    let unresolved = || {
        let first = index.candidates.first().cloned().unwrap_or_default();
        TasksError::Unresolved {
            mission_flag: handle.map(str::to_string),
            available: index.candidates.clone(),
            example: format!(
                "spec-kitty agent mission finalize-tasks --mission {first}{}",
                if json { " --json" } else { "" }
            ),
        }
    };
    let Some(h) = handle.map(str::trim).filter(|h| !h.is_empty()) else {
        return Err(unresolved());
    };
    if !is_safe_segment(h) {
        return Err(TasksError::UnsafeHandle { handle: h.into() });
    }
    if specs.join(h).is_dir()
        && let Some(e) = index.entries.iter().find(|e| e.slug == h)
    {
        return Ok(e);
    }
    match index.lenient(specs, h) {
        Ok(Some(e)) => Ok(e),
        Ok(None) => Err(unresolved()),
        Err(e) => Err(e.into()),
    }
}
