//! The row-aware three-way merges of `acceptance-matrix.json` and `issue-matrix.json`
//! (**interop**: the reference's `merge-driver-acceptance-matrix` and
//! `merge-driver-issue-matrix`, their rules and the bytes they write). Rows are matched by
//! identity (a criterion's or invariant's id; an issue's canonical reference), each field merged
//! against the base; a field both sides changed differently becomes a conflict-marker string, so
//! the file stays JSON and the merge goes on.

use std::collections::BTreeMap;
use std::path::Path;

use indexmap::IndexMap;

use super::DriverError;
use crate::mission::execution::acceptance_verdict::{SCAFFOLD, VERDICTS};
use crate::pyfmt::Py;

type Row = IndexMap<String, Py>;

const NULL: Py = Py::Null;

/// Python's `==` on two JSON values: numbers by value (`1 == 1.0`, `True == 1`), objects
/// whatever their key order.
fn py_eq(a: &Py, b: &Py) -> bool {
    let num = |p: &Py| match p {
        Py::Bool(b) => Some(f64::from(u8::from(*b))),
        Py::Number(n) => n.as_f64(),
        _ => None,
    };
    match (a, b) {
        (Py::Null, Py::Null) => true,
        // Two integers exactly (Python's are unbounded; an f64 holds 2^53 exactly).
        (Py::Number(x), Py::Number(y)) if !x.is_f64() && !y.is_f64() => x == y,
        (Py::Bool(_) | Py::Number(_), Py::Bool(_) | Py::Number(_)) => num(a) == num(b),
        (Py::String(x), Py::String(y)) => x == y,
        (Py::Array(x), Py::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| py_eq(p, q))
        }
        (Py::Object(x), Py::Object(y)) => rows_eq(x, y),
        _ => false,
    }
}

fn rows_eq(x: &Row, y: &Row) -> bool {
    x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| py_eq(v, w)))
}

/// Python's `str()` of a value (`None` for null, the text of a string).
fn py_str(v: &Py) -> String {
    match v {
        Py::String(s) => s.clone(),
        other => crate::pyfmt::python_repr(&other.to_value()),
    }
}

/// One side's document: a missing or blank file is `{}`; anything but an object is refused.
pub(crate) fn document(text: &str, path: &Path) -> Result<Row, DriverError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Row::new());
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        DriverError(format!(
            "{}: not valid JSON ({})",
            path.display(),
            crate::pyfmt::python_json_error(&e, text)
        ))
    })?;
    // Parsed again, keeping the keys' written order (a `Value` sorts them).
    match (value.is_object(), serde_json::from_str::<Py>(text)) {
        (true, Ok(Py::Object(m))) => Ok(m),
        _ => Err(DriverError(format!(
            "{}: matrix document is not a JSON object",
            path.display()
        ))),
    }
}

/// A field both sides changed differently: both values, marked as git marks a conflict.
fn conflict(ours: &Py, theirs: &Py) -> Py {
    let dump = |p: &Py| crate::pyfmt::to_python_json(p).unwrap_or_default();
    Py::String(
        [
            "<<<<<<< ours",
            &dump(ours),
            "=======",
            &dump(theirs),
            ">>>>>>> theirs",
        ]
        .join("\n"),
    )
}

/// One field, three ways: the same on both sides, else the side that changed it, else a
/// conflict (an absent field reads as null).
fn merge_field(base: &Py, ours: &Py, theirs: &Py) -> Py {
    if py_eq(ours, theirs) || py_eq(theirs, base) {
        ours.clone()
    } else if py_eq(ours, base) {
        theirs.clone()
    } else {
        conflict(ours, theirs)
    }
}

/// Every field of a row that both sides hold differently (base fields first, then ours, then
/// theirs).
fn merge_fields(base: Option<&Row>, ours: &Row, theirs: &Row) -> Row {
    let empty = Row::new();
    let base = base.unwrap_or(&empty);
    let mut out = Row::new();
    for name in base.keys().chain(ours.keys()).chain(theirs.keys()) {
        if out.contains_key(name) {
            continue;
        }
        let field = |r: &Row| r.get(name).unwrap_or(&NULL).clone();
        let merged = merge_field(&field(base), &field(ours), &field(theirs));
        out.insert(name.clone(), merged);
    }
    out
}

