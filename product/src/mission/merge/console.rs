//! Lines as the reference's console prints them (**interop**: Rich's word wrapping at the
//! console's width).

/// The words of `line` as Rich splits them: each run of non-spaces with the spaces after it
/// (leading spaces are a word of their own, which changes nothing: it always fits).
fn words(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut after_space = false;
    for (i, c) in line.char_indices() {
        if c != ' ' && after_space {
            out.push(&line[start..i]);
            start = i;
        }
        after_space = c == ' ';
    }
    // The last word (the whole of an empty line: a word that adds nothing).
    out.push(&line[start..]);
    out
}

/// `line` word-wrapped as Rich prints it on a console `width` columns wide: a word goes on the
/// next line when its text (without its trailing spaces) does not fit, a word longer than the
/// width is folded onto lines of its own; trailing spaces past the width are dropped.
pub(super) fn wrap(line: &str, width: usize) -> String {
    let mut lines: Vec<String> = vec![String::new()];
    let mut pos = 0;
    for w in words(line) {
        let text = w.trim_end().chars().count();
        if text > width {
            // Folded: its own lines, `width` characters each.
            let chars: Vec<char> = w.chars().collect();
            for (n, chunk) in chars.chunks(width.max(1)).enumerate() {
                let piece: String = chunk.iter().collect();
                if n == 0 && lines.last().is_some_and(String::is_empty) {
                    lines.last_mut().expect("one line").push_str(&piece);
                } else {
                    lines.push(piece);
                }
                pos = chunk.len();
            }
            continue;
        }
        let cur = lines.last_mut().expect("one line");
        if cur.is_empty() || pos + text <= width {
            cur.push_str(w);
            pos += w.chars().count();
        } else {
            lines.push(w.to_string());
            pos = w.chars().count();
        }
    }
    lines
        .into_iter()
        .map(|l| {
            let keep = l.trim_end().chars().count().max(width);
            l.chars().take(keep).collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_wrap_at_the_last_space_that_fits_keeping_their_trailing_space() {
        let line = "  \u{2713} Gate issue_matrix_completeness: No issue references discovered \u{2014} nothing to enforce";
        assert_eq!(
            wrap(line, 80),
            "  \u{2713} Gate issue_matrix_completeness: No issue references discovered \u{2014} nothing to \nenforce"
        );
        assert_eq!(wrap("short", 80), "short");
        assert_eq!(wrap("", 80), "");
        // Rich 15's own output for each (`Console(width=w).print(s)`).
        for (line, width, rich) in [
            ("aaaa bbbb", 4, "aaaa\nbbbb"),
            ("aaa bbbb", 4, "aaa \nbbbb"),
            ("aaa   bbbb", 4, "aaa \nbbbb"),
            ("aa bb cc", 5, "aa bb\ncc"),
            ("  x", 80, "  x"),
            ("abcdefgh ij", 4, "abcd\nefgh\n ij"),
            ("abcdefghi j", 4, "abcd\nefgh\ni j"),
            ("x abcdefgh", 4, "x \nabcd\nefgh"),
        ] {
            assert_eq!(wrap(line, width), rich, "{line:?} at {width}");
        }
        assert_eq!(words("  a b  c"), ["  ", "a ", "b  ", "c"]);
    }
}
