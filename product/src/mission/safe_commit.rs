//! `safe-commit`: commit exactly the named files on the branch they belong to (**interop**: the
//! reference's `spec-kitty safe-commit` — its destination rules, refusals, documents and its
//! `LocalCommit` note in `.kittify/sync-state.json`).
//!
//! The checks come first, in the reference's order (the worktree, the paths, directories
//! expanded, the destination, whether anything changed, the destination's shape, HEAD, the
//! branch, `.worktrees/`, protection), then one commit of exactly those files: anything else
//! staged stays staged, and a refused commit leaves the index as it was.

use std::path::{Component, Path, PathBuf};

use indexmap::IndexMap;
use serde_json::{Map, Value, json};

use crate::pyfmt::Py;

use crate::env::Env;
use crate::mission::MissionError;
use crate::mission::git::Repo;
use crate::mission::planning::branch::primary_branch;
use crate::mission::planning::commit::protected;

/// What was asked.
#[derive(Debug, Clone)]
pub struct Request {
    /// Files or directories, relative to the worktree's top or absolute.
    pub files: Vec<PathBuf>,
    /// `--message`.
    pub message: String,
    /// `--to-branch`.
    pub to_branch: Option<String>,
}

/// Why nothing was committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not inside a git work tree.
    NoRepository,
    /// A path outside the work tree.
    Outside {
        /// The path, resolved.
        path: PathBuf,
        /// The work tree's top.
        root: PathBuf,
    },
    /// No `--to-branch` and HEAD on no branch.
    Detached,
    /// The mission's meta.json does not parse.
    MetaCorrupt {
        /// The file.
        path: PathBuf,
        /// The parser's words.
        detail: String,
    },
    /// `--to-branch refs/heads/refs/heads/...`.
    RefShape(String),
    /// HEAD is not the destination.
    HeadMismatch {
        /// The work tree's top.
        root: PathBuf,
        /// The branch HEAD is on (`<detached>`).
        head: String,
        /// The destination.
        expected: String,
    },
    /// The destination branch has no commit.
    NoSuchBranch(String),
    /// A path inside a lane worktree.
    UnderWorktrees(String),
    /// The destination is protected.
    Protected {
        /// The destination.
        branch: String,
        /// The work tree's top.
        root: PathBuf,
    },
    /// `.kittify/config.yaml`'s protection is malformed.
    Config(String),
    /// `git add` refused a path.
    Stage {
        /// The work tree's top.
        root: PathBuf,
        /// The files.
        paths: Vec<String>,
    },
    /// The files, staged, are as HEAD has them.
    Empty(String),
    /// `git commit` refused (a hook, an empty message).
    Commit {
        /// The work tree's top.
        root: PathBuf,
        /// The destination.
        branch: String,
        /// Git's and the hooks' words.
        detail: String,
    },
}

