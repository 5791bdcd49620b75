//! Run one scenario through kitty and through the reference CLI in two identical isolated homes,
//! then compare exit codes, documents key by key, files, commits and branches, allowing only the
//! named differences in [`ALLOWED`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use kitty_testkit::{IsolatedHome, ReferenceCli, Repo, RunOutput, RunningKitty};
use serde_json::Value;

/// Every difference the suite tolerates, by name and reason. Printed by `allowed_differences`.
pub const ALLOWED: &[(&str, &str)] = &[
    (
        "ids",
        "mission_id, its 8-character prefix in names, event ids, the ids of commits (which carry the time of the run, and implement's base_commit), and the implementing shell's pid and its start time are minted per run",
    ),
    (
        "timestamps",
        "created_at, timestamp, at, now_utc_iso, NOW_UTC_ISO, materialized_at, last_transition_at and computed_at are the time of the run",
    ),
    (
        "prose",
        "human sentences (error, next_step, remediation, branch_strategy_summary, uncommitted reason, message, hint, the WPs' branch_strategy, the acceptance matrix's placeholder description and notes, and the lists of problem sentences: errors, ownership_errors, ownership_warnings) are in kitty's own words",
    ),
    (
        "templates",
        "the spec.md and plan.md scaffolds and tasks/README.md hold kitty's own template text (same paths; once filled in, compared); the review prompt `agent action review` writes (same place, same frontmatter keys in the same order) and the implement prompt (same path) state their facts in kitty's words",
    ),
    (
        "kitty_keys",
        "kitty's spec_kitty_version names its own version; kitty adds `commit`, `event_id` and `event_queued` to a create document, `result` to every object document, `success`, `committed`, `placement_ref` to the planning commands' error documents, and its own `error_code` where the reference's error document has none",
    ),
    (
        "stdout_only",
        "stdout is the document alone: the reference prints some errors (an unknown --mission for context resolve) on stderr, and move-task's `Note: N unrelated dirty file(s) ignored` line on stdout before its document; kitty prints every document on stdout, with the same exit code, and that note on stderr; accept's unknown --mission, which the reference prints on stderr, is on stdout; merge --dry-run's refusals the reference prints as text (run from inside a worktree; an unsafe --mission) or as a traceback (an invalid merge.strategy, a mission_number that is not a number, a deleted coordination branch whose worktree is gone, a broken status line) are JSON documents with the reference's sentence (or kitty's, where it has none); with --json, merge --abort and a --resume with nothing to resume print a JSON document where the reference prints its lines (kitty's abort document lists the same lines in `messages`); merge does not print git's refusal (on stderr) to delete the mission branch its coordination worktree has checked out: it keeps the branch and the worktree, as the reference ends up doing",
    ),
    (
        "doctrine_catalog",
        "kitty ships none of the reference's doctrine: `charter context`'s `all_directives` (the bundled directive catalog, which no prompt reads) is empty in kitty's document",
    ),
    (
        "writes_nothing_on_refusal",
        "finalize-tasks and map-requirements refuse before their first write: the reference has already rewritten WP files when finalize's ownership checks, or map-requirements' stale-ref gate or a later WP's invalid frontmatter, refuse; a commit that a hook refuses leaves kitty's map-requirements files as they were (the reference keeps them, uncommitted); safe-commit commits the named files with `git commit --only` and never stashes: when git refuses the commit or a named file is missing, other staged work stays staged (the reference stashes it around its commit and fails to restore it: exit 1 with `failed to restore caller staging`, the work left in a stash), and a directory's changes are read with `git status -z`, so names git quotes (non-ASCII, quote marks) are committed where the reference fails to stage them; merge refuses a mission no acceptance is recorded for (the reference merges it, even when its acceptance failed; `--allow-unaccepted` merges it anyway), and refuses before its first write where the reference fails half-way: a work package not approved or done (the reference warns, merges the lanes, records the others done, then fails), uncommitted changes in the target's checkout or the coordination worktree (the reference finds them when it advances the branch and reverts its done commits), the target not checked out in the primary checkout, a missing lane branch, a lock held (a traceback in the reference); a lane whose auto-rebase meets a conflict outside the mission's coordination artifacts and event logs is reported stale, in the reference's words, where the reference's classifier would union pyproject dependencies, `__init__` imports or URL lists, or regenerate uv.lock",
    ),
    (
        "lane_inherits_coordination",
        "a lane made by implement carries the coordination branch's status files, acceptance matrix and implement's WP frontmatter; the reference counts them as kitty-specs edits made on the lane and refuses every unforced for_review (its users pass --force); kitty counts only what the lane changed itself, and counts an implementation only when the lane changed a file outside kitty-specs/ (a new lane's merge commit is not one); the same holds for an unforced approval from such a lane. Kitty's implement commits the claim's fields it writes in the checkout (the package's base_* fields, meta.json's VCS lock) on the target as `chore: WPxx claimed for implementation` where the reference leaves them uncommitted (its users commit them before accept and merge, or its next implement sweeps them), refuses a missing --agent before making the lane (the reference makes it and claims the package for `implement-command` first), and installs no pre-commit hook (the reference's starts its Python commit guard)",
    ),
    (
        "no_workarounds",
        "kitty needs none of the workarounds the reference's users apply to finish a mission as its prompts run it: implement and review without --mission (the prompts pass only the work package) claim in the one finalized mission that has the package open, where the reference says `--mission <slug> is required` (several candidates: kitty's MISSING_MISSION names them); implement's merges into a lane (the recorded planning commit, the coordination branch) that conflict only on planning artifacts under kitty-specs/ take the coordination branch's versions, where the reference stops on the add/add conflict map-requirements' auto-commit leads to (its users pass --no-auto-commit); accept's path conventions (src/, tests/, docs/, the mission's contracts/) block only when a lane writes under a missing one that no branch of the mission holds, and are otherwise the warning the reference gives with --lenient (its users pass --lenient)",
    ),
    (
        "verdict_copy",
        "a verdict writes its review-cycle artifact in the primary checkout, commits it on the coordination branch and leaves the copy untracked (both do); the reference then counts that copy (or the package's review directory, when the copy and the review's feedback file are all it holds, as one untracked entry) as uncommitted work and refuses the next package's, or the reworked package's, move to for_review or approved (its users delete or commit the copy, or pass --force); kitty passes by a copy the coordination branch (or, for a verdict whose commit was interrupted, the coordination worktree) holds byte for byte and, inside such a directory, by files the reference passes by one by one; accept's count of uncommitted work (its `git_dirty`) lists the copy's directory in the reference and refuses the acceptance, kitty's passes by a directory of copies the coordination branch holds byte for byte",
    ),
    (
        "sync_state",
        "the reference leaves .kittify/sync-state.json (its sync bookkeeping) untracked; with sync on, its finalize-tasks queues each work package's WPCreated twice (the lifecycle payload, then a smaller one after the commit), kitty's once (the lifecycle payload)",
    ),
];

