//! The merge's phases, in the reference's order (**interop**: its lines, its commits, its
//! `state.json` and lock, its done transitions, its projection of the board onto the target,
//! its clean-up).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::console::wrap;
use super::execute::Stop;
use super::forecast::Plan;
use super::gates;
use super::integrate::{self, Scratch, blob, git_ok, git_ok_quiet, quiet};
use super::state::{fresh_state, progress, state_path};
use crate::mission::MissionError;
use crate::mission::git::Repo;
use crate::mission::planning::sync_events::Lifecycle;
use crate::mission::status::event::Transition;
use crate::mission::status::{Lane, append, log, materialize, reduce};

#[path = "steps_land.rs"]
mod land;

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
    recorded: Option<Map<String, Value>>,
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
        recorded: Option<Map<String, Value>>,
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
            recorded,
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
        if let Some(r) = &self.recorded {
            let (done, all) = progress(r);
            self.say(&format!(
                "Resuming merge for {} ({done}/{all} WPs already done)",
                plan.slug
            ));
        }
        self.say(&format!("Lane-based merge for {}", plan.slug));
        self.say(&format!("  Mission branch: {}", self.mission));
        self.say(&format!("  Lanes: {}", lane_ids.join(", ")));
        for gate in gates::gates(plan) {
            self.say(&gate.line());
        }
        let started = crate::pyfmt::isoformat((self.now)());
        self.state = self
            .recorded
            .clone()
            .unwrap_or_else(|| fresh_state(plan, &self.mission_id, &started));
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
        // A lane a resumed merge already removed was merged before it was.
        let gone = !self.repo.ref_exists(&format!("refs/heads/{branch}"))?;
        if gone || integrate::integrated(&self.repo, &branch, &self.mission)? {
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

    /// The mission's number, committed on the mission branch (in a temporary worktree, then
    /// checked out in the coordination worktree).
    fn bake(&mut self) -> Result<(), Stop> {
        let Some(n) = self.plan.would_assign else {
            return Ok(());
        };
        if self.state.get("mission_number_baked") == Some(&json!(true)) {
            return Ok(());
        }
        let slug = self.plan.slug.clone();
        let relp = format!("kitty-specs/{slug}/meta.json");
        let committed = blob(&self.repo, &format!("{}:{relp}", self.mission))?.unwrap_or_default();
        let mut meta = parse_map(&self.coord_meta(), &committed)?;
        if meta.get("mission_number").is_some_and(Value::is_i64)
            && meta.get("mission_number").and_then(Value::as_i64) == Some(n)
        {
            self.state
                .insert("mission_number_baked".into(), json!(true));
            self.save_state()?;
            return Ok(());
        }
        meta.insert("mission_number".into(), json!(n));
        let old = git_ok(&self.repo, &["rev-parse", &self.mission])?;
        let new = {
            let scratch = Scratch::add(&self.repo, &self.mission)?;
            let path = scratch.repo.top().join(&relp);
            std::fs::write(&path, meta_bytes(&meta)).map_err(|e| MissionError::io(&path, e))?;
            git_ok(&scratch.repo, &["add", &relp])?;
            let message = format!("chore({slug}): assign mission_number={n}");
            git_ok_quiet(&scratch.repo, &["commit", "--quiet", "-m", &message])?;
            git_ok(&scratch.repo, &["rev-parse", "HEAD"])?
        };
        integrate::advance(&self.repo, &self.coord, &self.mission, &old, &new)?
            .map_err(|why| Stop::Failed(format!("Error: {why}")))?;
        self.say(&format!("Assigned mission_number={n} to mission {slug}"));
        self.state
            .insert("mission_number_baked".into(), json!(true));
        self.save_state()?;
        Ok(())
    }

    /// `wp`'s approved→done transition on the coordination branch.
    fn done(&mut self, wp: &str) -> Result<(), Stop> {
        let snap = &self.plan.snapshot;
        match snap.lane_of(wp) {
            Some(Lane::Approved) => {}
            Some(Lane::Done) => return self.finish_done(wp),
            _ => return Ok(()),
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

    /// A done move a killed merge recorded but did not commit: committed now, its event queued.
    fn finish_done(&mut self, wp: &str) -> Result<(), Stop> {
        let dir = &self.plan.status_dir;
        let top = self.coord.top().to_path_buf();
        let files = [
            rel(&top, &dir.join(log::FILE)),
            rel(&top, &dir.join(materialize::FILE)),
        ];
        let committed = blob(&self.coord, &format!("HEAD:{}", files[0]))?.unwrap_or_default();
        let committed = log::parse(&String::from_utf8_lossy(&committed)).map_err(status_error)?;
        if reduce::reduce(&committed).lane_of(wp) == Some(Lane::Done) {
            return Ok(());
        }
        let on_disk = log::read(dir).map_err(status_error)?;
        let Some(t) = on_disk
            .transitions
            .iter()
            .rev()
            .find(|t| t.wp_id == wp && t.to_lane == Lane::Done)
            .cloned()
        else {
            return Ok(());
        };
        materialize::materialize_annotated(dir).map_err(status_error)?;
        self.coord.commit_paths_forced(
            &[&files[0], &files[1]],
            &format!("chore(spec-kitty): status transition {wp}"),
        )?;
        self.events.push((
            "WPStatusChanged",
            ("WorkPackage", wp.to_string()),
            crate::mission::execution::transition::status_changed_payload(&t),
        ));
        Ok(())
    }

    /// The mission branch squashed into the target, the primary checkout following it.
    fn squash(&mut self) -> Result<(), Stop> {
        let (target, mission) = (self.plan.target.clone(), self.mission.clone());
        if let Some(landed) = self.landed(&target, &mission)? {
            // An interrupted merge's squash: the target already has it.
            self.baseline = git_ok(&self.repo, &["rev-parse", &format!("{landed}^")])?;
            self.say(&format!("\n\u{2713} {mission} \u{2192} {target}"));
            self.say(&format!("  Commit: {}", &landed[..7.min(landed.len())]));
            return Ok(());
        }
        self.baseline = git_ok(&self.repo, &["rev-parse", &target])?;
        let new = {
            let scratch = Scratch::add(&self.repo, &target)?;
            let activation = super::drivers::Activation::start(&self.repo)?;
            let merged = quiet(
                &scratch.repo,
                &["merge", "--squash", "-X", "theirs", &mission],
            )?;
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
                let out = quiet(&scratch.repo, &["commit", "--quiet", "-m", &message])?;
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

    /// The squash an interrupted merge already landed on the target: one of its last commits,
    /// named as the squash, with the mission branch's code (outside `kitty-specs/`).
    fn landed(&self, target: &str, mission: &str) -> Result<Option<String>, MissionError> {
        let subject = format!("feat({mission}): squash merge of mission");
        let recent = git_ok(
            &self.repo,
            &["log", "--first-parent", "-6", "--format=%H %s", target],
        )?;
        for line in recent.lines() {
            let (sha, s) = line.split_once(' ').unwrap_or((line, ""));
            if s == subject {
                let same = self
                    .repo
                    .output(&[
                        "diff",
                        "--quiet",
                        sha,
                        mission,
                        "--",
                        ".",
                        ":(exclude)kitty-specs",
                    ])?
                    .status
                    .success();
                return Ok(same.then(|| sha.to_string()));
            }
        }
        Ok(None)
    }
}

fn status_error(e: crate::mission::status::StatusError) -> Stop {
    Stop::Failed(format!("Error: {e}"))
}

/// `p` from `top`, with forward slashes.
pub(super) fn rel(top: &Path, p: &Path) -> String {
    p.strip_prefix(top)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

/// meta.json's bytes as the reference writes them (sorted keys, two-space indent, non-ASCII
/// kept).
pub(super) fn meta_bytes(meta: &Map<String, Value>) -> Vec<u8> {
    (serde_json::to_string_pretty(meta).unwrap_or_default() + "\n").into_bytes()
}

/// `bytes` (the file at `path`) as a JSON object.
pub(super) fn parse_map(path: &Path, bytes: &[u8]) -> Result<Map<String, Value>, MissionError> {
    match serde_json::from_slice::<Value>(bytes) {
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