impl Refusal {
    /// The error code kitty adds to the document.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoRepository => "PROJECT_ROOT_NOT_FOUND",
            Self::Outside { .. } => "PATH_OUTSIDE_WORKTREE",
            Self::Detached => "HEAD_DETACHED",
            Self::MetaCorrupt { .. } => "META_UNREADABLE",
            Self::RefShape(_) => "DESTINATION_REF_SHAPE",
            Self::HeadMismatch { .. } => "HEAD_MISMATCH",
            Self::NoSuchBranch(_) => "DESTINATION_NOT_FOUND",
            Self::UnderWorktrees(_) => "PATH_UNDER_WORKTREES",
            Self::Protected { .. } => "PROTECTED_BRANCH",
            Self::Config(_) => "CONFIG_INVALID",
            Self::Stage { .. } => "STAGE_FAILED",
            Self::Empty(_) => "EMPTY_CHANGESET",
            Self::Commit { .. } => "COMMIT_FAILED",
        }
    }

    /// The reference's sentence, ending with what to do where it says it.
    pub fn message(&self) -> String {
        match self {
            Self::NoRepository => {
                "Unable to locate repository root (missing .git or .kittify).".into()
            }
            Self::Outside { path, root } => format!(
                "'{}' is not in the subpath of '{}' OR one path is relative and the other is absolute.",
                path.display(),
                root.display()
            ),
            Self::Detached => "Cannot resolve destination ref: HEAD is detached or not on a branch. Pass --to-branch <ref> explicitly.".into(),
            Self::MetaCorrupt { path, detail } => format!(
                "Cannot read {p}: Malformed JSON in {p}: {detail} — fail-closed (meta.json exists but is corrupt or unreadable)",
                p = path.display()
            ),
            Self::RefShape(r) => format!(
                "safe_commit: destination_ref must be a short branch name, got fully-qualified ref '{r}'. Strip the 'refs/heads/' prefix at the call boundary."
            ),
            Self::HeadMismatch { root, head, expected } => format!(
                "safe_commit: worktree {root} HEAD is '{head}', expected '{expected}'. Run `git -C {root} checkout {expected}` first.",
                root = root.display()
            ),
            Self::NoSuchBranch(b) => format!(
                "safe_commit: destination ref '{b}' does not exist in the repo. Create the branch first, or check the spelling."
            ),
            Self::UnderWorktrees(p) => format!(
                "safe_commit: refusing to stage path under .worktrees/: {p}. Planning artifacts must be committed from the coordination worktree, not the primary repo root."
            ),
            Self::Protected { branch, root } => format!(
                "safe_commit: refusing to commit to protected branch '{branch}' in {}. Start a non-protected feature branch and commit there ('spec-kitty agent mission create --start-branch <feature-branch>', or check out an existing feature branch). Planning artifacts must land on a feature branch, or land via the mission lane worktree.",
                root.display()
            ),
            Self::Config(detail) => detail.clone(),
            Self::Stage { root, paths } => format!(
                "safe_commit: failed to stage requested files in {}: {}",
                root.display(),
                crate::pyfmt::python_repr(&json!(paths))
            ),
            Self::Empty(b) => format!(
                "safe_commit: nothing to commit for destination_ref='{b}' (empty changeset)"
            ),
            Self::Commit { root, branch, detail } => format!(
                "safe_commit: git commit failed in {} for destination_ref='{branch}': {detail}",
                root.display()
            ),
        }
    }
}

/// What happened.
#[derive(Debug)]
pub enum Outcome {
    /// Committed (`Some(sha)`) or nothing to commit.
    Done {
        /// The new commit.
        commit: Option<String>,
        /// The files, relative to the worktree's top.
        files: Vec<String>,
        /// One line per directory argument (`None`: no directory was given).
        expansion: Option<Vec<String>>,
    },
    /// Refused; the expansion lines printed before it.
    Refused(Refusal, Vec<String>),
    /// Input kitty leaves to the reference.
    NeedsReference(String),
}

/// The reference's warning when neither the flag nor a mission names the branch.
pub const DEPRECATION: &str = "warning: --to-branch will be required in v3.3; pass it explicitly";

/// A mission's files: planning files on the target, status and decision files where the
/// mission's topology keeps them.
const PRIMARY: [&str; 10] = [
    "spec.md",
    "data-model.md",
    "research.md",
    "plan.md",
    "tasks.md",
    "wps.yaml",
    "lanes.json",
    "analysis-report.md",
    "retrospective.yaml",
    "baseline-tests.json",
];
/// A mission's files that live where its status lives (its coordination branch, when it has one).
pub(crate) const COORDINATION: [&str; 6] = [
    "status.events.jsonl",
    "status.json",
    "acceptance-matrix.json",
    "issue-matrix.md",
    "issue-matrix.json",
    "decisions.events.jsonl",
];

/// Where a mission file belongs: `Some(true)` a coordination file, `Some(false)` a planning
/// file, `None` neither (meta.json, notes, contracts, ...).
fn coordinated(rest: &[&str]) -> Option<bool> {
    match rest {
        [name] if PRIMARY.contains(name) => Some(false),
        [name] if COORDINATION.contains(name) => Some(true),
        ["tasks", .., name] => Some(name.starts_with("review-cycle-") && name.ends_with(".md")),
        ["checklists", _, ..] => Some(false),
        ["traces", _, ..] => Some(true),
        _ => None,
    }
}

