//! A retrospective record's YAML, byte for byte as the reference's round-trip dumper writes it
//! (**interop**: ruamel.yaml's block emitter at width 120 — its scalar analysis, its YAML 1.2
//! resolver check, its plain, single- and double-quoted line folding — then every line's
//! trailing blanks removed).

use std::sync::LazyLock;

use indexmap::IndexMap;
use regex::Regex;

use crate::pyfmt::Py;

/// The line width the reference dumps at.
const WIDTH: usize = 120;

/// `map` as the reference's record file.
pub fn dump(map: &IndexMap<String, Py>) -> String {
    let mut e = Emitter::default();
    e.mapping(map, 0, false);
    e.out.push('\n');
    e.out
        .split('\n')
        .map(|l| l.trim_end_matches([' ', '\t', '\r']))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The plain spellings YAML 1.2 reads as something other than a string.
static NOT_A_STRING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:",
        r"true|True|TRUE|false|False|FALSE",
        r"|[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?",
        r"|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)",
        r"|[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?",
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
        r"|[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+",
        r"|<<|~|null|Null|NULL|=",
        r"|[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]",
        r"|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?",
        r")\n?$"
    ))
    .expect("the resolver's patterns are valid")
});

fn is_break(c: char) -> bool {
    matches!(c, '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blank_or_end(c: Option<&char>) -> bool {
    c.is_none_or(|c| matches!(c, '\0' | ' ' | '\t' | '\r') || is_break(*c))
}

/// Which styles a string may be written in (ruamel's `analyze_scalar`, block context).
struct Analysis {
    block_plain: bool,
    single_quoted: bool,
}

fn analyze(s: &[char]) -> Analysis {
    if s.is_empty() {
        return Analysis {
            block_plain: true,
            single_quoted: true,
        };
    }
    let text: String = s.iter().collect();
    let mut block_indicators = text.starts_with("---") || text.starts_with("...");
    let (mut line_breaks, mut special) = (false, false);
    // A leading or trailing break is a line break, which rules plain out anyway.
    let (mut leading_space, mut trailing_space) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    let mut preceded_by_ws = true;
    let mut followed_by_ws = is_blank_or_end(s.get(1));
    let (mut previous_space, mut previous_break) = (false, false);
    for (i, &ch) in s.iter().enumerate() {
        if i == 0 {
            if "#,[]{}&*!|>'\"%@`".contains(ch) {
                block_indicators = true;
            }
            if matches!(ch, '?' | ':' | '-') && followed_by_ws {
                block_indicators = true;
            }
        } else if (ch == ':' && followed_by_ws) || (ch == '#' && preceded_by_ws) {
            block_indicators = true;
        }
        if is_break(ch) {
            line_breaks = true;
        }
        if !(ch == '\n' || (' '..='~').contains(&ch)) {
            let printable = (ch == '\u{85}'
                || ('\u{A0}'..='\u{D7FF}').contains(&ch)
                || ('\u{E000}'..='\u{FFFD}').contains(&ch)
                || ch >= '\u{10000}')
                && ch != '\u{FEFF}';
            if !printable {
                special = true;
            }
        }
        if ch == ' ' {
            leading_space |= i == 0;
            trailing_space |= i == s.len() - 1;
            break_space |= previous_break;
            (previous_space, previous_break) = (true, false);
        } else if is_break(ch) {
            space_break |= previous_space;
            (previous_space, previous_break) = (false, true);
        } else {
            (previous_space, previous_break) = (false, false);
        }
        preceded_by_ws = matches!(ch, '\0' | ' ' | '\t' | '\r') || is_break(ch);
        followed_by_ws = is_blank_or_end(s.get(i + 2));
    }
    let mut block_plain = !(leading_space || trailing_space || line_breaks);
    let mut single_quoted = true;
    if break_space || special || space_break {
        block_plain = false;
        single_quoted = false;
    }
    if block_indicators {
        block_plain = false;
    }
    Analysis {
        block_plain,
        single_quoted,
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Style {
    Plain,
    Single,
    Double,
}

fn style(text: &str, chars: &[char]) -> Style {
    let a = analyze(chars);
    let implicit = !text.is_empty() && !NOT_A_STRING.is_match(text);
    if implicit && a.block_plain {
        Style::Plain
    } else if text.contains(['\'', '\n']) {
        Style::Double
    } else if a.single_quoted {
        Style::Single
    } else {
        Style::Double
    }
}

/// The emitter's cursor, as ruamel keeps it.
#[derive(Default)]
struct Emitter {
    out: String,
    column: usize,
    whitespace: bool,
    indention: bool,
    indent: usize,
}

impl Emitter {
    fn write(&mut self, chars: &[char]) {
        self.out.extend(chars);
        self.column += chars.len();
    }

    fn line_break(&mut self) {
        self.line_break_with('\n');
    }

    fn line_break_with(&mut self, br: char) {
        self.out.push(br);
        self.whitespace = true;
        self.indention = true;
        self.column = 0;
    }

    fn write_indent(&mut self) {
        let indent = self.indent;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.line_break();
        }
        if self.column < indent {
            self.whitespace = true;
            self.out
                .extend(std::iter::repeat_n(' ', indent - self.column));
            self.column = indent;
        }
    }

    fn indicator(&mut self, indicator: &str, need_whitespace: bool) {
        if !self.whitespace && need_whitespace {
            self.out.push(' ');
            self.column += 1;
        }
        self.out.push_str(indicator);
        self.column += indicator.chars().count();
        self.whitespace = false;
        self.indention = false;
    }

    /// Write `map`'s entries, the first on the current line when `inline` (a list item's).
    fn mapping(&mut self, map: &IndexMap<String, Py>, indent: usize, inline: bool) {
        for (i, (key, value)) in map.iter().enumerate() {
            if i > 0 || !(inline || self.out.is_empty()) {
                self.line_break();
                self.out.extend(std::iter::repeat_n(' ', indent));
                self.column = indent;
            }
            self.out.push_str(key);
            self.column += key.chars().count();
            self.out.push(':');
            self.column += 1;
            self.whitespace = false;
            self.indention = false;
            self.value(value, indent);
        }
    }

    /// The value of a key of a mapping at `indent`.
    fn value(&mut self, value: &Py, indent: usize) {
        match value {
            Py::Object(m) if !m.is_empty() => self.mapping(m, indent + 2, false),
            Py::Array(items) if !items.is_empty() => {
                for item in items {
                    self.line_break();
                    self.out.extend(std::iter::repeat_n(' ', indent));
                    self.out.push('-');
                    self.column = indent + 1;
                    self.whitespace = false;
                    match item {
                        Py::Object(m) if !m.is_empty() => {
                            self.out.push(' ');
                            self.column += 1;
                            self.mapping(m, indent + 2, true);
                        }
                        other => self.value(other, indent),
                    }
                }
            }
            other => {
                self.indent = indent + 2;
                self.scalar(other);
            }
        }
    }

    fn scalar(&mut self, value: &Py) {
        match value {
            Py::Null => {}
            Py::Bool(b) => self.plain(
                &(if *b { "true" } else { "false" })
                    .chars()
                    .collect::<Vec<_>>(),
            ),
            Py::Number(n) => self.plain(&n.to_string().chars().collect::<Vec<_>>()),
            Py::Array(_) => self.indicator("[]", true),
            Py::Object(_) => self.indicator("{}", true),
            Py::String(s) => {
                let chars: Vec<char> = s.chars().collect();
                match style(s, &chars) {
                    Style::Plain => self.plain(&chars),
                    Style::Single => self.single_quoted(&chars),
                    Style::Double => self.double_quoted(&chars),
                }
            }
        }
    }

    fn plain(&mut self, text: &[char]) {
        if text.is_empty() {
            return;
        }
        if !self.whitespace {
            self.write(&[' ']);
        }
        self.whitespace = false;
        self.indention = false;
        let (mut spaces, mut start, mut end) = (false, 0, 0);
        while end <= text.len() {
            let ch = text.get(end).copied();
            if spaces {
                if ch != Some(' ') {
                    if start + 1 == end && self.column >= WIDTH {
                        self.write_indent();
                        self.whitespace = false;
                        self.indention = false;
                    } else {
                        self.write(&text[start..end]);
                    }
                    start = end;
                }
            } else if ch.is_none_or(|c| c == ' ' || is_break(c)) {
                let word = &text[start..end];
                if word.len() + self.column > WIDTH && self.column > self.indent {
                    self.write_indent();
                }
                self.write(word);
                start = end;
            }
            if let Some(c) = ch {
                spaces = c == ' ';
            }
            end += 1;
        }
    }

    fn single_quoted(&mut self, text: &[char]) {
        self.indicator("'", true);
        let (mut spaces, mut breaks, mut start, mut end) = (false, false, 0, 0);
        while end <= text.len() {
            let ch = text.get(end).copied();
            if spaces {
                if ch != Some(' ') {
                    if start + 1 == end && self.column > WIDTH && start != 0 && end != text.len() {
                        self.write_indent();
                    } else {
                        self.write(&text[start..end]);
                    }
                    start = end;
                }
            } else if breaks {
                if ch.is_none_or(|c| !is_break(c)) {
                    if text[start] == '\n' {
                        self.line_break_with('\n');
                    }
                    for &br in &text[start..end] {
                        self.line_break_with(br);
                    }
                    self.write_indent();
                    start = end;
                }
            } else if ch.is_none_or(|c| c == ' ' || c == '\'' || is_break(c)) && start < end {
                self.write(&text[start..end]);
                start = end;
            }
            if ch == Some('\'') {
                self.write(&['\'', '\'']);
                start = end + 1;
            }
            if let Some(c) = ch {
                spaces = c == ' ';
                breaks = is_break(c);
            }
            end += 1;
        }
        self.indicator("'", false);
    }

    fn double_quoted(&mut self, text: &[char]) {
        self.indicator("\"", true);
        let (mut start, mut end) = (0, 0);
        while end <= text.len() {
            let ch = text.get(end).copied();
            let escape = ch.is_none_or(|c| {
                matches!(
                    c,
                    '"' | '\\' | '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{FEFF}'
                ) || !((' '..='~').contains(&c)
                    || ('\u{A0}'..='\u{D7FF}').contains(&c)
                    || ('\u{E000}'..='\u{FFFD}').contains(&c)
                    || c >= '\u{10000}')
            });
            if escape {
                if start < end {
                    self.write(&text[start..end]);
                    start = end;
                }
                if let Some(c) = ch {
                    let data = escaped(c);
                    self.write(&data.chars().collect::<Vec<_>>());
                    start = end + 1;
                }
            }
            if 0 < end
                && end + 1 < text.len()
                && (ch == Some(' ') || start >= end)
                && self.column as isize + end as isize - start as isize > WIDTH as isize
            {
                let backslash = needs_backslash(text, start, end);
                let mut data: Vec<char> = text.get(start..end).unwrap_or_default().to_vec();
                if backslash {
                    data.push('\\');
                }
                if start < end {
                    start = end;
                }
                self.write(&data);
                self.write_indent();
                self.whitespace = false;
                self.indention = false;
                if text[start] == ' ' {
                    if backslash {
                        self.write(&['\\']);
                    } else {
                        start += 1;
                    }
                }
            }
            end += 1;
        }
        self.indicator("\"", false);
    }
}

/// Whether a folded double-quoted line must end in `\` (ruamel's rule from SO 75634614).
fn needs_backslash(text: &[char], start: usize, end: usize) -> bool {
    let Some(mut space) = text[end..].iter().position(|c| *c == ' ').map(|p| p + end) else {
        return true;
    };
    if let Some(nl) = text[end..space].iter().position(|c| *c == '\n') {
        space = end + nl;
    }
    let Some(&after) = text.get(space + 1) else {
        return true;
    };
    if text[space] == '\n' && after != ' ' {
        return true;
    }
    let between = &text[end..space];
    let doubled = end >= 1 && text.get(end - 1) == Some(&' ') && text.get(end) == Some(&' ');
    between.contains(&'"')
        || between.contains(&'\'')
        || after == ' '
        || after == '\n'
        || doubled
        || start == end
}

fn escaped(c: char) -> String {
    let short = match c {
        '\0' => Some('0'),
        '\u{7}' => Some('a'),
        '\u{8}' => Some('b'),
        '\t' => Some('t'),
        '\n' => Some('n'),
        '\u{B}' => Some('v'),
        '\u{C}' => Some('f'),
        '\r' => Some('r'),
        '\u{1B}' => Some('e'),
        '"' => Some('"'),
        '\\' => Some('\\'),
        '\u{85}' => Some('N'),
        '\u{A0}' => Some('_'),
        '\u{2028}' => Some('L'),
        '\u{2029}' => Some('P'),
        _ => None,
    };
    match short {
        Some(s) => format!("\\{s}"),
        None if (c as u32) <= 0xFF => format!("\\x{:02X}", c as u32),
        None if (c as u32) <= 0xFFFF => format!("\\u{:04X}", c as u32),
        None => format!("\\U{:08X}", c as u32),
    }
}

#[cfg(test)]
#[path = "yaml_tests.rs"]
mod tests;
