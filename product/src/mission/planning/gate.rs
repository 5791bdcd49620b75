//! Whether a spec or a plan has real content (**interop**: the reference's "substantive" gate,
//! for software-dev: a filled functional requirement; a plan's Technical Context with a real
//! Language/Version and one more real field). Template placeholders do not count.

/// Bracketed template placeholders: `(text, open)` — `open` matches `[text…]` up to the next
/// `]`, else exactly `[text]`. Removed in this order.
const PLACEHOLDERS: &[(&str, bool)] = &[
    ("NEEDS CLARIFICATION", true),
    ("e.g.,", true),
    ("FEATURE", false),
    ("###-feature", true),
    ("Short title", false),
    ("Measurable threshold", true),
    ("role", false),
    ("goal", false),
    ("benefit", false),
    ("specific capability", true),
    ("key interaction", true),
    ("data requirement", true),
    ("behavior", true),
    ("domain-specific", true),
    ("if applicable", true),
    ("Project-specific", true),
    ("single/web/mobile", true),
    (
        "Sphinx | MkDocs | Docusaurus | Jekyll | Hugo | None (starting fresh) or NEEDS CLARIFICATION",
        false,
    ),
    (
        "Python, JavaScript, Rust, etc. - from codebase analysis",
        false,
    ),
    ("HTML | Markdown | PDF or NEEDS CLARIFICATION", false),
    (
        "Read the Docs | GitHub Pages | GitBook | Custom or NEEDS CLARIFICATION",
        false,
    ),
    ("Primary question", false),
    ("List search terms", false),
    ("What qualifies for review", false),
    ("What will be filtered out", false),
    ("Sub-problem statement", false),
    ("Cluster name", false),
    ("SP-# or none", false),
    ("SP-#", false),
    ("High/Low", false),
    ("Why it goes first", false),
    ("Why it goes next", false),
    ("Without this, the plan fails its purpose", false),
    (
        "Important, painful to omit, but not fatal if deferred",
        false,
    ),
    ("Desirable, included only if Must/Should leave room", false),
    ("Explicitly deferred — may return in a later cut", false),
    (
        "Problem, drivers, constraints forcing this decision now",
        false,
    ),
    ("Chosen option, stated plainly", false),
    ("Why this option wins", false),
    ("Accepted trade-offs, positive and negative", false),
];

