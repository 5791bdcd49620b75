//! Reading git refs and the origin's URL in-process, where that is as exact as asking git: loose
//! ref files, `packed-refs`, symbolic refs and the repository's own `config`. Anything this module
//! cannot answer with certainty (the reftable backend, config includes) is `None`, and the caller
//! asks git.

use std::path::{Path, PathBuf};

/// The ref storage of one repository (`git_dir` for `HEAD`, the common dir for `refs/`).
#[derive(Debug, Clone)]
pub struct Refs {
    git_dir: PathBuf,
    common: PathBuf,
}

/// What a lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup<T> {
    /// The answer.
    Found(T),
    /// Certainly absent.
    Absent,
    /// Cannot tell in-process: ask git.
    Unknown,
}

impl Refs {
    /// The refs of the repository with these directories.
    pub fn new(git_dir: &Path, common: &Path) -> Self {
        Self {
            git_dir: git_dir.to_path_buf(),
            common: common.to_path_buf(),
        }
    }

    fn files_backend(&self) -> bool {
        !self.common.join("reftable").exists()
    }

    fn file_of(&self, refname: &str) -> PathBuf {
        if refname.starts_with("refs/") {
            self.common.join(refname)
        } else {
            self.git_dir.join(refname)
        }
    }

    /// The target of a symbolic ref (`HEAD` → `refs/heads/main`).
    pub fn symbolic(&self, refname: &str) -> Lookup<String> {
        if !self.files_backend() {
            return Lookup::Unknown;
        }
        match std::fs::read_to_string(self.file_of(refname)) {
            Ok(text) => match text.trim_end().strip_prefix("ref: ") {
                Some(target) => Lookup::Found(target.to_string()),
                None => Lookup::Absent,
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Lookup::Absent,
            Err(_) => Lookup::Unknown,
        }
    }

    /// The object id a ref points at, following one level of symbolic ref.
    pub fn sha(&self, refname: &str) -> Lookup<String> {
        if !self.files_backend() {
            return Lookup::Unknown;
        }
        let name = match self.symbolic(refname) {
            Lookup::Found(target) => target,
            Lookup::Absent => refname.to_string(),
            Lookup::Unknown => return Lookup::Unknown,
        };
        match std::fs::read_to_string(self.file_of(&name)) {
            Ok(text) => {
                let sha = text.trim_end();
                if is_object_id(sha) {
                    return Lookup::Found(sha.to_string());
                }
                return Lookup::Unknown;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(_) => return Lookup::Unknown,
        }
        match std::fs::read_to_string(self.common.join("packed-refs")) {
            // Comment (`#`) and peeled (`^`) lines never start with an object id.
            Ok(packed) => packed
                .lines()
                .find_map(|l| {
                    let (sha, name2) = l.split_once(' ')?;
                    (name2 == name && is_object_id(sha)).then(|| sha.to_string())
                })
                .map_or(Lookup::Absent, Lookup::Found),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Lookup::Absent,
            Err(_) => Lookup::Unknown,
        }
    }

    /// `remote.origin.url` from the repository's `config` (no includes: those are git's to read).
    pub fn origin_url(&self) -> Lookup<String> {
        let Ok(text) = std::fs::read_to_string(self.common.join("config")) else {
            return Lookup::Unknown;
        };
        let mut in_origin = false;
        let mut url = None;
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                let section = line.trim_start_matches('[').trim_end_matches(']').trim();
                if section.starts_with("include") {
                    return Lookup::Unknown;
                }
                in_origin = section == "remote \"origin\"";
                continue;
            }
            if in_origin
                && let Some((key, value)) = line.split_once('=')
                && key.trim().eq_ignore_ascii_case("url")
            {
                let value = value.trim();
                if value.contains(['"', '\\', ';', '#']) {
                    return Lookup::Unknown;
                }
                // `git remote get-url` answers the first one.
                url.get_or_insert_with(|| value.to_string());
            }
        }
        url.map_or(Lookup::Absent, Lookup::Found)
    }
}

