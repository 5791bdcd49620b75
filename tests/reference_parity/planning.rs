//! The planning commands between create and finalize, step by step through both CLIs on copies of
//! one repository (initialised by the reference, the mission created by kitty): every document,
//! file, commit and branch after every step.

use std::path::Path;

use kitty_testkit::{IsolatedHome, Repo};

use crate::harness::{
    Side, assert_document_parity, assert_parity, pair_copied, reference, run_both,
};

const CONTENT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/lifecycle_parity/content"
);

/// This suite's own mission content (three work packages, WP03 depending on WP01).
const OWN_CONTENT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/reference_parity/content"
);

/// Two copies of a reference-initialised repository on `feat/plan` with one mission.
struct Flow {
    k: Side,
    r: Side,
    slug: String,
}

pub(crate) fn setup(extra: &'static [&'static str]) -> impl Fn(&IsolatedHome) -> Repo {
    move |home: &IsolatedHome| {
        let repo = home.repo().build_with_reference(&reference(), "feat/plan");
        crate::harness::with_origin_head(&repo);
        let mut args = vec!["agent", "mission", "create", "greeting", "--json"];
        args.extend_from_slice(extra);
        home.command()
            .current_dir(repo.path())
            .args(args)
            .run()
            .assert_success();
        repo
    }
}

impl Flow {
    fn new(extra: &'static [&'static str]) -> Self {
        let (k, r) = pair_copied(setup(extra));
        let dirs = k.repo.mission_dirs();
        let slug = dirs[0].file_name().unwrap().to_str().unwrap().to_string();
        Self { k, r, slug }
    }

    fn dir(&self) -> String {
        format!("kitty-specs/{}", self.slug)
    }

    /// Write `content/<name>` to `<mission>/<name>` on both sides.
    fn write(&self, name: &str) {
        let text = std::fs::read_to_string(Path::new(CONTENT).join(name)).unwrap();
        for side in [&self.k, &self.r] {
            std::fs::write(side.repo.path().join(self.dir()).join(name), &text).unwrap();
        }
    }

    /// Write this suite's own `content/<name>` to `<mission>/<dest>` on both sides.
    fn write_own(&self, name: &str, dest: &str) {
        let text = std::fs::read_to_string(Path::new(OWN_CONTENT).join(name)).unwrap();
        for side in [&self.k, &self.r] {
            let path = side.repo.path().join(self.dir()).join(dest);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, &text).unwrap();
        }
    }

    /// Run `args` on both sides; documents, files, commits and branches must agree.
    #[track_caller]
    fn step(&self, args: &[&str]) {
        let (k, r) = run_both(&self.k, &self.r, args, &[]);
        assert_parity(&self.k, &self.r, &k, &r);
    }

    /// Several read-only commands at once on both sides; documents must agree.
    #[track_caller]
    fn reads(&self, commands: &[Vec<String>]) {
        // All at once: they change nothing, so their order does not matter.
        let started: Vec<_> = commands
            .iter()
            .map(|c| {
                let args: Vec<&str> = c.iter().map(String::as_str).collect();
                crate::harness::spawn_both(&self.k, &self.r, &args, &[])
            })
            .collect();
        let runs: Vec<_> = started
            .into_iter()
            .map(|(k, r)| (k.wait(), r.wait()))
            .collect();
        for (k, r) in &runs {
            assert_document_parity(&self.k, &self.r, k, r);
        }
    }
}

fn words(s: &str) -> Vec<String> {
    s.split(' ').map(str::to_string).collect()
}

