//! A mission's findings, from its files alone (**interop**: the reference's retrospective
//! generator — fifteen rules over the status log, the spec, the work packages and the reports,
//! ids numbered per prefix in firing order, each list then sorted by category and summary,
//! evidence numbered in registration order).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use super::inputs::{Inputs, py_strip, splitlines};

/// One finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// `h-001`, `n-001`, `g-001`.
    pub id: String,
    /// `implementation`, `review_loop`, `process`, `spec_quality`, `doc`, `tooling`.
    pub category: &'static str,
    /// One line.
    pub summary: String,
    /// The evidence ids.
    pub evidence_refs: Vec<String>,
    /// The longer text, if any.
    pub details: Option<String>,
}

/// One piece of evidence: a file, or a range of the status log's events.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    /// `e-001`.
    pub id: String,
    /// `file` or `event_range`.
    pub kind: &'static str,
    /// The file, relative to the repository.
    pub path: String,
    /// `first..last` event ids (an event range only).
    pub range: Option<String>,
}

/// What the generator found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Findings {
    /// What helped.
    pub helped: Vec<Finding>,
    /// What did not.
    pub not_helpful: Vec<Finding>,
    /// What is missing.
    pub gaps: Vec<Finding>,
    /// The evidence, in registration order.
    pub evidence: Vec<Evidence>,
}

impl Findings {
    /// `has_findings` or `ran_no_findings`.
    pub fn status(&self) -> &'static str {
        if self.helped.is_empty() && self.not_helpful.is_empty() && self.gaps.is_empty() {
            "ran_no_findings"
        } else {
            "has_findings"
        }
    }
}

pub(super) fn to_py(v: &Value) -> crate::pyfmt::Py {
    serde_json::from_value(v.clone()).unwrap_or(crate::pyfmt::Py::Null)
}

fn s<'a>(e: &'a Map<String, Value>, key: &str) -> &'a str {
    e.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The top-level `wp_id` (empty when absent).
fn wp(e: &Map<String, Value>) -> &str {
    s(e, "wp_id")
}

/// The top-level `wp_id`, else the payload's.
fn event_wp(e: &Map<String, Value>) -> &str {
    match wp(e) {
        "" => e
            .get("payload")
            .and_then(|p| p.get("wp_id"))
            .and_then(Value::as_str)
            .unwrap_or(""),
        w => w,
    }
}

const BACK_TO: [&str; 3] = ["planned", "in_progress", "claimed"];
const BOOTSTRAP_ACTORS: [&str; 3] = ["finalize-tasks", "bootstrap", "migrate"];

fn truthy(v: Option<&Value>) -> bool {
    v.is_some_and(|v| to_py(v).truthy())
}

fn has_feedback(e: &Map<String, Value>) -> bool {
    if truthy(e.get("review_ref")) {
        return true;
    }
    match e.get("evidence") {
        Some(Value::Object(ev)) => match ev.get("review") {
            Some(Value::Object(r)) => {
                truthy(r.get("reference"))
                    && r.get("verdict").and_then(Value::as_str) == Some("changes_requested")
            }
            _ => false,
        },
        Some(Value::String(t)) => !py_strip(t).is_empty(),
        _ => false,
    }
}

fn backward(e: &Map<String, Value>) -> bool {
    let (from, to) = (s(e, "from_lane"), s(e, "to_lane"));
    match from {
        "for_review" | "in_review" => BACK_TO.contains(&to),
        "in_progress" => matches!(to, "planned" | "claimed"),
        _ => false,
    }
}

fn rejection(e: &Map<String, Value>) -> bool {
    s(e, "from_lane") == "in_review" && BACK_TO.contains(&s(e, "to_lane")) && has_feedback(e)
}

fn friction(e: &Map<String, Value>) -> bool {
    backward(e) && !rejection(e)
}

fn actor_lower(e: &Map<String, Value>) -> String {
    match e.get("actor") {
        Some(Value::String(a)) => a.to_lowercase(),
        None => String::new(),
        Some(other) => crate::pyfmt::python_repr(other).to_lowercase(),
    }
}

fn force(e: &Map<String, Value>) -> bool {
    truthy(e.get("force"))
        && !BOOTSTRAP_ACTORS.contains(&actor_lower(e).as_str())
        && e.get("from_lane") != e.get("to_lane")
}

