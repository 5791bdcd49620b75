//! The drift canary: ask the binary where it reads and compare with where the home seeded.

use std::path::PathBuf;

use crate::IsolatedHome;

/// The binary reads somewhere other than where the fixture seeded or resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DriftError {
    /// A session was seeded in a directory the binary does not read.
    #[error(
        "DRIFT: the fixture seeded a session under {seeded} but spec-kitty reads {reads}; \
         seed through IsolatedHome::seed (the product's resolver), never a hand-built path"
    )]
    SeededElsewhere {
        /// Where the fixture wrote.
        seeded: PathBuf,
        /// Where the binary reads.
        reads: PathBuf,
    },
    /// The binary's resolver and the harness's disagree.
    #[error("DRIFT: the harness resolves the auth dir to {harness} but spec-kitty reads {reads}")]
    ResolverMismatch {
        /// The harness's answer.
        harness: PathBuf,
        /// The binary's answer.
        reads: PathBuf,
    },
    /// An operator env file the home did not write changes what the binary sees.
    #[error(
        "DRIFT: spec-kitty folds the operator env file {path} into its environment ({tier} tier), \
         which sets {sets}; this home did not write it. Write env files through \
         IsolatedHome::write_home_kitty_env / write_repo_kitty_env, or remove it"
    )]
    StrayEnvFile {
        /// The file.
        path: PathBuf,
        /// `home` or `repository`.
        tier: String,
        /// The variables it supplies.
        sets: String,
    },
    /// A session store, outbox or `.kitty.env` in the sandbox is not where the binary reads.
    #[error("{0}")]
    StrayState(String),
    /// `paths --json` failed.
    #[error("the drift canary could not ask spec-kitty where it reads: {0}")]
    Canary(String),
}

pub(crate) fn check(home: &IsolatedHome) -> Result<(), DriftError> {
    check_in(home, None)
}

pub(crate) fn check_in(
    home: &IsolatedHome,
    dir: Option<&std::path::Path>,
) -> Result<(), DriftError> {
    // The canary reports stray state itself (as an error value), so its own run skips the
    // per-run check that would panic first.
    let mut cmd = home
        .command()
        .with_stray_check(None)
        .args(["paths", "--json"]);
    if let Some(dir) = dir {
        cmd = cmd.current_dir(dir);
    }
    let run = cmd.run();
    let doc = run
        .try_json()
        .map_err(|e| DriftError::Canary(format!("{e}\n{run}")))?;
    let reads = doc
        .get("/auth_dir")
        .and_then(|v| v.as_str())
        .map(PathBuf::from)
        .ok_or_else(|| DriftError::Canary(format!("no auth_dir in `paths --json`\n{run}")))?;
    for seeded in home.seeded_dirs() {
        if seeded != reads {
            return Err(DriftError::SeededElsewhere { seeded, reads });
        }
    }
    let harness = home
        .try_runtime_root()
        .map_err(|e| DriftError::Canary(e.to_string()))?
        .auth_dir();
    if harness != reads {
        return Err(DriftError::ResolverMismatch { harness, reads });
    }
    if let Some(stray) = home
        .stray_check()
        .and_then(|c| c.scan(true).into_iter().next())
    {
        return Err(DriftError::StrayState(stray.to_string()));
    }
    let deliberate = home.deliberate_env_files();
    for file in doc
        .get("/env_files")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
    {
        let path = PathBuf::from(file["path"].as_str().unwrap_or_default());
        let sets: Vec<&str> = file["applied"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str())
            .collect();
        if file["present"] == true && !sets.is_empty() && !deliberate.contains(&path) {
            return Err(DriftError::StrayEnvFile {
                path,
                tier: file["tier"].as_str().unwrap_or("?").to_string(),
                sets: sets.join(", "),
            });
        }
    }
    Ok(())
}