fn is_object_id(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "1111111111111111111111111111111111111111";
    const B: &str = "2222222222222222222222222222222222222222";

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// A worktree layout: HEAD in the worktree's git dir, refs in the common dir.
    fn layout() -> (tempfile::TempDir, Refs, PathBuf, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let common = dir.path().join("common");
        let git_dir = common.join("worktrees/wt");
        std::fs::create_dir_all(&git_dir).unwrap();
        let refs = Refs::new(&git_dir, &common);
        (dir, refs, git_dir, common)
    }

    #[test]
    fn loose_packed_and_symbolic_refs_resolve_as_git_would() {
        let (_dir, refs, git_dir, common) = layout();
        assert_eq!(refs.symbolic("HEAD"), Lookup::Absent);
        assert_eq!(refs.sha("HEAD"), Lookup::Absent, "no HEAD, no packed-refs");
        write(&git_dir.join("HEAD"), "ref: refs/heads/main\n");
        assert_eq!(
            refs.symbolic("HEAD"),
            Lookup::Found("refs/heads/main".into())
        );
        assert_eq!(refs.sha("HEAD"), Lookup::Absent, "an unborn branch");
        write(
            &common.join("packed-refs"),
            &format!("# pack-refs with: peeled\n{B} refs/heads/other\n{A} refs/heads/main\n^{B}\n"),
        );
        assert_eq!(
            refs.sha("HEAD"),
            Lookup::Found(A.into()),
            "from packed-refs"
        );
        assert_eq!(refs.sha("refs/heads/other"), Lookup::Found(B.into()));
        assert_eq!(refs.sha("refs/heads/none"), Lookup::Absent);
        write(&common.join("refs/heads/main"), &format!("{B}\n"));
        assert_eq!(
            refs.sha("HEAD"),
            Lookup::Found(B.into()),
            "a loose ref wins over packed-refs"
        );
        assert_eq!(
            refs.symbolic("refs/heads/main"),
            Lookup::Absent,
            "not symbolic"
        );
        let sha256 = "ab".repeat(32);
        write(&common.join("refs/heads/long"), &sha256);
        assert_eq!(refs.sha("refs/heads/long"), Lookup::Found(sha256));
        write(&common.join("refs/heads/odd"), "not an object id\n");
        assert_eq!(refs.sha("refs/heads/odd"), Lookup::Unknown);
        write(&git_dir.join("DETACHED"), &format!("{A}\n"));
        assert_eq!(refs.sha("DETACHED"), Lookup::Found(A.into()));
        // A ref that is a directory cannot be read: ask git.
        std::fs::create_dir_all(common.join("refs/heads/dir/x")).unwrap();
        assert_eq!(refs.sha("refs/heads/dir"), Lookup::Unknown);
        assert_eq!(refs.symbolic("refs/heads/dir"), Lookup::Unknown);
        // Also when reached through a symbolic ref, even if packed-refs names it.
        write(&git_dir.join("SYM"), "ref: refs/heads/dir\n");
        write(
            &common.join("packed-refs"),
            &format!("{A} refs/heads/main\n{A} refs/heads/dir\n"),
        );
        assert_eq!(refs.sha("SYM"), Lookup::Unknown);
        std::fs::create_dir_all(common.join("reftable")).unwrap();
        assert_eq!(
            refs.symbolic("HEAD"),
            Lookup::Unknown,
            "the reftable backend is git's"
        );
        assert_eq!(refs.sha("HEAD"), Lookup::Unknown);
    }

    #[test]
    fn a_broken_packed_refs_is_unknown_and_bad_lines_are_skipped() {
        let (_dir, refs, _git_dir, common) = layout();
        std::fs::create_dir_all(common.join("packed-refs")).unwrap();
        assert_eq!(refs.sha("refs/heads/main"), Lookup::Unknown);
        std::fs::remove_dir(common.join("packed-refs")).unwrap();
        write(
            &common.join("packed-refs"),
            &format!(
                "nonsense\nxyz refs/heads/main\n{A}  refs/heads/main\n# {A} refs/heads/c\n^{A} refs/heads/p\n"
            ),
        );
        assert_eq!(refs.sha("refs/heads/main"), Lookup::Absent);
        // Comment and peeled lines name no ref.
        assert_eq!(refs.sha("refs/heads/c"), Lookup::Absent);
        assert_eq!(refs.sha("refs/heads/p"), Lookup::Absent);
    }

    #[test]
    fn the_origin_url_is_read_from_the_config_unless_git_must_answer() {
        let (_dir, refs, _git_dir, common) = layout();
        assert_eq!(refs.origin_url(), Lookup::Unknown, "no config");
        let config = common.join("config");
        write(
            &config,
            "[core]\n\turl = not-this\n[remote \"upstream\"]\n\turl = up\n[remote \"origin\"]\n\tfetch = +refs/heads/*\n\tURL = git@github.com:acme/kitty.git\n\turl = second\n",
        );
        assert_eq!(
            refs.origin_url(),
            Lookup::Found("git@github.com:acme/kitty.git".into())
        );
        write(&config, "[remote \"upstream\"]\n\turl = up\n");
        assert_eq!(refs.origin_url(), Lookup::Absent);
        for text in [
            "[include]\n\tpath = other\n",
            "[includeIf \"gitdir:x\"]\n",
            "[remote \"origin\"]\n\turl = \"quoted\"\n",
            "[remote \"origin\"]\n\turl = a # comment\n",
        ] {
            write(&config, text);
            assert_eq!(refs.origin_url(), Lookup::Unknown, "{text}");
        }
    }

    #[test]
    fn object_ids_are_40_or_64_hex_digits() {
        assert!(is_object_id(A) && is_object_id(&"f".repeat(64)));
        for bad in [
            "",
            &A[1..],
            &format!("{A}0"),
            &"g".repeat(40),
            &"a".repeat(63),
        ] {
            assert!(!is_object_id(bad), "{bad}");
        }
    }
}
