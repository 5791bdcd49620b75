//! Which mission a `--mission` handle names (**interop**: the reference's identity ladder — full
//! mission_id, its first 8 characters, the directory name, the name without a `NNN-` prefix, a
//! bare number — and its read path, which also accepts a slug without its `-<mid8>` tail and
//! reads a coordination mission from its materialized coordination worktree).

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use super::PlanningError;

/// A mission directory under `kitty-specs/` with a readable identity.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The directory name.
    pub slug: String,
    /// The directory in the primary checkout.
    pub dir: PathBuf,
    /// `meta.json`'s `mission_id`.
    pub mission_id: String,
    /// `meta.json` as read.
    pub meta: Value,
}

/// One mission a handle matched, as an ambiguity lists it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Candidate {
    /// Its id.
    pub mission_id: String,
    /// The id's first 8 characters.
    pub mid8: String,
    /// Its directory name.
    pub slug: String,
    /// Its directory.
    pub feature_dir: PathBuf,
}

impl From<&Entry> for Candidate {
    fn from(e: &Entry) -> Self {
        Self {
            mission_id: e.mission_id.clone(),
            mid8: e.mission_id.chars().take(8).collect(),
            slug: e.slug.clone(),
            feature_dir: e.dir.clone(),
        }
    }
}

/// What a handle resolved to.
#[derive(Debug)]
pub enum Resolved<'a> {
    /// Exactly one mission.
    One(&'a Entry),
    /// None.
    NotFound,
    /// Several.
    Ambiguous(Vec<&'a Entry>),
}

/// Every mission with an identity, in directory-name order.
#[derive(Debug, Default)]
pub struct Index {
    /// The missions.
    pub entries: Vec<Entry>,
    /// Every directory under `kitty-specs/` holding a spec.md or a meta.json (the reference's
    /// "candidates" for its detection errors), sorted.
    pub candidates: Vec<String>,
}

fn is_upper_alnum(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

/// `083-foo` → `foo`; anything else unchanged.
pub fn strip_numeric_prefix(name: &str) -> &str {
    let b = name.as_bytes();
    if b.len() >= 4 && b[..3].iter().all(u8::is_ascii_digit) && b[3] == b'-' {
        &name[4..]
    } else {
        name
    }
}

/// `greeting-cli-01M913C6` → `Some("greeting-cli")`: the name without a `-<mid8>` tail.
pub fn without_mid8(name: &str) -> Option<&str> {
    let (head, tail) = name.rsplit_once('-')?;
    (is_upper_alnum(tail, 8) && !head.is_empty()).then_some(head)
}

impl Index {
    /// Read `specs` (a `kitty-specs/` directory; absent is empty).
    pub fn load(specs: &Path) -> Self {
        let mut names: Vec<(String, PathBuf)> = match std::fs::read_dir(specs) {
            Ok(rd) => rd
                .flatten()
                .filter(|e| e.path().is_dir())
                .filter_map(|e| Some((e.file_name().into_string().ok()?, e.path())))
                .collect(),
            Err(_) => Vec::new(),
        };
        names.sort();
        let mut index = Self::default();
        for (name, dir) in names {
            let meta_path = dir.join("meta.json");
            if meta_path.is_file() || dir.join("spec.md").is_file() {
                index.candidates.push(name.clone());
            }
            let Some(meta) = std::fs::read_to_string(&meta_path)
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .filter(Value::is_object)
            else {
                continue;
            };
            let Some(id) = meta.get("mission_id").and_then(Value::as_str) else {
                continue;
            };
            if id.is_empty() {
                continue;
            }
            index.entries.push(Entry {
                slug: name,
                dir,
                mission_id: id.to_string(),
                meta,
            });
        }
        index
    }

    /// The identity ladder: the first rung that applies decides.
    pub fn resolve(&self, handle: &str) -> Resolved<'_> {
        fn pick(hits: Vec<&Entry>) -> Option<Resolved<'_>> {
            match hits.len() {
                0 => None,
                1 => Some(Resolved::One(hits[0])),
                _ => Some(Resolved::Ambiguous(hits)),
            }
        }
        let all = || self.entries.iter();
        if is_upper_alnum(handle, 26) {
            return pick(all().filter(|e| e.mission_id == handle).collect())
                .unwrap_or(Resolved::NotFound);
        }
        if is_upper_alnum(handle, 8) {
            return pick(all().filter(|e| e.mission_id.starts_with(handle)).collect())
                .unwrap_or(Resolved::NotFound);
        }
        if let Some(r) = pick(all().filter(|e| e.slug == handle).collect()) {
            return r;
        }
        let digits = !handle.is_empty() && handle.bytes().all(|b| b.is_ascii_digit());
        if !digits {
            return pick(
                all()
                    .filter(|e| strip_numeric_prefix(&e.slug) == handle)
                    .collect(),
            )
            .unwrap_or(Resolved::NotFound);
        }
        pick(
            all()
                .filter(|e| {
                    e.slug.len() >= 4
                        && e.slug.as_bytes()[3] == b'-'
                        && e.slug[..3].bytes().all(|b| b.is_ascii_digit())
                        && e.slug[..3] == *handle
                })
                .collect(),
        )
        .unwrap_or(Resolved::NotFound)
    }

    /// The strict resolution of `handle` (`agent context resolve`): not found and ambiguous are
    /// the errors the reference reports for a handle.
    pub fn strict(&self, handle: &str) -> Result<&Entry, PlanningError> {
        match self.resolve(handle) {
            Resolved::One(e) => Ok(e),
            Resolved::NotFound => Err(PlanningError::MissionNotFound {
                handle: handle.into(),
            }),
            Resolved::Ambiguous(hits) => Err(PlanningError::MissionAmbiguous {
                handle: handle.into(),
                candidates: hits.into_iter().map(Candidate::from).collect(),
                code: "ambiguous_mission_handle",
            }),
        }
    }

    /// The read-path resolution of `handle` (setup-plan, check-prerequisites): the strict ladder,
    /// after folding a slug without its `-<mid8>` tail onto the one directory that has it.
    /// `Ok(None)`: nothing matches.
    pub fn lenient(&self, specs: &Path, handle: &str) -> Result<Option<&Entry>, PlanningError> {
        check_segment(handle)?;
        let mut name = handle.to_string();
        if !specs.join(handle).join("meta.json").is_file()
            && matches!(self.resolve(handle), Resolved::NotFound)
        {
            let folded: Vec<&Entry> = self
                .entries
                .iter()
                .filter(|e| without_mid8(&e.slug) == Some(handle))
                .collect();
            if let [one] = folded.as_slice() {
                name.clone_from(&one.slug);
            }
        }
        match self.resolve(&name) {
            Resolved::One(e) => Ok(Some(e)),
            Resolved::NotFound => Ok(None),
            Resolved::Ambiguous(hits) => Err(PlanningError::MissionAmbiguous {
                handle: handle.into(),
                candidates: hits.into_iter().map(Candidate::from).collect(),
                code: "MISSION_AMBIGUOUS_SELECTOR",
            }),
        }
    }
}