#[test]
fn a_planning_pass_from_spec_to_committed_plan_matches_the_reference_step_by_step() {
    let f = Flow::new(&[]);
    let m = f.slug.clone();
    f.reads(&[
        words("mission list"),
        words("agent mission branch-context"),
        words("agent mission branch-context --target-branch main"),
        // One charter context: the reference's costs seconds (it loads its whole doctrine).
        words("charter context --action Plan --no-mark-loaded"),
        words(&format!(
            "agent context resolve --action plan --mission {m}"
        )),
        words(&format!("agent mission check-prerequisites --mission {m}")),
        words(&format!(
            "agent mission check-prerequisites --paths-only --include-tasks --mission {m}"
        )),
    ]);
    // The scaffold is not committed: the plan is blocked.
    f.step(&["agent", "mission", "setup-plan", "--mission", &m]);
    f.write("spec.md");
    let (spec, meta) = (
        format!("{}/spec.md", f.dir()),
        format!("{}/meta.json", f.dir()),
    );
    let message = format!("Add spec for {m}");
    let commit = [
        "spec-commit",
        "--mission",
        &m,
        "--message",
        &message,
        &spec,
        &meta,
    ];
    f.step(&commit);
    // The same files again: nothing to commit, not an error.
    f.step(&commit);
    f.step(&["agent", "mission", "setup-plan", "--mission", &m]);
    f.write("plan.md");
    f.step(&["agent", "mission", "setup-plan", "--mission", &m]);
    f.step(&["agent", "mission", "setup-plan", "--mission", &m]);
    f.reads(&[
        words(&format!(
            "agent context resolve --action tasks --mission {m}"
        )),
        words(&format!(
            "agent mission check-prerequisites --include-tasks --mission {m}"
        )),
    ]);
}

#[test]
fn a_coordination_mission_plans_on_its_target_branch_as_with_the_reference() {
    let f = Flow::new(&["--pr-bound", "--branch-strategy", "already-confirmed"]);
    let m = f.slug.clone();
    f.write("spec.md");
    let spec = format!("{}/spec.md", f.dir());
    f.step(&[
        "spec-commit",
        "--mission",
        &m,
        "--message",
        "Add spec",
        &spec,
    ]);
    f.write("plan.md");
    // A human slug (without the id tail) names the mission for setup-plan.
    f.step(&["agent", "mission", "setup-plan", "--mission", "greeting"]);
}

#[test]
fn planning_errors_have_the_reference_s_codes_and_exit_statuses() {
    let f = Flow::new(&[]);
    let m = f.slug.clone();
    let spec = format!("{}/spec.md", f.dir());
    f.reads(&[
        words("agent context resolve --action plan"),
        words(&format!(
            "agent context resolve --action bogus --mission {m}"
        )),
        words("agent context resolve --action plan --mission nosuch"),
        // The strict resolver does not fold the id tail (the read path does).
        words("agent context resolve --action plan --mission greeting"),
        words("agent mission check-prerequisites"),
        words("agent mission check-prerequisites --mission nosuch --paths-only --include-tasks"),
        words("agent mission setup-plan --mission nosuch"),
        words(&format!(
            "spec-commit --mission {m} --message x {}/missing.md",
            f.dir()
        )),
        words(&format!(
            "spec-commit --mission {m} --message x {}",
            f.dir()
        )),
    ]);
    // The spec, uncommitted and unedited, blocks the plan; committed unedited, still blocks it.
    f.step(&[
        "spec-commit",
        "--mission",
        &m,
        "--message",
        "scaffold",
        &spec,
    ]);
    f.step(&["agent", "mission", "setup-plan", "--mission", &m]);
    // The checkout on another branch: the commit belongs on the mission's.
    for side in [&f.k, &f.r] {
        side.repo.git(&["switch", "-q", "-c", "elsewhere"]);
    }
    f.step(&["spec-commit", "--mission", &m, "--message", "x", &spec]);
    for side in [&f.k, &f.r] {
        side.repo.git(&["switch", "-q", "--detach"]);
    }
    f.reads(&[words("agent mission branch-context")]);
}

