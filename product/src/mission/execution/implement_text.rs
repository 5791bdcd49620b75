//! What `agent action implement` prints and the prompt file it points at (**interop**: the
//! reference's lines and their order, the prompt's path under the temporary directory; the
//! prompt's body states the same facts in kitty's words).

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sha2::Digest;

use super::ExecError;
use super::implement_lane::{Fresh, test_db_name};
use super::place::Workspace;
use crate::env::{Env, vars};

/// The facts of one claim.
pub struct Summary<'a> {
    /// The primary checkout.
    pub root: &'a Path,
    /// The mission.
    pub slug: &'a str,
    /// The package.
    pub wp: &'a str,
    /// Who implements.
    pub agent: &'a str,
    /// The claimant's shell.
    pub shell_pid: u32,
    /// The branch checked out in the primary (the mission's target).
    pub target: &'a str,
    /// The lane worktree.
    pub ws: &'a Workspace,
    /// `lane-a`.
    pub lane_id: &'a str,
    /// The lane's packages.
    pub sharing: &'a [String],
    /// The coordination branch.
    pub coord: &'a str,
    /// The lane, when this run made it.
    pub fresh: Option<&'a Fresh>,
    /// The baseline's failure count.
    pub baseline_failed: i64,
    /// The package's subtasks.
    pub subtasks: &'a [String],
    /// The `Start` commit's message.
    pub start: &'a str,
}

impl Summary<'_> {
    fn subtask_ids(&self) -> String {
        if self.subtasks.is_empty() {
            "<subtask-ids>".into()
        } else {
            self.subtasks.join(" ")
        }
    }

    fn commands(&self) -> [String; 3] {
        let (wp, slug) = (self.wp, self.slug);
        [
            format!(
                "git status && git add <your-files> && git commit -m \"feat({wp}): <description>\""
            ),
            format!(
                "spec-kitty agent tasks mark-status {} --status done --mission {slug}",
                self.subtask_ids()
            ),
            format!(
                "spec-kitty agent tasks move-task {wp} --to for_review --mission {slug} --note \"Ready for review\""
            ),
        ]
    }
}

/// `<tmp>/spec-kitty-prompts/<16 hex of the checkout path's sha256>/`.
pub fn prompt_dir(env: &Env, root: &Path) -> PathBuf {
    let tmp = env
        .non_empty(vars::TMPDIR)
        .map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    let real = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let digest = hex::encode(sha2::Sha256::digest(real.to_string_lossy().as_bytes()));
    tmp.join("spec-kitty-prompts").join(&digest[..16])
}

/// Write the prompt (overwriting the last one for this package); returns its path.
pub fn write_prompt(
    env: &Env,
    s: &Summary<'_>,
    wp_path: &Path,
    wp_text: &str,
) -> Result<PathBuf, ExecError> {
    let dir = prompt_dir(env, s.root);
    let path = dir.join(format!("spec-kitty-implement-{}-{}.md", s.slug, s.wp));
    let rule = "=".repeat(80);
    let [commit, mark, review] = s.commands();
    let text = [
        rule.clone(),
        format!("IMPLEMENT: {}", s.wp),
        rule.clone(),
        String::new(),
        format!("Source: {}", wp_path.display()),
        String::new(),
        format!("Workspace: {}", s.ws.path.display()),
        format!(
            "Workspace contract: lane {} shared by {}",
            s.lane_id,
            s.sharing.join(", ")
        ),
        format!(
            "Lane branch: {} (based on {}; the target is {})",
            s.ws.branch, s.coord, s.target
        ),
        String::new(),
        format!(
            "You are assigned {} alone: change the status and subtasks of {} only, and ignore commits and status changes other agents make.",
            s.wp, s.wp
        ),
        String::new(),
        "When the implementation is complete and tested, from the workspace:".into(),
        format!("  1. {commit}"),
        format!("  2. {mark}"),
        format!("  3. {review}"),
        "     (move-task refuses while the workspace has uncommitted changes)".into(),
        "Blocked:".into(),
        format!(
            "  spec-kitty agent tasks add-history {} --mission {} --note \"Blocked: <reason>\"",
            s.wp, s.slug
        ),
        String::new(),
        format!(
            "The mission's spec, plan and tasks are in {}/kitty-specs/{}/ (the primary checkout); the status lives on {}.",
            s.root.display(),
            s.slug,
            s.coord
        ),
        String::new(),
        rule.clone(),
        "WORK PACKAGE PROMPT BEGINS".into(),
        rule.clone(),
        String::new(),
        wp_text.trim_end().to_string(),
        String::new(),
        rule.clone(),
        "WORK PACKAGE PROMPT ENDS".into(),
        rule,
    ]
    .join("\n");
    std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&path, text))
        .map_err(|e| crate::mission::MissionError::read(&path, e))?;
    Ok(path)
}

