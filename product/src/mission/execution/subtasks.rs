//! Which subtask an id names and which work package owns it (**interop**: the reference's
//! resolution chain over `tasks.md` — checkbox row, pipe-table row, inline `Subtasks:` list, a
//! work-package id refused — then the WP files' authored `subtasks:` rosters).

use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

/// How an id was recognised (`format` in the document).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// A `- [ ] T001` row.
    Checkbox,
    /// A `| T001 | ... |` row.
    PipeTable,
    /// A `Subtasks: T001, T002` line.
    InlineSubtasks,
    /// A work-package id (refused: lanes are move-task's).
    WpId,
    /// A WP file's frontmatter `subtasks:` list.
    AuthoredRoster,
}

/// What became of an id (`outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Recorded.
    Updated,
    /// Not recognised (or a WP id).
    NotFound,
}

/// One id's line of the document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resolution {
    /// The id as the document names it (a WP id upper-cased, else as given).
    pub id: String,
    /// Recorded or not.
    pub outcome: Outcome,
    /// How it was recognised.
    pub format: Option<Format>,
    /// The sentence for the user.
    pub message: String,
}

static QUALIFIED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9][A-Za-z0-9._-]*[/:]([A-Za-z]+\d+)$").unwrap());
static INLINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:Subtasks|\*\*Subtasks\*\*):\s*((?:T|WP)\d+(?:\s*,\s*(?:T|WP)\d+)*)")
        .unwrap()
});
static SEPARATOR_ROW: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\s*\|[\s\-:]+\|").unwrap());
static HEADING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s{0,3}#{1,6}\s+(.+?)\s*$").unwrap());
static WP_TITLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^(?:Work Package\s+)?(WP\d+)(?:\b|:)").unwrap());
static WP_WORD: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)\b(WP\d+)\b").unwrap());
static WP_ID: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)^WP\d+$").unwrap());

/// `<mission>/T001` and `<mission>:T001` → `T001` (upper-cased); anything else trimmed.
pub fn normalize(raw: &str) -> String {
    let t = raw.trim();
    QUALIFIED
        .captures(t)
        .map_or_else(|| t.to_string(), |c| c[1].to_uppercase())
}

fn checkbox_row(id: &str) -> Regex {
    Regex::new(&format!(r"(?i)-\s*\[[ x]\]\s*{}\b", regex::escape(id))).unwrap()
}

/// Whether `line` is a pipe-table data row with `id` as a whole cell (case-sensitive).
fn is_pipe_row(line: &str, id: &str) -> bool {
    if SEPARATOR_ROW.is_match(line) {
        return false;
    }
    Regex::new(&format!(r"\|\s*{}\s*\|", regex::escape(id)))
        .unwrap()
        .is_match(line)
}

fn inline_ids(line: &str) -> Option<Vec<String>> {
    INLINE
        .captures(line)
        .map(|c| c[1].split(',').map(|v| v.trim().to_uppercase()).collect())
}

/// The frontmatter `subtasks:` roster of each WP file in `fd/tasks/` (README excepted), in name
/// order: `(wp id = the name before its first '-', roster)`. Unreadable files are skipped.
fn rosters(fd: &Path) -> Vec<(String, Vec<String>)> {
    let Ok(rd) = std::fs::read_dir(fd.join("tasks")) else {
        return Vec::new();
    };
    let mut names: Vec<String> = rd
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        // README.md names no work package: `only_file` never returns it.
        .filter(|n| n.ends_with(".md"))
        .collect();
    names.sort();
    names
        .into_iter()
        .filter_map(|name| {
            let wp = name
                .split_once('-')
                .map_or(name.as_str(), |(a, _)| a)
                .trim_end_matches(".md")
                .to_string();
            let file = only_file(fd, &wp)?;
            let wp_file = crate::mission::tasks::frontmatter::WpFile::read(&file).ok()?;
            wp_file.meta.get("subtasks")?;
            let mut roster: Vec<String> = Vec::new();
            for id in wp_file.get_list("subtasks") {
                let id = id.trim().to_string();
                if !id.is_empty() && !roster.contains(&id) {
                    roster.push(id);
                }
            }
            Some((wp, roster))
        })
        .collect()
}

