//! With sync on and consent given, setup-plan (past the spec gate) and record-analysis queue the
//! mission's dossier: one `MissionDossierArtifactIndexed` per artifact file and the snapshot
//! over them, delivered once each by the final sync, every envelope in the published contract.
//! Without consent they queue nothing.

#[cfg(unix)]
use kitty_testkit::EventContract;
use kitty_testkit::{FakeSaas, IsolatedHome, Repo, SessionSeed};
use serde_json::Value;

const CONTENT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/lifecycle_parity/content"
);

fn planned(consent: bool) -> (IsolatedHome, Repo, FakeSaas, String) {
    let saas = FakeSaas::start();
    let mut builder = IsolatedHome::builder().fake_saas(&saas).sync(true);
    if consent {
        builder = builder.sync_consent();
    }
    let home = builder.build();
    home.seed(&SessionSeed::with_private_team());
    let repo = home.repo().branch("feat/dossier").build();
    let doc = home
        .command()
        .current_dir(repo.path())
        .args(["agent", "mission", "create", "dossier", "--json"])
        .run()
        .assert_success()
        .json();
    let m = doc.str("/mission_slug").to_string();
    let dir = repo.path().join("kitty-specs").join(&m);
    std::fs::copy(format!("{CONTENT}/spec.md"), dir.join("spec.md")).unwrap();
    home.command()
        .current_dir(repo.path())
        .args([
            "spec-commit",
            "--mission",
            &m,
            "--message",
            "spec",
            "--json",
        ])
        .arg(format!("kitty-specs/{m}/spec.md"))
        .run()
        .assert_success();
    (home, repo, saas, m)
}

fn of_type<'a>(events: &'a [Value], t: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["event_type"] == t).collect()
}

#[test]
fn setup_plan_and_record_analysis_send_the_mission_dossier_once_in_the_contract() {
    let (home, repo, saas, m) = planned(true);
    let before = saas.received_events().len();
    home.command()
        .current_dir(repo.path())
        .args(["agent", "mission", "setup-plan", "--mission", &m, "--json"])
        .run()
        .assert_success();
    let events = saas.received_events()[before..].to_vec();
    let indexed = of_type(&events, "MissionDossierArtifactIndexed");
    let paths: Vec<&str> = indexed
        .iter()
        .map(|e| e["payload"]["artifact_id"]["path"].as_str().unwrap())
        .collect();
    // What the mission directory holds after the first setup-plan: spec, plan scaffold, meta,
    // log and the tasks readme (empty directories hold no artifact).
    let mut sorted = paths.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        [
            "meta.json",
            "plan.md",
            "spec.md",
            "status.events.jsonl",
            "tasks/README.md"
        ]
    );
    let snapshot = of_type(&events, "MissionDossierSnapshotComputed");
    assert_eq!(snapshot.len(), 1, "{events:?}");
    // Queued a microsecond apart, in order.
    let times: Vec<chrono::DateTime<chrono::FixedOffset>> = events
        .iter()
        .map(|e| chrono::DateTime::parse_from_rfc3339(e["timestamp"].as_str().unwrap()).unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
    assert_eq!(snapshot[0]["payload"]["artifact_count"], 5);
    assert_eq!(
        snapshot[0]["payload"]["context_diagnostics"]["required_artifacts"],
        "2"
    );
    let spec = indexed
        .iter()
        .find(|e| e["payload"]["artifact_id"]["path"] == "spec.md")
        .unwrap();
    assert_eq!(
        spec["payload"]["context_diagnostics"]["artifact_key"],
        "input.spec.main"
    );
    assert_eq!(spec["aggregate_id"], format!("{m}:spec.md"));
    assert_eq!(spec["aggregate_type"], "MissionDossier");
    let bytes = std::fs::read(repo.path().join("kitty-specs").join(&m).join("spec.md")).unwrap();
    assert_eq!(spec["payload"]["content_ref"]["size_bytes"], bytes.len());
    // The analysis: its report joins the dossier.
    std::fs::copy(
        format!("{CONTENT}/plan.md"),
        repo.path().join("kitty-specs").join(&m).join("plan.md"),
    )
    .unwrap();
    home.command()
        .current_dir(repo.path())
        .args(["agent", "mission", "setup-plan", "--mission", &m, "--json"])
        .run()
        .assert_success();
    std::fs::copy(
        format!("{CONTENT}/tasks.md"),
        repo.path().join("kitty-specs").join(&m).join("tasks.md"),
    )
    .unwrap();
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "tasks"]);
    let before = saas.received_events().len();
    home.command()
        .current_dir(repo.path())
        .args([
            "agent",
            "mission",
            "record-analysis",
            "--mission",
            &m,
            "--json",
            "--input-file",
        ])
        .arg(format!("{CONTENT}/analysis.md"))
        .run()
        .assert_success();
    let events = saas.received_events()[before..].to_vec();
    let report = of_type(&events, "MissionDossierArtifactIndexed")
        .into_iter()
        .find(|e| e["payload"]["artifact_id"]["path"] == "analysis-report.md")
        .cloned()
        .expect("the report is indexed");
    assert_eq!(
        report["payload"]["artifact_id"]["artifact_class"],
        "evidence"
    );
    // Every event once, every envelope in the contract.
    let all = saas.received_events();
    let mut ids: Vec<&str> = all.iter().filter_map(|e| e["event_id"].as_str()).collect();
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "an event was delivered twice");
    #[cfg(unix)]
    saas.assert_received_events_conform(&EventContract::require());
    assert_eq!(home.queued_events().len(), 0, "nothing left queued");
}

#[test]
fn without_consent_the_dossier_is_neither_queued_nor_sent() {
    let (home, repo, saas, m) = planned(false);
    home.command()
        .current_dir(repo.path())
        .args(["agent", "mission", "setup-plan", "--mission", &m, "--json"])
        .run()
        .assert_success();
    assert!(saas.received_events().is_empty());
    assert!(home.queued_events().is_empty());
}