/// One row, three ways; `None` when it is gone (deleted on both sides, or on one side while the
/// other left it as it was).
fn reconcile(base: Option<&Row>, ours: Option<&Row>, theirs: Option<&Row>) -> Option<Row> {
    match (base, ours, theirs) {
        (_, None, None) => None,
        (None, Some(o), None) => Some(o.clone()),
        (None, None, Some(t)) => Some(t.clone()),
        (Some(b), None, Some(t)) | (Some(b), Some(t), None) => (!rows_eq(t, b)).then(|| t.clone()),
        (_, Some(o), Some(t)) if rows_eq(o, t) => Some(o.clone()),
        (b, Some(o), Some(t)) => Some(merge_fields(b, o, t)),
    }
}

/// A side's rows by canonical key: an object's entries or an array's items (objects only); two
/// different rows under one key are refused.
fn keyed(
    rows: Option<&Py>,
    key_of: &dyn Fn(&str, &Row) -> String,
) -> Result<BTreeMap<String, Row>, DriverError> {
    let items: Vec<(String, &Py)> = match rows {
        None => Vec::new(),
        Some(Py::Object(m)) => m.iter().map(|(k, v)| (k.clone(), v)).collect(),
        Some(Py::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        Some(Py::String(_)) => Vec::new(),
        Some(other) if !other.truthy() => Vec::new(),
        Some(other) => {
            return Err(DriverError(format!(
                "matrix rows must be a list or an object, not {}",
                crate::pyfmt::python_type(&other.to_value())
            )));
        }
    };
    let mut out: BTreeMap<String, Row> = BTreeMap::new();
    for (raw, row) in items {
        let Py::Object(row) = row else { continue };
        let key = key_of(&raw, row);
        if out.get(&key).is_some_and(|seen| !rows_eq(seen, row)) {
            return Err(DriverError(format!(
                "intra-side duplicate row key {}: two distinct rows on one side normalize to the same canonical key; refusing to silently collapse either",
                crate::pyfmt::python_repr(&serde_json::Value::String(key))
            )));
        }
        out.insert(key, row.clone());
    }
    Ok(out)
}

/// A row collection merged three ways, in canonical-key order.
fn merged_rows(
    field: &str,
    docs: [&Row; 3],
    key_of: &dyn Fn(&str, &Row) -> String,
) -> Result<BTreeMap<String, Row>, DriverError> {
    let [base, ours, theirs] = docs.map(|d| keyed(d.get(field), key_of));
    let (base, ours, theirs) = (base?, ours?, theirs?);
    let mut keys: Vec<&String> = base
        .keys()
        .chain(ours.keys())
        .chain(theirs.keys())
        .collect();
    keys.sort();
    keys.dedup();
    Ok(keys
        .into_iter()
        .filter_map(|k| {
            reconcile(base.get(k), ours.get(k), theirs.get(k)).map(|row| (k.clone(), row))
        })
        .collect())
}

/// `#1726`, `GH-1726` and `1726` are one issue: `#` and the trailing digits; a reference with
/// no trailing digits is its own canonical form.
fn issue_key(raw: &str) -> String {
    let raw = raw.trim();
    let digits = regex::Regex::new(r"(\d+)\s*$").expect("a valid pattern");
    match digits.captures(raw) {
        Some(c) => format!("#{}", &c[1]),
        None => raw.to_string(),
    }
}

/// The merged `issue-matrix.json` (schema 1, keys sorted at every depth).
pub(crate) fn issue_matrix(docs: [&Row; 3]) -> Result<String, DriverError> {
    let rows = merged_rows("rows", docs, &|raw, _| issue_key(raw))?;
    let doc = serde_json::json!({"schema_version": 1, "rows": rows});
    Ok(crate::pyfmt::to_python_json_pretty(&doc).unwrap_or_default() + "\n")
}

/// A criterion's fields and their defaults, in the reference's order.
const CRITERION: [(&str, Option<&str>); 8] = [
    ("criterion_id", None),
    ("description", None),
    ("proof_type", None),
    ("evidence", Some("null")),
    ("pass_fail", Some("pending")),
    ("verified_by", Some("null")),
    ("verified_at", Some("null")),
    ("notes", Some("null")),
];

/// A negative invariant's fields and their defaults; the five optional ones are left out when
/// null, and the default provenance origin is left out.
const INVARIANT: [(&str, Option<&str>); 12] = [
    ("invariant_id", None),
    ("description", None),
    ("verification_method", None),
    ("verification_command", Some("null")),
    ("result", Some("pending")),
    ("evidence", Some("null")),
    ("scope", Some("omit")),
    ("verified_ref", Some("omit")),
    ("verified_surface_kind", Some("omit")),
    ("deferred_reason", Some("omit")),
    ("deferred_to_phase", Some("omit")),
    ("provenance_origin", Some(LEGACY_ORIGIN)),
];

const LEGACY_ORIGIN: &str = "legacy_unrecorded";

/// A row in its model's shape: the model's fields in order (required ones refused when absent,
/// defaults filled), then the row's other fields in their order.
fn shaped(
    row: &Row,
    fields: &[(&str, Option<&str>)],
    section: &str,
    index: usize,
) -> Result<Row, DriverError> {
    let mut out = Row::new();
    for (name, default) in fields {
        let value = match (row.get(*name), default) {
            (Some(v), _) => v.clone(),
            (None, None) => {
                return Err(DriverError(format!(
                    "{section}[{index}]: malformed shape (missing required field '{name}')"
                )));
            }
            (None, Some("null" | "omit")) => Py::Null,
            (None, Some(text)) => Py::String((*text).to_string()),
        };
        let omitted = match (default, &value) {
            (Some("omit"), Py::Null) => true,
            (Some(LEGACY_ORIGIN), Py::String(s)) => s == LEGACY_ORIGIN,
            _ => false,
        };
        if !omitted {
            out.insert((*name).to_string(), value);
        }
    }
    for (k, v) in row {
        if !fields.iter().any(|(name, _)| name == k) {
            out.insert(k.clone(), v.clone());
        }
    }
    Ok(out)
}

/// The results a negative invariant may hold.
const INVARIANT_RESULTS: [&str; 5] = [
    "confirmed_absent",
    "still_present",
    "verification_error",
    "pending",
    "deferred_to_consolidation",
];

/// A matrix's `overall_verdict`: `fail` on a failed or unknown result, `pending` while a real
/// criterion (or, with none real, any) or an invariant is pending, `pass_pending_consolidation`
/// while an invariant is deferred, else `pass` (`pending` with nothing to judge). Each criterion
/// is its verdict (`None`: not a string) and whether it is the scaffold's placeholder.
pub(crate) fn overall_verdict(
    criteria: &[(Option<&str>, bool)],
    invariants: &[Option<&str>],
) -> &'static str {
    if criteria.is_empty() && invariants.is_empty() {
        return "pending";
    }
    let known = |v: &Option<&str>, set: &[&str]| v.is_some_and(|v| set.contains(&v));
    if criteria.iter().any(|(v, _)| !known(v, &VERDICTS))
        || invariants.iter().any(|v| !known(v, &INVARIANT_RESULTS))
        || criteria.iter().any(|(v, _)| *v == Some("fail"))
        || invariants
            .iter()
            .any(|v| matches!(v, Some("still_present" | "verification_error")))
    {
        return "fail";
    }
    let real: Vec<Option<&str>> = criteria.iter().filter(|c| !c.1).map(|c| c.0).collect();
    let counted = if real.is_empty() {
        criteria.iter().map(|c| c.0).collect()
    } else {
        real
    };
    if counted
        .iter()
        .chain(invariants)
        .any(|v| *v == Some("pending"))
    {
        "pending"
    } else if invariants.contains(&Some("deferred_to_consolidation")) {
        "pass_pending_consolidation"
    } else {
        "pass"
    }
}

