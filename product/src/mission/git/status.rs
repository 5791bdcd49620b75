//! What changed in a work tree, as `git status` says.

use super::Repo;
use crate::mission::MissionError;

impl Repo {
    /// Whether any of `paths` (relative to the top) differs from HEAD or is untracked.
    pub fn changed(&self, paths: &[&str]) -> Result<bool, MissionError> {
        let mut args = vec!["status", "--porcelain", "--untracked-files=all", "--"];
        args.extend_from_slice(paths);
        let out = self.run(&args)?;
        if !out.status.success() {
            return Err(failed(&args, &out));
        }
        Ok(!out.stdout.is_empty())
    }

    /// The changed and untracked files under `dir` (relative to the top), in `git status`'s
    /// order, each once; a rename is its new name.
    pub fn changed_under(&self, dir: &str) -> Result<Vec<String>, MissionError> {
        let args = [
            "status",
            "--porcelain",
            "-z",
            "--untracked-files=all",
            "--",
            dir,
        ];
        let out = self.run(&args)?;
        if !out.status.success() {
            return Err(failed(&args, &out));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let mut files: Vec<String> = Vec::new();
        let mut entries = text.split('\0');
        while let Some(entry) = entries.next() {
            let Some((code, path)) = entry.get(..2).zip(entry.get(3..)) else {
                continue;
            };
            if code.contains('R') || code.contains('C') {
                // `-z` puts a rename's old name in the next entry.
                entries.next();
            }
            if !files.iter().any(|f| f == path) {
                files.push(path.to_string());
            }
        }
        Ok(files)
    }
}

fn failed(args: &[&str], out: &std::process::Output) -> MissionError {
    MissionError::Git {
        what: format!("git {}", args.join(" ")),
        detail: String::from_utf8_lossy(&out.stderr).trim().to_string(),
    }
}
