//! The git repository a mission command works on, driven through the `git` binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::MissionError;
use crate::env::Env;

/// A git work tree.
#[derive(Debug, Clone)]
pub struct Repo {
    top: PathBuf,
    env: Env,
}

fn git(env: &Env, dir: &Path, args: &[&str]) -> Result<Output, MissionError> {
    Command::new("git")
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(env.iter())
        .output()
        .map_err(|e| MissionError::Git {
            what: format!("git {}", args.join(" ")),
            detail: format!("{e}; is git installed and on PATH?"),
        })
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

impl Repo {
    /// The work tree containing `cwd`.
    pub fn discover(env: &Env, cwd: &Path) -> Result<Self, MissionError> {
        let out = git(env, cwd, &["rev-parse", "--show-toplevel"])?;
        if !out.status.success() {
            return Err(MissionError::NotAGitRepo {
                dir: cwd.to_path_buf(),
            });
        }
        Ok(Self {
            top: PathBuf::from(text(&out)),
            env: env.clone(),
        })
    }

    /// The top-level directory.
    pub fn top(&self) -> &Path {
        &self.top
    }

    fn run(&self, args: &[&str]) -> Result<Output, MissionError> {
        git(&self.env, &self.top, args)
    }

    fn run_ok(&self, args: &[&str]) -> Result<String, MissionError> {
        let out = self.run(args)?;
        if out.status.success() {
            Ok(text(&out))
        } else {
            Err(MissionError::Git {
                what: format!("git {}", args.join(" ")),
                detail: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            })
        }
    }

    /// Whether HEAD points at a commit.
    pub fn has_commit(&self) -> Result<bool, MissionError> {
        Ok(self
            .run(&["rev-parse", "--verify", "--quiet", "HEAD"])?
            .status
            .success())
    }

    /// The current branch (`None` when HEAD is detached).
    pub fn branch(&self) -> Result<Option<String>, MissionError> {
        let out = self.run(&["symbolic-ref", "--quiet", "--short", "HEAD"])?;
        Ok(out.status.success().then(|| text(&out)))
    }

    /// The absolute git directory (for locks that must not show up in the work tree).
    pub fn git_dir(&self) -> Result<PathBuf, MissionError> {
        let dir = PathBuf::from(self.run_ok(&["rev-parse", "--absolute-git-dir"])?);
        Ok(dir)
    }

    /// Stage and commit exactly `paths` (relative to the top), leaving anything else staged alone.
    /// Returns the new commit id.
    pub fn commit_paths(&self, paths: &[&str], message: &str) -> Result<String, MissionError> {
        let mut add = vec!["add", "--"];
        add.extend_from_slice(paths);
        self.run_ok(&add)?;
        let mut commit = vec!["commit", "--quiet", "--no-verify", "-m", message, "--"];
        commit.extend_from_slice(paths);
        if let Err(e) = self.run_ok(&commit) {
            let mut reset = vec!["reset", "--quiet", "--"];
            reset.extend_from_slice(paths);
            let _ = self.run(&reset);
            return Err(e);
        }
        self.run_ok(&["rev-parse", "HEAD"])
    }
}
