//! Strict JSON: stdout must be exactly one JSON object followed by one newline.

use serde_json::{Map, Value};

/// Why stdout is not exactly one JSON object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StrictJsonError {
    /// Nothing at all was printed.
    #[error("stdout is empty: expected exactly one JSON document")]
    Empty,
    /// Text that is not JSON appears before the document.
    #[error("stdout has text before the JSON document: {0:?}")]
    LeadingText(String),
    /// More than one JSON document.
    #[error("stdout holds {0} JSON documents: expected exactly one")]
    MultipleDocuments(usize),
    /// Non-JSON text after the document.
    #[error("stdout has text after the JSON document: {0:?}")]
    TrailingText(String),
    /// The document does not end with exactly one newline.
    #[error("the JSON document on stdout must be followed by exactly one newline")]
    MissingNewline,
    /// The top level is not an object.
    #[error("stdout's JSON document is {0}, not an object")]
    NotAnObject(&'static str),
    /// The text is not JSON.
    #[error("stdout is not valid JSON: {0}")]
    Invalid(String),
}

use spec_kitty::__testkit::json_kind as kind;

/// Parse `stdout` as exactly one JSON object followed by a single newline.
///
/// ```
/// use kitty_testkit::{parse_strict_json, StrictJsonError};
/// assert!(parse_strict_json("{\"result\": \"success\"}\n").is_ok());
/// assert_eq!(parse_strict_json(""), Err(StrictJsonError::Empty));
/// assert_eq!(parse_strict_json("{}\n{}\n"), Err(StrictJsonError::MultipleDocuments(2)));
/// assert_eq!(parse_strict_json("[1]\n"), Err(StrictJsonError::NotAnObject("an array")));
/// assert!(matches!(parse_strict_json("note\n{}\n"), Err(StrictJsonError::LeadingText(_))));
/// assert!(matches!(parse_strict_json("{}\ndone\n"), Err(StrictJsonError::TrailingText(_))));
/// ```
pub fn parse_strict_json(stdout: &str) -> Result<Map<String, Value>, StrictJsonError> {
    if stdout.trim().is_empty() {
        return Err(StrictJsonError::Empty);
    }
    let mut docs = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(stdout).into_iter::<Value>();
    loop {
        match stream.next() {
            None => break,
            Some(Ok(v)) => docs.push(v),
            Some(Err(e)) => {
                if docs.is_empty() {
                    let json_follows = stdout
                        .lines()
                        .skip(1)
                        .any(|l| l.trim_start().starts_with(['{', '[']));
                    return Err(if json_follows {
                        StrictJsonError::LeadingText(
                            stdout.lines().next().unwrap_or_default().into(),
                        )
                    } else {
                        StrictJsonError::Invalid(e.to_string())
                    });
                }
                let rest = stdout[stream.byte_offset()..].trim().to_string();
                return Err(StrictJsonError::TrailingText(rest));
            }
        }
    }
    if docs.len() > 1 {
        return Err(StrictJsonError::MultipleDocuments(docs.len()));
    }
    if stdout.starts_with(char::is_whitespace) {
        return Err(StrictJsonError::LeadingText(String::new()));
    }
    if !stdout.ends_with('\n') || stdout.trim_end().len() + 1 != stdout.len() {
        return Err(StrictJsonError::MissingNewline);
    }
    match docs.pop() {
        Some(Value::Object(map)) => Ok(map),
        Some(other) => Err(StrictJsonError::NotAnObject(kind(&other))),
        None => Err(StrictJsonError::Empty),
    }
}

/// A strictly parsed JSON document with pointer assertions. Every failure message shows the whole
/// run (status, stdout, stderr).
///
/// ```
/// use kitty_testkit::JsonDoc;
/// let doc = JsonDoc::parse("{\"result\": \"success\", \"n\": {\"k\": 1}}\n").unwrap();
/// doc.assert_eq("/result", "success").assert_eq("/n/k", 1);
/// assert_eq!(doc.str("/result"), "success");
/// ```
#[derive(Debug, Clone)]
pub struct JsonDoc {
    value: Value,
    context: String,
}

impl JsonDoc {
    /// Parse `stdout` strictly, with no run context.
    pub fn parse(stdout: &str) -> Result<Self, StrictJsonError> {
        Ok(Self::new(
            Value::Object(parse_strict_json(stdout)?),
            String::new(),
        ))
    }

    pub(crate) fn new(value: Value, context: String) -> Self {
        Self { value, context }
    }

    /// The whole document.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The value at a JSON pointer, if present.
    pub fn get(&self, pointer: &str) -> Option<&Value> {
        self.value.pointer(pointer)
    }

    /// The value at a JSON pointer; panics (with the run) when absent.
    #[track_caller]
    pub fn at(&self, pointer: &str) -> &Value {
        self.value.pointer(pointer).unwrap_or_else(|| {
            panic!(
                "JSON pointer {pointer} is absent from stdout's document\n{}",
                self.context
            )
        })
    }

    /// The string at a JSON pointer; panics when absent or not a string.
    #[track_caller]
    pub fn str(&self, pointer: &str) -> &str {
        let v = self.at(pointer);
        v.as_str().unwrap_or_else(|| {
            panic!(
                "JSON pointer {pointer} holds {v}, not a string\n{}",
                self.context
            )
        })
    }

    /// Assert the value at `pointer` equals `expected`.
    #[track_caller]
    pub fn assert_eq(&self, pointer: &str, expected: impl Into<Value>) -> &Self {
        let expected = expected.into();
        let actual = self.at(pointer);
        assert!(
            *actual == expected,
            "JSON pointer {pointer}: expected {expected}, found {actual}\n{}",
            self.context
        );
        self
    }

