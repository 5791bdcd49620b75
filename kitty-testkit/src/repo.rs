//! Repository scaffolding: a git repository with a commit, a chosen branch, `.kittify/config.yaml`
//! and `kitty-specs/`, made with git under the home's exact environment.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use spec_kitty::__testkit::{InitDefaults, ProjectConfig, config_path, specs_dir};

use crate::IsolatedHome;

impl IsolatedHome {
    /// Scaffold a repository in the home's work dir (see [`RepoBuilder`] for the choices).
    ///
    /// ```
    /// let home = kitty_testkit::IsolatedHome::new();
    /// let repo = home.repo().build();
    /// assert!(repo.path().starts_with(home.work_dir()));
    /// ```
    pub fn repo(&self) -> RepoBuilder<'_> {
        RepoBuilder::new(self)
    }
}

/// Builds a scaffolded repository inside an [`IsolatedHome`].
///
/// ```
/// let home = kitty_testkit::IsolatedHome::new();
/// let repo = home.repo().branch("feature/x").build();
/// assert!(repo.path().join(".kittify/config.yaml").exists());
/// assert_eq!(repo.git(&["symbolic-ref", "--short", "HEAD"]), "feature/x");
/// assert_eq!(repo.commit_count(), 1);
/// ```
#[derive(Debug)]
#[must_use]
pub struct RepoBuilder<'h> {
    home: &'h IsolatedHome,
    name: String,
    branch: String,
    commit: bool,
    config: bool,
    mission_types: Vec<String>,
    config_text: Option<String>,
    legacy: bool,
}

impl<'h> RepoBuilder<'h> {
    fn new(home: &'h IsolatedHome) -> Self {
        Self {
            home,
            name: "project".into(),
            branch: "feature/kitty".into(),
            commit: true,
            config: true,
            mission_types: vec!["software-dev".into(), "research".into()],
            config_text: None,
            legacy: false,
        }
    }

    /// Directory name under the home's work dir (default `project`).
    pub fn name(mut self, name: &str) -> Self {
        self.name = name.into();
        self
    }

    /// The branch to be on (default `feature/kitty`; `main` and `master` are protected).
    pub fn branch(mut self, branch: &str) -> Self {
        self.branch = branch.into();
        self
    }

    /// Leave the repository without any commit.
    pub fn without_commit(mut self) -> Self {
        self.commit = false;
        self
    }

    /// Leave out `.kittify/config.yaml`.
    pub fn without_config(mut self) -> Self {
        self.config = false;
        self
    }