const KITTY_ONLY_KEYS: &[&str] = &[
    "commit",
    "event_id",
    "event_queued",
    "result",
    "error_code",
    "success",
    "committed",
    "placement_ref",
    "spec_kitty_version",
];
const TIMESTAMP_KEYS: &[&str] = &[
    "created_at",
    "timestamp",
    "at",
    "now_utc_iso",
    "NOW_UTC_ISO",
    "recorded_at",
    "state_entered_at",
    "resolved_at",
    "materialized_at",
    "last_transition_at",
    "computed_at",
];
const ID_KEYS: &[&str] = &[
    "event_id",
    "mission_id",
    "last_event_id",
    "commit_hash",
    "hash",
    "sha",
    "planning_commit_sha",
    "generated_at",
    "base_commit",
    "shell_pid",
    "shell_pid_created_at",
];
const PROSE_KEYS: &[&str] = &[
    "error",
    "next_step",
    "remediation",
    "branch_strategy_summary",
    "reason",
    "branch_recommendation_reason",
    "blocked_reason",
    "diagnostic",
    "context",
    "text",
    "message",
    "hint",
    "branch_strategy",
    "description",
    "notes",
    "errors",
    "ownership_errors",
    "ownership_warnings",
];
const REFERENCE_ONLY_FILES: &[&str] = &[".kittify/sync-state.json"];

