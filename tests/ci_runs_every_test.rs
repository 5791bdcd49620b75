//! CI runs every test on every change: no trigger of the workflow has a path filter, and the test
//! partitions cover every partition 1..N. (The seed note's gate was path-filtered and hid a broken
//! test for weeks.)

use serde_yaml_ng::Value;

const WORKFLOW: &str = include_str!("../.github/workflows/ci.yml");

/// Why a workflow could skip tests.
fn check_workflow(text: &str) -> Result<(), String> {
    let doc: Value =
        serde_yaml_ng::from_str(text).map_err(|e| format!("ci.yml is not YAML: {e}"))?;
    // YAML 1.1 readers turn the key `on` into `true`; accept either spelling.
    let triggers = doc
        .get("on")
        .or_else(|| doc.get(Value::Bool(true)))
        .ok_or("ci.yml has no `on:` triggers")?;
    let names: Vec<String> = match triggers {
        Value::Mapping(m) => m
            .keys()
            .filter_map(|k| k.as_str().map(String::from))
            .collect(),
        Value::Sequence(s) => s
            .iter()
            .filter_map(|k| k.as_str().map(String::from))
            .collect(),
        Value::String(s) => vec![s.clone()],
        _ => Vec::new(),
    };
    for required in ["push", "pull_request"] {
        if !names.iter().any(|n| n == required) {
            return Err(format!("ci.yml does not run on {required}"));
        }
    }
    if let Value::Mapping(m) = triggers {
        for (name, cfg) in m {
            if let Value::Mapping(cfg) = cfg {
                for filter in ["paths", "paths-ignore"] {
                    if cfg.contains_key(filter) {
                        return Err(format!(
                            "trigger {:?} has a `{filter}:` filter: CI must run every test on every change",
                            name.as_str().unwrap_or("?")
                        ));
                    }
                }
            }
        }
    }
    // Find the job that runs `--partition count:${{ matrix.partition }}/N` and check its matrix.
    let jobs = doc
        .get("jobs")
        .and_then(Value::as_mapping)
        .ok_or("ci.yml has no jobs")?;
    let mut found = false;
    for (job_name, job) in jobs {
        let steps = job
            .get("steps")
            .and_then(Value::as_sequence)
            .cloned()
            .unwrap_or_default();
        for step in steps {
            let Some(run) = step.get("run").and_then(Value::as_str) else {
                continue;
            };
            let Some(at) = run.find("--partition count:${{ matrix.partition }}/") else {
                continue;
            };
            found = true;
            let n: u64 = run[at + "--partition count:${{ matrix.partition }}/".len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .map_err(|_| format!("job {job_name:?}: the partition count is not a number"))?;
            let mut listed: Vec<u64> = job
                .get("strategy")
                .and_then(|s| s.get("matrix"))
                .and_then(|m| m.get("partition"))
                .and_then(Value::as_sequence)
                .ok_or_else(|| format!("job {job_name:?} has no matrix.partition list"))?
                .iter()
                .filter_map(Value::as_u64)
                .collect();
            listed.sort_unstable();
            if listed != (1..=n).collect::<Vec<_>>() {
                return Err(format!(
                    "job {job_name:?} runs partitions {listed:?} of {n}: every partition 1..={n} must run"
                ));
            }
        }
    }
    if !found {
        return Err(
            "no job runs `cargo nextest run --partition count:${{ matrix.partition }}/N`".into(),
        );
    }
    Ok(())
}

#[test]
fn the_workflow_runs_every_test_on_every_change() {
    check_workflow(WORKFLOW).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn a_paths_filter_is_caught() {
    let filtered = WORKFLOW.replacen(
        "  push:\n",
        "  push:\n    paths:\n      - 'product/src/sync/**'\n",
        1,
    );
    let err = check_workflow(&filtered).expect_err("a paths filter must fail");
    assert!(err.contains("`paths:` filter"), "{err}");
    let ignored = WORKFLOW.replacen(
        "  pull_request:\n",
        "  pull_request:\n    paths-ignore:\n      - 'docs/**'\n",
        1,
    );
    let err = check_workflow(&ignored).expect_err("a paths-ignore filter must fail");
    assert!(err.contains("`paths-ignore:` filter"), "{err}");
}

#[test]
fn a_missing_partition_is_caught() {
    let shrunk = WORKFLOW.replacen("partition: [1, 2, 3]", "partition: [1, 3]", 1);
    assert_ne!(shrunk, WORKFLOW, "the fixture edit must apply");
    let err = check_workflow(&shrunk).expect_err("a missing partition must fail");
    assert!(err.contains("every partition 1..=3 must run"), "{err}");
    let grown = WORKFLOW.replacen("/3\n", "/4\n", 1);
    assert_ne!(grown, WORKFLOW, "the fixture edit must apply");
    assert!(check_workflow(&grown).is_err());
}

#[test]
fn ci_script_runs_the_readme_test_command() {
    let ci = include_str!("../.ci/run");
    let readme = include_str!("../README.md");
    let cmd = ci
        .lines()
        .skip_while(|l| !l.starts_with("# The README's test command, verbatim"))
        .nth(1)
        .expect(".ci/run marks the README's test command");
    assert!(
        readme.contains(&format!("```sh\n{cmd}\n```")),
        "README must give the exact test command .ci/run runs: {cmd}"
    );
    assert_eq!(cmd, "bash scripts/test");
    let script = include_str!("../scripts/test");
    assert!(
        script
            .lines()
            .any(|l| l.starts_with("cargo nextest run --workspace")),
        "the test command must run the whole workspace"
    );
    // Every test command .ci/run runs is the README's: none besides `bash scripts/test`.
    for line in ci.lines().map(str::trim) {
        assert!(
            !(line.contains("cargo nextest") || line.contains("cargo test")),
            ".ci/run runs a test command the README does not give: {line}"
        );
    }
    assert!(
        script.contains("kitty-plugin-whoami"),
        "the test command must run the plugin against a release install"
    );
    assert!(
        script.contains("cargo nextest run --workspace --profile lifecycle"),
        "the test command must run the lifecycle comparison, which the suite's profile leaves out"
    );
    assert!(
        job(WORKFLOW, "lifecycle").contains("--profile lifecycle"),
        "CI must run the lifecycle comparison"
    );
    assert!(
        script.contains("scripts/install-reference"),
        "the test command must install the reference the differential suite needs"
    );
    // The guide's plugin recipe builds outside the workspace from its text alone.
    assert!(
        script.contains("bash scripts/outside-crate-check")
            && job(WORKFLOW, "outside-crate").contains("scripts/outside-crate-check"),
        "the test command and CI must build the guide's recipe outside the workspace"
    );
    // The fast oracle (zygote, seeded homes) is proven against the plain one on every comparison.
    let cold = "KITTY_REFERENCE_DIRECT=1 KITTY_REFERENCE_NEW_HOMES=1 cargo nextest run";
    assert!(
        script.contains(cold) && job(WORKFLOW, "reference-cold").contains(cold),
        "the test command and CI must run the differential suite with the reference cold"
    );
}

#[test]
fn every_job_that_runs_the_suite_installs_the_reference_first() {
    // The differential suite fails without the reference CLI, so every job running the whole
    // suite must install it before the run.
    let mut installed = false;
    let mut runs = 0;
    for line in WORKFLOW.lines() {
        let l = line.trim();
        if l.starts_with("- uses:") && l.contains("actions/checkout") {
            installed = false;
        }
        if l.contains("bash scripts/install-reference") {
            installed = true;
        }
        // The plugin's own archive (plugin-tests.tar.zst) holds only the plugin's tests.
        let plugin_only =
            l.contains("-p kitty-plugin-whoami") || l.contains("plugin-tests.tar.zst");
        if l.contains("cargo nextest run") && !plugin_only
            || l.starts_with("--profile ci --partition")
        {
            runs += 1;
            assert!(
                installed,
                "a job runs the suite without installing the reference: {l}"
            );
        }
    }
    assert!(
        runs >= 2,
        "expected the partition and MSRV jobs to run the suite"
    );
}

/// The text of one job of the workflow (from its `name:` key line to the next job), or "".
fn job(text: &str, key: &str) -> String {
    let head = format!("  {key}:\n");
    let Some(start) = text.find(&head) else {
        return String::new();
    };
    let body = &text[start + head.len()..];
    let end = body
        .lines()
        .scan(0, |at, line| {
            let here = *at;
            *at += line.len() + 1;
            Some((here, line))
        })
        .find(|(_, line)| line.starts_with("  ") && !line.starts_with("   ") && line.ends_with(':'))
        .map_or(body.len(), |(at, _)| at);
    body[..end].to_string()
}

/// Mutation testing is a habit: every pull request's changed lines, and the whole workspace on a
/// schedule, through the one script that reads `.cargo/mutants.toml`.
#[test]
fn the_workflow_runs_mutation_testing_in_the_diff_and_on_a_schedule() {
    let in_diff = job(WORKFLOW, "mutants-in-diff");
    assert!(
        in_diff.contains("if: github.event_name == 'pull_request'")
            && in_diff.contains("bash scripts/mutants --in-diff"),
        "no job runs `scripts/mutants --in-diff` on pull requests:\n{in_diff}"
    );
    let scheduled = job(WORKFLOW, "mutants-scheduled");
    assert!(
        WORKFLOW.contains("schedule:")
            && scheduled.contains("github.event_name == 'schedule'")
            && scheduled.contains("bash scripts/mutants --shard")
            && scheduled.contains("path: mutants.out"),
        "no scheduled job runs the whole mutation pass and uploads its report:\n{scheduled}"
    );
    // The shards together are the whole pass (0..8 of 8), and each is a like mix of mutants.
    assert!(
        scheduled.contains("shard: [0, 1, 2, 3, 4, 5, 6, 7]")
            && scheduled.contains("--shard ${{ matrix.shard }}/8 --sharding round-robin"),
        "the scheduled shards must cover 0..8 of 8, round-robin:\n{scheduled}"
    );
    for (name, text) in [
        ("mutants-in-diff", &in_diff),
        ("mutants-scheduled", &scheduled),
    ] {
        // The workflow turns incremental builds off; a mutant rebuild needs them.
        assert!(
            text.contains("CARGO_INCREMENTAL: \"1\""),
            "{name} must build incrementally:\n{text}"
        );
    }
    let config = include_str!("../.cargo/mutants.toml");
    assert!(config.contains("test_tool = \"nextest\""), "{config}");
    assert!(config.contains("profile = \"mutants\""), "{config}");
    let manifest = include_str!("../Cargo.toml");
    assert!(
        manifest.contains("[profile.mutants]"),
        "the mutants cargo profile is missing"
    );
    let script = include_str!("../scripts/mutants");
    assert!(
        script.contains("caught rate"),
        "scripts/mutants must print the caught rate"
    );
}

#[test]
fn a_job_is_read_to_its_end_only() {
    let text = "jobs:\n  a:\n    x: 1\n    steps:\n      - run: a\n  b:\n    y: 2\n";
    assert_eq!(job(text, "a"), "    x: 1\n    steps:\n      - run: a\n");
    assert_eq!(job(text, "b"), "    y: 2\n");
    assert_eq!(job(text, "c"), "");
}