/// The mission's identity as the matrix writes it: the slug trimmed; the number as text (else
/// the slug's numeric prefix, else empty); the type as text.
fn identity(slug: &Py, number: &Py, mission_type: &Py) -> [(String, Py); 3] {
    let slug = py_str(slug).trim().to_string();
    let mut n = match number {
        Py::Bool(_) => py_str(number),
        Py::Number(x) if !x.is_f64() => x.to_string(),
        other if other.truthy() => py_str(other).trim().to_string(),
        _ => String::new(),
    };
    if n.is_empty() {
        n = crate::mission::execution::next::number_from_slug(&slug);
    }
    let t = if mission_type.truthy() {
        py_str(mission_type).trim().to_string()
    } else {
        String::new()
    };
    [
        ("mission_slug".into(), Py::String(slug)),
        ("mission_number".into(), Py::String(n)),
        ("mission_type".into(), Py::String(t)),
    ]
}

/// The merged `acceptance-matrix.json`: identity from ours (else theirs, the slug else base),
/// the rows merged, each in its model's shape, the verdict computed from them.
pub(crate) fn acceptance_matrix(docs: [&Row; 3]) -> Result<String, DriverError> {
    let [base, ours, theirs] = docs;
    let pick = |name: &str| {
        let o = ours.get(name).unwrap_or(&NULL);
        let empty = matches!(o, Py::Null) || matches!(o, Py::String(s) if s.is_empty());
        if empty {
            theirs.get(name).unwrap_or(&NULL).clone()
        } else {
            o.clone()
        }
    };
    let mut slug = pick("mission_slug");
    if matches!(&slug, Py::Null) || matches!(&slug, Py::String(s) if s.is_empty()) {
        slug = base
            .get("mission_slug")
            .cloned()
            .unwrap_or(Py::String(String::new()));
    }
    let by_field = |field: &'static str| {
        move |_: &str, row: &Row| row.get(field).map(py_str).unwrap_or_default()
    };
    let criteria = merged_rows("criteria", docs, &by_field("criterion_id"))?;
    let invariants = merged_rows("negative_invariants", docs, &by_field("invariant_id"))?;
    let criteria: Vec<Row> = criteria
        .values()
        .enumerate()
        .map(|(i, r)| shaped(r, &CRITERION, "criteria", i))
        .collect::<Result<_, _>>()?;
    let invariants: Vec<Row> = invariants
        .values()
        .enumerate()
        .map(|(i, r)| shaped(r, &INVARIANT, "negative_invariants", i))
        .collect::<Result<_, _>>()?;
    let text = |r: &Row, k: &str| match r.get(k) {
        Some(Py::String(s)) => Some(s.clone()),
        _ => None,
    };
    let judged: Vec<(Option<String>, bool)> = criteria
        .iter()
        .map(|c| {
            let scaffold = text(c, "description").as_deref() == Some(SCAFFOLD);
            (text(c, "pass_fail"), scaffold)
        })
        .collect();
    let results: Vec<Option<String>> = invariants.iter().map(|i| text(i, "result")).collect();
    let verdict = overall_verdict(
        &judged
            .iter()
            .map(|(v, s)| (v.as_deref(), *s))
            .collect::<Vec<_>>(),
        &results.iter().map(Option::as_deref).collect::<Vec<_>>(),
    );
    let mut out = Row::new();
    for (k, v) in identity(&slug, &pick("mission_number"), &pick("mission_type")) {
        out.insert(k, v);
    }
    out.insert("overall_verdict".into(), Py::String(verdict.into()));
    out.insert(
        "criteria".into(),
        Py::Array(criteria.into_iter().map(Py::Object).collect()),
    );
    out.insert(
        "negative_invariants".into(),
        Py::Array(invariants.into_iter().map(Py::Object).collect()),
    );
    Ok(crate::pyfmt::to_python_json_pretty(&Py::Object(out)).unwrap_or_default() + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Row {
        document(text, Path::new("x")).unwrap()
    }

    #[test]
    fn a_field_is_the_side_that_changed_it_or_a_conflict_when_both_did() {
        let [b, one, two] = [Py::Null, Py::String("a".into()), Py::String("b".into())];
        assert!(py_eq(&merge_field(&b, &one, &b), &one));
        assert!(py_eq(&merge_field(&b, &b, &two), &two));
        assert!(py_eq(&merge_field(&b, &one, &one), &one));
        let Py::String(marker) = merge_field(&b, &one, &two) else {
            panic!("a conflict is a string")
        };
        assert_eq!(
            marker,
            "<<<<<<< ours\n\"a\"\n=======\n\"b\"\n>>>>>>> theirs"
        );
    }

    #[test]
    fn numbers_and_booleans_compare_as_python_s_do_and_objects_ignore_key_order() {
        let n = |t: &str| serde_json::from_str::<Py>(t).unwrap();
        assert!(py_eq(&n("1"), &n("1.0")));
        assert!(py_eq(&n("true"), &n("1")));
        assert!(!py_eq(&n("true"), &n("2")));
        assert!(!py_eq(&n("\"1\""), &n("1")));
        assert!(py_eq(&n(r#"{"a": 1, "b": 2}"#), &n(r#"{"b": 2, "a": 1}"#)));
        assert!(!py_eq(&n(r#"{"a": 1}"#), &n(r#"{"a": 1, "b": 2}"#)));
        assert!(!py_eq(&n("[1, 2]"), &n("[2, 1]")));
        assert!(py_eq(&n("[1, [2]]"), &n("[1.0, [2]]")));
        assert!(!py_eq(&n("[1]"), &n("[1, 2]")));
        assert!(!py_eq(&n("false"), &n("true")));
        assert!(py_eq(&n("false"), &n("false")));
        assert!(!py_eq(&n("9007199254740993"), &n("9007199254740992")));
        assert!(!py_eq(&n("null"), &n("0")));
    }

    #[test]
    fn a_row_deleted_on_one_side_stays_deleted_unless_the_other_changed_it() {
        let (b, changed) = (doc(r#"{"x": 1}"#), doc(r#"{"x": 2}"#));
        assert!(reconcile(Some(&b), None, Some(&b)).is_none());
        assert!(reconcile(Some(&b), Some(&b), None).is_none());
        assert!(rows_eq(
            &reconcile(Some(&b), None, Some(&changed)).unwrap(),
            &changed
        ));
        assert!(rows_eq(
            &reconcile(None, None, Some(&changed)).unwrap(),
            &changed
        ));
        assert!(reconcile(None, None, None).is_none());
        // The same on both sides: that row as it is (a field both dropped stays dropped).
        let both = doc(r#"{"y": 2}"#);
        let kept = reconcile(Some(&doc(r#"{"x": 1, "y": 2}"#)), Some(&both), Some(&both)).unwrap();
        assert_eq!(kept.keys().collect::<Vec<_>>(), ["y"]);
    }

    #[test]
    fn issue_references_are_canonical_by_their_trailing_digits() {
        assert_eq!(issue_key("GH-1726"), "#1726");
        assert_eq!(issue_key(" 1726 "), "#1726");
        assert_eq!(issue_key("#1726"), "#1726");
        assert_eq!(issue_key("epic"), "epic");
    }

    #[test]
    fn the_verdict_fails_on_any_failure_and_waits_on_any_real_pending_row() {
        let s = Some;
        assert_eq!(overall_verdict(&[], &[]), "pending");
        assert_eq!(overall_verdict(&[(s("pass"), false)], &[]), "pass");
        assert_eq!(overall_verdict(&[(None, false)], &[]), "fail");
        assert_eq!(overall_verdict(&[(s("maybe"), false)], &[]), "fail");
        assert_eq!(
            overall_verdict(&[(s("pass"), false), (s("pending"), true)], &[]),
            "pass"
        );
        assert_eq!(overall_verdict(&[(s("pending"), true)], &[]), "pending");
        assert_eq!(overall_verdict(&[], &[s("still_present")]), "fail");
        assert_eq!(overall_verdict(&[], &[s("pending")]), "pending");
        assert_eq!(
            overall_verdict(&[(s("pass"), false)], &[s("deferred_to_consolidation")]),
            "pass_pending_consolidation"
        );
        assert_eq!(overall_verdict(&[], &[s("confirmed_absent")]), "pass");
    }

    #[test]
    fn a_document_keeps_its_key_order_and_refuses_what_is_not_an_object() {
        let d = doc(r#"{"z": 1, "a": {"y": 2, "b": 3}}"#);
        assert_eq!(d.keys().collect::<Vec<_>>(), ["z", "a"]);
        assert!(doc("  ").is_empty());
        assert!(
            document("[1]", Path::new("x"))
                .unwrap_err()
                .0
                .contains("not a JSON object")
        );
        assert!(
            document("{", Path::new("x"))
                .unwrap_err()
                .0
                .contains("not valid JSON")
        );
    }

    #[test]
    fn rows_must_be_a_list_or_an_object_and_one_id_holds_one_row() {
        let key = |_: &str, r: &Row| r.get("id").map(py_str).unwrap_or_default();
        let rows = |t: &str| serde_json::from_str::<Py>(t).unwrap();
        assert!(keyed(Some(&rows("5")), &key).is_err());
        assert!(keyed(Some(&rows("0")), &key).unwrap().is_empty());
        assert!(keyed(Some(&rows("\"ab\"")), &key).unwrap().is_empty());
        let same = keyed(Some(&rows(r#"[{"id": 1}, {"id": 1}, 7]"#)), &key).unwrap();
        assert_eq!(same.keys().collect::<Vec<_>>(), ["1"]);
        let err = keyed(Some(&rows(r#"[{"id": 1}, {"id": 1, "x": 2}]"#)), &key).unwrap_err();
        assert!(err.0.contains("duplicate row key '1'"), "{err}");
    }

    #[test]
    fn a_row_takes_its_model_s_shape_defaults_and_omissions() {
        let r = doc(
            r#"{"zz": 1, "invariant_id": "N", "description": "d", "verification_method": "v", "scope": null, "provenance_origin": "legacy_unrecorded"}"#,
        );
        let shaped = shaped(&r, &INVARIANT, "negative_invariants", 0).unwrap();
        assert_eq!(
            shaped.keys().collect::<Vec<_>>(),
            [
                "invariant_id",
                "description",
                "verification_method",
                "verification_command",
                "result",
                "evidence",
                "zz"
            ]
        );
        let missing = shaped_err(r#"{"criterion_id": "A"}"#);
        assert_eq!(
            missing,
            "criteria[3]: malformed shape (missing required field 'description')"
        );
    }

    fn shaped_err(text: &str) -> String {
        shaped(&doc(text), &CRITERION, "criteria", 3).unwrap_err().0
    }

    #[test]
    fn identity_takes_the_number_as_text_or_the_slug_s_prefix() {
        let p = |t: &str| serde_json::from_str::<Py>(t).unwrap();
        let text = |slug: &str, n: &str, t: &str| {
            identity(&p(slug), &p(n), &p(t)).map(|(_, v)| py_str(&v))
        };
        assert_eq!(text(r#"" 042-m ""#, "null", "null"), ["042-m", "42", ""]);
        assert_eq!(text(r#""m""#, "7", r#"" sd ""#), ["m", "7", "sd"]);
        assert_eq!(text(r#""m""#, "true", "true"), ["m", "True", "True"]);
        assert_eq!(text(r#""m""#, "false", "false"), ["m", "False", ""]);
        assert_eq!(text(r#""m""#, "0", "1.5"), ["m", "0", "1.5"]);
        assert_eq!(text(r#""m""#, "0.0", "0"), ["m", "", ""]);
        assert_eq!(text(r#""m""#, r#"" 7 ""#, r#""""#), ["m", "7", ""]);
        assert_eq!(text(r#""m""#, "[1]", "[]"), ["m", "[1]", ""]);
        assert_eq!(text(r#""m""#, "[]", "{}"), ["m", "", ""]);
    }

    #[test]
    fn identity_falls_back_from_an_empty_ours_and_the_scaffold_row_does_not_hold_the_verdict() {
        let merged = |b: &str, o: &str, t: &str| {
            let v: serde_json::Value =
                serde_json::from_str(&acceptance_matrix([&doc(b), &doc(o), &doc(t)]).unwrap())
                    .unwrap();
            v
        };
        let v = merged(
            r#"{"mission_slug": "b"}"#,
            r#"{"mission_slug": "", "mission_type": ""}"#,
            r#"{"mission_type": "sd"}"#,
        );
        assert_eq!(v["mission_slug"], "b");
        assert_eq!(v["mission_type"], "sd");
        let v = merged(
            "{}",
            r#"{"mission_slug": null}"#,
            r#"{"mission_slug": "t"}"#,
        );
        assert_eq!(v["mission_slug"], "t");
        let v = merged("{}", r#"{"mission_slug": "o"}"#, r#"{"mission_slug": "t"}"#);
        assert_eq!(v["mission_slug"], "o");
        let row = |id: &str, d: &str, verdict: &str| {
            format!(
                r#"{{"criterion_id": "{id}", "description": "{d}", "proof_type": "p", "pass_fail": "{verdict}"}}"#
            )
        };
        let rows = format!(
            r#"{{"mission_slug": "m", "criteria": [{}, {}]}}"#,
            row("AC-001", SCAFFOLD, "pending"),
            row("FR-001", "real", "pass")
        );
        assert_eq!(merged("{}", &rows, "{}")["overall_verdict"], "pass");
    }
}
