//! Unit tests of the create plan, without git: a table answers for the checkout.

use std::path::{Path, PathBuf};

use super::plan::*;
use super::{ALREADY_CONFIRMED, CreateRequest};
use crate::env::Env;
use crate::identity::MachineIdentity;
use crate::mission::MissionError;
use crate::mission::meta::Topology;
use crate::mission::project_config::ProjectConfig;
use crate::mission::scaffold;

/// A checkout answered from a table: no git, no files.
struct Table {
    head: Option<&'static str>,
    branch: Option<&'static str>,
    origin_default: Option<&'static str>,
    origin_url: Option<&'static str>,
    branches: &'static [&'static str],
    config: &'static str,
}

const CONFIG: &str = "project:\n  uuid: 0b6e1c2a-5a39-4c1e-9d7e-1f0f6f7f8a9b\n  slug: demo\n  node_id: n0de1d000000\n  build_id: b1\nmission_type_activations: [software-dev, documentation]\n";

fn table() -> Table {
    Table {
        head: Some("a1b2c3"),
        branch: Some("feature"),
        origin_default: Some("main"),
        origin_url: Some("git@github.com:acme/demo.git"),
        branches: &["main", "feature"],
        config: CONFIG,
    }
}

impl Checkout for Table {
    fn top(&self) -> PathBuf {
        PathBuf::from("/work/demo")
    }
    fn head_commit(&self) -> Result<Option<String>, MissionError> {
        Ok(self.head.map(str::to_string))
    }
    fn branch(&self) -> Result<Option<String>, MissionError> {
        Ok(self.branch.map(str::to_string))
    }
    fn origin_default_branch(&self) -> Result<Option<String>, MissionError> {
        Ok(self.origin_default.map(str::to_string))
    }
    fn origin_url(&self) -> Option<String> {
        self.origin_url.map(str::to_string)
    }
    fn check_branch_name(&self, name: &str) -> Result<(), String> {
        if name.contains("..") || name.contains(' ') {
            Err(format!("'{name}' is not a valid branch name"))
        } else {
            Ok(())
        }
    }
    fn ref_exists(&self, refname: &str) -> Result<bool, MissionError> {
        Ok(self
            .branches
            .iter()
            .any(|b| refname == format!("refs/heads/{b}")))
    }
    fn project_config(&self) -> Result<ProjectConfig, MissionError> {
        ProjectConfig::parse(Path::new("/work/demo/.kittify/config.yaml"), self.config)
    }
}

fn request(slug: &str) -> CreateRequest {
    CreateRequest {
        slug: slug.into(),
        ..Default::default()
    }
}

fn plan_of(req: &CreateRequest, checkout: &Table) -> Result<CreatePlan, MissionError> {
    let env = Env::default();
    let identity = MachineIdentity::new("host", 1000);
    plan(check_request(req)?, checkout, &env, &identity)
}

fn refusal(req: &CreateRequest, checkout: &Table) -> String {
    match plan_of(req, checkout) {
        Ok(p) => panic!("planned: {p:?}"),
        Err(e) => e.code().to_string(),
    }
}

#[test]
fn a_plain_request_gets_every_default_from_the_slug_the_branch_and_the_config() {
    let p = plan_of(&request("add-login"), &table()).unwrap();
    assert_eq!(p.top, PathBuf::from("/work/demo"));
    assert_eq!(p.switch, None);
    assert_eq!(
        (p.current_branch.as_str(), p.target_branch.as_str()),
        ("feature", "feature")
    );
    assert_eq!(p.mission_type, "software-dev");
    assert_eq!(p.friendly_name, "add login");
    assert_eq!(p.purpose_tldr, "add login");
    assert_eq!(
        p.purpose_context,
        scaffold::default_purpose_context("add login", "feature")
    );
    // Off the primary branch (origin's default is main): one branch, no coordination branch.
    assert_eq!(p.topology, Topology::SingleBranch);
    assert_eq!(p.coordination_branch("add-login-01M8KDZK"), None);
    assert_eq!(p.producer.node_id, "n0de1d000000");
    assert_eq!(p.producer.build_id, "b1");
    assert_eq!(p.producer.repo_slug.as_deref(), Some("acme/demo"));
    assert_eq!(p.producer.head_commit_sha.as_deref(), Some("a1b2c3"));
    assert_eq!(p.producer.git_branch.as_deref(), Some("feature"));
}

#[test]
fn on_the_primary_branch_and_when_pr_bound_the_mission_gets_a_coordination_branch() {
    // The primary branch is the one we stand on when origin names none.
    let primary = Table {
        origin_default: None,
        ..table()
    };
    let p = plan_of(&request("x"), &primary).unwrap();
    assert_eq!(p.topology, Topology::Coord);
    assert_eq!(
        p.coordination_branch("x-01M8KDZK").as_deref(),
        Some("kitty/mission-x-01M8KDZK")
    );
    // The branch origin names as its default, when it is the one we stand on (the config lifts
    // the protection origin's default would otherwise have).
    let origin_primary = Table {
        origin_default: Some("feature"),
        config: "project: {uuid: u, slug: s}\nmission_type_activations: [software-dev]\nprotection: {protected_branches: []}\n",
        ..table()
    };
    assert_eq!(
        plan_of(&request("x"), &origin_primary).unwrap().topology,
        Topology::Coord
    );
    let req = CreateRequest {
        pr_bound: true,
        branch_strategy: Some(ALREADY_CONFIRMED.into()),
        ..request("x")
    };
    assert_eq!(plan_of(&req, &table()).unwrap().topology, Topology::Coord);
}