fn strip_one(s: &str, text: &str, open: bool) -> String {
    let needle = format!("[{text}");
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(&needle) {
        let after = &rest[i + needle.len()..];
        let end = if open {
            after.find(']').map(|j| i + needle.len() + j + 1)
        } else {
            after.starts_with(']').then_some(i + needle.len() + 1)
        };
        match end {
            Some(end) => {
                out.push_str(&rest[..i]);
                rest = &rest[end..];
            }
            None => {
                out.push_str(&rest[..i + 1]);
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `s` without template placeholders.
pub fn strip_placeholders(s: &str) -> String {
    PLACEHOLDERS
        .iter()
        .fold(s.to_string(), |acc, (text, open)| {
            strip_one(&acc, text, *open)
        })
}

/// Whether `raw` says something: not empty once placeholders are gone, and not the empty user
/// story a template leaves.
pub fn is_real_text(raw: &str) -> bool {
    let cleaned = strip_placeholders(raw);
    let cleaned = cleaned.trim();
    if cleaned.is_empty() {
        return false;
    }
    let normalized = cleaned
        .trim_end_matches('.')
        .replace(',', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    normalized != "as a i want so that" && normalized != "as an i want so that"
}

/// A functional-requirement bullet's description (`- FR-001: text`, `* **FR-001**: text`).
fn fr_bullet(line: &str) -> Option<&str> {
    let stripped = line.trim_start();
    let rest = stripped.strip_prefix(['-', '*'])?.trim_start();
    for prefix in ["FR-", "**FR-"] {
        let Some(after) = rest.strip_prefix(prefix) else {
            continue;
        };
        let digits = after.get(..3)?;
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut suffix = &after[3..];
        if prefix.starts_with("**") {
            suffix = suffix.strip_prefix("**")?;
        }
        let suffix = suffix.trim_start();
        let desc = suffix.strip_prefix([':', '-'])?.trim();
        return (!desc.is_empty()).then_some(desc);
    }
    None
}

/// A table row anchored on a functional requirement id: the cells after the id.
fn fr_row(line: &str) -> Option<Vec<String>> {
    let rest = line.trim_start().strip_prefix('|')?.trim_start();
    let rest = rest.trim_start_matches('*');
    let after = rest.strip_prefix("FR-")?;
    let digits = after.get(..3)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let after = after[3..].trim_start_matches('*').trim_start();
    let cells = after.strip_prefix('|')?;
    if cells.is_empty() {
        return None;
    }
    let cells = cells.trim_end_matches('|');
    Some(cells.split('|').map(|c| c.trim().to_string()).collect())
}

/// Whether a spec has at least one filled functional requirement.
pub fn spec_is_substantive(body: &str) -> bool {
    body.lines().any(|line| {
        fr_row(line).is_some_and(|cells| cells.iter().take(2).any(|c| is_real_text(c)))
            || fr_bullet(line).is_some_and(is_real_text)
    })
}

/// The body under `## <heading>` up to the next level-2 heading (level 3 and deeper stay in).
fn section<'a>(body: &'a str, heading: &str) -> Option<&'a str> {
    let mut start = None;
    let mut offset = 0;
    for line in body.split_inclusive('\n') {
        let at = offset;
        offset += line.len();
        if let Some(s) = start {
            if line.starts_with("##") && !line.starts_with("###") {
                return Some(&body[s..at]);
            }
            continue;
        }
        let t = line.trim_end_matches(['\n', '\r']);
        let heads = t.char_indices().any(|(i, _)| {
            t[i..]
                .strip_prefix("##")
                .is_some_and(|rest| rest.starts_with(char::is_whitespace) && rest.trim() == heading)
        });
        if heads && line.ends_with('\n') {
            start = Some(offset);
        }
    }
    start.map(|s| &body[s..])
}

/// `**Label**: value` lines of a section: `(label, value)`.
fn bold_fields(section: &str) -> Vec<(String, String)> {
    section
        .lines()
        .filter_map(|line| {
            let t = line.trim_start_matches([' ', '\t']);
            let t = match t.strip_prefix(['-', '*']) {
                Some(r) if r.starts_with([' ', '\t']) => r.trim_start_matches([' ', '\t']),
                _ => t,
            };
            let rest = t.strip_prefix("**")?;
            let end = rest.find("**")?;
            let label = &rest[..end];
            if label.is_empty() || label.contains('*') {
                return None;
            }
            let after = rest[end + 2..].trim_start_matches([' ', '\t']);
            let value = after.strip_prefix(':')?.trim_start_matches([' ', '\t']);
            Some((label.to_string(), value.to_string()))
        })
        .collect()
}

fn is_real_value(raw: &str) -> bool {
    let v = strip_placeholders(raw);
    let v = v.trim();
    !v.is_empty() && v != "NEEDS CLARIFICATION" && v != "NEEDS CLARIFICATION."
}

/// Why a software-dev plan is not substantive yet (`None`: it is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanGap {
    /// No Technical Context section.
    NoSection,
    /// Language/Version missing or a placeholder.
    NoLanguage,
    /// No other real field.
    NoPeer,
}

impl PlanGap {
    /// The gap in words (kitty's).
    pub fn detail(self) -> &'static str {
        match self {
            Self::NoSection => "plan.md has no Technical Context section.",
            Self::NoLanguage => "Technical Context has no real **Language/Version** value.",
            Self::NoPeer => {
                "Technical Context has **Language/Version** but no other field with a real value (for example **Primary Dependencies**)."
            }
        }
    }
}

/// What is missing from a software-dev plan.
pub fn plan_gap(body: &str) -> Option<PlanGap> {
    let Some(section) = section(body, "Technical Context") else {
        return Some(PlanGap::NoSection);
    };
    let stripped = strip_placeholders(section);
    let fields = bold_fields(&stripped);
    let language = fields
        .iter()
        .find(|(l, _)| l == "Language/Version")
        .is_some_and(|(_, v)| is_real_value(v));
    if !language {
        return Some(PlanGap::NoLanguage);
    }
    let peer = fields
        .iter()
        .any(|(l, v)| l.trim() != "Language/Version" && is_real_value(v));
    (!peer).then_some(PlanGap::NoPeer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_needs_one_filled_functional_requirement() {
        let cases = [
            ("- FR-001: ...", true),
            (
                "- **FR-001**: System MUST [specific capability, e.g., \"x\"]",
                true,
            ),
            ("- **FR-001**: [NEEDS CLARIFICATION: x]", false),
            ("- FR-001 greet", false),
            ("* FR-001 - greet people", true),
            ("- FR-01: x", false),
            ("- FR-0012: x", false),
            (
                "| FR-001 | [Short title] | As a [role], I want [goal] so that [benefit]. | High | Open |",
                false,
            ),
            ("| FR-001 | Greeting | | High | Open |", true),
            ("| FR-001 | | | High | Open |", false),
            ("| **FR-001** | Greeting | x |", true),
            ("- NFR-001: fast", false),
            ("- FR-001: As an , I want  so that .", false),
            ("### FR-001: greet", false),
            ("   - FR-002: greet", true),
            ("+ FR-001: greet", false),
            ("- **FR-001: greet", false),
        ];
        for (line, want) in cases {
            assert_eq!(
                spec_is_substantive(&format!("# S\n\n{line}\n")),
                want,
                "{line}"
            );
        }
    }

    #[test]
    fn a_plan_needs_a_real_language_and_one_more_real_field() {
        let plan = |tc: &str| {
            format!("# Plan\n\n## Technical Context\n\n{tc}\n\n## Next\n\n**Other**: x\n")
        };
        assert_eq!(plan_gap("# Plan\n"), Some(PlanGap::NoSection));
        assert_eq!(
            plan_gap(&plan(
                "**Language/Version**: [NEEDS CLARIFICATION: which?]\n**Storage**: N/A"
            )),
            Some(PlanGap::NoLanguage)
        );
        assert_eq!(
            plan_gap(&plan("**Language/Version:** Rust\n**Storage**: N/A")),
            Some(PlanGap::NoLanguage)
        );
        assert_eq!(
            plan_gap(&plan(
                "**Language/Version**: NEEDS CLARIFICATION.\n**Storage**: x"
            )),
            Some(PlanGap::NoLanguage)
        );
        // A field after the next level-2 heading does not count as a peer.
        assert_eq!(
            plan_gap(&plan("**Language/Version**: Rust 1.95")),
            Some(PlanGap::NoPeer)
        );
        assert_eq!(
            plan_gap(&plan(
                "- **Language/Version**: Rust\n\n### Sub\n\n* **Storage**: N/A or [if applicable, x]"
            )),
            None
        );
        assert_eq!(
            plan_gap("x\n### Technical Context\n**Language/Version**: Go\n**Testing**: go test\n"),
            None
        );
    }

    #[test]
    fn only_the_technical_context_heading_opens_the_section_and_labels_are_plain() {
        // Another level-2 heading with real fields is not the Technical Context.
        let other = "## Summary\n**Language/Version**: Rust\n**Storage**: x\n";
        assert_eq!(plan_gap(other), Some(PlanGap::NoSection));
        assert_eq!(
            bold_fields("**Lang*x**: v\n****: w\n**Ok**: y"),
            [("Ok".to_string(), "y".to_string())]
        );
        for (gap, names) in [
            (PlanGap::NoSection, "Technical Context"),
            (PlanGap::NoLanguage, "Language/Version"),
            (PlanGap::NoPeer, "Primary Dependencies"),
        ] {
            assert!(gap.detail().contains(names), "{gap:?}: {}", gap.detail());
        }
    }

    #[test]
    fn placeholders_are_removed_whole_and_only_whole() {
        assert_eq!(strip_placeholders("a [NEEDS CLARIFICATION: b] c"), "a  c");
        assert_eq!(
            strip_placeholders("[role] [roles] [FEATURE] [e.g., x"),
            " [roles]  [e.g., x"
        );
        assert_eq!(strip_placeholders("[[role]]"), "[]");
        assert!(!is_real_text(" [goal] "));
        assert!(is_real_text("..."));
    }
}