/// The reference's lines, and kitty's document of the same facts.
pub fn report(banner: &str, s: &Summary<'_>, prompt: &Path) -> (String, Value) {
    let (wp, slug) = (s.wp, s.slug);
    let ws = s.ws.path.display().to_string();
    let mut human = vec![banner.to_string()];
    if let Some(f) = s.fresh {
        let rel = format!(".worktrees/{slug}-{}", s.lane_id);
        human.extend([
            format!("Creating workspace for {wp}..."),
            String::new(),
            format!(
                "\u{2713} Planning artifacts committed to coordination branch {}",
                s.coord
            ),
        ]);
        if f.vcs_locked {
            human.push("\u{2192} VCS locked to git in meta.json".into());
        }
        human.extend([
            format!("Implement {wp}"),
            format!("\u{251c}\u{2500}\u{2500} \u{25cf} Detect feature context (Feature: {slug})"),
            format!(
                "\u{251c}\u{2500}\u{2500} \u{25cf} Validate planning state (Lane: {})",
                s.lane_id
            ),
            format!(
                "\u{2514}\u{2500}\u{2500} \u{25cf} Resolve execution workspace (Lane {}: {rel})",
                s.lane_id
            ),
            format!("\u{2192} Mission branch: {}", s.coord),
            format!("\u{2192} Lane branch: {}", s.ws.branch),
            format!("\u{2192} {wp} moved to 'doing'"),
            String::new(),
            "\u{2713} Lane worktree ready".into(),
            String::new(),
            "=".repeat(72),
            "CRITICAL: Change to the lane worktree before editing files".into(),
            "=".repeat(72),
            String::new(),
            format!("  cd {ws}"),
            String::new(),
            "All file edits, writes, and commits MUST happen in this directory.".into(),
            "Writing to the main repository instead of the lane worktree is a critical error."
                .into(),
            String::new(),
            "Lane-specific test environment (FR-006):".into(),
            format!(
                "  export SPEC_KITTY_TEST_DB_NAME={}",
                test_db_name(slug, s.lane_id)
            ),
            "Two parallel SaaS / Django lanes will collide on a single shared test DB unless these are exported in the lane's test process.".into(),
        ]);
    }
    let [commit, mark, review] = s.commands();
    human.extend([
        format!(
            "\u{2713} Claimed {wp} (agent: {}, PID: {}, target: {})",
            s.agent, s.shell_pid, s.target
        ),
        format!(
            "[dim]Baseline: {} pre-existing test failure(s) captured[/dim]",
            s.baseline_failed
        ),
        String::new(),
        format!("\u{1f4cd} Workspace: cd {ws}"),
        format!(
            "   Lane workspace: {} (shared by {})",
            s.lane_id,
            s.sharing.join(", ")
        ),
        String::new(),
        "\u{25b6}\u{25b6}\u{25b6} NEXT STEP: Read the full prompt file now:".into(),
        format!("    cat {}", prompt.display()),
        String::new(),
        "After implementation, run:".into(),
        format!("  1. {commit}"),
        format!("  2. {mark}"),
        format!("  3. {review}"),
        "     (Pre-flight check will verify no uncommitted changes)".into(),
        "[implement] Commits recorded:".into(),
        format!("  - {}  {}  [ok]", s.coord, s.start),
    ]);
    let doc = json!({
        "result": "success",
        "wp_id": wp,
        "mission_slug": slug,
        "agent": s.agent,
        "shell_pid": s.shell_pid,
        "lane": "in_progress",
        "target_branch": s.target,
        "workspace": s.ws.path,
        "workspace_created": s.fresh.is_some(),
        "lane_id": s.lane_id,
        "lane_wp_ids": s.sharing,
        "lane_branch": s.ws.branch,
        "base_branch": s.coord,
        "baseline_failures": s.baseline_failed,
        "test_env": {"SPEC_KITTY_TEST_DB_NAME": test_db_name(slug, s.lane_id)},
        "prompt_file": prompt,
        "commits": [{"branch": s.coord, "message": s.start, "status": "ok"}],
        "next_commands": {"commit": commit, "mark_subtasks": mark, "for_review": review},
    });
    (human.join("\n"), doc)
}
