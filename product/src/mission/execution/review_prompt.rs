//! The review prompt file `agent action review` points the reviewer at (**interop**: the
//! reference's location under the temporary directory, its frontmatter keys and their order, the
//! newest 20 kept; the body states the same facts in kitty's words).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::Digest;

use super::ExecError;
use super::review_claim::Facts;
use crate::env::{Env, vars};

/// How many prompt files a package's directory keeps.
const KEEP: usize = 20;

/// `<tmp>/spec-kitty-review-prompts/<repo name>-<12 hex of its path's sha256>/<slug>/<WP>/`.
pub fn dir(env: &Env, root: &Path, slug: &str, wp: &str) -> PathBuf {
    let tmp = env
        .non_empty(vars::TMPDIR)
        .map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    let real = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let name: String = real
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let digest = hex::encode(sha2::Sha256::digest(real.to_string_lossy().as_bytes()));
    tmp.join("spec-kitty-review-prompts")
        .join(format!("{name}-{}", &digest[..12]))
        .join(slug)
        .join(wp)
}

/// Write the prompt; returns its path.
pub fn write(
    env: &Env,
    f: &Facts<'_>,
    meta: &Value,
    wp_path: &Path,
    wp_text: &str,
    now: DateTime<Utc>,
) -> Result<PathBuf, ExecError> {
    let dir = dir(env, f.root, f.slug, f.wp);
    let invocation = crate::ids::uuid4().replace('-', "");
    let path = dir.join(format!("{invocation}.md"));
    let text = render(f, meta, wp_path, wp_text, &path, &invocation, now);
    std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&path, text))
        .map_err(|e| crate::mission::MissionError::read(&path, e))?;
    prune(&dir);
    Ok(path)
}

/// Keep the newest [`KEEP`] files of `dir`.
fn prune(dir: &Path) {
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    files.sort();
    let extra = files.len().saturating_sub(KEEP);
    for (_, p) in files.into_iter().take(extra) {
        let _ = std::fs::remove_file(p);
    }
}

fn render(
    f: &Facts<'_>,
    meta: &Value,
    wp_path: &Path,
    wp_text: &str,
    path: &Path,
    invocation: &str,
    now: DateTime<Utc>,
) -> String {
    let lane = f.ws.path.display();
    let root = f.root.display();
    let (cb, lb, wp, slug) = (f.coord_branch, f.ws.branch.as_str(), f.wp, f.slug);
    let mission_id = meta.get("mission_id").and_then(Value::as_str).unwrap_or("");
    let mut s = format!(
        "---\nwork_package_id: {wp}\ncreated_at: '{}'\nbase_ref: {cb}\ninvocation_id: {invocation}\nlane_branch: {lb}\nlane_worktree: {lane}\nmission_branch: {cb}\nmission_id: {mission_id}\nmission_slug: {slug}\nprompt_path: {}\nrepo_root: {root}\n---\n\n",
        crate::pyfmt::seconds_z(now),
        path.display(),
    );
    s += &format!("# Review {wp} of {slug}\n\n");
    s += &format!(
        "You are reviewing {wp} as {}. Change the status of {wp} only; commits and status changes of other work packages are other agents' work.\n\n",
        f.agent
    );
    s += &format!("Work package file: {}\n", wp_path.display());
    s += &format!(
        "Workspace: {lane} (lane {}, shared by {})\n",
        f.lane_id,
        f.sharing.join(", ")
    );
    s += &format!("Branch: {lb}, {} commit(s) ahead of {cb}\n", f.ahead);
    s += &format!("Mission target branch: {}\n\n", f.target);
    if !f.dependents.is_empty() {
        s += &format!(
            "Dependents not yet done: {}. If you request changes, tell their agents to rebase.\n\n",
            f.dependents.join(", ")
        );
    }
    s += "## What to review\n\n";
    s += &format!("    cd {lane}\n");
    s += &format!("    git log {cb}..{lb} --oneline   # the package's commits\n");
    s += &format!("    git diff {cb}..{lb} --stat     # the files it changed\n");
    s += &format!("    git diff {cb}..{lb}            # the whole change\n\n");
    s += "Check the change against the work package below, the spec and the plan (in the primary checkout: ";
    s += &format!("{root}/kitty-specs/{slug}/). Run the tests in the workspace.\n\n");
    s += "## When you are done\n\n";
    s += &format!(
        "Approve:\n\n    spec-kitty agent tasks move-task {wp} --to approved --mission {slug} --note \"Review passed\"\n\n"
    );
    s += &format!(
        "Request changes: write the feedback to {} (it is committed with the verdict), then\n\n    spec-kitty agent tasks move-task {wp} --to planned --review-feedback-file {} --mission {slug}\n\n",
        f.feedback.display(),
        f.feedback.display()
    );
    s += "## The work package\n\n";
    s += wp_text;
    if !wp_text.ends_with('\n') {
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_live_under_the_temporary_directory_by_repository_mission_and_package() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("my repo!");
        std::fs::create_dir_all(&root).unwrap();
        let env = Env::from_pairs([(vars::TMPDIR, t.path().join("tmp").to_str().unwrap())]);
        let d = dir(&env, &root, "demo", "WP01");
        let repo_part = d.parent().unwrap().parent().unwrap();
        let name = repo_part.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with("my-repo--"), "{name}");
        assert_eq!(name.len(), "my-repo--".len() + 12);
        assert!(d.starts_with(t.path().join("tmp/spec-kitty-review-prompts")));
        assert!(d.ends_with("demo/WP01"));
        // No TMPDIR: /tmp.
        assert!(
            dir(&Env::default(), &root, "demo", "WP01")
                .starts_with("/tmp/spec-kitty-review-prompts")
        );
    }

    #[test]
    fn only_the_newest_twenty_prompts_are_kept() {
        let t = tempfile::tempdir().unwrap();
        for i in 0..23 {
            let p = t.path().join(format!("{i:02}.md"));
            std::fs::write(&p, "x").unwrap();
            let when = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1000 + i);
            std::fs::File::options()
                .write(true)
                .open(&p)
                .unwrap()
                .set_modified(when)
                .unwrap();
        }
        prune(t.path());
        let mut left: Vec<String> = std::fs::read_dir(t.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left.len(), 20);
        assert_eq!(left[0], "03.md");
    }
}
