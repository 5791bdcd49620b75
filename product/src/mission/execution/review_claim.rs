//! `agent action review WPxx --agent A`: a work package waiting for review claimed by its
//! reviewer (**interop**: the reference's claim — the `for_review → in_review` line with the
//! reviewer's actor and shell, its binding annotation, the status commit, the `Start WPxx review`
//! commit of the package's file on the coordination branch, the lane brought up to date with it,
//! the review lock — its refusals and the commands it prints after).
//!
//! The prompt file holds the facts the reference's holds (the package, its lane and branch, the
//! diff to review, the commands that record the verdict) in kitty's words. A re-review, another
//! agent's claim, a compound `--agent`, `--model`/`--profile`/`--invocation-id`, a lane that is
//! missing, dirty or would not merge cleanly, a single-branch mission are the reference's.

use std::path::Path;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use regex::Regex;
use serde_json::{Map, Value, json};

use super::claim::{Outcome, Request};
use super::place::{Place, Workspace, place};
use super::transition::{Surface, lines, rel};
use super::{ExecError, Found, status_lock};
use crate::env::Env;
use crate::mission::git::Repo;
use crate::mission::planning::commit::{Committed, commit_on};
use crate::mission::status::event::{Annotation, Transition};
use crate::mission::status::{Lane, log, reduce};

static WP: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)^(wp\d+)").unwrap());

/// `wp01`, `WP01-slug` → `WP01`.
pub fn normalize(wp: &str) -> String {
    WP.captures(wp.trim())
        .map_or_else(|| wp.trim().to_string(), |c| c[1].to_uppercase())
}

