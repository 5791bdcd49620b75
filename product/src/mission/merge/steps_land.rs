//! The merge's landing on the target (**interop**: the reference's bookkeeping commit of the
//! projected board, its flattening, its retrospective terminus, its clean-up and its closing
//! events), each commit made in a temporary worktree and checked out at once.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::{Run, meta_bytes, parse_map, rel, status_error};
use crate::mission::MissionError;
use crate::mission::merge::execute::Stop;
use crate::mission::merge::integrate::{self, Scratch, blob, git_ok, quiet};
use crate::mission::status::{Lane, log, materialize, reduce};

impl Run<'_> {
    /// The baseline, the board projected from the coordination branch, the status phase, and
    /// their commit on the target; then the target's board checked.
    pub(super) fn bookkeeping(&mut self) -> Result<(), Stop> {
        let plan = self.plan;
        let dir = &plan.dir;
        let repo = self.repo.clone();
        let at_target = |p: &Path| -> Result<Option<Vec<u8>>, MissionError> {
            blob(&repo, &format!("{}:{}", plan.target, rel(&plan.root, p)))
        };
        let meta_path = dir.join("meta.json");
        let mut meta = parse_map(&meta_path, &at_target(&meta_path)?.unwrap_or_default())?;
        if meta
            .get("baseline_merge_commit")
            .and_then(Value::as_str)
            .is_none_or(|b| b.trim().is_empty())
        {
            meta.insert("baseline_merge_commit".into(), json!(self.baseline));
        }
        // The board: the coordination log and the target's, united; status.json from its
        // transitions alone.
        let coord_log =
            std::fs::read_to_string(plan.status_dir.join(log::FILE)).unwrap_or_default();
        let events_path = dir.join(log::FILE);
        let target_log =
            String::from_utf8_lossy(&at_target(&events_path)?.unwrap_or_default()).into_owned();
        let names = [Path::new("coord"), Path::new("target"), Path::new("none")];
        let union =
            crate::mission::merge_drivers::merge_event_logs([&coord_log, &target_log, ""], names)
                .map_err(|e| Stop::Failed(format!("Error: {e}")))?;
        let mut parsed = log::parse(&union).map_err(status_error)?;
        parsed.annotations.clear();
        let doc = materialize::document_without_identity(&reduce::reduce(&parsed));
        let mut files: Vec<(PathBuf, Vec<u8>)> = vec![
            (events_path, union.into_bytes()),
            (
                dir.join(materialize::FILE),
                materialize::render(&doc).into_bytes(),
            ),
        ];
        for name in ["acceptance-matrix.json", "issue-matrix.json"] {
            let relp = rel(&plan.root, &dir.join(name));
            if let Some(before) = blob(&self.repo, &format!("{}:{relp}", self.baseline))?
                && at_target(&dir.join(name))?.as_deref() != Some(before.as_slice())
            {
                files.push((dir.join(name), before));
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
        files.insert(2, (meta_path, meta_bytes(&meta)));
        let message = format!(
            "chore({}): record done transitions for merged WPs",
            plan.slug
        );
        if self.commit_on_target(&files, &message)?.is_none() {
            self.say("  No post-merge bookkeeping changes to commit; continuing cleanup.");
        }
        let landed = at_target(&dir.join(log::FILE))?.unwrap_or_default();
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

    /// `files` (absolute paths in the primary checkout, with their bytes) committed on the
    /// target as `message`, made in a temporary worktree and then checked out in the primary
    /// (so a kill leaves the target as before or as after); `None` when nothing changes.
    fn commit_on_target(
        &mut self,
        files: &[(PathBuf, Vec<u8>)],
        message: &str,
    ) -> Result<Option<String>, Stop> {
        let plan = self.plan;
        let rels: Vec<String> = files.iter().map(|(p, _)| rel(&plan.root, p)).collect();
        let old = git_ok(&self.repo, &["rev-parse", &plan.target])?;
        let new = {
            let scratch = Scratch::add(&self.repo, &plan.target)?;
            for ((_, bytes), r) in files.iter().zip(&rels) {
                let path = scratch.repo.top().join(r);
                if let Some(d) = path.parent() {
                    std::fs::create_dir_all(d).map_err(|e| MissionError::io(d, e))?;
                }
                std::fs::write(&path, bytes).map_err(|e| MissionError::io(&path, e))?;
            }
            let mut add = vec!["add", "--force", "--"];
            add.extend(rels.iter().map(String::as_str));
            git_ok(&scratch.repo, &add)?;
            if scratch
                .repo
                .output(&["diff", "--cached", "--quiet"])?
                .status
                .success()
            {
                return Ok(None);
            }
            let out = quiet(&scratch.repo, &["commit", "--quiet", "-m", message])?;
            if !out.status.success() {
                return Err(Stop::Failed(format!(
                    "Error: the commit '{message}' was refused: {}",
                    integrate::said(&out)
                )));
            }
            git_ok(&scratch.repo, &["rev-parse", "HEAD"])?
        };
        integrate::advance(&self.repo, &self.repo, &plan.target, &old, &new)?
            .map_err(|why| Stop::Failed(format!("Error: {why}")))?;
        crate::mission::safe_commit::note_local_commit(&plan.root, &new, &rels, (self.now)());
        Ok(Some(new))
    }

    /// Lane worktrees and branches removed as the retention says; a coordinated mission's
    /// metadata flattened and its retrospective captured.
    pub(super) fn clean_up(&mut self, lane_ids: &[String]) -> Result<(), Stop> {
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
        let committed = blob(
            &self.repo,
            &format!("{}:{}", plan.target, rel(&plan.root, &meta_path)),
        )?
        .unwrap_or_default();
        let mut meta = parse_map(&meta_path, &committed)?;
        // A resumed merge may have flattened it already: the rest still runs.
        let resumed_flat =
            self.recorded.is_some() && meta.get("flattened") == Some(&Value::Bool(true));
        if !(remove && delete && (meta.contains_key("coordination_branch") || resumed_flat)) {
            return Ok(());
        }
        // The reference's `git branch -D` of the mission branch fails while the coordination
        // worktree has it checked out: the branch and the worktree stay, as there.
        meta.remove("coordination_branch");
        meta.remove("topology");
        meta.insert("flattened".into(), json!(true));
        let message = format!(
            "chore({}): flatten coordination metadata after branch deletion (#3086)",
            plan.slug
        );
        if let Err(Stop::Failed(e)) =
            self.commit_on_target(&[(meta_path, meta_bytes(&meta))], &message)
        {
            tracing::warn!(
                "Flatten bookkeeping commit failed for {} ({e}); meta.json is not flattened",
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
    pub(super) fn closing_events(&mut self) -> Result<(), MissionError> {
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