fn self_approval(e: &Map<String, Value>) -> bool {
    e.get("event_type").and_then(Value::as_str) == Some("ReviewerSelfApproval")
}

fn arbiter(e: &Map<String, Value>) -> bool {
    let mut parts: Vec<&str> = Vec::new();
    if let Some(Value::String(r)) = e.get("reason")
        && !py_strip(r).is_empty()
    {
        parts.push(r);
    }
    if let Some(Value::Object(ev)) = e.get("evidence") {
        for key in ["note", "reason"] {
            if let Some(Value::String(v)) = ev.get(key)
                && !py_strip(v).is_empty()
            {
                parts.push(v);
            }
        }
    }
    parts.join(" ").to_lowercase().contains("arbiter")
}

fn impl_cycle(e: &Map<String, Value>) -> bool {
    !BOOTSTRAP_ACTORS.contains(&actor_lower(e).as_str())
        && matches!(s(e, "from_lane"), "planned" | "claimed")
        && s(e, "to_lane") == "in_progress"
}

/// Per work package (top-level `wp_id`), how many events match.
fn counts(
    events: &[Map<String, Value>],
    id: fn(&Map<String, Value>) -> &str,
    pred: fn(&Map<String, Value>) -> bool,
) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for e in events {
        let w = id(e);
        if !w.is_empty() && pred(e) {
            *out.entry(w.to_string()).or_insert(0) += 1;
        }
    }
    out
}

fn event_id(e: &Map<String, Value>) -> String {
    match e.get("event_id") {
        Some(Value::String(s)) => s.clone(),
        None => String::new(),
        Some(other) => crate::pyfmt::python_repr(other),
    }
}

/// `first..last`, the one id, or empty.
fn range(ids: &[String]) -> String {
    match ids {
        [] => String::new(),
        [one] => one.clone(),
        [first, .., last] => format!("{first}..{last}"),
    }
}

fn range_of(
    events: &[Map<String, Value>],
    w: &str,
    id: fn(&Map<String, Value>) -> &str,
    pred: impl Fn(&Map<String, Value>) -> bool,
) -> String {
    let ids: Vec<String> = events
        .iter()
        .filter(|e| id(e) == w && pred(e))
        .map(event_id)
        .collect();
    range(&ids)
}

/// Evidence ids, handed out in registration order.
#[derive(Default)]
struct Registry {
    ids: HashMap<String, String>,
    refs: Vec<Evidence>,
}

impl Registry {
    fn add(&mut self, key: String, path: &str, range: Option<String>) -> String {
        if let Some(id) = self.ids.get(&key) {
            return id.clone();
        }
        let id = format!("e-{:03}", self.refs.len() + 1);
        self.ids.insert(key, id.clone());
        self.refs.push(Evidence {
            id: id.clone(),
            kind: if range.is_some() {
                "event_range"
            } else {
                "file"
            },
            path: path.into(),
            range,
        });
        id
    }

    fn file(&mut self, path: &str) -> String {
        self.add(path.into(), path, None)
    }

    fn events(&mut self, path: &str, range: String, key: &str) -> String {
        self.add(format!("{path}:{key}"), path, Some(range))
    }
}

/// Finding ids per prefix, in firing order.
#[derive(Default)]
struct Ids(HashMap<char, usize>);

impl Ids {
    fn next(&mut self, prefix: char) -> String {
        let n = self.0.entry(prefix).or_insert(0);
        *n += 1;
        format!("{prefix}-{n:03}")
    }
}

struct Out {
    ids: Ids,
    reg: Registry,
    helped: Vec<Finding>,
    not_helpful: Vec<Finding>,
    gaps: Vec<Finding>,
}

impl Out {
    fn push(
        &mut self,
        prefix: char,
        category: &'static str,
        summary: String,
        details: Option<String>,
        evidence: String,
    ) {
        let finding = Finding {
            id: self.ids.next(prefix),
            category,
            summary,
            evidence_refs: vec![evidence],
            details,
        };
        match prefix {
            'h' => self.helped.push(finding),
            'n' => self.not_helpful.push(finding),
            _ => self.gaps.push(finding),
        }
    }
}

