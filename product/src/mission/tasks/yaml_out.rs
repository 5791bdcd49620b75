//! Frontmatter YAML written as the reference's writer lays it out (**interop**: block style,
//! sequences at their key's indent, `[]` for empty lists, plain scalars where the reader would
//! read them back as the same string, single quotes otherwise, double quotes for escapes).
//! Two flavours of the same layout: [`MapsInLists::Plain`] (finalize-tasks' writer) and
//! [`MapsInLists::Omap`] (map-requirements' writer, which writes every mapping inside a list as
//! a `!!omap`: a sequence of one-key mappings, recursively).

use serde_yaml_ng::Value;

/// Whether `s` would be read back as something other than this string (YAML 1.2 core schema
/// plus timestamps) if written plain.
fn resolves_to_non_string(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    if matches!(lower.as_str(), "true" | "false" | "null" | "~") {
        return true;
    }
    let numeric = regex_lite_number(s);
    let date = s.len() >= 10
        && s.as_bytes()[..10].iter().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                *b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    numeric || date || matches!(lower.as_str(), ".inf" | "-.inf" | "+.inf" | ".nan")
}

/// Integers (decimal, `0x`, `0o`, leading zeros, `_` separators) and floats (`1.0`, `1e3`).
fn regex_lite_number(s: &str) -> bool {
    let t = s.strip_prefix(['-', '+']).unwrap_or(s);
    if t.is_empty() {
        return false;
    }
    if let Some(hex) = t.strip_prefix("0x") {
        return !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit() || b == b'_');
    }
    if let Some(oct) = t.strip_prefix("0o") {
        return !oct.is_empty() && oct.bytes().all(|b| (b'0'..=b'7').contains(&b));
    }
    let digits_only = t.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    if digits_only && t.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
        return true;
    }
    // Floats: digits with one dot and/or an exponent.
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let m_ok = !mantissa.is_empty()
        && mantissa.bytes().filter(|b| *b == b'.').count() <= 1
        && mantissa
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'_')
        && mantissa.bytes().any(|b| b.is_ascii_digit());
    let e_ok = exp.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    m_ok && e_ok && (mantissa.contains('.') || exp.is_some())
}

fn needs_double(s: &str) -> bool {
    s.starts_with('\'') || s.chars().any(|c| c.is_control())
}

fn plain_ok(s: &str) -> bool {
    if s.is_empty() || s.trim() != s || resolves_to_non_string(s) {
        return false;
    }
    let first = s.chars().next().unwrap_or(' ');
    if matches!(
        first,
        '*' | '@' | '`' | '!' | '%' | '&' | '{' | '}' | '[' | ']' | '|' | '>' | '#' | '"' | ','
    ) {
        return false;
    }
    if matches!(first, '-' | '?' | ':') && (s.len() == 1 || s[1..].starts_with(' ')) {
        return false;
    }
    if s == "=" || s == "<<" {
        return false;
    }
    !(s.contains(": ") || s.contains(" #") || s.ends_with(':'))
}

