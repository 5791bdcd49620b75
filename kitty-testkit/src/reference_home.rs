//! A home starts as the reference leaves one after its first run: the files its start-up writes
//! into a new home (its runtime under `SPEC_KITTY_HOME`, every agent's command and skill files),
//! written once by the reference itself and copied in before the home's first reference run.
//!
//! On a new home the reference spends about 0.6 CPU-seconds of every first run rendering some
//! 600 files; a differential test makes a new home per side, so that start-up was most of the
//! oracle's cost. The copy is what the reference's own first run wrote in a new home, taken only
//! from where its start-up writes (files that were not there before it ran); a seeded home's first
//! run then finds them current and writes nothing more there, as on a machine where the reference
//! has run before. [`SEED_OFF_VAR`] (or [`crate::ReferenceCli::unseeded`]) leaves every home new.
//! Unix only: the reference's runtime lives elsewhere on Windows.

use std::path::{Path, PathBuf};

use crate::{IsolatedHome, ReferenceCli};

/// Set (non-empty) to leave every home new: the reference's first run in a home does its own
/// start-up, as on a new machine.
pub const SEED_OFF_VAR: &str = "KITTY_REFERENCE_NEW_HOMES";

/// Bump when what a template holds changes.
const TEMPLATE_VERSION: u32 = 1;

/// The three places the reference's start-up writes, as `home`'s environment resolves them: its
/// runtime (`SPEC_KITTY_HOME`, else `HOME/.kittify`), `HOME`, and `XDG_CONFIG_HOME` (else
/// `HOME/.config`). `None` without a `HOME`.
fn roots(home: &IsolatedHome) -> Option<[(&'static str, PathBuf); 3]> {
    let set = |name: &str| home.var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let user = set("HOME")?;
    Some([
        (
            "runtime",
            set("SPEC_KITTY_HOME").unwrap_or_else(|| user.join(".kittify")),
        ),
        (
            "config",
            set("XDG_CONFIG_HOME").unwrap_or_else(|| user.join(".config")),
        ),
        ("home", user),
    ])
}

/// Copy the reference's first-run files into `home` unless it has had them (its runtime holds the
/// reference's version stamp) or seeding is off. Quietly does nothing when no template can be made
/// (the reference then does its own start-up); says why on stderr.
pub(crate) fn seed(home: &IsolatedHome, reference: &ReferenceCli) {
    if !reference.is_seeded() || crate::process_env::non_empty_var(SEED_OFF_VAR).is_some() {
        return;
    }
    if !cfg!(unix) {
        return;
    }
    let Some(roots) = roots(home) else { return };
    if roots[0].1.join("cache/version.lock").exists() {
        return;
    }
    let template = match template(reference) {
        Ok(Some(t)) => t,
        Ok(None) => return,
        Err(why) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!(
                    "kitty-testkit: homes are not seeded with the reference's start-up: {why}"
                );
            }
            return;
        }
    };
    for (name, root) in &roots {
        let from = template.join(name);
        if from.is_dir()
            && let Err(e) = copy_missing(&from, root)
        {
            #[allow(clippy::print_stderr)]
            {
                eprintln!(
                    "kitty-testkit: seeding {} from {} failed part way ({e}); the reference \
                     completes its own start-up",
                    root.display(),
                    from.display()
                );
            }
        }
    }
}