#[test]
fn a_start_branch_is_a_planned_switch_that_knows_whether_it_creates_and_where_it_goes_back() {
    let req = CreateRequest {
        start_branch: Some(" topic ".into()),
        ..request("x")
    };
    let p = plan_of(&req, &table()).unwrap();
    let expected = StartSwitch {
        branch: "topic".into(),
        create: true,
        back_to: "feature".into(),
    };
    assert_eq!(p.switch, Some(expected));
    assert_eq!(
        (p.current_branch.as_str(), p.target_branch.as_str()),
        ("topic", "topic")
    );
    assert_eq!(p.producer.git_branch.as_deref(), Some("topic"));
    let existing = CreateRequest {
        start_branch: Some("main".into()),
        ..request("x")
    };
    let lifted = Table {
        config: "project: {uuid: u, slug: s}\nmission_type_activations: [software-dev]\nprotection: {protected_branches: []}\n",
        ..table()
    };
    assert!(!plan_of(&existing, &lifted).unwrap().switch.unwrap().create);
    // The branch it already stands on: no switch.
    let same = CreateRequest {
        start_branch: Some("feature".into()),
        ..request("x")
    };
    assert_eq!(plan_of(&same, &table()).unwrap().switch, None);
}

#[test]
fn refusals_come_in_the_reference_order_with_its_codes() {
    let with = |f: fn(&mut CreateRequest)| {
        let mut r = request("x");
        f(&mut r);
        r
    };
    for (req, checkout, code) in [
        // The request's own checks come before the checkout is asked anything.
        (
            with(|r| r.owned_checkout = Some("/elsewhere".into())),
            Table {
                head: None,
                ..table()
            },
            "unsupported_option",
        ),
        (
            request("Bad Slug"),
            Table {
                head: None,
                ..table()
            },
            "invalid_slug",
        ),
        (
            with(|r| r.friendly_name = Some("  ".into())),
            Table {
                head: None,
                ..table()
            },
            "invalid_friendly_name",
        ),
        (
            with(|r| {
                r.mission_type = Some("a".into());
                r.mission_alias = Some("b".into());
            }),
            Table {
                head: None,
                ..table()
            },
            "unknown_mission_type",
        ),
        (
            with(|r| {
                r.start_branch = Some("a".into());
                r.target_branch = Some("b".into());
            }),
            Table {
                head: None,
                ..table()
            },
            "START_BRANCH_TARGET_MISMATCH",
        ),
        (
            request("x"),
            Table {
                head: None,
                ..table()
            },
            "no_commit",
        ),
        (
            request("x"),
            Table {
                config: "project: {uuid: u, slug: s}\nmission_type_activations: []\n",
                ..table()
            },
            "CHARTER_PACK_CONFIG_INVALID",
        ),
        (
            with(|r| r.mission_type = Some("research".into())),
            table(),
            "unknown_mission_type",
        ),
        (
            request("x"),
            Table {
                config: "mission_type_activations: [software-dev]\n",
                ..table()
            },
            "config_invalid",
        ),
        (
            request("x"),
            Table {
                branch: None,
                ..table()
            },
            "detached_head",
        ),
        (
            with(|r| r.start_branch = Some("a..b".into())),
            table(),
            "START_BRANCH_FAILED",
        ),
        (
            with(|r| r.start_branch = Some("main".into())),
            table(),
            "protected_branch",
        ),
        (
            with(|r| r.pr_bound = true),
            table(),
            "BRANCH_STRATEGY_CONFIRMATION_REQUIRED",
        ),
        (
            with(|r| r.target_branch = Some("main".into())),
            table(),
            "target_branch_not_checked_out",
        ),
        (
            request("x"),
            Table {
                branch: Some("main"),
                ..table()
            },
            "protected_branch",
        ),
        (
            with(|r| r.purpose_tldr = Some("two\nlines".into())),
            table(),
            "invalid_purpose",
        ),
    ] {
        assert_eq!(refusal(&req, &checkout), code, "{req:?}");
    }
}

#[test]
fn blank_purposes_are_refused_together() {
    let req = CreateRequest {
        purpose_tldr: Some(" ".into()),
        purpose_context: Some("\t".into()),
        ..request("x")
    };
    let err = plan_of(&req, &table()).unwrap_err();
    assert_eq!(
        err.to_string().matches("must not be blank").count(),
        2,
        "{err}"
    );
}

#[test]
fn the_meta_records_flags_and_branches_only_when_they_apply() {
    let mut p = plan_of(&request("x"), &table()).unwrap();
    let plain = serde_json::to_value(p.meta("01M8KDZKH8", "x-01M8KDZK", "t")).unwrap();
    for absent in [
        "pr_bound",
        "retain_branches",
        "retain_worktrees",
        "coordination_branch",
        "documentation_state",
    ] {
        assert!(plain.get(absent).is_none(), "{absent} in {plain}");
    }
    assert_eq!(plain["mission_number"], serde_json::Value::Null);
    assert_eq!(plain["slug"], "x-01M8KDZK");
    assert_eq!(plain["flattened"], false);
    p.flags = MissionFlags {
        pr_bound: true,
        retain_branches: true,
        retain_worktrees: true,
    };
    p.topology = Topology::LanesWithCoord;
    p.mission_type = "documentation".into();
    let all = serde_json::to_value(p.meta("01M8KDZKH8", "x-01M8KDZK", "t")).unwrap();
    for set in ["pr_bound", "retain_branches", "retain_worktrees"] {
        assert_eq!(all[set], true, "{set}");
    }
    assert_eq!(all["coordination_branch"], "kitty/mission-x-01M8KDZK");
    assert_eq!(all["documentation_state"]["coverage_percentage"], 0.0);
    assert_eq!(
        all["documentation_state"]["last_audit_date"],
        serde_json::Value::Null
    );
}
