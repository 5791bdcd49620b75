//! The merge's phases, in the reference's order (**interop**: its lines, its commits, its
//! `state.json` and lock, its done transitions, its projection of the board onto the target,
//! its clean-up).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::execute::Stop;
use super::forecast::Plan;
use super::gates;
use super::integrate::{self, Scratch, blob, git_ok};
use crate::mission::MissionError;
use crate::mission::git::Repo;
use crate::mission::planning::sync_events::Lifecycle;
use crate::mission::status::event::Transition;
use crate::mission::status::{Lane, append, log, materialize, reduce};

/// `.kittify/runtime/merge/<mission_id>/state.json`.
pub(super) fn state_path(root: &Path, mission_id: &str) -> PathBuf {
    root.join(".kittify/runtime/merge")
        .join(mission_id)
        .join("state.json")
}

/// The reference's global merge lock, held while the merge runs.
#[derive(Debug)]
pub(super) struct Lock(PathBuf);

impl Lock {
    /// Take the lock, or say who holds it.
    pub fn take(root: &Path, now: DateTime<Utc>) -> Result<Self, String> {
        let path = root.join(".kittify/runtime/merge/__global_merge__/lock");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path);
        match file {
            Ok(mut f) => {
                use std::io::Write;
                let _ = f.write_all(crate::pyfmt::isoformat(now).as_bytes());
                Ok(Self(path))
            }
            Err(_) => Err(format!(
                "Merge lock already held for '__global_merge__' (lock file: {}). Another merge operation may be running. If not, remove the lock file manually: spec-kitty merge --abort",
                path.display()
            )),
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Whether the mission changes a Python file the target already has while Python tests exist
/// (the reference then analyses removed symbols against the tests: kitty hands the merge over).
pub(super) fn python_changed(
    repo: &Repo,
    target: &str,
    mission: &str,
) -> Result<bool, MissionError> {
    let changed = git_ok(
        repo,
        &["diff", "--name-only", target, mission, "--", "*.py"],
    )?;
    let existing = changed
        .lines()
        .filter(|p| !p.starts_with("tests/"))
        .any(|p| blob(repo, &format!("{target}:{p}")).is_ok_and(|b| b.is_some()));
    if !existing {
        return Ok(false);
    }
    for rev in [target, mission] {
        let tests = git_ok(repo, &["ls-tree", "-r", "--name-only", rev, "--", "tests/"])?;
        if tests.lines().any(|p| p.ends_with(".py")) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `line` word-wrapped as Rich prints it on a console `width` columns wide.
pub(super) fn wrap(line: &str, width: usize) -> String {
    let width = width as i64;
    let mut words: Vec<&str> = Vec::new();
    let mut start = 0;
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        while i < b.len() && b[i] != b' ' {
            i += 1;
        }
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        words.push(&line[start..i]);
        start = i;
    }
    let mut lines: Vec<String> = vec![String::new()];
    let mut pos: i64 = 0;
    for w in words {
        let len = w.trim_end().chars().count() as i64;
        let cur = lines.last_mut().expect("one line");
        if width - pos >= len || cur.is_empty() {
            cur.push_str(w);
            pos += w.chars().count() as i64;
        } else {
            lines.push(w.to_string());
            pos = w.chars().count() as i64;
        }
    }
    lines
        .into_iter()
        .map(|mut l| {
            while l.chars().count() as i64 > width && l.ends_with(' ') {
                l.pop();
            }
            l
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A merge under way.
pub(super) struct Run<'a> {
    plan: &'a Plan,
    repo: Repo,
    coord: Repo,
    mission: String,
    mission_id: String,
    now: &'a dyn Fn() -> DateTime<Utc>,
    width: usize,
    state: Map<String, Value>,
    baseline: String,
    /// The lines printed, in order.
    pub lines: Vec<String>,
    /// The lifecycle events to queue.
    pub events: Vec<Lifecycle>,
}

impl<'a> Run<'a> {
    pub fn new(
        plan: &'a Plan,
        repo: Repo,
        coord: Repo,
        mission: String,
        mission_id: String,
        now: &'a dyn Fn() -> DateTime<Utc>,
    ) -> Self {
        let width = repo
            .env()
            .get("COLUMNS")
            .and_then(|c| c.trim().parse().ok())
            .filter(|w| *w > 0)
            .unwrap_or(80);
        Self {
            plan,
            repo,
            coord,
            mission,
            mission_id,
            now,
            width,
            state: Map::new(),
            baseline: String::new(),
            lines: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Print `line` as the reference's console does.
    pub fn say(&mut self, line: &str) {
        for l in line.split('\n') {
            self.lines.push(wrap(l, self.width));
        }
    }

    fn save_state(&mut self) -> Result<(), MissionError> {
        self.state.insert(
            "updated_at".into(),
            json!(crate::pyfmt::isoformat((self.now)())),
        );
        let path = state_path(&self.plan.root, &self.mission_id);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| MissionError::io(dir, e))?;
        }
        let text = crate::pyfmt::to_python_json_pretty(&self.state).unwrap_or_default();
        crate::mission::planning::write_atomic(&path, text.as_bytes())
    }

    /// Every phase, in order.
    pub fn all(&mut self) -> Result<(), Stop> {
        let plan = self.plan;
        let lane_ids: Vec<String> = plan
            .lanes
            .iter()
            .map(|l| l.lane_id.as_str().unwrap_or_default().to_string())
            .collect();
        self.say(&format!("Lane-based merge for {}", plan.slug));
        self.say(&format!("  Mission branch: {}", self.mission));
        self.say(&format!("  Lanes: {}", lane_ids.join(", ")));
        for gate in gates::gates(plan) {
            self.say(&gate.line());
        }
        let started = crate::pyfmt::isoformat((self.now)());
        self.state = json!({
            "mission_id": self.mission_id,
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
        .unwrap_or_default();
        self.save_state()?;
        for id in &lane_ids {
            self.lane(id)?;
        }
        self.bake()?;
        self.say("  Recording merged work packages as done...");
        for wp in &plan.wp_ids {
            self.done(wp)?;
        }
        self.say(&format!("  Merging mission branch into {}...", plan.target));
        self.squash()?;
        self.bookkeeping()?;
        self.say("  Syncing dossier state for the merged mission...");
        self.say("  Running stale-assertion check...");
        self.clean_up(&lane_ids)?;
        let _ = std::fs::remove_file(state_path(&plan.root, &self.mission_id));
        self.say("\nStale assertion findings:\n  No likely-stale assertions detected.");
        self.say("\nNext: Run /spec-kitty-mission-review to audit the merged mission for spec\u{2192}code fidelity, drift, risks, and security.");
        self.say(&format!(
            "Then, while context is fresh, review the retrospective that was captured at terminus:\n  spec-kitty retrospect summary \u{2014} cross-mission view\n  spec-kitty agent retrospect synthesize --mission {} \u{2014} apply staged proposals (dry-run; add --apply to mutate)",
            plan.slug
        ));
        self.closing_events()?;
        Ok(())
    }

    /// One lane into the mission branch.
    fn lane(&mut self, id: &str) -> Result<(), Stop> {
        let branch = format!("{}-{id}", self.mission);
        if integrate::integrated(&self.repo, &branch, &self.mission)? {
            self.say(&format!(
                "  Skipping {id} (already integrated into {})",
                self.mission
            ));
            return Ok(());
        }
        self.say(&format!("  Checking and merging {id}..."));
        let mut stale = integrate::stale(&self.repo, &branch, &self.mission)?;
        let worktree = self
            .plan
            .root
            .join(".worktrees")
            .join(format!("{}-{id}", self.plan.slug));
        if !stale.is_empty() && worktree.is_dir() {
            let wt = Repo::at(self.repo.env(), &worktree);
            if integrate::auto_rebase(&wt, &self.mission, id, &branch)?.is_ok() {
                stale = integrate::stale(&self.repo, &branch, &self.mission)?;
            }
        }
        if !stale.is_empty() {
            return Err(Stop::Failed(format!(
                "  \u{2717} {id}: {}",
                integrate::stale_error(id, &self.mission, &stale)
            )));
        }
        if let Err(why) = integrate::merge_into(&self.repo, &self.coord, &branch, &self.mission)? {
            return Err(Stop::Failed(format!("  \u{2717} {id}: {why}")));
        }
        self.say(&format!("  \u{2713} {id} \u{2192} {}", self.mission));
        Ok(())
    }

    fn coord_meta(&self) -> PathBuf {
        self.plan.status_dir.join("meta.json")
    }

    /// The mission's number, committed on the mission branch.
    fn bake(&mut self) -> Result<(), Stop> {
        let Some(n) = self.plan.would_assign else {
            return Ok(());
        };
        let path = self.coord_meta();
        let mut meta = read_map(&path)?;
        if meta.get("mission_number").and_then(Value::as_i64) == Some(n)
            && meta.get("mission_number").is_some_and(Value::is_i64)
        {
            self.state
                .insert("mission_number_baked".into(), json!(true));
            self.save_state()?;
            return Ok(());
        }
        meta.insert("mission_number".into(), json!(n));
        write_map(&path, &meta)?;
        let rel = rel(self.coord.top(), &path);
        let slug = &self.plan.slug;
        self.coord.commit_paths_with(
            &[&rel],
            &format!("chore({slug}): assign mission_number={n}"),
            None,
        )?;
        self.say(&format!("Assigned mission_number={n} to mission {slug}"));
        self.state
            .insert("mission_number_baked".into(), json!(true));
        self.save_state()?;
        Ok(())
    }

    /// `wp`'s approved→done transition on the coordination branch.
    fn done(&mut self, wp: &str) -> Result<(), Stop> {
        let snap = &self.plan.snapshot;
        if snap.lane_of(wp) != Some(Lane::Approved) {
            return Ok(());
        }
        self.state.insert("current_wp".into(), json!(wp));
        self.save_state()?;
        let state = snap.work_packages.get(wp);
        let slot_text = |v: Option<&Value>, k: &str| {
            v.and_then(|r| r.get(k))
                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                .unwrap_or_default()
        };
        let review = state.and_then(|s| s.slot("review")).filter(|r| {
            ["at", "actor", "wp_id", "reason"]
                .iter()
                .all(|k| !slot_text(Some(r), k).is_empty())
        });
        let (reference, reviewer) = match review {
            Some(r) => (format!("snapshot-review:{wp}"), slot_text(Some(r), "actor")),
            None => (
                format!("lane-approved:{wp}"),
                state
                    .and_then(|s| s.slot("agent"))
                    .and_then(Value::as_str)
                    .filter(|a| !a.is_empty())
                    .unwrap_or("unknown")
                    .to_string(),
            ),
        };
        let at = (self.now)();
        let t = Transition {
            event_id: crate::ids::ulid(at),
            mission_slug: self.plan.slug.clone(),
            wp_id: wp.into(),
            from_lane: Lane::Approved,
            to_lane: Lane::Done,
            at: crate::pyfmt::isoformat(at),
            actor: json!("merge"),
            force: false,
            execution_mode: "worktree".into(),
            reason: Some(format!("Merged {wp} into {}", self.plan.target)),
            reason_source: None,
            review_ref: None,
            evidence: Some(
                json!({"review": {"reference": reference, "reviewer": reviewer, "verdict": "approved"}}),
            ),
            review_result: None,
            policy_metadata: Some(
                json!({"merge_phase": "lane_integrated", "target_branch": self.plan.target}),
            ),
            mission_id: Some(self.mission_id.clone()),
        };
        let dir = &self.plan.status_dir;
        append::append_lines(dir, &append::line(&t)).map_err(status_error)?;
        materialize::materialize_annotated(dir).map_err(status_error)?;
        let top = self.coord.top();
        let files = [
            rel(top, &dir.join(log::FILE)),
            rel(top, &dir.join(materialize::FILE)),
        ];
        self.coord.commit_paths_forced(
            &[&files[0], &files[1]],
            &format!("chore(spec-kitty): status transition {wp}"),
        )?;
        self.events.push((
            "WPStatusChanged",
            ("WorkPackage", wp.to_string()),
            crate::mission::execution::transition::status_changed_payload(&t),
        ));
        let done = self
            .state
            .entry("completed_wps")
            .or_insert_with(|| json!([]));
        if let Some(a) = done.as_array_mut() {
            a.push(json!(wp));
        }
        self.state.insert("current_wp".into(), Value::Null);
        self.save_state()?;
        Ok(())
    }

    /// The mission branch squashed into the target, the primary checkout following it.
    fn squash(&mut self) -> Result<(), Stop> {
        let (target, mission) = (self.plan.target.clone(), self.mission.clone());
        self.baseline = git_ok(&self.repo, &["rev-parse", &target])?;
        let new = {
            let scratch = Scratch::add(&self.repo, &target)?;
            let activation = super::drivers::Activation::start(&self.repo)?;
            let merged = scratch
                .repo
                .output(&["merge", "--squash", "-X", "theirs", &mission])?;
            let staged = scratch.repo.output(&["diff", "--cached", "--quiet"])?;
            let result = if !merged.status.success() {
                Err(format!(
                    "Squash merge of {mission} into {target} failed: {}",
                    integrate::said(&merged)
                ))
            } else if staged.status.success() {
                Err(format!(
                    "Squash merge of {mission} into {target} produced no changes; target may already contain this tree. Retry with merge resume if recovering an interrupted merge."
                ))
            } else {
                let message = format!("feat({mission}): squash merge of mission");
                let out = scratch.repo.output(&[
                    "-c",
                    "commit.gpgsign=false",
                    "commit",
                    "--quiet",
                    "-m",
                    &message,
                ])?;
                if out.status.success() {
                    Ok(git_ok(&scratch.repo, &["rev-parse", "HEAD"])?)
                } else {
                    Err(format!(
                        "Squash merge of {mission} into {target} failed: {}",
                        integrate::said(&out)
                    ))
                }
            };
            activation.finish();
            result.map_err(Stop::Failed)?
        };
        let baseline = self.baseline.clone();
        integrate::advance(&self.repo, &self.repo, &target, &baseline, &new)?
            .map_err(|why| Stop::Failed(format!("Error: {why}")))?;
        let _ = self.repo.output(&["update-index", "-q", "--refresh"]);
        self.say(&format!("\n\u{2713} {mission} \u{2192} {target}"));
        self.say(&format!("  Commit: {}", &new[..7.min(new.len())]));
        Ok(())
    }

    /// The baseline, the board projected from the coordination branch, the status phase, and
    /// their commit on the target; then the target's board checked.
    fn bookkeeping(&mut self) -> Result<(), Stop> {
        let plan = self.plan;
        let dir = &plan.dir;
        let meta_path = dir.join("meta.json");
        let mut meta = read_map(&meta_path)?;
        if meta
            .get("baseline_merge_commit")
            .and_then(Value::as_str)
            .is_none_or(|b| b.trim().is_empty())
        {
            meta.insert("baseline_merge_commit".into(), json!(self.baseline));
        }
        // The board: the coordination log and the target's, united; status.json from its
        // transitions alone.
        let read = |p: PathBuf| std::fs::read_to_string(p).unwrap_or_default();
        let coord_log = read(plan.status_dir.join(log::FILE));
        let target_log = read(dir.join(log::FILE));
        let names = [Path::new("coord"), Path::new("target"), Path::new("none")];
        let union =
            crate::mission::merge_drivers::merge_event_logs([&coord_log, &target_log, ""], names)
                .map_err(|e| Stop::Failed(format!("Error: {e}")))?;
        crate::mission::planning::write_atomic(&dir.join(log::FILE), union.as_bytes())?;
        let mut parsed = log::parse(&union).map_err(status_error)?;
        parsed.annotations.clear();
        let doc = materialize::document_without_identity(&reduce::reduce(&parsed));
        crate::mission::planning::write_atomic(
            &dir.join(materialize::FILE),
            materialize::render(&doc).as_bytes(),
        )?;
        let mut files = vec![
            rel(&plan.root, &dir.join(log::FILE)),
            rel(&plan.root, &dir.join(materialize::FILE)),
            rel(&plan.root, &meta_path),
        ];
        for name in ["acceptance-matrix.json", "issue-matrix.json"] {
            let relp = rel(&plan.root, &dir.join(name));
            if let Some(before) = blob(&self.repo, &format!("{}:{relp}", self.baseline))?
                && std::fs::read(dir.join(name)).ok().as_deref() != Some(before.as_slice())
            {
                crate::mission::planning::write_atomic(&dir.join(name), &before)?;
                files.push(relp);
            }
        }
        let phase = meta.get("status_phase").map(|v| match v {
            Value::String(s) => s.trim().to_string(),
            other => other.to_string(),
        });
        if phase
            .and_then(|p| p.parse::<i64>().ok())
            .is_none_or(|p| p < 1)
        {
            meta.insert("status_phase".into(), json!("1"));
        }
        write_map(&meta_path, &meta)?;
        let mut status = vec!["status", "--porcelain", "--"];
        status.extend(files.iter().map(String::as_str));
        if git_ok(&self.repo, &status)?.is_empty() {
            self.say("  No post-merge bookkeeping changes to commit; continuing cleanup.");
        } else {
            crate::mission::safe_commit::bookkeeping(
                &self.repo,
                &files,
                &plan.target,
                &format!(
                    "chore({}): record done transitions for merged WPs",
                    plan.slug
                ),
                (self.now)(),
            )
            .map_err(|e| Stop::Failed(format!("Error: {e}")))?;
        }
        let landed = blob(
            &self.repo,
            &format!("{}:{}", plan.target, rel(&plan.root, &dir.join(log::FILE))),
        )?
        .unwrap_or_default();
        let board = log::parse(&String::from_utf8_lossy(&landed))
            .map(|l| reduce::reduce(&l))
            .map_err(status_error)?;
        let offending: Vec<String> = plan
            .wp_ids
            .iter()
            .filter_map(|w| {
                let lane = board.lane_of(w);
                (lane != Some(Lane::Done))
                    .then(|| format!("{w}={}", lane.map_or("missing", Lane::as_str)))
            })
            .collect();
        if !offending.is_empty() {
            return Err(Stop::Failed(format!(
                "Error: Post-merge status validation failed: merged WPs did not reach done in the canonical event log.\n  Offending WPs: {}",
                offending.join(", ")
            )));
        }
        Ok(())
    }

    /// Lane worktrees and branches removed as the retention says; a coordinated mission's
    /// metadata flattened and its retrospective captured.
    fn clean_up(&mut self, lane_ids: &[String]) -> Result<(), Stop> {
        let plan = self.plan;
        let (remove, delete) = (plan.remove_worktree.0, plan.delete_branch.0);
        if remove {
            for id in lane_ids {
                let name = format!("{}-{id}", plan.slug);
                let path = plan.root.join(".worktrees").join(&name);
                if path.exists() {
                    let p = path.to_string_lossy().into_owned();
                    if self
                        .repo
                        .output(&["worktree", "remove", &p, "--force"])?
                        .status
                        .success()
                    {
                        self.say(&format!("  Removed worktree: {name}"));
                    }
                }
            }
            for id in lane_ids {
                let _ = std::fs::remove_file(
                    plan.root
                        .join(".kittify/workspaces")
                        .join(format!("{}-{id}.json", plan.slug)),
                );
            }
        }
        if delete {
            let mut n = 0;
            for id in lane_ids {
                let branch = format!("{}-{id}", self.mission);
                let Ok(sha) = git_ok(&self.repo, &["rev-parse", "--short=7", &branch]) else {
                    continue;
                };
                if self
                    .repo
                    .output(&["branch", "-D", &branch])?
                    .status
                    .success()
                {
                    // git's own line (the reference lets it through to stdout).
                    self.lines
                        .push(format!("Deleted branch {branch} (was {sha})."));
                    n += 1;
                }
            }
            if n > 0 {
                self.say(&format!("  Cleaned up {n} lane branch(es)"));
            }
        }
        let meta_path = plan.dir.join("meta.json");
        let mut meta = read_map(&meta_path)?;
        if !(remove && delete && meta.contains_key("coordination_branch")) {
            return Ok(());
        }
        // The reference's `git branch -D` of the mission branch fails while the coordination
        // worktree has it checked out: the branch and the worktree stay, as there.
        meta.remove("coordination_branch");
        meta.remove("topology");
        meta.insert("flattened".into(), json!(true));
        write_map(&meta_path, &meta)?;
        let rel_meta = rel(&plan.root, &meta_path);
        if !git_ok(&self.repo, &["status", "--porcelain", "--", &rel_meta])?.is_empty()
            && let Err(e) = crate::mission::safe_commit::bookkeeping(
                &self.repo,
                &[rel_meta],
                &plan.target,
                &format!(
                    "chore({}): flatten coordination metadata after branch deletion (#3086)",
                    plan.slug
                ),
                (self.now)(),
            )
        {
            tracing::warn!(
                "Flatten bookkeeping commit failed for {} ({e}); meta.json is flattened on disk but may be uncommitted",
                plan.slug
            );
        }
        let env = self.repo.env().clone();
        match crate::mission::retrospective::terminus::prepare(
            &env, &self.repo, &plan.root, &plan.slug,
        ) {
            Ok(t) => {
                let mut warn = |w: &str| tracing::warn!("{w}");
                t.apply(&self.repo, &plan.root, (self.now)(), &mut warn)?;
            }
            Err(why) => tracing::warn!("the retrospective was not captured: {why}"),
        }
        self.say("  Cleaned up mission/coordination branch + worktree");
        Ok(())
    }

    /// The diff summary and the mission's closing.
    fn closing_events(&mut self) -> Result<(), MissionError> {
        let numstat = git_ok(
            &self.repo,
            &["diff", "--numstat", &format!("{}..HEAD", self.baseline)],
        )?;
        let (mut files, mut added, mut deleted) = (0u64, 0u64, 0u64);
        for line in numstat.lines() {
            let mut cols = line.split('\t');
            let a = cols.next().and_then(|c| c.parse::<u64>().ok()).unwrap_or(0);
            let d = cols.next().and_then(|c| c.parse::<u64>().ok()).unwrap_or(0);
            files += 1;
            added += a;
            deleted += d;
        }
        let id = self.mission_id.clone();
        if files > 0 {
            self.events.push((
                "DiffSummaryRecorded",
                ("Mission", id.clone()),
                json!({
                    "mission_id": id, "base_ref": self.baseline, "head_ref": "HEAD",
                    "files_changed": files, "lines_added": added, "lines_deleted": deleted,
                    "source": "git-numstat", "phase_name": "accept",
                }),
            ));
        }
        let slug = &self.plan.slug;
        let digits: String = slug.chars().take_while(char::is_ascii_digit).collect();
        let number = digits.parse::<i64>().ok().filter(|n| *n >= 1).unwrap_or(1);
        self.events.push((
            "MissionClosed",
            ("Mission", id),
            json!({"mission_slug": slug, "mission_number": number, "mission_type": "software-dev"}),
        ));
        Ok(())
    }
}

fn status_error(e: crate::mission::status::StatusError) -> Stop {
    Stop::Failed(format!("Error: {e}"))
}

/// `p` from `top`, with forward slashes.
fn rel(top: &Path, p: &Path) -> String {
    p.strip_prefix(top)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

fn read_map(path: &Path) -> Result<Map<String, Value>, MissionError> {
    let text = std::fs::read_to_string(path).map_err(|e| MissionError::io(path, e))?;
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(MissionError::io(
            path,
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "meta.json is not a JSON object",
            ),
        )),
    }
}

/// meta.json as the reference writes it (sorted keys, two-space indent, non-ASCII kept).
fn write_map(path: &Path, meta: &Map<String, Value>) -> Result<(), MissionError> {
    let text = serde_json::to_string_pretty(meta).unwrap_or_default() + "\n";
    crate::mission::planning::write_atomic(path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_wrap_at_the_last_space_that_fits_keeping_their_trailing_space() {
        let line = "  \u{2713} Gate issue_matrix_completeness: No issue references discovered \u{2014} nothing to enforce";
        assert_eq!(
            wrap(line, 80),
            "  \u{2713} Gate issue_matrix_completeness: No issue references discovered \u{2014} nothing to \nenforce"
        );
        assert_eq!(wrap("short", 80), "short");
        assert_eq!(wrap("", 80), "");
        assert_eq!(wrap("aaaa bbbb", 4), "aaaa\nbbbb");
    }
}
