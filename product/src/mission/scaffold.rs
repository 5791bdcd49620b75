//! The files of a new mission: `spec.md` and `tasks/README.md` (kitty's own template text), and
//! the local lifecycle events of `status.events.jsonl` (**interop**: the reference's event-log
//! lines: Python `json.dumps` layout with sorted keys, schema `5.0.0`).

use serde_json::{Value, json};

/// The schema version of local event-log lines.
pub const LOCAL_EVENT_SCHEMA_VERSION: &str = "5.0.0";

/// The directory name of a mission: the slug without a leading `NNN-` (exactly three digits),
/// then `-<first 8 characters of the mission id>`; a slug that already ends with that suffix is
/// kept.
///
/// ```
/// use spec_kitty::internals::mission::scaffold::dir_name;
/// assert_eq!(dir_name("demo", "01M8KDZKH8QQ"), "demo-01M8KDZK");
/// assert_eq!(dir_name("123-demo", "01M8KDZKH8QQ"), "demo-01M8KDZK");
/// assert_eq!(dir_name("12-demo", "01M8KDZKH8QQ"), "12-demo-01M8KDZK");
/// assert_eq!(dir_name("123", "01M8KDZKH8QQ"), "123-01M8KDZK");
/// assert_eq!(dir_name("demo-01M8KDZK", "01M8KDZKH8QQ"), "demo-01M8KDZK");
/// ```
pub fn dir_name(slug: &str, mission_id: &str) -> String {
    let mid8 = &mission_id[..mission_id.len().min(8)];
    let suffix = format!("-{mid8}");
    if slug.ends_with(&suffix) {
        return slug.to_string();
    }
    let b = slug.as_bytes();
    let stripped = if b.len() > 4 && b[..3].iter().all(u8::is_ascii_digit) && b[3] == b'-' {
        &slug[4..]
    } else {
        slug
    };
    format!("{stripped}{suffix}")
}

/// The default display name: the slug's words joined by spaces (`add-login` → `add login`).
pub fn default_friendly_name(slug: &str) -> String {
    let words: Vec<&str> = slug.split('-').filter(|w| !w.is_empty()).collect();
    if words.is_empty() {
        "Mission".into()
    } else {
        words.join(" ")
    }
}

/// The default purpose context (the value the reference records for the same mission).
pub fn default_purpose_context(friendly_name: &str, branch: &str) -> String {
    format!(
        "This mission advances {friendly_name} on {branch} so stakeholders can track the work from mission creation onward."
    )
}

/// Collapse runs of whitespace to one space and trim.
pub fn normalize_space(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `spec.md`: a skeleton for the agent to fill in.
pub fn spec_md(friendly_name: &str, dir: &str, created: &str) -> String {
    format!(
        "# Specification: {friendly_name}\n\n\
         <!-- Scaffold written by spec-kitty. Fill it in with /spec-kitty.specify, then commit it. -->\n\n\
         - Mission: `{dir}`\n- Created: {created}\n- Status: draft\n\n\
         ## Problem\n\nWhat hurts today, and for whom.\n\n\
         ## Users and scenarios\n\nWho uses this and how; the most important journey first.\n\n\
         ## Requirements\n\n- FR-001: [NEEDS CLARIFICATION: what the system must do]\n\n\
         ## Success criteria\n\nHow we will know it works (measurable).\n\n\
         ## Out of scope\n\n- ...\n"
    )
}

/// `tasks/README.md`: how work packages are laid out, for the planning branch.
pub fn tasks_readme(branch: &str) -> String {
    format!(
        "# Work packages\n\n\
         Each work package is one Markdown file in this directory, named `WP<nn>-<kebab-title>.md`\n\
         (for example `WP01-data-model.md`). Their status lives in `../status.events.jsonl`, not in\n\
         the files.\n\n\
         Every file starts with YAML front matter:\n\n\
         ```yaml\n---\nwork_package_id: \"WP01\"\ntitle: \"Data model\"\ndependencies: []\n\
         planning_base_branch: \"{branch}\"\nmerge_target_branch: \"{branch}\"\n---\n```\n\n\
         Work planned on `{branch}` merges back into `{branch}`.\n"
    )
}

/// A local event-log line: keys sorted, Python `json.dumps` layout, newline-terminated.
pub fn event_line(event: &Value) -> String {
    crate::pyfmt::to_python_json(event).unwrap_or_default() + "\n"
}

/// The local `MissionCreated` event.
pub fn mission_created_event(
    event_id: &str,
    timestamp: &str,
    project: (&str, &str),
    payload: &Value,
) -> Value {
    let mission_id = payload.get("mission_id").cloned().unwrap_or(Value::Null);
    json!({
        "aggregate_id": mission_id,
        "aggregate_type": "Mission",
        "event_id": event_id,
        "event_type": "MissionCreated",
        "payload": payload,
        "project_uuid": project.0,
        "project_slug": project.1,
        "schema_version": LOCAL_EVENT_SCHEMA_VERSION,
        "timestamp": timestamp,
    })
}

/// The local `SpecifyStarted` event (the specify phase opens with the scaffold).
pub fn specify_started_event(event_id: &str, timestamp: &str, at: &str, dir: &str) -> Value {
    json!({
        "aggregate_id": dir,
        "aggregate_type": "Mission",
        "event_id": event_id,
        "event_type": "SpecifyStarted",
        "payload": {
            "actor": "spec-kitty mission create",
            "artifact_path": format!("kitty-specs/{dir}/spec.md"),
            "at": at,
            "mission_number": null,
            "mission_slug": dir,
        },
        "project_slug": null,
        "project_uuid": null,
        "schema_version": LOCAL_EVENT_SCHEMA_VERSION,
        "timestamp": timestamp,
    })
}

#[cfg(test)]
mod dir_name_tests {
    use super::dir_name;

    #[test]
    fn the_directory_is_the_slug_without_a_three_digit_prefix_plus_the_short_mission_id() {
        let id = "01M8KDZKH8QQ";
        for (slug, want) in [
            ("demo", "demo-01M8KDZK"),
            ("123-demo", "demo-01M8KDZK"),
            ("1234-demo", "1234-demo-01M8KDZK"),
            ("12-demo", "12-demo-01M8KDZK"),
            ("123-", "123--01M8KDZK"),
            ("123", "123-01M8KDZK"),
            ("a23-demo", "a23-demo-01M8KDZK"),
            ("12a-demo", "12a-demo-01M8KDZK"),
            ("123xdemo", "123xdemo-01M8KDZK"),
            ("demo-01M8KDZK", "demo-01M8KDZK"),
        ] {
            assert_eq!(dir_name(slug, id), want, "{slug}");
        }
        assert_eq!(
            dir_name("demo", "01M8"),
            "demo-01M8",
            "a short id is used whole"
        );
    }
}