/// The mission the files name (the first under `kitty-specs/<slug>/`) and the first of its
/// files that has a place: its slug, whether it is a coordination file, whether it is a status
/// or decision log.
fn mission_file(rels: &[String]) -> Option<(String, bool, bool)> {
    let parts = |r: &String| r.split('/').map(str::to_string).collect::<Vec<_>>();
    let slug = rels.iter().map(parts).find_map(|p| match p.as_slice() {
        [k, slug, _, ..] if k == "kitty-specs" => Some(slug.clone()),
        _ => None,
    })?;
    rels.iter().map(parts).find_map(|p| {
        let [k, s, rest @ ..] = p.as_slice() else {
            return None;
        };
        if k != "kitty-specs" || *s != slug || rest.is_empty() {
            return None;
        }
        let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
        let coord = coordinated(&rest)?;
        let log = matches!(
            rest.as_slice(),
            ["status.events.jsonl" | "status.json" | "decisions.events.jsonl"]
        );
        Some((slug.clone(), coord, log))
    })
}

/// `path` resolved as Python's `Path.resolve()` does: component by component, links followed
/// where the path exists, `..` taking the parent of what is resolved so far.
fn resolve(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            Component::Normal(name) => {
                out.push(name);
                if let Ok(real) = std::fs::canonicalize(&out) {
                    out = real;
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `path` relative to `root`, `/`-separated.
fn relative(path: &Path, root: &Path) -> Result<String, Refusal> {
    let outside = || Refusal::Outside {
        path: path.to_path_buf(),
        root: root.to_path_buf(),
    };
    let rel = path.strip_prefix(root).map_err(|_| outside())?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| match c {
            Component::Normal(s) => Ok(s.to_string_lossy().into_owned()),
            _ => Err(outside()),
        })
        .collect::<Result<_, _>>()?;
    Ok(parts.join("/"))
}

/// The mission's meta.json (`None` when there is none).
fn meta(root: &Path, slug: &str) -> Result<Option<Map<String, Value>>, Refusal> {
    let path = root.join("kitty-specs").join(slug).join("meta.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(m)) => Ok(Some(m)),
        Ok(_) => Err(Refusal::MetaCorrupt {
            path,
            detail: "not a JSON object".into(),
        }),
        Err(e) => Err(Refusal::MetaCorrupt {
            detail: crate::pyfmt::python_json_error(&e, &text),
            path,
        }),
    }
}

fn text_of<'a>(meta: Option<&'a Map<String, Value>>, key: &str) -> Option<&'a str> {
    meta?.get(key)?.as_str().filter(|s| !s.is_empty())
}

/// Where the files go and whether a protected branch may take them.
enum Destination {
    Branch { name: String, post_merge: bool },
    Refused(Refusal),
    Reference(String),
}

fn destination(
    repo: &Repo,
    root: &Path,
    req: &Request,
    rels: &[String],
    warn: &mut dyn FnMut(&str),
) -> Result<Destination, MissionError> {
    let mission = mission_file(rels);
    let flag = req.to_branch.as_deref().filter(|b| !b.is_empty());
    let meta = match (&mission, flag) {
        (Some((slug, ..)), None) => match meta(root, slug) {
            Ok(m) => m,
            Err(r) => return Ok(Destination::Refused(r)),
        },
        (Some((slug, ..)), Some(_)) => meta(root, slug).ok().flatten(),
        (None, _) => None,
    };
    if mission.is_some() && meta.as_ref().and_then(|m| m.get("flattened")) == Some(&json!(true)) {
        return Ok(Destination::Reference(
            "files of a merged (flattened) mission".into(),
        ));
    }
    // A mission's planning files go to its target branch, else the repository's primary one.
    let target = || match text_of(meta.as_ref(), "target_branch") {
        Some(t) => Ok(t.to_string()),
        None => primary_branch(repo, false),
    };
    let name = match (flag, &mission) {
        (Some(b), _) => b.strip_prefix("refs/heads/").unwrap_or(b).to_string(),
        (None, Some((slug, true, _)))
            if matches!(
                text_of(meta.as_ref(), "topology"),
                Some("coord" | "lanes_with_coord")
            ) =>
        {
            text_of(meta.as_ref(), "coordination_branch")
                .map_or_else(|| format!("kitty/mission-{slug}"), str::to_string)
        }
        (None, Some(_)) => target()?,
        (None, None) => match repo.head_branch()? {
            Some(b) => {
                warn(DEPRECATION);
                b
            }
            None => return Ok(Destination::Refused(Refusal::Detached)),
        },
    };
    // A planning file written after the merge goes to the primary branch, protected or not.
    let post_merge = match mission {
        Some((_, _, false)) => name != target()? && primary_branch(repo, true)? == name,
        _ => false,
    };
    Ok(Destination::Branch { name, post_merge })
}

