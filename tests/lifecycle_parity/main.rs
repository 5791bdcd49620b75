//! The reference's whole software-dev lifecycle (init to merge, as its prompts run it) with kitty
//! installed as `spec-kitty`, compared with the same lifecycle run by the reference alone: every
//! step's exit code and document, and the final repository (commits per branch, trees, file
//! contents, status, worktrees, merge drivers), allowing only the differences in [`ALLOWED`].
//!
//! A lifecycle takes the reference about a minute and a half, so this binary is not part of the
//! 60-second suite: it runs in its own nextest profile (`--profile lifecycle`), which
//! `scripts/test` (the README's every-test command, which CI runs) runs after the suite. The
//! reference-alone baseline depends only on the reference and this script: it is computed once
//! per checkout and kept beside the reference's venv.

mod mixed_sync;
mod script;
mod state;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kitty_testkit::{IsolatedHome, ReferenceCli};
use script::{Launcher, Run};
use serde_json::{Value, json};
use state::Normaliser;

/// Every difference these comparisons tolerate, by name and reason.
pub const ALLOWED: &[(&str, &str)] = &[
    (
        "upgrade_check",
        "with kitty first on PATH `upgrade --agent-check` is kitty's own: it never asks PyPI (kitty is not installed from there), so it names kitty's version, the `unknown` install method and the reference's note for it; its answer to the agent (schema_version, action, reason, latest_version, latest_source) is compared",
    ),
    (
        "native_documents",
        "with kitty first on PATH the planning commands are kitty's own (create, mission list, branch-context, charter context, spec-commit, setup-plan, context resolve, check-prerequisites): every JSON document is compared parsed, without `result`, `spec_kitty_version` and what kitty adds to a create (commit, event_id, event_queued), with its sentences (branch_strategy_summary, next_step, reason, blocked_reason, context text, message, a work package's branch_strategy, also in the files) and the doctrine catalog (`all_directives`) as placeholders; every other key, at every depth, is compared",
    ),
    (
        "tasks_readme",
        "with kitty first on PATH the create is kitty's own: tasks/README.md holds kitty's template text (same path)",
    ),
    (
        "acceptance_matrix_prose",
        "with kitty first on PATH finalize-tasks is kitty's own: the placeholder criteria it scaffolds in acceptance-matrix.json carry kitty's sentences (each criterion's `description` and `notes`); every other field, and the criteria's ids, proof types, evidence and verdicts, are compared",
    ),
    (
        "implement_commits_its_claim",
        "with kitty first on PATH implement is kitty's own: it commits each claim's base_* fields and meta.json's VCS lock on the target (`chore: WPxx claimed for implementation`, printing `→ WPxx moved to 'doing'`) where the reference cannot (its warning), so the user commits them (W4: `chore: record WP workspace metadata`) or its next implement sweeps them (`chore: planning artifacts for <slug>`, after listing them); those commit subjects and lines are set aside, the trees and every other commit are compared",
    ),
];

const KITTY_KEYS: &[&str] = &[
    "commit",
    "event_id",
    "event_queued",
    "result",
    "spec_kitty_version",
];
/// Sentences, the implementation's version and its doctrine, at any depth of a document.
const PROSE_KEYS: &[&str] = &[
    "branch_strategy_summary",
    "branch_recommendation_reason",
    "next_step",
    "reason",
    "blocked_reason",
    "context",
    "text",
    "message",
    "branch_strategy",
    "all_directives",
];

/// How the repository is initialised before the lifecycle.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Init {
    /// The reference's `init --ai claude --non-interactive`.
    Reference,
    /// kitty's `init --ai claude` (the reference, found, writes the agent's files).
    Kitty,
}

/// Which `spec-kitty` the lifecycle calls (and git's merge drivers find on PATH).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Front {
    /// The reference alone.
    Reference,
    /// kitty first on PATH, the reference after it.
    Kitty,
    /// kitty alone: no reference on PATH, delegation off.
    KittyAlone,
    /// kitty first on PATH, and the reference and kitty taking turns, step by step: the
    /// reference first when true.
    Mixed(bool),
}

/// What one run ended with, normalised.
#[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
struct Outcome {
    steps: Vec<(String, Option<i32>, String)>,
    state: BTreeMap<String, String>,
    /// The steps kitty handed to the reference (not compared: the reference hands nothing).
    #[serde(default)]
    handed: Vec<String>,
    /// In a mixed run, the steps the reference's own program ran.
    #[serde(default)]
    by_reference: Vec<String>,
}

