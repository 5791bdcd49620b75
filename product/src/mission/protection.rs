//! Which branches a mission scaffold may not be committed on (**interop**: the reference's
//! protected-branch policy).
//!
//! `protection.protected_branches` in `.kittify/config.yaml` when present (exactly that list, an
//! empty list protects nothing); otherwise `main`, `master` and the branch `origin/HEAD` names.
//! `SPEC_KITTY_ALLOW_PROTECTED_BRANCH_COMMITS` set to `1`, `true` or `yes` (any case) lifts it.

use std::collections::BTreeSet;

use super::project_config::{DEFAULT_PROTECTED_BRANCHES, ProjectConfig};
use crate::env::{Env, vars};

/// The resolved policy.
///
/// ```
/// use spec_kitty::internals::mission::protection::ProtectionPolicy;
/// let p = ProtectionPolicy::new(["main", "release"], false);
/// assert!(p.is_protected("release"));
/// assert!(!p.is_protected("feature/x"));
/// assert!(!ProtectionPolicy::new(["main"], true).is_protected("main"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtectionPolicy {
    branches: BTreeSet<String>,
    hatch: bool,
}

impl ProtectionPolicy {
    /// An explicit policy.
    pub fn new<S: Into<String>>(branches: impl IntoIterator<Item = S>, hatch: bool) -> Self {
        Self {
            branches: branches.into_iter().map(Into::into).collect(),
            hatch,
        }
    }

    /// Resolve it from the config, the origin's default branch (asked only when the config has
    /// no list) and the environment.
    pub fn resolve(
        config: &ProjectConfig,
        origin_default: impl FnOnce() -> Option<String>,
        env: &Env,
    ) -> Result<Self, String> {
        let hatch = env.is_strictly_truthy(vars::SPEC_KITTY_ALLOW_PROTECTED_BRANCH_COMMITS);
        let branches: BTreeSet<String> = match config.protected_branches()? {
            Some(list) => list.into_iter().collect(),
            None => DEFAULT_PROTECTED_BRANCHES
                .iter()
                .map(|b| b.to_string())
                .chain(origin_default())
                .collect(),
        };
        Ok(Self { branches, hatch })
    }

    /// True when a scaffold commit on `branch` must be refused.
    pub fn is_protected(&self, branch: &str) -> bool {
        !self.hatch && self.branches.contains(branch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn config(text: &str) -> ProjectConfig {
        ProjectConfig::parse(Path::new("c.yaml"), text).unwrap()
    }

    #[test]
    fn absent_list_protects_main_master_and_the_origin_default() {
        let p = ProtectionPolicy::resolve(
            &config("project: {}\n"),
            || Some("trunk".into()),
            &Env::default(),
        )
        .unwrap();
        for b in ["main", "master", "trunk"] {
            assert!(p.is_protected(b), "{b}");
        }
        assert!(!p.is_protected("dev"));
    }

    #[test]
    fn a_list_is_taken_exactly_and_the_origin_is_not_asked() {
        let c = config("protection:\n  protected_branches: [dev]\n");
        let p = ProtectionPolicy::resolve(&c, || panic!("origin asked"), &Env::default()).unwrap();
        assert!(p.is_protected("dev"));
        assert!(!p.is_protected("main"));
        let c = config("protection:\n  protected_branches: []\n");
        let p = ProtectionPolicy::resolve(&c, || panic!("origin asked"), &Env::default()).unwrap();
        assert!(!p.is_protected("main"));
    }

    #[test]
    fn the_hatch_accepts_what_the_reference_accepts() {
        let c = config("project: {}\n");
        for (v, lifted) in [
            ("1", true),
            ("TRUE", true),
            ("yes", true),
            ("on", false),
            ("y", false),
            ("0", false),
        ] {
            let env = Env::from_pairs([(vars::SPEC_KITTY_ALLOW_PROTECTED_BRANCH_COMMITS, v)]);
            let p = ProtectionPolicy::resolve(&c, || None, &env).unwrap();
            assert_eq!(!p.is_protected("main"), lifted, "{v}");
        }
    }
}
