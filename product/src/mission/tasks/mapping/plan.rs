//! map-requirements' pure core (**interop**: the reference's mode rules, ref parsing, merge,
//! gates and coverage): every decision, no file written and no git asked.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value, json};

use crate::mission::tasks::TasksError;

/// The mapping a run asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// `--wp` + `--refs` or `--batch`: (work package, refs as given, upper-cased), in input order.
    Refs(Vec<(String, Vec<String>)>),
    /// `--batch`, still to parse (after the spec checks, as the reference does).
    Batch(String),
    /// `--tracker-ref` (handed to the reference).
    Tracker,
}

fn given(v: Option<&str>) -> Option<&str> {
    v.filter(|s| !s.is_empty())
}

/// The mode of `wp`, `refs`, `batch` and `tracker` (the reference's rules, in its order).
pub fn mode(
    wp: Option<&str>,
    refs: Option<&str>,
    batch: Option<&str>,
    tracker: &[String],
) -> Result<Mode, TasksError> {
    let wp_flag = wp.is_some();
    let (wp, refs, batch) = (given(wp), given(refs), given(batch));
    // Blank tracker refs are dropped before any rule looks at them.
    let tracker: Vec<&String> = tracker.iter().filter(|t| !t.trim().is_empty()).collect();
    if batch.is_some() && (wp.is_some() || refs.is_some()) {
        return Err(TasksError::MapMode {
            message: "--batch cannot be combined with --wp/--refs: pass either --batch, or --wp with --refs".into(),
        });
    }
    if !tracker.is_empty() && (batch.is_some() || !wp_flag) {
        return Err(TasksError::MapMode {
            message: "--tracker-ref needs --wp and cannot be combined with --batch: pass --wp WPnn --tracker-ref <ref>".into(),
        });
    }
    if !tracker.is_empty() {
        return Ok(Mode::Tracker);
    }
    if let Some(b) = batch {
        return Ok(Mode::Batch(b.to_string()));
    }
    match (wp, refs) {
        (Some(wp), Some(refs)) => Ok(Mode::Refs(vec![(wp.to_uppercase(), parse_refs(refs))])),
        _ => Err(TasksError::MapMode {
            message: "nothing to map: pass --wp WPnn --refs FR-001,FR-002, or --batch '{\"WP01\": [\"FR-001\"]}', or --wp WPnn --tracker-ref <ref>".into(),
        }),
    }
}

/// `"fr-001, ,FR-002"` → `[FR-001, FR-002]`: split on commas, trimmed, blanks dropped.
pub fn parse_refs(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_uppercase)
        .collect()
}

/// A JSON object's entries in document order (a repeated key keeps its first place and its last
/// value, as Python's `json.loads` does).
struct Ordered(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Option<Vec<(String, Value)>>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out: Vec<(String, Value)> = Vec::new();
                while let Some((k, v)) = a.next_entry::<String, Value>()? {
                    match out.iter_mut().find(|(key, _)| *key == k) {
                        Some(slot) => slot.1 = v,
                        None => out.push((k, v)),
                    }
                }
                Ok(Some(out))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Self::Value, A::Error> {
                while a.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(None)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
        }
        match d.deserialize_any(V)? {
            Some(entries) => Ok(Self(entries)),
            None => Err(serde::de::Error::custom(NOT_OBJECT)),
        }
    }
}

const NOT_OBJECT: &str = "--batch must be a JSON object mapping work packages to lists of refs, e.g. {\"WP01\": [\"FR-001\"]}";

/// `--batch`'s mapping: keys and refs upper-cased, in document order.
pub fn parse_batch(text: &str) -> Result<Vec<(String, Vec<String>)>, TasksError> {
    let entries = match serde_json::from_str::<Ordered>(text) {
        Ok(Ordered(e)) => e,
        Err(e) if e.to_string().starts_with(NOT_OBJECT) => {
            return Err(TasksError::BatchInvalid {
                message: NOT_OBJECT.into(),
            });
        }
        Err(e) => {
            return Err(TasksError::BatchInvalid {
                message: format!(
                    "--batch is not valid JSON ({e}): pass an object such as {{\"WP01\": [\"FR-001\"]}}"
                ),
            });
        }
    };
    entries
        .into_iter()
        .map(|(wp, refs)| {
            let list = refs.as_array().and_then(|a| {
                a.iter()
                    .map(|r| r.as_str().map(str::to_uppercase))
                    .collect::<Option<Vec<_>>>()
            });
            match list {
                Some(l) => Ok((wp.to_uppercase(), l)),
                None => Err(TasksError::BatchInvalid {
                    message: format!(
                        "the refs for {wp} must be a list of strings, e.g. {{\"{wp}\": [\"FR-001\"]}}"
                    ),
                }),
            }
        })
        .collect()
}

