//! The `analysis-findings/v1` carrier an agent hands to record-analysis: its frontmatter checked
//! and tallied into a verdict (**interop**: the reference's rules and verdicts).

use serde_json::{Value, json};

/// The severities, in the order kitty writes them.
pub const SEVERITIES: [&str; 4] = ["critical", "high", "medium", "low"];

/// A parsed report.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// `ready`, `blocked`, or `unknown` for a report without findings frontmatter.
    pub verdict: &'static str,
    /// The counts: the four severities then `info` (all null for an unknown verdict).
    pub counts: Vec<(&'static str, Value)>,
    /// Each finding as `{id, severity, category, summary}`.
    pub findings: Vec<Value>,
    /// The report's body.
    pub body: String,
}

fn legacy(body: &str) -> Report {
    Report {
        verdict: "unknown",
        counts: SEVERITIES
            .iter()
            .copied()
            .chain(["info"])
            .map(|k| (k, Value::Null))
            .collect(),
        findings: Vec::new(),
        body: body.to_string(),
    }
}

/// Python's `==` between a declared count and a tally (`true == 1`, `1.0 == 1`).
fn equals_tally(v: &Value, tally: u64) -> bool {
    match v {
        Value::Bool(b) => u64::from(*b) == tally,
        Value::Number(n) => n.as_f64().is_some_and(|f| f == tally as f64),
        _ => false,
    }
}