/// The one WP file of `wp` (`WP01.md`, `WP01-x.md`, `WP01_x.md`, `WP01.x.md`), none when missing
/// or ambiguous.
fn only_file(fd: &Path, wp: &str) -> Option<std::path::PathBuf> {
    let lower = wp.to_lowercase();
    let mut found = std::fs::read_dir(fd.join("tasks"))
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| {
            let l = n.to_lowercase();
            l.ends_with(".md")
                && l != "readme.md"
                && l.strip_prefix(&lower)
                    .is_some_and(|rest| rest.starts_with(['-', '_', '.']))
        });
    let one = found.next()?;
    found.next().is_none().then(|| fd.join("tasks").join(one))
}

/// The WP whose authored roster holds `id` (compared upper-cased).
pub fn roster_owner(fd: &Path, id: &str) -> Option<String> {
    let id = id.to_uppercase();
    rosters(fd)
        .into_iter()
        .find(|(_, r)| r.iter().any(|x| x.to_uppercase() == id))
        .map(|(wp, _)| wp)
}

/// `WP01`, `Work Package WP01: ...`, `Work Package 1 — ...` as a heading → the WP id.
fn heading_wp(line: &str) -> Option<String> {
    let title = HEADING.captures(line)?.get(1)?.as_str().trim().to_string();
    if let Some(c) = WP_TITLE.captures(&title) {
        return Some(c[1].to_uppercase());
    }
    let suffix = title.strip_prefix("Work Package ")?;
    let digits: String = suffix
        .chars()
        .take(2)
        .take_while(char::is_ascii_digit)
        .collect();
    if digits.is_empty() {
        return None;
    }
    let rest = &suffix[digits.len()..];
    let next = rest.chars().next();
    if next.is_some_and(|c| c.is_ascii_digit()) {
        return None;
    }
    match next {
        None => {}
        Some(c) if c.is_whitespace() || c == ':' || c == '-' || c == '\u{2014}' => {}
        Some(_) => return None,
    }
    Some(format!("WP{:02}", digits.parse::<u32>().ok()?))
}

/// The header map (lower-cased column name → index) of the pipe table above row `at`.
fn header_map(lines: &[&str], at: usize) -> Vec<(String, usize)> {
    for line in lines[..at].iter().rev() {
        let c = line.trim();
        if SEPARATOR_ROW.is_match(c) {
            continue;
        }
        if c.contains('|') {
            return cells(c)
                .into_iter()
                .enumerate()
                .map(|(i, n)| (n.to_lowercase(), i))
                .filter(|(n, _)| !n.is_empty())
                .collect();
        }
        break;
    }
    Vec::new()
}

/// A row's cells between its first and last `|`.
fn cells(line: &str) -> Vec<String> {
    let parts: Vec<&str> = line.split('|').collect();
    if parts.len() < 2 {
        return Vec::new();
    }
    parts[1..parts.len() - 1]
        .iter()
        .map(|c| c.trim().to_string())
        .collect()
}

fn pipe_row_wp(line: &str, header: &[(String, usize)]) -> Option<String> {
    let cells = cells(line);
    for column in [
        "wp",
        "work package",
        "work_package",
        "work package id",
        "work_package_id",
    ] {
        // The last column of that name wins, as a dict built from the header would.
        if let Some((_, i)) = header.iter().rev().find(|(n, _)| n == column)
            && let Some(cell) = cells.get(*i)
            && let Some(c) = WP_WORD.captures(&cell.to_uppercase())
        {
            return Some(c[1].to_string());
        }
    }
    cells
        .iter()
        .map(|c| c.to_uppercase())
        .find(|c| c.len() > 2 && c.starts_with("WP") && c[2..].bytes().all(|b| b.is_ascii_digit()))
}

/// The WP that owns `id` by `tasks.md`'s structure (its section heading, its table row's WP
/// column, a WP named on its checkbox row).
pub fn tasks_md_owner(tasks_md: &str, id: &str) -> Option<String> {
    let id = id.to_uppercase();
    let checkbox = checkbox_row(&id);
    let lines: Vec<&str> = tasks_md.split('\n').collect();
    let mut current: Option<String> = None;
    for (i, line) in lines.iter().enumerate() {
        if let Some(wp) = heading_wp(line) {
            current = Some(wp);
        }
        if is_pipe_row(line, &id) {
            return pipe_row_wp(line, &header_map(&lines, i)).or(current);
        }
        if checkbox.is_match(line) {
            return current.or_else(|| WP_WORD.captures(line).map(|c| c[1].to_uppercase()));
        }
        if inline_ids(line).is_some_and(|ids| ids.contains(&id)) {
            return current;
        }
    }
    None
}