/// Commit the files `req` names, from `cwd`, at `now`; `warn` gets the reference's stderr
/// warning.
pub fn safe_commit(
    env: &Env,
    cwd: &Path,
    req: &Request,
    now: chrono::DateTime<chrono::Utc>,
    warn: &mut dyn FnMut(&str),
) -> Result<Outcome, MissionError> {
    let Ok(repo) = Repo::discover(env, cwd) else {
        return Ok(Outcome::Refused(Refusal::NoRepository, Vec::new()));
    };
    let root = resolve(repo.top());
    let refused = |r: Refusal, lines: &[String]| Ok(Outcome::Refused(r, lines.to_vec()));
    let mut expansion = Vec::new();
    let mut paths: Vec<PathBuf> = Vec::new();
    for file in &req.files {
        let path = resolve(&if file.is_absolute() {
            file.clone()
        } else {
            root.join(file)
        });
        if !path.is_dir() {
            paths.push(path);
            continue;
        }
        let dir = match relative(&path, &root) {
            Ok(d) if d.is_empty() => ".".to_string(),
            Ok(d) => d,
            Err(r) => return refused(r, &[]),
        };
        let found = repo.changed_under(&dir)?;
        expansion.push(if found.is_empty() {
            format!("Expanding {dir}/ \u{2192} 0 files: (no changed files)")
        } else {
            format!(
                "Expanding {dir}/ \u{2192} {} files: {}",
                found.len(),
                found.join(", ")
            )
        });
        paths.extend(found.iter().map(|f| root.join(f)));
    }
    let mut rels: Vec<String> = Vec::new();
    for p in &paths {
        match relative(p, &root) {
            Ok(r) if !rels.contains(&r) => rels.push(r),
            Ok(_) => {}
            Err(r) => return refused(r, &[]),
        }
    }
    let (branch, post_merge) = match destination(&repo, &root, req, &rels, warn)? {
        Destination::Branch { name, post_merge } => (name, post_merge),
        Destination::Refused(r) => return refused(r, &[]),
        Destination::Reference(why) => return Ok(Outcome::NeedsReference(why)),
    };
    let given_dir = !expansion.is_empty();
    let done = |commit: Option<String>, files: Vec<String>| Outcome::Done {
        commit,
        files,
        expansion: given_dir.then(|| expansion.clone()),
    };
    let borrowed: Vec<&str> = rels.iter().map(String::as_str).collect();
    if borrowed.is_empty() || !repo.changed(&borrowed)? {
        return Ok(done(None, rels));
    }
    if branch.starts_with("refs/heads/") {
        return refused(Refusal::RefShape(branch), &expansion);
    }
    let head = repo.head_branch()?;
    if head.as_deref() != Some(branch.as_str()) {
        let head = head.unwrap_or_else(|| "<detached>".into());
        return refused(
            Refusal::HeadMismatch {
                root,
                head,
                expected: branch,
            },
            &expansion,
        );
    }
    if !repo.ref_exists(&format!("refs/heads/{branch}"))? {
        return refused(Refusal::NoSuchBranch(branch), &expansion);
    }
    if let Some(p) = rels
        .iter()
        .find(|r| r.split('/').next() == Some(".worktrees"))
    {
        return refused(Refusal::UnderWorktrees(p.clone()), &expansion);
    }
    if !post_merge {
        match protected(env, &repo, &branch) {
            Ok(false) => {}
            Ok(true) => return refused(Refusal::Protected { branch, root }, &expansion),
            Err(e) => return refused(Refusal::Config(e.to_string()), &expansion),
        }
    }
    let sha = match repo.commit_paths_forced(&borrowed, &req.message) {
        Ok(sha) => sha,
        Err(MissionError::CommitRefused { detail }) => {
            let empty = [
                "nothing to commit",
                "nothing added to commit",
                "no changes added",
            ]
            .iter()
            .any(|w| detail.contains(w));
            let r = if empty {
                Refusal::Empty(branch)
            } else {
                Refusal::Commit {
                    root,
                    branch,
                    detail,
                }
            };
            return refused(r, &expansion);
        }
        Err(MissionError::Git { .. }) => {
            return refused(Refusal::Stage { root, paths: rels }, &expansion);
        }
        Err(e) => return Err(e),
    };
    note_local_commit(&root, &sha, &rels, now);
    Ok(done(Some(sha), rels))
}