/// Claim the package for review.
pub fn review(
    env: &Env,
    cwd: &Path,
    req: &Request,
    now: &dyn Fn() -> DateTime<Utc>,
) -> Result<Outcome, ExecError> {
    if let Some(option) = req.delegated.first() {
        return Ok(Outcome::NeedsReference((*option).to_string()));
    }
    if req.agent.as_deref().is_some_and(|a| a.contains(':')) {
        return Ok(Outcome::NeedsReference(
            "a compound --agent (tool:model:profile)".into(),
        ));
    }
    let wp = req.wp.as_deref().map(normalize);
    let handle = super::infer::mission(cwd, req.mission.as_deref(), wp.as_deref())?;
    let t = match super::target(env, cwd, Some(&handle))? {
        Found::Target(t) => t,
        Found::NeedsReference(why) => return Ok(Outcome::NeedsReference(why)),
    };
    if t.status_dir == t.entry.dir {
        return Ok(Outcome::NeedsReference(
            "a review on a single-branch mission".into(),
        ));
    }
    let slug = t.entry.slug.clone();
    let fd = t.entry.dir.clone();
    let branch = t.repo.head_branch()?.unwrap_or_default();
    let target_branch = t
        .entry
        .meta
        .get("target_branch")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let banner = if target_branch.is_empty() || branch == target_branch {
        format!("Branch: {branch} (target for this mission)")
    } else {
        format!("Branch: on '{branch}', mission targets '{target_branch}'")
    };
    let surface = Surface::of(env, &t)?;
    let _lock = status_lock::hold(&t.repo.git_dir()?, &slug)?;
    let snap = reduce::reduce(&log::read(&surface.dir)?);
    let files = crate::mission::tasks::wp_files(&fd.join("tasks"));
    let wp = match &req.wp {
        Some(w) => normalize(w),
        None => {
            let mut ids: Vec<&String> = files.iter().map(|(id, _)| id).collect();
            ids.sort();
            match ids
                .into_iter()
                .find(|id| snap.lane_of(id) == Some(Lane::ForReview))
            {
                Some(id) => id.clone(),
                None => {
                    return Ok(Outcome::NeedsReference(
                        "a review with no work package waiting for review".into(),
                    ));
                }
            }
        }
    };
    let Some(wp_path) = files
        .iter()
        .find(|(id, _)| *id == wp)
        .map(|(_, p)| p.clone())
    else {
        return Ok(Outcome::refused(
            &banner,
            &[format!(
                "Error: Work package '{wp}' not found under kitty-specs/{slug}/tasks."
            )],
            "WP_NOT_FOUND",
            &fd,
        ));
    };
    let lane = snap.lane_of(&wp).unwrap_or(Lane::Planned);
    let move_first = format!(
        "Move it first: spec-kitty agent tasks move-task {wp} --to for_review --mission {slug}"
    );
    match lane {
        Lane::ForReview => {}
        Lane::InReview => {
            return Ok(Outcome::NeedsReference(
                "a package already claimed for review".into(),
            ));
        }
        Lane::InProgress => {
            return Ok(Outcome::refused(
                &banner,
                &[
                    format!("Error: {wp} is still being implemented, not claimed for review."),
                    "Only work packages in 'for_review' (or already review-claimed in_review) can start workflow review.".into(),
                    move_first,
                ],
                "WP_NOT_READY_FOR_REVIEW",
                &fd,
            ));
        }
        other => {
            return Ok(Outcome::refused(
                &banner,
                &[
                    format!("Error: {wp} is in lane '{}', not 'for_review'.", other.as_str()),
                    "Only work packages in 'for_review' (or already claimed for review) can start workflow review.".into(),
                    move_first,
                ],
                "WP_NOT_READY_FOR_REVIEW",
                &fd,
            ));
        }
    }
    let wp_text = std::fs::read_to_string(&wp_path).unwrap_or_default();
    if wp_text.contains("bulk_edit") {
        return Ok(Outcome::NeedsReference(
            "a bulk-edit work package (its occurrence gate)".into(),
        ));
    }
    let Some(agent) = req.agent.clone().filter(|a| !a.trim().is_empty()) else {
        return Ok(Outcome::refused(
            &banner,
            &[
                "Error: --agent parameter required when starting review.".into(),
                format!("  Usage: spec-kitty agent action review {wp} --agent <your-name>"),
                format!("  Example: spec-kitty agent action review {wp} --agent claude"),
                String::new(),
                "If you're using a generated agent command file, --agent is already included."
                    .into(),
                "This tracks WHO is reviewing the WP (prevents abandoned reviews).".into(),
            ],
            "AGENT_REQUIRED",
            &fd,
        ));
    };
    let ws = match place(&t.root, &fd, &slug, &wp) {
        Place::Lane(ws) if ws.path.join(".git").exists() => ws,
        _ => {
            return Ok(Outcome::NeedsReference(
                "a review without the package's lane worktree".into(),
            ));
        }
    };
    let coord_branch = surface.branch.clone();
    let lane_repo = Repo::at(&super::implement_lane::merge_env(env), &ws.path);
    if let Some(why) = lane_unready(&lane_repo, &ws, &coord_branch)? {
        return Ok(Outcome::NeedsReference(why));
    }

    // The claim: the transition and its binding annotation, one status commit.
    let sh = shell();
    let shell_pid = sh.pid;
    let actor = json!({"model": null, "profile": null, "role": "reviewer", "tool": agent});
    let policy = sh.policy(&agent);
    let mut delta = binding_delta("reviewer", Some(&sh));
    delta.insert("agent".into(), json!(agent));
    let tr = Transition {
        event_id: crate::ids::ulid(now()),
        mission_slug: slug.clone(),
        wp_id: wp.clone(),
        from_lane: Lane::ForReview,
        to_lane: Lane::InReview,
        at: crate::pyfmt::isoformat(now()),
        actor: actor.clone(),
        force: false,
        execution_mode: "worktree".into(),
        reason: Some("Started review via action command".into()),
        reason_source: None,
        review_ref: Some("action-review-claim".into()),
        evidence: None,
        review_result: None,
        policy_metadata: Some(policy),
        mission_id: t
            .entry
            .meta
            .get("mission_id")
            .and_then(Value::as_str)
            .map(str::to_string),
    };
    let annotation = Annotation {
        event_id: crate::ids::ulid(now()),
        wp_id: wp.clone(),
        at: crate::pyfmt::isoformat(now()),
        actor,
        delta,
    };
    surface.record(
        env,
        &lines(&tr, Some(&annotation)),
        Some(&format!("chore(spec-kitty): status transition {wp}")),
    )?;

    // The package's file on the coordination branch (a no-op once implement put it there).
    let start = format!("chore: Start {wp} review [{agent}]");
    let coord_top = surface.repo.top().to_path_buf();
    let copy = surface
        .dir
        .join("tasks")
        .join(wp_path.file_name().unwrap_or_default());
    if std::fs::read(&copy).ok().as_deref() != Some(wp_text.as_bytes()) {
        std::fs::create_dir_all(copy.parent().unwrap_or(&coord_top))
            .and_then(|()| std::fs::write(&copy, &wp_text))
            .map_err(|e| crate::mission::MissionError::read(&copy, e))?;
    }
    match commit_on(
        env,
        &surface.repo,
        &coord_branch,
        &[rel(&coord_top, &copy)],
        &start,
    )? {
        Committed::Commit(_) | Committed::Unchanged => {}
    }

    // The lane brought up to date with the coordination branch.
    super::implement_lane::sync_lane(&lane_repo, &coord_branch)?;

    // The review lock, and the directory the review's feedback goes in.
    let lock_path = crate::paths::review_lock(&ws.path);
    let lock = json!({
        "worktree_path": ws.path.display().to_string(),
        "wp_id": wp,
        "agent": agent,
        "started_at": crate::pyfmt::isoformat(now()),
        "pid": std::process::id(),
    });
    let stem = wp_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let review_dir = fd.join("tasks").join(&stem);
    let cycle = super::review_cycle::numbers(&review_dir).map_or(0, |n| n.len()) + 1;
    let feedback = review_dir.join(format!("review-feedback-{cycle}.md"));
    let written = std::fs::create_dir_all(lock_path.parent().unwrap_or(&ws.path))
        .and_then(|()| {
            std::fs::write(
                &lock_path,
                serde_json::to_string_pretty(&lock).unwrap_or_default(),
            )
        })
        .and_then(|()| std::fs::create_dir_all(&review_dir));
    written.map_err(|e| crate::mission::MissionError::read(&lock_path, e))?;

    let ahead = lane_repo
        .output(&[
            "rev-list",
            "--count",
            &format!("{coord_branch}..{}", ws.branch),
        ])
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<u64>()
                .unwrap_or(0)
        })
        .unwrap_or(0);
    let dependents = dependents(&fd, &snap, &wp);
    let lane_id = ws
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .and_then(|n| n.strip_prefix(&format!("{slug}-")).map(str::to_string))
        .unwrap_or_default();
    let sharing = lane_members(&fd, &lane_id);
    let facts = Facts {
        slug: &slug,
        wp: &wp,
        agent: &agent,
        root: &t.root,
        ws: &ws,
        lane_id: &lane_id,
        sharing: &sharing,
        coord_branch: &coord_branch,
        ahead,
        feedback: &feedback,
        dependents: &dependents,
        target: &branch,
    };
    let prompt =
        super::review_prompt::write(env, &facts, &t.entry.meta, &wp_path, &wp_text, now())?;
    let approve = format!(
        "spec-kitty agent tasks move-task {wp} --to approved --mission {slug} --note \"Review passed\""
    );
    let reject = format!(
        "spec-kitty agent tasks move-task {wp} --to planned --review-feedback-file {} --mission {slug}",
        feedback.display()
    );
    let mut human = vec![
        banner,
        format!(
            "\u{2713} Claimed {wp} for review (agent: {agent}, PID: {shell_pid}, target: {branch})"
        ),
    ];
    if !dependents.is_empty() {
        human.extend([
            String::new(),
            format!(
                "\u{26a0}\u{fe0f}  Dependency Alert: {} depend on {wp} (not yet done)",
                dependents.join(", ")
            ),
            "   If you request changes, notify those agents to rebase.".into(),
        ]);
    }
    human.extend([
        String::new(),
        format!("\u{1f4cd} Workspace: cd {}", ws.path.display()),
        format!(
            "   Lane workspace: {lane_id} (shared by {})",
            sharing.join(", ")
        ),
        format!(
            "\u{1f500} Branch: {} (based on {coord_branch}, {ahead} commits)",
            ws.branch
        ),
        format!(
            "   Review diff: git log {coord_branch}..{} --oneline",
            ws.branch
        ),
        String::new(),
        "\u{25b6}\u{25b6}\u{25b6} NEXT STEP: Read the full prompt file now:".into(),
        format!("    cat {}", prompt.display()),
        String::new(),
        "After review, run:".into(),
        format!("  \u{2705} {approve}"),
        format!("  \u{274c} {reject}"),
        "[review] Commits recorded:".into(),
        format!("  - {coord_branch}  {start}  [ok]"),
    ]);
    let doc = json!({
        "result": "success",
        "wp_id": wp,
        "mission_slug": slug,
        "agent": agent,
        "shell_pid": shell_pid,
        "lane": "in_review",
        "target_branch": branch,
        "workspace": ws.path,
        "lane_id": lane_id,
        "lane_wp_ids": sharing,
        "lane_branch": ws.branch,
        "base_branch": coord_branch,
        "commits_ahead": ahead,
        "dependents_not_done": dependents,
        "prompt_file": prompt,
        "review_feedback_file": feedback,
        "review_lock": lock_path,
        "commits": [{"branch": coord_branch, "message": start, "status": "ok"}],
        "next_commands": {"approve": approve, "request_changes": reject},
    });
    Ok(Outcome::Done {
        doc,
        human: human.join("\n"),
        code: 0,
        claimed: vec![tr],
        mission_dir: fd,
    })
}

