//! Lifecycle fixtures: a home with a mission at a given stage, reached through the real commands
//! (`spec-kitty` of the home, as an agent would run them), so a plugin is tested against states
//! the product really makes. The planning stages are here; the execution stages (a package in
//! each lane, merged) come with the native execution commands.

use crate::{IsolatedHome, Repo};

/// How far the mission has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissionStage {
    /// `agent mission create`: the mission directory, its scaffolds and its first commit.
    Created,
    /// And a written spec, committed with `spec-commit`.
    Specified,
    /// And a written plan, committed by `agent mission setup-plan`.
    Planned,
    /// And `tasks.md` with this many work packages (each depending on the one before it, one
    /// subtask and one requirement each), finalized by `agent mission finalize-tasks`: every
    /// package in the `planned` lane.
    Finalized {
        /// How many work packages (at least 1).
        work_packages: usize,
    },
    /// And its analysis recorded (`agent mission record-analysis`, no findings above low): the
    /// stage `agent action implement` starts from.
    Analysed {
        /// How many work packages (at least 1).
        work_packages: usize,
    },
}

/// A mission made by [`IsolatedHome::mission_at`].
#[derive(Debug)]
pub struct StagedMission {
    /// The repository (on branch `feat/work`).
    pub repo: Repo,
    /// The mission's directory name (what `--mission` takes).
    pub slug: String,
    /// Its ULID.
    pub mission_id: String,
}

impl StagedMission {
    /// The mission's directory in the repository.
    pub fn dir(&self) -> std::path::PathBuf {
        self.repo.specs_dir().join(&self.slug)
    }
}

impl IsolatedHome {
    /// A new repository (`staged-<n>` in the work directory, branch `feat/work`, the mission types
    /// activated) with a mission `demo`
    /// brought to `stage` by this home's `spec-kitty`, each step checked to succeed.
    ///
    /// ```
    /// use kitty_testkit::{IsolatedHome, MissionStage, SpecKittyBin};
    /// let Some(bin) = SpecKittyBin::discover() else { return }; // SPEC_KITTY_BIN, or skip
    /// let home = IsolatedHome::builder().binary(bin).build();
    /// let m = home.mission_at(MissionStage::Finalized { work_packages: 2 });
    /// assert!(m.dir().join("tasks/WP02-part-2.md").is_file());
    /// let board = home.command().current_dir(m.repo.path())
    ///     .args(["agent", "tasks", "status", "--mission", &m.slug, "--json"]).run();
    /// board.assert_success();
    /// ```
    ///
    /// A staging is built once per binary, stage and environment and kept on disk (under the
    /// system's temporary directory); later calls copy it (see `KITTY_TESTKIT_NO_STAGE_CACHE`
    /// in the crate's documentation).
    #[track_caller]
    pub fn mission_at(&self, stage: MissionStage) -> StagedMission {
        // Each fixture its own repository in this home.
        static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("staged-{n}");
        let slot = crate::stage_cache::Slot::open(self, &format!("{stage:?}"));
        if let Some(m) = slot.as_ref().and_then(|s| s.copy_into(self, &name)) {
            return m;
        }
        let before = slot
            .as_ref()
            .map(|_| crate::stage_cache::outside_work(self));
        let m = self.stage(&name, stage);
        if let (Some(slot), Some(before)) = (slot, before)
            && crate::stage_cache::outside_work(self) == before
        {
            slot.store(&m);
        }
        m
    }