static CLARIFICATION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\[NEEDS CLARIFICATION:").expect("valid"));
static FR: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b(FR-\d{3,})\b").expect("valid"));
static KEY_ENTITIES: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?im)^#{1,6}\s+Key Entities").expect("valid"));
static ANY_HEADING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^#{1,6}\s").expect("valid"));
static ENTITY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^\s*[-*]\s+\*\*[^\[*\n][^*\n]*\*\*").expect("valid"));
static TRACE_ENTRY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^\s*(?:\d+\.|[-*])\s+\*\*(.+?)\*\*").expect("valid"));

fn declares_entities(spec: &str) -> bool {
    let Some(heading) = KEY_ENTITIES.find(spec) else {
        return false;
    };
    let mut section = &spec[heading.end()..];
    if let Some(next) = ANY_HEADING.find(section) {
        section = &section[..next.start()];
    }
    ENTITY.is_match(section)
}

fn chars(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// The findings of `inputs`, as the reference's generator makes them.
pub fn findings(inputs: &Inputs) -> Findings {
    let rel = |name: &str| format!("kitty-specs/{}/{name}", inputs.dir_name);
    let (spec_rel, events_rel) = (rel("spec.md"), rel("status.events.jsonl"));
    let mut out = Out {
        ids: Ids::default(),
        reg: Registry::default(),
        helped: Vec::new(),
        not_helpful: Vec::new(),
        gaps: Vec::new(),
    };
    if inputs.has_meta {
        out.reg.file(&rel("meta.json"));
    }
    for (text, name) in [
        (&inputs.spec, "spec.md"),
        (&inputs.plan, "plan.md"),
        (&inputs.tasks, "tasks.md"),
    ] {
        if !text.is_empty() {
            out.reg.file(&rel(name));
        }
    }
    let mut wp_evidence = HashMap::new();
    for (name, _) in &inputs.wp_files {
        wp_evidence.insert(name.clone(), out.reg.file(&rel(&format!("tasks/{name}"))));
    }
    let events = &inputs.events;
    if !events.is_empty() {
        out.reg.file(&events_rel);
    }

    // R1: clean work packages, when something else makes them notable.
    let rejections = counts(events, wp, rejection);
    let frictions = counts(events, wp, friction);
    let done: BTreeSet<&str> = events
        .iter()
        .filter(|e| !wp(e).is_empty() && matches!(s(e, "to_lane"), "done" | "approved"))
        .map(wp)
        .collect();
    let ingestor_content = [&inputs.failures, &inputs.analysis, &inputs.review]
        .iter()
        .any(|t| t.as_deref().is_some_and(|t| !t.is_empty()));
    if !rejections.is_empty() || !frictions.is_empty() || ingestor_content {
        for w in done
            .iter()
            .filter(|w| !rejections.contains_key(**w) && !frictions.contains_key(**w))
        {
            // A package named done names an event, so the log is there to point at.
            let evidence = match wp_evidence.get(&format!("{w}.md")) {
                Some(id) => id.clone(),
                None => out.reg.file(&events_rel),
            };
            out.push(
                'h',
                "implementation",
                format!("{w} completed without rejection cycles"),
                None,
                evidence,
            );
        }
    }
    // R2: review rejections (the range is every move back out of review).
    for (w, n) in &rejections {
        let r = range_of(events, w, wp, |e| {
            matches!(s(e, "from_lane"), "for_review" | "in_review")
                && BACK_TO.contains(&s(e, "to_lane"))
        });
        let ev = out
            .reg
            .events(&events_rel, or(r, "rejection"), &format!("rejection_{w}"));
        out.push(
            'n',
            "review_loop",
            format!("{w} required {n} rejection cycle(s) before approval"),
            Some(format!(
                "WP {w} was sent back from review to planning {n} time(s)."
            )),
            ev,
        );
    }
    // R3: lane bounces outside the review flow.
    for (w, n) in &frictions {
        let r = range_of(events, w, wp, friction);
        let ev = out.reg.events(
            &events_rel,
            or(r, "lane_friction"),
            &format!("lane_friction_{w}"),
        );
        out.push('n', "process", format!("{w} had {n} lane bounce(s) before approval"), Some(format!("WP {w} moved backward across workflow lanes {n} time(s) outside the documented reviewer-feedback flow.")), ev);
    }
    // R4: --force overrides.
    for (w, n) in &counts(events, wp, force) {
        let r = range_of(events, w, event_wp, force);
        let ev = out.reg.events(
            &events_rel,
            or(r, "force_override"),
            &format!("force_override_{w}"),
        );
        out.push('n', "process", format!("{w} required {n} --force override(s) during workflow"), Some(format!("WP {w} required {n} operator-driven --force lane transition(s). Force overrides typically indicate the runtime guard failed or the operator routed around it; investigate the underlying cause.")), ev);
    }
    // R5: self-review fallbacks.
    for (w, n) in &counts(events, event_wp, self_approval) {
        let r = range_of(events, w, event_wp, self_approval);
        let ev = out.reg.events(
            &events_rel,
            or(r, "reviewer_self_approval"),
            &format!("reviewer_self_approval_{w}"),
        );
        let first = events
            .iter()
            .find(|e| event_wp(e) == w && self_approval(e))
            .and_then(|e| e.get("payload"))
            .and_then(Value::as_object);
        let field = |key: &str, default: &str| -> String {
            match first.and_then(|p| p.get(key)) {
                Some(v) if truthy(Some(v)) => v
                    .as_str()
                    .map_or_else(|| crate::pyfmt::python_repr(v), str::to_string),
                _ => default.into(),
            }
        };
        let (actor, intended, reason) = (
            field("implementing_actor", "unknown"),
            field("intended_reviewer", "unknown"),
            field("failure_reason", "reviewer_failed"),
        );
        out.push('n', "process", format!("{w} used self-review fallback instead of independent review"), Some(format!("WP {w} recorded {n} ReviewerSelfApproval event(s): {actor} self-reviewed after intended reviewer {intended} failed ({reason}). Treat this as a review-independence gap.")), ev);
    }
    // R6: arbiter overrides.
    for (w, n) in &counts(events, wp, arbiter) {
        let r = range_of(events, w, event_wp, arbiter);
        let ev = out
            .reg
            .events(&events_rel, or(r, "arbiter"), &format!("arbiter_{w}"));
        out.push('g', "process", format!("Arbiter override needed for {w} ({n}x)"), Some(format!("WP {w} required {n} arbiter override(s). Arbiter overrides are an escape hatch; recurring use suggests the normal review path is blocked and the underlying policy/guard may need adjustment.")), ev);
    }
    // R7: more than one implementation cycle.
    for (w, n) in counts(events, wp, impl_cycle)
        .iter()
        .filter(|(_, n)| **n > 1)
    {
        let ev = out.reg.events(
            &events_rel,
            "implementation_cycles".into(),
            &format!("impl_cycles_{w}"),
        );
        out.push('n', "implementation", format!("{w} needed {n} implementation cycles"), Some(format!("WP {w} entered in_progress {n} times. Multiple implementation cycles suggest rework not captured as a documented review rejection; the WP scope or contract may need refinement.")), ev);
    }
    spec_rules(inputs, &spec_rel, &mut out);
    ingestors(inputs, &rel, &mut out);
    for list in [&mut out.helped, &mut out.not_helpful, &mut out.gaps] {
        list.sort_by(|a, b| (a.category, &a.summary).cmp(&(b.category, &b.summary)));
    }
    Findings {
        helped: out.helped,
        not_helpful: out.not_helpful,
        gaps: out.gaps,
        evidence: out.reg.refs,
    }
}

fn or(range: String, fallback: &str) -> String {
    if range.is_empty() {
        fallback.into()
    } else {
        range
    }
}

/// R8-R11: the spec's open markers, uncovered requirements and missing documents.
fn spec_rules(inputs: &Inputs, spec_rel: &str, out: &mut Out) {
    let spec = &inputs.spec;
    if spec.is_empty() {
        return;
    }
    for m in CLARIFICATION.find_iter(spec) {
        let line = spec[..m.start()].matches('\n').count() + 1;
        let ev = out.reg.file(spec_rel);
        out.push('g', "spec_quality", format!("Unresolved clarification marker in spec.md (line {line})"), Some(format!("Found '[NEEDS CLARIFICATION:' marker at line {line} of spec.md. This indicates a specification gap that was not resolved before implementation.")), ev);
    }
    if !inputs.wp_files.is_empty() {
        let covered: BTreeSet<&str> = inputs
            .wp_files
            .iter()
            .flat_map(|(_, text)| {
                FR.captures_iter(text)
                    .filter_map(|c| c.get(1))
                    .map(|m| m.as_str())
            })
            .collect();
        let in_spec: BTreeSet<&str> = FR
            .captures_iter(spec)
            .filter_map(|c| c.get(1))
            .map(|m| m.as_str())
            .collect();
        for fr in in_spec.difference(&covered) {
            let ev = out.reg.file(spec_rel);
            out.push('g', "spec_quality", format!("{fr} defined in spec.md has no WP coverage"), Some(format!("Requirement {fr} appears in spec.md but is not referenced by any work package task file. It may be unimplemented.")), ev);
        }
    }
    if inputs.research.is_none() {
        let ev = out.reg.file(spec_rel);
        out.push('g', "doc", "research.md absent".into(), Some("spec.md is present but research.md is missing. Research artifacts help future maintainers understand design decisions.".into()), ev);
    }
    if inputs.data_model.is_none() && declares_entities(spec) {
        let ev = out.reg.file(spec_rel);
        out.push('g', "doc", "data-model.md absent".into(), Some("spec.md declares domain entities but data-model.md is missing. A data model document clarifies domain entity relationships.".into()), ev);
    }
}

/// R12-R15: the failure log, the two reports and the tracers.
fn ingestors(inputs: &Inputs, rel: &dyn Fn(&str) -> String, out: &mut Out) {
    if let Some(text) = &inputs.failures {
        let path = rel("workflow-failures-log.md");
        let lines: Vec<&str> = splitlines(text)
            .map(py_strip)
            .filter(|l| l.starts_with("- [ ] FAIL:") || l.starts_with("### FAIL:"))
            .collect();
        for line in &lines {
            let ev = out.reg.file(&path);
            out.push(
                'n',
                "process",
                chars(line, 200),
                Some(format!(
                    "Workflow failure recorded in workflow-failures-log.md. Entry: {line}"
                )),
                ev,
            );
        }
        if lines.is_empty() {
            let ev = out.reg.file(&path);
            out.push('h', "process", "workflow-failures-log.md present with no recorded failures".into(), Some("A workflow-failures-log.md file is present but contains no structured failure entries (lines starting with '- [ ] FAIL:' or '### FAIL:'). This may indicate all workflows completed cleanly.".into()), ev);
        }
    }
    if inputs.analysis.is_some() {
        let ev = out.reg.file(&rel("analysis-report.md"));
        out.push('n', "doc", "analysis-report.md present with findings".into(), Some("An analysis-report.md artifact is present for this mission. Review its findings to understand documented issues and decisions.".into()), ev);
    }
    if inputs.review.is_some() {
        let ev = out.reg.file(&rel("mission-review-report.md"));
        out.push('n', "review_loop", "mission-review-report.md present with findings".into(), Some("A mission-review-report.md artifact is present for this mission. Review its findings to understand documented review outcomes.".into()), ev);
    }
    for (label, text) in &inputs.traces {
        let matches: Vec<_> = TRACE_ENTRY.captures_iter(text).collect();
        for (i, m) in matches.iter().enumerate() {
            let (Some(whole), Some(lead)) = (m.get(0), m.get(1)) else {
                continue;
            };
            let lead = py_strip(lead.as_str());
            if lead.is_empty() {
                continue;
            }
            let end = matches
                .get(i + 1)
                .and_then(|n| n.get(0))
                .map_or(text.len(), |n| n.start());
            let body = py_strip(&text[whole.start()..end]);
            let lower = body.to_lowercase();
            let prefix = if [
                "candidate gap",
                "candidate-gap",
                "open (",
                "open)",
                "**open",
            ]
            .iter()
            .any(|k| lower.contains(k))
            {
                'g'
            } else if [
                "no gap",
                "expected",
                "worked as designed",
                "**fixed",
                "fixed —",
                "fixed -",
            ]
            .iter()
            .any(|k| lower.contains(k))
            {
                'h'
            } else {
                'n'
            };
            let ev = out.reg.file(label);
            out.push(
                prefix,
                "tooling",
                chars(&format!("Tracer: {lead}"), 200),
                Some(chars(body, 1000)),
                ev,
            );
        }
    }
}

#[cfg(test)]
#[path = "generator_tests.rs"]
mod tests;
