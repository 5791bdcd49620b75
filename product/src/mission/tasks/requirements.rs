//! Requirement ids: those `spec.md` declares, the refs each work package claims, and the
//! mapping gate between them (**interop**: the reference's declaration shapes, its fallback to
//! `tasks.md`, its warnings' triggers).

use std::sync::LazyLock;

use regex::Regex;

fn re(p: &str) -> Regex {
    Regex::new(p).unwrap_or_else(|_| Regex::new("$^").unwrap_or_else(|_| unreachable!()))
}

static TABLE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^\s*\|\s*(?:\*\*|~~){0,2}((?:FR|NFR|C)-\d+)(?:\*\*|~~){0,2}\s*\|"));
static HEADING: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)^#{1,6}\s*((?:FR|NFR|C)-\d+)\b"));
static ITEM: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^\s*(?:[-*]|\d+\.)\s*\*{0,2}((?:FR|NFR|C)-\d+)\b"));
static BOLD: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)^\s*\*\*((?:FR|NFR|C)-\d+)\b"));
static TOKEN: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\b(?:FR|NFR|C)-\d+\b"));
static SC: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\bSC-\d+\b"));
static REF_SECTION: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?m)^#{2,4}\s+(?:Work Package\s+)?(WP\d{2})(?:\b|:)"));
static REF_LINE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\*?\*?Requirements?\s*(?:Refs)?\*?\*?\s*:\s*(.+)"));

/// The id a `spec.md` line declares, if any.
fn declared(line: &str) -> Option<String> {
    [&*TABLE, &*HEADING, &*ITEM, &*BOLD]
        .iter()
        .find_map(|r| r.captures(line))
        .map(|c| c[1].to_uppercase())
}

fn push_unique(list: &mut Vec<String>, v: String) {
    if !list.contains(&v) {
        list.push(v);
    }
}

/// What `spec.md` declares.
#[derive(Debug, Clone, Default)]
pub struct SpecIds {
    /// Every declared id, in document order.
    pub all: Vec<String>,
    /// Requirement-shaped tokens in prose lines of requirement sections, declared nowhere.
    pub bare_prose: Vec<String>,
    /// Non-blocking notes for the document.
    pub warnings: Vec<String>,
}

impl SpecIds {
    /// The functional ids (`FR-`), sorted.
    pub fn functional(&self) -> Vec<String> {
        let mut f: Vec<String> = self
            .all
            .iter()
            .filter(|i| i.starts_with("FR-"))
            .cloned()
            .collect();
        f.sort();
        f.dedup();
        f
    }
}

/// Read `spec.md`'s text.
pub fn spec_ids(text: &str) -> SpecIds {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut ids = SpecIds::default();
    for line in &lines {
        if let Some(id) = declared(line) {
            push_unique(&mut ids.all, id);
        }
    }
    let tokens = |l: &str| -> Vec<String> {
        TOKEN
            .find_iter(l)
            .map(|m| m.as_str().to_uppercase())
            .collect()
    };
    let any_raw = lines.iter().any(|l| TOKEN.is_match(l));
    // Requirement-named sections: heading text and body lines.
    let mut sections: Vec<(String, Vec<&str>)> = Vec::new();
    let mut current: Option<usize> = None;
    for line in &lines {
        if line.trim_start().starts_with('#') {
            if line.to_lowercase().contains("requirement") {
                sections.push((line.trim_start_matches('#').trim().to_string(), Vec::new()));
                current = Some(sections.len() - 1);
            } else {
                current = None;
            }
            continue;
        }
        if let Some(i) = current {
            sections[i].1.push(line);
        }
    }
    for (_, body) in &sections {
        for line in body {
            if declared(line).is_some() {
                continue;
            }
            for t in tokens(line) {
                if !ids.all.contains(&t) {
                    push_unique(&mut ids.bare_prose, t);
                }
            }
        }
    }
    let note = |scope: &str, toks: &[String]| {
        let mut t = toks.to_vec();
        t.sort();
        t.dedup();
        format!(
            "{scope} mentions requirement-shaped token(s) ({}) in none of the recognised declaration shapes (a table row, a heading naming the id, a list item, a paragraph led by the bold id), so they do not count toward FR coverage. Rewrite this spec's own requirements in one of those shapes; a citation of another mission's requirement needs nothing.",
            t.join(", ")
        )
    };
    if any_raw && ids.all.is_empty() {
        let all: Vec<String> = lines.iter().flat_map(|l| tokens(l)).collect();
        ids.warnings.push(note("spec.md", &all));
    } else {
        for (heading, body) in &sections {
            let raw: Vec<String> = body.iter().flat_map(|l| tokens(l)).collect();
            if !raw.is_empty() && body.iter().all(|l| declared(l).is_none()) {
                ids.warnings
                    .push(note(&format!("The '{heading}' section"), &raw));
            }
        }
    }
    ids
}

/// The FR/NFR/C refs in `values` (upper case, without repeats), and whether any `SC-` token
/// was among them.
pub fn refs_of(values: &[String]) -> (Vec<String>, Vec<String>) {
    let mut out = Vec::new();
    let mut sc = Vec::new();
    for v in values {
        for m in TOKEN.find_iter(v) {
            push_unique(&mut out, m.as_str().to_uppercase());
        }
        for m in SC.find_iter(v) {
            push_unique(&mut sc, m.as_str().to_uppercase());
        }
    }
    (out, sc)
}

/// The refs `tasks.md` names for `wp` (`Requirement Refs: ...` lines of its section).
pub fn tasks_md_refs(tasks_md: &str, wp: &str) -> Vec<String> {
    let heads: Vec<(usize, usize, String)> = REF_SECTION
        .captures_iter(tasks_md)
        .filter_map(|c| {
            let m = c.get(0)?;
            Some((m.start(), m.end(), c[1].to_string()))
        })
        .collect();
    let mut out = Vec::new();
    for (n, (_, end, id)) in heads.iter().enumerate() {
        if id != wp {
            continue;
        }
        let stop = heads.get(n + 1).map_or(tasks_md.len(), |h| h.0);
        for c in REF_LINE.captures_iter(&tasks_md[*end..stop]) {
            let (refs, _) = refs_of(&[c[1].to_string()]);
            for r in refs {
                push_unique(&mut out, r);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_ids_bare_prose_and_warnings() {
        let spec = "## Functional Requirements\n\n| ID | x |\n|---|---|\n| FR-001 | a |\n| **FR-002** | b |\n\nSee FR-009 too.\n\n## Other\n- NFR-001 fast\n";
        let ids = spec_ids(spec);
        assert_eq!(ids.all, ["FR-001", "FR-002", "NFR-001"]);
        assert_eq!(ids.bare_prose, ["FR-009"]);
        assert_eq!(ids.functional(), ["FR-001", "FR-002"]);
        assert!(ids.warnings.is_empty());
        let none = spec_ids("## Requirements\nFR-001 is prose\n");
        assert_eq!(none.warnings.len(), 1);
    }

    #[test]
    fn refs_are_upper_cased_and_success_criteria_reported() {
        let (refs, sc) = refs_of(&["fr-001, NFR-002".into(), "SC-001".into()]);
        assert_eq!(refs, ["FR-001", "NFR-002"]);
        assert_eq!(sc, ["SC-001"]);
        let md = "## Work Package WP01: x\n**Requirement Refs**: FR-001, FR-002\n## WP02\nRequirements: C-001\n";
        assert_eq!(tasks_md_refs(md, "WP01"), ["FR-001", "FR-002"]);
        assert_eq!(tasks_md_refs(md, "WP02"), ["C-001"]);
    }
}
