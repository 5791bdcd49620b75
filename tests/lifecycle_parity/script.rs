//! The reference's whole software-dev lifecycle as its prompts drive it, step by step: the
//! commands in order, and the files an agent writes between them (from `content/`).

use std::path::{Path, PathBuf};

use kitty_testkit::{IsolatedHome, Repo};
use serde_json::Value;

/// The authored files: spec, plan, tasks, work packages, analysis, code.
fn content(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/lifecycle_parity/content")
        .join(name)
}

/// What one step did.
#[derive(Debug, Clone)]
pub struct StepRecord {
    pub name: String,
    pub code: Option<i32>,
    pub stdout: String,
    /// What kitty logged (at `info`: whether it handed the step to the reference).
    pub stderr: String,
    /// Whether the reference's own program ran the step (a mixed run's turns).
    pub by_reference: bool,
}

/// How `spec-kitty` is found in one run: the program to call and the PATH git's merge drivers see.
pub struct Launcher {
    pub program: PathBuf,
    pub path: String,
    /// kitty alone (no reference anywhere, delegation off): the reference's workarounds
    /// (W1..W5) are left out.
    pub alone: bool,
    /// A mixed run: this program (the reference) takes every other step, starting with the
    /// first when `.1` is true, else with the second.
    pub alternate: Option<(PathBuf, bool)>,
}

/// `args` without the reference's workarounds' flags, as its prompts give the step `name`: W1's
/// `--mission` on implement and review (their prompts pass only the work package), W2's
/// `--no-auto-commit`, W3's `--force` and W5's `--lenient`.
pub fn without_workarounds<'a>(name: &str, args: &[&'a str]) -> Vec<&'a str> {
    let claim = name.starts_with("implement-") || name.starts_with("review-");
    let mut out = Vec::new();
    let mut rest = args.iter().copied();
    while let Some(a) = rest.next() {
        match a {
            "--mission" if claim => {
                rest.next();
            }
            "--no-auto-commit" | "--force" | "--lenient" => {}
            _ => out.push(a),
        }
    }
    out
}

/// One run of the lifecycle in `repo` (initialised and committed by the caller).
pub struct Run<'a> {
    pub home: &'a IsolatedHome,
    pub repo: &'a Repo,
    pub launcher: Launcher,
    pub records: Vec<StepRecord>,
}