#[test]
fn decision_moments_open_close_and_verify_as_with_the_reference() {
    let f = Flow::new(&[]);
    let m = f.slug.clone();
    let open = |slot: &str| {
        vec![
            "agent",
            "decision",
            "open",
            "--mission",
            &m,
            "--flow",
            "specify",
            "--slot-key",
            slot,
            "--input-key",
            "users",
            "--question",
            "Who uses it?",
            "--options",
            r#"["devs", 1, true]"#,
        ]
        .into_iter()
        .map(str::to_string)
        .collect::<Vec<_>>()
    };
    let step = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        f.step(&args);
    };
    step(open("specify.scope.users"));
    // The same question again is the same decision, and writes nothing.
    step(open("specify.scope.users"));
    step(open("specify.scope.later"));
    // Each side answers its own decisions (the ids differ; the harness names them by order).
    let ids = |side: &Side| -> Vec<String> {
        let dir = &side.repo.mission_dirs()[0];
        let index: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("decisions/index.json")).unwrap(),
        )
        .unwrap();
        index["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["decision_id"].as_str().unwrap().to_string())
            .collect()
    };
    let (kid, rid) = (ids(&f.k), ids(&f.r));
    let both = |verb: &str, n: usize, extra: &[&str]| {
        let mk = |id: &str| {
            let mut a = vec!["agent", "decision", verb, id, "--mission", &m];
            a.extend_from_slice(extra);
            a.into_iter().map(str::to_string).collect::<Vec<_>>()
        };
        let (ka, ra) = (mk(&kid[n]), mk(&rid[n]));
        let ka: Vec<&str> = ka.iter().map(String::as_str).collect();
        let ra: Vec<&str> = ra.iter().map(String::as_str).collect();
        let k =
            f.k.home
                .command()
                .current_dir(f.k.repo.path())
                .args(&ka)
                .arg("--json")
                .spawn();
        let r =
            f.r.home
                .reference_command(&reference())
                .current_dir(f.r.repo.path())
                .args(&ra)
                .arg("--json")
                .spawn();
        let (k, r) = (k.wait(), r.wait());
        assert_parity(&f.k, &f.r, &k, &r);
    };
    both(
        "resolve",
        0,
        &["--final-answer", "devs", "--rationale", "asked"],
    );
    both(
        "resolve",
        0,
        &["--final-answer", "devs", "--rationale", "asked"],
    );
    both("resolve", 0, &["--final-answer", "ops"]);
    both("defer", 1, &["--rationale", "later"]);
    // A deferred decision needs its marker: drift, exit 1.
    step(words(&format!("agent decision verify --mission {m}")));
    f.reads(&[
        words(&format!("agent decision resolve 01M913C6BV0FMKRDXDW24JT45V --mission {m} --final-answer x")),
        words("agent decision open --mission nosuch --flow specify --slot-key a --input-key b --question q"),
        words(&format!("agent decision open --mission {m} --flow bogus --slot-key a --input-key b --question q")),
        words(&format!("agent decision open --mission {m} --flow plan --input-key b --question q")),
        words(&format!("agent decision defer 01M913C6BV0FMKRDXDW24JT45V --mission {m} --rationale x --dry-run")),
    ]);
}

#[test]
fn the_resume_probe_finds_reports_and_refuses_as_the_reference_does() {
    let f = Flow::new(&[]);
    let m = f.slug.clone();
    let probe = |h: &str| {
        words(&format!(
            "agent mission check-prerequisites --resume-probe --mission {h}"
        ))
    };
    f.reads(&[
        probe(&m),
        probe("greeting"),
        probe("nosuch"),
        probe("../etc"),
        words("agent mission check-prerequisites --resume-probe"),
        words(&format!(
            "agent mission check-prerequisites --resume-probe --paths-only --mission {m}"
        )),
    ]);
    // A scaffold without its spec is malformed; a numbered mission already exists.
    for side in [&f.k, &f.r] {
        std::fs::remove_file(side.repo.path().join(f.dir()).join("spec.md")).unwrap();
    }
    f.reads(&[probe(&m)]);
    for side in [&f.k, &f.r] {
        let meta = side.repo.path().join(f.dir()).join("meta.json");
        let text = std::fs::read_to_string(&meta).unwrap();
        std::fs::write(
            &meta,
            text.replace("\"mission_number\": null", "\"mission_number\": 1"),
        )
        .unwrap();
    }
    f.reads(&[probe(&m)]);
}

const ANALYSIS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/reference_parity/analysis"
);

#[test]
fn record_analysis_writes_and_commits_the_report_as_the_reference_does() {
    let f = Flow::new(&[]);
    let m = f.slug.clone();
    f.write("spec.md");
    f.write("plan.md");
    f.write("tasks.md");
    for side in [&f.k, &f.r] {
        let tasks = side.repo.path().join(f.dir()).join("tasks");
        for wp in ["WP01-greeting-tool.md", "WP02-greeting-tests.md"] {
            std::fs::copy(Path::new(CONTENT).join(wp), tasks.join(wp)).unwrap();
        }
        side.repo.git(&["add", "-A"]);
        side.repo.git(&["commit", "-q", "-m", "planning"]);
    }
    let input = |name: &str| {
        format!(
            "{}/{name}",
            if name == "analysis.md" {
                CONTENT
            } else {
                ANALYSIS
            }
        )
    };
    let record = |name: &str| {
        words(&format!(
            "agent mission record-analysis --mission {m} --input-file {}",
            input(name)
        ))
    };
    // The input errors write nothing.
    f.reads(&[
        record("counts-disagree.md"),
        record("unknown-severity.md"),
        words(&format!(
            "agent mission record-analysis --mission nosuch --input-file {}",
            input("legacy.md")
        )),
        words(&format!(
            "agent mission record-analysis --input-file {}",
            input("legacy.md")
        )),
    ]);
    let step = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        f.step(&args);
    };
    step(record("analysis.md"));
    step(record("blocked.md"));
    step(record("legacy.md"));
    // A change the analysis did not see: refused, nothing written.
    for side in [&f.k, &f.r] {
        std::fs::write(side.repo.path().join("notes.txt"), "x").unwrap();
    }
    step(record("analysis.md"));
}

