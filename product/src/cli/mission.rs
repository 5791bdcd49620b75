//! `init`, `agent mission create`, `agent mission list`.

use serde_json::{Value, json};

use super::context::Ctx;
use super::error::CommandError;
use crate::mission::create::{self, CreateRequest, Created};
use crate::mission::init::InitRequest;
use crate::mission::list;
use crate::output::Report;

/// `spec-kitty init`: kitty writes the project's files; `--ai` agents' files come from the
/// reference (first, on a fresh project, since its `init` stops on an existing config).
pub fn init(ctx: &Ctx, req: &InitRequest) -> Result<Report, CommandError> {
    let agents = req.agent_names();
    let top = crate::mission::git::repo::Repo::discover(&ctx.env, &ctx.cwd)?
        .top()
        .to_path_buf();
    let fresh = !crate::mission::project_config::config_path(&top).exists();
    let agent_files = match agents.is_empty() {
        true => Value::Null,
        false => agent_files(ctx, &top, fresh, &agents)?,
    };
    let mut done = crate::mission::init::init(&ctx.env, &ctx.identity, &ctx.cwd, ctx.clock, req)?;
    done.existed = !fresh;
    let top = &done.top;
    let c = &done.config;
    let summary = if !done.existed {
        format!(
            "Initialized spec-kitty project {} in {}.",
            c.slug().unwrap_or_default(),
            top.display()
        )
    } else if done.added.is_empty() && done.files.changed().is_empty() {
        format!(
            "{} is already initialized; nothing was missing.",
            top.display()
        )
    } else {
        let added: Vec<&str> = done
            .added
            .iter()
            .map(String::as_str)
            .chain(done.files.changed())
            .collect();
        format!("Repaired {}: added {}.", top.display(), added.join(", "))
    };
    Ok(Report::success(
        json!({
            "repository": top,
            "config_file": crate::mission::project_config::config_path(top),
            "specs_dir": crate::mission::project_config::specs_dir(top),
            "project_uuid": c.uuid(),
            "project_slug": c.slug(),
            "node_id": c.node_id(),
            "build_id": c.build_id(),
            "mission_types": c.mission_types(),
            "agents": c.agents(),
            "already_initialized": done.existed,
            "added_keys": done.added,
            "repository_files": done.files,
            "agent_files": agent_files,
        }),
        summary,
    ))
}

/// Have the reference write the agents' files: its `init --ai` on a fresh project, its `agent
/// config add` on an initialised one. Without a reference the step is skipped, and the document
/// says so and how to get it.
fn agent_files(
    ctx: &Ctx,
    top: &std::path::Path,
    fresh: bool,
    agents: &[String],
) -> Result<Value, CommandError> {
    let args: Vec<String> = match fresh {
        true => ["init", "--ai", &agents.join(","), "--non-interactive"]
            .map(String::from)
            .to_vec(),
        false => ["agent", "config", "add"]
            .iter()
            .map(|s| s.to_string())
            .chain(agents.iter().cloned())
            .collect(),
    };
    let shown = format!("spec-kitty {}", args.join(" "));
    let me = std::env::current_exe().ok();
    let reference = match super::delegate::find(&ctx.env, me.as_deref()) {
        Ok(r) => r,
        Err(why) => {
            // kitty's init goes on, so afterwards the project exists: `agent config add`.
            let skipped = format!(
                "the agents' files were not written: the reference CLI writes them and none can run ({why}); install it after kitty on PATH with `{}`, then run `spec-kitty agent config add {}`",
                super::delegate::INSTALL_LINE,
                agents.join(" ")
            );
            ctx.out.notice(&skipped);
            return Ok(json!({ "agents": agents, "written_by": null, "skipped": skipped }));
        }
    };
    // The reference's own output goes to stderr: stdout stays this command's document.
    let status = std::process::Command::new(&reference.path)
        .args(&args)
        .current_dir(top)
        .stdin(std::process::Stdio::null())
        .stdout(std::io::stderr())
        .status()
        .map_err(|e| CommandError::Coded {
            code: "reference_failed",
            message: format!(
                "cannot run the reference CLI {} for the agents' files ({e}); reinstall it (`{}`) and run `spec-kitty init --ai {}` again",
                reference.path.display(),
                super::delegate::INSTALL_LINE,
                agents.join(",")
            ),
        })?;
    if !status.success() {
        return Err(CommandError::Coded {
            code: "reference_failed",
            message: format!(
                "the reference's `{shown}` failed ({status}; its output is above), and kitty wrote nothing: fix what it says and run `spec-kitty init --ai {}` again",
                agents.join(",")
            ),
        });
    }
    Ok(json!({
        "agents": agents,
        "written_by": reference.path,
        "command": shown,
        "skipped": null,
    }))
}

