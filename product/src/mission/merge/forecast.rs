//! `merge --dry-run` (**interop**: the reference's forecast document, its checks in its order and
//! its messages): what a merge of the mission would do; nothing is written.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::env::Env;
use crate::mission::MissionError;
use crate::mission::git::Repo;
use crate::mission::planning::handle::{Index, Resolved, without_mid8};
use crate::mission::planning::project;
use crate::mission::status::{Lane, log, reduce};
use crate::pyfmt::{python_json_error, python_repr, python_type, to_python_json};

/// The version every forecast document names.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// How the mission branch goes into the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Strategy {
    /// A merge commit.
    Merge,
    /// One squashed commit (the default).
    Squash,
    /// Rebased, then fast-forwarded.
    Rebase,
}

impl Strategy {
    fn as_str(self) -> &'static str {
        match self {
            Self::Merge => "merge",
            Self::Squash => "squash",
            Self::Rebase => "rebase",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "merge" => Some(Self::Merge),
            "squash" => Some(Self::Squash),
            "rebase" => Some(Self::Rebase),
            _ => None,
        }
    }
}

/// The clean-up flags as given (`None`: neither form; the mission's policy decides).
#[derive(Debug, Clone, Copy, Default)]
pub struct Retention {
    /// `--delete-branch` (`Some(true)`) or `--keep-branch` (`Some(false)`).
    pub delete_branch: Option<bool>,
    /// `--remove-worktree` or `--keep-worktree`.
    pub remove_worktree: Option<bool>,
}

/// A forecast's input.
#[derive(Debug, Default)]
pub struct Request {
    /// `--mission`.
    pub mission: Option<String>,
    /// `--target`.
    pub target: Option<String>,
    /// `--strategy`.
    pub strategy: Option<Strategy>,
    /// The clean-up flags.
    pub retention: Retention,
    /// `--push` (echoed).
    pub push: bool,
    /// Options that make it the reference's to run (non-empty: handed over whole).
    pub delegated: Vec<&'static str>,
}

/// What the forecast says.
#[derive(Debug)]
pub enum Outcome {
    /// The forecast (exit 0).
    Forecast {
        /// The document.
        doc: Value,
        /// The human text.
        human: String,
    },
    /// A refusal, with its exit status.
    Refused {
        /// The document.
        doc: Value,
        /// The human text.
        human: String,
        /// The exit status.
        code: u8,
    },
    /// Input kitty leaves to the reference, and why.
    NeedsReference(String),
}

/// A refusal: the reference's `{spec_kitty_version, error}` document, with kitty's `error_code`.
fn refused(error_code: &str, error: impl Into<String>, code: u8) -> Outcome {
    let error = error.into();
    Outcome::Refused {
        doc: json!({"spec_kitty_version": VERSION, "error": error, "error_code": error_code}),
        human: format!("Error: {error}"),
        code,
    }
}