/// Resolve one (normalised) id against `tasks_md` and the mission directory `fd`; `status` is
/// `done` or `pending`, as the messages say it.
pub fn resolve(id: &str, tasks_md: &str, fd: &Path, status: &str) -> Resolution {
    let updated = |format, message| Resolution {
        id: id.to_string(),
        outcome: Outcome::Updated,
        format: Some(format),
        message,
    };
    let checkbox = checkbox_row(id);
    if tasks_md.split('\n').any(|l| checkbox.is_match(l)) {
        return updated(
            Format::Checkbox,
            format!("Marked {id} as {status} (checkbox row updated)."),
        );
    }
    if tasks_md.split('\n').any(|l| is_pipe_row(l, id)) {
        return updated(
            Format::PipeTable,
            format!("Marked {id} as {status} (pipe-table row updated)."),
        );
    }
    let upper = id.to_uppercase();
    if INLINE
        .captures_iter(tasks_md)
        .any(|c| c[1].split(',').any(|v| v.trim().to_uppercase() == upper))
    {
        return updated(
            Format::InlineSubtasks,
            format!("Recorded inline Subtasks reference {id} as {status} (event-sourced)."),
        );
    }
    if WP_ID.is_match(id) {
        return Resolution {
            id: upper.clone(),
            outcome: Outcome::NotFound,
            format: Some(Format::WpId),
            message: format!(
                "{upper}: mark-status does not change work-package lanes. Use `spec-kitty agent tasks move-task <WP_ID> --to <lane>`."
            ),
        };
    }
    if let Some(wp) = roster_owner(fd, id) {
        return updated(
            Format::AuthoredRoster,
            format!("{id} resolved from {wp}'s authored subtasks roster."),
        );
    }
    Resolution {
        id: id.to_string(),
        outcome: Outcome::NotFound,
        format: None,
        message: format!("{id} was not found in any supported task format."),
    }
}