/// A merge's bookkeeping commit of exactly `rels` on `branch` (**interop**: the reference's
/// safe-commit with its merge-bookkeeping capability — HEAD must be on the branch, a protected
/// branch is allowed — and its `LocalCommit` note). The sentence of a refusal on failure.
pub fn bookkeeping(
    repo: &Repo,
    rels: &[String],
    branch: &str,
    message: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<String, String> {
    let root = resolve(repo.top());
    let head = repo.head_branch().map_err(|e| e.to_string())?;
    if head.as_deref() != Some(branch) {
        return Err(Refusal::HeadMismatch {
            root,
            head: head.unwrap_or_else(|| "<detached>".into()),
            expected: branch.into(),
        }
        .message());
    }
    let paths: Vec<&str> = rels.iter().map(String::as_str).collect();
    let sha = repo
        .commit_paths_forced(&paths, message)
        .map_err(|e| e.to_string())?;
    note_local_commit(&root, &sha, rels, now);
    Ok(sha)
}

/// The reference's `LocalCommit` note of a commit that touched mission files, in
/// `.kittify/sync-state.json` (one pending note per build; best effort, as the reference's).
pub(crate) fn note_local_commit(
    root: &Path,
    sha: &str,
    rels: &[String],
    now: chrono::DateTime<chrono::Utc>,
) {
    let specs: Vec<&String> = rels
        .iter()
        .filter(|r| r.split('/').any(|c| c == "kitty-specs"))
        .collect();
    let Some(first) = specs.first() else { return };
    let parts: Vec<&str> = first.split('/').collect();
    let mission = parts
        .iter()
        .position(|c| *c == "kitty-specs")
        .and_then(|i| parts.get(i + 1))
        .copied()
        .unwrap_or_default();
    let config = crate::mission::project_config::ProjectConfig::load(root).ok();
    let build_id = config
        .as_ref()
        .and_then(|c| c.build_id())
        .map_or_else(crate::ids::uuid4, str::to_string);
    let project_uuid = config
        .as_ref()
        .and_then(|c| c.uuid())
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_string);
    let path = root.join(".kittify/sync-state.json");
    let state = match std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str::<Py>(&t).ok())
    {
        Some(Py::Object(m)) => m,
        _ => IndexMap::new(),
    };
    let uuid_of = |v: &Py| match v {
        Py::Object(m) => match m.get("project_uuid") {
            None | Some(Py::Null) => None,
            Some(Py::String(s)) => Some(s.trim().to_string()),
            Some(other) => Some(crate::pyfmt::python_repr(&other.to_value())),
        }
        .filter(|u| !u.is_empty()),
        _ => None,
    };
    let same_build = |v: &Py| {
        matches!(v, Py::Object(m) if matches!(m.get("build_id"), Some(Py::String(b)) if *b == build_id))
            && uuid_of(v) == project_uuid
    };
    let mut pending: Vec<Py> = match state.get("pending_local_commits") {
        Some(Py::Array(a)) => a.iter().filter(|e| !same_build(e)).cloned().collect(),
        _ => Vec::new(),
    };
    let s = |t: &str| Py::String(t.to_string());
    let frame: IndexMap<String, Py> = [
        ("type", s("LocalCommit")),
        ("git_hash", s(sha)),
        ("mission_id", s(mission)),
        ("build_id", s(&build_id)),
        ("project_uuid", project_uuid.as_deref().map_or(Py::Null, s)),
        (
            "changed_files",
            Py::Array(specs.iter().map(|f| s(f)).collect()),
        ),
        ("committed_at", s(&crate::pyfmt::isoformat(now))),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    pending.push(Py::Object(frame));
    let doc = Py::Object(
        [
            (
                "last_saas_confirmed_hash".to_string(),
                state
                    .get("last_saas_confirmed_hash")
                    .cloned()
                    .unwrap_or(Py::Null),
            ),
            ("pending_local_commits".to_string(), Py::Array(pending)),
        ]
        .into_iter()
        .collect(),
    );
    let text = crate::pyfmt::to_python_json_pretty(&doc).unwrap_or_default();
    let _ = std::fs::create_dir_all(root.join(".kittify"));
    if let Err(e) = crate::mission::planning::write_atomic(&path, text.as_bytes()) {
        tracing::warn!("the LocalCommit note was not written: {e}");
    }
}

#[cfg(test)]
#[path = "safe_commit_tests.rs"]
mod tests;
