//! A project's sync consent, seeded where the product reads it: the reference CLI's per-project
//! store (`RuntimeRoot::reference_project_store`), in the reference's own table shapes, as its
//! `spec-kitty sync opt-in` and `opt-out` record it.

use crate::{IsolatedHome, Repo};

/// The project uuid of every repository [`crate::RepoBuilder::build`] initialises (and of
/// [`IsolatedHome::seed_queued_events`]' events).
pub const PROJECT_UUID: &str = "5f0c8c1e-0000-4000-8000-00000000c0de";

impl IsolatedHome {
    /// Record `project_uuid`'s sync decision: granted (as `spec-kitty sync opt-in`) or refused
    /// (as `sync opt-out`). Without a grant the product queues nothing for that project; after a
    /// refusal it sends none of its queued events.
    ///
    /// ```
    /// let home = kitty_testkit::IsolatedHome::new();
    /// home.seed_sync_consent(kitty_testkit::PROJECT_UUID, true);
    /// let store = home.runtime_root().reference_project_store(kitty_testkit::PROJECT_UUID);
    /// assert!(store.is_file());
    /// ```
    pub fn seed_sync_consent(&self, project_uuid: &str, granted: bool) {
        let store = self.runtime_root().reference_project_store(project_uuid);
        std::fs::create_dir_all(store.parent().expect("the store has a directory"))
            .expect("create the project store's directory");
        spec_kitty::__testkit::record_consent(
            &store,
            project_uuid,
            granted,
            &chrono::Utc::now().to_rfc3339(),
        )
        .expect("record the project's sync decision");
        // Private, as everything under the runtime root is expected to be.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let dir = store.parent().expect("the store has a directory");
            for d in dir.ancestors().take(3) {
                let _ = std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700));
            }
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let _ = std::fs::set_permissions(e.path(), std::fs::Permissions::from_mode(0o600));
            }
        }
    }

    /// [`seed_sync_consent`](Self::seed_sync_consent) granted for `repo`'s project.
    pub fn grant_sync_consent(&self, repo: &Repo) {
        self.seed_sync_consent(&repo.project_uuid(), true);
    }
}

impl Repo {
    /// `project.uuid` of this repository's `.kittify/config.yaml`.
    #[track_caller]
    pub fn project_uuid(&self) -> String {
        let path = spec_kitty::__testkit::config_path(self.path());
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{} cannot be read ({e}): initialise the repository first",
                path.display()
            )
        });
        let config = spec_kitty::__testkit::ProjectConfig::parse(&path, &text)
            .unwrap_or_else(|e| panic!("{e}"));
        config
            .uuid()
            .unwrap_or_else(|| panic!("{} has no project.uuid", path.display()))
            .to_string()
    }
}
