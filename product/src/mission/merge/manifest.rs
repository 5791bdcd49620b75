//! `lanes.json` as the merge's forecast reads it (**interop**: the keys the reference's model
//! requires, in its order, and Python's words when one is missing or malformed).

use std::path::Path;

use serde_json::{Value, json};

use crate::pyfmt::{python_json_error, python_type};

/// One lane as the reference's model keeps it.
#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub(super) struct LaneDoc {
    pub(super) lane_id: Value,
    pub(super) wp_ids: Vec<Value>,
    pub(super) write_scope: Vec<Value>,
    predicted_surfaces: Vec<Value>,
    depends_on_lanes: Vec<Value>,
    pub(super) parallel_group: Value,
}
/// `lanes.json` of the primary checkout: its `mission_branch` and its lanes with the six keys
/// the reference's model keeps, or the reference's sentence for a missing or malformed file.
pub(super) fn read_lanes(dir: &Path) -> Result<(Value, Vec<LaneDoc>), (&'static str, String)> {
    let path = dir.join("lanes.json");
    let text = match std::fs::read(&path) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|e| corrupt(&path, &e.to_string()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err((
                "LANES_MISSING",
                format!(
                    "lanes.json is required for {}. Run the task-finalization step to compute execution lanes.",
                    dir.display()
                ),
            ));
        }
        Err(e) => return Err(corrupt(&path, &e.to_string())),
    };
    let doc: Value =
        serde_json::from_str(&text).map_err(|e| corrupt(&path, &python_json_error(&e, &text)))?;
    manifest(&doc).map_err(|why| corrupt(&path, &why))
}

pub(super) fn corrupt(path: &Path, why: &str) -> (&'static str, String) {
    (
        "LANES_CORRUPT",
        format!(
            "lanes.json at {} is corrupt or malformed: {why}",
            path.display()
        ),
    )
}

/// Python's `value[key]` on a JSON value: the item, or the exception's text.
pub(super) fn item<'a>(value: &'a Value, key: &str) -> Result<&'a Value, String> {
    match value {
        Value::Object(m) => m.get(key).ok_or_else(|| format!("'{key}'")),
        Value::Array(_) => Err("list indices must be integers or slices, not str".into()),
        Value::String(_) => Err("string indices must be integers, not 'str'".into()),
        other => Err(format!(
            "'{}' object is not subscriptable",
            python_type(other)
        )),
    }
}

/// Python's `list(value)`: an array as is, a string's characters, an object's keys.
pub(super) fn listed(value: &Value) -> Result<Vec<Value>, String> {
    match value {
        Value::Array(a) => Ok(a.clone()),
        Value::String(s) => Ok(s.chars().map(|c| Value::String(c.to_string())).collect()),
        Value::Object(m) => Ok(m.keys().map(|k| Value::String(k.clone())).collect()),
        other => Err(format!("'{}' object is not iterable", python_type(other))),
    }
}

/// The keys the reference's manifest requires, in the order it reads them.
pub(super) fn manifest(doc: &Value) -> Result<(Value, Vec<LaneDoc>), String> {
    item(doc, "mission_slug")?;
    if let Some(report) = doc.get("collapse_report").filter(|r| !r.is_null()) {
        for event in listed(item(report, "events")?)? {
            for key in ["wp_a", "wp_b", "rule", "evidence"] {
                item(&event, key)?;
            }
        }
    }
    for key in ["version", "mission_branch", "target_branch"] {
        item(doc, key)?;
    }
    let mut lanes = Vec::new();
    for lane in listed(item(doc, "lanes")?)? {
        let id = item(&lane, "lane_id")?.clone();
        let wp_ids = listed(item(&lane, "wp_ids")?)?;
        let list = |key: &str| -> Result<Vec<Value>, String> {
            lane.get(key).map_or(Ok(Vec::new()), listed)
        };
        lanes.push(LaneDoc {
            lane_id: id,
            wp_ids,
            write_scope: list("write_scope")?,
            predicted_surfaces: list("predicted_surfaces")?,
            depends_on_lanes: list("depends_on_lanes")?,
            parallel_group: lane.get("parallel_group").cloned().unwrap_or(json!(0)),
        });
    }
    for key in ["computed_at", "computed_from"] {
        item(doc, key)?;
    }
    Ok((doc["mission_branch"].clone(), lanes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_malformed_manifest_names_the_first_key_the_reference_misses() {
        let m = |v: Value| manifest(&v).map(|_| ()).unwrap_err();
        assert_eq!(m(json!({})), "'mission_slug'");
        assert_eq!(
            m(json!([])),
            "list indices must be integers or slices, not str"
        );
        assert_eq!(m(json!({"mission_slug": "s"})), "'version'");
        let base = json!({"mission_slug": "s", "version": 1, "mission_branch": "b",
            "target_branch": "t", "lanes": [{"lane_id": "lane-a"}]});
        assert_eq!(m(base), "'wp_ids'");
        // The collapse report's events are checked first; a null report is none.
        let report = json!({"mission_slug": "s",
            "collapse_report": {"events": [{"wp_a": "WP01"}]}});
        assert_eq!(m(report), "'wp_b'");
        let null = json!({"mission_slug": "s", "collapse_report": null});
        assert_eq!(m(null), "'version'");
        let whole = json!({"mission_slug": "s", "version": 1, "mission_branch": "b",
            "target_branch": "t", "lanes": [{"lane_id": "lane-a", "wp_ids": "WP01", "x": 1}],
            "computed_at": "", "computed_from": ""});
        let (branch, lanes) = manifest(&whole).unwrap();
        assert_eq!(branch, "b");
        assert_eq!(
            serde_json::to_value(&lanes).unwrap(),
            json!([{"lane_id": "lane-a", "wp_ids": ["W", "P", "0", "1"], "write_scope": [],
                "predicted_surfaces": [], "depends_on_lanes": [], "parallel_group": 0}])
        );
    }
}