impl Run<'_> {
    fn cli(&mut self, name: &str, args: &[&str]) -> Value {
        // Kitty alone needs none of the reference's workarounds: they are left out.
        let args = if self.launcher.alone {
            without_workarounds(name, args)
        } else {
            args.to_vec()
        };
        let tmp = self.home.path().join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        let (program, by_reference) = match &self.launcher.alternate {
            Some((other, first)) if self.records.len().is_multiple_of(2) == *first => (other, true),
            _ => (&self.launcher.program, false),
        };
        let run = self
            .home
            .program(program)
            .env("PATH", &self.launcher.path)
            .env("SPEC_KITTY_NO_UPGRADE_CHECK", "1")
            .env("COLUMNS", "200")
            .env("NO_COLOR", "1")
            .env("SPEC_KITTY_LOG", "info")
            .env("TMPDIR", tmp.to_str().unwrap());
        let run = if self.launcher.alone {
            run.env("SPEC_KITTY_REFERENCE", "")
        } else {
            run
        };
        let run = run.current_dir(self.repo.path()).args(&args).run();
        let stdout = run.stdout().to_string();
        self.records.push(StepRecord {
            name: name.to_string(),
            code: run.code(),
            stdout: stdout.clone(),
            stderr: run.stderr().to_string(),
            by_reference,
        });
        serde_json::from_str(stdout.trim()).unwrap_or(Value::Null)
    }

    fn git_ok(&self, dir: &Path, args: &[&str]) -> bool {
        std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .env_clear()
            .envs(self.home.env_map())
            .status()
            .unwrap()
            .success()
    }

    /// The lifecycle, from the first prompt's checks to the merge. The reference needs five
    /// workarounds to finish (W1..W5, each said where it is used); they are part of the script.
    pub fn lifecycle(&mut self) {
        let top = self.repo.path().to_path_buf();
        self.cli(
            "upgrade-agent-check",
            &["upgrade", "--agent-check", "--json"],
        );
        self.cli("mission-list", &["mission", "list", "--json"]);
        self.cli(
            "branch-context",
            &["agent", "mission", "branch-context", "--json"],
        );
        let created = self.cli(
            "mission-create",
            &[
                "agent",
                "mission",
                "create",
                "greeting-cli",
                "--mission-type",
                "software-dev",
                "--friendly-name",
                "Greeting CLI",
                "--purpose-tldr",
                "Add a tiny greeting command-line tool.",
                "--purpose-context",
                "The project needs a minimal greeting tool so that the spec-kitty lifecycle can be exercised end to end with a real code change.",
                "--json",
                "--pr-bound",
                "--branch-strategy",
                "already-confirmed",
                "--start-branch",
                "feat/greeting-cli",
            ],
        );
        let m = created["mission_slug"]
            .as_str()
            .unwrap_or_else(|| panic!("create gave no mission_slug: {created}"))
            .to_string();
        let fd = format!("kitty-specs/{m}");
        let put = |from: &str, to: &str| {
            std::fs::copy(content(from), top.join(to)).unwrap();
        };
        self.cli(
            "charter-context-specify",
            &["charter", "context", "--action", "specify", "--json"],
        );
        put("spec.md", &format!("{fd}/spec.md"));
        let message = format!("Add spec for {m}");
        let (spec, meta) = (format!("{fd}/spec.md"), format!("{fd}/meta.json"));
        self.cli(
            "spec-commit",
            &[
                "spec-commit",
                "--mission",
                &m,
                "--message",
                &message,
                &spec,
                &meta,
                "--json",
            ],
        );
        self.cli(
            "setup-plan-scaffold",
            &["agent", "mission", "setup-plan", "--mission", &m, "--json"],
        );
        self.cli(
            "charter-context-plan",
            &["charter", "context", "--action", "plan", "--json"],
        );
        self.cli(
            "context-resolve-plan",
            &[
                "agent",
                "context",
                "resolve",
                "--action",
                "plan",
                "--mission",
                &m,
                "--json",
            ],
        );
        put("plan.md", &format!("{fd}/plan.md"));
        self.cli(
            "setup-plan-commit",
            &["agent", "mission", "setup-plan", "--mission", &m, "--json"],
        );
        self.cli(
            "context-resolve-tasks",
            &[
                "agent",
                "context",
                "resolve",
                "--action",
                "tasks",
                "--mission",
                &m,
                "--json",
            ],
        );
        self.cli(
            "check-prerequisites",
            &[
                "agent",
                "mission",
                "check-prerequisites",
                "--json",
                "--paths-only",
                "--include-tasks",
                "--mission",
                &m,
            ],
        );
        put("tasks.md", &format!("{fd}/tasks.md"));
        std::fs::create_dir_all(top.join(&fd).join("tasks")).unwrap();
        for wp in ["WP01-greeting-tool.md", "WP02-greeting-tests.md"] {
            put(wp, &format!("{fd}/tasks/{wp}"));
        }
        self.cli(
            "finalize-validate-only",
            &[
                "agent",
                "mission",
                "finalize-tasks",
                "--validate-only",
                "--mission",
                &m,
                "--json",
            ],
        );
        // W2: --no-auto-commit (with it, implement WP02 later conflicts on the planning commit).
        self.cli(
            "map-requirements",
            &[
                "agent",
                "tasks",
                "map-requirements",
                "--batch",
                r#"{"WP01":["FR-002"],"WP02":["FR-001","NFR-001"]}"#,
                "--mission",
                &m,
                "--json",
                "--no-auto-commit",
            ],
        );
        self.cli(
            "finalize-tasks",
            &[
                "agent",
                "mission",
                "finalize-tasks",
                "--mission",
                &m,
                "--json",
            ],
        );
        let analysis = content("analysis.md");
        self.cli(
            "record-analysis",
            &[
                "agent",
                "mission",
                "record-analysis",
                "--mission",
                &m,
                "--input-file",
                analysis.to_str().unwrap(),
                "--json",
            ],
        );
        for (wp, subtasks, src, dst, msg) in [
            (
                "WP01",
                ["T001", "T002"],
                "greet",
                "bin/greet",
                "feat(WP01): add greeting tool",
            ),
            (
                "WP02",
                ["T003", "T004"],
                "test_greet.sh",
                "tests/test_greet.sh",
                "feat(WP02): add greeting tests",
            ),
        ] {
            // W1: --mission (the implement and review prompts pass only the work package).
            self.cli(
                &format!("implement-{wp}"),
                &[
                    "agent",
                    "action",
                    "implement",
                    wp,
                    "--agent",
                    "claude",
                    "--mission",
                    &m,
                ],
            );
            let lane = self.lane_dir(&m, wp);
            let file = lane.join(dst);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::copy(content(&format!("code/{src}")), &file).unwrap();
            self.repo.git_in(&lane, &["add", dst]);
            self.repo.git_in(&lane, &["commit", "-q", "-m", msg]);
            let mut mark = vec!["agent", "tasks", "mark-status"];
            mark.extend(subtasks);
            mark.extend(["--status", "done", "--mission", &m, "--json"]);
            self.cli(&format!("mark-status-{wp}"), &mark);
            // W3: --force (the lane guard refuses the coordination branch's kitty-specs/ commits);
            // kitty alone needs none (`lane_inherits_coordination`).
            self.cli(
                &format!("to-for-review-{wp}"),
                &[
                    "agent",
                    "tasks",
                    "move-task",
                    wp,
                    "--to",
                    "for_review",
                    "--mission",
                    &m,
                    "--note",
                    "Ready for review",
                    "--force",
                    "--json",
                ],
            );
            self.cli(
                &format!("review-{wp}"),
                &[
                    "agent",
                    "action",
                    "review",
                    wp,
                    "--agent",
                    "claude",
                    "--mission",
                    &m,
                ],
            );
            self.cli(
                &format!("to-approved-{wp}"),
                &[
                    "agent",
                    "tasks",
                    "move-task",
                    wp,
                    "--to",
                    "approved",
                    "--mission",
                    &m,
                    "--note",
                    "Review passed",
                    "--force",
                    "--json",
                ],
            );
        }
        for fr in ["FR-001", "FR-002"] {
            self.cli(
                &format!("acceptance-verdict-{fr}"),
                &[
                    "agent",
                    "mission",
                    "acceptance-verdict",
                    "--mission",
                    &m,
                    "--criterion",
                    fr,
                    "--result",
                    "pass",
                    "--verification-method",
                    "automated_test",
                    "--actor",
                    "claude",
                    "--evidence",
                    "tests/test_greet.sh",
                    "--json",
                ],
            );
        }
        // W4: implement leaves the work packages' frontmatter uncommitted in the checkout (kitty
        // alone needs no such commit: `implement_commits_its_claim`).
        self.repo
            .git_in(&top, &["add", "-u", &format!("{fd}/tasks")]);
        if !self.launcher.alone && !self.git_ok(&top, &["diff", "--cached", "--quiet"]) {
            self.repo.git_in(
                &top,
                &["commit", "-q", "-m", "chore: record WP workspace metadata"],
            );
        }
        // W5: --lenient (path conventions are checked before the lanes are merged).
        self.cli(
            "accept",
            &[
                "agent",
                "mission",
                "accept",
                "--mission",
                &m,
                "--json",
                "--lenient",
            ],
        );
        self.cli("merge", &["merge", "--mission", &m]);
    }

    /// The lane worktree of `wp`, from `lanes.json`.
    fn lane_dir(&self, m: &str, wp: &str) -> PathBuf {
        let lanes: Value = serde_json::from_str(
            &std::fs::read_to_string(self.repo.path().join(format!("kitty-specs/{m}/lanes.json")))
                .unwrap(),
        )
        .unwrap();
        let lane = lanes["lanes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|l| {
                l["wp_ids"]
                    .as_array()
                    .is_some_and(|w| w.iter().any(|x| x == wp))
            })
            .and_then(|l| l["lane_id"].as_str())
            .unwrap_or_else(|| panic!("{wp} has no lane in lanes.json: {lanes}"));
        self.repo
            .path()
            .join(".worktrees")
            .join(format!("{m}-{lane}"))
    }
}