static FORMAT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:FR|NFR|C)-\d+$").unwrap_or_else(|_| unreachable!("a valid pattern"))
});
static RAW_SPLIT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[,\s]+").unwrap_or_else(|_| unreachable!("a valid pattern")));

/// Whether `r` is written FR-NNN, NFR-NNN or C-NNN.
pub fn well_formed(r: &str) -> bool {
    FORMAT.is_match(r)
}

/// The refs gates, before anything is written: malformed first (input order, repeats kept),
/// then refs spec.md does not declare (sorted, once each).
pub fn gate(
    mapping: &[(String, Vec<String>)],
    declared: &BTreeSet<String>,
) -> Result<(), TasksError> {
    let all = || mapping.iter().flat_map(|(_, r)| r.iter());
    let malformed: Vec<String> = all().filter(|r| !well_formed(r)).cloned().collect();
    if !malformed.is_empty() {
        return Err(TasksError::MalformedRefs { refs: malformed });
    }
    let unknown: BTreeSet<String> = all().filter(|r| !declared.contains(*r)).cloned().collect();
    if !unknown.is_empty() {
        return Err(TasksError::UnknownRefs {
            refs: unknown.into_iter().collect(),
            available: declared.iter().cloned().collect(),
        });
    }
    Ok(())
}

/// A work package's new refs: `new` alone with `replace`; else `new` added to its frontmatter
/// refs (or, when those are empty, to what tasks.md names). Sorted, once each.
pub fn merge(
    new: &[String],
    existing: &[String],
    tasks_md: &[String],
    replace: bool,
) -> Vec<String> {
    let mut set: BTreeSet<String> = new.iter().cloned().collect();
    if !replace {
        let base = if existing.is_empty() {
            tasks_md
        } else {
            existing
        };
        set.extend(base.iter().cloned());
    }
    set.into_iter().collect()
}

/// The raw tokens of a frontmatter `requirement_refs` value as written (case kept): strings
/// split on commas and whitespace, anything else `<NON_STRING:...>`.
pub fn raw_tokens(value: Option<&serde_yaml_ng::Value>) -> Vec<String> {
    use serde_yaml_ng::Value as Y;
    let split = |s: &str| -> Vec<String> {
        RAW_SPLIT
            .split(s)
            .filter(|t| !t.trim().is_empty())
            .map(str::to_string)
            .collect()
    };
    match value {
        Some(Y::Sequence(items)) => items
            .iter()
            .flat_map(|item| match item {
                Y::String(s) => split(s),
                other => vec![format!("<NON_STRING:{}>", python_str(other))],
            })
            .collect(),
        Some(Y::String(s)) => split(s),
        _ => Vec::new(),
    }
}

