//! A `git` that stalls at a chosen command: the kill point of crash-consistency tests.

use std::path::PathBuf;
use std::time::Duration;

use crate::IsolatedHome;

/// While alive, every `git` run under the home whose arguments contain the pattern stops there
/// (its process sleeps) instead of running; all other `git` runs pass through to the real git.
/// Dropping it kills any stalled `git` and removes the shim.
///
/// ```no_run
/// # let home = kitty_testkit::IsolatedHome::new();
/// # let repo = home.repo().build();
/// let stall = home.stall_git_on(" commit ");
/// let running = home.command().current_dir(repo.path())
///     .args(["agent", "mission", "create", "x", "--json"]).spawn();
/// assert!(stall.wait_until_stalled(std::time::Duration::from_secs(10)));
/// let killed = running.kill();
/// # let _ = killed;
/// ```
#[derive(Debug)]
#[must_use = "the stall lasts while this value lives"]
pub struct GitStall {
    script: PathBuf,
    marker: PathBuf,
}

impl IsolatedHome {
    /// Install a `git` shim first on this home's `PATH` that stalls on `pattern` (matched against
    /// `" <all arguments> "`, so `" commit "` matches the subcommand `commit`).
    pub fn stall_git_on(&self, pattern: &str) -> GitStall {
        let real = self
            .var("PATH")
            .and_then(|p| {
                std::env::split_paths(p)
                    .filter(|d| *d != self.bin_dir())
                    .map(|d| d.join("git"))
                    .find(|g| g.is_file())
            })
            .expect("a real git on PATH");
        let script = self.bin_dir().join("git");
        let marker = self.path().join("git-stalled.pid");
        let _ = std::fs::remove_file(&marker);
        let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
        let body = format!(
            "#!/bin/sh\ncase \" $* \" in\n  *{pat}*) echo $$ > {marker}; exec sleep 600;;\nesac\nexec {real} \"$@\"\n",
            pat = quote(pattern),
            marker = quote(&marker.to_string_lossy()),
            real = quote(&real.to_string_lossy()),
        );
        std::fs::write(&script, body).expect("write the git shim");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
                .expect("make the git shim executable");
        }
        GitStall { script, marker }
    }
}

impl IsolatedHome {
    /// Install the hook `hook` (e.g. `post-commit`) in `repo` so that it stalls: a kill point
    /// inside `git commit` after the commit is recorded.
    pub fn stall_in_hook(&self, repo: &crate::Repo, hook: &str) -> GitStall {
        let marker = self.path().join("git-stalled.pid");
        let _ = std::fs::remove_file(&marker);
        repo.install_hook(
            hook,
            &format!("echo $$ > '{}'\nexec sleep 600", marker.display()),
        );
        GitStall {
            script: repo.path().join(".git").join("hooks").join(hook),
            marker,
        }
    }
}

impl GitStall {
    /// Wait until a `git` run has reached the pattern and stalled. `false` on timeout.
    pub fn wait_until_stalled(&self, timeout: Duration) -> bool {
        crate::poll::poll_until(timeout, || {
            std::fs::read_to_string(&self.marker).is_ok_and(|p| !p.trim().is_empty())
        })
    }
}

impl Drop for GitStall {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.script);
        if let Ok(pid) = std::fs::read_to_string(&self.marker) {
            let _ = std::process::Command::new("kill")
                .args(["-9", pid.trim()])
                .status();
        }
        let _ = std::fs::remove_file(&self.marker);
    }
}
