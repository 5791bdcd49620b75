//! Mission slugs: kebab-case ASCII, at most 64 characters, nothing that could leave `kitty-specs/`.

use super::MissionError;

/// The longest slug accepted.
pub const MAX_SLUG_LEN: usize = 64;

/// Validate `slug`.
///
/// ```
/// use spec_kitty::internals::mission::slug::validate;
/// assert!(validate("add-login-page").is_ok());
/// for bad in ["", "Upper", "a_b", "-a", "a-", "a--b", "../x", "a/b", "é"] {
///     assert!(validate(bad).is_err(), "{bad}");
/// }
/// assert!(validate(&"a".repeat(65)).is_err());
/// ```
pub fn validate(slug: &str) -> Result<(), MissionError> {
    let bad = |why| {
        Err(MissionError::InvalidSlug {
            slug: slug.to_string(),
            why,
        })
    };
    if slug.is_empty() {
        return bad("it is empty");
    }
    if slug.len() > MAX_SLUG_LEN {
        return bad("it is longer than 64 characters");
    }
    if !slug
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return bad("only a-z, 0-9 and '-' are allowed");
    }
    if slug.starts_with('-') || slug.ends_with('-') || slug.contains("--") {
        return bad("'-' must separate words (no leading, trailing or doubled '-')");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slug_is_at_most_64_characters_of_dash_separated_words() {
        assert!(validate(&"a".repeat(MAX_SLUG_LEN)).is_ok());
        let e = validate(&"a".repeat(MAX_SLUG_LEN + 1)).unwrap_err();
        assert!(e.to_string().contains("longer than 64"), "{e}");
        for bad in ["", "Upper", "a_b", "-a", "a-", "a--b", "../x", "a/b", "é"] {
            assert!(validate(bad).is_err(), "{bad}");
        }
        assert!(validate("add-login-page-2").is_ok());
    }
}
