//! Every envelope kitty sends conforms to the published event contract (`spec-kitty-events`,
//! checked with its own validator), carries the project's identity, and a corrupted copy fails.
//! The validator runs on the Python of the reference's venv, which the testkit looks for in the
//! venv's `bin/` and `scripts/install-reference` (a POSIX shell script) makes: the contract
//! checks are Unix-only.

#[cfg(unix)]
use kitty_testkit::{EventContract, expect_panic};
use kitty_testkit::{FakeSaas, IsolatedHome, Repo, SessionSeed};
use serde_json::Value;

fn delivered_mission_created() -> (IsolatedHome, Repo, FakeSaas, Value) {
    let saas = FakeSaas::start();
    let home = crate::builder().fake_saas(&saas).sync(true).build();
    let repo = home.repo().build();
    repo.git(&[
        "remote",
        "add",
        "origin",
        "git@github.com:acme/kitty-demo.git",
    ]);
    home.seed(&SessionSeed::with_private_team());
    let run = home
        .command()
        .current_dir(repo.path())
        .args(["agent", "mission", "create", "042-contract-check", "--json"])
        .run();
    run.assert_success();
    run.diagnostics().assert_none();
    let events = saas.received_events();
    assert_eq!(
        events.len(),
        kitty_testkit::EVENTS_PER_CREATE,
        "the final sync delivered the events"
    );
    let event = events[0].clone();
    (home, repo, saas, event)
}

#[test]
fn mission_created_conforms_and_carries_the_project_identity() {
    let (_home, repo, saas, event) = delivered_mission_created();
    // Unix-only: the validator (see the module docs).
    #[cfg(unix)]
    saas.assert_received_events_conform(&EventContract::require());
    #[cfg(not(unix))]
    drop(saas);
    let config = std::fs::read_to_string(repo.path().join(".kittify/config.yaml")).unwrap();
    let project: serde_yaml_ng::Value = serde_yaml_ng::from_str(&config).unwrap();
    for key in ["node_id", "build_id", "uuid"] {
        let want = project["project"][key].as_str().unwrap();
        let field = if key == "uuid" { "project_uuid" } else { key };
        assert_eq!(event[field], want, "{field} comes from the project config");
    }
    assert_eq!(event["schema_version"], "3.0.0");
    assert_eq!(event["causation_id"], Value::Null);
    assert_eq!(
        event["correlation_id"], event["event_id"],
        "a root event correlates to itself"
    );
    assert_eq!(event["aggregate_id"], event["payload"]["mission_id"]);
    assert_eq!(event["repo_slug"], "acme/kitty-demo");
    let dir = event["payload"]["mission_slug"].as_str().unwrap();
    assert!(
        repo.path().join("kitty-specs").join(dir).is_dir(),
        "mission_slug is the directory"
    );
    assert_eq!(event["payload"]["mission_number"], Value::Null);
    assert_eq!(event["payload"]["wp_count"], 0);
    assert!(event["payload"].get("feature_dir").is_none());
}

#[test]
fn an_event_left_queued_by_a_final_sync_that_is_off_conforms_too() {
    let home = crate::builder().build();
    let repo = home.repo().build();
    home.command()
        .sync_queue_only()
        .current_dir(repo.path())
        .args(["agent", "mission", "create", "offline", "--json"])
        .run()
        .assert_success();
    let queued = home.queued_events();
    assert_eq!(queued.len(), kitty_testkit::EVENTS_PER_CREATE);
    #[cfg(unix)]
    EventContract::require().assert_conforms(&queued);
}

/// The long-lived validator (which `validate` asks) and a new interpreter give the same verdicts,
/// on a conforming envelope and a broken one.
#[cfg(unix)]
#[test]
fn the_long_lived_validator_and_a_new_interpreter_agree() {
    let (_home, _repo, _saas, event) = delivered_mission_created();
    let mut bad = event.clone();
    bad["payload"]["wp_count"] = (-1).into();
    let contract = EventContract::require();
    let served = contract.validate(&[event.clone(), bad.clone()]);
    let fresh = contract.validate_in_new_interpreter(&[event, bad]);
    assert_eq!(served, fresh);
    assert!(served[0].valid && !served[1].valid, "{served:?}");
}

