//! What a lifecycle run leaves, and the normalisation that makes two runs comparable: sandbox
//! paths, ids, commit hashes, timestamps and other per-run values become placeholders.

use std::collections::BTreeMap;
use std::path::Path;

use regex::Regex;

/// Named texts describing the repository at the end of a run.
pub fn capture(repo: &Path, env: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let git = |args: &[&str]| -> String {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(repo)
            .env_clear()
            .envs(env)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let branches: Vec<String> = git(&["for-each-ref", "--format=%(refname:short)", "refs/heads"])
        .lines()
        .map(str::to_string)
        .collect();
    let mut s = BTreeMap::new();
    // Across branches git orders commits by time, which ties within a second: sorted (and no
    // graph, whose parallel lines are ordered the same way; each branch's own history is below).
    let mut all: Vec<String> = git(&["log", "--all", "--format=%s"])
        .lines()
        .map(str::to_string)
        .collect();
    all.sort();
    s.insert("log-all-sorted".into(), all.join("\n"));
    // A branch's own history in order is its first-parent chain (the graph alone decides it);
    // what else it reaches is compared as a set, since git orders merged lines by commit time,
    // which ties within a second when the commands are fast.
    let chain = |rev: &str| git(&["log", "--first-parent", "--format=%s", rev]);
    let reached = |rev: &str| {
        let mut v: Vec<String> = git(&["log", "--format=%s", rev])
            .lines()
            .map(str::to_string)
            .collect();
        v.sort();
        v.join("\n")
    };
    s.insert("log-head".into(), chain("HEAD"));
    s.insert("log-head-reached-sorted".into(), reached("HEAD"));
    s.insert(
        "log-per-branch".into(),
        branches
            .iter()
            .map(|b| format!("== {b}\n{}\n-- reached\n{}\n", chain(b), reached(b)))
            .collect(),
    );
    s.insert("branches".into(), branches.join("\n"));
    s.insert("head".into(), git(&["rev-parse", "--abbrev-ref", "HEAD"]));
    s.insert(
        "status".into(),
        git(&["status", "--porcelain", "--untracked-files=all"]),
    );
    s.insert(
        "worktrees".into(),
        git(&["worktree", "list", "--porcelain"]),
    );
    s.insert(
        "merge-drivers".into(),
        git(&["config", "--local", "--get-regexp", "^merge\\."]),
    );
    let tree = git(&["ls-tree", "-r", "--name-only", "HEAD"]);
    s.insert("tree-head".into(), tree.clone());
    let mut contents = String::new();
    for f in tree.lines().filter(|f| !f.starts_with(".claude/")) {
        contents.push_str(&format!("\n===== {f}\n"));
        contents.push_str(&git(&["show", &format!("HEAD:{f}")]));
    }
    s.insert("tree-head-contents".into(), contents);
    s.insert(
        "tree-per-branch".into(),
        branches
            .iter()
            .map(|b| format!("== {b}\n{}", git(&["ls-tree", "-r", "--name-only", b])))
            .collect(),
    );
    s
}

/// Placeholders for what differs between any two runs.
pub struct Normaliser {
    subs: Vec<(Regex, &'static str)>,
    literal: Vec<(String, String)>,
}

impl Normaliser {
    /// For a run in `sandbox` whose mission directory is `mission_slug`.
    pub fn new(sandbox: &Path, mission_slug: &str) -> Self {
        let mut literal = vec![(sandbox.display().to_string(), "<S>".to_string())];
        if let Some((_, mid8)) = mission_slug.rsplit_once('-') {
            literal.push((mid8.to_string(), "<MID8>".into()));
            literal.push((mid8.to_lowercase(), "<mid8>".into()));
        }
        let r = |p: &str| Regex::new(p).unwrap();
        let subs = vec![
            (r(r"[0-9A-HJKMNP-TV-Z]{26}"), "<ULID>"),
            (
                r(r#"(shell_pid_created_at["']?:\s*["']?)\d+(\.\d+)?"#),
                "${1}<EPOCH>",
            ),
            (r(r"\b[0-9a-f]{64}\b"), "<SHA256>"),
            (r(r"\b[0-9a-f]{40}\b"), "<SHA>"),
            (
                r(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"),
                "<UUID>",
            ),
            (r(r"\b[0-9a-f]{32}\b"), "<HEX32>"),
            (
                r(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?"),
                "<TS>",
            ),
            (r(r#"\b(PID:?\s*|shell_pid["']?:\s*["']?)\d+"#), "${1}<PID>"),
            (
                r(r"spec-kitty-prompts/[0-9a-f]{16}"),
                "spec-kitty-prompts/<H16>",
            ),
            (r(r"node_id: [0-9a-f]{12}"), "node_id: <NODE>"),
            (r(r#""node_id": "[0-9a-f]{12}""#), r#""node_id": "<NODE>""#),
            (r(r"\b\d+\.\d+s\b"), "<DUR>"),
        ];
        Self { subs, literal }
    }

    /// `text` with every per-run value replaced; a JSON document is re-serialised with sorted
    /// keys first; runs of `  <severity>: N` lines (the reference writes them in any order) sorted.
    pub fn text(&self, text: &str) -> String {
        let trimmed = text.trim();
        let mut out = match serde_json::from_str::<serde_json::Value>(trimmed) {
            Ok(v) if trimmed.starts_with(['{', '[']) => serde_json::to_string_pretty(&v).unwrap(),
            _ => text.to_string(),
        };
        // The sandbox first, then ids (a ULID holds the mission's 8-character prefix), then the
        // prefix where it stands alone.
        let (sandbox, prefixes) = self.literal.split_at(1);
        for (from, to) in sandbox {
            out = out.replace(from, to);
        }
        for (re, to) in &self.subs {
            out = re.replace_all(&out, *to).into_owned();
        }
        for (from, to) in prefixes {
            out = out.replace(from, to);
        }
        // A hash the line names as a commit, whatever its letters (one in 2,000 has no digit).
        let named = Regex::new(r"\b(Commit: )[0-9a-f]{7,40}\b").unwrap();
        out = named.replace_all(&out, "${1}<sha>").into_owned();
        // Short commit hashes in prose ("Commit: afea22b"), which may be all digits: 7 to 12 hex
        // characters with at least one digit (words such as "defaced" stay).
        let short = Regex::new(r"\b[0-9a-f]{7,12}\b").unwrap();
        out = short
            .replace_all(&out, |c: &regex::Captures| {
                let h = &c[0];
                if h.bytes().any(|b| b.is_ascii_digit()) {
                    "<sha>".to_string()
                } else {
                    h.to_string()
                }
            })
            .into_owned();
        sort_severity_runs(out.trim_end())
    }
}

fn sort_severity_runs(text: &str) -> String {
    let is_sev = |l: &str| {
        ["critical", "high", "medium", "low", "info"]
            .iter()
            .any(|s| l.trim_start().starts_with(&format!("{s}: ")))
    };
    let mut out: Vec<String> = Vec::new();
    let mut run: Vec<String> = Vec::new();
    for line in text.lines() {
        if is_sev(line) {
            run.push(line.to_string());
        } else {
            run.sort();
            out.append(&mut run);
            out.push(line.to_string());
        }
    }
    run.sort();
    out.append(&mut run);
    out.join("\n")
}
