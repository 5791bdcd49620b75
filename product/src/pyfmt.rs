//! The reference's byte formats, in one place: Python's `json.dumps` layout and the shapes of
//! `datetime.isoformat()`, so files and events we write are byte-identical to the reference's.

use std::io::{self, Write};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::ser::{CharEscape, Formatter, Serializer};

struct PythonFormatter;

impl Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }
    fn write_string_fragment<W: ?Sized + Write>(&mut self, w: &mut W, s: &str) -> io::Result<()> {
        for c in s.chars() {
            // Python's `ensure_ascii` keeps only ' '..='~' as is (control characters never get
            // here: serde_json escapes them through `write_char_escape`); DEL is escaped too.
            if c.is_ascii() && c != '\u{7f}' {
                w.write_all(&[c as u8])?;
            } else {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    write!(w, "\\u{u:04x}")?;
                }
            }
        }
        Ok(())
    }
    fn write_char_escape<W: ?Sized + Write>(&mut self, w: &mut W, e: CharEscape) -> io::Result<()> {
        let s: &[u8] = match e {
            CharEscape::Quote => b"\\\"",
            CharEscape::ReverseSolidus => b"\\\\",
            CharEscape::Backspace => b"\\b",
            CharEscape::FormFeed => b"\\f",
            CharEscape::LineFeed => b"\\n",
            CharEscape::CarriageReturn => b"\\r",
            CharEscape::Tab => b"\\t",
            CharEscape::Solidus => b"/",
            CharEscape::AsciiControl(b) => return write!(w, "\\u{b:04x}"),
        };
        w.write_all(s)
    }
}

/// Serialize `value` as Python's `json.dumps(value)` would (`", "`, `": "`, `ensure_ascii=True`).
///
/// ```
/// let s = spec_kitty::internals::pyfmt::to_python_json(&serde_json::json!({"a": [1, "é"]})).unwrap();
/// assert_eq!(s, r#"{"a": [1, "\u00e9"]}"#);
/// ```
pub fn to_python_json<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    let mut out = Vec::new();
    value.serialize(&mut Serializer::with_formatter(&mut out, PythonFormatter))?;
    // The formatter only ever writes ASCII.
    Ok(String::from_utf8(out).unwrap_or_default())
}

