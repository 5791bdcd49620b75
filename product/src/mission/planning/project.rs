//! Where a planning command's project is: the primary checkout of the repository the working
//! directory is in (**interop**: the reference's project-root walk, linked worktrees included).

use std::path::{Path, PathBuf};

/// The project a command runs on.
#[derive(Debug, Clone)]
pub struct Project {
    /// The primary checkout (where `kitty-specs/` and `.kittify/` are).
    pub root: PathBuf,
}

/// The project root for `cwd`: a linked worktree's primary checkout when that has `.kittify/`,
/// else the nearest directory with a `.git` directory, else the nearest with `.kittify/`.
pub fn locate(cwd: &Path) -> Option<Project> {
    let mut kittify_only = None;
    for dir in cwd.ancestors() {
        let git = dir.join(".git");
        if git.is_file() {
            if let Some(primary) = primary_of_worktree(&git)
                && primary.join(".kittify").is_dir()
            {
                return Some(Project { root: primary });
            }
        } else if git.is_dir() {
            return Some(Project {
                root: dir.to_path_buf(),
            });
        }
        if kittify_only.is_none() && dir.join(".kittify").is_dir() {
            kittify_only = Some(dir.to_path_buf());
        }
    }
    kittify_only.map(|root| Project { root })
}

/// The primary checkout of the linked worktree whose `.git` file is `git_file`
/// (`gitdir: <primary>/.git/worktrees/<name>`).
fn primary_of_worktree(git_file: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(git_file).ok()?;
    let gitdir = PathBuf::from(text.trim().strip_prefix("gitdir:")?.trim());
    let gitdir = if gitdir.is_absolute() {
        gitdir
    } else {
        git_file.parent()?.join(gitdir)
    };
    let worktrees = gitdir.parent()?;
    if worktrees.file_name()? != "worktrees" {
        return None;
    }
    let common = worktrees.parent()?;
    (common.file_name()? == ".git").then(|| common.parent().map(Path::to_path_buf))?
}

impl Project {
    /// `kitty-specs/` of the primary checkout.
    pub fn specs(&self) -> PathBuf {
        self.root.join("kitty-specs")
    }

    /// Whether the root is a git work tree (has `.git`).
    pub fn has_git(&self) -> bool {
        self.root.join(".git").exists()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_linked_worktree_belongs_to_its_primary_when_that_is_a_project() {
        let t = tempfile::tempdir().unwrap();
        let primary = t.path().join("repo");
        let wt = primary.join(".worktrees").join("m-lane-a");
        std::fs::create_dir_all(primary.join(".git").join("worktrees").join("m-lane-a")).unwrap();
        std::fs::create_dir_all(&wt).unwrap();
        let gitdir = primary.join(".git/worktrees/m-lane-a");
        std::fs::write(wt.join(".git"), format!("gitdir: {}\n", gitdir.display())).unwrap();
        // Without .kittify the worktree is not the primary's project: the walk goes on up and
        // finds the primary's .git directory.
        assert_eq!(
            locate(&wt.join("src")).map(|p| p.root),
            Some(primary.clone())
        );
        std::fs::create_dir_all(primary.join(".kittify")).unwrap();
        assert_eq!(locate(&wt).map(|p| p.root), Some(primary.clone()));
        assert_eq!(locate(&primary).map(|p| p.root), Some(primary));
    }

    #[test]
    fn a_kittify_directory_without_git_is_a_project_and_nothing_is_none() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("p");
        std::fs::create_dir_all(dir.join(".kittify")).unwrap();
        std::fs::create_dir_all(dir.join("a/b")).unwrap();
        assert_eq!(locate(&dir.join("a/b")).map(|p| p.root), Some(dir));
        let bare = tempfile::tempdir().unwrap();
        // The temporary directory's parents may hold a project on some machines; only assert
        // when they do not.
        if bare
            .path()
            .ancestors()
            .all(|a| !a.join(".git").exists() && !a.join(".kittify").exists())
        {
            assert!(locate(bare.path()).is_none());
        }
    }
}