/// The roster of `wp` (its one WP file's `subtasks:`), `None` when it cannot be read.
pub fn roster_of(fd: &Path, wp: &str) -> Option<Vec<String>> {
    rosters(fd)
        .into_iter()
        .find(|(w, _)| w.eq_ignore_ascii_case(wp))
        .map(|(_, r)| r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wp_file(fd: &Path, name: &str, subtasks: &str) {
        std::fs::create_dir_all(fd.join("tasks")).unwrap();
        std::fs::write(
            fd.join("tasks").join(name),
            format!(
                "---\nwork_package_id: \"{}\"\ntitle: \"x\"\nsubtasks: {subtasks}\n---\n# x\n",
                &name[..4]
            ),
        )
        .unwrap();
    }

    #[test]
    fn qualified_ids_lose_their_mission_and_are_upper_cased_while_bare_ids_are_only_trimmed() {
        assert_eq!(normalize("demo-01ABCDEF/t001"), "T001");
        assert_eq!(normalize("demo:WP02"), "WP02");
        assert_eq!(normalize("  t004 "), "t004");
        assert_eq!(normalize("a/b/T001"), "a/b/T001");
    }

    #[test]
    fn each_format_is_tried_in_the_reference_s_order() {
        let t = tempfile::tempdir().unwrap();
        wp_file(t.path(), "WP03-x.md", "[\"T009\"]");
        let md =
            "- [ ] T001 a\n| ID | WP |\n|---|---|\n| T002 | WP01 |\n**Subtasks**: T003, t004\n";
        let f = |id: &str| resolve(id, md, t.path(), "done");
        assert_eq!(f("T001").format, Some(Format::Checkbox));
        assert_eq!(f("t001").format, Some(Format::Checkbox));
        assert_eq!(f("T002").format, Some(Format::PipeTable));
        // The table cell is compared case-sensitively, the inline list upper-cased.
        assert_eq!(f("t002").outcome, Outcome::NotFound);
        assert_eq!(f("T004").format, Some(Format::InlineSubtasks));
        assert_eq!(
            f("T004").message,
            "Recorded inline Subtasks reference T004 as done (event-sourced)."
        );
        let wp = f("wp07");
        assert_eq!((wp.id.as_str(), wp.format), ("WP07", Some(Format::WpId)));
        assert_eq!(wp.outcome, Outcome::NotFound);
        let r = f("t009");
        assert_eq!(r.format, Some(Format::AuthoredRoster));
        assert_eq!(
            r.message,
            "t009 resolved from WP03's authored subtasks roster."
        );
        let none = f("T0012");
        assert_eq!((none.outcome, none.format), (Outcome::NotFound, None));
        assert_eq!(
            none.message,
            "T0012 was not found in any supported task format."
        );
    }

    #[test]
    fn a_separator_row_is_never_a_task_row() {
        assert!(!is_pipe_row("|---| T001 |", "T001"));
        assert!(is_pipe_row("| T001 | x |", "T001"));
        assert!(!is_pipe_row("| T0011 | x |", "T001"));
    }

    #[test]
    fn the_owner_is_the_row_s_wp_column_then_the_section_heading_then_a_wp_on_the_row() {
        let md = "## Work Package WP02: x\n\n| ID | Work Package |\n|--|--|\n| T001 | wp05 |\n| T002 | none |\n\n### Work Package 3 — y\n- [ ] T003\nSubtasks: T004\n# other\n- [x] T005 for WP09\n";
        assert_eq!(tasks_md_owner(md, "T001").as_deref(), Some("WP05"));
        assert_eq!(tasks_md_owner(md, "T002").as_deref(), Some("WP02"));
        assert_eq!(tasks_md_owner(md, "t003").as_deref(), Some("WP03"));
        assert_eq!(tasks_md_owner(md, "T004").as_deref(), Some("WP03"));
        // `# other` names no work package: the section before it still owns the row.
        assert_eq!(tasks_md_owner(md, "T005").as_deref(), Some("WP03"));
        assert_eq!(
            tasks_md_owner("- [ ] T005 (WP09)\n", "T005").as_deref(),
            Some("WP09")
        );
        assert_eq!(tasks_md_owner("- [ ] T005\n", "T005"), None);
        assert_eq!(
            tasks_md_owner("| T006 | WP04 | x |\n", "T006").as_deref(),
            Some("WP04")
        );
        // A bare `WP` cell names no work package: the section's does.
        assert_eq!(
            tasks_md_owner("## WP03\n| T008 | WP |\n", "T008").as_deref(),
            Some("WP03")
        );
        // The WP column's cell may say more than the id: the header names the column (and a
        // blank header cell is no column).
        let md = "## WP02\n| ID |  | Notes | WP |\n|---|---|---|---|\n| T007 | WP08 | WP09 | see WP05 here |\n";
        assert_eq!(tasks_md_owner(md, "T007").as_deref(), Some("WP05"));
    }

    #[test]
    fn headings_name_work_packages_as_the_reference_reads_them() {
        assert_eq!(heading_wp("## WP01 - x").as_deref(), Some("WP01"));
        assert_eq!(
            heading_wp("### work package wp7: x").as_deref(),
            Some("WP7")
        );
        assert_eq!(
            heading_wp("## Work Package 12 — x").as_deref(),
            Some("WP12")
        );
        assert_eq!(heading_wp("## Work Package 1"), Some("WP01".into()));
        assert_eq!(heading_wp("## Work Package 3: x").as_deref(), Some("WP03"));
        assert_eq!(heading_wp("## Work Package 4-x").as_deref(), Some("WP04"));
        assert_eq!(
            heading_wp("## Work Package 5\u{2014}x").as_deref(),
            Some("WP05")
        );
        assert_eq!(heading_wp("## Work Package 6\tx").as_deref(), Some("WP06"));
        assert_eq!(heading_wp("## Work Package 7.x"), None);
        assert_eq!(heading_wp("## Work Package 123"), None);
        assert_eq!(heading_wp("## Work Package 1x"), None);
        assert_eq!(heading_wp("    ## WP01"), None);
        assert_eq!(heading_wp("## Setup"), None);
    }

    #[test]
    fn a_roster_is_read_from_the_one_file_of_its_work_package() {
        let t = tempfile::tempdir().unwrap();
        wp_file(t.path(), "WP01-a.md", "[\"T001\", \" T002 \", \"T001\"]");
        wp_file(t.path(), "WP02-b.md", "[\"T003\"]");
        wp_file(t.path(), "WP02_c.md", "[\"T004\"]");
        std::fs::write(
            t.path().join("tasks/README.md"),
            "---\nsubtasks: [T005]\n---\n",
        )
        .unwrap();
        assert_eq!(roster_of(t.path(), "WP01").unwrap(), ["T001", "T002"]);
        assert_eq!(roster_owner(t.path(), "t002").as_deref(), Some("WP01"));
        // Two files for WP02: ambiguous, so neither is read.
        assert_eq!(roster_owner(t.path(), "T003"), None);
        assert_eq!(roster_owner(t.path(), "T005"), None);
    }
}