/// Parse `text` (the agent's report). `Err`: what is wrong with it and how to fix it.
pub fn parse(text: &str) -> Result<Report, String> {
    if text.trim().is_empty() {
        return Err(
            "the analysis report is empty: pass the report's text (a file, or - for stdin)".into(),
        );
    }
    if !text.starts_with("---") {
        return Ok(legacy(text));
    }
    let lines: Vec<&str> = text.lines().collect();
    let Some(close) = lines
        .iter()
        .skip(1)
        .position(|l| l.trim() == "---")
        .map(|i| i + 1)
    else {
        return Err("the analysis-findings frontmatter opens with '---' and never closes: end it with a '---' line".into());
    };
    let front = lines[1..close].join("\n");
    let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(&front).map_err(|e| {
        format!("the analysis-findings frontmatter is not valid YAML ({e}): fix it")
    })?;
    let Ok(meta) = serde_json::to_value(&yaml) else {
        return Ok(legacy(text));
    };
    if !meta.is_object() || meta["schema"] != "analysis-findings/v1" {
        return Ok(legacy(text));
    }
    let findings = match meta.get("findings") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => return Err("analysis-findings 'findings' must be a list of findings".into()),
    };
    let mut normal = Vec::new();
    let mut tally = [0u64; 4];
    for f in &findings {
        let Value::Object(m) = f else {
            return Err(
                "each analysis-findings entry must be a mapping (id, severity, category, summary)"
                    .into(),
            );
        };
        let severity = m.get("severity").cloned().unwrap_or(Value::Null);
        match SEVERITIES.iter().position(|s| severity == *s) {
            Some(i) => tally[i] += 1,
            None => {
                return Err(format!(
                    "unknown finding severity {severity}: use one of critical, high, low, medium"
                ));
            }
        }
        let field = |k: &str| m.get(k).cloned().unwrap_or(Value::Null);
        normal.push(json!({
            "id": field("id"),
            "severity": severity,
            "category": field("category"),
            "summary": field("summary"),
        }));
    }
    let mut info = 0u64;
    match meta.get("counts") {
        None | Some(Value::Null) => {}
        Some(Value::Object(c)) => {
            let mut unknown: Vec<&String> = c
                .keys()
                .filter(|k| !SEVERITIES.contains(&k.as_str()) && k.as_str() != "info")
                .collect();
            unknown.sort();
            if !unknown.is_empty() {
                return Err(format!(
                    "unknown counts keys {unknown:?}: use critical, high, info, low, medium"
                ));
            }
            for (i, s) in SEVERITIES.iter().enumerate() {
                let declared = c.get(*s).cloned().unwrap_or(json!(0));
                if !equals_tally(&declared, tally[i]) {
                    return Err(format!(
                        "counts['{s}']={declared} does not equal the findings' tally {}: correct the counts or the findings",
                        tally[i]
                    ));
                }
            }
            info = match c.get("info") {
                None | Some(Value::Null) => 0,
                Some(Value::Number(n)) if n.as_u64().is_some() => n.as_u64().unwrap_or(0),
                Some(Value::String(s)) if s.trim().parse::<u64>().is_ok() => {
                    s.trim().parse().unwrap_or(0)
                }
                Some(other) => {
                    return Err(format!("counts['info']={other} is not a whole number"));
                }
            };
        }
        Some(_) => return Err("analysis-findings 'counts' must be a mapping".into()),
    }
    let verdict = if tally[0] + tally[1] > 0 {
        "blocked"
    } else {
        "ready"
    };
    if let Some(hint) = meta.get("verdict_hint").filter(|h| !h.is_null())
        && *hint != verdict
    {
        return Err(format!(
            "verdict_hint {hint} disagrees with the verdict the findings give ('{verdict}': any high or critical finding blocks): correct the hint or the findings"
        ));
    }
    let body = lines[close + 1..].join("\n");
    let body = body.trim_start_matches('\n').to_string();
    let mut counts: Vec<(&'static str, Value)> = SEVERITIES
        .iter()
        .zip(tally)
        .map(|(s, n)| (*s, json!(n)))
        .collect();
    counts.push(("info", json!(info)));
    Ok(Report {
        verdict,
        counts,
        findings: normal,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn carrier(front: &str) -> String {
        format!("---\nschema: analysis-findings/v1\n{front}\n---\n\n# Report\n")
    }

    #[test]
    fn findings_are_tallied_into_a_verdict_and_counts_must_agree() {
        let r = parse(&carrier("findings:\n  - {id: A1, severity: low, category: coverage, summary: x, extra: 1}\ncounts: {low: 1, info: '3'}")).unwrap();
        assert_eq!(r.verdict, "ready");
        assert_eq!(
            r.findings[0],
            json!({"id": "A1", "severity": "low", "category": "coverage", "summary": "x"})
        );
        assert_eq!(r.counts.last().unwrap().1, json!(3));
        assert_eq!(r.body, "# Report");
        let blocked = parse(&carrier("findings:\n  - {id: 7, severity: high}")).unwrap();
        assert_eq!(
            (blocked.verdict, &blocked.findings[0]["id"]),
            ("blocked", &json!(7))
        );
        assert!(
            parse(&carrier("findings:\n  - {severity: info}"))
                .unwrap_err()
                .contains("severity")
        );
        assert!(
            parse(&carrier("findings: []\ncounts: {low: 2}"))
                .unwrap_err()
                .contains("tally")
        );
        assert!(
            parse(&carrier("counts: {bogus: 1}"))
                .unwrap_err()
                .contains("bogus")
        );
        assert!(
            parse(&carrier(
                "counts: {low: true}\nfindings:\n  - {severity: low}"
            ))
            .is_ok()
        );
        assert!(
            parse(&carrier(
                "verdict_hint: ready\nfindings:\n  - {severity: critical}"
            ))
            .unwrap_err()
            .contains("verdict_hint")
        );
        assert!(
            parse("---\nschema: x\n")
                .unwrap_err()
                .contains("never closes")
        );
        assert!(parse("  \n").is_err());
    }

    #[test]
    fn a_report_without_the_carrier_is_kept_whole_with_an_unknown_verdict() {
        for text in [
            "# Plain\n",
            "---\nschema: other\n---\nbody\n",
            "---\n- a list\n---\n",
        ] {
            let r = parse(text).unwrap();
            assert_eq!((r.verdict, r.body.as_str()), ("unknown", text));
            assert!(r.counts.iter().all(|(_, v)| v.is_null()));
        }
    }
}
