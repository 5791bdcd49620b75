//! kitty's `init` writes the repository files the reference's `init` writes outside agent files:
//! the same `.gitignore` block, `.gitattributes` and merge drivers byte for byte, and a
//! `metadata.yaml` and `config.yaml` with the same keys and values (identities aside).

use kitty_testkit::IsolatedHome;
use serde_yaml_ng::Value;

use crate::harness::reference;

fn yaml(path: &std::path::Path) -> Value {
    serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn kitty_init_writes_the_reference_s_repository_files() {
    let home = IsolatedHome::new();
    let theirs = home
        .repo()
        .name("reference-made")
        .build_with_reference(&reference(), "feat/x");
    let ours = home.repo().name("kitty-made").without_config().build();
    home.command()
        .current_dir(ours.path())
        .args(["init", "--json"])
        .run()
        .assert_success()
        .json()
        .assert_eq("/repository_files/.gitignore", "created")
        .assert_eq("/repository_files/.gitattributes", "created")
        .assert_eq("/repository_files/merge_drivers", "created")
        .assert_eq("/repository_files/.kittify~1metadata.yaml", "created");
    for file in [".gitignore", ".gitattributes"] {
        assert_eq!(
            std::fs::read_to_string(ours.path().join(file)).unwrap(),
            std::fs::read_to_string(theirs.path().join(file)).unwrap(),
            "{file}"
        );
    }
    let drivers =
        |r: &kitty_testkit::Repo| r.git(&["config", "--local", "--get-regexp", "^merge\\."]);
    assert_eq!(drivers(&ours), drivers(&theirs));
    assert_eq!(drivers(&ours).lines().count(), 12);

    let (m, r) = (
        yaml(&ours.path().join(".kittify/metadata.yaml")),
        yaml(&theirs.path().join(".kittify/metadata.yaml")),
    );
    for key in [
        "schema_version",
        "version",
        "schema_capabilities",
        "last_upgraded_at",
    ] {
        assert_eq!(
            m["spec_kitty"][key], r["spec_kitty"][key],
            "spec_kitty.{key}"
        );
    }
    assert_eq!(m["migrations"], r["migrations"]);
    assert_eq!(m["environment"]["platform"], r["environment"]["platform"]);
    let at = m["spec_kitty"]["initialized_at"].as_str().unwrap();
    assert_eq!(
        at.len(),
        r["spec_kitty"]["initialized_at"].as_str().unwrap().len()
    );

    // config.yaml: the same keys and values but the project's identity and the chosen agents.
    let (mut kc, mut rc) = (
        yaml(&ours.path().join(".kittify/config.yaml")),
        yaml(&theirs.path().join(".kittify/config.yaml")),
    );
    for c in [&mut kc, &mut rc] {
        for k in ["uuid", "slug", "build_id"] {
            c["project"][k] = Value::Null;
        }
        c["agents"]["available"] = Value::Null;
    }
    assert_eq!(kc, rc);

    // Run again: nothing is missing, nothing is rewritten.
    home.command()
        .current_dir(ours.path())
        .args(["init", "--json"])
        .run()
        .assert_success()
        .json()
        .assert_eq("/repository_files/.gitignore", "unchanged")
        .assert_eq("/repository_files/merge_drivers", "unchanged");
}

/// On the reference's own repository kitty's `init` finds nothing missing and changes nothing.
#[test]
fn kitty_init_on_a_reference_repository_changes_nothing() {
    let home = IsolatedHome::new();
    let repo = home.repo().build_with_reference(&reference(), "feat/x");
    let skip = |p: &std::path::Path| p.starts_with(".git/objects") || p.starts_with(".git/logs");
    let before = kitty_testkit::DirSnapshot::of_filtered(repo.path(), skip);
    let run = home
        .command()
        .current_dir(repo.path())
        .args(["init", "--json"])
        .run();
    run.assert_success()
        .json()
        .assert_eq("/already_initialized", true)
        .assert_eq("/repository_files/.gitignore", "unchanged")
        .assert_eq("/repository_files/.gitattributes", "unchanged")
        .assert_eq("/repository_files/merge_drivers", "unchanged")
        .assert_eq("/repository_files/.kittify~1metadata.yaml", "unchanged");
    before.assert_unchanged(&kitty_testkit::DirSnapshot::of_filtered(repo.path(), skip));
}

fn files_under(dir: &std::path::Path, top: &std::path::Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if e.file_name() == ".git" {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            files_under(&p, top, out);
        } else {
            out.push(p.strip_prefix(top).unwrap().display().to_string());
        }
    }
}

/// `init --ai claude` through kitty, with the reference there: the reference writes the agent's
/// files, kitty the rest, and the work tree holds exactly the files of the reference's own init.
#[test]
fn init_with_an_agent_through_kitty_gives_the_reference_s_files() {
    let home = IsolatedHome::new();
    let reference = reference();
    let theirs = home
        .repo()
        .name("reference-made")
        .build_with_reference(&reference, "feat/x");
    let ours = home.repo().name("kitty-made").without_config().build();
    let run = home
        .command()
        .env(
            "SPEC_KITTY_REFERENCE",
            reference.for_programs(&home).to_str().unwrap(),
        )
        .current_dir(ours.path())
        .args(["init", "--ai", "claude", "--json"])
        .run();
    let doc = run.assert_success().json();
    doc.assert_eq("/agent_files/skipped", serde_json::Value::Null)
        .assert_eq(
            "/agent_files/command",
            "spec-kitty init --ai claude --non-interactive",
        )
        .assert_eq("/already_initialized", false);
    let list = |r: &kitty_testkit::Repo| {
        let mut v = Vec::new();
        files_under(r.path(), r.path(), &mut v);
        v.sort();
        v
    };
    assert_eq!(list(&ours), list(&theirs));
    for file in [".gitignore", ".gitattributes", ".claude/settings.json"] {
        assert_eq!(
            std::fs::read(ours.path().join(file)).unwrap(),
            std::fs::read(theirs.path().join(file)).unwrap(),
            "{file}"
        );
    }
}