fn kitty_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_spec-kitty"))
}

fn run_variant(init: Init, front: Front) -> Outcome {
    let reference = ReferenceCli::require();
    let venv_bin = reference.path().parent().unwrap().to_path_buf();
    let home = IsolatedHome::new();
    let repo = home.repo().branch("main").without_config().build();
    let base_path = home.var("PATH").unwrap_or_default().to_string();
    let with_ref = format!("{}:{base_path}", venv_bin.display());
    match init {
        Init::Reference => {
            home.reference_command(&reference)
                .env("PATH", &with_ref)
                .current_dir(repo.path())
                .args(["init", "--ai", "claude", "--non-interactive"])
                .run()
                .assert_success();
        }
        Init::Kitty => {
            let alone = front == Front::KittyAlone;
            home.command()
                .env("PATH", if alone { &base_path } else { &with_ref })
                .env(
                    "SPEC_KITTY_REFERENCE",
                    if alone {
                        ""
                    } else {
                        reference.path().to_str().unwrap()
                    },
                )
                .current_dir(repo.path())
                .args(["init", "--ai", "claude", "--json"])
                .run()
                .assert_success();
        }
    }
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "chore: initialize spec-kitty project"]);
    let launcher = match front {
        Front::Reference => Launcher {
            program: reference.path().to_path_buf(),
            path: with_ref,
            alone: false,
            alternate: None,
        },
        Front::Kitty | Front::KittyAlone | Front::Mixed(_) => {
            let dir = home.path().join("kitty-bin");
            std::fs::create_dir_all(&dir).unwrap();
            let link = dir.join("spec-kitty");
            link_or_copy(&kitty_bin(), &link);
            let alone = front == Front::KittyAlone;
            Launcher {
                program: link,
                path: format!(
                    "{}:{}",
                    dir.display(),
                    if alone { &base_path } else { &with_ref }
                ),
                alone,
                alternate: match front {
                    Front::Mixed(first) => Some((reference.path().to_path_buf(), first)),
                    _ => None,
                },
            }
        }
    };
    let mut run = Run {
        home: &home,
        repo: &repo,
        launcher,
        records: Vec::new(),
    };
    run.lifecycle();
    let slug = run
        .records
        .iter()
        .find(|r| r.name == "mission-create")
        .and_then(|r| serde_json::from_str::<Value>(r.stdout.trim()).ok())
        .and_then(|d| d["mission_slug"].as_str().map(str::to_string))
        .unwrap_or_default();
    let norm = Normaliser::new(home.path(), &slug);
    let steps = run
        .records
        .iter()
        .map(|r| {
            let text = native_document(&r.stdout);
            (r.name.clone(), r.code, norm.text(&text))
        })
        .collect();
    let state = state::capture(repo.path(), home.env_map())
        .into_iter()
        .map(|(k, v)| (k, norm.text(&v)))
        .collect();
    let handed = run
        .records
        .iter()
        .filter(|r| r.stderr.contains("handed to the reference"))
        .map(|r| r.name.clone())
        .collect();
    let by_reference = run
        .records
        .iter()
        .filter(|r| r.by_reference)
        .map(|r| r.name.clone())
        .collect();
    Outcome {
        steps,
        state,
        handed,
        by_reference,
    }
}

#[cfg(unix)]
fn link_or_copy(from: &Path, to: &Path) {
    std::os::unix::fs::symlink(from, to).unwrap();
}

#[cfg(not(unix))]
fn link_or_copy(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap();
}