    /// The activated mission types (empty: none activated).
    pub fn mission_types(mut self, types: &[&str]) -> Self {
        self.mission_types = types.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Write `.kittify/config.yaml` in kitty 0.1's format (`missions.activated`) instead of the
    /// reference's (`mission_type_activations`), to test the migration.
    ///
    /// ```
    /// let home = kitty_testkit::IsolatedHome::new();
    /// let repo = home.repo().legacy_config().build();
    /// let text = std::fs::read_to_string(repo.path().join(".kittify/config.yaml")).unwrap();
    /// assert!(text.contains("activated:"));
    /// ```
    pub fn legacy_config(mut self) -> Self {
        self.legacy = true;
        self
    }

    /// Write exactly `text` as `.kittify/config.yaml`.
    ///
    /// ```
    /// let home = kitty_testkit::IsolatedHome::new();
    /// let repo = home.repo().config_yaml("project: {uuid: u, slug: s}\n").build();
    /// let text = std::fs::read_to_string(repo.path().join(".kittify/config.yaml")).unwrap();
    /// assert_eq!(text, "project: {uuid: u, slug: s}\n");
    /// ```
    pub fn config_yaml(mut self, text: &str) -> Self {
        self.config_text = Some(text.into());
        self
    }

    /// Use the repository that already exists at `<work dir>/<name>` (copied or made by another
    /// tool) instead of creating one; nothing is written.
    ///
    /// ```
    /// let home = kitty_testkit::IsolatedHome::new();
    /// let made = home.repo().name("p").build();
    /// let same = home.repo().name("p").adopt();
    /// assert_eq!(made.path(), same.path());
    /// ```
    pub fn adopt(self) -> Repo {
        Repo {
            path: self.home.work_dir().join(&self.name),
            env: self.home.env_map().clone(),
        }
    }

    /// Create it on the builder's branch without kitty's config, let the reference CLI initialise
    /// it (`init --ai claude --non-interactive`), commit everything, then switch to a new branch
    /// `work_branch`: a repository exactly as a reference user has it.
    ///
    /// ```no_run
    /// let home = kitty_testkit::IsolatedHome::new();
    /// let reference = kitty_testkit::ReferenceCli::require();
    /// let repo = home.repo().branch("main").build_with_reference(&reference, "feat/x");
    /// assert!(repo.path().join(".kittify/config.yaml").is_file());
    /// ```
    ///
    /// The reference's `init` takes seconds, so its output is cached once per repository name
    /// next to the reference's venv (`reference-init-v2-<name>/`, made under a lock by the first
    /// test that needs it, with the repository's own git config, the merge drivers, beside it in
    /// `reference-init-v2-<name>.git-config`) and copied into later repositories: the files and
    /// config entries are the reference's own, byte for byte (the project uuid is then shared by
    /// those repositories).
    pub fn build_with_reference(self, reference: &crate::ReferenceCli, work_branch: &str) -> Repo {
        let home = self.home;
        let name = self.name.clone();
        let repo = self.without_config().build();
        let cache = reference
            .path()
            .parent()
            .and_then(|bin| bin.parent())
            .and_then(|venv| venv.parent())
            .map(|dir| dir.join(format!("reference-init-v2-{name}")));
        let lock = cache.as_ref().and_then(|c| {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(c.with_extension("lock"))
                .ok()?;
            f.lock().ok()?;
            Some(f)
        });
        match cache.as_ref().filter(|c| c.is_dir() && lock.is_some()) {
            Some(template) => {
                copy_tree(template, repo.path());
                // The repository's own git config (the merge drivers) is not in the tree.
                let config = std::fs::read_to_string(template.with_extension("git-config"))
                    .expect("the template's git config is cached beside it");
                for (key, value) in config.split('\0').filter_map(|e| e.split_once('\n')) {
                    repo.git(&["config", "--local", key, value]);
                }
            }
            None => {
                home.reference_command(reference)
                    .current_dir(repo.path())
                    .args(["init", "--ai", "claude", "--non-interactive"])
                    .run()
                    .assert_success();
                if let (Some(template), Some(_)) = (&cache, &lock) {
                    let tmp = template.with_extension("tmp");
                    let _ = std::fs::remove_dir_all(&tmp);
                    copy_tree(repo.path(), &tmp);
                    let config =
                        repo.git(&["config", "--local", "--null", "--get-regexp", "^merge\\."]);
                    std::fs::write(template.with_extension("git-config"), config)
                        .expect("cache the template's git config");
                    let _ = std::fs::rename(&tmp, template);
                }
            }
        }
        drop(lock);
        repo.git(&["add", "--all"]);
        repo.git(&["commit", "--quiet", "-m", "reference init"]);
        repo.git(&["switch", "--quiet", "-c", work_branch]);
        repo
    }

    /// Create it.
    pub fn build(self) -> Repo {
        let path = self.home.work_dir().join(&self.name);
        std::fs::create_dir_all(&path).expect("create repository directory");
        let repo = Repo {
            path,
            env: self.home.env_map().clone(),
        };
        repo.git(&["init", "--quiet", "--initial-branch", &self.branch]);
        if self.config {
            let uuid = crate::PROJECT_UUID;
            let text = match (&self.config_text, self.legacy) {
                (Some(text), _) => text.clone(),
                (None, true) => format!(
                    "project:\n  uuid: {uuid}\n  slug: {}\nmissions:\n  activated: [{}]\n",
                    self.name,
                    self.mission_types.join(", ")
                ),
                (None, false) => ProjectConfig::fresh(
                    uuid,
                    &InitDefaults {
                        slug: self.name.clone(),
                        node_id: "0123456789ab".into(),
                        mission_types: self.mission_types.clone(),
                        agents: vec!["claude".into()],
                    },
                )
                .to_yaml(),
            };
            let file = config_path(&repo.path);
            std::fs::create_dir_all(file.parent().expect("config dir")).expect("mkdir .kittify");
            std::fs::write(&file, text).expect("write config");
            let specs = specs_dir(&repo.path);
            std::fs::create_dir_all(&specs).expect("mkdir kitty-specs");
            std::fs::write(specs.join(".gitkeep"), "").expect("write .gitkeep");
        }
        std::fs::write(repo.path.join("README.md"), "# project\n").expect("write README");
        if self.commit {
            repo.git(&["add", "--all"]);
            // No automatic maintenance: git would start it detached, still running in the
            // repository after the commit returns.
            repo.git(&[
                "-c",
                "maintenance.auto=false",
                "commit",
                "--quiet",
                "-m",
                "initial",
            ]);
        }
        repo
    }
}

/// A scaffolded repository.
#[derive(Debug, Clone)]
pub struct Repo {
    path: PathBuf,
    env: std::collections::BTreeMap<String, String>,
}

impl Repo {
    /// A repository already at `path`, run under `env`.
    pub(crate) fn existing(path: PathBuf, env: std::collections::BTreeMap<String, String>) -> Self {
        Self { path, env }
    }

