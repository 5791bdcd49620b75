//! Who owns which paths: the inference for work packages that declare none, the overlap test
//! between globs, and the checks finalize runs over the manifests (**interop**: the reference's
//! rules and the lists it reports).

use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

/// `code_change` or `planning_artifact` with the globs a work package may write.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// `code_change` or `planning_artifact`.
    pub execution_mode: String,
    /// Globs relative to the repository.
    pub owned_files: Vec<String>,
    /// The path prefix the work package is authoritative for (`""` when unset).
    pub authoritative_surface: String,
    /// `codebase-wide` exempts it from the overlap and surface checks.
    pub scope: Option<String>,
}

fn re(p: &str) -> Regex {
    Regex::new(p).unwrap_or_else(|_| Regex::new("$^").unwrap_or_else(|_| unreachable!()))
}

static PLANNING_HINT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\bkitty-specs/|\bspec\.md\b|\bplan\.md\b|\btasks\.md\b|\bdata-model\.md\b|\bquickstart\.md\b",
    )
});
static CODE_HINT: LazyLock<Regex> = LazyLock::new(|| re(r"\bsrc/|\btests?/|\.py\b|\.ts\b|\.js\b"));
static PATH_TOKEN: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?:src|tests?|kitty-specs|docs)/[^\s`'")\]>]+"#));

/// The fallback warning when a body names no path.
pub const BROAD_FALLBACK: &str = "No file paths found in the WP body text, so it owns the broad fallback 'src/**'; declare explicit owned_files in its frontmatter.";

/// The mode a body suggests.
pub fn infer_mode(text: &str) -> &'static str {
    if PLANNING_HINT.is_match(text) && !CODE_HINT.is_match(text) {
        "planning_artifact"
    } else {
        "code_change"
    }
}

/// The globs a body suggests, and whether the broad fallback was used.
pub fn infer_owned(text: &str, mode: &str, slug: &str) -> (Vec<String>, bool) {
    if mode == "planning_artifact" {
        return (vec![format!("kitty-specs/{slug}/**")], false);
    }
    let mut tokens: Vec<String> = PATH_TOKEN
        .find_iter(text)
        .map(|m| m.as_str().to_string())
        .collect();
    tokens.sort();
    tokens.dedup();
    let mut out: Vec<String> = Vec::new();
    for t in tokens {
        let glob = if t.ends_with('/') {
            format!("{t}**")
        } else if !t.rsplit('/').next().unwrap_or_default().contains('.') {
            format!("{t}/**")
        } else {
            t.clone()
        };
        let parts: Vec<&str> = glob.split('/').collect();
        let covered =
            (1..parts.len()).any(|n| out.contains(&format!("{}/**", parts[..n].join("/"))));
        if !covered && !out.contains(&glob) {
            out.push(glob);
        }
    }
    if out.is_empty() {
        return (vec!["src/**".into()], true);
    }
    (out, false)
}

/// The surface of some globs: the common segment prefix of their directories, with `/`.
pub fn infer_surface(owned: &[String]) -> String {
    let dirs: Vec<Vec<&str>> = owned
        .iter()
        .map(|g| {
            let mut parts: Vec<&str> = g.split('/').collect();
            if parts.last().is_some_and(|l| l.contains(['*', '?', '['])) {
                parts.pop();
            }
            parts
        })
        .collect();
    if let [one] = dirs.as_slice() {
        return if one.is_empty() {
            String::new()
        } else {
            format!("{}/", one.join("/"))
        };
    }
    let mut common: Vec<&str> = dirs.first().cloned().unwrap_or_default();
    for d in &dirs[1..] {
        let n = common.iter().zip(d).take_while(|(a, b)| a == b).count();
        common.truncate(n);
    }
    if common.is_empty() {
        String::new()
    } else {
        format!("{}/", common.join("/"))
    }
}

/// Python's `fnmatch` (`*` crosses `/`).
pub fn fnmatch(name: &str, pattern: &str) -> bool {
    let mut rx = String::from("^");
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => rx.push_str(".*"),
            '?' => rx.push('.'),
            '[' => {
                let mut class = String::new();
                let mut closed = false;
                for n in chars.by_ref() {
                    if n == ']' && !class.is_empty() {
                        closed = true;
                        break;
                    }
                    class.push(n);
                }
                if closed {
                    let class = class
                        .strip_prefix('!')
                        .map_or(class.clone(), |c| format!("^{c}"));
                    rx.push('[');
                    rx.push_str(&class.replace('\\', "\\\\"));
                    rx.push(']');
                } else {
                    rx.push_str(&regex::escape(&format!("[{class}")));
                }
            }
            other => rx.push_str(&regex::escape(&other.to_string())),
        }
    }
    rx.push('$');
    Regex::new(&format!("(?s){rx}")).is_ok_and(|r| r.is_match(name))
}

fn strip_star(g: &str) -> &str {
    for suffix in ["/**", "/*", "**", "*"] {
        if let Some(p) = g.strip_suffix(suffix) {
            return p;
        }
    }
    g
}

/// Whether two globs may name a common path.
pub fn overlaps(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let (pa, pb) = (strip_star(a), strip_star(b));
    if !pa.is_empty() && !pb.is_empty() && (pa.starts_with(pb) || pb.starts_with(pa)) {
        return true;
    }
    fnmatch(pb, a) || fnmatch(pa, b)
}

/// Whether `pattern` is a glob (not a literal path).
pub fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?', '[', '{'])
}

fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if e.file_name() == ".git" {
            continue;
        }
        if let Ok(rel) = p.strip_prefix(base) {
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            walk(&p, base, out);
        }
    }
}

/// The repository's paths (files and directories, `.git` excluded), relative.
pub fn repo_paths(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out
}

/// Whether `pattern` matches any of `paths` (`**` spans directories, `*` does not).
pub fn glob_matches_any(pattern: &str, paths: &[String]) -> bool {
    let mut rx = String::from("^");
    let segs: Vec<&str> = pattern.split('/').collect();
    for (i, seg) in segs.iter().enumerate() {
        let last = i + 1 == segs.len();
        if *seg == "**" {
            rx.push_str(if last { ".*" } else { "(?:[^/]+/)*" });
            continue;
        }
        for c in seg.chars() {
            match c {
                '*' => rx.push_str("[^/]*"),
                '?' => rx.push_str("[^/]"),
                other => rx.push_str(&regex::escape(&other.to_string())),
            }
        }
        if !last {
            rx.push('/');
        }
    }
    rx.push('$');
    Regex::new(&rx).is_ok_and(|r| paths.iter().any(|p| r.is_match(p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_follows_prefixes_and_fnmatch() {
        assert!(overlaps("bin/greet", "bin/greet"));
        assert!(overlaps("src/**", "src/a.py"));
        assert!(overlaps("src/a/**", "src/**"));
        assert!(!overlaps("bin/greet", "tests/test_greet.sh"));
        assert!(overlaps("src/*.py", "src/x.py"));
    }

    #[test]
    fn inference_of_mode_globs_and_surface() {
        assert_eq!(
            infer_mode("edit kitty-specs/x/spec.md"),
            "planning_artifact"
        );
        assert_eq!(infer_mode("edit src/x.py and spec.md"), "code_change");
        let (g, broad) = infer_owned(
            "touch `src/a/b.py` and src/a and tests/x/",
            "code_change",
            "m",
        );
        assert_eq!(g, ["src/a/**", "tests/x/**"]);
        assert!(!broad);
        assert_eq!(
            infer_owned("nothing", "code_change", "m"),
            (vec!["src/**".to_string()], true)
        );
        assert_eq!(infer_surface(&["bin/greet".into()]), "bin/greet/");
        assert_eq!(
            infer_surface(&["src/a/**".into(), "src/b/x.py".into()]),
            "src/"
        );
        assert!(glob_matches_any("src/**", &["src/a/b.py".into()]));
        assert!(!glob_matches_any("src/*.py", &["src/a/b.py".into()]));
    }
}