/// The reference's branch-contract keys of a create document (current, target, base, merge
/// target, in lower and upper case, `runtime_vars` and `branch_context`).
fn branch_contract(c: &Created) -> serde_json::Map<String, Value> {
    crate::mission::planning::branch::Contract {
        current: &c.current_branch,
        target: &c.target_branch,
        matches: c.current_branch == c.target_branch,
        now: c.now,
        primary: None,
    }
    .keys()
}

/// `spec-kitty agent mission create`.
pub fn create(ctx: &Ctx, req: &CreateRequest) -> Result<Report, CommandError> {
    let root = ctx.root()?;
    if req.mission_alias.is_some() && req.mission_type.is_none() {
        ctx.out
            .notice("warning: --mission is deprecated; use --mission-type instead");
    }
    // The final sync will need the session: derive its key on a second thread while the
    // mission is validated, written and committed (the derivation and the commit overlap).
    let _prefetch = if ctx.settings.sync_active {
        ctx.store()?.prefetch_key()
    } else {
        None
    };
    let c = create::create(&ctx.env, &ctx.identity, &root, &ctx.cwd, ctx.clock, req)?;
    if c.queued {
        ctx.queued.set(ctx.queued.get() + 1);
    }
    let m = &c.meta;
    let dir = &c.feature_dir;
    // The specify phase opens, and the mission's first dossier (queued after MissionCreated).
    if c.queued {
        let specify_started = (
            "SpecifyStarted",
            ("Mission", m.mission_slug.clone()),
            json!({
                "actor": "spec-kitty mission create",
                "at": crate::pyfmt::isoformat_z(ctx.clock.now_micros()),
                "mission_number": Value::Null,
                "mission_slug": m.mission_slug,
            }),
        );
        super::planning::queue_mission_events(ctx, dir, vec![specify_started]);
    }
    let spec = dir.join("spec.md");
    let meta_file = dir.join("meta.json");
    let mut doc = json!({
        "mission_slug": m.mission_slug,
        "mission_number": Value::Null,
        "mission_id": m.mission_id,
        "mission_type": m.mission_type,
        "slug": m.mission_slug,
        "friendly_name": m.friendly_name,
        "purpose_tldr": m.purpose_tldr,
        "purpose_context": m.purpose_context,
        "feature_dir": dir,
        "spec_file": spec,
        "meta_file": meta_file,
        "created_at": m.created_at,
        "created_files": [spec, meta_file, dir.join("tasks").join("README.md")],
        "uncommitted_artifacts": [{
            "path": spec,
            "reason": "A scaffold to be written by the agent; it is committed once it has real content.",
            "responsible_command": "/spec-kitty.specify",
        }],
        "write_mode": "update_existing_files",
        "scaffold_only": true,
        "requires_agent_authoring": true,
        "plan_guard": "SPEC_NOT_SUBSTANTIVE_OR_UNCOMMITTED",
        "next_step": "Only the scaffold exists. Write the specification with `/spec-kitty.specify <intent>` (or edit spec_file and commit it) before planning.",
        "origin_binding": {"attempted": false, "succeeded": false, "error": Value::Null},
        "coordination_branch": c.coordination_branch.as_ref().map(|b| &b.name),
        "coordination_branch_created": c.coordination_branch.as_ref().is_some_and(|b| b.created),
        "topology": m.topology,
        "commit": c.commit,
        "event_id": c.event_id,
        "event_queued": c.queued,
    });
    if let Value::Object(m) = &mut doc {
        m.extend(branch_contract(&c));
    }
    let human = format!(
        "Created mission {} ({}) in {}\nCommitted its scaffold on {} ({}); spec.md is left for the agent to write and commit.",
        m.mission_slug,
        m.mission_type,
        dir.display(),
        c.target_branch,
        &c.commit[..c.commit.len().min(12)],
    );
    Ok(Report::success(doc, human))
}

/// `spec-kitty agent mission list`.
pub fn list(ctx: &Ctx) -> Result<Report, CommandError> {
    let (top, missions) = list::list(&ctx.env, &ctx.cwd)?;
    let mut human = String::new();
    let items: Vec<_> = missions
        .iter()
        .map(|(dir, m)| {
            human.push_str(&format!(
                "{}  {}  {}\n",
                m.mission_slug,
                m.mission_type,
                m.friendly_name.as_deref().unwrap_or_default()
            ));
            json!({
                "mission_slug": m.mission_slug, "mission_id": m.mission_id,
                "mission_type": m.mission_type,
                "friendly_name": m.friendly_name.as_deref().unwrap_or_default(),
                "created_at": m.created_at.as_deref().unwrap_or_default(), "feature_dir": dir,
                "target_branch": m.target_branch, "topology": m.topology,
            })
        })
        .collect();
    if items.is_empty() {
        human
            .push_str("No missions yet. Create one with `spec-kitty agent mission create <slug>`.");
    }
    Ok(Report::success(
        json!({"repository": top, "count": items.len(), "missions": items}),
        human.trim_end().to_string(),
    ))
}