    /// Its top-level directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `kitty-specs/`.
    pub fn specs_dir(&self) -> PathBuf {
        specs_dir(&self.path)
    }

    /// Run git here under the home's exact environment; panics on failure; returns trimmed stdout.
    #[track_caller]
    pub fn git(&self, args: &[&str]) -> String {
        self.git_in(&self.path, args)
    }

    /// Run git in `dir` (a worktree of this repository, or any directory) under the home's exact
    /// environment, never the machine's identity or config; panics on failure; returns trimmed
    /// stdout.
    ///
    /// ```
    /// let home = kitty_testkit::IsolatedHome::new();
    /// let repo = home.repo().build();
    /// let sub = repo.path().join("sub");
    /// std::fs::create_dir(&sub).unwrap();
    /// assert_eq!(repo.git_in(&sub, &["rev-parse", "--show-prefix"]), "sub/");
    /// ```
    #[track_caller]
    pub fn git_in(&self, dir: &Path, args: &[&str]) -> String {
        let out = Command::new(self.git_program())
            .args(args)
            .current_dir(dir)
            .env_clear()
            .envs(&self.env)
            .output()
            .expect("run git");
        assert!(
            out.status.success(),
            "git {} failed:\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Install an executable git hook `name` (e.g. `pre-commit`) with the shell script `body`.
    ///
    /// ```
    /// let home = kitty_testkit::IsolatedHome::new();
    /// let repo = home.repo().build();
    /// repo.install_hook("pre-commit", "exit 0");
    /// assert!(repo.path().join(".git/hooks/pre-commit").is_file());
    /// ```
    pub fn install_hook(&self, name: &str, body: &str) {
        let hook = self.path.join(".git").join("hooks").join(name);
        std::fs::create_dir_all(hook.parent().expect("hooks dir")).expect("mkdir hooks");
        std::fs::write(&hook, format!("#!/bin/sh\n{body}\n")).expect("write hook");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))
                .expect("chmod hook");
        }
    }

    /// `git` on this home's PATH, by path: spawned without forking the test process (the
    /// product's own resolver).
    fn git_program(&self) -> PathBuf {
        spec_kitty::__testkit::git_on(self.env.get("PATH").map(OsStr::new))
    }

