//! What a planning command queues for the hosted service: its lifecycle events and the mission's
//! dossier, when sync is on and the project consented (as the reference decides both), each fact
//! once, in envelopes that pass the published contract.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::env::Env;
use crate::identity::MachineIdentity;
use crate::mission::MissionError;
use crate::mission::dossier::{self, Namespace};
use crate::mission::git::Repo;
use crate::mission::project_config::ProjectConfig;
use crate::paths::RuntimeRoot;
use crate::sync::envelope::EnvelopeDraft;

/// A lifecycle event to queue before the dossier: `(event_type, (aggregate_type, aggregate_id),
/// payload)`.
pub type Lifecycle = (&'static str, (&'static str, String), Value);

/// Where and as whom a command queues.
#[derive(Debug, Clone, Copy)]
pub struct Queue<'a> {
    /// The environment snapshot.
    pub env: &'a Env,
    /// This machine.
    pub identity: &'a MachineIdentity,
    /// The runtime root (the outbox, the reference's consent).
    pub root: &'a RuntimeRoot,
}

impl Queue<'_> {
    /// Queue `lifecycle`, then the dossier of the mission directory `dir` in the repository at
    /// `top`. Returns how many events were queued (none with sync off or without consent).
    pub fn mission_events(
        &self,
        top: &Path,
        dir: &Path,
        lifecycle: Vec<Lifecycle>,
        now: DateTime<Utc>,
    ) -> Result<u32, MissionError> {
        self.queue(top, Some(dir), lifecycle, now)
    }

    /// Queue `lifecycle` alone (no dossier): an `ErrorLogged`, say.
    pub fn events(
        &self,
        top: &Path,
        lifecycle: Vec<Lifecycle>,
        now: DateTime<Utc>,
    ) -> Result<u32, MissionError> {
        self.queue(top, None, lifecycle, now)
    }

    fn queue(
        &self,
        top: &Path,
        dossier_of: Option<&Path>,
        lifecycle: Vec<Lifecycle>,
        now: DateTime<Utc>,
    ) -> Result<u32, MissionError> {
        if !crate::settings::Settings::from_env(self.env).sync_active {
            return Ok(0);
        }
        let Ok(config) = ProjectConfig::load(top) else {
            return Ok(0);
        };
        let (Some(uuid), Some(slug)) = (config.uuid(), config.slug()) else {
            return Ok(0);
        };
        if !crate::mission::create::project_consents(self.root, uuid) {
            return Ok(0);
        }
        let repo = Repo::discover(self.env, top)?;
        let producer = crate::mission::create::plan::producer(
            &config,
            self.env,
            self.identity,
            (uuid, slug),
            (repo.head_branch()?, repo.head_commit()?),
            repo.origin_url().as_deref(),
        );
        // Each event a microsecond after the one before: their times follow the queue order.
        let mut at = now;
        let mut drafts = Vec::new();
        for (event_type, (agg_type, agg_id), mut payload) in lifecycle {
            with_repos(&mut payload, &producer);
            drafts.push(EnvelopeDraft::new(
                at,
                event_type,
                (agg_type, &agg_id),
                &producer,
                payload,
            ));
            at += chrono::Duration::microseconds(1);
        }
        if let Some(dir) = dossier_of {
            let meta: Value = std::fs::read_to_string(dir.join("meta.json"))
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or(Value::Null);
            let mission_slug = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = |k: &str| {
                meta.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            let mission_type = Some(text("mission_type"))
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| "software-dev".into());
            let ns = Namespace {
                mission_slug: &mission_slug,
                mission_type: &mission_type,
                project_uuid: uuid,
                target_branch: &text("target_branch"),
            };
            let snapshot = crate::ids::uuid4();
            for (event_type, agg_id, payload) in
                dossier::events(&ns, &dossier::scan(dir), now, &snapshot)
            {
                drafts.push(EnvelopeDraft::new(
                    at,
                    event_type,
                    ("MissionDossier", &agg_id),
                    &producer,
                    payload,
                ));
                at += chrono::Duration::microseconds(1);
            }
        }
        let n = drafts.len() as u32;
        let mut outbox = crate::sync::outbox::Outbox::open(&self.root.outbox_db())?;
        outbox.append_all(drafts)?;
        Ok(n)
    }
}

/// A status change's evidence names the repository it was recorded in (**interop**: the
/// reference's emitter adds `repos` — origin's `owner/repo` or `local`, the branch and `HEAD`,
/// `unknown` when not known — to evidence that has none; the contract requires it).
fn with_repos(payload: &mut Value, producer: &crate::sync::envelope::Producer) {
    let Some(evidence) = payload.get_mut("evidence").and_then(Value::as_object_mut) else {
        return;
    };
    if evidence
        .get("repos")
        .is_some_and(|r| r.as_array().is_some_and(|a| !a.is_empty()))
    {
        return;
    }
    evidence.insert(
        "repos".into(),
        serde_json::json!([{
            "repo": producer.repo_slug.as_deref().unwrap_or("local"),
            "branch": producer.git_branch.as_deref().unwrap_or("unknown"),
            "commit": producer.head_commit_sha.as_deref().unwrap_or("unknown"),
        }]),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_gets_its_repository_unless_it_names_one_and_nothing_else_is_touched() {
        let producer = crate::sync::envelope::Producer {
            git_branch: Some("feat/x".into()),
            repo_slug: Some("acme/demo".into()),
            ..Default::default()
        };
        let with = |payload: Value| {
            let mut p = payload;
            with_repos(&mut p, &producer);
            p
        };
        let added =
            serde_json::json!([{"repo": "acme/demo", "branch": "feat/x", "commit": "unknown"}]);
        assert_eq!(
            with(serde_json::json!({"evidence": {}}))["evidence"]["repos"],
            added
        );
        assert_eq!(
            with(serde_json::json!({"evidence": {"repos": []}}))["evidence"]["repos"],
            added
        );
        let own = serde_json::json!([{"repo": "o/r", "branch": "b", "commit": "c"}]);
        assert_eq!(
            with(serde_json::json!({"evidence": {"repos": own.clone()}}))["evidence"]["repos"],
            own
        );
        assert_eq!(
            with(serde_json::json!({"evidence": null})),
            serde_json::json!({"evidence": null})
        );
    }
}