/// How Python's `str()` spells a YAML scalar the reference read.
fn python_str(v: &serde_yaml_ng::Value) -> String {
    use serde_yaml_ng::Value as Y;
    match v {
        Y::Null => "None".into(),
        Y::Bool(true) => "True".into(),
        Y::Bool(false) => "False".into(),
        Y::Number(n) => n.to_string(),
        Y::String(s) => s.clone(),
        other => serde_yaml_ng::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

/// The stale gate over every work package's refs as they would be after the write: tokens that
/// are malformed (or not strings) or that spec.md does not declare.
pub fn stale(
    tokens: &BTreeMap<String, Vec<String>>,
    declared: &BTreeSet<String>,
) -> Result<(), TasksError> {
    let mut stale = Map::new();
    let mut reasons = Map::new();
    for (wp, toks) in tokens {
        let mut bad: Vec<&String> = toks
            .iter()
            .filter(|t| {
                let up = t.to_uppercase();
                t.starts_with('<') || !well_formed(&up) || !declared.contains(&up)
            })
            .collect();
        if bad.is_empty() {
            continue;
        }
        bad.sort();
        let (malformed, unknown): (Vec<&String>, Vec<&String>) = bad
            .iter()
            .partition(|t| t.starts_with('<') || !well_formed(&t.to_uppercase()));
        stale.insert(wp.clone(), json!(bad));
        reasons.insert(
            wp.clone(),
            json!({"malformed": malformed, "unknown_spec_id": unknown}),
        );
    }
    if stale.is_empty() {
        return Ok(());
    }
    Err(TasksError::StaleRefs {
        stale,
        reasons,
        parsed: declared.iter().cloned().collect(),
    })
}

/// Coverage of the functional requirements by `refs` (every work package's, after the write):
/// (total, mapped, unmapped sorted).
pub fn coverage(
    refs: &BTreeMap<String, Vec<String>>,
    functional: &[String],
) -> (usize, usize, Vec<String>) {
    let covered: BTreeSet<&String> = refs.values().flatten().collect();
    let unmapped: Vec<String> = functional
        .iter()
        .filter(|f| !covered.contains(f))
        .cloned()
        .collect();
    (
        functional.len(),
        functional.len() - unmapped.len(),
        unmapped,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(e: TasksError) -> String {
        format!("{} {e}", e.code())
    }

    #[test]
    fn the_modes_are_decided_in_the_reference_s_order() {
        let t = vec!["#1".to_string()];
        assert!(
            msg(mode(Some("WP01"), None, Some("{}"), &[]).unwrap_err()).contains("--batch cannot")
        );
        assert!(msg(mode(None, None, Some("{}"), &t).unwrap_err()).contains("--tracker-ref needs"));
        assert!(msg(mode(None, None, None, &t).unwrap_err()).contains("--tracker-ref needs"));
        assert_eq!(mode(Some("wp01"), None, None, &t).unwrap(), Mode::Tracker);
        assert!(
            msg(mode(Some("WP01"), Some(""), None, &[]).unwrap_err()).contains("nothing to map")
        );
        assert_eq!(
            mode(Some("wp01"), Some(","), None, &[]).unwrap(),
            Mode::Refs(vec![("WP01".into(), vec![])])
        );
        assert_eq!(
            mode(Some("wp01"), Some(" fr-1 ,,FR-2"), None, &[]).unwrap(),
            Mode::Refs(vec![("WP01".into(), vec!["FR-1".into(), "FR-2".into()])])
        );
        assert_eq!(
            mode(None, Some(""), Some("x"), &[]).unwrap(),
            Mode::Batch("x".into())
        );
    }

    #[test]
    fn a_batch_keeps_its_order_and_a_repeated_key_takes_the_last_value() {
        let b = parse_batch(r#"{"wp02": ["fr-1"], "WP01": [], "wp02": ["FR-2"]}"#).unwrap();
        assert_eq!(
            b,
            vec![
                ("WP02".into(), vec!["FR-2".into()]),
                ("WP01".into(), vec![])
            ]
        );
        for bad in [
            "{bad",
            "[\"a\"]",
            "3",
            r#"{"WP01": "FR-001"}"#,
            r#"{"WP01": [1]}"#,
        ] {
            assert_eq!(
                parse_batch(bad).unwrap_err().code(),
                "INVALID_BATCH",
                "{bad}"
            );
        }
        assert!(
            parse_batch(r#"{"wp01": "x"}"#)
                .unwrap_err()
                .to_string()
                .contains("wp01")
        );
    }

    #[test]
    fn gates_merge_stale_tokens_and_coverage() {
        let declared: BTreeSet<String> = ["C-001", "FR-001", "FR-002"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let m = vec![(
            "WP01".to_string(),
            vec!["FR-1A".into(), "SC-001".into(), "FR-009".into()],
        )];
        match gate(&m, &declared).unwrap_err() {
            TasksError::MalformedRefs { refs } => assert_eq!(refs, ["FR-1A", "SC-001"]),
            e => panic!("{e}"),
        }
        let m = vec![(
            "WP01".to_string(),
            vec!["FR-009".into(), "NFR-7".into(), "FR-009".into()],
        )];
        match gate(&m, &declared).unwrap_err() {
            TasksError::UnknownRefs { refs, .. } => assert_eq!(refs, ["FR-009", "NFR-7"]),
            e => panic!("{e}"),
        }
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            merge(&s(&["FR-002"]), &s(&["FR-001"]), &s(&["C-001"]), false),
            s(&["FR-001", "FR-002"])
        );
        assert_eq!(
            merge(&s(&["FR-002"]), &[], &s(&["C-001"]), false),
            s(&["C-001", "FR-002"])
        );
        assert_eq!(
            merge(&s(&["FR-002", "FR-002"]), &s(&["FR-001"]), &[], true),
            s(&["FR-002"])
        );
        let y: serde_yaml_ng::Value =
            serde_yaml_ng::from_str("[FR-009, 'fr-1a FR-001', 7]").unwrap();
        let toks = raw_tokens(Some(&y));
        assert_eq!(toks, s(&["FR-009", "fr-1a", "FR-001", "<NON_STRING:7>"]));
        let mut all = BTreeMap::new();
        all.insert("WP02".to_string(), toks);
        match stale(&all, &declared).unwrap_err() {
            TasksError::StaleRefs { stale, reasons, .. } => {
                assert_eq!(stale["WP02"], json!(["<NON_STRING:7>", "FR-009", "fr-1a"]));
                assert_eq!(reasons["WP02"]["unknown_spec_id"], json!(["FR-009"]));
            }
            e => panic!("{e}"),
        }
        let mut refs = BTreeMap::new();
        refs.insert("WP01".to_string(), s(&["FR-002"]));
        assert_eq!(
            coverage(&refs, &s(&["FR-001", "FR-002"])),
            (2, 1, s(&["FR-001"]))
        );
    }
}