/// One scalar string as the writer spells it.
pub fn scalar(s: &str) -> String {
    if needs_double(s) {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                c if c.is_control() => out.push_str(&format!("\\x{:02X}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    } else if plain_ok(s) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

fn leaf(v: &Value) -> Option<String> {
    match v {
        Value::Null => Some(String::new()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(scalar(s)),
        Value::Sequence(s) if s.is_empty() => Some("[]".into()),
        Value::Mapping(m) if m.is_empty() => Some("{}".into()),
        Value::Tagged(t) => leaf(&t.value),
        _ => None,
    }
}

fn key_text(k: &Value) -> String {
    leaf(k).unwrap_or_default()
}

/// Write `map` (its keys in the order given) at `indent`.
fn mapping(out: &mut String, m: &serde_yaml_ng::Mapping, indent: usize, first_inline: bool) {
    for (i, (k, v)) in m.iter().enumerate() {
        if !(first_inline && i == 0) {
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(&key_text(k));
        out.push(':');
        value_after_key(out, v, indent);
    }
}

fn value_after_key(out: &mut String, v: &Value, indent: usize) {
    let v = match v {
        Value::Tagged(t) => &t.value,
        other => other,
    };
    if let Some(text) = leaf(v) {
        if !text.is_empty() {
            out.push(' ');
            out.push_str(&text);
        }
        out.push('\n');
        return;
    }
    out.push('\n');
    match v {
        Value::Sequence(s) => sequence(out, s, indent),
        Value::Mapping(m) => mapping(out, m, indent + 2, false),
        _ => {}
    }
}

/// How a mapping inside a list is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapsInLists {
    /// As a block mapping after the dash.
    Plain,
    /// As `!!omap`, a sequence of one-key mappings (and every mapping inside it too).
    Omap,
}

/// `m` as `!!omap` entries at `indent` (`- key: value` each).
fn omap_entries(out: &mut String, m: &serde_yaml_ng::Mapping, indent: usize) {
    for (k, v) in m {
        out.push_str(&" ".repeat(indent));
        out.push_str("- ");
        out.push_str(&key_text(k));
        out.push(':');
        let v = match v {
            Value::Tagged(t) => &t.value,
            other => other,
        };
        match v {
            Value::Mapping(inner) if inner.is_empty() => out.push_str(" !!omap []\n"),
            Value::Mapping(inner) => {
                out.push_str(" !!omap\n");
                omap_entries(out, inner, indent + 2);
            }
            Value::Sequence(s) if !s.is_empty() => {
                out.push('\n');
                omap_sequence(out, s, indent + 2);
            }
            other => {
                let text = leaf(other).unwrap_or_default();
                if !text.is_empty() {
                    out.push(' ');
                    out.push_str(&text);
                }
                out.push('\n');
            }
        }
    }
}

/// A list whose mappings are written as `!!omap`, its dashes at `indent`.
fn omap_sequence(out: &mut String, s: &[Value], indent: usize) {
    for item in s {
        let item = match item {
            Value::Tagged(t) => &t.value,
            other => other,
        };
        out.push_str(&" ".repeat(indent));
        out.push_str("- ");
        match item {
            Value::Mapping(m) if m.is_empty() => out.push_str("!!omap []\n"),
            Value::Mapping(m) => {
                out.push_str("!!omap\n");
                omap_entries(out, m, indent + 2);
            }
            Value::Sequence(inner) if !inner.is_empty() => {
                let mut nested = String::new();
                omap_sequence(&mut nested, inner, indent + 2);
                out.push_str(nested.trim_start());
            }
            other => {
                out.push_str(&leaf(other).unwrap_or_default());
                out.push('\n');
            }
        }
    }
}

fn sequence(out: &mut String, s: &[Value], indent: usize) {
    for item in s {
        let item = match item {
            Value::Tagged(t) => &t.value,
            other => other,
        };
        out.push_str(&" ".repeat(indent));
        out.push_str("- ");
        match item {
            Value::Mapping(m) if !m.is_empty() => mapping(out, m, indent + 2, true),
            Value::Sequence(inner) if !inner.is_empty() => {
                // A list in a list: its first item on the dash's line.
                let mut nested = String::new();
                sequence(&mut nested, inner, indent + 2);
                out.push_str(nested.trim_start());
            }
            other => {
                out.push_str(&leaf(other).unwrap_or_default());
                out.push('\n');
            }
        }
    }
}

/// The YAML text of a frontmatter mapping (keys in the order given), newline-terminated.
pub fn to_yaml(m: &serde_yaml_ng::Mapping) -> String {
    to_yaml_with(m, MapsInLists::Plain)
}

/// [`to_yaml`] with mappings inside the top-level lists written as `style` says.
pub fn to_yaml_with(m: &serde_yaml_ng::Mapping, style: MapsInLists) -> String {
    let mut out = String::new();
    match style {
        MapsInLists::Plain => mapping(&mut out, m, 0, false),
        MapsInLists::Omap => {
            for (k, v) in m {
                match v {
                    Value::Sequence(s) if !s.is_empty() => {
                        out.push_str(&key_text(k));
                        out.push_str(":\n");
                        omap_sequence(&mut out, s, 0);
                    }
                    _ => {
                        let mut one = serde_yaml_ng::Mapping::new();
                        one.insert(k.clone(), v.clone());
                        mapping(&mut out, &one, 0, false);
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_are_quoted_exactly_where_the_reference_quotes_them() {
        let plain = [
            "Greeting tool",
            "a:b",
            "a#b",
            "-x",
            "?x",
            ".x",
            "a, b",
            "50%",
            "3.2.7",
            "src/**",
            "yes",
            "No",
            "on",
            "WP01 – Greeting ⚡",
        ];
        for s in plain {
            assert_eq!(scalar(s), s, "{s}");
        }
        let single = [
            "a: b",
            "a #b",
            "- x",
            "-",
            "*x",
            "@x",
            "`x`",
            "!x",
            "%x",
            "&x",
            "{x}",
            "[x]",
            "|x",
            ">x",
            "#x",
            "=",
            "x:",
            "*.py",
            "true",
            "null",
            "~",
            "1",
            "1.0",
            "0x1",
            "1e3",
            "0777",
            "1_000",
            "2026-01-01",
            "2026-01-01T00:00:00Z",
            "",
            " x",
            "x ",
        ];
        for s in single {
            assert_eq!(scalar(s), format!("'{s}'"), "{s}");
        }
        assert_eq!(scalar("'x'"), "\"'x'\"");
        assert_eq!(scalar("\"x\""), "'\"x\"'");
        assert_eq!(scalar("a\nb"), "\"a\\nb\"");
        assert_eq!(scalar("a\tb"), "\"a\\tb\"");
    }

    #[test]
    fn lists_sit_at_their_key_s_indent_and_mappings_in_lists_follow_the_dash() {
        let v: serde_yaml_ng::Mapping = serde_yaml_ng::from_str(
            "a: [x, y]\nb: []\nh:\n  - at: '2026-01-01T00:00:00Z'\n    actor: system\nm: ''\nn: 3\n",
        )
        .unwrap();
        assert_eq!(
            to_yaml(&v),
            "a:\n- x\n- y\nb: []\nh:\n- at: '2026-01-01T00:00:00Z'\n  actor: system\nm: ''\nn: 3\n"
        );
    }
}