    /// Commits reachable from HEAD (0 without a commit).
    pub fn commit_count(&self) -> usize {
        let out = Command::new(self.git_program())
            .args(["rev-list", "--count", "HEAD"])
            .current_dir(&self.path)
            .env_clear()
            .envs(&self.env)
            .output()
            .expect("run git");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0)
    }

    /// The mission directories under `kitty-specs/`, sorted.
    pub fn mission_dirs(&self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(self.specs_dir())
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.is_dir())
                    .collect()
            })
            .unwrap_or_default();
        dirs.sort();
        dirs
    }

    /// Wait until no process has its working directory inside this repository, for at most
    /// `timeout`; `false` if one still does. A `spec-kitty` killed with `SIGKILL` leaves the git
    /// commands it started running on their own (a `git add` holding the index lock, say);
    /// call this after the kill so that what runs next does not race them.
    ///
    /// Reads `/proc`, so it waits only on Linux; elsewhere it returns `true` at once.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let home = kitty_testkit::IsolatedHome::new();
    /// let repo = home.repo().build();
    /// let mut git = std::process::Command::new("sh")
    ///     .args(["-c", "sleep 0.2"])
    ///     .current_dir(repo.path())
    ///     .spawn()
    ///     .unwrap();
    /// assert!(repo.wait_until_idle(Duration::from_secs(20)));
    /// # git.wait().unwrap();
    /// ```
    pub fn wait_until_idle(&self, timeout: std::time::Duration) -> bool {
        let top = self
            .path
            .canonicalize()
            .unwrap_or_else(|_| self.path.clone());
        crate::poll::poll_until(timeout, || !any_process_in(&top))
    }
}

/// Whether a live process's working directory is `top` or under it (Linux: `/proc/<pid>/cwd`;
/// a zombie has none).
fn any_process_in(top: &Path) -> bool {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return false;
    };
    procs
        .flatten()
        .any(|p| std::fs::read_link(p.path().join("cwd")).is_ok_and(|cwd| cwd.starts_with(top)))
}

/// Copy the tree at `from` into `to` (created), files, modes and symbolic links, without `.git`.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy's directory");
    for entry in std::fs::read_dir(from)
        .expect("read the template")
        .flatten()
    {
        let name = entry.file_name();
        if name == ".git" {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        let kind = entry.file_type().expect("file type");
        if kind.is_symlink() {
            #[cfg(unix)]
            std::os::unix::fs::symlink(std::fs::read_link(&src).expect("read link"), &dst)
                .expect("copy a link");
        } else if kind.is_dir() {
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).expect("copy a file");
        }
    }
}

// Linux-only: the wait reads `/proc` (elsewhere it returns at once).
#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::time::Duration;

    #[test]
    fn waits_for_a_process_in_the_repository_and_only_for_it() {
        let home = crate::IsolatedHome::new();
        let repo = home.repo().build();
        // Idle once whatever git left running in it is done.
        assert!(repo.wait_until_idle(Duration::from_secs(20)));
        // A process elsewhere is not waited for.
        let mut elsewhere = std::process::Command::new("sleep")
            .arg("60")
            .current_dir(home.path())
            .spawn()
            .unwrap();
        assert!(repo.wait_until_idle(Duration::from_secs(20)));
        assert!(elsewhere.try_wait().unwrap().is_none(), "still running");
        elsewhere.kill().unwrap();
        elsewhere.wait().unwrap();
        // One in a subdirectory holds it until it ends.
        let mut inside = std::process::Command::new("sleep")
            .arg("1")
            .current_dir(repo.specs_dir())
            .spawn()
            .unwrap();
        assert!(
            !repo.wait_until_idle(Duration::from_millis(50)),
            "not idle yet"
        );
        assert!(repo.wait_until_idle(Duration::from_secs(20)));
        // `sleep` has exited (only its zombie is left for us to reap).
        let exited = inside.try_wait().unwrap();
        assert!(exited.is_some_and(|s| s.success()), "{exited:?}");
    }
}