#[test]
fn a_coordinated_planning_pass_to_three_finalized_work_packages_matches_the_reference() {
    // As the specify prompt creates a PR-bound mission: topology coord, a coordination branch.
    let f = Flow::new(&["--pr-bound", "--branch-strategy", "already-confirmed"]);
    let m = f.slug.clone();
    f.write_own("spec.md", "spec.md");
    let (spec, meta) = (
        format!("{}/spec.md", f.dir()),
        format!("{}/meta.json", f.dir()),
    );
    let message = format!("Add spec for {m}");
    f.step(&[
        "spec-commit",
        "--mission",
        &m,
        "--message",
        &message,
        &spec,
        &meta,
    ]);
    // The scaffold, then the written plan, committed.
    f.step(&["agent", "mission", "setup-plan", "--mission", &m]);
    f.write_own("plan.md", "plan.md");
    f.step(&["agent", "mission", "setup-plan", "--mission", &m]);
    f.write_own("tasks.md", "tasks.md");
    for wp in [
        "WP01-counter.md",
        "WP02-usage-page.md",
        "WP03-counter-tests.md",
    ] {
        f.write_own(wp, &format!("tasks/{wp}"));
    }
    let finalize = ["agent", "mission", "finalize-tasks", "--mission", &m];
    let mut validate = finalize.to_vec();
    validate.push("--validate-only");
    f.step(&validate);
    f.step(&finalize);
    f.reads(&[words(&format!("agent tasks status --mission {m}"))]);
    let lanes: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(f.k.repo.path().join(f.dir()).join("lanes.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(lanes["lanes"].as_array().unwrap().len(), 3, "{lanes}");
    assert_eq!(lanes["mission_branch"], format!("kitty/mission-{m}"));
}

#[test]
fn a_mixed_planning_pass_ends_as_the_reference_alone_does() {
    // Kitty's side alternates: the reference runs every other step there; the other side is the
    // reference alone. After each step the two repositories must agree.
    let f = Flow::new(&["--pr-bound", "--branch-strategy", "already-confirmed"]);
    let m = f.slug.clone();
    let by = |reference_here: bool, args: &[&str]| {
        let k = if reference_here {
            f.k.home.reference_command(&reference())
        } else {
            f.k.home.command()
        };
        let k = k
            .current_dir(f.k.repo.path())
            .args(args)
            .arg("--json")
            .spawn();
        let r =
            f.r.home
                .reference_command(&reference())
                .current_dir(f.r.repo.path())
                .args(args)
                .arg("--json")
                .spawn();
        let (k, r) = (k.wait(), r.wait());
        assert_parity(&f.k, &f.r, &k, &r);
    };
    f.write_own("spec.md", "spec.md");
    let spec = format!("{}/spec.md", f.dir());
    by(
        true,
        &[
            "spec-commit",
            "--mission",
            &m,
            "--message",
            "Add spec",
            &spec,
        ],
    );
    by(false, &["agent", "mission", "setup-plan", "--mission", &m]);
    f.write_own("plan.md", "plan.md");
    by(true, &["agent", "mission", "setup-plan", "--mission", &m]);
    f.write_own("tasks.md", "tasks.md");
    for wp in [
        "WP01-counter.md",
        "WP02-usage-page.md",
        "WP03-counter-tests.md",
    ] {
        f.write_own(wp, &format!("tasks/{wp}"));
    }
    by(
        true,
        &[
            "agent",
            "mission",
            "finalize-tasks",
            "--validate-only",
            "--mission",
            &m,
        ],
    );
    by(
        false,
        &["agent", "mission", "finalize-tasks", "--mission", &m],
    );
    by(true, &["agent", "tasks", "status", "--mission", &m]);
}
