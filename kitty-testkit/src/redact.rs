//! Named redactions: a JSON document with what changes from run to run (the sandbox's path, ids,
//! times, commit hashes) replaced by a placeholder that names it, so a whole document can be
//! pinned in one snapshot ([`assert_json_snapshot!`](crate::assert_json_snapshot), feature
//! `snapshots`).

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

/// A ULID (26 Crockford base-32 characters), as mission and event ids are.
static ULID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b[0-7][0-9A-HJKMNP-TV-Z]{25}\b").expect("a valid pattern"));
/// A UUID.
static UUID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
        .expect("a valid pattern")
});
/// An RFC 3339 time (fractions and offset optional).
static TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?")
        .expect("a valid pattern")
});
/// A full git commit hash.
static SHA: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b[0-9a-f]{40}\b").expect("a valid pattern"));

/// What [`Redactions::apply`] replaces, in this order, and with which placeholder:
///
/// | placeholder | what |
/// |---|---|
/// | `[sandbox]` | the home's sandbox path (the rest of a path under it is kept) |
/// | `[uuid]` | a UUID |
/// | `[ulid]` | a ULID (mission ids, event ids) |
/// | `[time]` | an RFC 3339 time |
/// | `[sha]` | a 40-character commit hash |
///
/// plus the values at the JSON pointers named with [`at`](Self::at). Object keys are kept.
///
/// ```
/// let home = kitty_testkit::IsolatedHome::new();
/// let doc = serde_json::json!({
///     "mission_id": "01M91NK6ZQ3V8Y2E5R7T9W0XAB",
///     "created_at": "2026-12-04T18:00:07.217647+00:00",
///     "dir": home.path().join("repo/kitty-specs").display().to_string(),
///     "count": 3,
/// });
/// let redacted = home.redactions().at("/count", "[count]").apply(&doc);
/// assert_eq!(redacted, serde_json::json!({
///     "mission_id": "[ulid]",
///     "created_at": "[time]",
///     "dir": "[sandbox]/repo/kitty-specs",
///     "count": "[count]",
/// }));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Redactions {
    sandbox: Option<String>,
    pointers: Vec<(String, String)>,
}

impl Redactions {
    /// The pattern redactions only (no sandbox path).
    pub fn new() -> Self {
        Self::default()
    }

    /// Also replace this directory's path (wherever it appears in a string) by `[sandbox]`.
    pub fn sandbox(mut self, dir: &std::path::Path) -> Self {
        self.sandbox = Some(dir.display().to_string());
        self
    }

    /// Replace the value at this JSON pointer (RFC 6901, as [`JsonDoc`](crate::JsonDoc) takes)
    /// by the placeholder `name`; a pointer that names nothing is left alone.
    pub fn at(mut self, pointer: &str, name: &str) -> Self {
        self.pointers.push((pointer.to_string(), name.to_string()));
        self
    }

    /// `doc` with every redaction applied.
    pub fn apply(&self, doc: &Value) -> Value {
        let mut out = doc.clone();
        for (pointer, name) in &self.pointers {
            if let Some(v) = out.pointer_mut(pointer) {
                *v = Value::String(name.clone());
            }
        }
        self.walk(&mut out);
        out
    }

    fn walk(&self, v: &mut Value) {
        match v {
            Value::String(s) => *s = self.text(s),
            Value::Array(a) => a.iter_mut().for_each(|x| self.walk(x)),
            Value::Object(o) => o.values_mut().for_each(|x| self.walk(x)),
            _ => {}
        }
    }

    /// One string with every pattern replaced.
    pub fn text(&self, s: &str) -> String {
        let mut s = match &self.sandbox {
            Some(dir) if !dir.is_empty() => s.replace(dir.as_str(), "[sandbox]"),
            _ => s.to_string(),
        };
        for (re, name) in [
            (&*UUID, "[uuid]"),
            (&*ULID, "[ulid]"),
            (&*TIME, "[time]"),
            (&*SHA, "[sha]"),
        ] {
            if re.is_match(&s) {
                s = re.replace_all(&s, name).into_owned();
            }
        }
        s
    }
}

impl crate::IsolatedHome {
    /// The named redactions for documents of runs in this home: its sandbox path, and every
    /// pattern of [`Redactions`].
    pub fn redactions(&self) -> Redactions {
        Redactions::new().sandbox(self.path())
    }
}

/// Assert that a JSON document, redacted, matches its insta snapshot (feature `snapshots`):
/// `assert_json_snapshot!(redactions, doc)` or `assert_json_snapshot!("name", redactions, doc)`,
/// where `doc` is a `&serde_json::Value` (`run.json().value()`). Review and accept changes with
/// insta's tooling (`cargo insta review`); a changed document fails with insta's diff.
///
/// In a test, with `kitty-testkit = { ..., features = ["snapshots"] }`:
/// `kitty_testkit::assert_json_snapshot!(home.redactions(), run.json().value());` (the example
/// plugin's tests, `examples/kitty-plugin-whoami/tests/whoami.rs`, do this).
#[cfg(feature = "snapshots")]
#[macro_export]
macro_rules! assert_json_snapshot {
    ($redactions:expr, $doc:expr $(,)?) => {
        $crate::insta::assert_json_snapshot!($redactions.apply($doc))
    };
    ($name:expr, $redactions:expr, $doc:expr $(,)?) => {
        $crate::insta::assert_json_snapshot!($name, $redactions.apply($doc))
    };
}

#[cfg(test)]
mod tests {
    use super::Redactions;
    use serde_json::json;

    #[test]
    fn each_pattern_has_its_name_and_keys_and_other_values_stay() {
        let doc = json!({
            "01M91NK6ZQ3V8Y2E5R7T9W0XAB": "kept key",
            "ids": ["01M91NK6ZQ3V8Y2E5R7T9W0XAB", "5f0c8c1e-1111-4222-8333-444455556666"],
            "at": "2026-12-04T18:00:07Z and 2026-12-04 18:00:07",
            "commit": "0123456789abcdef0123456789abcdef01234567",
            "path": "/tmp/sb-1/repo",
            "n": 7,
            "plain": "WP01 T001 abc",
        });
        let out = Redactions::new()
            .sandbox(std::path::Path::new("/tmp/sb-1"))
            .apply(&doc);
        assert_eq!(
            out,
            json!({
                "01M91NK6ZQ3V8Y2E5R7T9W0XAB": "kept key",
                "ids": ["[ulid]", "[uuid]"],
                "at": "[time] and [time]",
                "commit": "[sha]",
                "path": "[sandbox]/repo",
                "n": 7,
                "plain": "WP01 T001 abc",
            })
        );
        // An empty sandbox path redacts nothing (it would match between every character).
        assert_eq!(
            Redactions::new()
                .sandbox(std::path::Path::new(""))
                .text("abc"),
            "abc"
        );
        let pinned = Redactions::new()
            .at("/n", "[n]")
            .at("/absent", "[x]")
            .apply(&doc);
        assert_eq!(pinned["n"], "[n]");
        assert!(pinned.get("absent").is_none());
    }
}