/// One implementation's side of a scenario.
pub struct Side {
    pub home: IsolatedHome,
    pub repo: Repo,
}

fn home() -> IsolatedHome {
    // Both sides point at a loopback port nobody listens on: nothing can leave the machine.
    IsolatedHome::builder().refusing_server().build()
}

/// One home with a repository made by `setup`, for a scenario where kitty and the reference take
/// turns on the same repository.
pub fn single(setup: impl Fn(&IsolatedHome) -> Repo) -> Side {
    let h = home();
    let repo = setup(&h);
    Side { home: h, repo }
}

/// Two homes, each with a repository made by `setup` (the same on both sides).
pub fn pair(setup: impl Fn(&IsolatedHome) -> Repo) -> (Side, Side) {
    let k = home();
    let r = home();
    let kr = setup(&k);
    let rr = setup(&r);
    (Side { home: k, repo: kr }, Side { home: r, repo: rr })
}

/// Two homes where the repository is made once on the first side and copied to the second (for
/// set-ups too slow to run twice, such as the reference's own `init`).
pub fn pair_copied(setup: impl Fn(&IsolatedHome) -> Repo) -> (Side, Side) {
    let k = home();
    let r = home();
    let kr = setup(&k);
    let dest = r.work_dir().join(kr.path().file_name().unwrap());
    copy_dir(kr.path(), &dest);
    let rr = r
        .repo()
        .name(kr.path().file_name().unwrap().to_str().unwrap())
        .adopt();
    (Side { home: k, repo: kr }, Side { home: r, repo: rr })
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let ty = e.file_type().unwrap();
        let dest = to.join(e.file_name());
        if ty.is_dir() {
            copy_dir(&e.path(), &dest);
        } else if ty.is_symlink() {
            #[cfg(unix)]
            std::os::unix::fs::symlink(std::fs::read_link(e.path()).unwrap(), &dest).unwrap();
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

/// As a clone has it: `origin/HEAD` names the default branch (`main`), read locally by both
/// implementations. Without it the reference asks `git remote show origin` (three processes,
/// failing) at every commit it makes.
pub fn with_origin_head(repo: &Repo) {
    repo.git(&[
        "symbolic-ref",
        "refs/remotes/origin/HEAD",
        "refs/remotes/origin/main",
    ]);
}

/// The reference, or a failure that says how to install it (CI installs it first).
pub fn reference() -> ReferenceCli {
    ReferenceCli::require()
}

/// Run `args` (with `--json`) on both sides in their repositories, with `env` added, both at once.
pub fn run_both(
    kitty: &Side,
    refr: &Side,
    args: &[&str],
    env: &[(&str, &str)],
) -> (RunOutput, RunOutput) {
    let (k, r) = spawn_both(kitty, refr, args, env);
    (k.wait(), r.wait())
}

/// [`run_both`], started: wait for the two runs with `wait()` (several pairs may run at once).
pub fn spawn_both(
    kitty: &Side,
    refr: &Side,
    args: &[&str],
    env: &[(&str, &str)],
) -> (RunningKitty, RunningKitty) {
    let reference = reference();
    let canary = refr.home.reference_canary();
    assert!(canary.is_clean(), "reference canary:\n{canary}");
    // What kitty hands to the reference (input it leaves to it) runs the same reference.
    let stand_in = reference.for_programs(&kitty.home);
    let mut k = kitty
        .home
        .command()
        .env("SPEC_KITTY_REFERENCE", stand_in.to_str().unwrap())
        .current_dir(kitty.repo.path())
        .args(args)
        .arg("--json");
    let mut r = refr
        .home
        .reference_command(&reference)
        .current_dir(refr.repo.path())
        .args(args)
        .arg("--json");
    for (n, v) in env {
        k = k.env(*n, *v);
        r = r.env(*n, *v);
    }
    // At once: the two homes share nothing, and the reference takes the longer.
    (k.spawn(), r.spawn())
}

/// Replace what legitimately differs (roots, ids) with placeholders.
struct Norm {
    subs: Vec<(String, String)>,
}

impl Norm {
    fn new(side: &Side, doc: &Value) -> Self {
        let mut subs = vec![(side.home.path().display().to_string(), "<ROOT>".to_string())];
        let from_doc = doc
            .get("mission_id")
            .and_then(Value::as_str)
            .map(str::to_string);
        let from_repo = side.repo.mission_dirs().into_iter().filter_map(|d| {
            let meta: Value =
                serde_json::from_str(&std::fs::read_to_string(d.join("meta.json")).ok()?).ok()?;
            meta.get("mission_id")?.as_str().map(str::to_string)
        });
        for id in from_doc
            .into_iter()
            .chain(from_repo)
            .filter(|s| s.len() == 26)
        {
            if subs.iter().any(|(from, _)| *from == id) {
                continue;
            }
            subs.push((id.to_string(), "<MID>".into()));
            subs.push((id[..8].to_string(), "<MID8>".into()));
        }
        // Decision ids, in the ledger's order (each side mints its own).
        for dir in side.repo.mission_dirs() {
            let index =
                std::fs::read_to_string(dir.join("decisions/index.json")).unwrap_or_default();
            let entries = serde_json::from_str::<Value>(&index).unwrap_or(Value::Null);
            for (n, e) in entries["entries"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                if let Some(id) = e["decision_id"].as_str() {
                    // Before the mission id's prefix, which a decision id minted in the same
                    // millisecond shares.
                    subs.insert(1, (id.to_string(), format!("<DECISION{n}>")));
                }
            }
        }
        Self { subs }
    }

    fn text(&self, s: &str) -> String {
        let subbed = self
            .subs
            .iter()
            .fold(s.to_string(), |acc, (from, to)| acc.replace(from, to));
        static TIME: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
            regex::Regex::new(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)").unwrap()
        });
        TIME.replace_all(&subbed, "<TS>").into_owned()
    }

    fn value(&self, key: &str, v: &Value) -> Value {
        match v {
            _ if TIMESTAMP_KEYS.contains(&key) && v.is_string() => Value::String("<TS>".into()),
            _ if ID_KEYS.contains(&key) && (v.is_string() || v.is_number()) => {
                Value::String("<ID>".into())
            }
            Value::Array(_) if key == "all_directives" => Value::String("<CATALOG>".into()),
            // A sentence (a code such as `no_op_no_changes` in the same key is compared).
            Value::String(s)
                if PROSE_KEYS.contains(&key) && (s.contains(' ') || key == "error") =>
            {
                Value::String("<PROSE>".into())
            }
            // Commit ids differ with the commits' times.
            Value::String(s) if s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Value::String("<SHA>".into())
            }
            Value::String(s) => Value::String(self.text(s)),
            Value::Array(a) => Value::Array(a.iter().map(|x| self.value(key, x)).collect()),
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, x)| (self.text(k), self.value(k, x)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// What one side ended with.
#[derive(Debug, PartialEq)]
struct State {
    log: String,
    worktrees: String,
    files: BTreeMap<String, Value>,
    commits: String,
    head: String,
    head_files: String,
    status: String,
    branches: String,
    current: String,
}

/// A commit's first-parent history (subjects and files changed), read once per test process:
/// a commit never changes, and a snapshot is taken before and after every step.
fn history(repo: &Repo, tip: &str) -> String {
    static SEEN: std::sync::Mutex<BTreeMap<(PathBuf, String), String>> =
        std::sync::Mutex::new(BTreeMap::new());
    let key = (repo.path().to_path_buf(), tip.to_string());
    if let Some(h) = SEEN.lock().unwrap().get(&key) {
        return h.clone();
    }
    let h = git(
        repo,
        &[
            "log",
            "--first-parent",
            "--format=%s",
            "--name-status",
            tip,
            "--",
        ],
    );
    SEEN.lock().unwrap().insert(key, h.clone());
    h
}

fn git(repo: &Repo, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(repo.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_CEILING_DIRECTORIES", repo.path().parent().unwrap())
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn walk(dir: &Path, base: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.push(p.strip_prefix(base).unwrap().join(""));
            walk(&p, base, out);
        } else {
            out.push(p.strip_prefix(base).unwrap().to_path_buf());
        }
    }
}

fn state(side: &Side, norm: &Norm) -> State {
    let mut paths = Vec::new();
    walk(&side.repo.specs_dir(), side.repo.path(), &mut paths);
    // The mission directories of the coordination (and any other) work trees too.
    let worktrees = side.repo.path().join(".worktrees");
    for e in std::fs::read_dir(&worktrees)
        .into_iter()
        .flatten()
        .flatten()
    {
        walk(&e.path().join("kitty-specs"), side.repo.path(), &mut paths);
    }
    let mut files = BTreeMap::new();
    for rel in paths {
        let name = norm.text(&rel.display().to_string());
        let full = side.repo.path().join(&rel);
        let value = if full.is_dir() {
            Value::String("<dir>".into())
        } else if name.ends_with(".json") {
            match serde_json::from_str::<Value>(&std::fs::read_to_string(&full).unwrap()) {
                Ok(v) => norm.value("", &v),
                Err(_) => Value::String("<not JSON>".into()),
            }
        } else if name.ends_with(".jsonl") {
            let text = std::fs::read_to_string(&full).unwrap();
            Value::Array(
                text.lines()
                    .map(|l| norm.value("", &serde_json::from_str(l).unwrap()))
                    .collect(),
            )
        } else if name.ends_with("README.md")
            || ((name.ends_with("spec.md") || name.ends_with("plan.md"))
                && std::fs::read_to_string(&full).is_ok_and(|t| {
                    t.contains("[NEEDS CLARIFICATION")
                        || t.contains("[MISSION")
                        || t.contains("[FEATURE")
                        || t.contains("[DATE]")
                }))
        {
            // Each implementation's own scaffold (the "templates" difference); filled-in
            // content is compared.
            Value::String("<template>".into())
        } else if name.ends_with("analysis-report.md") {
            // Its frontmatter parsed: the reference writes issue_counts in a random order.
            let text = std::fs::read_to_string(&full).unwrap_or_default();
            let mut parts = text.splitn(3, "---\n");
            let (_, front, body) = (parts.next(), parts.next().unwrap_or(""), parts.next());
            let front: Value = serde_yaml_ng::from_str(front).unwrap_or(Value::Null);
            serde_json::json!({"front": norm.value("", &front), "body": body.map(|b| norm.text(b))})
        } else if name.contains("/tasks/WP") {
            // The frontmatter's branch_strategy is a sentence (see `prose`).
            let text = std::fs::read_to_string(&full).unwrap_or_default();
            Value::String(
                norm.text(
                    &text
                        .lines()
                        .map(|l| {
                            if l.starts_with("branch_strategy: ") {
                                "branch_strategy: <PROSE>"
                            } else if l.starts_with("base_commit: ") {
                                "base_commit: <ID>"
                            } else {
                                l
                            }
                        })
                        .collect::<Vec<_>>()
                        .join("\n"),
                ),
            )
        } else {
            Value::String(norm.text(&std::fs::read_to_string(&full).unwrap_or_default()))
        };
        files.insert(name, value);
    }
    // One `git status --branch` gives the checked-out branch and what is uncommitted.
    let porcelain = git(
        &side.repo,
        &["status", "--porcelain", "--branch", "--untracked-files=all"],
    );
    let (header, changes) = porcelain.split_once('\n').unwrap_or((&porcelain, ""));
    let current = header
        .strip_prefix("## ")
        .filter(|h| !h.starts_with("HEAD (no branch)"))
        .map(|h| h.split("...").next().unwrap_or(h).to_string())
        .unwrap_or_default();
    let status = changes
        .lines()
        .filter(|l| !REFERENCE_ONLY_FILES.iter().any(|f| l.ends_with(f)))
        .map(|l| norm.text(l))
        .collect::<Vec<_>>()
        .join("\n");
    // Every branch's commits (subjects and files, first parent first), every work tree (its
    // branch and what it has uncommitted).
    let tips = git(
        &side.repo,
        &[
            "for-each-ref",
            "--format=%(refname:short) %(objectname)",
            "refs/heads",
        ],
    );
    let branches = tips
        .lines()
        .filter_map(|l| l.rsplit_once(' ').map(|(b, _)| b))
        .collect::<Vec<_>>()
        .join("\n");
    let log = tips
        .lines()
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(b, tip)| {
            let l = history(&side.repo, tip);
            norm.text(&format!("== {b}\n{l}"))
        })
        .collect::<Vec<_>>()
        .join("\n");
    // The first work tree listed is the main one, whose status is already read above.
    let mut main_tree = true;
    let trees = git(&side.repo, &["worktree", "list", "--porcelain"])
        .lines()
        .filter(|l| !l.starts_with("HEAD "))
        .map(|l| {
            let wt = l.strip_prefix("worktree ").map(|p| {
                let output = if std::mem::take(&mut main_tree) {
                    changes.to_string()
                } else {
                    std::process::Command::new("git")
                        .args(["status", "--porcelain", "--untracked-files=all"])
                        .current_dir(p)
                        .output()
                        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                        .unwrap_or_default()
                };
                let status = output
                    .lines()
                    .filter(|s| !REFERENCE_ONLY_FILES.iter().any(|f| s.ends_with(f)))
                    .collect::<Vec<_>>()
                    .join("\n");
                format!("{l}\n{status}")
            });
            norm.text(&wt.unwrap_or_else(|| l.to_string()))
        })
        .collect::<Vec<_>>()
        .join("\n");
    // HEAD's subject, then the files it changed.
    let shown = git(&side.repo, &["show", "--name-only", "--format=%s", "HEAD"]);
    let (head, head_files) = shown.split_once('\n').unwrap_or((&shown, ""));
    State {
        log,
        worktrees: trees,
        files,
        commits: git(&side.repo, &["rev-list", "--count", "--all"]),
        head: norm.text(head),
        head_files: norm.text(head_files.trim_start_matches('\n')),
        status,
        branches: norm.text(&branches),
        current,
    }
}

/// Compare the two runs and the two repositories; panic with every difference and both runs.
#[track_caller]
pub fn assert_parity(kitty: &Side, refr: &Side, k: &RunOutput, r: &RunOutput) {
    compare(kitty, refr, k, r, true);
}

/// Compare the two runs' exit codes and documents only (see `failed_commit` in [`ALLOWED`]).
#[track_caller]
pub fn assert_document_parity(kitty: &Side, refr: &Side, k: &RunOutput, r: &RunOutput) {
    compare(kitty, refr, k, r, false);
}

#[track_caller]
fn compare(kitty: &Side, refr: &Side, k: &RunOutput, r: &RunOutput, with_state: bool) {
    let mut diffs = Vec::new();
    if k.code() != r.code() {
        diffs.push(format!(
            "exit code: kitty {:?}, reference {:?}",
            k.code(),
            r.code()
        ));
    }
    let kd = if k.stdout().trim_start().starts_with('[') {
        serde_json::from_str(k.stdout().trim()).expect("kitty's array document is JSON")
    } else {
        k.json().value().clone()
    };
    // The reference prints some handle errors on stderr (kitty: on stdout, as every document).
    // The reference prints move-task's "Note: N unrelated dirty file(s) ignored" line on stdout
    // before its document (see `stdout_only`).
    let r_stdout: String = r
        .stdout()
        .lines()
        .skip_while(|l| l.starts_with("Note: "))
        .collect::<Vec<_>>()
        .join("\n");
    let rd: Value = match serde_json::from_str(r_stdout.trim()) {
        Ok(v) => v,
        Err(e) => match serde_json::from_str(r.stderr().trim().lines().last().unwrap_or("")) {
            Ok(v) if r_stdout.trim().is_empty() => v,
            _ => panic!("the reference printed no JSON document ({e})\n{r}"),
        },
    };
    let kn = Norm::new(kitty, &kd);
    let rn = Norm::new(refr, &rd);
    if let (Value::Array(ka), Value::Array(ra)) = (&kd, &rd) {
        let (ka, ra) = (
            kn.value("", &Value::Array(ka.clone())),
            rn.value("", &Value::Array(ra.clone())),
        );
        if ka != ra {
            diffs.push(format!("document: kitty {ka}, reference {ra}"));
        }
    }
    let empty = serde_json::Map::new();
    let (kobj, robj) = (
        kd.as_object().unwrap_or(&empty),
        rd.as_object().unwrap_or(&empty),
    );
    for (key, rv) in robj {
        let Some(kv) = kobj.get(key) else {
            diffs.push(format!("key {key} missing in kitty's document"));
            continue;
        };
        if key == "spec_kitty_version" {
            continue;
        }
        let (kv, rv) = (kn.value(key, kv), rn.value(key, rv));
        if kv != rv {
            diffs.push(format!("key {key}: kitty {kv}, reference {rv}"));
        }
    }
    for key in kobj.keys() {
        if !robj.contains_key(key) && !KITTY_ONLY_KEYS.contains(&key.as_str()) {
            diffs.push(format!("key {key} only in kitty's document"));
        }
    }
    if r.code() != Some(0) && !kobj.get("error_code").is_some_and(Value::is_string) {
        diffs.push("kitty's error document has no error_code".into());
    }
    if !with_state {
        assert!(
            diffs.is_empty(),
            "kitty and the reference differ:\n  {}\n\n--- kitty ---\n{k}\n--- reference ---\n{r}",
            diffs.join("\n  ")
        );
        return;
    }
    diffs.extend(state_diffs(kitty, refr, &kn, &rn));
    assert!(
        diffs.is_empty(),
        "kitty and the reference differ:\n  {}\n\n--- kitty ---\n{k}\n--- reference ---\n{r}",
        diffs.join("\n  ")
    );
}

/// Compare the two runs' exit codes and the two repositories, for a command that prints text
/// (no document): files, commits, branches and work trees.
#[track_caller]
pub fn assert_state_parity(kitty: &Side, refr: &Side, k: &RunOutput, r: &RunOutput) {
    let mut diffs = Vec::new();
    if k.code() != r.code() {
        diffs.push(format!(
            "exit code: kitty {:?}, reference {:?}",
            k.code(),
            r.code()
        ));
    }
    let (kn, rn) = (
        Norm::new(kitty, &Value::Null),
        Norm::new(refr, &Value::Null),
    );
    diffs.extend(state_diffs(kitty, refr, &kn, &rn));
    assert!(
        diffs.is_empty(),
        "kitty and the reference differ:\n  {}\n\n--- kitty ---\n{k}\n--- reference ---\n{r}",
        diffs.join("\n  ")
    );
}

fn state_diffs(kitty: &Side, refr: &Side, kn: &Norm, rn: &Norm) -> Vec<String> {
    let mut diffs = Vec::new();
    let (ks, rs) = (state(kitty, kn), state(refr, rn));
    let fields: [(&str, &dyn std::fmt::Debug, &dyn std::fmt::Debug); 8] = [
        ("commits", &ks.commits, &rs.commits),
        ("branch logs", &ks.log, &rs.log),
        ("work trees", &ks.worktrees, &rs.worktrees),
        ("HEAD subject", &ks.head, &rs.head),
        ("HEAD files", &ks.head_files, &rs.head_files),
        ("git status", &ks.status, &rs.status),
        ("branches", &ks.branches, &rs.branches),
        ("checked-out branch", &ks.current, &rs.current),
    ];
    for (name, a, b) in fields {
        if format!("{a:?}") != format!("{b:?}") {
            diffs.push(format!("{name}: kitty {a:?}, reference {b:?}"));
        }
    }
    let names: BTreeSet<_> = ks.files.keys().chain(rs.files.keys()).collect();
    for n in names {
        match (ks.files.get(n), rs.files.get(n)) {
            (Some(a), Some(b)) if a == b => {}
            (a, b) => diffs.push(format!("file {n}: kitty {a:?}, reference {b:?}")),
        }
    }
    diffs
}