    /// Build the repository `name` with the mission brought to `stage`.
    #[track_caller]
    fn stage(&self, name: &str, stage: MissionStage) -> StagedMission {
        let repo = self
            .repo()
            .name(name)
            .branch("feat/work")
            .mission_types(&["software-dev", "documentation", "research", "plan"])
            .build();
        if matches!(stage, MissionStage::Analysed { .. }) {
            // As `init` leaves a project: the runtime files ignored (the work trees, implement's
            // workspace contexts), the status log merged as a union of events, the drivers set.
            let ignore = repo.path().join(".gitignore");
            let before = std::fs::read_to_string(&ignore).unwrap_or_default();
            write(
                &ignore,
                &format!("{before}.worktrees/\n.kittify/workspaces/\n"),
            );
            write(
                &repo.path().join(".gitattributes"),
                "kitty-specs/**/status.events.jsonl merge=spec-kitty-event-log\n",
            );
            repo.git(&["add", ".gitignore", ".gitattributes"]);
            repo.git(&["commit", "-q", "-m", "Initialise the project"]);
            // The merge drivers `init` registers (the reference's implement merges the recorded
            // planning commit into a new lane with them).
            for d in spec_kitty::__testkit::MERGE_DRIVERS {
                let key = d.config_key();
                repo.git(&["config", &format!("merge.{key}.name"), d.description]);
                repo.git(&["config", &format!("merge.{key}.driver"), &d.command()]);
            }
        }
        let created = self
            .command()
            .current_dir(repo.path())
            .args(["agent", "mission", "create", "demo", "--json"])
            .run();
        created.assert_success();
        let doc = created.json();
        let slug = doc.str("/mission_slug").to_string();
        let mission_id = doc.str("/mission_id").to_string();
        let m = StagedMission {
            repo,
            slug,
            mission_id,
        };
        let n = match stage {
            MissionStage::Created => return m,
            MissionStage::Finalized { work_packages }
            | MissionStage::Analysed { work_packages } => work_packages.max(1),
            _ => 1,
        };
        let step = |args: &[&str]| {
            self.command()
                .current_dir(m.repo.path())
                .args(args)
                .arg("--json")
                .run()
                .assert_success();
        };
        let dir = m.dir();
        let rel = format!("kitty-specs/{}", m.slug);
        write(&dir.join("spec.md"), &spec(n));
        step(&[
            "spec-commit",
            "--mission",
            &m.slug,
            "--message",
            "Add the spec",
            &format!("{rel}/spec.md"),
            &format!("{rel}/meta.json"),
        ]);
        if stage == MissionStage::Specified {
            return m;
        }
        step(&["agent", "mission", "setup-plan", "--mission", &m.slug]);
        write(&dir.join("plan.md"), PLAN);
        step(&["agent", "mission", "setup-plan", "--mission", &m.slug]);
        if stage == MissionStage::Planned {
            return m;
        }
        write(&dir.join("tasks.md"), &tasks(n));
        for k in 1..=n {
            write(
                &dir.join("tasks").join(format!("WP{k:02}-part-{k}.md")),
                &work_package(k),
            );
        }
        step(&["agent", "mission", "finalize-tasks", "--mission", &m.slug]);
        if matches!(stage, MissionStage::Analysed { .. }) {
            let report = self.work_dir().join(format!("analysis-{}.md", m.slug));
            write(&report, ANALYSIS);
            step(&[
                "agent",
                "mission",
                "record-analysis",
                "--mission",
                &m.slug,
                "--input-file",
                &report.to_string_lossy(),
            ]);
        }
        m
    }
}