/// Python's `json.dumps(value, indent=2)` (`ensure_ascii=True`; `",\n"` between items): the
/// layout of the reference's pretty JSON files (`decisions/index.json`, ...).
///
/// ```
/// let s = spec_kitty::internals::pyfmt::to_python_json_pretty(&serde_json::json!({"a": [1], "b": {}, "c": "é"})).unwrap();
/// assert_eq!(s, "{\n  \"a\": [\n    1\n  ],\n  \"b\": {},\n  \"c\": \"\\u00e9\"\n}");
/// ```
pub fn to_python_json_pretty<T: Serialize + ?Sized>(
    value: &T,
) -> Result<String, serde_json::Error> {
    // Pretty-print with serde, then escape what `ensure_ascii` escapes (only string contents can
    // hold non-ASCII characters, and their escapes are the same wherever they are).
    let pretty = serde_json::to_string_pretty(value)?;
    let mut out = String::with_capacity(pretty.len());
    for c in pretty.chars() {
        if c.is_ascii() && c != '\u{7f}' {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    Ok(out)
}

/// A JSON value with its objects' keys in the order they were written (the reference rewrites
/// the acceptance matrix in that order).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Py {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(serde_json::Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Py>),
    /// An object, in written order.
    Object(indexmap::IndexMap<String, Py>),
}

impl Py {
    /// Python's `bool()` of the value.
    pub fn truthy(&self) -> bool {
        match self {
            Self::Null => false,
            Self::Bool(b) => *b,
            Self::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
            Self::String(s) => !s.is_empty(),
            Self::Array(a) => !a.is_empty(),
            Self::Object(m) => !m.is_empty(),
        }
    }

    /// The value as a `serde_json::Value` (keys sorted).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// Python's `datetime.isoformat()` of a UTC time: `+00:00` (not `Z`), six fractional digits when
/// the microseconds are not zero and none otherwise (finer digits are dropped, as Python cannot
/// hold them).
///
/// ```
/// use spec_kitty::internals::pyfmt::isoformat;
/// let t = chrono::DateTime::parse_from_rfc3339("2026-11-29T10:35:31.295291Z").unwrap().to_utc();
/// assert_eq!(isoformat(t), "2026-11-29T10:35:31.295291+00:00");
/// let t = chrono::DateTime::parse_from_rfc3339("2026-11-29T10:35:31Z").unwrap().to_utc();
/// assert_eq!(isoformat(t), "2026-11-29T10:35:31+00:00");
/// ```
pub fn isoformat(t: DateTime<Utc>) -> String {
    let format = if t.timestamp_subsec_micros() == 0 {
        SecondsFormat::Secs
    } else {
        SecondsFormat::Micros
    };
    t.to_rfc3339_opts(format, false)
}

/// [`isoformat`] with `Z` for the offset (the reference's event `at` fields).
pub fn isoformat_z(t: DateTime<Utc>) -> String {
    let s = isoformat(t);
    s.strip_suffix("+00:00")
        .map(|b| format!("{b}Z"))
        .unwrap_or(s)
}

/// Whole seconds with `Z`, the fraction dropped (`runtime_vars.now_utc_iso`).
pub fn seconds_z(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Python's `repr()` of a JSON value (`'yes'`, `0`, `True`, `None`, `['a']`, `{'k': 1}`): how the
/// reference quotes a malformed value in its messages.
///
/// ```
/// use spec_kitty::internals::pyfmt::python_repr;
/// assert_eq!(python_repr(&serde_json::json!("yes")), "'yes'");
/// assert_eq!(python_repr(&serde_json::json!("it's")), "\"it's\"");
/// assert_eq!(python_repr(&serde_json::json!([1, "a", null, true])), "[1, 'a', None, True]");
/// assert_eq!(python_repr(&serde_json::json!({"a": {"b": 1.5}})), "{'a': {'b': 1.5}}");
/// ```
pub fn python_repr(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => {
            let quote = if s.contains('\'') && !s.contains('"') {
                '"'
            } else {
                '\''
            };
            let mut out = String::from(quote);
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if c == quote => {
                        out.push('\\');
                        out.push(c);
                    }
                    c if (c as u32) < 0x20 || c == '\u{7f}' => {
                        out.push_str(&format!("\\x{:02x}", c as u32));
                    }
                    c => out.push(c),
                }
            }
            out.push(quote);
            out
        }
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(python_repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!(
                    "{}: {}",
                    python_repr(&Value::String(k.clone())),
                    python_repr(v)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Python's name for a JSON value's type (`list`, `str`, `NoneType`, ...).
pub fn python_type(value: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Python's `json` words for a parse error of `raw` (`Expecting value: line 1 column 1 (char 0)`).
pub fn python_json_error(e: &serde_json::Error, raw: &str) -> String {
    let what = e.to_string();
    let head = if what.starts_with("key must be a string") {
        "Expecting property name enclosed in double quotes"
    } else if what.starts_with("expected `,` or `}`") || what.starts_with("expected `,` or `]`") {
        "Expecting ',' delimiter"
    } else if what.starts_with("expected `:`") {
        "Expecting ':' delimiter"
    } else if what.starts_with("trailing characters") {
        "Extra data"
    } else if what.starts_with("EOF while parsing a string") {
        "Unterminated string starting at"
    } else {
        "Expecting value"
    };
    let line = e.line().max(1);
    let col = e.column().max(1);
    let before: usize = raw
        .split_inclusive('\n')
        .take(line - 1)
        .map(|l| l.chars().count())
        .sum();
    format!(
        "{head}: line {line} column {col} (char {})",
        before + col - 1
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::at;
    use serde_json::json;

    #[test]
    fn repr_quotes_and_escapes_strings_as_python_does() {
        let r = |s: &str| python_repr(&json!(s));
        assert_eq!(r("yes"), "'yes'");
        assert_eq!(r("it's"), "\"it's\"");
        assert_eq!(r("both ' and \""), "'both \\' and \"'");
        assert_eq!(r("a\tb\nc\\"), "'a\\tb\\nc\\\\'");
        assert_eq!(r("\u{1}\u{7f}é"), "'\\x01\\x7fé'");
        assert_eq!(
            python_repr(&json!([1, "a", null, false])),
            "[1, 'a', None, False]"
        );
        assert_eq!(python_type(&json!(1.5)), "float");
        assert_eq!(python_type(&json!({})), "dict");
        assert_eq!(python_type(&json!(1)), "int");
    }

    #[test]
    fn json_errors_name_python_s_line_column_and_offset() {
        let e = |raw: &str| {
            let err = serde_json::from_str::<serde_json::Value>(raw).unwrap_err();
            python_json_error(&err, raw)
        };
        assert_eq!(
            e("{\n  \"a\": 1,\n  bad}"),
            "Expecting property name enclosed in double quotes: line 3 column 3 (char 14)"
        );
        assert_eq!(e(""), "Expecting value: line 1 column 1 (char 0)");
        assert_eq!(
            e("[1,\n2 3]"),
            "Expecting ',' delimiter: line 2 column 3 (char 6)"
        );
    }

    #[test]
    fn timestamps_are_written_as_python_isoformat() {
        for (t, plain, z) in [
            (
                "2026-11-29T10:35:31.295291Z",
                "2026-11-29T10:35:31.295291+00:00",
                "2026-11-29T10:35:31.295291Z",
            ),
            (
                "2026-11-29T10:35:31.000001Z",
                "2026-11-29T10:35:31.000001+00:00",
                "2026-11-29T10:35:31.000001Z",
            ),
            (
                "2026-11-29T10:35:31.5Z",
                "2026-11-29T10:35:31.500000+00:00",
                "2026-11-29T10:35:31.500000Z",
            ),
            (
                "2026-11-29T10:35:31Z",
                "2026-11-29T10:35:31+00:00",
                "2026-11-29T10:35:31Z",
            ),
            // Below a microsecond Python has nothing to show.
            (
                "2026-11-29T10:35:31.000000500Z",
                "2026-11-29T10:35:31+00:00",
                "2026-11-29T10:35:31Z",
            ),
        ] {
            assert_eq!(isoformat(at(t)), plain, "{t}");
            assert_eq!(isoformat_z(at(t)), z, "{t}");
        }
    }

    #[test]
    fn now_utc_iso_is_whole_seconds_with_z() {
        assert_eq!(
            seconds_z(at("2026-11-29T10:35:31.999999Z")),
            "2026-11-29T10:35:31Z"
        );
    }

    #[test]
    fn output_is_byte_identical_to_python_json_dumps() {
        // json.dumps({"a": [1, "é", None, True], "b": {"c": 1.5, "d": []}, "e": "x\u{1F431}"})
        let v = json!({"a": [1, "é", null, true], "b": {"c": 1.5, "d": []}, "e": "x\u{1F431}"});
        assert_eq!(
            to_python_json(&v).unwrap(),
            r#"{"a": [1, "\u00e9", null, true], "b": {"c": 1.5, "d": []}, "e": "x\ud83d\udc31"}"#
        );
        // json.dumps("q\"b\\\x08\x0c\n\r\t/\x01\x7f")
        assert_eq!(
            to_python_json("q\"b\\\u{8}\u{c}\n\r\t/\u{1}\u{7f}").unwrap(),
            r#""q\"b\\\b\f\n\r\t/\u0001\u007f""#
        );
        assert_eq!(to_python_json(&json!({})).unwrap(), "{}");
        assert_eq!(
            to_python_json(&json!([[], [1, 2]])).unwrap(),
            "[[], [1, 2]]"
        );
    }
}
