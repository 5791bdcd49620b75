//! What the merge's forecast resolves before it reads the mission (**interop**: the reference's
//! order and sentences): where it runs from, the strategy, the mission handle, its meta.json,
//! the target branch and the board's checkout.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::forecast::Strategy;
use crate::mission::MissionError;
use crate::mission::git::Repo;
use crate::mission::planning::handle::{Index, Resolved, without_mid8};
use crate::pyfmt::{python_json_error, python_repr, python_type};

/// Where the target branch came from (the refusal names it).
#[derive(Debug, Clone, Copy)]
pub(super) enum Source {
    Flag,
    Meta,
    Primary,
}

/// The reference's refusal to run from inside a worktree (`cwd` under `<root>/.worktrees/`).
pub(super) fn inside_worktree(cwd: &Path) -> Option<String> {
    let parts: Vec<_> = cwd.components().collect();
    let at = parts.iter().position(|c| c.as_os_str() == ".worktrees")?;
    let root: PathBuf = parts[..at].iter().collect();
    if !root.join(".kittify").exists() && !root.join(".git").exists() {
        return None;
    }
    let name = parts
        .get(at + 1)
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    Some(format!(
        "'merge' must run from the main repository\n\nCurrent location: Inside worktree {name}\nRequired location: Main repository\n\nChange to main repository:\n  cd {}\n\nThis command creates/manages worktrees and must run from the main repository.\nRunning from inside a worktree would create nested worktrees, corrupting git state.",
        root.display()
    ))
}

/// `merge.strategy` of `.kittify/config.yaml` (squash when the file, the key or its value is
/// absent or not a mapping; an unknown value is refused, not replaced).
pub(super) fn configured_strategy(root: &Path) -> Result<Strategy, String> {
    let path = crate::mission::project_config::config_path(root);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(Strategy::Squash);
    };
    let Ok(doc) = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(&text) else {
        return Ok(Strategy::Squash);
    };
    let value = doc
        .get("merge")
        .and_then(|m| m.as_mapping()?.get("strategy"));
    let given = match value {
        None | Some(serde_yaml_ng::Value::Null) => return Ok(Strategy::Squash),
        Some(serde_yaml_ng::Value::String(s)) => s.clone(),
        Some(serde_yaml_ng::Value::Bool(b)) => if *b { "True" } else { "False" }.to_string(),
        Some(serde_yaml_ng::Value::Number(n)) => n.to_string(),
        Some(other) => serde_yaml_ng::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    };
    Strategy::parse(&given).ok_or_else(|| {
        format!(
            "Invalid merge.strategy '{given}' in .kittify/config.yaml. Allowed values: merge, rebase, squash. No silent fallback \u{2014} fix the config before merging."
        )
    })
}

/// The reference's safe-path-segment grammar, with its reasons.
pub(super) fn safe_segment(handle: &str) -> Result<(), String> {
    let q = python_repr(&Value::String(handle.into()));
    let why = if handle.contains("..") {
        "value must not contain '..' (traversal guard)."
    } else if handle.starts_with('.') {
        "value must not begin with '.' (traversal guard)."
    } else if handle.contains('/') || handle.contains('\\') {
        "value must not contain path separators."
    } else if !handle.starts_with(|c: char| c.is_ascii_alphanumeric())
        || !handle
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        || handle.ends_with('.')
    {
        "value must match the canonical segment grammar (ASCII alphanumerics, hyphens, underscores, and interior dots only; must begin with an alphanumeric character)."
    } else {
        return Ok(());
    };
    Err(format!("Not a safe path segment: {q} \u{2014} {why}"))
}

/// The directory name a handle reads from: a directory with that name, the identity ladder's
/// mission, the one directory that is the handle plus a `-<mid8>` tail, else the handle.
pub(super) fn canonical(specs: &Path, index: &Index, handle: &str) -> String {
    if specs.join(handle).join("meta.json").is_file() {
        return handle.to_string();
    }
    match index.resolve(handle) {
        Resolved::One(e) => e.slug.clone(),
        Resolved::Ambiguous(_) => handle.to_string(),
        Resolved::NotFound => {
            let folded: Vec<_> = index
                .entries
                .iter()
                .filter(|e| without_mid8(&e.slug) == Some(handle))
                .collect();
            match folded.as_slice() {
                [one] => one.slug.clone(),
                _ => handle.to_string(),
            }
        }
    }
}

