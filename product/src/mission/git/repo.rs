//! The git repository a mission command works on, driven through the `git` binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::env::Env;
use crate::mission::MissionError;

/// A git work tree. Answers that do not change during a command (the git dir, the origin's
/// default branch) are asked once and kept.
#[derive(Debug, Clone)]
pub struct Repo {
    top: PathBuf,
    env: Env,
    git_dir: std::cell::OnceCell<PathBuf>,
    common_dir: std::cell::OnceCell<PathBuf>,
    /// `(HEAD's commit, HEAD's branch)` as last read; cleared when this process moves HEAD.
    head: std::cell::RefCell<Option<(Option<String>, Option<String>)>>,
    origin_default: std::cell::OnceCell<Option<String>>,
}

/// `git` on `env`'s PATH (see [`super::program`]).
fn program(env: &Env) -> PathBuf {
    super::program::git_on(env.iter_os().find(|(k, _)| *k == "PATH").map(|(_, v)| v))
}

fn git(env: &Env, dir: &Path, args: &[&str]) -> Result<Output, MissionError> {
    Command::new(program(env))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(env.iter_os())
        .output()
        .map_err(|e| MissionError::Git {
            what: format!("git {}", args.join(" ")),
            detail: if dir.is_dir() {
                format!("{e}; is git installed and on PATH?")
            } else {
                format!("{e}: the directory {} does not exist", dir.display())
            },
        })
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

impl Repo {
    /// The work tree containing `cwd`.
    pub fn discover(env: &Env, cwd: &Path) -> Result<Self, MissionError> {
        // One question for everything git must tell before a commit: the work tree, the git
        // and common directories, HEAD's commit and HEAD's branch (`HEAD` when detached).
        const LAYOUT: [&str; 5] = [
            "rev-parse",
            "--show-toplevel",
            "--absolute-git-dir",
            "--path-format=absolute",
            "--git-common-dir",
        ];
        let mut all = LAYOUT.to_vec();
        all.extend(["HEAD", "--symbolic-full-name", "HEAD"]);
        let mut out = git(env, cwd, &all)?;
        let mut unborn = false;
        if !out.status.success() {
            // No commit yet (HEAD does not resolve)? Ask without HEAD.
            let layout = git(env, cwd, &LAYOUT)?;
            if layout.status.success() {
                out = layout;
                unborn = true;
            }
        }
        if !out.status.success() {
            // In a repository but not in a work tree? Say which, instead of "run git init".
            let probe = git(
                env,
                cwd,
                &["rev-parse", "--is-bare-repository", "--is-inside-git-dir"],
            )?;
            if probe.status.success() {
                let answers = text(&probe);
                let mut lines = answers.lines();
                let kind = match (lines.next(), lines.next()) {
                    (Some("true"), _) => Some("in a bare repository, which has no work tree"),
                    (_, Some("true")) => Some("inside a repository's .git directory"),
                    _ => None,
                };
                if let Some(kind) = kind {
                    return Err(MissionError::NotAWorkTree {
                        dir: cwd.to_path_buf(),
                        kind,
                    });
                }
            }
            return Err(MissionError::NotAGitRepo {
                dir: cwd.to_path_buf(),
            });
        }
        let answer = String::from_utf8(out.stdout.clone()).map_err(|e| {
            let first = e
                .as_bytes()
                .split(|b| *b == b'\n')
                .next()
                .unwrap_or_default();
            MissionError::NonUtf8Path {
                path: String::from_utf8_lossy(first).into_owned(),
            }
        })?;
        let lines: Vec<&str> = answer.lines().collect();
        let repo = Self::at(env, Path::new(lines.first().copied().unwrap_or_default()));
        if let (Some(g), Some(c)) = (lines.get(1), lines.get(2)) {
            let _ = repo.git_dir.set(PathBuf::from(g));
            let _ = repo.common_dir.set(PathBuf::from(c));
        }
        if unborn {
            *repo.head.borrow_mut() = Some((None, None));
        } else if let (Some(sha), Some(full)) = (lines.get(3), lines.get(4)) {
            let branch = full.strip_prefix("refs/heads/").map(str::to_string);
            *repo.head.borrow_mut() = Some((Some((*sha).to_string()), branch));
        }
        Ok(repo)
    }

    /// In-process ref reading for this repository (`None` before the layout is known).
    fn refs(&self) -> Option<super::refs::Refs> {
        Some(super::refs::Refs::new(
            self.git_dir.get()?,
            self.common_dir.get()?,
        ))
    }

    /// The work tree at `top`, known to be one (recovery of a create that ran there).
    pub fn at(env: &Env, top: &Path) -> Self {
        Self {
            top: top.to_path_buf(),
            env: env.clone(),
            git_dir: std::cell::OnceCell::new(),
            common_dir: std::cell::OnceCell::new(),
            head: std::cell::RefCell::new(None),
            origin_default: std::cell::OnceCell::new(),
        }
    }

    /// Whether `path` (relative to the top) is in any commit of any ref.
    pub fn path_in_any_commit(&self, path: &str) -> Result<bool, MissionError> {
        let found = self.run_ok(&["rev-list", "-1", "--all", "--", path])?;
        Ok(!found.is_empty())
    }

    /// Remove `path` (a directory, relative to the top) from the index, keeping HEAD's entries.
    pub fn unstage(&self, path: &str) -> Result<(), MissionError> {
        if self
            .run(&["rev-parse", "--verify", "--quiet", "HEAD"])?
            .status
            .success()
        {
            self.run_ok(&["reset", "--quiet", "HEAD", "--", path])
                .map(|_| ())
        } else {
            self.run_ok(&[
                "rm",
                "-r",
                "--cached",
                "--quiet",
                "--ignore-unmatch",
                "--",
                path,
            ])
            .map(|_| ())
        }
    }

    /// The commit `rev` names (`None` when it names none).
    pub fn rev_parse(&self, rev: &str) -> Result<Option<String>, MissionError> {
        let out = self.run(&[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ])?;
        Ok(out.status.success().then(|| text(&out)))
    }

    /// `path`'s content at `rev` (`None` when it is not there).
    pub fn show_file(&self, rev: &str, path: &str) -> Result<Option<Vec<u8>>, MissionError> {
        let out = self.run(&["show", &format!("{rev}:{path}")])?;
        Ok(out.status.success().then_some(out.stdout))
    }

    /// Put branch `branch` back on `sha` and the index entries of `paths` back to that commit's
    /// (the undo of commits this process made; the work tree is restored by the caller).
    pub fn rewind(&self, branch: &str, sha: &str, paths: &[&str]) -> Result<(), MissionError> {
        self.run_ok(&["update-ref", &format!("refs/heads/{branch}"), sha])?;
        *self.head.borrow_mut() = None;
        if paths.is_empty() {
            return Ok(());
        }
        let mut args = vec!["reset", "--quiet", sha, "--"];
        args.extend_from_slice(paths);
        // A path absent at `sha` and in the index is fine to leave to reset's own rule.
        let _ = self.run(&args)?;
        Ok(())
    }

    /// `git status --porcelain` (untracked directories collapsed, as git shows them).
    pub fn status_porcelain(&self) -> Result<String, MissionError> {
        let out = self.run(&["status", "--porcelain"])?;
        if !out.status.success() {
            return Err(MissionError::Git {
                what: "git status --porcelain".into(),
                detail: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        // Not trimmed: the first line's two status columns may be spaces.
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Whether `path` (relative to the top) is tracked and in HEAD's tree.
    pub fn committed(&self, path: &str) -> Result<bool, MissionError> {
        let spec = format!("HEAD:{path}");
        Ok(self.run(&["cat-file", "-e", &spec])?.status.success()
            && self
                .run(&["ls-files", "--error-unmatch", "--", path])?
                .status
                .success())
    }

    /// The name of the branch HEAD is on, even before its first commit (`None` when detached).
    pub fn head_branch(&self) -> Result<Option<String>, MissionError> {
        if let Some(b) = self.branch()? {
            return Ok(Some(b));
        }
        let out = self.run(&["symbolic-ref", "--quiet", "--short", "HEAD"])?;
        Ok(out.status.success().then(|| text(&out)))
    }

    /// The environment its git commands run with.
    pub fn env(&self) -> &Env {
        &self.env
    }

    /// The top-level directory.
    pub fn top(&self) -> &Path {
        &self.top
    }

    /// Run `git args` in this work tree (its output, whatever its status).
    pub fn output(&self, args: &[&str]) -> Result<Output, MissionError> {
        self.run(args)
    }

    pub(super) fn run(&self, args: &[&str]) -> Result<Output, MissionError> {
        git(&self.env, &self.top, args)
    }

    fn run_ok(&self, args: &[&str]) -> Result<String, MissionError> {
        let out = self.run(args)?;
        if out.status.success() {
            Ok(text(&out))
        } else {
            // git says some failures (a merge's conflicts) on stdout alone.
            let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
            Err(MissionError::Git {
                what: format!("git {}", args.join(" ")),
                detail: if err.is_empty() { text(&out) } else { err },
            })
        }
    }

    /// The repository's own (`--local`) config entries whose key matches `regex`.
    pub fn local_config(
        &self,
        regex: &str,
    ) -> Result<std::collections::BTreeMap<String, String>, MissionError> {
        let out = self.run(&["config", "--local", "--null", "--get-regexp", regex])?;
        // Exit 1: no key matches.
        if !out.status.success() && out.status.code() != Some(1) {
            return Err(MissionError::Git {
                what: format!("git config --local --get-regexp {regex}"),
                detail: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout)
            .split('\0')
            .filter_map(|e| e.split_once('\n'))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect())
    }

    /// Set one key in the repository's own config.
    pub fn set_local_config(&self, key: &str, value: &str) -> Result<(), MissionError> {
        self.run_ok(&["config", "--local", key, value]).map(|_| ())
    }

    /// The commit HEAD points at (`None` before the first commit).
    pub fn head_commit(&self) -> Result<Option<String>, MissionError> {
        if let Some((sha, _)) = self.head.borrow().as_ref() {
            return Ok(sha.clone());
        }
        let out = self.run(&["rev-parse", "--verify", "--quiet", "HEAD"])?;
        Ok(out.status.success().then(|| text(&out)))
    }

    /// The current branch (`None` when HEAD is detached).
    pub fn branch(&self) -> Result<Option<String>, MissionError> {
        if let Some((_, branch)) = self.head.borrow().as_ref() {
            return Ok(branch.clone());
        }
        let out = self.run(&["symbolic-ref", "--quiet", "--short", "HEAD"])?;
        Ok(out.status.success().then(|| text(&out)))
    }

    /// The absolute git directory (for locks that must not show up in the work tree).
    pub fn git_dir(&self) -> Result<PathBuf, MissionError> {
        if let Some(dir) = self.git_dir.get() {
            return Ok(dir.clone());
        }
        let dir = PathBuf::from(self.run_ok(&["rev-parse", "--absolute-git-dir"])?);
        Ok(self.git_dir.get_or_init(|| dir).clone())
    }

    /// Whether `refname` (e.g. `refs/heads/x`) resolves to a commit.
    pub fn ref_exists(&self, refname: &str) -> Result<bool, MissionError> {
        // A branch (local or remote-tracking) always points at a commit: its ref file says
        // whether it exists.
        if refname.starts_with("refs/heads/") || refname.starts_with("refs/remotes/") {
            match self.refs().map(|r| r.sha(refname)) {
                Some(super::refs::Lookup::Found(_)) => return Ok(true),
                Some(super::refs::Lookup::Absent) => return Ok(false),
                _ => {}
            }
        }
        let spec = format!("{refname}^{{commit}}");
        Ok(self
            .run(&["rev-parse", "--verify", "--quiet", &spec])?
            .status
            .success())
    }

    /// The branch `origin/HEAD` points at (`main` for `origin/main`), read locally; `None` when
    /// the repository has no such ref.
    pub fn origin_default_branch(&self) -> Result<Option<String>, MissionError> {
        if let Some(known) = self.origin_default.get() {
            return Ok(known.clone());
        }
        match self.refs().map(|r| r.symbolic("refs/remotes/origin/HEAD")) {
            Some(super::refs::Lookup::Found(target)) => {
                let branch = target
                    .strip_prefix("refs/remotes/origin/")
                    .map(str::to_string);
                return Ok(self.origin_default.get_or_init(|| branch).clone());
            }
            Some(super::refs::Lookup::Absent) => {
                return Ok(self.origin_default.get_or_init(|| None).clone());
            }
            _ => {}
        }
        let out = self.run(&[
            "symbolic-ref",
            "--quiet",
            "--short",
            "refs/remotes/origin/HEAD",
        ])?;
        let name = text(&out);
        let branch = out
            .status
            .success()
            .then(|| name.rsplit_once('/').map(|(_, b)| b.to_string()))
            .flatten();
        Ok(self.origin_default.get_or_init(|| branch).clone())
    }

    /// The URL of the `origin` remote, if any (read from the local config; no network).
    pub fn origin_url(&self) -> Option<String> {
        match self.refs().map(|r| r.origin_url()) {
            Some(super::refs::Lookup::Found(url)) => return Some(url).filter(|u| !u.is_empty()),
            Some(super::refs::Lookup::Absent) => return None,
            _ => {}
        }
        let out = self.run(&["remote", "get-url", "origin"]).ok()?;
        let url = text(&out);
        (out.status.success() && !url.is_empty()).then_some(url)
    }

    /// Check that `name` is a valid branch name (`git check-ref-format --branch`).
    pub fn check_branch_name(&self, name: &str) -> Result<(), String> {
        let out = self
            .run(&["check-ref-format", "--branch", name])
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(())
        } else {
            let detail = String::from_utf8_lossy(&out.stderr).trim().to_string();
            Err(if detail.is_empty() {
                "not a valid branch name".into()
            } else {
                detail
            })
        }
    }

    /// Switch to `branch`, creating it at HEAD when it does not exist.
    pub fn switch(&self, branch: &str, create: bool) -> Result<(), String> {
        let args: &[&str] = if create {
            &["switch", "--quiet", "-c", branch]
        } else {
            &["switch", "--quiet", branch]
        };
        *self.head.borrow_mut() = None;
        let out = self.run(args).map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    }

    /// Create branch `name` at `start` (or move it there with `force`) in the background, while
    /// the caller does other git work that does not touch refs (staging files);
    /// [`PendingGit::finish`] waits for it.
    pub fn start_create_branch(
        &self,
        name: &str,
        start: &str,
        force: bool,
    ) -> Result<PendingGit, MissionError> {
        let mut args = vec!["branch", "--no-track"];
        if force {
            args.push("--force");
        }
        args.extend([name, start]);
        let what = format!("git {}", args.join(" "));
        let child = Command::new(program(&self.env))
            .args(&args)
            .current_dir(&self.top)
            .env_clear()
            .envs(self.env.iter_os())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| MissionError::Git {
                what: what.clone(),
                detail: format!("{e}; is git installed and on PATH?"),
            })?;
        Ok(PendingGit { child, what })
    }

    /// Delete branch `name` (best effort; used to undo).
    pub fn delete_branch(&self, name: &str) {
        let _ = self.run(&["branch", "--quiet", "-D", name]);
    }

    /// `git worktree add <path> <branch>`: check the existing `branch` out at `path`.
    pub fn worktree_add(&self, path: &Path, branch: &str) -> Result<(), MissionError> {
        let p = path.to_string_lossy();
        self.run_ok(&["worktree", "add", "--quiet", &p, branch])
            .map(|_| ())
    }

    /// Remove the linked work tree at `path` (forced), then forget registrations whose
    /// directory is gone (best effort; used to undo).
    pub fn worktree_remove(&self, path: &Path) {
        let p = path.to_string_lossy();
        let _ = self.run(&["worktree", "remove", "--force", &p]);
        if path.exists() {
            let _ = std::fs::remove_dir_all(path);
        }
        let _ = self.run(&["worktree", "prune"]);
    }

    /// `git worktree list --porcelain`, as `(path, branch ref or None, prunable)` per entry.
    pub fn worktrees(&self) -> Result<Vec<(PathBuf, Option<String>, bool)>, MissionError> {
        let out = self.run_ok(&["worktree", "list", "--porcelain"])?;
        let mut all = Vec::new();
        for block in out.split("\n\n") {
            let mut path = None;
            let mut branch = None;
            let mut prunable = false;
            for line in block.lines() {
                if let Some(p) = line.strip_prefix("worktree ") {
                    path = Some(PathBuf::from(p));
                } else if let Some(b) = line.strip_prefix("branch ") {
                    branch = Some(b.to_string());
                } else if line.starts_with("prunable") {
                    prunable = true;
                }
            }
            if let Some(p) = path {
                all.push((p, branch, prunable));
            }
        }
        Ok(all)
    }

    /// Whether `ancestor` is an ancestor of (or equal to) `descendant`.
    pub fn is_ancestor(&self, ancestor: &str, descendant: &str) -> Result<bool, MissionError> {
        Ok(self
            .run(&["merge-base", "--is-ancestor", ancestor, descendant])?
            .status
            .success())
    }

    /// Stage and commit exactly `paths` (relative to the top) with the repository's hooks, leaving
    /// anything else staged alone, finishing `pending` (a ref update started before, running
    /// while the paths are staged) before the commit. Returns the new commit id. A refused commit
    /// (a failing hook) unstages the paths again and reports git's and the hook's words.
    pub fn commit_paths_with(
        &self,
        paths: &[&str],
        message: &str,
        pending: Option<PendingGit>,
    ) -> Result<String, MissionError> {
        self.commit_staged(paths, message, pending, false)
    }

    /// [`Self::commit_paths_with`], staging `paths` even where `.gitignore` ignores them.
    pub fn commit_paths_forced(
        &self,
        paths: &[&str],
        message: &str,
    ) -> Result<String, MissionError> {
        self.commit_staged(paths, message, None, true)
    }

    fn commit_staged(
        &self,
        paths: &[&str],
        message: &str,
        pending: Option<PendingGit>,
        force: bool,
    ) -> Result<String, MissionError> {
        let undo = IndexUndo::capture(self)?;
        let mut add = vec!["add"];
        if force {
            add.push("--force");
        }
        add.push("--");
        add.extend_from_slice(paths);
        let added = self.run_ok(&add);
        let branched = pending.map_or(Ok(()), PendingGit::finish);
        if let Err(e) = added.and(branched) {
            undo.restore();
            return Err(e);
        }
        // The hooks run as for any commit; git's automatic housekeeping (gc, maintenance) is
        // left to the user's next git command instead of this one.
        let mut commit = vec![
            "-c",
            "commit.gpgsign=false",
            "-c",
            "maintenance.auto=false",
            "-c",
            "gc.auto=0",
            "commit",
            "--quiet",
            "-m",
            message,
            "--",
        ];
        commit.extend_from_slice(paths);
        let out = self.run(&commit)?;
        if !out.status.success() {
            undo.restore();
            return Err(MissionError::CommitRefused {
                detail: refusal_detail(&out.stderr, &text(&out)),
            });
        }
        // The new commit id, from the ref the commit just wrote (no spawn), else from git.
        *self.head.borrow_mut() = None;
        if let Some(super::refs::Lookup::Found(sha)) = self.refs().map(|r| r.sha("HEAD")) {
            return Ok(sha);
        }
        self.run_ok(&["rev-parse", "HEAD"])
    }
}

/// What a refused `git commit` said: its stderr (where git also puts its hooks' output), then
/// its stdout (git's own words, such as "nothing to commit"); a fallback when it said nothing.
fn refusal_detail(stderr: &[u8], stdout: &str) -> String {
    let both = format!(
        "{}\n{}",
        String::from_utf8_lossy(stderr).trim(),
        stdout.trim()
    );
    match both.trim() {
        "" => "git commit failed without a message (a hook exited non-zero?)".into(),
        said => said.to_string(),
    }
}

/// A git command started in the background.
#[derive(Debug)]
pub struct PendingGit {
    child: std::process::Child,
    what: String,
}

impl PendingGit {
    /// Wait for it; its failure is an error with git's words.
    pub fn finish(self) -> Result<(), MissionError> {
        let out = self
            .child
            .wait_with_output()
            .map_err(|e| MissionError::Git {
                what: self.what.clone(),
                detail: e.to_string(),
            })?;
        if out.status.success() {
            Ok(())
        } else {
            Err(MissionError::Git {
                what: self.what,
                detail: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            })
        }
    }
}

/// The index as it was before `git add`, put back byte for byte when the commit is refused (the
/// blobs `git add` wrote stay behind as unreachable objects, which `git gc` prunes; they are not
/// part of the repository's state).
struct IndexUndo {
    index: PathBuf,
    bytes: Option<Vec<u8>>,
}

impl IndexUndo {
    fn capture(repo: &Repo) -> Result<Self, MissionError> {
        let index = repo.git_dir()?.join("index");
        Ok(Self {
            bytes: std::fs::read(&index).ok(),
            index,
        })
    }

    fn restore(self) {
        match &self.bytes {
            Some(bytes) => {
                let tmp = self.index.with_extension("spec-kitty-restore");
                if std::fs::write(&tmp, bytes).is_ok() {
                    let _ = std::fs::rename(&tmp, &self.index);
                }
            }
            None => {
                let _ = std::fs::remove_file(&self.index);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::refusal_detail;

    #[cfg(unix)]
    #[test]
    fn git_is_looked_for_on_the_path_the_spawn_hands_it() {
        let dir = tempfile::tempdir().unwrap();
        let git = dir.path().join("git");
        std::fs::write(&git, "#!/bin/sh\n").unwrap();
        let exec = <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o755);
        std::fs::set_permissions(&git, exec).unwrap();
        let env = crate::env::Env::from_pairs([
            ("A_FIRST", "/nowhere"),
            ("PATH", dir.path().to_str().unwrap()),
        ]);
        assert_eq!(super::program(&env), git);
    }

    #[test]
    fn a_refused_commit_says_what_git_and_its_hooks_said() {
        let cases: [(&[u8], &str, &str); 5] = [
            (
                b"lint failed\nsee lint.log\n",
                "",
                "lint failed\nsee lint.log",
            ),
            (b"", "nothing to commit\n", "nothing to commit"),
            (
                b"hook says no\n",
                "  on branch x \n",
                "hook says no\non branch x",
            ),
            (b"bad \xff byte", "", "bad \u{fffd} byte"),
            (
                b" \n",
                "\n",
                "git commit failed without a message (a hook exited non-zero?)",
            ),
        ];
        for (stderr, stdout, want) in cases {
            assert_eq!(
                refusal_detail(stderr, stdout),
                want,
                "{stderr:?} {stdout:?}"
            );
        }
    }
}
