//! Sync on, both CLIs at work in one project against a FakeSaas: kitty's create queues (and its
//! final sync sends) `MissionCreated`, `SpecifyStarted` and the mission's dossier; the
//! reference's commands queue their dossier events in its own store; one `spec-kitty sync now`
//! leaves both queues with nothing to send, and the service holds every event exactly once.

use kitty_testkit::{FakeSaas, IsolatedHome, ReferenceCli, SessionSeed};
use serde_json::Value;

#[test]
fn a_mixed_run_with_sync_on_delivers_every_event_exactly_once() {
    let reference = ReferenceCli::require();
    let mut saas = FakeSaas::start();
    // The reference's dossier envelopes carry an empty build_id, which the published contract
    // refuses: they are the reference's, not kitty's, so they stay out of the contract log.
    saas.skip_contract_log();
    let home = IsolatedHome::builder().sync(true).fake_saas(&saas).build();
    home.seed(&SessionSeed::with_private_team());
    let repo = home.repo().without_config().build();
    let kitty_dir = home.path().join("kitty-bin");
    std::fs::create_dir_all(&kitty_dir).unwrap();
    let kitty = kitty_dir.join("spec-kitty");
    #[cfg(unix)]
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_spec-kitty"), &kitty).unwrap();
    #[cfg(not(unix))]
    std::fs::copy(env!("CARGO_BIN_EXE_spec-kitty"), &kitty).unwrap();
    let path = format!(
        "{}:{}:{}",
        kitty_dir.display(),
        reference.path().parent().unwrap().display(),
        home.var("PATH").unwrap_or_default()
    );
    let exec = |args: &[&str]| {
        let out = home
            .program(&kitty)
            .env("PATH", &path)
            .env("SPEC_KITTY_NO_UPGRADE_CHECK", "1")
            .current_dir(repo.path())
            .args(args)
            .run();
        out.assert_success();
        out
    };
    let run = |args: &[&str]| {
        exec(args).assert_success();
    };
    // The reference itself (kitty runs spec-commit and setup-plan natively).
    let by_reference = |args: &[&str]| {
        home.program(reference.path())
            .env("PATH", &path)
            .env("SPEC_KITTY_NO_UPGRADE_CHECK", "1")
            .current_dir(repo.path())
            .args(args)
            .run()
            .assert_success();
    };
    let json = |args: &[&str]| exec(args).json();
    // The reference's init (through kitty), armed, so its store is ready; then its opt-in.
    run(&["init", "--ai", "claude", "--json"]);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "init"]);
    run(&["sync", "opt-in"]);
    // kitty's create: queued under the grant and sent by its final sync.
    let doc = json(&[
        "agent",
        "mission",
        "create",
        "demo",
        "--friendly-name",
        "Demo",
        "--json",
    ]);
    doc.assert_eq("/event_queued", true);
    let m = doc.str("/mission_slug").to_string();
    // The reference's commands queue their own events.
    let spec = format!("kitty-specs/{m}/spec.md");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/lifecycle_parity/content/spec.md"
        ),
        repo.path().join(&spec),
    )
    .unwrap();
    let meta = format!("kitty-specs/{m}/meta.json");
    by_reference(&[
        "spec-commit",
        "--mission",
        &m,
        "--message",
        "Add spec",
        &spec,
        &meta,
        "--json",
    ]);
    by_reference(&["agent", "mission", "setup-plan", "--mission", &m, "--json"]);
    let status = json(&["sync", "status", "--json"]);
    let waiting = status
        .at("/project/reference_queue/sendable")
        .as_u64()
        .unwrap();
    assert!(
        waiting > 0,
        "the reference queued events to send: {status:?}"
    );
    // One sync now: kitty's outbox, then the reference's queue through the reference.
    let now = json(&["sync", "now", "--json"]);
    now.assert_eq("/reference_queue/before", waiting)
        .assert_eq("/reference_queue/after", 0)
        .assert_eq("/remaining", 0);
    let status = json(&["sync", "status", "--json"]);
    status
        .assert_eq("/queue_depth", 0)
        .assert_eq("/project/reference_queue/sendable", 0);
    // Every event once: kitty's MissionCreated and each of the reference's.
    let events = saas.received_events();
    let mut ids: Vec<&str> = events
        .iter()
        .filter_map(|e| e["event_id"].as_str())
        .collect();
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "an event was delivered twice: {events:?}");
    let types: Vec<&str> = events
        .iter()
        .filter_map(|e| e["event_type"].as_str())
        .collect();
    assert_eq!(
        types.iter().filter(|t| **t == "MissionCreated").count(),
        1,
        "{types:?}"
    );
    assert_eq!(
        n as u64,
        kitty_testkit::EVENTS_PER_CREATE as u64 + waiting,
        "{types:?}"
    );
    assert!(
        events
            .iter()
            .any(|e: &Value| e["event_type"] != "MissionCreated")
    );
}