/// The mission a branch name carries (`kitty/mission-<slug>[-lane-x]`, `NNN-slug`), as is.
pub(super) fn slug_of_branch(branch: &str) -> Option<String> {
    use std::sync::LazyLock;
    static PATTERNS: LazyLock<Vec<regex::Regex>> = LazyLock::new(|| {
        [
            r"^kitty/mission-(.+)-([0-9A-HJKMNP-TV-Z]{8})-(lane-[a-z])$",
            r"^kitty/mission-(.+)-([0-9A-HJKMNP-TV-Z]{8})$",
            r"^kitty/mission-(\d{3}-.+)-(lane-[a-z])$",
            r"^kitty/mission-(\d{3}-.+)$",
            r"^kitty/mission-(.+)-(lane-[a-z])$",
            r"^kitty/mission-(.+)$",
            r"^(\d{3}-[a-z0-9][a-z0-9-]*?)(?:-(?:lane-[a-z]))?$",
        ]
        .iter()
        .filter_map(|p| regex::Regex::new(p).ok())
        .collect()
    });
    PATTERNS
        .iter()
        .find_map(|re| re.captures(branch))
        .map(|c| c[1].to_string())
}

/// The mission's `meta.json` in the primary checkout (`None` when absent); unreadable or not
/// an object is the reference's fail-closed sentence.
pub(super) fn read_meta(dir: &Path) -> Result<Option<Map<String, Value>>, String> {
    let path = dir.join("meta.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("Cannot read {}: {e}", path.display())),
    };
    let p = path.display();
    let fail = "\u{2014} fail-closed (meta.json exists but is corrupt or unreadable)";
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(m)) => Ok(Some(m)),
        Ok(other) => Err(format!(
            "Cannot read {p}: Expected JSON object in {p}, got {} {fail}",
            python_type(&other)
        )),
        Err(e) => Err(format!(
            "Cannot read {p}: Malformed JSON in {p}: {} {fail}",
            python_json_error(&e, &text)
        )),
    }
}

/// `merge_target_branch`, else `target_branch`: the first that is set (as Python's `str()`).
pub(super) fn meta_target(meta: &Map<String, Value>) -> Option<String> {
    ["merge_target_branch", "target_branch"]
        .iter()
        .find_map(|k| match meta.get(*k)? {
            Value::Null | Value::Bool(false) => None,
            Value::String(s) if s.is_empty() => None,
            Value::Number(n) if n.as_f64() == Some(0.0) => None,
            Value::Array(a) if a.is_empty() => None,
            Value::Object(o) if o.is_empty() => None,
            Value::String(s) => Some(s.clone()),
            other => Some(python_repr(other)),
        })
}

/// The repository's primary branch as the reference guesses it: `origin/HEAD`'s last path
/// component, else the current branch, else the first of main, master and develop that exists,
/// else main.
pub(super) fn primary_branch(repo: &Repo) -> Result<String, MissionError> {
    if let Some(b) = repo.origin_default_branch()? {
        return Ok(b.rsplit('/').next().unwrap_or(&b).to_string());
    }
    if let Some(b) = repo.head_branch()?.filter(|b| !b.is_empty() && b != "HEAD") {
        return Ok(b);
    }
    for b in ["main", "master", "develop"] {
        if repo.ref_exists(&format!("refs/heads/{b}"))? {
            return Ok(b.to_string());
        }
    }
    Ok("main".into())
}

