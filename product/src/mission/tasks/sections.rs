//! `tasks.md`: its work-package sections and the dependencies each declares (**interop**: the
//! reference's heading shapes, its three dependency forms and their precedence).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

fn re(p: &str) -> Regex {
    // The patterns are constants of this file; a typo is caught by the tests.
    Regex::new(p).unwrap_or_else(|_| Regex::new("$^").unwrap_or_else(|_| unreachable!()))
}

static WP_HEADING: LazyLock<Regex> =
    LazyLock::new(|| re(r"^(?:Work Package\s+)?(WP\d{2})(?:\b|:)"));
static WP_NUMBER: LazyLock<Regex> = LazyLock::new(|| re(r"^Work Package (\d{1,2})(?:$|\s|—|:|-)"));
static DEPS_HEADING: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^#{1,4}\s*\*?\*?Dependencies\*?\*?\s*$"));
static DEPENDS_ON: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?im)^\s*(?:[-*]\s*)?Depends?\s+on\s+(WP\d{2}(?:\s*,\s*WP\d{2})*)\b"));
static DEPS_LINE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?im)^\s*(?:[-*]\s*)?\*?\*?Dependencies\*?\*?\s*:\s*(.*)$"));
static DEPS_CELL: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\|\s*\*?\*?Dependencies\*?\*?\s*:\s*([^|\n]*)"));
static LEADING_LIST: LazyLock<Regex> =
    LazyLock::new(|| re(r"^(WP\d{2}(?:\s*,\s*WP\d{2})*)\b(?:$|\s*[.;(#])"));
static WP_ID: LazyLock<Regex> = LazyLock::new(|| re(r"WP\d{2}"));
static BULLET_WP: LazyLock<Regex> = LazyLock::new(|| re(r"^\s*[-*]\s*(WP\d{2})"));

/// The id a heading's title names, when it is a work-package heading.
fn heading_id(title: &str) -> Option<String> {
    if let Some(c) = WP_HEADING.captures(title) {
        return Some(c[1].to_string());
    }
    let c = WP_NUMBER.captures(title)?;
    let n: u32 = c[1].parse().ok()?;
    Some(format!("WP{n:02}"))
}

/// Work-package sections: id → body, in document order (a later duplicate heading wins).
pub fn sections(text: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut heads: Vec<(usize, String)> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let title = line
            .strip_prefix("### ")
            .or_else(|| line.strip_prefix("## "))
            .map(str::trim);
        if let Some(id) = title.and_then(heading_id) {
            heads.push((i, id));
        }
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for (n, (start, id)) in heads.iter().enumerate() {
        let end = match heads.get(n + 1) {
            Some((next, _)) => *next,
            None => lines
                .iter()
                .enumerate()
                .skip(start + 1)
                .find(|(_, l)| {
                    l.starts_with("## ")
                        && heading_id(l[3..].trim()).is_none()
                        && !DEPS_HEADING.is_match(l)
                })
                .map_or(lines.len(), |(i, _)| i),
        };
        let body = lines[start + 1..end].join("\n");
        out.retain(|(existing, _)| existing != id);
        out.push((id.clone(), body));
    }
    out
}

fn ids(text: &str) -> Vec<String> {
    WP_ID
        .find_iter(text)
        .map(|m| m.as_str().to_string())
        .collect()
}

fn value_ids(value: &str) -> Vec<String> {
    let v = value.trim();
    let lower = v.to_lowercase();
    if v.is_empty()
        || v == "[]"
        || lower.starts_with("none")
        || lower.starts_with("no deps")
        || lower.starts_with("no dependencies")
    {
        return Vec::new();
    }
    if let Some(c) = DEPENDS_ON.captures(v) {
        return ids(&c[1]);
    }
    LEADING_LIST
        .captures(v)
        .map(|c| ids(&c[1]))
        .unwrap_or_default()
}

/// The dependencies a section body declares, in the reference's order, without repeats.
pub fn dependencies(body: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for c in DEPENDS_ON.captures_iter(body) {
        found.extend(ids(&c[1]));
    }
    let mut decls: Vec<(usize, String)> = Vec::new();
    for c in DEPS_LINE.captures_iter(body) {
        let whole = c.get(0).map_or("", |m| m.as_str());
        if DEPS_HEADING.is_match(whole.trim()) {
            continue;
        }
        decls.push((c.get(0).map_or(0, |m| m.start()), c[1].to_string()));
    }
    for c in DEPS_CELL.captures_iter(body) {
        let at = c.get(0).map_or(0, |m| m.start());
        if !decls.iter().any(|(p, _)| {
            let line_start = body[..at].rfind('\n').map_or(0, |i| i + 1);
            *p == line_start
        }) {
            decls.push((at, c[1].to_string()));
        }
    }
    decls.sort_by_key(|(p, _)| *p);
    for (_, v) in decls {
        found.extend(value_ids(&v));
    }
    let lines: Vec<&str> = body.split('\n').collect();
    for (i, line) in lines.iter().enumerate() {
        if !DEPS_HEADING.is_match(line.trim_end()) {
            continue;
        }
        for next in &lines[i + 1..] {
            if next.trim().is_empty() {
                continue;
            }
            if next.trim_start().starts_with('#') {
                break;
            }
            match BULLET_WP.captures(next) {
                Some(c) => found.push(c[1].to_string()),
                None => break,
            }
        }
    }
    let mut out = Vec::new();
    for id in found {
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// Each section's dependencies.
pub fn dependency_map(text: &str) -> BTreeMap<String, Vec<String>> {
    sections(text)
        .into_iter()
        .map(|(id, body)| (id, dependencies(&body)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lifecycle_s_tasks_md_gives_two_sections_and_one_dependency() {
        let text = "# T\n\n## Work Package WP01: Tool\n\n### Dependencies\n\n- None (starting package).\n\n---\n\n## Work Package WP02: Tests\n\n### Dependencies\n\n- Depends on WP01.\n";
        let s = sections(text);
        assert_eq!(
            s.iter().map(|(i, _)| i.as_str()).collect::<Vec<_>>(),
            ["WP01", "WP02"]
        );
        let d = dependency_map(text);
        assert!(d["WP01"].is_empty());
        assert_eq!(d["WP02"], ["WP01"]);
    }

    #[test]
    fn each_declaration_form_is_read() {
        assert_eq!(
            dependencies("**Dependencies**: WP01, WP03."),
            ["WP01", "WP03"]
        );
        assert_eq!(dependencies("Dependencies: none"), Vec::<String>::new());
        assert_eq!(dependencies("| Dependencies: WP02 |"), ["WP02"]);
        assert_eq!(
            dependencies("### Dependencies\n\n- WP04\n- WP05\ntext\n- WP06"),
            ["WP04", "WP05"]
        );
        assert_eq!(
            heading_id("Work Package 3 — Title").as_deref(),
            Some("WP03")
        );
        assert_eq!(heading_id("Work Package 123"), None);
        assert_eq!(heading_id("WP07: x").as_deref(), Some("WP07"));
    }
}