    /// Assert that `pointer` is absent.
    #[track_caller]
    pub fn assert_absent(&self, pointer: &str) -> &Self {
        if let Some(v) = self.get(pointer) {
            panic!(
                "JSON pointer {pointer} should be absent but holds {v}\n{}",
                self.context
            );
        }
        self
    }

    /// Assert the string at `pointer` is the directory name of a mission created from `slug`:
    /// `<slug>-<mid8>` (eight Crockford base32 characters of the mission id), as the product and
    /// the reference name mission directories.
    ///
    /// ```
    /// let doc = kitty_testkit::JsonDoc::parse("{\"mission_slug\": \"demo-01M8KDZK\"}\n").unwrap();
    /// doc.assert_mission_dir("/mission_slug", "demo");
    /// ```
    #[track_caller]
    pub fn assert_mission_dir(&self, pointer: &str, slug: &str) -> &Self {
        let actual = self.str(pointer);
        let ok = actual
            .strip_prefix(slug)
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|mid8| {
                mid8.len() == 8
                    && mid8
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
            });
        assert!(
            ok,
            "JSON pointer {pointer}: expected the mission directory name {slug}-<mid8>, found {actual:?}\n{}",
            self.context
        );
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expect_panic as panic_text;

    #[test]
    fn exactly_one_object_and_one_newline_is_accepted() {
        let map = parse_strict_json("{\"result\": \"success\", \"n\": [1, 2]}\n").unwrap();
        assert_eq!(map["result"], "success");
        assert_eq!(map["n"], serde_json::json!([1, 2]));
        assert!(parse_strict_json("{\n  \"pretty\": true\n}\n").is_ok());
    }

    #[test]
    fn every_other_stdout_is_rejected_with_the_reason() {
        use StrictJsonError::*;
        for (stdout, want) in [
            ("", Empty),
            (" \n\t\n", Empty),
            ("{}\n{}\n", MultipleDocuments(2)),
            ("{}{}{}\n", MultipleDocuments(3)),
            ("note\n{}\n", LeadingText("note".into())),
            ("note\n  [1]\n", LeadingText("note".into())),
            (" {}\n", LeadingText(String::new())),
            ("\n{}\n", LeadingText(String::new())),
            ("{}\ndone\n", TrailingText("done".into())),
            ("{} x \n", TrailingText("x".into())),
            ("{}", MissingNewline),
            ("{}\n\n", MissingNewline),
            ("{} \n", MissingNewline),
            ("{}\r\n", MissingNewline),
            ("[1]\n", NotAnObject("an array")),
            ("\"s\"\n", NotAnObject("a string")),
            ("7\n", NotAnObject("a number")),
            ("null\n", NotAnObject("null")),
        ] {
            assert_eq!(parse_strict_json(stdout), Err(want), "{stdout:?}");
        }
        match parse_strict_json("not json at all\n") {
            Err(Invalid(e)) => assert!(e.contains("line 1"), "{e}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(parse_strict_json("{\"a\": \n"), Err(Invalid(_))));
    }

    #[test]
    fn pointer_assertions_pass_on_a_match_and_fail_with_the_run_otherwise() {
        let doc = JsonDoc::new(
            serde_json::json!({"result": "success", "n": {"k": 1}, "slug": "demo-01M8KDZK"}),
            "----- the run -----".into(),
        );
        assert_eq!(doc.value()["n"]["k"], 1);
        assert_eq!(doc.get("/n/k"), Some(&serde_json::json!(1)));
        assert_eq!(doc.get("/missing"), None);
        assert_eq!(doc.str("/result"), "success");
        doc.assert_eq("/result", "success")
            .assert_eq("/n/k", 1)
            .assert_absent("/missing")
            .assert_mission_dir("/slug", "demo");
        for (text, want) in [
            (
                panic_text(|| {
                    doc.at("/missing");
                }),
                "JSON pointer /missing is absent from stdout's document",
            ),
            (
                panic_text(|| {
                    doc.str("/n");
                }),
                "JSON pointer /n holds {\"k\":1}, not a string",
            ),
            (
                panic_text(|| {
                    doc.assert_eq("/n/k", 2);
                }),
                "JSON pointer /n/k: expected 2, found 1",
            ),
            (
                panic_text(|| {
                    doc.assert_absent("/result");
                }),
                "JSON pointer /result should be absent but holds \"success\"",
            ),
            (
                panic_text(|| {
                    doc.assert_mission_dir("/slug", "other");
                }),
                "JSON pointer /slug: expected the mission directory name other-<mid8>, found \"demo-01M8KDZK\"",
            ),
        ] {
            assert!(text.starts_with(want), "{text}");
            assert!(text.ends_with("\n----- the run -----"), "{text}");
        }
        for bad in [
            "demo",
            "demo-",
            "demo01M8KDZK",
            "demo-01M8KDZ",
            "demo-01M8KDZKX",
            "demo-01m8kdzk",
            "demo-01M8KD-K",
        ] {
            let doc = JsonDoc::new(serde_json::json!({ "slug": bad }), String::new());
            panic_text(|| {
                doc.assert_mission_dir("/slug", "demo");
            });
        }
        assert_eq!(
            JsonDoc::parse("[]\n").unwrap_err(),
            StrictJsonError::NotAnObject("an array")
        );
        assert_eq!(
            JsonDoc::parse("{\"a\": 1}\n").unwrap().value(),
            &serde_json::json!({"a": 1})
        );
    }
}