/// Where the review gate reads the board: the coordination worktree's copy for a coordinated
/// mission whose worktree holds it, else the primary checkout's. `Err`: a coordinated mission
/// whose worktree and branch are both gone.
pub(super) fn status_dir(
    repo: &Repo,
    root: &Path,
    dir: &Path,
    meta: Option<&Map<String, Value>>,
) -> Result<Result<PathBuf, String>, MissionError> {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let coordinated = matches!(
        meta.and_then(|m| m.get("topology")).and_then(Value::as_str),
        Some("coord" | "lanes_with_coord")
    );
    if !coordinated {
        return Ok(Ok(dir.to_path_buf()));
    }
    let worktree = root.join(".worktrees").join(format!("{name}-coord"));
    let copy = worktree.join("kitty-specs").join(&name);
    if copy.is_dir() {
        return Ok(Ok(copy));
    }
    if !worktree.exists()
        && let Some(branch) = meta
            .and_then(|m| m.get("coordination_branch"))
            .and_then(Value::as_str)
            .filter(|b| !b.is_empty())
        && !repo.ref_exists(&format!("refs/heads/{branch}"))?
    {
        return Ok(Err(format!(
            "the coordination branch {branch} of {name} is deleted and its worktree {} is gone, so its board cannot be read: restore the branch, or run `spec-kitty merge --mission {name} --abort`",
            worktree.display()
        )));
    }
    Ok(Ok(dir.to_path_buf()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_s_strategy_is_read_and_an_unknown_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(configured_strategy(dir.path()), Ok(Strategy::Squash));
        std::fs::create_dir_all(dir.path().join(".kittify")).unwrap();
        let with = |yaml: &str| {
            std::fs::write(dir.path().join(".kittify/config.yaml"), yaml).unwrap();
            configured_strategy(dir.path())
        };
        assert_eq!(with("merge:\n  strategy: merge\n"), Ok(Strategy::Merge));
        assert_eq!(with("merge:\n  strategy: squash\n"), Ok(Strategy::Squash));
        assert_eq!(with("merge:\n  strategy: rebase\n"), Ok(Strategy::Rebase));
        assert_eq!(with("merge:\n  strategy: null\n"), Ok(Strategy::Squash));
        assert_eq!(with("merge: [1]\n"), Ok(Strategy::Squash));
        assert_eq!(with(": not yaml: ["), Ok(Strategy::Squash));
        let e = with("merge:\n  strategy: fast\n").unwrap_err();
        assert!(
            e.starts_with("Invalid merge.strategy 'fast' in .kittify/config.yaml."),
            "{e}"
        );
        let e = with("merge:\n  strategy: true\n").unwrap_err();
        assert!(e.contains("'True'"), "{e}");
    }

    #[test]
    fn a_branch_names_its_mission_as_the_reference_reads_it() {
        let s = |b: &str| slug_of_branch(b);
        assert_eq!(
            s("kitty/mission-demo-01M93NZR-lane-z").as_deref(),
            Some("demo")
        );
        assert_eq!(s("kitty/mission-demo-01M93NZR").as_deref(), Some("demo"));
        assert_eq!(
            s("kitty/mission-042-foo-lane-b").as_deref(),
            Some("042-foo")
        );
        assert_eq!(s("kitty/mission-042-foo").as_deref(), Some("042-foo"));
        assert_eq!(s("kitty/mission-foo-lane-a").as_deref(), Some("foo"));
        assert_eq!(s("kitty/mission-foo").as_deref(), Some("foo"));
        assert_eq!(s("042-foo-bar-lane-c").as_deref(), Some("042-foo-bar"));
        assert_eq!(s("feat/x"), None);
        assert_eq!(s("HEAD"), None);
    }

    #[test]
    fn handles_outside_the_segment_grammar_are_refused_with_their_reason() {
        assert!(safe_segment("demo-01M93NZR").is_ok());
        assert!(safe_segment("a.b_c-1").is_ok());
        for (h, why) in [
            ("a..b", "must not contain '..'"),
            (".hidden", "must not begin with '.'"),
            ("a/b", "path separators"),
            ("-x", "canonical segment grammar"),
            ("a b", "canonical segment grammar"),
            ("x.", "canonical segment grammar"),
        ] {
            let e = safe_segment(h).unwrap_err();
            assert!(e.contains(why), "{h}: {e}");
        }
    }

    #[test]
    fn a_worktree_is_refused_only_under_a_project() {
        let dir = tempfile::tempdir().unwrap();
        let inside = dir.path().join(".worktrees/demo-lane-a/src");
        assert_eq!(inside_worktree(&inside), None);
        std::fs::create_dir_all(dir.path().join(".kittify")).unwrap();
        let why = inside_worktree(&inside).unwrap();
        assert!(why.contains("Inside worktree demo-lane-a"), "{why}");
        assert!(
            why.contains(&format!("  cd {}\n", dir.path().display())),
            "{why}"
        );
    }
}