/// What the prompt and the summary say.
pub struct Facts<'a> {
    /// The mission.
    pub slug: &'a str,
    /// The package.
    pub wp: &'a str,
    /// The reviewer.
    pub agent: &'a str,
    /// The primary checkout.
    pub root: &'a Path,
    /// The lane worktree.
    pub ws: &'a Workspace,
    /// Its lane id.
    pub lane_id: &'a str,
    /// The packages it holds.
    pub sharing: &'a [String],
    /// The coordination branch.
    pub coord_branch: &'a str,
    /// The lane's commits beyond it.
    pub ahead: u64,
    /// Where the review's feedback goes.
    pub feedback: &'a Path,
    /// Packages that depend on this one, not yet done.
    pub dependents: &'a [String],
    /// The branch checked out in the primary checkout.
    pub target: &'a str,
}

/// Why the lane is not ready to be brought up to date (dirty, mid-operation, a merge that would
/// conflict, a live review lock), if it is not.
fn lane_unready(lane: &Repo, ws: &Workspace, coord: &str) -> Result<Option<String>, ExecError> {
    let status = lane.status_porcelain()?;
    let lock_dir = Path::new(crate::paths::REVIEW_LOCK)
        .parent()
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_default();
    if status.lines().any(|l| {
        !l.trim().is_empty()
            && l.get(3..).map(|p| p.trim_end_matches('/')) != Some(lock_dir.as_str())
    }) {
        return Ok(Some("a lane worktree with uncommitted changes".into()));
    }
    let Some(head) = lane.head_branch()? else {
        return Ok(Some("a lane worktree on a detached HEAD".into()));
    };
    if head != ws.branch {
        return Ok(Some(format!("a lane worktree on '{head}'")));
    }
    let clean = lane.output(&["merge-tree", "--write-tree", "--no-messages", &head, coord])?;
    if !clean.status.success() {
        return Ok(Some(
            "a lane that would not merge its coordination branch cleanly".into(),
        ));
    }
    let lock = crate::paths::review_lock(&ws.path);
    if let Some(pid) = std::fs::read_to_string(&lock)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v["pid"].as_u64())
        && Path::new(&format!("/proc/{pid}")).exists()
    {
        return Ok(Some("a lane with a live review lock".into()));
    }
    Ok(None)
}

