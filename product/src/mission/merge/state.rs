//! A merge's recorded state and lock (**interop**: the reference's
//! `.kittify/runtime/merge/<mission_id>/state.json`, its keys in its order, and its global lock
//! file), and what kitty reads of a recorded merge to resume it.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::forecast::Plan;

/// `.kittify/runtime/merge/<mission_id>/state.json`.
pub(super) fn state_path(root: &Path, mission_id: &str) -> PathBuf {
    root.join(".kittify/runtime/merge")
        .join(mission_id)
        .join("state.json")
}

/// The reference's global merge lock, held while the merge runs: its file (created
/// exclusively, holding the time), and kitty's advisory lock on its directory, which a killed
/// kitty releases — so a lock file kitty left behind when killed is taken over, while one another
/// live merge (kitty's or the reference's) holds is refused.
#[derive(Debug)]
pub(super) struct Lock {
    path: PathBuf,
    _held: std::fs::File,
}

/// The second line of a lock file kitty writes.
const KITTY_MARK: &str = "kitty";

impl Lock {
    /// Take the lock, or say who holds it.
    pub fn take(root: &Path, now: DateTime<Utc>) -> Result<Self, String> {
        let dir = root.join(".kittify/runtime/merge/__global_merge__");
        let path = dir.join("lock");
        let held = || {
            format!(
                "Merge lock already held for '__global_merge__' (lock file: {}). Another merge operation may be running. If not, remove the lock file manually: spec-kitty merge --abort",
                path.display()
            )
        };
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let handle = std::fs::File::open(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        if handle.try_lock().is_err() {
            return Err(held());
        }
        // Left by a kitty that was killed (no kitty holds the directory now): taken over.
        let stale =
            std::fs::read_to_string(&path).is_ok_and(|t| t.lines().nth(1) == Some(KITTY_MARK));
        if stale {
            let _ = std::fs::remove_file(&path);
        }
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path);
        match file {
            Ok(mut f) => {
                use std::io::Write;
                let stamp = format!("{}\n{KITTY_MARK}\n", crate::pyfmt::isoformat(now));
                let _ = f.write_all(stamp.as_bytes()).and_then(|()| f.sync_all());
                Ok(Self {
                    path,
                    _held: handle,
                })
            }
            Err(_) => Err(held()),
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// `(completed, all)` of a recorded merge.
pub(super) fn progress(state: &Map<String, Value>) -> (usize, usize) {
    let n = |k: &str| state.get(k).and_then(Value::as_array).map_or(0, Vec::len);
    (n("completed_wps"), n("wp_order"))
}

/// A recorded merge kitty can resume: the reference's keys, for this mission, with no stranded
/// coordination commits to reconcile.
pub(super) fn recorded(path: &Path, slug: &str) -> Option<Map<String, Value>> {
    let text = std::fs::read_to_string(path).ok()?;
    let Ok(Value::Object(state)) = serde_json::from_str::<Value>(&text) else {
        return None;
    };
    let ok = state.get("mission_slug").and_then(Value::as_str) == Some(slug)
        && state.get("wp_order").is_some_and(Value::is_array)
        && state.get("completed_wps").is_some_and(Value::is_array)
        && state
            .get("pending_coord_reconcile")
            .is_none_or(Value::is_null);
    ok.then_some(state)
}

/// A new merge's state, keys in the reference's order.
pub(super) fn fresh_state(plan: &Plan, mission_id: &str, started: &str) -> Map<String, Value> {
    json!({
        "mission_id": mission_id,
        "mission_slug": plan.slug,
        "target_branch": plan.target,
        "wp_order": plan.wp_ids,
        "completed_wps": [],
        "current_wp": null,
        "has_pending_conflicts": false,
        "strategy": "merge",
        "workspace_path": null,
        "started_at": started,
        "updated_at": started,
        "mission_number_baked": false,
        "push_requested": false,
        "pending_coord_reconcile": null,
    })
    .as_object()
    .cloned()
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_merge_is_resumed_only_for_its_mission_with_its_lists_and_nothing_stranded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let put = |v: Value| std::fs::write(&path, v.to_string()).unwrap();
        let good = json!({"mission_slug": "m", "wp_order": ["WP01", "WP02"],
            "completed_wps": ["WP01"], "pending_coord_reconcile": null});
        put(good.clone());
        let state = recorded(&path, "m").unwrap();
        assert_eq!(progress(&state), (1, 2));
        assert_eq!(recorded(&path, "other"), None);
        for broken in [
            json!({"mission_slug": "m", "completed_wps": []}),
            json!({"mission_slug": "m", "wp_order": []}),
            json!({"mission_slug": "m", "wp_order": [], "completed_wps": [],
                "pending_coord_reconcile": {"coord_ref": "x"}}),
            json!([1]),
        ] {
            put(broken.clone());
            assert_eq!(recorded(&path, "m"), None, "{broken}");
        }
        std::fs::write(&path, "{not json").unwrap();
        assert_eq!(recorded(&path, "m"), None);
        assert_eq!(recorded(&dir.path().join("absent.json"), "m"), None);
    }
}