/// A JSON document parsed, without `result` and what kitty adds to a create, with its sentences,
/// version and doctrine catalog as placeholders at any depth (`native_documents`); any other
/// output as it is.
fn native_document(stdout: &str) -> String {
    fn prose(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for k in KITTY_KEYS {
                    m.remove(*k);
                }
                for (k, x) in m.iter_mut() {
                    match PROSE_KEYS.contains(&k.as_str()) && (x.is_string() || x.is_array()) {
                        true => *x = Value::String("<PROSE>".into()),
                        false => prose(x),
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(prose),
            _ => {}
        }
    }
    match serde_json::from_str::<Value>(stdout.trim()) {
        Ok(mut doc) if doc.is_object() || doc.is_array() => {
            prose(&mut doc);
            doc.to_string()
        }
        _ => stdout.to_string(),
    }
}

/// Frontmatter `branch_strategy:` lines as a placeholder.
fn branch_strategy_as_prose(text: &str) -> String {
    text.split_inclusive('\n')
        .map(|l| match l.starts_with("branch_strategy: ") {
            true => "branch_strategy: <PROSE>\n",
            false => l,
        })
        .collect()
}

/// The tree contents without `tasks/README.md` (`tasks_readme`).
fn without_tasks_readme(contents: &str) -> String {
    let mut out = String::new();
    let mut skip = false;
    for line in contents.split_inclusive('\n') {
        if let Some(name) = line.strip_prefix("===== ") {
            skip = name.trim_end().ends_with("/tasks/README.md");
        }
        if !skip {
            out.push_str(line);
        }
    }
    out
}

/// In `acceptance-matrix.json`, each criterion's `description` and `notes` lines as a placeholder
/// (`acceptance_matrix_prose`).
fn acceptance_matrix_prose(contents: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in contents.split_inclusive('\n') {
        if let Some(name) = line.strip_prefix("===== ") {
            inside = name.trim_end().ends_with("/acceptance-matrix.json");
        }
        let key = line.trim_start();
        match inside && (key.starts_with("\"description\": ") || key.starts_with("\"notes\": ")) {
            true => {
                let indent = &line[..line.len() - key.len()];
                let name = &key[..key.find(':').unwrap_or(0)];
                let comma = if line.trim_end().ends_with(',') {
                    ","
                } else {
                    ""
                };
                out.push_str(&format!("{indent}{name}: \"<PROSE>\"{comma}\n"));
            }
            false => out.push_str(line),
        }
    }
    out
}

/// The reference alone on a reference-initialised repository, computed once per checkout
/// (under a lock) and kept beside the reference's venv, keyed by this script's own text.
fn baseline() -> Outcome {
    let reference = ReferenceCli::require();
    let key = {
        use std::hash::{Hash, Hasher};
        let mut h = std::hash::DefaultHasher::new();
        for f in [
            include_str!("script.rs"),
            include_str!("state.rs"),
            include_str!("main.rs"),
        ] {
            f.hash(&mut h);
        }
        for entry in
            walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/lifecycle_parity/content"))
        {
            std::fs::read(entry).unwrap().hash(&mut h);
        }
        h.finish()
    };
    let dir = reference
        .path()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap();
    let file = dir.join(format!("lifecycle-baseline-{key:016x}.json"));
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(file.with_extension("lock"))
        .unwrap();
    lock.lock().unwrap();
    if let Ok(text) = std::fs::read_to_string(&file)
        && let Ok(o) = serde_json::from_str(&text)
    {
        return o;
    }
    let o = run_variant(Init::Reference, Front::Reference);
    std::fs::write(&file, serde_json::to_string(&o).unwrap()).unwrap();
    o
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        if e.file_type().unwrap().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

/// A unified diff, the reference alone first.
fn unified(a: &str, b: &str) -> String {
    similar::TextDiff::from_lines(a, b)
        .unified_diff()
        .context_radius(2)
        .header("reference alone", "this run")
        .to_string()
}

/// Every difference between `base` and `other`, one line each (empty: the same).
fn differences(base: &Outcome, other: &Outcome, kitty_create: bool) -> Vec<String> {
    let mut d = Vec::new();
    if base.steps.len() != other.steps.len() {
        d.push(format!(
            "{} steps against {}",
            other.steps.len(),
            base.steps.len()
        ));
    }
    for ((name, code, out), (_, code2, out2)) in base.steps.iter().zip(&other.steps) {
        if code != code2 {
            d.push(format!(
                "{name}: exit {code2:?}, the reference alone {code:?}"
            ));
        }
        let (out, out2) = if name.starts_with("implement-") {
            (&claim_lines_aside(out), &claim_lines_aside(out2))
        } else if name == "upgrade-agent-check" {
            (&agent_check_answer(out), &agent_check_answer(out2))
        } else {
            (out, out2)
        };
        if out != out2 {
            d.push(format!("{name}: stdout differs\n{}", unified(out, out2)));
        }
    }
    for (k, v) in &base.state {
        let (mut a, mut b) = (v.clone(), other.state.get(k).cloned().unwrap_or_default());
        if kitty_create && k == "tree-head-contents" {
            a = acceptance_matrix_prose(&without_tasks_readme(&a));
            b = acceptance_matrix_prose(&without_tasks_readme(&b));
        }
        if k.starts_with("log-") {
            a = claim_commits_aside(&a);
            b = claim_commits_aside(&b);
        }
        if kitty_create {
            // A work package's branch_strategy is a sentence (native_documents).
            a = branch_strategy_as_prose(&a);
            b = branch_strategy_as_prose(&b);
        }
        if a != b {
            d.push(format!("state {k} differs\n{}", unified(&a, &b)));
        }
    }
    d
}

/// An implement's text without what commits its claim (`implement_commits_its_claim`): the
/// reference's warning that it could not (wrapped on two lines) and the list of files its next
/// implement sweeps, kitty's `moved to 'doing'` line.
fn claim_lines_aside(out: &str) -> String {
    let mut kept = Vec::new();
    let mut lines = out.lines().peekable();
    while let Some(l) = lines.next() {
        if l.starts_with("Warning: Could not auto-commit lane change:") {
            while lines
                .peek()
                .is_some_and(|n| !n.is_empty() && !n.starts_with('\u{2713}'))
            {
                lines.next();
            }
        } else if l == "Planning artifacts not committed:" {
            if kept.last().is_some_and(|p: &&str| p.is_empty()) {
                kept.pop();
            }
            while lines.peek().is_some_and(|n| n.starts_with("  ")) {
                lines.next();
            }
        } else if !(l.starts_with("\u{2192} WP") && l.ends_with(" moved to 'doing'")) {
            kept.push(l);
        }
    }
    kept.join("\n")
}

/// The upgrade check's answer to the agent (`upgrade_check`): its schema, action, reason and the
/// latest version known, without what names the installation.
fn agent_check_answer(out: &str) -> String {
    let doc: Value = serde_json::from_str(out).unwrap_or(Value::Null);
    [
        "schema_version",
        "action",
        "reason",
        "latest_version",
        "latest_source",
    ]
    .iter()
    .map(|k| format!("{k}={}", doc[k]))
    .collect::<Vec<_>>()
    .join("\n")
}

/// A commit list without the commits of the claims' fields (`implement_commits_its_claim`).
fn claim_commits_aside(log: &str) -> String {
    log.lines()
        .filter(|l| {
            let claim = l.starts_with("chore: WP") && l.ends_with(" claimed for implementation");
            let swept = l.starts_with("chore: planning artifacts for ")
                || *l == "chore: record WP workspace metadata";
            !(claim || swept)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_reference_s_lifecycle_with_kitty_first_on_path_ends_as_with_the_reference_alone() {
    let base = baseline();
    let ours = run_variant(Init::Reference, Front::Kitty);
    let diff = differences(&base, &ours, true);
    assert!(diff.is_empty(), "{}", diff.join("\n\n"));
    // The steps kitty runs natively ran natively: the acceptance among them.
    for native in [
        "implement-WP01",
        "implement-WP02",
        "accept",
        "review-WP01",
        "review-WP02",
        "merge",
        "upgrade-agent-check",
    ] {
        assert!(
            !ours.handed.iter().any(|s| s == native),
            "{native} was handed to the reference: {:?}",
            ours.handed
        );
    }
    // The run went through kitty and ended merged: it did something to compare.
    assert!(
        ours.steps.iter().all(|(_, code, _)| *code == Some(0)),
        "{:?}",
        ours.steps
    );
    assert!(
        ours.state["log-head"].contains("greeting-cli"),
        "{}",
        ours.state["log-head"]
    );
}

/// With kitty alone (no reference anywhere on PATH, delegation off), the lifecycle runs from
/// `init` to `merge`, every step native, as the reference's prompts give it and with none of the
/// reference's workarounds: no `--mission` on implement and review (W1), map-requirements'
/// auto-commit left on (W2), no `--force` on a move (W3), no commit of the claims' fields (W4)
/// and no `--lenient` on accept (W5). Each one coming back fails a step here.
#[test]
fn kitty_alone_drives_the_lifecycle_from_init_to_merge_with_no_reference_and_no_workaround() {
    let ours = run_variant(Init::Kitty, Front::KittyAlone);
    let failed: Vec<_> = ours
        .steps
        .iter()
        .filter(|(_, code, _)| *code != Some(0))
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert!(ours.handed.is_empty(), "{:?}", ours.handed);
    let log = &ours.state["log-head"];
    for subject in [
        "capture mission retrospective",
        "flatten coordination metadata after branch deletion (#3086)",
        "record done transitions for merged WPs",
        "squash merge of mission",
        // W2's auto-commit made it, and implement merged it into the lanes.
        "Map requirements for WP01, WP02",
    ] {
        assert!(log.contains(subject), "{subject} missing:\n{log}");
    }
    let tree = &ours.state["tree-head-contents"];
    for landed in ["===== bin/greet", "===== tests/test_greet.sh"] {
        assert!(tree.contains(landed), "{landed} missing from the target");
    }
    assert_eq!(ours.state["status"], "", "the checkout is left clean");
}

/// The kitty-alone script leaves out exactly the workarounds' flags: `--mission` only on the
/// claims, the others wherever they are.
#[test]
fn the_kitty_alone_script_leaves_out_exactly_the_workarounds_flags() {
    let implement = [
        "agent",
        "action",
        "implement",
        "WP01",
        "--agent",
        "claude",
        "--mission",
        "m",
    ];
    assert_eq!(
        script::without_workarounds("implement-WP01", &implement),
        ["agent", "action", "implement", "WP01", "--agent", "claude"]
    );
    let mark = [
        "agent",
        "tasks",
        "mark-status",
        "T001",
        "--mission",
        "m",
        "--json",
    ];
    assert_eq!(script::without_workarounds("mark-status-WP01", &mark), mark);
    let accept = ["accept", "--mission", "m", "--json", "--lenient"];
    assert_eq!(
        script::without_workarounds("accept", &accept),
        ["accept", "--mission", "m", "--json"]
    );
    let moved = ["move-task", "WP01", "--force", "--no-auto-commit"];
    assert_eq!(
        script::without_workarounds("to-approved-WP01", &moved),
        ["move-task", "WP01"]
    );
}

/// A mixed run: kitty and the reference take turns, step by step (the reference first when
/// `reference_first`), and the run ends as the reference alone does.
fn taking_turns_ends_as_the_reference_alone(reference_first: bool) {
    let base = baseline();
    let ours = run_variant(Init::Reference, Front::Mixed(reference_first));
    let diff = differences(&base, &ours, true);
    assert!(diff.is_empty(), "{}", diff.join("\n\n"));
    assert!(
        ours.steps.iter().all(|(_, code, _)| *code == Some(0)),
        "{:?}",
        ours.steps
    );
    // The turns were taken: every other step by the reference, the others by kitty (which may
    // hand a step on: a forced approval, or an implement after the reference's own left
    // planning files uncommitted).
    let turns: Vec<&String> = ours
        .steps
        .iter()
        .skip(usize::from(!reference_first))
        .step_by(2)
        .map(|(name, _, _)| name)
        .collect();
    assert_eq!(ours.by_reference.iter().collect::<Vec<_>>(), turns);
}

/// Mixed runs, in both orders (each command of the lifecycle run once by each across the two).
#[test]
fn the_reference_and_kitty_taking_turns_the_reference_first_end_as_the_reference_alone() {
    taking_turns_ends_as_the_reference_alone(true);
}

#[test]
fn kitty_and_the_reference_taking_turns_kitty_first_end_as_the_reference_alone() {
    taking_turns_ends_as_the_reference_alone(false);
}

#[test]
fn the_reference_s_lifecycle_on_a_kitty_initialised_repository_ends_as_on_its_own() {
    let base = baseline();
    let ours = run_variant(Init::Kitty, Front::Reference);
    let diff = differences(&base, &ours, false);
    assert!(diff.is_empty(), "{}", diff.join("\n\n"));
    assert!(
        ours.steps.iter().all(|(_, code, _)| *code == Some(0)),
        "{:?}",
        ours.steps
    );
}

/// The comparison can fail: one changed exit code, one changed document and one changed file
/// are each reported, and the allowed differences are the only ones ignored.
#[test]
fn the_comparison_reports_a_changed_code_document_or_file() {
    let base = Outcome {
        handed: Vec::new(),
        by_reference: Vec::new(),
        steps: vec![("merge".into(), Some(0), "{}".into())],
        state: BTreeMap::from([(
            "tree-head-contents".into(),
            "\n===== a/tasks/README.md\nkitty\n===== b.txt\nsame\n".into(),
        )]),
    };
    let same = Outcome {
        handed: Vec::new(),
        by_reference: Vec::new(),
        steps: base.steps.clone(),
        state: BTreeMap::from([(
            "tree-head-contents".into(),
            "\n===== a/tasks/README.md\nreference\n===== b.txt\nsame\n".into(),
        )]),
    };
    assert!(differences(&base, &same, true).is_empty());
    assert_eq!(
        differences(&base, &same, false).len(),
        1,
        "README only allowed for kitty's create"
    );
    let mut code = same.steps.clone();
    code[0].1 = Some(1);
    let changed = Outcome {
        handed: Vec::new(),
        by_reference: Vec::new(),
        steps: code,
        state: base.state.clone(),
    };
    assert!(differences(&base, &changed, true)[0].contains("exit Some(1)"));
    let doc = Outcome {
        handed: Vec::new(),
        by_reference: Vec::new(),
        steps: vec![("merge".into(), Some(0), json!({"x": 1}).to_string())],
        state: base.state.clone(),
    };
    assert!(differences(&base, &doc, true)[0].contains("stdout differs"));
    let file = Outcome {
        handed: Vec::new(),
        by_reference: Vec::new(),
        steps: base.steps.clone(),
        state: BTreeMap::from([("tree-head-contents".into(), "\n===== b.txt\nother\n".into())]),
    };
    assert!(differences(&base, &file, true)[0].contains("tree-head-contents"));
    let created = native_document(
        r#"{"commit": "abc", "event_queued": false, "mission_slug": "m", "x": [{"reason": "a b"}]}"#,
    );
    assert_eq!(
        created,
        r#"{"mission_slug":"m","x":[{"reason":"<PROSE>"}]}"#
    );
    assert_eq!(native_document("plain text\n"), "plain text\n");
    // The acceptance matrix's placeholder sentences are allowed, its other fields and other
    // files' descriptions are not.
    let matrix = |desc: &str, proof: &str, other: &str| Outcome {
        handed: Vec::new(),
        by_reference: Vec::new(),
        steps: base.steps.clone(),
        state: BTreeMap::from([(
            "tree-head-contents".into(),
            format!(
                "\n===== m/acceptance-matrix.json\n  {{\n    \"description\": \"{desc}\",\n    \"proof_type\": \"{proof}\",\n    \"notes\": \"{desc}\"\n  }}\n===== m/meta.json\n  \"description\": \"{other}\"\n"
            ),
        )]),
    };
    let reference_matrix = matrix("Verify it", "automated_test", "same");
    assert!(
        differences(
            &reference_matrix,
            &matrix("Show it", "automated_test", "same"),
            true
        )
        .is_empty()
    );
    assert_eq!(
        differences(
            &reference_matrix,
            &matrix("Show it", "automated_test", "same"),
            false
        )
        .len(),
        1,
        "the matrix's sentences are allowed only for kitty's finalize"
    );
    assert_eq!(
        differences(
            &reference_matrix,
            &matrix("Verify it", "manual", "same"),
            true
        )
        .len(),
        1
    );
    assert_eq!(
        differences(
            &reference_matrix,
            &matrix("Verify it", "automated_test", "other"),
            true
        )
        .len(),
        1
    );
}

/// A commit the text names is a placeholder whatever its letters; a word of hex letters is not.
#[test]
fn a_named_commit_is_normalised_even_without_a_digit() {
    let norm = Normaliser::new(Path::new("/nowhere"), "demo");
    assert_eq!(norm.text("  Commit: abafffc"), "  Commit: <sha>");
    assert_eq!(norm.text("  Commit: 1234abc"), "  Commit: <sha>");
    assert_eq!(norm.text("defaced"), "defaced");
}

#[test]
fn only_the_claim_s_commits_and_lines_are_set_aside() {
    let reference = "Branch: main\n→ Lane branch: b\nWarning: Could not auto-commit lane change: x \ny first.\n\n✓ Lane worktree ready\n\nPlanning artifacts not committed:\n  a.md\n✓ Claimed WP01";
    let kitty = "Branch: main\n→ Lane branch: b\n→ WP01 moved to 'doing'\n\n✓ Lane worktree ready\n✓ Claimed WP01";
    assert_eq!(claim_lines_aside(reference), claim_lines_aside(kitty));
    // Any other line still counts.
    assert_ne!(
        claim_lines_aside(kitty),
        claim_lines_aside(&kitty.replace("Claimed WP01", "Claimed WP02"))
    );
    let log = "Accept m\nchore: WP01 claimed for implementation\nchore: planning artifacts for m\nchore: record WP workspace metadata\nfeat(WP01): x";
    assert_eq!(claim_commits_aside(log), "Accept m\nfeat(WP01): x");
}