/// The check can fail: each corruption of one field of a real envelope is caught, and the
/// uncorrupted envelope passes in the same run.
// Unix-only: the validator (see the module docs).
#[cfg(unix)]
#[test]
fn corrupting_one_field_fails_the_contract() {
    let (_home, _repo, mut saas, event) = delivered_mission_created();
    type Corrupt = fn(&mut Value);
    let corruptions: [(&str, Corrupt); 7] = [
        ("schema_version as an integer", |e| {
            e["schema_version"] = 1.into()
        }),
        ("no build_id", |e| {
            e.as_object_mut().unwrap().remove("build_id");
        }),
        ("a malformed correlation_id", |e| {
            e["correlation_id"] = "not-a-ulid".into()
        }),
        ("a payload key the schema refuses", |e| {
            e["payload"]["feature_dir"] = "/abs/path".into()
        }),
        ("no target_branch", |e| {
            e["payload"]
                .as_object_mut()
                .unwrap()
                .remove("target_branch");
        }),
        ("a negative wp_count", |e| {
            e["payload"]["wp_count"] = (-1).into()
        }),
        ("a project_uuid that is not a uuid", |e| {
            e["project_uuid"] = "project".into()
        }),
    ];
    let mut envelopes = vec![event.clone()];
    for (_, corrupt) in &corruptions {
        let mut bad = event.clone();
        corrupt(&mut bad);
        envelopes.push(bad);
    }
    let verdicts = EventContract::require().validate(&envelopes);
    assert!(
        verdicts[0].valid,
        "the real envelope conforms: {:?}",
        verdicts[0]
    );
    for ((what, _), verdict) in corruptions.iter().zip(&verdicts[1..]) {
        assert!(!verdict.valid, "{what} was not caught by the contract");
        assert!(!verdict.problems.is_empty(), "{what}: no problem named");
    }
    // The assertion the suites use fails on them too, and on nothing to check.
    let contract = EventContract::require();
    contract.assert_conforms(&envelopes[..1]);
    let text = expect_panic(|| contract.assert_conforms(&envelopes));
    assert!(
        text.starts_with("7 of 8 envelope(s) break the event contract (spec-kitty-events 6.1.0)"),
        "{text}"
    );
    let text = expect_panic(|| contract.assert_conforms(&[]));
    assert!(text.starts_with("no envelope to check"), "{text}");
    // And so does the fake's check of what it received, once a corrupted one arrives (kept out
    // of the run's contract log, which must hold only what kitty sent).
    saas.assert_received_events_conform(&contract);
    saas.skip_contract_log();
    let url = spec_kitty::internals::saas::url::ServiceUrl::parse(&saas.url()).unwrap();
    spec_kitty::internals::saas::SaasClient::new(&url, std::time::Duration::from_secs(5))
        .post_batch("test-token", &envelopes[1..2])
        .unwrap();
    let text = expect_panic(|| saas.assert_received_events_conform(&contract));
    let want = format!(
        "1 of {} envelope(s) break",
        kitty_testkit::EVENTS_PER_CREATE + 1
    );
    assert!(text.starts_with(&want), "{text}");
}

/// A fake told to skip the contract log writes none, for the same delivery the test below logs.
#[test]
fn a_fake_told_to_skip_logs_nothing_for_the_contract_check() {
    let (_home, _repo, mut saas, _event) = delivered_mission_created();
    assert_eq!(
        saas.received_events().len(),
        kitty_testkit::EVENTS_PER_CREATE,
        "the guard: it has some to log"
    );
    let dir = tempfile::tempdir().unwrap();
    saas.set_contract_log(dir.path().join("log"));
    saas.skip_contract_log();
    drop(saas);
    assert!(!dir.path().join("log").exists());
}

/// The contract log that `scripts/validate-events` checks: what a fake received, one line per
/// envelope, in a new file per fake.
#[test]
fn a_fake_logs_what_it_received_for_the_contract_check() {
    let (_home, _repo, mut saas, event) = delivered_mission_created();
    let dir = tempfile::tempdir().unwrap();
    saas.set_contract_log(dir.path().join("log"));
    drop(saas);
    let files: Vec<_> = std::fs::read_dir(dir.path().join("log"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_str().unwrap().to_string();
    assert!(
        name.ends_with(".jsonl") && name.contains(&format!("-{}-", std::process::id())),
        "{name}"
    );
    assert!(
        name.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
        "{name}"
    );
    let text = std::fs::read_to_string(&files[0]).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), kitty_testkit::EVENTS_PER_CREATE, "{text}");
    assert_eq!(lines[0]["envelope"], event);
    let thread = std::thread::current()
        .name()
        .unwrap_or("unnamed")
        .to_string();
    assert_eq!(lines[0]["test"], thread.as_str());
}
