//! Lines as the reference's console prints them (**interop**: Rich's word wrapping at the
//! console's width).

/// `line` word-wrapped as Rich prints it on a console `width` columns wide.
pub(super) fn wrap(line: &str, width: usize) -> String {
    let width = width as i64;
    let mut words: Vec<&str> = Vec::new();
    let mut start = 0;
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        while i < b.len() && b[i] != b' ' {
            i += 1;
        }
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        words.push(&line[start..i]);
        start = i;
    }
    let mut lines: Vec<String> = vec![String::new()];
    let mut pos: i64 = 0;
    for w in words {
        let len = w.trim_end().chars().count() as i64;
        let cur = lines.last_mut().expect("one line");
        if width - pos >= len || cur.is_empty() {
            cur.push_str(w);
            pos += w.chars().count() as i64;
        } else {
            lines.push(w.to_string());
            pos = w.chars().count() as i64;
        }
    }
    lines
        .into_iter()
        .map(|mut l| {
            while l.chars().count() as i64 > width && l.ends_with(' ') {
                l.pop();
            }
            l
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
        assert_eq!(wrap("aaaa bbbb", 4), "aaaa\nbbbb");
    }
}