/// The forecast of merging the mission `req` names, from `cwd`.
pub fn forecast(env: &Env, cwd: &Path, req: &Request) -> Result<Outcome, MissionError> {
    if !req.delegated.is_empty() {
        return Ok(Outcome::NeedsReference(req.delegated.join(", ")));
    }
    if let Some(why) = inside_worktree(cwd) {
        return Ok(refused("MERGE_FROM_WORKTREE", why, 1));
    }
    if env.get("SPECIFY_REPO_ROOT").is_some() {
        return Ok(Outcome::NeedsReference("SPECIFY_REPO_ROOT is set".into()));
    }
    let Some(project) = project::locate(cwd) else {
        return Ok(refused(
            "PROJECT_ROOT_NOT_FOUND",
            "Unable to locate repository root (missing .git or .kittify).",
            1,
        ));
    };
    let root = project.root.clone();
    if !root.join(".git").exists() {
        return Ok(Outcome::NeedsReference(
            "the project has no .git (the reference skips its git preflight)".into(),
        ));
    }
    let Ok(repo) = Repo::discover(env, &root) else {
        return Ok(Outcome::NeedsReference(
            "git does not recognise the repository (the reference's git preflight reports it)"
                .into(),
        ));
    };
    let strategy = match req.strategy {
        Some(s) => s,
        None => match configured_strategy(&root) {
            Ok(s) => s,
            Err(message) => return Ok(refused("MERGE_STRATEGY_INVALID", message, 1)),
        },
    };
    let specs = project.specs();
    let index = Index::load(&specs);
    let slug = match req
        .mission
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
    {
        Some(handle) => {
            if let Err(why) = safe_segment(handle) {
                return Ok(refused(
                    "UNSAFE_MISSION_HANDLE",
                    format!("Mission slug is not a single safe path segment: {why}"),
                    2,
                ));
            }
            let name = canonical(&specs, &index, handle);
            Some(if specs.join(&name).exists() {
                name
            } else {
                handle.to_string()
            })
        }
        None => repo.head_branch()?.as_deref().and_then(slug_of_branch),
    };
    let canonical_dir = slug
        .as_deref()
        .map(|s| specs.join(canonical(&specs, &index, s)));
    if let Some(s) = &slug
        && root
            .join(".kittify/runtime/merge")
            .join(s)
            .join("state.json")
            .exists()
    {
        return Ok(Outcome::NeedsReference(format!(
            "an interrupted merge of {s} is recorded (the reference resumes it)"
        )));
    }
    let meta = match canonical_dir.as_deref().map(read_meta).transpose() {
        Ok(m) => m.flatten(),
        Err(why) => {
            return Ok(refused(
                "META_UNREADABLE",
                format!(
                    "Cannot resolve the merge target branch: {why}. meta.json exists but is corrupt or unreadable; fix it before merging."
                ),
                1,
            ));
        }
    };
    let (target, source) = match (&req.target, &slug) {
        (Some(t), _) => (t.clone(), Source::Flag),
        (None, None) => (primary_branch(&repo)?, Source::Primary),
        (None, Some(_)) => match meta.as_ref().and_then(meta_target) {
            Some(t) => (t, Source::Meta),
            None => (primary_branch(&repo)?, Source::Primary),
        },
    };
    if !repo.ref_exists(&format!("refs/heads/{target}"))?
        && !repo.ref_exists(&format!("refs/remotes/origin/{target}"))?
    {
        let check = slug
            .as_deref()
            .map(|s| format!(" Check kitty-specs/{s}/meta.json."))
            .unwrap_or_default();
        let message = match (source, &slug) {
            (Source::Meta, Some(_)) => {
                format!(
                    "Target branch '{target}' (from meta.json) does not exist locally or on origin.{check}"
                )
            }
            (Source::Primary, Some(_)) => format!(
                "Target branch '{target}' (resolved as primary branch) does not exist locally or on origin.{check}"
            ),
            _ => format!("Target branch '{target}' does not exist locally or on origin."),
        };
        return Ok(refused("TARGET_BRANCH_NOT_FOUND", message, 1));
    }
    let (Some(slug), Some(dir)) = (slug, canonical_dir) else {
        return Ok(refused(
            "MISSION_UNRESOLVED",
            "Mission slug could not be resolved. Use --mission <slug>.",
            1,
        ));
    };
    let (mission_branch, lanes) = match read_lanes(&dir) {
        Ok(l) => l,
        Err((code, why)) => return Ok(refused(code, why, 1)),
    };
    let snapshot = match status_dir(&repo, &root, &dir, meta.as_ref())? {
        Ok(status) => match log::read(&status) {
            Ok(l) => reduce::reduce(&l),
            Err(e) => {
                return Ok(refused(
                    "STATUS_LOG_CORRUPT",
                    format!(
                        "the status log {} cannot be read: {e}; repair or restore that line, then run this again",
                        status.join("status.events.jsonl").display()
                    ),
                    1,
                ));
            }
        },
        Err(why) => return Ok(refused("COORDINATION_BRANCH_DELETED", why, 1)),
    };
    let mut wp_ids: Vec<String> = lanes
        .iter()
        .flat_map(|l| l["wp_ids"].as_array().cloned().unwrap_or_default())
        .filter_map(|w| w.as_str().map(str::to_string))
        .collect();
    if wp_ids.is_empty() {
        wp_ids = snapshot.work_packages.keys().cloned().collect();
    }
    let blockers: Vec<Value> = wp_ids
        .iter()
        .filter_map(|wp| {
            let state = snapshot.work_packages.get(wp)?;
            rejected_but_terminal(wp, state)
        })
        .collect();
    if !blockers.is_empty() {
        return Ok(blocked(&slug, &target, blockers));
    }
    let would_assign = match would_assign(&specs, meta.as_ref()) {
        Ok(n) => n,
        Err(why) => return Ok(refused("MISSION_NUMBER_INVALID", why, 1)),
    };
    let (delete_branch, branch_source, branch_warning) = retention(
        req.retention.delete_branch,
        meta.as_ref().and_then(|m| m.get("retain_branches")),
        "branches",
        "retain_branches",
    );
    let (remove_worktree, worktree_source, worktree_warning) = retention(
        req.retention.remove_worktree,
        meta.as_ref().and_then(|m| m.get("retain_worktrees")),
        "worktrees",
        "retain_worktrees",
    );
    let doc = json!({
        "spec_kitty_version": VERSION,
        "mission_slug": slug,
        "target_branch": target,
        "strategy": strategy.as_str(),
        "delete_branch": delete_branch,
        "remove_worktree": remove_worktree,
        "push": req.push,
        "mission_branch": mission_branch,
        "lanes": lanes,
        "would_assign_mission_number": would_assign,
        "retention": {
            "branch_source": branch_source,
            "worktree_source": worktree_source,
            "warnings": branch_warning.into_iter().chain(worktree_warning).collect::<Vec<_>>(),
        },
    });
    let mut human = String::new();
    if let Some(n) = would_assign {
        human.push_str(&format!(
            "would assign mission_number={n} to mission {slug}\n"
        ));
    }
    human.push_str(&to_python_json(&doc).unwrap_or_default());
    Ok(Outcome::Forecast { doc, human })
}