/// The packages that depend on `wp` and are in planned, in progress or waiting for review.
fn dependents(fd: &Path, snap: &reduce::Snapshot, wp: &str) -> Vec<String> {
    let mut out: Vec<String> = crate::mission::tasks::wp_files(&fd.join("tasks"))
        .into_iter()
        .filter(|(id, path)| {
            id != wp
                && crate::mission::tasks::frontmatter::WpFile::read(path)
                    .is_ok_and(|f| f.get_list("dependencies").iter().any(|d| d == wp))
                && matches!(
                    snap.lane_of(id).unwrap_or(Lane::Planned),
                    Lane::Planned | Lane::InProgress | Lane::ForReview
                )
        })
        .map(|(id, _)| id)
        .collect();
    out.sort();
    out
}

/// The packages of lane `lane_id` in lanes.json.
fn lane_members(fd: &Path, lane_id: &str) -> Vec<String> {
    std::fs::read_to_string(fd.join("lanes.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| {
            v["lanes"].as_array()?.iter().find_map(|l| {
                (l["lane_id"].as_str() == Some(lane_id)).then(|| {
                    l["wp_ids"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
            })
        })
        .unwrap_or_default()
}

/// The shell that runs kitty (the claimant's): its pid and its start time.
#[derive(Debug, Clone)]
pub struct Shell {
    /// The parent process's id.
    pub pid: u32,
    /// Its start time in seconds since the epoch (Python's `str(float)`, as psutil gives it;
    /// none where it cannot be read).
    pub started: Option<String>,
}

impl Shell {
    /// The claim's `policy_metadata`: who, and the shell's pid and start time.
    pub fn policy(&self, agent: &str) -> Value {
        let mut p = json!({"agent": agent, "shell_pid": self.pid});
        if let Some(s) = &self.started {
            p["shell_pid_created_at"] = json!(s);
        }
        p
    }
}

/// The shell running kitty.
pub fn shell() -> Shell {
    #[cfg(unix)]
    let pid = std::os::unix::process::parent_id();
    #[cfg(not(unix))]
    let pid = 0;
    Shell {
        pid,
        started: started(pid),
    }
}

/// A claim's binding annotation: the explicit absence of a resolved profile, model and
/// provider, the `role`, and the shell when one is recorded.
pub fn binding_delta(role: &str, shell: Option<&Shell>) -> Map<String, Value> {
    let mut delta = Map::new();
    delta.insert("agent_profile".into(), "__resolved_profile_absent__".into());
    delta.insert(
        "agent_profile_version".into(),
        "__resolved_profile_version_absent__".into(),
    );
    delta.insert("model".into(), "__resolved_model_absent__".into());
    delta.insert("provider".into(), "__resolved_provider_absent__".into());
    delta.insert("role".into(), role.into());
    if let Some(sh) = shell {
        delta.insert("shell_pid".into(), json!(sh.pid));
        if let Some(s) = &sh.started {
            delta.insert("shell_pid_created_at".into(), json!(s));
        }
    }
    delta
}

fn started(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let boot = std::fs::read_to_string("/proc/stat").ok()?;
    start_time(&stat, &boot, 100)
}

/// A process's start time from its `/proc/<pid>/stat` and the system's `/proc/stat` (`btime`),
/// with `ticks` clock ticks a second, as Python prints the float.
fn start_time(stat: &str, boot: &str, ticks: u64) -> Option<String> {
    let after = stat.rsplit_once(')')?.1;
    let start: u64 = after.split_whitespace().nth(19)?.parse().ok()?;
    let btime: u64 = boot
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    let secs = btime as f64 + start as f64 / ticks as f64;
    let text = format!("{secs}");
    Some(if text.contains('.') {
        text
    } else {
        format!("{text}.0")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_package_ids_are_read_as_the_reference_reads_them() {
        assert_eq!(normalize("wp01"), "WP01");
        assert_eq!(normalize("WP01-greeting"), "WP01");
        assert_eq!(normalize(" wp12-foo "), "WP12");
        assert_eq!(normalize("other"), "other");
    }

    #[test]
    fn a_start_time_is_boot_time_plus_ticks_printed_as_python_prints_a_float() {
        let stat =
            "123 (my (odd) shell) S 1 123 123 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 4213 1000 100";
        assert_eq!(
            start_time(stat, "cpu 1\nbtime 1796442000\n", 100).as_deref(),
            Some("1796442042.13")
        );
        let whole = stat.replace(" 4213 ", " 4200 ");
        assert_eq!(
            start_time(&whole, "btime 1796442000\n", 100).as_deref(),
            Some("1796442042.0")
        );
        assert_eq!(start_time(stat, "no boot time\n", 100), None);
        assert_eq!(start_time("garbage", "btime 1\n", 100), None);
    }
}
