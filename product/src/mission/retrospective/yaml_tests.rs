//! Each expected text is what the reference's dumper (`kernel.yaml_io.serialize_mapping`,
//! width 120) wrote for the same mapping.

use super::*;

fn map(pairs: &[(&str, Py)]) -> IndexMap<String, Py> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect()
}

fn s(text: &str) -> Py {
    Py::String(text.into())
}

#[test]
fn a_plain_scalar_folds_before_the_word_that_would_pass_column_120() {
    let m = map(&[(
        "details",
        s(
            "spec.md is present but research.md is missing. Research artifacts help future maintainers understand design decisions and more words here.",
        ),
    )]);
    assert_eq!(
        dump(&m),
        "details: spec.md is present but research.md is missing. Research artifacts help future maintainers understand design\n  decisions and more words here.\n"
    );
}

#[test]
fn a_word_longer_than_the_line_gets_a_line_of_its_own() {
    let long = "x".repeat(130);
    let m = map(&[("k", s(&format!("short {long} tail")))]);
    assert_eq!(dump(&m), format!("k: short\n  {long}\n  tail\n"));
}

#[test]
fn a_list_item_s_scalar_continues_four_columns_in() {
    let mut item = IndexMap::new();
    item.insert("id".to_string(), s("n-001"));
    item.insert("details".to_string(), s("Workflow failure recorded in workflow-failures-log.md. Entry: and a long tail that goes on past the width of the line."));
    let m = map(&[("l", Py::Array(vec![Py::Object(item)]))]);
    assert_eq!(
        dump(&m),
        "l:\n- id: n-001\n  details: 'Workflow failure recorded in workflow-failures-log.md. Entry: and a long tail that goes on past the width of the\n    line.'\n"
    );
}

#[test]
fn a_single_quoted_scalar_breaks_only_once_past_the_width() {
    let m = map(&[("s", s(&format!("- [ ] FAIL: {}", "word ".repeat(30))))]);
    assert_eq!(
        dump(&m),
        "s: '- [ ] FAIL: word word word word word word word word word word word word word word word word word word word word word word\n  word word word word word word word word '\n"
    );
}

#[test]
fn a_double_quoted_scalar_folds_with_escapes_and_backslashes_where_ruamel_puts_them() {
    let text = format!(
        "it's: a line {}end\nsecond  line with  double spaces {}",
        "that keeps going ".repeat(9),
        "and more words ".repeat(6)
    );
    let mut item = IndexMap::new();
    item.insert("details".to_string(), s(&text));
    let m = map(&[("l", Py::Array(vec![Py::Object(item)]))]);
    assert_eq!(
        dump(&m),
        "l:\n- details: \"it's: a line that keeps going that keeps going that keeps going that keeps going that keeps going that keeps going\n    that keeps going that keeps going that keeps going end\\nsecond  line with  double spaces and more words and more words\n    and more words and more words and more words and more words \"\n"
    );
}

#[test]
fn strings_yaml_would_read_as_other_types_are_quoted_and_the_rest_stay_plain() {
    let m = map(&[
        ("a", s("1.0")),
        ("b", s("true")),
        ("c", s("2026-01-01")),
        ("d", s("")),
        ("e", s("yes")),
        ("f", s("<default>")),
        ("g", s("-x")),
        ("h", s("- x")),
        ("i", s("a: b")),
        ("j", s("01KX..01KY")),
        ("k", Py::Null),
        ("l", Py::Array(Vec::new())),
        ("m", Py::Object(IndexMap::new())),
        ("n", Py::Number(1.into())),
        ("o", s("~")),
        ("p", s("0o17")),
        ("q", s("2026-12-06T08:44:29.987291+00:00")),
    ]);
    assert_eq!(
        dump(&m),
        "a: '1.0'\nb: 'true'\nc: '2026-01-01'\nd: ''\ne: yes\nf: <default>\ng: -x\nh: '- x'\ni: 'a: b'\nj: 01KX..01KY\nk:\nl: []\nm: {}\nn: 1\no: '~'\np: '0o17'\nq: '2026-12-06T08:44:29.987291+00:00'\n"
    );
}

#[test]
fn line_separators_tabs_and_newlines_take_the_styles_ruamel_gives_them() {
    let m = map(&[
        ("u", s("a\u{2028}    b")),
        ("t", s("tab\there")),
        ("n", s("two\nlines")),
        ("v", s("a\u{2028}b c")),
    ]);
    assert_eq!(
        dump(&m),
        "u: \"a\\L    b\"\nt: \"tab\\there\"\nn: \"two\\nlines\"\nv: 'a\u{2028}  b c'\n"
    );
}

#[test]
fn each_scalar_analysis_rule_picks_ruamel_s_style() {
    let cases = [
        ("--- x", "'--- x'"),
        ("...x", "'...x'"),
        ("a---", "a---"),
        (" x", "' x'"),
        ("x ", "'x '"),
        ("a\u{2028} b", "\"a\\L b\""),
        ("a \u{2028}b", "\"a \\Lb\""),
        ("\u{2028}a", "'\u{2028}  a'"),
        ("a\u{2028}", "'a\u{2028}  '"),
        ("\u{e9}", "\u{e9}"),
        ("\u{e000}x", "\u{e000}x"),
        ("x\u{1f600}", "x\u{1f600}"),
        ("a\u{feff}", "\"a\\uFEFF\""),
        ("a\u{85}b", "'a\u{85}  b'"),
        ("?x", "?x"),
        ("? x", "'? x'"),
        (":x", ":x"),
        (": x", "': x'"),
        ("-", "'-'"),
        ("a:b", "a:b"),
        ("a: b", "'a: b'"),
        ("a:", "'a:'"),
        ("a#b", "a#b"),
        ("a #b", "'a #b'"),
        ("#a", "'#a'"),
        (",a", "',a'"),
        ("a,b", "a,b"),
        ("a\tb", "\"a\\tb\""),
        ("x\0", "\"x\\0\""),
    ];
    for (text, written) in cases {
        assert_eq!(
            dump(&map(&[("k", s(text))])),
            format!("k: {written}\n"),
            "{text:?}"
        );
    }
}

/// Mappings and what the reference's dumper wrote for them (`scripts/ruamel-vectors.py`, run
/// with the reference's Python): every style, folded at every column, nested as the record
/// nests them.
#[test]
fn eighty_mappings_are_written_as_the_reference_s_dumper_wrote_them() {
    #[derive(serde::Deserialize)]
    struct Case {
        mapping: IndexMap<String, Py>,
        yaml: String,
    }
    let cases: Vec<Case> = serde_json::from_str(include_str!("testdata/ruamel.json")).unwrap();
    assert_eq!(cases.len(), 80);
    let wrong: Vec<String> = cases
        .iter()
        .filter(|c| dump(&c.mapping) != c.yaml)
        .map(|c| format!("expected:\n{}\nwritten:\n{}", c.yaml, dump(&c.mapping)))
        .collect();
    assert!(
        wrong.is_empty(),
        "{} differ; the first:\n{}",
        wrong.len(),
        wrong[0]
    );
}