/// The template for `reference`, made on first use (under a lock) beside its venv:
/// `target/reference-home-v1-<key>/{runtime,config,home}`. `None` when the reference is not in a
/// venv laid out as `scripts/install-reference` makes it (nowhere to keep a template).
fn template(reference: &ReferenceCli) -> Result<Option<PathBuf>, String> {
    let path = reference.path();
    if path.file_stem().and_then(|s| s.to_str()) != Some("spec-kitty") {
        return Ok(None);
    }
    let Some(venv) = path.parent().and_then(Path::parent) else {
        return Ok(None);
    };
    // Only a reference installed in a venv (`<venv>/bin/spec-kitty`): the template goes beside it.
    let Some(dir) = venv.parent().filter(|_| venv.join("pyvenv.cfg").is_file()) else {
        return Ok(None);
    };
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let key = {
        use std::hash::{Hash, Hasher};
        let mut h = std::hash::DefaultHasher::new();
        path.hash(&mut h);
        meta.len().hash(&mut h);
        meta.modified().ok().hash(&mut h);
        h.finish()
    };
    let template = dir.join(format!("reference-home-v{TEMPLATE_VERSION}-{key:016x}"));
    if template.is_dir() {
        return Ok(Some(template));
    }
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(template.with_extension("lock"))
        .map_err(|e| format!("the template's lock: {e}"))?;
    lock.lock()
        .map_err(|e| format!("the template's lock: {e}"))?;
    if template.is_dir() {
        return Ok(Some(template));
    }
    make(reference, &template)?;
    Ok(Some(template))
}

/// Run the reference once in a new home, and keep what its start-up wrote in each root.
fn make(reference: &ReferenceCli, template: &Path) -> Result<(), String> {
    let home = IsolatedHome::new();
    let roots = roots(&home).ok_or("a new home has no HOME")?;
    let before: Vec<Vec<PathBuf>> = roots.iter().map(|(_, r)| files(r)).collect();
    let run = home
        .reference_command(&reference.clone().unseeded())
        .current_dir(home.work_dir())
        .args(["mission", "list", "--json"])
        .run();
    if run.code() != Some(0) {
        return Err(format!(
            "the reference's `mission list --json` in a new home exited {:?}: {}",
            run.code(),
            run.stderr().trim()
        ));
    }
    let tmp = template.with_extension("tmp");
    let _ = std::fs::remove_dir_all(&tmp);
    let mut copied = 0;
    for ((name, root), before) in roots.iter().zip(&before) {
        for file in files(root) {
            // A file inside another root nested in this one is that root's.
            let elsewhere = roots
                .iter()
                .any(|(other, r)| other != name && r.starts_with(root) && file.starts_with(r));
            if before.contains(&file) || elsewhere {
                continue;
            }
            let rel = file.strip_prefix(root).map_err(|e| e.to_string())?;
            let dest = tmp.join(name).join(rel);
            std::fs::create_dir_all(dest.parent().unwrap_or(&tmp))
                .and_then(|()| std::fs::copy(&file, &dest))
                .map_err(|e| format!("copying {}: {e}", file.display()))?;
            copied += 1;
        }
    }
    if copied == 0 {
        return Err("the reference's first run wrote nothing where its start-up writes".into());
    }
    std::fs::rename(&tmp, template).map_err(|e| format!("keeping the template: {e}"))
}

/// Every file (not directory) under `root`, symlinks not followed.
fn files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(_) => out.push(e.path()),
                Err(_) => {}
            }
        }
    }
    out
}

/// Copy every file under `from` to the same place under `to`, keeping modes; a file already
/// there is left as it is.
fn copy_missing(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)?.flatten() {
        let dest = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_missing(&e.path(), &dest)?;
        } else if std::fs::symlink_metadata(&dest).is_err() {
            std::fs::copy(e.path(), &dest)?;
        }
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_copy_keeps_modes_and_never_replaces_a_file_already_there() {
        let from = tempfile::tempdir().unwrap();
        let to = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(from.path().join("a/b")).unwrap();
        std::fs::write(from.path().join("a/b/ro.md"), "template").unwrap();
        std::fs::set_permissions(
            from.path().join("a/b/ro.md"),
            std::fs::Permissions::from_mode(0o444),
        )
        .unwrap();
        std::fs::write(from.path().join("kept"), "template").unwrap();
        std::fs::write(to.path().join("kept"), "already here").unwrap();
        super::copy_missing(from.path(), to.path()).unwrap();
        let copied = to.path().join("a/b/ro.md");
        assert_eq!(std::fs::read_to_string(&copied).unwrap(), "template");
        assert_eq!(
            std::fs::metadata(&copied).unwrap().permissions().mode() & 0o777,
            0o444
        );
        assert_eq!(
            std::fs::read_to_string(to.path().join("kept")).unwrap(),
            "already here"
        );
    }
}