#[track_caller]
fn write(path: &std::path::Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create the mission's directory");
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

fn spec(n: usize) -> String {
    let rows: String = (1..=n)
        .map(|k| {
            format!(
                "| FR-{k:03} | Part {k} | As a user, I want part {k} of the tool so that the whole \
                 task can be done. | High | Open |\n"
            )
        })
        .collect();
    format!(
        "# Mission Specification: Demo\n\n**Status**: Draft\n\n\
         ## User Scenarios & Testing *(mandatory)*\n\n\
         ### User Story 1 - Run the tool (Priority: P1)\n\n\
         A user runs the tool on a file and reads its answer.\n\n\
         **Why this priority**: Running it is the whole point.\n\n\
         **Independent Test**: Run the tool on a sample file and check its output.\n\n\
         **Acceptance Scenarios**:\n\n\
         1. **Given** a sample file, **When** the user runs the tool, **Then** it prints the answer and exits 0.\n\n\
         ### Edge Cases\n\n- A missing file is reported on stderr with exit status 2.\n\n\
         ## Requirements *(mandatory)*\n\n### Functional Requirements\n\n\
         | ID | Title | User Story | Priority | Status |\n|----|-------|------------|----------|--------|\n\
         {rows}\n\
         ## Success Criteria *(mandatory)*\n\n\
         - **SC-001**: Every part works on the sample file.\n"
    )
}

const ANALYSIS: &str = "---\nschema: analysis-findings/v1\nfindings:\n  - id: A1\n    severity: low\n    \
category: coverage\n    summary: \"The edge case has no dedicated test.\"\n\
counts: {critical: 0, high: 0, medium: 0, low: 1, info: 0}\nverdict_hint: ready\n---\n\n\
## Specification Analysis Report\n\nOne low finding: the edge case has no dedicated test.\n";

const PLAN: &str = "# Implementation Plan: Demo\n\n\
## Summary\n\nA POSIX shell tool in parts, each in its own directory, each with its own test.\n\n\
## Technical Context\n\n\
**Language/Version**: POSIX sh\n**Primary Dependencies**: none (coreutils only)\n\
**Storage**: N/A\n**Testing**: shell test scripts\n**Target Platform**: Linux\n\
**Project Type**: single\n**Performance Goals**: a 1 MB file in under one second\n\
**Constraints**: no dependencies beyond coreutils\n**Scale/Scope**: a few scripts\n\n\
## Charter Check\n\nThis project has no charter; nothing to check.\n\n\
## Project Structure\n\nOne directory per part (`part1/`, `part2/`, ...), each holding its script.\n\n\
**Structure Decision**: one project, one directory per part.\n";

fn tasks(n: usize) -> String {
    let index: String = (1..=n)
        .map(|k| format!("| T{k:03} | Write part{k}/main.sh | WP{k:02} | |\n"))
        .collect();
    let sections: String = (1..=n)
        .map(|k| {
            let deps = if k == 1 {
                "- None (starting package).".to_string()
            } else {
                format!("- Depends on WP{:02}.", k - 1)
            };
            format!(
                "## Work Package WP{k:02}: Part {k} (Priority: P1)\n\n\
                 **Goal**: Provide `part{k}/main.sh`.\n\
                 **Independent Test**: `sh part{k}/main.sh` exits 0.\n\
                 **Prompt**: `tasks/WP{k:02}-part-{k}.md`\n\
                 **Requirement Refs**: FR-{k:03}\n\n\
                 ### Included Subtasks\n\nT{k:03} Write part{k}/main.sh (WP{k:02})\n\n\
                 ### Dependencies\n\n{deps}\n\n---\n\n"
            )
        })
        .collect();
    format!(
        "# Work Packages: Demo\n\n## Subtask Index\n\n\
         | ID | Description | WP | Parallel |\n|----|-------------|----|----------|\n{index}\n---\n\n{sections}"
    )
}

fn work_package(k: usize) -> String {
    let deps = if k == 1 {
        "[]".to_string()
    } else {
        format!("[\"WP{:02}\"]", k - 1)
    };
    format!(
        "---\nwork_package_id: \"WP{k:02}\"\ntitle: \"Part {k}\"\ndependencies: {deps}\n\
         requirement_refs: [\"FR-{k:03}\"]\nsubtasks: [\"T{k:03}\"]\ntask_type: \"implement\"\n\
         phase: \"Phase 1 - Core\"\nexecution_mode: \"code_change\"\n\
         owned_files: [\"part{k}/main.sh\"]\nauthoritative_surface: \"part{k}/\"\n\
         create_intent: [\"part{k}/main.sh\"]\nagent_profile: \"implementer-ivan\"\n\
         role: \"implementer\"\nagent: \"claude\"\nmodel: \"\"\n---\n\n\
         # Work Package Prompt: WP{k:02} – Part {k}\n\n## Objective\n\n\
         Write `part{k}/main.sh`.\n\n## Definition of Done\n\n\
         - The subtask is marked done with `spec-kitty agent tasks mark-status`.\n"
    )
}