/// A handle is one path segment: no separator, no `..`.
pub fn check_segment(handle: &str) -> Result<(), PlanningError> {
    if handle.contains("..") || handle.contains('/') || handle.contains('\\') {
        return Err(PlanningError::UnsafeHandle {
            handle: handle.into(),
        });
    }
    Ok(())
}

/// Where a mission's status files are read: the materialized coordination worktree's copy for a
/// coordination mission, else the primary checkout's directory.
pub fn read_dir(root: &Path, entry: &Entry) -> PathBuf {
    let topology = entry.meta.get("topology").and_then(Value::as_str);
    if matches!(topology, Some("coord" | "lanes_with_coord")) {
        let coord = root
            .join(".worktrees")
            .join(format!("{}-coord", entry.slug))
            .join("kitty-specs")
            .join(&entry.slug);
        if coord.is_dir() {
            return coord;
        }
    }
    entry.dir.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mission(specs: &Path, name: &str, id: &str) {
        let dir = specs.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("meta.json"),
            serde_json::json!({"mission_id": id, "mission_slug": name}).to_string(),
        )
        .unwrap();
    }

    fn slug(r: Resolved<'_>) -> String {
        match r {
            Resolved::One(e) => e.slug.clone(),
            Resolved::NotFound => "-".into(),
            Resolved::Ambiguous(v) => format!("{} ambiguous", v.len()),
        }
    }

    #[test]
    fn each_rung_of_the_ladder_decides_as_the_reference_does() {
        let t = tempfile::tempdir().unwrap();
        let specs = t.path();
        mission(specs, "greeting-cli-01M913C6", "01M913C6BV0FMKRDXDW24JT45V");
        mission(specs, "083-old-thing", "01M913C6ZZZZZZZZZZZZZZZZZZ");
        mission(specs, "other-01ABCDEF", "01ABCDEF00000000000000000A");
        std::fs::create_dir_all(specs.join("no-meta")).unwrap();
        std::fs::write(specs.join("no-meta/spec.md"), "x").unwrap();
        let index = Index::load(specs);
        assert_eq!(index.entries.len(), 3);
        assert_eq!(
            index.candidates,
            [
                "083-old-thing",
                "greeting-cli-01M913C6",
                "no-meta",
                "other-01ABCDEF"
            ]
        );
        assert_eq!(
            slug(index.resolve("01M913C6BV0FMKRDXDW24JT45V")),
            "greeting-cli-01M913C6"
        );
        assert_eq!(slug(index.resolve("01M913C6")), "2 ambiguous");
        assert_eq!(slug(index.resolve("01ABCDEF")), "other-01ABCDEF");
        // A lowercase mid8 is not an id: it falls through to names, and misses.
        assert_eq!(slug(index.resolve("01abcdef")), "-");
        assert_eq!(
            slug(index.resolve("greeting-cli-01M913C6")),
            "greeting-cli-01M913C6"
        );
        assert_eq!(slug(index.resolve("old-thing")), "083-old-thing");
        assert_eq!(slug(index.resolve("083")), "083-old-thing");
        assert_eq!(slug(index.resolve("84")), "-");
        // The strict ladder does not fold the mid8 tail; the read path does.
        assert_eq!(slug(index.resolve("greeting-cli")), "-");
        assert_eq!(
            index
                .lenient(specs, "greeting-cli")
                .unwrap()
                .map(|e| e.slug.clone())
                .as_deref(),
            Some("greeting-cli-01M913C6")
        );
        assert!(index.lenient(specs, "nothing").unwrap().is_none());
        // The fold applies only when the ladder finds nothing: `old-thing` is 083-old-thing's,
        // even with an `old-thing-<mid8>` beside it.
        mission(specs, "old-thing-01ABCDEG", "01ABCDEG00000000000000000B");
        mission(specs, "084-", "01ABCDEH00000000000000000C");
        let index = Index::load(specs);
        assert_eq!(
            index
                .lenient(specs, "old-thing")
                .unwrap()
                .map(|e| e.slug.clone())
                .as_deref(),
            Some("083-old-thing")
        );
        assert_eq!(slug(index.resolve("084")), "084-");
        assert!(matches!(
            index.lenient(specs, "01M913C6"),
            Err(PlanningError::MissionAmbiguous { .. })
        ));
        assert!(matches!(
            index.lenient(specs, "../etc"),
            Err(PlanningError::UnsafeHandle { .. })
        ));
        for unsafe_handle in ["a/b", "a\\b", ".."] {
            assert!(check_segment(unsafe_handle).is_err(), "{unsafe_handle}");
        }
        assert!(check_segment("a.b-c_d").is_ok());
        assert!(matches!(
            index.strict("greeting-cli"),
            Err(PlanningError::MissionNotFound { .. })
        ));
    }

    #[test]
    fn names_lose_only_a_three_digit_prefix_and_an_eight_character_tail() {
        assert_eq!(strip_numeric_prefix("083-foo"), "foo");
        assert_eq!(strip_numeric_prefix("83-foo"), "83-foo");
        assert_eq!(strip_numeric_prefix("0834-foo"), "0834-foo");
        assert_eq!(strip_numeric_prefix("083-"), "");
        assert_eq!(without_mid8("a-b-01M913C6"), Some("a-b"));
        assert_eq!(without_mid8("a-b-01m913c6"), None);
        assert_eq!(without_mid8("a-b-01M913C"), None);
        assert_eq!(without_mid8("-01M913C6"), None);
    }
}