/// Where the target branch came from (the refusal names it).
#[derive(Debug, Clone, Copy)]
enum Source {
    Flag,
    Meta,
    Primary,
}

/// The reference's refusal to run from inside a worktree (`cwd` under `<root>/.worktrees/`).
fn inside_worktree(cwd: &Path) -> Option<String> {
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
fn configured_strategy(root: &Path) -> Result<Strategy, String> {
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
fn safe_segment(handle: &str) -> Result<(), String> {
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
fn canonical(specs: &Path, index: &Index, handle: &str) -> String {
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
fn slug_of_branch(branch: &str) -> Option<String> {
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
fn read_meta(dir: &Path) -> Result<Option<Map<String, Value>>, String> {
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
fn meta_target(meta: &Map<String, Value>) -> Option<String> {
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
fn primary_branch(repo: &Repo) -> Result<String, MissionError> {
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

/// `lanes.json` of the primary checkout: its `mission_branch` and its lanes with the six keys
/// the reference's model keeps, or the reference's sentence for a missing or malformed file.
fn read_lanes(dir: &Path) -> Result<(Value, Vec<Value>), (&'static str, String)> {
    let path = dir.join("lanes.json");
    let text = match std::fs::read(&path) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|e| corrupt(&path, &e.to_string()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err((
                "LANES_MISSING",
                format!(
                    "lanes.json is required for {}. Run the task-finalization step to compute execution lanes.",
                    dir.display()
                ),
            ));
        }
        Err(e) => return Err(corrupt(&path, &e.to_string())),
    };
    let doc: Value =
        serde_json::from_str(&text).map_err(|e| corrupt(&path, &python_json_error(&e, &text)))?;
    manifest(&doc).map_err(|why| corrupt(&path, &why))
}

fn corrupt(path: &Path, why: &str) -> (&'static str, String) {
    (
        "LANES_CORRUPT",
        format!(
            "lanes.json at {} is corrupt or malformed: {why}",
            path.display()
        ),
    )
}

/// Python's `value[key]` on a JSON value: the item, or the exception's text.
fn item<'a>(value: &'a Value, key: &str) -> Result<&'a Value, String> {
    match value {
        Value::Object(m) => m.get(key).ok_or_else(|| format!("'{key}'")),
        Value::Array(_) => Err("list indices must be integers or slices, not str".into()),
        Value::String(_) => Err("string indices must be integers, not 'str'".into()),
        other => Err(format!(
            "'{}' object is not subscriptable",
            python_type(other)
        )),
    }
}

/// Python's `list(value)`: an array as is, a string's characters, an object's keys.
fn listed(value: &Value) -> Result<Vec<Value>, String> {
    match value {
        Value::Array(a) => Ok(a.clone()),
        Value::String(s) => Ok(s.chars().map(|c| Value::String(c.to_string())).collect()),
        Value::Object(m) => Ok(m.keys().map(|k| Value::String(k.clone())).collect()),
        other => Err(format!("'{}' object is not iterable", python_type(other))),
    }
}

/// The keys the reference's manifest requires, in the order it reads them.
fn manifest(doc: &Value) -> Result<(Value, Vec<Value>), String> {
    item(doc, "mission_slug")?;
    if let Some(report) = doc.get("collapse_report").filter(|r| !r.is_null()) {
        for event in listed(item(report, "events")?)? {
            for key in ["wp_a", "wp_b", "rule", "evidence"] {
                item(&event, key)?;
            }
        }
    }
    for key in ["version", "mission_branch", "target_branch"] {
        item(doc, key)?;
    }
    let mut lanes = Vec::new();
    for lane in listed(item(doc, "lanes")?)? {
        let id = item(&lane, "lane_id")?.clone();
        let wp_ids = listed(item(&lane, "wp_ids")?)?;
        let list = |key: &str| -> Result<Vec<Value>, String> {
            lane.get(key).map_or(Ok(Vec::new()), listed)
        };
        lanes.push(json!({
            "lane_id": id,
            "wp_ids": wp_ids,
            "write_scope": list("write_scope")?,
            "predicted_surfaces": list("predicted_surfaces")?,
            "depends_on_lanes": list("depends_on_lanes")?,
            "parallel_group": lane.get("parallel_group").cloned().unwrap_or(json!(0)),
        }));
    }
    for key in ["computed_at", "computed_from"] {
        item(doc, key)?;
    }
    Ok((doc["mission_branch"].clone(), lanes))
}

/// Where the review gate reads the board: the coordination worktree's copy for a coordinated
/// mission whose worktree holds it, else the primary checkout's. `Err`: a coordinated mission
/// whose worktree and branch are both gone.
fn status_dir(
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

/// The gate's finding for a package that ended approved or done while its last verdict asks
/// for changes (and no complete override is recorded).
fn rejected_but_terminal(wp: &str, state: &reduce::WpState) -> Option<Value> {
    if !matches!(state.lane, Lane::Approved | Lane::Done) {
        return None;
    }
    let overridden = state.slot("review").is_some_and(|r| {
        ["actor", "at", "reason", "wp_id"].iter().all(|k| {
            r.get(*k)
                .is_some_and(|v| !v.is_null() && v.as_str() != Some(""))
        })
    });
    if overridden {
        return None;
    }
    let verdict = state.slot("review_result").filter(|r| {
        ["reviewer", "verdict", "reference"]
            .iter()
            .all(|k| r.get(*k).is_some())
    })?;
    if verdict["verdict"] != "changes_requested" {
        return None;
    }
    Some(json!({
        "diagnostic_code": "REJECTED_REVIEW_ARTIFACT_CONFLICT",
        "branch_or_work_package": wp,
        "violated_invariant": "terminal_wp_latest_review_artifact_must_not_be_rejected",
        "remediation": [
            "Run another review cycle that writes an approved review-cycle artifact.",
            "Or move the WP out of approved/done before merge.",
        ],
        "lane": state.lane.as_str(),
        "latest_review_cycle_path": null,
        "latest_review_cycle_verdict": "changes_requested",
        "review_cycle_number": 0,
    }))
}

fn blocked(slug: &str, target: &str, blockers: Vec<Value>) -> Outcome {
    let mut human = String::from("Error: Review artifact consistency gate failed.");
    for b in &blockers {
        let wp = b["branch_or_work_package"].as_str().unwrap_or_default();
        human.push_str(&format!(
            "\n  - {wp} is lane '{}', but the event-sourced review verdict is 'changes_requested' and no on-disk review artifact exists.\n    diagnostic_code: REJECTED_REVIEW_ARTIFACT_CONFLICT\n    branch_or_work_package: {wp}\n    violated_invariant: terminal_wp_latest_review_artifact_must_not_be_rejected\n    latest_review_cycle_path: None\n    latest_review_cycle_verdict: changes_requested",
            b["lane"].as_str().unwrap_or_default()
        ));
        for line in b["remediation"].as_array().into_iter().flatten() {
            human.push_str(&format!(
                "\n    remediation: {}",
                line.as_str().unwrap_or_default()
            ));
        }
    }
    human.push_str(&format!("\n  Mission: {slug}"));
    Outcome::Refused {
        doc: json!({
            "spec_kitty_version": VERSION,
            "mission_slug": slug,
            "target_branch": target,
            "blocked": true,
            "blockers": blockers,
            "diagnostic_code": "REJECTED_REVIEW_ARTIFACT_CONFLICT",
            "error_code": "REJECTED_REVIEW_ARTIFACT_CONFLICT",
        }),
        human,
        code: 1,
    }
}

/// A `mission_number` as the reference coerces it: `Ok(None)` unset, `Err` malformed.
fn mission_number(value: Option<&Value>) -> Result<Option<i64>, ()> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or(()),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => {
            let digits = s.trim().trim_start_matches('0');
            (if digits.is_empty() { "0" } else { digits })
                .parse::<i64>()
                .map(Some)
                .map_err(|_| ())
        }
        Some(_) => Err(()),
    }
}

/// The number the merge would give a mission that has none: one above the highest number of
/// the primary checkout's missions (1 when none has one); `None` when it has one already.
fn would_assign(specs: &Path, meta: Option<&Map<String, Value>>) -> Result<Option<i64>, String> {
    let Some(meta) = meta else {
        return Ok(None);
    };
    match mission_number(meta.get("mission_number")) {
        Ok(Some(_)) => return Ok(None),
        Ok(None) => {}
        Err(()) => {
            return Err(format!(
                "meta.json's mission_number {} is neither a number nor unset: set it to an integer or null, then run this again",
                python_repr(&meta["mission_number"])
            ));
        }
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(specs)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let highest = dirs
        .iter()
        .filter_map(|d| std::fs::read_to_string(d.join("meta.json")).ok())
        .filter_map(|t| match serde_json::from_str::<Value>(&t) {
            Ok(Value::Object(m)) => mission_number(m.get("mission_number")).ok().flatten(),
            _ => None,
        })
        .max();
    Ok(Some(highest.map_or(1, |n| n + 1)))
}

/// One clean-up decision: the flag, else the mission's `retain_*` policy (a malformed value
/// retains), else delete. `(decision, source, warning)`.
fn retention(
    flag: Option<bool>,
    policy: Option<&Value>,
    what: &str,
    key: &str,
) -> (bool, &'static str, Option<String>) {
    if let Some(delete) = flag {
        return (delete, "cli", None);
    }
    match policy {
        Some(Value::Bool(true)) => (
            false,
            "meta",
            Some(format!("retention honored for {what} (source: meta.json)")),
        ),
        None | Some(Value::Null | Value::Bool(false)) => (true, "default", None),
        Some(other) => (
            false,
            "meta",
            Some(format!(
                "malformed {key} value in meta.json ({}); treated as retaining (fail-closed)",
                python_repr(other)
            )),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn mission_numbers_are_coerced_as_the_reference_does() {
        assert_eq!(mission_number(None), Ok(None));
        assert_eq!(mission_number(Some(&json!(null))), Ok(None));
        assert_eq!(mission_number(Some(&json!("  "))), Ok(None));
        assert_eq!(mission_number(Some(&json!(7))), Ok(Some(7)));
        assert_eq!(mission_number(Some(&json!("042"))), Ok(Some(42)));
        assert_eq!(mission_number(Some(&json!("000"))), Ok(Some(0)));
        assert_eq!(mission_number(Some(&json!("pending"))), Err(()));
        assert_eq!(mission_number(Some(&json!(1.5))), Err(()));
        assert_eq!(mission_number(Some(&json!(true))), Err(()));
    }

    #[test]
    fn the_next_number_is_one_above_the_highest_and_malformed_entries_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let specs = dir.path();
        let put = |name: &str, meta: &str| {
            std::fs::create_dir_all(specs.join(name)).unwrap();
            std::fs::write(specs.join(name).join("meta.json"), meta).unwrap();
        };
        let own: Map<String, Value> = serde_json::from_str(r#"{"mission_number": null}"#).unwrap();
        assert_eq!(would_assign(specs, Some(&own)), Ok(Some(1)));
        put("a", r#"{"mission_number": 5}"#);
        put("b", r#"{"mission_number": "010"}"#);
        put("c", r#"{"mission_number": "pending"}"#);
        put("d", "{corrupt");
        put("e", r#"{"mission_number": true}"#);
        assert_eq!(would_assign(specs, Some(&own)), Ok(Some(11)));
        let numbered: Map<String, Value> =
            serde_json::from_str(r#"{"mission_number": 3}"#).unwrap();
        assert_eq!(would_assign(specs, Some(&numbered)), Ok(None));
        assert_eq!(would_assign(specs, None), Ok(None));
        let bad: Map<String, Value> = serde_json::from_str(r#"{"mission_number": "TBD"}"#).unwrap();
        assert!(
            would_assign(specs, Some(&bad))
                .unwrap_err()
                .contains("'TBD'")
        );
    }

    #[test]
    fn retention_is_the_flag_else_the_policy_else_delete() {
        assert_eq!(
            retention(
                Some(false),
                Some(&json!(false)),
                "branches",
                "retain_branches"
            ),
            (false, "cli", None)
        );
        assert_eq!(
            retention(None, None, "branches", "retain_branches"),
            (true, "default", None)
        );
        assert_eq!(
            retention(None, Some(&json!(false)), "branches", "retain_branches"),
            (true, "default", None)
        );
        assert_eq!(
            retention(None, Some(&json!(true)), "worktrees", "retain_worktrees"),
            (
                false,
                "meta",
                Some("retention honored for worktrees (source: meta.json)".into())
            )
        );
        assert_eq!(
            retention(None, Some(&json!("yes")), "branches", "retain_branches"),
            (
                false,
                "meta",
                Some(
                    "malformed retain_branches value in meta.json ('yes'); treated as retaining (fail-closed)"
                        .into()
                )
            )
        );
    }

    #[test]
    fn a_malformed_manifest_names_the_first_key_the_reference_misses() {
        let m = |v: Value| manifest(&v).map(|_| ()).unwrap_err();
        assert_eq!(m(json!({})), "'mission_slug'");
        assert_eq!(
            m(json!([])),
            "list indices must be integers or slices, not str"
        );
        assert_eq!(m(json!({"mission_slug": "s"})), "'version'");
        let base = json!({"mission_slug": "s", "version": 1, "mission_branch": "b",
            "target_branch": "t", "lanes": [{"lane_id": "lane-a"}]});
        assert_eq!(m(base), "'wp_ids'");
        let whole = json!({"mission_slug": "s", "version": 1, "mission_branch": "b",
            "target_branch": "t", "lanes": [{"lane_id": "lane-a", "wp_ids": "WP01", "x": 1}],
            "computed_at": "", "computed_from": ""});
        let (branch, lanes) = manifest(&whole).unwrap();
        assert_eq!(branch, "b");
        assert_eq!(
            lanes,
            [
                json!({"lane_id": "lane-a", "wp_ids": ["W", "P", "0", "1"], "write_scope": [],
                "predicted_surfaces": [], "depends_on_lanes": [], "parallel_group": 0})
            ]
        );
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
