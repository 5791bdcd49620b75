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
            Ok(packed) => packed
                .lines()
                .filter(|l| !l.starts_with('#') && !l.starts_with('^'))
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
